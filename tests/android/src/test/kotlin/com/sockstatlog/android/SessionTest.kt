package com.sockstatlog.android

import com.sockstatlog.CounterTable
import com.sockstatlog.NativeCounters
import com.sockstatlog.SessionCounterReader
import com.sockstatlog.SockstatConfig
import com.sockstatlog.SockstatSession
import com.sockstatlog.TrafficCounters
import com.sockstatlog.UnderlyingNetwork
import com.sockstatlog.UrlConnectionHttpClient
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import java.io.File
import java.net.ServerSocket
import java.util.concurrent.CountDownLatch
import kotlin.concurrent.thread

/** A session started the way a VpnService starts it, uploading to the local log server. */
@RunWith(RobolectricTestRunner::class)
class SessionTest {
    private val app get() = RuntimeEnvironment.getApplication()
    private val sessions = ArrayList<SockstatSession>()

    /** Starts a session the way a VpnService does; stopped after the test whatever happens. */
    private fun start(config: SockstatConfig, counters: TrafficCounters? = null): SockstatSession =
        SockstatVpn.start(app, LOG_ID, config, counters).also { sessions.add(it) }

    @After
    fun stopSessions() {
        sessions.forEach { it.stop() }
    }

    private fun config(url: String, collection: String) = SockstatConfig(
        serverUrl = url,
        collection = collection,
        loggerOptions = fastOptions(),
        stopDeadlineMs = 20_000,
    )

    /** Adds [bytes] on [label] and waits until the logger wrote the event holding them. */
    private fun eventWith(session: SockstatSession, label: Int, bytes: Long) {
        val before = session.logger.stats().events
        session.counters.add(label, bytes, 0)
        waitUntil("an event with $bytes bytes", { "${session.logger.stats()} source: ${session.counters.read()}" }) {
            session.logger.stats().events > before
        }
    }

    @Test
    fun countersAddedFromEightThreadsSumExactlyInTheUploadedEvents() = withLogServer { url ->
        val session = start(config(url, "android.threads"))
        val logId = session.logger.logId()
        val go = CountDownLatch(1)
        val threads = (0 until 8).map { i ->
            thread(name = "tunnel-$i") {
                go.await()
                repeat(20_000) {
                    session.counters.add(8, 3, 5)
                    session.counters.add(200 + i % 2, 1, 0)
                }
            }
        }
        go.countDown()
        threads.forEach { it.join() }
        val report = session.stop()!!
        assertTrue(report.toString(), report.complete)

        val events = storedEvents(url, "android.threads", logId)
        assertTrue(events.toString(), events.isNotEmpty())
        fun sum(label: Int) = events.mapNotNull { countersOf(it, label) }
            .fold(0L to 0L) { acc, c -> (acc.first + c.first) to (acc.second + c.second) }
        assertEquals(8L * 20_000 * 3 to 8L * 20_000 * 5, sum(8))
        assertEquals(4L * 20_000 to 0L, sum(200))
        assertEquals(4L * 20_000 to 0L, sum(201))
    }

    @Test
    fun wifiCellularWifiAndAirplaneModeReachTheRightPolls() = withLogServer { url ->
        val session = start(config(url, "android.cellular"))
        val logId = session.logger.logId()
        val nets = FakeNetworks()
        val wifi = nets.wifi()
        eventWith(session, 20, 1)
        nets.lost(wifi)
        val cell = nets.cellular()
        eventWith(session, 20, 2)
        val wifiAgain = nets.wifi()
        nets.lost(cell)
        eventWith(session, 20, 3)
        nets.lost(wifiAgain) // airplane mode: no network at all
        eventWith(session, 20, 4)
        assertTrue(session.stop()!!.complete)

        val byPhase = storedEvents(url, "android.cellular", logId).filter { countersOf(it, 20) != null }
        assertEquals(listOf(1L, 2L, 3L, 4L), byPhase.map { countersOf(it, 20)!!.first })
        assertEquals(listOf(false, true, false, false), byPhase.map { it.contains("\"c\":1") })
    }

    @Test
    fun theVpnAsDefaultNetworkWithCellularUnderneathGivesC1() = withLogServer { url ->
        val session = start(config(url, "android.vpn"))
        val logId = session.logger.logId()
        val nets = FakeNetworks()
        nets.vpn()
        val cell = nets.cellular()
        eventWith(session, 30, 1)
        val wifi = nets.wifi()
        eventWith(session, 30, 2)
        nets.lost(wifi)
        nets.lost(cell)
        eventWith(session, 30, 3) // only the VPN left: not cellular
        assertTrue(session.stop()!!.complete)

        val events = storedEvents(url, "android.vpn", logId).filter { countersOf(it, 30) != null }
        assertEquals(listOf(1L, 2L, 3L), events.map { countersOf(it, 30)!!.first })
        assertEquals(listOf(true, false, false), events.map { it.contains("\"c\":1") })
    }

