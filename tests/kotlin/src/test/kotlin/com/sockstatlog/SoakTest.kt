package com.sockstatlog

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.lang.management.ManagementFactory
import java.nio.file.Path

/** Threads of this process, JVM-attached or not (Linux). */
fun osThreads(): Int = File("/proc/self/task").list()!!.size

/** This process's resident set size in KiB (Linux /proc/self/status VmRSS), or null. */
fun rssKiB(): Long? =
    runCatching {
        File("/proc/self/status").readLines().first { it.startsWith("VmRSS:") }
            .removePrefix("VmRSS:").trim().removeSuffix("kB").trim().toLong()
    }.getOrNull()

/** JVM heap in use after a full collection, in KiB. */
fun heapAfterGcKiB(): Long {
    val memory = ManagementFactory.getMemoryMXBean()
    repeat(3) {
        System.gc()
        Thread.sleep(50)
    }
    return memory.heapMemoryUsage.used / 1024
}

/**
 * Memory at one point of the soak. Rust's heap cannot be seen from Kotlin,
 * so the process's RSS (Rust heap, JVM heap and native memory together) and
 * the JVM heap after a full collection.
 */
data class MemorySample(val polls: ULong, val rssKiB: Long?, val heapKiB: Long)

class SoakTest {
    @TempDir lateinit var dir: Path

    /**
     * 10,000 polls at a 10 ms period (about 100 s): no thread growth, no
     * memory growth, and the cost of one poll measured from the Kotlin side.
     *
     * Memory: sampled at poll 2,000 (after warm-up, JIT and the buffer's
     * first batches) and at the end. Tolerances: RSS may grow by at most
     * [RSS_TOLERANCE_KIB] (16 MiB: the JVM's own noise: heap regions
     * committed, code cache, GC structures; a leak of 2 KiB or more per poll
     * over the 8,000 polls exceeds it); the JVM heap after a full GC by at
     * most [HEAP_TOLERANCE_KIB] (4 MiB; about 500 bytes per poll). With
     * fewer polls (-Dsockstatlog.soakPolls below 4,000) the figures are
     * printed but not checked.
     */
    @Test
    fun tenThousandPollsWithoutThreadGrowth() {
        val polls = System.getProperty("sockstatlog.soakPolls", "10000").toULong()
        val labels = System.getProperty("sockstatlog.soakLabels", "13").toInt()
        var n = 0L
        val source = counterSource {
            n += 1
            // Every label moving every poll: an event on every poll.
            CounterSnapshot(n % 7 == 0L, (0 until labels).map { LabelCounters(it.toUByte(), n * 100, n * 1000) })
        }
        val os = ManagementFactory.getOperatingSystemMXBean() as com.sun.management.OperatingSystemMXBean
        val jvmThreads = ManagementFactory.getThreadMXBean()

        // Warm up (JIT, JNA callback setup), then measure.
        Logger(dir.resolve("warm").toString(), NODE_ID, source, fastOptions()).use { l ->
            l.setLoggingEnabled(true)
            waitUntil(what = "warm-up") { l.stats().polls >= 300uL }
        }
        Thread.sleep(200)
        val osBefore = osThreads()
        val jvmBefore = jvmThreads.threadCount

        // Idle CPU baseline (JVM housekeeping), per second.
        val idle0 = os.processCpuTime
        val idleT0 = System.nanoTime()
        Thread.sleep(2000)
        val idleCpuPerNs = (os.processCpuTime - idle0).toDouble() / (System.nanoTime() - idleT0)

        var maxOs = 0
        val sampleAt = 2_000uL
        var early: MemorySample? = null
        var sampleCpu = 0L
        var statsCalls = 0L
        var statsNs = 0L
        val logger = Logger(dir.resolve("soak").toString(), NODE_ID, source, fastOptions())
        val cpu0 = os.processCpuTime
        val t0 = System.nanoTime()
        logger.use { l ->
            l.setLoggingEnabled(true)
            while (true) {
                val s0 = System.nanoTime()
                val stats = l.stats()
                statsNs += System.nanoTime() - s0
                statsCalls++
                if (stats.polls >= polls) break
                if (early == null && stats.polls >= sampleAt) {
                    val c0 = os.processCpuTime
                    early = MemorySample(stats.polls, rssKiB(), heapAfterGcKiB())
                    sampleCpu += os.processCpuTime - c0 // not a poll's cost
                }
                maxOs = maxOf(maxOs, osThreads())
                Thread.sleep(50)
            }
            val cpu = os.processCpuTime - cpu0 - sampleCpu
            val wall = System.nanoTime() - t0
            val stats = l.stats()
            val late = MemorySample(stats.polls, rssKiB(), heapAfterGcKiB())
            val first = early
            println(
                "SOCKSTATLOG-MEMORY early=$first late=$late rssGrowth=${
                    if (first?.rssKiB != null && late.rssKiB != null) late.rssKiB - first.rssKiB else null
                } KiB heapGrowth=${first?.let { late.heapKiB - it.heapKiB }} KiB " +
                    "(tolerance rss $RSS_TOLERANCE_KIB KiB, heap $HEAP_TOLERANCE_KIB KiB)",
            )
            if (first != null && late.polls >= first.polls + 2_000uL) {
                if (first.rssKiB != null && late.rssKiB != null) {
                    assertTrue(
                        late.rssKiB - first.rssKiB <= RSS_TOLERANCE_KIB,
                        "RSS grew from ${first.rssKiB} KiB (poll ${first.polls}) to ${late.rssKiB} KiB (poll ${late.polls})",
                    )
                }
                assertTrue(
                    late.heapKiB - first.heapKiB <= HEAP_TOLERANCE_KIB,
                    "JVM heap after GC grew from ${first.heapKiB} KiB to ${late.heapKiB} KiB",
                )
            }
            val perPollCpuUs = (cpu - idleCpuPerNs * wall) / stats.polls.toDouble() / 1000.0
            val perPollWallUs = wall.toDouble() / stats.polls.toDouble() / 1000.0
            println(
                "SOCKSTATLOG-COST polls=${stats.polls} events=${stats.events} errors=${stats.sourceErrors} " +
                    "tooSlow=${stats.sourceTooSlow} missedTicks=${stats.missedTicks} wall=${wall / 1_000_000} ms " +
                    "wallPerPoll=%.1f us cpuPerPoll=%.1f us (idle-corrected, $labels labels) statsCall=%.1f us".format(
                        perPollWallUs, perPollCpuUs, statsNs.toDouble() / statsCalls / 1000.0,
                    ) + " osThreads before=$osBefore max=$maxOs",
            )
            assertEquals(0uL, stats.sourceErrors)
            // A poll slower than the 10 ms source timeout (GC pause, busy
            // machine) is skipped; nearly every poll gives an event.
            assertTrue(stats.events >= polls * 9uL / 10uL, "events ${stats.events} of ${stats.polls} polls")
        }
        Thread.sleep(300)
        val osAfter = osThreads()
        println("SOCKSTATLOG-THREADS os before=$osBefore max=$maxOs after=$osAfter jvm before=$jvmBefore after=${jvmThreads.threadCount}")
        // The one worker thread while running, none after close.
        assertTrue(maxOs <= osBefore + 2, "threads grew: $osBefore -> $maxOs")
        assertTrue(osAfter <= osBefore, "threads left behind: $osBefore -> $osAfter")
        assertTrue(jvmThreads.threadCount <= jvmBefore + 1)
    }

    companion object {
        const val RSS_TOLERANCE_KIB = 16L * 1024
        const val HEAP_TOLERANCE_KIB = 4L * 1024
    }
}
