// Hand-written glue (not generated): pure Kotlin, also compiled by the JVM
// tests in tests/kotlin.
package com.sockstatlog

/**
 * The platform's per-label byte counters, read through the JNI fast path
 * (see [NativeCounters.newLogger]): no JNA, no allocation, about 1 µs a poll.
 *
 * Called on the library's worker thread once per poll (every 100 ms by
 * default), always the same thread. Put each label's cumulative counters
 * into [writer] and return whether the underlying network is cellular.
 * Throwing anything (an [Exception] or a [java.lang.Error]) skips the poll:
 * it is counted in `LoggerStats.sourceErrors` with the throwable's class and
 * message, and the next poll covers the interval. Keep it fast: a read slower
 * than the source timeout is skipped too.
 */
fun interface CounterReader {
    /** Puts the counters now into [writer]; returns whether the network is cellular. */
    fun read(writer: CounterWriter): Boolean
}

/**
 * Where a [CounterReader] puts the counters of one poll: valid only during
 * [CounterReader.read], on the thread that called it. Not thread-safe. A
 * put allocates nothing.
 */
class CounterWriter internal constructor() {
    /** The entries of this read: [LONGS_PER_ENTRY] longs each (label, tx, rx). */
    internal val values = LongArray(MAX_ENTRIES * LONGS_PER_ENTRY)
    internal var entries = 0
        private set
    /** The first mistake of this read; the poll is skipped with it. */
    internal var garbage: String? = null
        private set
    private val seen = LongArray(4) // one bit per label 0-255
    @Volatile private var open = false

    /**
     * Reports [label]'s cumulative counters: bytes transmitted [tx] and
     * received [rx]. A negative counter (Android's `TrafficStats.UNSUPPORTED`)
     * leaves the label out of this poll. A label outside 0-255, a label put
     * twice, or more than [MAX_ENTRIES] puts skip the poll with that reason.
     *
     * @throws IllegalStateException if called outside [CounterReader.read].
     */
    fun put(label: Int, tx: Long, rx: Long) {
        check(open) { "CounterWriter.put is valid only during CounterReader.read" }
        if (garbage != null) return
        if (label < 0 || label > 255) {
            garbage = "the counter reader put label $label, outside 0-255"
            return
        }
        if (entries == MAX_ENTRIES) {
            garbage = "the counter reader put more than $MAX_ENTRIES entries in one read"
            return
        }
        val word = label ushr 6
        val bit = 1L shl (label and 63)
        if (seen[word] and bit != 0L) {
            garbage = "the counter reader put label $label twice in one read"
            return
        }
        seen[word] = seen[word] or bit
        val at = entries * LONGS_PER_ENTRY
        values[at] = label.toLong()
        values[at + 1] = tx
        values[at + 2] = rx
        entries += 1
    }

    internal fun begin() {
        entries = 0
        garbage = null
        seen.fill(0L)
        open = true
    }

    internal fun end() {
        open = false
    }

    companion object {
        /** Entries one read may put: one per label. */
        const val MAX_ENTRIES: Int = 256
        internal const val LONGS_PER_ENTRY = 3
    }
}
