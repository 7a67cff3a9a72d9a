package com.sockstatlog

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.nio.file.Path
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Semaphore
import java.util.concurrent.atomic.AtomicInteger

const val NODE_ID = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d"

/** A source whose counters the test sets; every label given as (tx, rx). */
class SettableSource : SafeCounterSource() {
    @Volatile var snapshot = CounterSnapshot(false, emptyList())
    val calls = AtomicInteger()

    fun set(cellular: Boolean, vararg counters: Triple<Int, Long, Long>) {
        snapshot = CounterSnapshot(cellular, counters.map { (l, tx, rx) -> LabelCounters(l.toUByte(), tx, rx) })
    }

    override fun read(): CounterSnapshot {
        calls.incrementAndGet()
        return snapshot
    }
}

fun fastOptions(pollMs: Long = 10, timeoutMs: Long? = null) =
    LoggerOptions(
        pollPeriodMs = pollMs.toULong(),
        batchPeriodMs = 1000u,
        sourceTimeoutMs = timeoutMs?.toULong(),
    )

fun waitUntil(timeoutMs: Long = 5000, what: String, cond: () -> Boolean) {
    val end = System.nanoTime() + timeoutMs * 1_000_000
    while (!cond()) {
        if (System.nanoTime() > end) throw AssertionError("timed out waiting for $what")
        Thread.sleep(2)
    }
}

/** The `s` member and whether `"c":1` is present, per event line. */
fun events(lines: List<String>): List<Pair<String, Boolean>> =
    lines.filter { it.startsWith("{\"t\":") }.map { line ->
        val s = Regex("\"s\":(\\{.*\\})\\}$").find(line)!!.groupValues[1]
        s to line.contains(",\"c\":1,")
    }

class LoggerTest {
    @TempDir lateinit var dir: Path

    private fun logger(source: CounterSource, options: LoggerOptions = fastOptions()) =
        Logger(dir.resolve("log").toString(), NODE_ID, source, options)

    @Test
    fun pollsGiveTheRightDeltasAndCellularFlag() {
        val source = SettableSource()
        source.set(false, Triple(1, 0L, 0L))
        logger(source).use { logger ->
            logger.setLoggingEnabled(true)
            waitUntil(what = "baseline") { logger.stats().polls >= 2uL }

            source.set(true, Triple(1, 1000L, 2000L), Triple(2, 5L, 0L))
            waitUntil(what = "event 1") { logger.stats().events >= 1uL }
            source.set(false, Triple(1, 1500L, 2000L), Triple(2, 5L, 0L))
            waitUntil(what = "event 2") { logger.stats().events >= 2uL }
            // Counters going backwards: a reset, counted from zero.
            source.set(false, Triple(1, 10L, 10L), Triple(2, 5L, 0L))
            waitUntil(what = "event 3") { logger.stats().events >= 3uL }
            // Android's -1 (unsupported): the entry is left out, no event.
            source.set(false, Triple(1, -1L, -1L), Triple(2, 5L, 0L))
            val polls = logger.stats().polls
            waitUntil(what = "polls") { logger.stats().polls >= polls + 3uL }

            val report = logger.flush(2000u)
            assertEquals(3uL, report.linesStillBuffered)
            assertFalse(report.complete) // no uploader yet: lines stay buffered
            val got = events(logger.bufferedLines(1_000_000u))
            assertEquals(
                listOf(
                    "{\"1\":[1000,2000],\"2\":[5,0]}" to true,
                    "{\"1\":[500,0]}" to false,
                    "{\"1\":[10,10]}" to false,
                ),
                got,
            )
            assertEquals(0uL, logger.stats().sourceErrors)
        }
    }

