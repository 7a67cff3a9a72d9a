// Hand-written glue (not generated): pure Kotlin, also compiled by the JVM
// tests in tests/kotlin.
package com.sockstatlog

/**
 * The base class for counter sources written in Kotlin.
 *
 * The generated bindings turn a thrown [Exception] into a failed poll, but
 * not a [java.lang.Error] (AssertionError, OutOfMemoryError, ...): JNA would
 * report it and hand Rust a zero value. This class catches every [Throwable]
 * thrown by [read] and reports it as [CounterSourceException.Failed], so the
 * poll is skipped and counted in `LoggerStats.sourceErrors` and the app goes on.
 *
 * [read] runs on the library's worker thread, once per poll (every 100 ms by
 * default). Keep it fast: a call slower than the source timeout is skipped.
 */
abstract class SafeCounterSource : CounterSource {
    /** The cumulative counters now. May throw anything. */
    protected abstract fun read(): CounterSnapshot

    final override fun snapshot(): CounterSnapshot =
        try {
            read()
        } catch (e: CounterSourceException) {
            throw e
        } catch (t: Throwable) {
            throw CounterSourceException.Failed(describe(t))
        }

    private fun describe(t: Throwable): String =
        try {
            "${t.javaClass.name}: ${t.message ?: "(no message)"}"
        } catch (_: Throwable) {
            "a throwable whose description failed"
        }
}

/** A [SafeCounterSource] from a function. */
fun counterSource(read: () -> CounterSnapshot): CounterSource =
    object : SafeCounterSource() {
        override fun read(): CounterSnapshot = read()
    }
