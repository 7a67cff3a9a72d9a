// Android entry points: one call from a VpnService, one from the UI process.
package com.sockstatlog.android

import android.app.Application
import android.content.Context
import android.net.ConnectivityManager
import com.sockstatlog.AppVisibility
import com.sockstatlog.CounterTable
import com.sockstatlog.FlushScheduler
import com.sockstatlog.Flusher
import com.sockstatlog.Logger
import com.sockstatlog.SessionCounterSource
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
     * [CounterTable], which the app's tunnel code adds to.
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
        NativeLibrary.load()
        val table = CounterTable()
        val network = UnderlyingNetwork()
        val dir = File(context.noBackupFilesDir, DIRECTORY)
        val source = SessionCounterSource(counters ?: table, network, countFromZero = counters == null)
        val logger = Logger(dir.path, publicLogId, source, config.toLoggerOptions())
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
     * process: flushes through [flusher] (the flush-only handle on the same
     * log directory) on a background thread when this process's UI goes to
     * the background, one flush at a time. Close the result to stop.
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

/** Loads libsockstatlog through the JVM once, so `JNI_OnLoad` runs. */
internal object NativeLibrary {
    @Volatile private var loaded = false

    fun load() {
        if (loaded) return
        synchronized(this) {
            if (loaded) return
            try {
                // JNA loads the library without running JNI_OnLoad. Loading it
                // through the JVM first records the JavaVM, so the library's
                // worker thread is attached once for its whole life.
                System.loadLibrary("sockstatlog")
            } catch (_: UnsatisfiedLinkError) {
                // JNA reports a missing library with a clearer message.
            }
            loaded = true
        }
    }
}