    @Test
    fun anAppSettingOnlyAServerUrlUploadsThroughThePlatformHttpStack() {
        val options = SockstatConfig(serverUrl = "https://log.example.com").toLoggerOptions()
        assertTrue(options.httpClient is UrlConnectionHttpClient)
        assertEquals(null, SockstatConfig().toLoggerOptions().httpClient)
    }

    @Test
    fun theHttpsDefaultAgainstANonTlsPortFailsTheFlushWithoutCrashing() {
        // Nothing speaks TLS here: the flush fails, keeps its lines, and nothing panics.
        val port = ServerSocket(0).use { it.localPort }
        val session = start(SockstatConfig(serverUrl = "https://127.0.0.1:$port", loggerOptions = fastOptions(), stopDeadlineMs = 2_000))
        eventWith(session, 8, 10)
        val report = session.stop()!!
        assertFalse(report.toString(), report.complete)
        assertTrue(report.toString(), report.lastError != null)
        assertTrue(report.linesStillBuffered > 0uL)
    }

    @Test
    fun aCounterSourceThrowingAnyThrowableNeverCrashes() {
        val throwables = listOf<() -> Throwable>(
            { RuntimeException("runtime") }, { AssertionError("assertion") },
            { OutOfMemoryError("oom") }, { StackOverflowError("deep") }, { NoClassDefFoundError("gone") },
        )
        var calls = 0
        val table = CounterTable()
        val throwing = TrafficCounters {
            calls++
            if (calls <= throwables.size) throw throwables[calls - 1]() else table.read()
        }
        val session = start(SockstatConfig(loggerOptions = fastOptions()), throwing)
        // Five failed polls, then a good one: the baseline (these counters
        // are not the session's table, so their first values are the baseline).
        waitUntil("five failed polls and a baseline") { session.logger.stats().polls >= 6uL }
        table.add(8, 1, 1)
        waitUntil("an event after the failures: ${session.logger.stats()}") { session.logger.stats().events >= 1uL }
        assertEquals(5uL, session.logger.stats().sourceErrors)
        session.stop()
        assertTrue(session.isStopped)
    }

    @Test
    fun theSessionReadsItsCountersThroughTheJniFastPath() {
        val before = NativeCounters.liveReaders()
        val session = start(SockstatConfig(loggerOptions = fastOptions()))
        assertEquals("one JNI reader for the session's logger", before + 1, NativeCounters.liveReaders())
        eventWith(session, 8, 10)
        session.stop()
        assertEquals("closing the logger releases it", before, NativeCounters.liveReaders())
    }

    /** The first event on label 8 of a logger reading a table that had bytes before the logger existed. */
    private fun firstEventOf(reader: (CounterTable) -> SessionCounterReader): String {
        val table = CounterTable()
        table.add(8, 100, 200) // before the logger exists, so before its first poll
        val dir = File(app.noBackupFilesDir, "reader-${System.nanoTime()}")
        val logger = NativeCounters.newLogger(dir.path, LOG_ID, reader(table), fastOptions())
        try {
            logger.setLoggingEnabled(true)
            waitUntil("a poll after the first") { logger.stats().polls >= 2uL }
            table.add(8, 1, 1)
            fun firstEvent() = logger.bufferedLines(1_000_000uL).firstOrNull { countersOf(it, 8) != null }
            waitUntil("an event", { logger.stats() }) { firstEvent() != null }
            return firstEvent()!!
        } finally {
            logger.shutdown(5_000uL)
            logger.close()
        }
    }

    @Test
    fun bytesAddedBeforeTheFirstPollCountWhenTheTableStartedWithTheSession() {
        val fromZero = firstEventOf { SessionCounterReader(it, UnderlyingNetwork(), countFromZero = true) }
        assertEquals(fromZero, 100L to 200L, countersOf(fromZero, 8))
        val fromBaseline = firstEventOf { SessionCounterReader(it, UnderlyingNetwork()) }
        assertEquals(fromBaseline, 1L to 1L, countersOf(fromBaseline, 8))
    }
}
