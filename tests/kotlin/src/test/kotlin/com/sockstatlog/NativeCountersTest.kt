package com.sockstatlog

import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.util.Collections
import java.util.IdentityHashMap
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicLong

/** A reader whose counters the test sets; `null` entries are not put. */
class SettableReader : CounterReader {
    @Volatile private var state: Pair<Boolean, List<Triple<Int, Long, Long>>> = false to emptyList()
    val threads: MutableSet<Thread> = Collections.synchronizedSet(Collections.newSetFromMap(IdentityHashMap()))

    fun set(cellular: Boolean, vararg counters: Triple<Int, Long, Long>) {
        state = cellular to counters.toList()
    }

    override fun read(writer: CounterWriter): Boolean {
        threads.add(Thread.currentThread())
        val (cellular, counters) = state
        for ((label, tx, rx) in counters) writer.put(label, tx, rx)
        return cellular
    }
}

/** The JNI fast path: `NativeCounters.newLogger` with a [CounterReader]. */
class NativeCountersTest {
    @TempDir lateinit var dir: Path

    private val readersBefore = NativeCounters.liveReaders()

    private fun logger(reader: CounterReader, name: String = "log", options: LoggerOptions = fastOptions()) =
        NativeCounters.newLogger(dir.resolve(name).toString(), NODE_ID, reader, options)

    @AfterEach
    fun noGlobalReferenceOutlivesItsLogger() {
        waitUntil(what = "readers released") { NativeCounters.liveReaders() == readersBefore }
    }

    @Test
    fun pollsGiveTheRightDeltasAndCellularFlag() {
        val reader = SettableReader()
        reader.set(false, Triple(1, 0L, 0L))
        logger(reader).use { logger ->
            logger.setLoggingEnabled(true)
            waitUntil(what = "baseline") { logger.stats().polls >= 2uL }
            reader.set(true, Triple(1, 1000L, 2000L), Triple(2, 5L, 0L))
            waitUntil(what = "event 1") { logger.stats().events >= 1uL }
            reader.set(false, Triple(1, 1500L, 2000L), Triple(2, 5L, 0L))
            waitUntil(what = "event 2") { logger.stats().events >= 2uL }
            // Counters going backwards: a reset, counted from zero.
            reader.set(false, Triple(1, 10L, 10L), Triple(2, 5L, 0L))
            waitUntil(what = "event 3") { logger.stats().events >= 3uL }
            // TrafficStats.UNSUPPORTED (-1): the entry is left out, no event.
            reader.set(false, Triple(1, -1L, -1L), Triple(2, 5L, 0L))
            val polls = logger.stats().polls
            waitUntil(what = "polls") { logger.stats().polls >= polls + 3uL }

            logger.flush(2000u)
            assertEquals(
                listOf(
                    "{\"1\":[1000,2000],\"2\":[5,0]}" to true,
                    "{\"1\":[500,0]}" to false,
                    "{\"1\":[10,10]}" to false,
                ),
                events(logger.bufferedLines(1_000_000u)),
            )
            assertEquals(0uL, logger.stats().sourceErrors)
        }
    }

    @Test
    fun theWorkerIsAttachedOnceAndReadsOnOneThread() {
        val reader = SettableReader()
        logger(reader).use { logger ->
            logger.setLoggingEnabled(true)
            waitUntil(what = "50 polls") { logger.stats().polls >= 50uL }
            logger.shutdown(2000u)
        }
        assertEquals(1, reader.threads.size, "Java threads seen: ${reader.threads}")
        val worker = reader.threads.single()
        assertEquals("sockstatlog", worker.name)
        assertFalse(worker === Thread.currentThread())
    }

    private fun skipsPollsAndSurvives(reader: CounterReader) {
        logger(reader).use { logger ->
            logger.setLoggingEnabled(true)
            waitUntil(what = "source errors") { logger.stats().sourceErrors >= 5uL }
            assertEquals(0uL, logger.stats().events)
            logger.write("still alive")
            assertTrue(logger.isLoggingEnabled())
            logger.shutdown(2000u)
        }
    }

    /** What the library is told about one read by [reader]: the poll's status and reason. */
    private fun pollOnce(reader: CounterReader): Pair<Int, String?> {
        val registered = RegisteredReader(reader)
        return registered.poll() to registered.failure()
    }

    @Test
    fun aReaderThrowingAnExceptionSkipsCountedPollsWithItsMessage() {
        val reader = CounterReader { throw IllegalStateException("no counters") }
        assertEquals(-1 to "the counter reader threw java.lang.IllegalStateException: no counters", pollOnce(reader))
        skipsPollsAndSurvives(reader)
    }

    @Test
    fun aReaderThrowingAnErrorSkipsCountedPollsWithItsMessage() {
        val reader = CounterReader { throw OutOfMemoryError("no room") }
        assertEquals(-1 to "the counter reader threw java.lang.OutOfMemoryError: no room", pollOnce(reader))
        skipsPollsAndSurvives(reader)
        skipsPollsAndSurvives { throw StackOverflowError() }
    }

