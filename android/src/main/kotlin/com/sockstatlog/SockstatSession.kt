// Hand-written glue (not generated): pure Kotlin.
package com.sockstatlog

import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean

/**
 * How the glue sets up a VPN's logger. Every field has a default; an app
 * that only sets [serverUrl] uploads over HTTPS through the platform's own
 * TLS stack and trust store ([UrlConnectionHttpClient]).
 */
data class SockstatConfig @JvmOverloads constructor(
    /** The log server (`https://...`); null: no uploads, flushes only store. */
    val serverUrl: String? = null,
    /** The log collection; null: the library's default. */
    val collection: String? = null,
    /** The HTTP stack for uploads; null with a [serverUrl]: [UrlConnectionHttpClient]. */
    val httpClient: HttpClient? = null,
    /** The rest of the logger's options (poll period, queue and buffer caps). */
    val loggerOptions: LoggerOptions = LoggerOptions(),
    /** Deadline of a flush when the app goes to the background, in ms. */
    val flushDeadlineMs: Long = FlushScheduler.DEFAULT_DEADLINE_MS,
    /** Deadline of the flush and of the shutdown when the VPN stops, in ms each. */
    val stopDeadlineMs: Long = FlushScheduler.DEFAULT_DEADLINE_MS,
    /** Whether to flush when this process's UI goes to the background. */
    val flushOnBackground: Boolean = true,
) {
    /**
     * The logger options this config gives: [loggerOptions] with the server,
     * collection and HTTP client set, [UrlConnectionHttpClient] by default.
     */
    fun toLoggerOptions(): LoggerOptions {
        val client = httpClient ?: if (serverUrl != null) UrlConnectionHttpClient() else null
        return loggerOptions.copy(serverUrl = serverUrl, collection = collection, httpClient = client)
    }
}

/**
 * The logger's counter reader in a session (the JNI fast path, see
 * [NativeCounters.newLogger]): the app's [counters] and the cellular state
 * of the network under the VPN. A [CounterTable] is walked in place
 * ([CounterTable.forEachUsed]): a poll allocates nothing. Anything
 * [counters] throws, `java.lang.Error` included, is a skipped and counted
 * poll (the fast path catches every `Throwable`).
 *
 * [countFromZero]: the counters started at zero with the session (a new
 * [CounterTable]), so the first read reports no labels: the logger's
 * baseline is then empty and every byte added since the table was made is
 * counted, even bytes added before the logger's first poll. Leave it false
 * for counters that started before the session (e.g. `TrafficStats`).
 */
class SessionCounterReader @JvmOverloads constructor(
    private val counters: TrafficCounters,
    private val network: UnderlyingNetwork,
    countFromZero: Boolean = false,
) : CounterReader {
    @Volatile private var baselinePending = countFromZero

    override fun read(writer: CounterWriter): Boolean {
        val cellular = network.isCellular()
        if (baselinePending) {
            baselinePending = false
            return cellular
        }
        val table = counters as? CounterTable
        if (table != null) {
            table.forEachUsed { label, tx, rx -> writer.put(label, tx, rx) }
        } else {
            for (c in counters.read()) writer.put(c.label.toInt(), c.tx, c.rx)
        }
        return cellular
    }
}

/**
 * One VPN session's logger, from start to stop: logging is on from the
 * start; [flushInBackground] uploads off the caller's thread, one flush at
 * a time; [stop] (or [close]) turns logging off, flushes within the
 * deadline, shuts the logger down and runs [onStop] (which unregisters the
 * framework callbacks) first.
 *
 * Thread-safe. [close] and [stop] are idempotent: only the first call
 * stops; the others return (close) or wait for that stop (stop).
 */
class SockstatSession(
    /** The logger (a `Logger` on a device). */
    val logger: LoggerInterface,
    /** The table the app's tunnel code adds bytes to. */
    val counters: CounterTable,
    /** The cellular decision fed by the network callbacks. */
    val network: UnderlyingNetwork,
    /** Deadlines and the like. */
    val config: SockstatConfig,
    private val onStop: Runnable = Runnable {},
    /** Runs [stop] for [close]; by default a new thread, so [close] never blocks the main thread. */
    private val stopper: (Runnable) -> Unit = { Thread(it, "sockstatlog-stop").start() },
) : AutoCloseable {
    private val stopping = AtomicBoolean(false)
    private val stopped = CountDownLatch(1)

    /** Flushes in the background, one at a time (see [FlushScheduler]). */
    val flushes: FlushScheduler = FlushScheduler(Flusher { ms -> flushNow(ms) }, config.flushDeadlineMs)

    init {
        logger.setLoggingEnabled(true)
    }

    /** Starts a background flush unless one is running; false if stopped or already flushing. */
    fun flushInBackground(): Boolean = !stopping.get() && flushes.request()

    private fun flushNow(deadlineMs: Long): FlushReport? =
        if (stopping.get()) null else logger.flush(deadlineMs.toULong())

    /** Stops the session without waiting: [stop] on another thread. Any thread, any number of times. */
    override fun close() {
        if (stopping.get()) return
        stopper(Runnable { stop() })
    }

    /**
     * Stops the session and waits until it is stopped: callbacks off,
     * logging off (a last poll), a flush and a shutdown within
     * [SockstatConfig.stopDeadlineMs] each. Blocks: not on the main thread.
     * Returns the stop flush's report (null in calls after the first, or if
     * it failed).
     */
    fun stop(): FlushReport? {
        if (!stopping.compareAndSet(false, true)) {
            stopped.await()
            return null
        }
        try {
            return stopOnce()
        } finally {
            stopped.countDown()
        }
    }

    /** Waits up to [timeoutMs] for the session to be stopped; true if it is. */
    fun awaitStopped(timeoutMs: Long): Boolean = stopped.await(timeoutMs, TimeUnit.MILLISECONDS)

    /** Whether [stop] has finished. */
    val isStopped: Boolean get() = stopped.count == 0L

    private fun stopOnce(): FlushReport? {
        val deadline = config.stopDeadlineMs.toULong()
        attempt { onStop.run() }
        attempt { logger.setLoggingEnabled(false) }
        val report = attempt { logger.flush(deadline) }
        attempt { logger.shutdown(deadline) }
        attempt { (logger as? AutoCloseable)?.close() }
        return report
    }

    private inline fun <T> attempt(block: () -> T): T? =
        try {
            block()
        } catch (_: Throwable) {
            null
        }
}
