package com.sockstatlog.android

import android.app.Activity
import android.content.ComponentCallbacks2
import android.os.Looper
import com.sockstatlog.FlushScheduler
import com.sockstatlog.Flusher
import com.sockstatlog.FlushReport
import com.sockstatlog.LoggerInterface
import com.sockstatlog.LoggerStats
import com.sockstatlog.CounterTable
import com.sockstatlog.SockstatConfig
import com.sockstatlog.SockstatSession
import com.sockstatlog.UnderlyingNetwork
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotSame
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import java.util.Collections
import java.util.concurrent.Executor

/** Flushes when the app goes to the background, and the stop sequence. */
@RunWith(RobolectricTestRunner::class)
class BackgroundFlushTest {
    private val app get() = RuntimeEnvironment.getApplication()

    /** An executor whose tasks the test runs, on a thread of its own. */
    private class HeldExecutor : Executor {
        val tasks: MutableList<Runnable> = Collections.synchronizedList(ArrayList())
        override fun execute(task: Runnable) {
            tasks.add(task)
        }
        fun runAllOnAWorkerThread() {
            val batch = synchronized(tasks) { tasks.toList().also { tasks.clear() } }
            Thread { batch.forEach { it.run() } }.apply { start(); join() }
        }
    }

    @Test
    fun backgroundingFlushesOnceOffTheMainThreadAndIsNotStacked() {
        val flushThreads = Collections.synchronizedList(ArrayList<Thread>())
        val executor = HeldExecutor()
        val scheduler = FlushScheduler(Flusher { flushThreads.add(Thread.currentThread()); null }, 3_000, executor)
        SockstatVpn.flushWhenHidden(app, scheduler).use {
            val activity = Robolectric.buildActivity(Activity::class.java).setup()
            activity.pause().stop()
            assertEquals("the last activity stopping asks for one flush", 1, executor.tasks.size)
            app.onTrimMemory(ComponentCallbacks2.TRIM_MEMORY_UI_HIDDEN)
            assertEquals("UI_HIDDEN right after is the same backgrounding", 1, executor.tasks.size)
            Robolectric.buildActivity(Activity::class.java).setup().pause().stop()
            assertTrue(scheduler.isRunning)
            assertEquals("a second backgrounding while the flush runs is not stacked", 1, executor.tasks.size)

            executor.runAllOnAWorkerThread()
            assertEquals(1, flushThreads.size)
            assertNotSame(Looper.getMainLooper().thread, flushThreads[0])

            Robolectric.buildActivity(Activity::class.java).setup().pause().stop()
            executor.runAllOnAWorkerThread()
            assertEquals("a backgrounding after the flush flushes again", 2, flushThreads.size)
        }
    }

    @Test
    fun closingTheHandleStopsFlushingOnBackground() {
        val executor = HeldExecutor()
        val scheduler = FlushScheduler(Flusher { null }, 3_000, executor)
        SockstatVpn.flushWhenHidden(app, scheduler).close()
        app.onTrimMemory(ComponentCallbacks2.TRIM_MEMORY_UI_HIDDEN)
        assertEquals(0, executor.tasks.size)
    }

    /** Records the calls the session makes. */
    private class RecordingLogger : LoggerInterface {
        val calls: MutableList<String> = Collections.synchronizedList(ArrayList())
        override fun bufferedLines(maxBytes: ULong): List<String> = emptyList()
        override fun flush(deadlineMs: ULong): FlushReport {
            calls.add("flush($deadlineMs)")
            return FlushReport(0u, 0u, 0u, 0u, 0u, 0u, true, 0u, 0u, 0u, null, false)
        }
        override fun isWorkerParked(): Boolean = false
        override fun isLoggingEnabled(): Boolean = calls.lastOrNull { it.startsWith("enabled") } == "enabled(true)"
        override fun logId(): String = LOG_ID
        override fun setLoggingEnabled(enabled: Boolean) {
            calls.add("enabled($enabled)")
        }
        override fun shutdown(deadlineMs: ULong) {
            calls.add("shutdown($deadlineMs)")
        }
        override fun stats(): LoggerStats = throw UnsupportedOperationException()
        override fun write(text: String) {}
    }

    @Test
    fun stopUnregistersThenFlushesThenShutsDownOnceFromAnyThread() {
        val logger = RecordingLogger()
        val session = SockstatSession(
            logger, CounterTable(), UnderlyingNetwork(), SockstatConfig(stopDeadlineMs = 1_234),
            onStop = Runnable { logger.calls.add("callbacks off") },
        )
        val stoppers = (0 until 4).map { Thread { session.stop() }.apply { start() } }
        stoppers.forEach { it.join() }
        session.close()
        assertEquals(
            listOf("enabled(true)", "callbacks off", "enabled(false)", "flush(1234)", "shutdown(1234)"),
            logger.calls,
        )
        assertFalse("no background flush after stop", session.flushInBackground())
    }

    @Test
    fun closeOnTheMainThreadStopsOnAnotherThread() {
        val logger = RecordingLogger()
        val session = SockstatSession(logger, CounterTable(), UnderlyingNetwork(), SockstatConfig())
        val main = Thread.currentThread()
        var stopThread: Thread? = null
        val tracking = SockstatSession(
            logger, CounterTable(), UnderlyingNetwork(), SockstatConfig(),
            onStop = Runnable { stopThread = Thread.currentThread() },
        )
        tracking.close()
        assertTrue(tracking.awaitStopped(60_000))
        assertNotSame(main, stopThread)
        session.close()
        assertTrue(session.awaitStopped(60_000))
    }
}
