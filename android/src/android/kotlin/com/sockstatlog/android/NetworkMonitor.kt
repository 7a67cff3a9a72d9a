// Android adapter: ConnectivityManager callbacks -> UnderlyingNetwork.
package com.sockstatlog.android

import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import android.net.NetworkRequest
import com.sockstatlog.NetworkFacts
import com.sockstatlog.UnderlyingNetwork

/**
 * Feeds [network] from `ConnectivityManager` network callbacks: every
 * network with internet, VPNs included (their facts say so, and the
 * decision ignores them). Register in [start], unregister in [stop].
 */
class NetworkMonitor(
    private val connectivity: ConnectivityManager,
    private val network: UnderlyingNetwork,
) {
    private val callback = object : ConnectivityManager.NetworkCallback() {
        override fun onCapabilitiesChanged(n: Network, caps: NetworkCapabilities) =
            network.update(n.networkHandle, facts(caps))

        override fun onLost(n: Network) = network.lost(n.networkHandle)
    }

    /** Registers the callback. */
    fun start() {
        val request = NetworkRequest.Builder()
            .addCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET)
            .removeCapability(NetworkCapabilities.NET_CAPABILITY_NOT_VPN)
            .build()
        connectivity.registerNetworkCallback(request, callback)
    }

    /** Unregisters the callback and forgets every network. */
    fun stop() {
        try {
            connectivity.unregisterNetworkCallback(callback)
        } catch (_: IllegalArgumentException) {
            // Not registered (start failed or stop ran twice).
        }
        network.clear()
    }

    /** The facts the decision needs from a network's capabilities. */
    companion object {
        /** [caps] as [NetworkFacts]. */
        @JvmStatic
        fun facts(caps: NetworkCapabilities): NetworkFacts = NetworkFacts(
            isVpn = caps.hasTransport(NetworkCapabilities.TRANSPORT_VPN) ||
                !caps.hasCapability(NetworkCapabilities.NET_CAPABILITY_NOT_VPN),
            isCellular = caps.hasTransport(NetworkCapabilities.TRANSPORT_CELLULAR),
            hasInternet = caps.hasCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET),
        )
    }
}