    @Test
    fun writeAndIds() {
        logger(SettableSource()).use { logger ->
            logger.write("hello from kotlin")
            assertEquals(listOf("hello from kotlin"), logger.bufferedLines(1000u))
            assertEquals(sockstatLogId(NODE_ID), logger.logId())
            assertEquals(64, logger.logId().length)
            val e = assertThrows<SockstatException.InvalidLine> { logger.write("two\nlines") }
            assertTrue(e.message!!.startsWith("line rejected"), e.message)
        }
        assertEquals(64, publicLogId("00".repeat(32)).length)
        val bad = assertThrows<SockstatException.InvalidLogId> { sockstatLogId("xyz") }
        assertTrue(bad.message!!.startsWith("invalid log ID"), bad.message)
        val opt = assertThrows<SockstatException.InvalidOption> {
            logger(SettableSource(), LoggerOptions(pollPeriodMs = 1u))
        }
        assertTrue(opt.message!!.contains("poll_period"), opt.message)
        assertEquals(defaultLoggerOptions(), LoggerOptions())
    }

    private fun failingSourceSurvives(source: CounterSource) {
        logger(source).use { logger ->
            logger.setLoggingEnabled(true)
            waitUntil(what = "source errors") { logger.stats().sourceErrors >= 5uL }
            logger.write("still alive")
            assertTrue(logger.isLoggingEnabled())
            logger.shutdown(2000u)
        }
    }

    @Test
    fun sourceThrowingAnExceptionSkipsPolls() =
        failingSourceSurvives(counterSource { throw IllegalStateException("no counters") })

    @Test
    fun sourceThrowingAnErrorSkipsPolls() =
        failingSourceSurvives(counterSource { throw AssertionError("assertion in source") })

    @Test
    fun rawSourceThrowingAnExceptionSkipsPolls() =
        failingSourceSurvives(
            object : CounterSource {
                override fun snapshot(): CounterSnapshot = throw RuntimeException("raw")
            },
        )

    /**
     * Without SafeCounterSource: JNA hands the Error to its callback exception
     * handler and returns zeros to Rust, which fails to read them: the poll is
     * still skipped and counted.
     */
    @Test
    fun rawSourceThrowingAnErrorSkipsPolls() {
        val previous = com.sun.jna.Native.getCallbackExceptionHandler()
        val seen = AtomicInteger()
        com.sun.jna.Native.setCallbackExceptionHandler { _, _ -> seen.incrementAndGet() }
        try {
            failingSourceSurvives(
                object : CounterSource {
                    override fun snapshot(): CounterSnapshot = throw AssertionError("raw error")
                },
            )
        } finally {
            com.sun.jna.Native.setCallbackExceptionHandler(previous)
        }
        assertTrue(seen.get() >= 5)
    }

    @Test
    fun sourceThrowingTheDeclaredErrorSkipsPolls() =
        failingSourceSurvives(
            object : CounterSource {
                override fun snapshot(): CounterSnapshot = throw CounterSourceException.Failed("declared")
            },
        )

    @Test
    fun failingSourceRecovers() {
        val fail = java.util.concurrent.atomic.AtomicBoolean(true)
        var tx = 0L
        val source = counterSource {
            if (fail.get()) throw AssertionError("boom")
            tx += 100
            CounterSnapshot(false, listOf(LabelCounters(3u, tx, 0)))
        }
        logger(source).use { logger ->
            logger.setLoggingEnabled(true)
            waitUntil(what = "errors") { logger.stats().sourceErrors >= 3uL }
            fail.set(false)
            waitUntil(what = "events") { logger.stats().events >= 3uL }
        }
    }

