// Hand-written glue (not generated): pure Kotlin, also compiled by the JVM
// tests in tests/kotlin and tests/android.
package com.sockstatlog

import java.util.concurrent.atomic.AtomicLongArray

/**
 * The labels the original defines (the decimal numbers that appear in event
 * lines). Labels 13-255 are free for the app's own parts.
 */
object Labels {
    /** Control client, automatic connections. */
    const val CONTROL_CLIENT_AUTO: Int = 0
    /** Control client, dialer. */
    const val CONTROL_CLIENT_DIALER: Int = 1
    /** DERP relay HTTP client. */
    const val DERP_HTTP_CLIENT: Int = 2
    /** The logtail logger. */
    const val LOGTAIL_LOGGER: Int = 3
    /** DNS forwarder, DNS over HTTPS. */
    const val DNS_FORWARDER_DOH: Int = 4
    /** DNS forwarder, UDP. */
    const val DNS_FORWARDER_UDP: Int = 5
    /** Netcheck client. */
    const val NETCHECK_CLIENT: Int = 6
    /** Port mapper client. */
    const val PORTMAPPER_CLIENT: Int = 7
    /** Magicsock, UDP over IPv4. */
    const val MAGICSOCK_CONN_UDP4: Int = 8
    /** Magicsock, UDP over IPv6. */
    const val MAGICSOCK_CONN_UDP6: Int = 9
    /** The network flow logger. */
    const val NETLOG_LOGGER: Int = 10
    /** This library's own uploads. */
    const val SOCKSTATLOG_LOGGER: Int = 11
    /** DNS forwarder, TCP. */
    const val DNS_FORWARDER_TCP: Int = 12
    /** The first label free for the app's own parts. */
    const val FIRST_APP_LABEL: Int = 13
    /** The largest label (labels are one byte). */
    const val MAX_LABEL: Int = 255
}

/**
 * The app's traffic counters, as the logger polls them: cumulative bytes per
 * label. Called on the library's worker thread once per poll; it may throw
 * anything (the poll is skipped and counted in `LoggerStats.sourceErrors`).
 */
fun interface TrafficCounters {
    /** The cumulative counters now; a negative `tx`/`rx` means "unknown" and leaves the label out. */
    fun read(): List<LabelCounters>
}

/**
 * A thread-safe per-label byte counter table that the app's socket or tunnel
 * code adds to, and the logger reads once per poll.
 *
 * [add] may be called from any number of threads at once, per packet batch:
 * it takes no lock and allocates nothing (two atomic adds and, the first
 * time a label is used, one atomic write). Counts are cumulative and only
 * grow; every byte added before a poll is in that poll's counters.
 *
 * ```kotlin
 * val table = CounterTable()
 * table.add(Labels.MAGICSOCK_CONN_UDP4, tx = sent.toLong(), rx = 0)
 * ```
 */
class CounterTable : TrafficCounters {
    // [2 * label] = tx, [2 * label + 1] = rx.
    private val bytes = AtomicLongArray(2 * LABELS)
    // 1 once the label was added to, so read() reports only used labels.
    private val used = AtomicLongArray(LABELS)

    /**
     * Adds [tx] bytes sent and [rx] bytes received to [label] (0-255; see
     * [Labels]). Any thread, no lock, no allocation.
     *
     * @throws IllegalArgumentException if [label] is not 0-255 or a count is negative.
     */
    fun add(label: Int, tx: Long, rx: Long) {
        require(label in 0..Labels.MAX_LABEL) { "label must be 0-255, was $label" }
        require(tx >= 0 && rx >= 0) { "byte counts must not be negative (tx=$tx, rx=$rx)" }
        if (used.get(label) == 0L) used.set(label, 1L)
        if (tx != 0L) bytes.getAndAdd(2 * label, tx)
        if (rx != 0L) bytes.getAndAdd(2 * label + 1, rx)
    }

    /** Bytes sent on [label] so far. */
    fun tx(label: Int): Long = bytes.get(2 * label)

    /** Bytes received on [label] so far. */
    fun rx(label: Int): Long = bytes.get(2 * label + 1)

    /** The counters of every label added to so far (the logger's view). */
    override fun read(): List<LabelCounters> {
        val out = ArrayList<LabelCounters>()
        forEachUsed { label, tx, rx -> out.add(LabelCounters(label.toUByte(), tx, rx)) }
        return out
    }

    /**
     * Calls [put] once per label added to so far, with its cumulative
     * counters, without allocating (for a JNI counter reader).
     */
    inline fun forEachUsed(put: (label: Int, tx: Long, rx: Long) -> Unit) {
        for (label in 0..Labels.MAX_LABEL) {
            if (isUsed(label)) put(label, tx(label), rx(label))
        }
    }

    /** Whether [label] was added to. */
    fun isUsed(label: Int): Boolean = used.get(label) != 0L

    private companion object {
        const val LABELS = Labels.MAX_LABEL + 1
    }
}
