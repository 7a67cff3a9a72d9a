package com.sockstatlog.android

import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import com.sockstatlog.LoggerOptions
import org.junit.Assert.assertTrue
import org.junit.Assume.assumeTrue
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowNetwork
import org.robolectric.shadows.ShadowNetworkCapabilities
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URI
import java.util.concurrent.TimeUnit

const val LOG_ID = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d"

/**
 * Polls every 10 ms and batches every poll, so tests see events at once; a
 * generous source timeout, so a poll slowed by the sandbox (class loading,
 * a busy machine) is still a poll, not a skipped one.
 */
fun fastOptions(): LoggerOptions = LoggerOptions(pollPeriodMs = 10uL, batchPeriodMs = 10uL, sourceTimeoutMs = 30_000uL)

/** Waits (at most a minute) for [condition], checking every few ms; fails with [what]. */
fun waitUntil(what: String, detail: () -> Any = { "" }, condition: () -> Boolean) {
    val end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
    while (!condition()) {
        if (System.nanoTime() >= end) throw AssertionError("timed out waiting for $what: ${detail()}")
        Thread.sleep(2) // a polling interval, not a wait for time to pass
    }
}

/** The project's log server (tools/logserver) on a loopback port, for [block]. */
fun <T> withLogServer(block: (url: String) -> T): T {
    val exe = System.getProperty("sockstatlog.logserver")
    assumeTrue("no -Dsockstatlog.logserver", exe != null && java.io.File(exe).canExecute())
    val port = ServerSocket(0).use { it.localPort }
    val process = ProcessBuilder(exe, "--listen", "127.0.0.1:$port", "--memory", "--quiet")
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start()
    try {
        val line = process.inputStream.bufferedReader().readLine()
        assertTrue("log server said: $line", line != null && line.startsWith("listening on"))
        return block("http://127.0.0.1:$port")
    } finally {
        process.destroy()
        process.waitFor(5, TimeUnit.SECONDS)
    }
}

/** The event lines the server holds for [collection] and the log [logId], in arrival order. */
fun storedEvents(url: String, collection: String, logId: String): List<String> {
    val conn = URI("$url/c/$collection/$logId").toURL().openConnection() as HttpURLConnection
    val text = conn.inputStream.bufferedReader().use { it.readText() }
    return Regex("\"t\":-?\\d+,\"d\":\\d+(,\"c\":1)?,\"s\":\\{[^}]*\\}").findAll(text).map { it.value }.toList()
}

/** The [tx, rx] of [label] in an event line, or null. */
fun countersOf(event: String, label: Int): Pair<Long, Long>? =
    Regex("\"$label\":\\[(\\d+),(\\d+)\\]").find(event)?.let { it.groupValues[1].toLong() to it.groupValues[2].toLong() }

/** Drives the network callbacks the app registered, as the system would. */
class FakeNetworks {
    private val cm = RuntimeEnvironment.getApplication().getSystemService(ConnectivityManager::class.java)
    val callbacks: Set<ConnectivityManager.NetworkCallback> get() = shadowOf(cm).networkCallbacks

    fun wifi(): Network = up(1, NetworkCapabilities.TRANSPORT_WIFI)
    fun cellular(): Network = up(2, NetworkCapabilities.TRANSPORT_CELLULAR)
    fun vpn(): Network = up(3, NetworkCapabilities.TRANSPORT_VPN, vpn = true)

    fun up(id: Int, transport: Int, vpn: Boolean = false): Network {
        val network = ShadowNetwork.newInstance(id)
        val caps = ShadowNetworkCapabilities.newInstance()
        shadowOf(caps).addTransportType(transport)
        shadowOf(caps).addCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET)
        if (!vpn) shadowOf(caps).addCapability(NetworkCapabilities.NET_CAPABILITY_NOT_VPN)
        for (cb in callbacks.toList()) {
            cb.onAvailable(network)
            cb.onCapabilitiesChanged(network, caps)
        }
        return network
    }

    fun lost(network: Network) {
        for (cb in callbacks.toList()) cb.onLost(network)
    }
}