    /**
     * The source is stuck inside a call until the test lets it go. Every API
     * call returns all the same (one that waited on the source would never
     * return, and the test would time out); flush stores the queue itself.
     */
    @Test
    @Timeout(60)
    fun slowSourceIsSkippedAndNeverBlocksTheApi() {
        val inCall = Semaphore(0)
        val release = CountDownLatch(1)
        val source = counterSource {
            inCall.release()
            release.await()
            CounterSnapshot(false, emptyList())
        }
        val logger = logger(source, fastOptions(pollMs = 10, timeoutMs = 50))
        try {
            logger.setLoggingEnabled(true)
            inCall.acquire()
            logger.setLoggingEnabled(false)
            logger.setLoggingEnabled(true)
            logger.write("while the source is stuck")
            logger.stats()
            // The worker cannot answer: flush stores the queue itself at its deadline.
            logger.flush(50u)
            assertEquals(listOf("while the source is stuck"), logger.bufferedLines(65_536u))
            // And shutdown gives up at its deadline.
            val e = assertThrows<SockstatException.DeadlineExceeded> { logger.shutdown(20u) }
            assertTrue(e.message!!.startsWith("shutdown did not finish within its deadline of 20 ms"), e.message)
            assertThrows<SockstatException.ShutDown> { logger.write("after shutdown") }
            // Let the call end: it took longer than the 50 ms timeout (flush
            // waited 50 ms for it), so it is skipped and counted.
            release.countDown()
            waitUntil(what = "too slow") { logger.stats().sourceTooSlow >= 1uL }
            assertEquals(0uL, logger.stats().events)
        } finally {
            release.countDown()
            logger.close()
        }
    }

    @Test
    fun enableDisableFromEightThreads() {
        val source = SettableSource()
        logger(source).use { logger ->
            val start = CountDownLatch(1)
            val failures = AtomicInteger()
            val threads = (0 until 8).map { i ->
                Thread {
                    start.await()
                    try {
                        repeat(500) { n -> logger.setLoggingEnabled((n + i) % 2 == 0) }
                        logger.isLoggingEnabled()
                    } catch (t: Throwable) {
                        failures.incrementAndGet()
                    }
                }.also { it.start() }
            }
            start.countDown()
            threads.forEach { it.join() }
            assertEquals(0, failures.get())
            logger.setLoggingEnabled(true)
            assertTrue(logger.isLoggingEnabled())
            val polls = logger.stats().polls
            waitUntil(what = "polling after the storm") { logger.stats().polls > polls + 3uL }
            logger.setLoggingEnabled(false)
            assertFalse(logger.isLoggingEnabled())
            // The worker handled the last disable and waits with no timer.
            waitUntil(what = "the worker parked") { logger.isWorkerParked() }
        }
    }

    @Test
    fun closeShutsDownAndLaterCallsFailClearly() {
        val source = SettableSource()
        val logger = logger(source)
        var calls = 0
        logger.use {
            it.setLoggingEnabled(true)
            waitUntil(what = "polls") { it.stats().polls >= 2uL }
            // shutdown returns Ok only once the worker thread has ended: no
            // source call can follow it. (close() below shuts down the same way.)
            it.shutdown(5_000u)
            calls = source.calls.get()
        }
        val e = assertThrows<IllegalStateException> { logger.stats() }
        assertTrue(e.message!!.contains("already been destroyed"), e.message)
        assertThrows<IllegalStateException> { logger.setLoggingEnabled(true) }
        logger.close() // twice: harmless
        assertEquals(calls, source.calls.get(), "the source was called after shutdown")

        // shutdown, then every call fails with ShutDown.
        logger(source).use { l ->
            l.shutdown(1000u)
            l.shutdown(1000u)
            val s = assertThrows<SockstatException.ShutDown> { l.write("late") }
            assertEquals("the logger has been shut down; create a new logger to log again", s.message)
            assertThrows<SockstatException.ShutDown> { l.setLoggingEnabled(true) }
            assertThrows<SockstatException.ShutDown> { l.flush(100u) }
            assertFalse(l.isLoggingEnabled())
        }
    }

    @Test
    fun logDirectoryErrorReadsWell() {
        val file = File(dir.toFile(), "a-file").apply { writeText("x") }
        val e = assertThrows<SockstatException.LogDirectory> {
            Logger(file.path, NODE_ID, SettableSource(), LoggerOptions())
        }
        assertTrue(e.message!!.startsWith("cannot use log directory"), e.message)
    }
}
