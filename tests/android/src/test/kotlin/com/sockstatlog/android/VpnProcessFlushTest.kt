package com.sockstatlog.android

import android.app.Activity
import android.content.ComponentCallbacks2
import com.sockstatlog.FlushReport
import com.sockstatlog.HttpClient
import com.sockstatlog.HttpPostRequest
import com.sockstatlog.HttpPostResponse
import com.sockstatlog.LogUploaderFlusher
import com.sockstatlog.SockstatConfig
import com.sockstatlog.SockstatSession
import com.sockstatlog.UrlConnectionHttpClient
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import java.util.concurrent.CountDownLatch
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

/**
 * The `:vpn`-process case: the VPN's logger only logs, and the UI process
 * uploads the same log directory through the flush-only handle.
 */
@RunWith(RobolectricTestRunner::class)
class VpnProcessFlushTest {
    private val app get() = RuntimeEnvironment.getApplication()

    /** The `:vpn` process's session: it logs, and has no UI to flush on. */
    private fun vpnSession(url: String, collection: String): SockstatSession = SockstatVpn.start(
        app,
        LOG_ID,
        SockstatConfig(
            serverUrl = url,
            collection = collection,
            loggerOptions = fastOptions(),
            flushOnBackground = false,
            stopDeadlineMs = 20_000,
        ),
    )

    /** Adds bytes on [label] and waits until their event is in the log directory. */
    private fun buffered(session: SockstatSession, label: Int, tx: Long, rx: Long) {
        session.counters.add(label, tx, rx)
        waitUntil("an event on $label in the buffer", { session.logger.stats() }) {
            session.logger.bufferedLines(1_000_000uL).any { countersOf(it, label) == tx to rx }
        }
    }

    /** The sum of [label]'s counters in the events the server holds for the log [logId]. */
    private fun sum(url: String, collection: String, logId: String, label: Int): Pair<Long, Long> =
        storedEvents(url, collection, logId).mapNotNull { countersOf(it, label) }
            .fold(0L to 0L) { acc, c -> (acc.first + c.first) to (acc.second + c.second) }

    @Test
    fun theUiProcessUploadsWhatTheVpnProcessBufferedExactlyOnceWhenItsUiIsHidden() = withLogServer { url ->
        val collection = "android.vpnprocess"
        val vpn = vpnSession(url, collection)
        val logId = vpn.logger.logId()
        try {
            buffered(vpn, 40, 1_000, 2_000)
            val reports = LinkedBlockingQueue<Any>()
            val hidden = SockstatVpn.flushWhenHidden(
                app, LOG_ID, SockstatConfig(serverUrl = url, collection = collection),
            ) { report, error -> reports.add(report ?: error ?: "skipped") }
            hidden.use {
                app.onTrimMemory(ComponentCallbacks2.TRIM_MEMORY_UI_HIDDEN)
                val first = reports.poll(60, TimeUnit.SECONDS) as FlushReport
                assertTrue(first.toString(), first.complete && !first.otherUploaderActive)
                assertTrue(first.toString(), first.linesSent >= 1uL)
                assertEquals(1_000L to 2_000L, sum(url, collection, logId, 40))

                buffered(vpn, 40, 1, 1)
                Robolectric.buildActivity(Activity::class.java).setup().pause().stop()
                val second = reports.poll(60, TimeUnit.SECONDS) as FlushReport
                assertTrue(second.toString(), second.complete)
                assertEquals("every line once", 1_001L to 2_001L, sum(url, collection, logId, 40))
            }
            assertTrue(vpn.stop()!!.complete)
            assertEquals("the VPN's stop flush sends nothing again", 1_001L to 2_001L, sum(url, collection, logId, 40))
        } finally {
            vpn.stop()
        }
    }

    @Test
    fun aFlushWhileTheOtherProcessUploadsReportsOtherUploaderActiveAndSendsNothing() = withLogServer { url ->
        val collection = "android.vpnprocess.claim"
        val inPost = CountDownLatch(1)
        val release = CountDownLatch(1)
        val slowClient = object : HttpClient {
            private val real = UrlConnectionHttpClient()
            override fun post(request: HttpPostRequest): HttpPostResponse {
                inPost.countDown()
                release.await(60, TimeUnit.SECONDS)
                return real.post(request)
            }
        }
        val vpn = vpnSession(url, collection)
        val logId = vpn.logger.logId()
        try {
            buffered(vpn, 41, 7, 9)
            LogUploaderFlusher.open(
                SockstatVpn.logDirectory(app).path, LOG_ID,
                SockstatConfig(serverUrl = url, collection = collection, httpClient = slowClient),
            ).use { ui ->
                var uiReport: FlushReport? = null
                val uiFlush = thread(name = "ui-flush") { uiReport = ui.flush(60_000) }
                assertTrue("the UI's upload started", inPost.await(60, TimeUnit.SECONDS))

                val meanwhile = vpn.logger.flush(5_000uL)
                assertTrue(meanwhile.toString(), meanwhile.otherUploaderActive)
                assertEquals(0uL, meanwhile.linesSent)
                assertFalse(meanwhile.complete)

                release.countDown()
                uiFlush.join()
                assertNotNull(uiReport)
                assertTrue(uiReport.toString(), uiReport!!.complete && uiReport!!.linesSent >= 1uL)
            }
            assertEquals("sent once", 7L to 9L, sum(url, collection, logId, 41))
            assertTrue(vpn.stop()!!.complete)
            assertEquals(7L to 9L, sum(url, collection, logId, 41))
        } finally {
            release.countDown()
            vpn.stop()
        }
    }

    @Test
    fun theUiHandleNeedsAServerUrl() {
        assertThrows(IllegalArgumentException::class.java) {
            SockstatVpn.flushWhenHidden(app, LOG_ID, SockstatConfig())
        }
    }
}