    @Test
    fun garbageFromTheReaderSkipsThePollWithTheReason() {
        val garbage =
            mapOf<String, CounterReader>(
                "the counter reader put label -1, outside 0-255" to CounterReader { it.put(-1, 1, 1); false },
                "the counter reader put label 256, outside 0-255" to CounterReader { it.put(256, 1, 1); false },
                "the counter reader put label 7 twice in one read" to
                    CounterReader { it.put(7, 1, 1); it.put(8, 1, 1); it.put(7, 2, 2); true },
                "the counter reader put more than 256 entries in one read" to
                    CounterReader { w -> for (label in 0..256) w.put(label and 255, 1, 1); false },
            )
        for ((reason, reader) in garbage) {
            assertEquals(-1 to reason, pollOnce(reader))
            skipsPollsAndSurvives(reader)
        }
    }

    @Test
    fun theWriterRefusesPutsOutsideRead() {
        var kept: CounterWriter? = null
        val registered = RegisteredReader { kept = it; it.put(1, 2, 3); false }
        assertEquals(2, registered.poll())
        assertThrows<IllegalStateException> { kept!!.put(1, 2, 3) }
    }

    @Test
    fun aBlockedReaderBlocksNoApiCall() {
        val entered = CountDownLatch(1)
        val release = CountDownLatch(1)
        val enteredAt = AtomicLong()
        val reader = CounterReader {
            if (entered.count > 0) {
                enteredAt.set(System.nanoTime())
                entered.countDown()
                release.await()
            }
            it.put(1, 10, 10)
            false
        }
        logger(reader, options = fastOptions(timeoutMs = 50)).use { logger ->
            logger.setLoggingEnabled(true)
            assertTrue(entered.await(5, TimeUnit.SECONDS))
            // The worker is stuck in read(); none of these waits for it.
            logger.write("while blocked")
            logger.stats()
            logger.setLoggingEnabled(false)
            logger.setLoggingEnabled(true)
            val report = logger.flush(100u)
            assertEquals(1uL, report.linesStillBuffered) // the line above, stored by flush itself
            assertEquals(1L, release.count, "the reader is still blocked")
            // The calls above may take less than the 50 ms timeout on a warm
            // JVM: hold the read until it is slower than that for sure.
            waitUntil(what = "the read outlasting the timeout") {
                System.nanoTime() - enteredAt.get() > TimeUnit.MILLISECONDS.toNanos(60)
            }
            release.countDown()
            waitUntil(what = "the slow read counted") { logger.stats().sourceTooSlow >= 1uL }
        }
    }

    @Test
    fun closingWhileAReadIsInFlightReleasesTheReaderWhenItReturns() {
        val entered = CountDownLatch(1)
        val release = CountDownLatch(1)
        val reader = CounterReader {
            entered.countDown()
            release.await()
            false
        }
        val logger = logger(reader)
        logger.setLoggingEnabled(true)
        assertTrue(entered.await(5, TimeUnit.SECONDS))
        logger.close() // waits 500 ms for the worker at most, then returns
        assertEquals(readersBefore + 1, NativeCounters.liveReaders(), "held while the read runs")
        release.countDown()
        waitUntil(what = "the reader released") { NativeCounters.liveReaders() == readersBefore }
    }

    @Test
    fun manyLoggersEachPollTheirOwnReader() {
        val readers = (1..8).map { SettableReader().apply { set(false, Triple(it, 0L, 0L)) } }
        val loggers = readers.mapIndexed { i, r -> logger(r, "log$i") }
        try {
            assertEquals(readersBefore + 8, NativeCounters.liveReaders())
            loggers.forEach { it.setLoggingEnabled(true) }
            loggers.forEach { l -> waitUntil(what = "baselines") { l.stats().polls >= 2uL } }
            readers.forEachIndexed { i, r -> r.set(i % 2 == 0, Triple(i + 1, 100L * (i + 1), 7L)) }
            loggers.forEach { l -> waitUntil(what = "events") { l.stats().events >= 1uL } }
            loggers.forEachIndexed { i, l ->
                l.flush(2000u)
                assertEquals(
                    listOf("{\"${i + 1}\":[${100 * (i + 1)},7]}" to (i % 2 == 0)),
                    events(l.bufferedLines(1_000_000u)),
                )
            }
            // One worker thread per logger, each reading only its own reader.
            val threads = readers.map { it.threads.single() }
            assertEquals(8, threads.toSet().size)
        } finally {
            loggers.forEach { it.close() }
        }
        assertEquals(readersBefore, NativeCounters.liveReaders())
    }

    @Test
    fun aFailedCreationLeavesNoGlobalReference() {
        val e = assertThrows<SockstatException.InvalidLogId> {
            NativeCounters.newLogger(dir.resolve("bad").toString(), "xyz", SettableReader())
        }
        assertTrue(e.message!!.startsWith("invalid log ID"), e.message)
        assertThrows<SockstatException.InvalidOption> {
            logger(SettableReader(), options = LoggerOptions(pollPeriodMs = 1u))
        }
        assertEquals(readersBefore, NativeCounters.liveReaders())
        val unknown = assertThrows<SockstatException.InvalidOption> {
            Logger.withRegisteredSource(dir.toString(), NODE_ID, 987_654_321uL, LoggerOptions())
        }
        assertTrue(unknown.message!!.contains("NativeCounters.newLogger"), unknown.message)
    }

    @Test
    fun closedLoggersHoldNoGlobalReference() {
        repeat(20) {
            logger(SettableReader(), "log$it").use { l ->
                l.setLoggingEnabled(true)
                waitUntil(what = "a poll") { l.stats().polls >= 1uL }
            }
        }
        assertEquals(readersBefore, NativeCounters.liveReaders())
    }
}
