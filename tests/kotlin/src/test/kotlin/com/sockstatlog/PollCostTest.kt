package com.sockstatlog

import com.sun.jna.Native
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.lang.management.ManagementFactory
import java.nio.file.Path
import java.util.Collections

/** CPU time (ns) the OS thread named [comm] of this process has used, or null (Linux). */
fun osThreadCpuNs(comm: String): Long? {
    val tasks = File("/proc/self/task").listFiles() ?: return null
    for (task in tasks) {
        val name = runCatching { File(task, "comm").readText().trim() }.getOrNull() ?: continue
        if (name == comm) {
            return runCatching { File(task, "schedstat").readText().trim().split(" ")[0].toLong() }.getOrNull()
        }
    }
    return null
}

/**
 * The cost of one poll seen from Kotlin, with the worker thread attached to
 * the JVM for each callback (JNA's default on the desktop JVM: attach, call,
 * detach) and kept attached for good (what JNI_OnLoad gives on Android;
 * emulated here with JNA's `Native.detach(false)`, called inside the
 * callback, which keeps the calling native thread attached after the
 * callback returns, until the thread exits).
 *
 * A measurement, not a check of speed: it prints
 * `kotlin_poll_cost_us_detached=...` and `kotlin_poll_cost_us_attached=...`
 * (CPU time of the worker thread per poll, from /proc/self/task/<tid>/schedstat,
 * which covers attaching and detaching; and the process's idle-corrected CPU
 * time per poll) and asserts only that no thread outlives the logger.
 *
 * -Dsockstatlog.costPolls (default 2000) sets the polls per variant, at 10 ms.
 */
@Tag("measurement")
class PollCostTest {
    @TempDir lateinit var dir: Path

    private class Source(private val keepAttached: Boolean) : SafeCounterSource() {
        private val attached = ThreadLocal.withInitial { false }
        val javaThreads: MutableSet<Long> = Collections.synchronizedSet(HashSet())
        @Volatile var n = 0L

        override fun read(): CounterSnapshot {
            if (keepAttached && !attached.get()) {
                Native.detach(false)
                attached.set(true)
            }
            @Suppress("DEPRECATION")
            javaThreads.add(Thread.currentThread().id)
            n += 1
            return CounterSnapshot(false, (0 until 13).map { LabelCounters(it.toUByte(), n * 100, n * 1000) })
        }
    }

    private data class Cost(val workerUs: Double?, val processUs: Double, val javaThreads: Int, val polls: ULong)

    private fun measure(name: String, keepAttached: Boolean, polls: ULong): Cost {
        val os = ManagementFactory.getOperatingSystemMXBean() as com.sun.management.OperatingSystemMXBean
        val mx = ManagementFactory.getThreadMXBean()
        // Warm up this variant (JIT, JNA callback setup).
        Logger(dir.resolve("$name-warm").toString(), NODE_ID, Source(keepAttached), fastOptions()).use { l ->
            l.setLoggingEnabled(true)
            waitUntil(what = "warm-up") { l.stats().polls >= 200uL }
        }
        System.gc()
        Thread.sleep(300)
        val osBefore = osThreads()
        val jvmBefore = mx.threadCount

        val idle0 = os.processCpuTime
        val idleT0 = System.nanoTime()
        Thread.sleep(1000)
        val idleCpuPerNs = (os.processCpuTime - idle0).toDouble() / (System.nanoTime() - idleT0)

        val source = Source(keepAttached)
        val cost = Logger(dir.resolve(name).toString(), NODE_ID, source, fastOptions()).use { l ->
            l.setLoggingEnabled(true)
            waitUntil(what = "first poll") { l.stats().polls >= 1uL }
            val w0 = osThreadCpuNs("sockstatlog")
            val p0 = l.stats().polls
            val cpu0 = os.processCpuTime
            val t0 = System.nanoTime()
            waitUntil(timeoutMs = polls.toLong() * 100 + 60_000, what = "$polls polls") {
                Thread.sleep(50)
                l.stats().polls >= p0 + polls
            }
            val w1 = osThreadCpuNs("sockstatlog")
            val cpu = os.processCpuTime - cpu0
            val wall = System.nanoTime() - t0
            val done = (l.stats().polls - p0).toDouble()
            assertEquals(0uL, l.stats().sourceErrors)
            Cost(
                workerUs = if (w0 != null && w1 != null) (w1 - w0) / done / 1000.0 else null,
                processUs = (cpu - idleCpuPerNs * wall) / done / 1000.0,
                javaThreads = source.javaThreads.size,
                polls = done.toULong(),
            )
        }
        // Closing the logger ends the worker; a thread kept attached must
        // be detached and gone with it.
        waitUntil(timeoutMs = 5000, what = "threads after close ($name)") {
            osThreads() <= osBefore && mx.threadCount <= jvmBefore
        }
        println("SOCKSTATLOG-POLLCOST-THREADS $name os before=$osBefore after=${osThreads()} jvm before=$jvmBefore after=${mx.threadCount}")
        return cost
    }

    @Test
    fun pollCostAttachedAndDetached() {
        val polls = System.getProperty("sockstatlog.costPolls", "2000").toULong()
        val detached = measure("detached", keepAttached = false, polls = polls)
        val attached = measure("attached", keepAttached = true, polls = polls)
        fun f(x: Double?) = x?.let { "%.1f".format(it) } ?: "n/a"
        println(
            "kotlin_poll_cost_us_detached=${f(detached.workerUs)} kotlin_poll_cost_us_attached=${f(attached.workerUs)} " +
                "(worker thread CPU per poll, 13 labels, $polls polls at 10 ms each)",
        )
        println(
            "kotlin_poll_process_cpu_us_detached=${f(detached.processUs)} kotlin_poll_process_cpu_us_attached=${f(attached.processUs)} " +
                "(process CPU per poll, idle-corrected) java_threads_seen_detached=${detached.javaThreads} " +
                "java_threads_seen_attached=${attached.javaThreads}",
        )
        // Not timing: the emulation did what it says.
        assertTrue(attached.javaThreads == 1, "attached: ${attached.javaThreads} Java threads")
        assertTrue(detached.javaThreads > 1, "detached: ${detached.javaThreads} Java threads")
    }
}
