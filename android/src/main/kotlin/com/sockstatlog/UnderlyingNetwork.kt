// Hand-written glue (not generated): pure Kotlin.
package com.sockstatlog

/** What the glue knows about one network the system has, from its capabilities. */
data class NetworkFacts(
    /** Whether the network is a VPN (this app's own, or another). */
    val isVpn: Boolean,
    /** Whether it goes over a cellular radio. */
    val isCellular: Boolean,
    /** Whether it offers internet access. */
    val hasInternet: Boolean = true,
)

/**
 * Decides whether the network under the VPN is cellular, from the networks
 * the system reports (`ConnectivityManager` callbacks feed it through
 * [update] and [lost]; tests feed it directly).
 *
 * The VPN's own network (and any other VPN) is ignored: what counts is the
 * physical network its traffic leaves on. Android routes over a non-cellular
 * network (Wi-Fi, Ethernet) whenever one with internet is up, and keeps
 * cellular as a fallback, so: cellular if every non-VPN network with
 * internet is cellular and there is at least one; otherwise (Wi-Fi present,
 * or no network at all, e.g. airplane mode) not cellular.
 *
 * Thread-safe: callbacks arrive on the framework's thread, [isCellular] is
 * read on the logger's worker thread.
 */
class UnderlyingNetwork {
    private val networks = HashMap<Long, NetworkFacts>()

    @Volatile private var cellular = false

    /** Network [id] now has [facts] (new network, or its capabilities changed). */
    fun update(id: Long, facts: NetworkFacts) = synchronized(networks) {
        networks[id] = facts
        decide()
    }

    /** Network [id] is gone. */
    fun lost(id: Long) = synchronized(networks) {
        networks.remove(id)
        decide()
    }

    /** Forgets every network (the callbacks were unregistered). */
    fun clear() = synchronized(networks) {
        networks.clear()
        decide()
    }

    /** Whether the traffic under the VPN goes over cellular now. */
    fun isCellular(): Boolean = cellular

    private fun decide() {
        val physical = networks.values.filter { !it.isVpn && it.hasInternet }
        cellular = physical.isNotEmpty() && physical.all { it.isCellular }
    }
}
