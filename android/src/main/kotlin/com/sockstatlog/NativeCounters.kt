// Hand-written glue (not generated): pure Kotlin, also compiled by the JVM
// tests in tests/kotlin.
package com.sockstatlog

/**
 * The JNI fast path for the counter source: loggers whose [CounterReader]
 * the library calls through JNI with a cached method ID, instead of the
 * UniFFI [CounterSource] through JNA (tens of µs and about 6 KB of garbage a
 * poll). The reader's writer is allocated once; a poll allocates nothing.
 *
 * Loads the native library with `System.loadLibrary("sockstatlog")` (so its
 * `JNI_OnLoad` runs and the worker thread is attached to the JVM once, for
 * its life). On a desktop JVM put the library's directory on
 * `java.library.path` as well as `jna.library.path`.
 */
object NativeCounters {
    init {
        System.loadLibrary("sockstatlog")
    }

    /**
     * Creates a [Logger] whose counter source is [reader], called through
     * JNI on the logger's worker thread. Call it on an app thread (it
     * resolves the reader's class there); like [Logger]'s constructor it does
     * not start polling. Close the logger when done: that releases the
     * reference the library holds to [reader].
     *
     * @throws SockstatException as [Logger]'s constructor does.
     */
    @JvmStatic
    @JvmOverloads
    fun newLogger(
        logDir: String,
        publicLogId: String,
        reader: CounterReader,
        options: LoggerOptions = LoggerOptions(),
    ): Logger {
        val handle = register(RegisteredReader(reader))
        check(handle != 0L) { "sockstatlog: the counter reader could not be registered" }
        try {
            return Logger.withRegisteredSource(logDir, publicLogId, handle.toULong(), options)
        } finally {
            // Nothing to do if the logger took it (it did unless this threw).
            release(handle)
        }
    }

    /**
     * How many readers the native library holds a JNI global reference to
     * now: one per logger made by [newLogger] and not yet closed (a closed
     * logger whose reader was blocked releases it when the read returns).
     * For leak checks and tests.
     */
    @JvmStatic
    fun liveReaders(): Int = liveReaderCount()

    @JvmStatic
    private external fun register(reader: RegisteredReader): Long

    @JvmStatic
    private external fun release(handle: Long)

    @JvmStatic
    private external fun liveReaderCount(): Int
}

/**
 * What the native library calls each poll (by the names `poll`, `failure`
 * and `values`, kept by the R8 rules): runs the app's reader, catching every
 * [Throwable], and leaves the entries in [values].
 */
internal class RegisteredReader(private val reader: CounterReader) {
    private val writer = CounterWriter()

    /** The writer's entries, read by the native side after [poll]. */
    @JvmField
    val values: LongArray = writer.values

    private var failure: String? = null

    /** `entries * 2 + cellular` after a good read; -1 if it failed ([failure] says why). */
    fun poll(): Int {
        writer.begin()
        val cellular =
            try {
                reader.read(writer)
            } catch (t: Throwable) {
                failure = describe(t)
                return -1
            } finally {
                writer.end()
            }
        writer.garbage?.let {
            failure = it
            return -1
        }
        return writer.entries * 2 + if (cellular) 1 else 0
    }

    /** Why the last [poll] failed. */
    fun failure(): String? = failure

    private fun describe(t: Throwable): String =
        try {
            "the counter reader threw ${t.javaClass.name}: ${t.message ?: "(no message)"}"
        } catch (_: Throwable) {
            "the counter reader threw, and describing it failed"
        }
}
