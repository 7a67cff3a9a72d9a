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

class SoakTest {
    @TempDir lateinit var dir: Path

    /**
     * 10,000 polls at a 10 ms period (about 100 s): no thread growth, and the
     * cost of one poll measured from the Kotlin side.
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
                maxOs = maxOf(maxOs, osThreads())
                Thread.sleep(50)
            }
            val cpu = os.processCpuTime - cpu0
            val wall = System.nanoTime() - t0
            val stats = l.stats()
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
}
