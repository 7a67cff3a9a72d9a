package com.sockstatlog.android

import com.sockstatlog.AppVisibility
import com.sockstatlog.CounterTable
import com.sockstatlog.FlushScheduler
import com.sockstatlog.Flusher
import com.sockstatlog.LabelCounters
import com.sockstatlog.Labels
import com.sockstatlog.NetworkFacts
import com.sockstatlog.UnderlyingNetwork
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Test
import java.util.concurrent.Executor

/** The plain-Kotlin state holders, with fakes (no framework, no threads). */
class StateHoldersTest {
    @Test
    fun counterTableReportsOnlyLabelsAddedTo() {
        val table = CounterTable()
        table.add(Labels.MAGICSOCK_CONN_UDP4, 100, 200)
        table.add(Labels.MAGICSOCK_CONN_UDP4, 1, 2)
        table.add(200, 0, 0)
        assertEquals(listOf(LabelCounters(8u, 101, 202), LabelCounters(200u, 0, 0)), table.read())
    }

    @Test
    fun counterTableRejectsBadLabelsAndNegativeCounts() {
        val table = CounterTable()
        val e = assertThrows(IllegalArgumentException::class.java) { table.add(256, 1, 1) }
        assertEquals("label must be 0-255, was 256", e.message)
        assertThrows(IllegalArgumentException::class.java) { table.add(-1, 1, 1) }
        assertThrows(IllegalArgumentException::class.java) { table.add(1, -5, 1) }
        assertEquals(emptyList<LabelCounters>(), table.read())
    }

    @Test
    fun underlyingNetworkIsCellularOnlyWhenEveryPhysicalNetworkIs() {
        val net = UnderlyingNetwork()
        assertFalse("no network", net.isCellular())
        net.update(3, NetworkFacts(isVpn = true, isCellular = false))
        assertFalse("the VPN alone", net.isCellular())
        net.update(2, NetworkFacts(isVpn = false, isCellular = true))
        assertTrue("VPN over cellular", net.isCellular())
        net.update(1, NetworkFacts(isVpn = false, isCellular = false))
        assertFalse("Wi-Fi up beside cellular", net.isCellular())
        net.lost(1)
        assertTrue("Wi-Fi gone", net.isCellular())
        net.update(2, NetworkFacts(isVpn = false, isCellular = true, hasInternet = false))
        assertFalse("cellular without internet", net.isCellular())
        net.clear()
        assertFalse(net.isCellular())
    }

    @Test
    fun appVisibilityReportsEachHidingOnce() {
        var hidden = 0
        val v = AppVisibility { hidden++ }
        v.activityStarted()
        v.activityStarted()
        v.activityStopped()
        assertEquals("one activity still visible", 0, hidden)
        v.activityStopped()
        assertEquals(1, hidden)
        v.uiHidden()
        assertEquals("UI_HIDDEN right after the last stop is the same hiding", 1, hidden)
        v.activityStarted()
        v.uiHidden()
        assertEquals(2, hidden)
        v.activityStopped()
        assertEquals(2, hidden)
    }

    @Test
    fun aFlushRequestedWhileOneRunsIsNotStacked() {
        val tasks = ArrayList<Runnable>()
        var flushes = 0
        val scheduler = FlushScheduler(Flusher { flushes++; null }, 1_000, Executor { tasks.add(it) })
        assertTrue(scheduler.request())
        assertFalse(scheduler.request())
        assertFalse(scheduler.request())
        assertEquals(1, tasks.size)
        tasks.removeAt(0).run()
        assertEquals(1, flushes)
        assertFalse(scheduler.isRunning)
        assertTrue("a later request flushes again", scheduler.request())
        tasks.removeAt(0).run()
        assertEquals(2, flushes)
    }

    @Test
    fun aThrowingFlushIsReportedAndFreesTheScheduler() {
        val tasks = ArrayList<Runnable>()
        val errors = ArrayList<Throwable?>()
        val scheduler = FlushScheduler(Flusher { throw OutOfMemoryError("boom") }, 1_000, Executor { tasks.add(it) }) { _, e ->
            errors.add(e)
        }
        assertTrue(scheduler.request())
        tasks.removeAt(0).run()
        assertEquals("boom", errors.single()!!.message)
        assertTrue(scheduler.request())
    }
}
