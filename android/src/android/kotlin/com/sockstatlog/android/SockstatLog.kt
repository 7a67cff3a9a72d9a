// Hand-written Android glue (not generated). Uses Android APIs: compiled by
// the Gradle build in android/ only.
package com.sockstatlog.android

import android.content.Context
import com.sockstatlog.CounterSource
import com.sockstatlog.Logger
import com.sockstatlog.LoggerOptions
import java.io.File

/** Creates loggers; loads the native library the Android way first. */
object SockstatLog {
    init {
        // The generated bindings load libsockstatlog.so through JNA, which
        // does not run JNI_OnLoad. Loading it once through the JVM as well
        // runs JNI_OnLoad, which records the JavaVM so the library's worker
        // thread is attached to it once for its whole life (instead of JNA
        // attaching and detaching it around every poll).
        System.loadLibrary("sockstatlog")
    }

    /**
     * A logger keeping its files under the app's no-backup files directory.
     * Close it (or call shutdown) when the VPN stops.
     */
    fun create(
        context: Context,
        publicLogId: String,
        source: CounterSource,
        options: LoggerOptions = LoggerOptions(),
    ): Logger {
        val dir = File(context.noBackupFilesDir, "sockstatlog")
        return Logger(dir.path, publicLogId, source, options)
    }
}
