// The whole integration in a VpnService (compiled and run in tests/android).
package com.sockstatlog.sample

import android.content.Intent
import android.net.VpnService
import com.sockstatlog.SockstatConfig
import com.sockstatlog.SockstatSession
import com.sockstatlog.android.SockstatVpn
import java.net.InetAddress

class SampleVpnService : VpnService() {
    var sockstat: SockstatSession? = null
        private set

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        if (sockstat == null) {
            // Your public log ID; set serverUrl = "https://..." to upload.
            sockstat = SockstatVpn.start(this, LOG_ID, SockstatConfig(serverUrl = intent?.getStringExtra("server")))
        }
        Builder().addAddress(InetAddress.getByName("100.64.0.1"), 32).establish()
        // The tunnel's packet loop, per batch, from any thread:
        // sockstat?.counters?.add(Labels.MAGICSOCK_CONN_UDP4, txBytes, rxBytes)
        return START_STICKY
    }

    override fun onRevoke() {
        sockstat?.close() // flushes (bounded) and shuts down, off the main thread
        stopSelf()
    }

    override fun onDestroy() = sockstat?.close() ?: Unit

    companion object {
        const val LOG_ID = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d"
    }
}
