// Android entry points: one call from a VpnService, one from the UI process.
package com.sockstatlog.android

import android.app.Application
import android.content.Context
import android.net.ConnectivityManager
import com.sockstatlog.AppVisibility
import com.sockstatlog.CounterTable
import com.sockstatlog.FlushScheduler
import com.sockstatlog.FlushListener
import com.sockstatlog.Flusher
import com.sockstatlog.LogUploaderFlusher
import com.sockstatlog.NativeCounters
import com.sockstatlog.SessionCounterReader
import com.sockstatlog.SockstatConfig
import com.sockstatlog.SockstatSession
import com.sockstatlog.TrafficCounters
import com.sockstatlog.UnderlyingNetwork
import java.io.File

/**
 * Starts sockstatlog in a `VpnService`:
 *
 * ```kotlin
 * override fun onCreate() { session = SockstatVpn.start(this, publicLogId, SockstatConfig(serverUrl = url)) }
 * // in the tunnel: session.counters.add(Labels.MAGICSOCK_CONN_UDP4, tx, rx)
 * override fun onRevoke() { session.close() }
 * override fun onDestroy() { session.close() }
 * ```
 *
 * Java: `SockstatVpn.start(this, publicLogId)` or with a `SockstatConfig`.
 */
object SockstatVpn {
    /** Directory under `noBackupFilesDir` holding the log buffer. */
    const val DIRECTORY: String = "sockstatlog"

    /**
     * Creates the logger in `noBackupFilesDir/sockstatlog`, turns logging
     * on, follows the network under the VPN (cellular or not), and, when
     * [SockstatConfig.flushOnBackground], flushes when this process's UI
     * goes to the background. Close the session in `onRevoke`/`onDestroy`.
     *
     * [counters]: where the counters come from; by default the session's
     * [CounterTable], which the app's tunnel code adds to. Either way the
     * logger reads them through the JNI fast path
     * ([NativeCounters.newLogger]: no JNA, and no allocation a poll for the
     * table).
     *
     * @throws com.sockstatlog.SockstatException if the logger cannot start
     *   (bad log ID, unusable directory, bad options).
     */
    @JvmStatic
    @JvmOverloads
    fun start(
        context: Context,
        publicLogId: String,
        config: SockstatConfig = SockstatConfig(),
        counters: TrafficCounters? = null,
    ): SockstatSession {
        val table = CounterTable()
        val network = UnderlyingNetwork()
        val dir = File(context.noBackupFilesDir, DIRECTORY)
        val reader = SessionCounterReader(counters ?: table, network, countFromZero = counters == null)
        val logger = NativeCounters.newLogger(dir.path, publicLogId, reader, config.toLoggerOptions())
        val monitor = context.getSystemService(ConnectivityManager::class.java)?.let { NetworkMonitor(it, network) }
        var visibility: VisibilityCallbacks? = null
        val session = try {
            SockstatSession(logger, table, network, config, onStop = Runnable {
                visibility?.close()
                monitor?.stop()
            })
        } catch (t: Throwable) {
            logger.close()
            throw t
        }
        monitor?.start()
        val app = context.applicationContext as? Application
        if (config.flushOnBackground && app != null) {
            visibility = VisibilityCallbacks(app, AppVisibility { session.flushInBackground() }).register()
        }
        return session
    }

    /**
     * For the app's UI process when the VPN runs in another (`:vpn`)
     * process: opens the flush-only handle on this app's log directory
     * ([LogUploaderFlusher], with [config]'s server, collection and HTTP
     * client, [com.sockstatlog.UrlConnectionHttpClient] by default) and
     * flushes through it, on a background thread and one flush at a time,
     * when this process's UI goes to the background. Uploads never overlap
     * the VPN's own (the directory's upload claim), so no line is sent
     * twice. Close the result to stop and release the handle.
     *
     * [listener] is told each flush's report (for logging).
     *
     * @throws IllegalArgumentException if [config] has no server URL.
     * @throws com.sockstatlog.SockstatException if the handle cannot open.
     */
    @JvmStatic
    @JvmOverloads
    fun flushWhenHidden(
        app: Application,
        publicLogId: String,
        config: SockstatConfig,
        listener: FlushListener = FlushListener { _, _ -> },
    ): AutoCloseable {
        val flusher = LogUploaderFlusher.open(logDirectory(app).path, publicLogId, config)
        val callbacks = try {
            flushWhenHidden(app, FlushScheduler(flusher, config.flushDeadlineMs, onDone = listener))
        } catch (t: Throwable) {
            flusher.close()
            throw t
        }
        return AutoCloseable {
            callbacks.close()
            flusher.close()
        }
    }

    /**
     * [flushWhenHidden] with a [Flusher] of your own (e.g. a
     * [LogUploaderFlusher] you also flush at other times): flushes through
     * it on a background thread when this process's UI goes to the
     * background, one flush at a time. Close the result to stop.
     */
    @JvmStatic
    @JvmOverloads
    fun flushWhenHidden(
        app: Application,
        flusher: Flusher,
        deadlineMs: Long = FlushScheduler.DEFAULT_DEADLINE_MS,
    ): AutoCloseable = flushWhenHidden(app, FlushScheduler(flusher, deadlineMs))

    /** [flushWhenHidden] with a scheduler of your own (its executor, its report listener). */
    @JvmStatic
    fun flushWhenHidden(app: Application, scheduler: FlushScheduler): AutoCloseable =
        VisibilityCallbacks(app, AppVisibility { scheduler.request() }).register()

    /** The log directory of this app (for the flush-only handle in another process). */
    @JvmStatic
    fun logDirectory(context: Context): File = File(context.noBackupFilesDir, DIRECTORY)
}
