package com.sockstatlog.android

import android.net.ConnectivityManager
import com.sockstatlog.sample.SampleVpnService
import org.junit.Assert.assertEquals
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import java.io.File

/** The sample VpnService on Android's framework code: start, revoke, destroy. */
@RunWith(RobolectricTestRunner::class)
class VpnServiceTest {
    private val cm get() = RuntimeEnvironment.getApplication().getSystemService(ConnectivityManager::class.java)

    @Test
    fun startCommandStartsLoggingInTheNoBackupDirectory() {
        val controller = Robolectric.buildService(SampleVpnService::class.java).create().startCommand(0, 1)
        val session = controller.get().sockstat!!
        assertTrue(session.logger.isLoggingEnabled())
        assertEquals(1, shadowOf(cm).networkCallbacks.size)
        val dir = File(RuntimeEnvironment.getApplication().noBackupFilesDir, "sockstatlog")
        assertTrue("log directory $dir", dir.isDirectory)
        controller.get().onRevoke()
        assertTrue(session.awaitStopped(60_000))
    }

    @Test
    fun revokeStopsTheSessionAndUnregistersCallbacksThenDestroyIsHarmless() {
        val controller = Robolectric.buildService(SampleVpnService::class.java).create().startCommand(0, 1)
        val session = controller.get().sockstat!!
        controller.startCommand(0, 2)
        assertTrue("a second start command keeps the session", session === controller.get().sockstat)

        controller.get().onRevoke()
        assertTrue(session.awaitStopped(60_000))
        assertEquals(emptySet<Any>(), shadowOf(cm).networkCallbacks)
        assertThrows("the logger is closed", IllegalStateException::class.java) { session.logger.setLoggingEnabled(true) }

        controller.destroy()
        session.close()
        assertEquals(null, session.stop())
    }
}
