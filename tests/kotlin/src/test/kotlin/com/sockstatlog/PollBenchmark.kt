package com.sockstatlog

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.lang.management.ManagementFactory
import java.nio.file.Path

/**
 * Natives of the library built with feature `jvm-perf-hooks`
 * (src/platform/jni/perf_hooks.rs); only [PollBenchmark] uses them.
 */
internal object PerfHooks {
    init {
        System.loadLibrary("sockstatlog")
    }

    /** Registers the floor: a Rust source, [labels] labels all changing. */
    @JvmStatic external fun syntheticSource(labels: Int): Long

    /** Registers a UniFFI source lowered by `FfiConverterTypeCounterSource`. */
    @JvmStatic external fun foreignSource(lowered: Long): Long

    /** Registers a JNI reader as `NativeCounters.newLogger` does. */
    @JvmStatic external fun jniReader(reader: RegisteredReader): Long

    /** Runs [polls] polls of the registered source on this thread; the events made, -1 on failure. */
    @JvmStatic external fun pollBackToBack(handle: Long, polls: Int): Int

    /** Drops a registered source. */
    @JvmStatic external fun release(handle: Long)
}

/** CPU time (ns) the OS thread named [comm] of this process has used, or null (Linux). */
fun osThreadCpuNs(comm: String): Long? {
    val tasks = File("/proc/self/task").listFiles() ?: return null
    val mine = tasks.filter { runCatching { File(it, "comm").readText().trim() }.getOrNull() == comm }
    if (mine.size != 1) return null
    return runCatching { File(mine[0], "schedstat").readText().trim().split(" ")[0].toLong() }.getOrNull()
}

private const val LABELS = 13

/** The fast path's reader: [LABELS] labels, all changing on every read. */
private class ChangingReader : CounterReader {
    private var n = 0L

    override fun read(writer: CounterWriter): Boolean {
        n += 1
        for (label in 0 until LABELS) writer.put(label, n * 100 + label, n * 1000 + label)
        return false
    }
}

/** The UniFFI record source, through JNA: the same counters. */
private class ChangingSource : SafeCounterSource() {
    private var n = 0L

    override fun read(): CounterSnapshot {
        n += 1
        return CounterSnapshot(false, (0 until LABELS).map { LabelCounters(it.toUByte(), n * 100 + it, n * 1000 + it) })
    }
}

/**
 * The cost of one poll seen from the JVM, three designs interleaved in one
 * JVM after a warm-up: the floor (a counter source in Rust), the UniFFI
 * record source (JNA), the JNI fast path ([NativeCounters]); plus
 * `Logger.stats()`. Run by scripts/perf-report against the release library
 * built with feature `jvm-perf-hooks`; excluded from the test run. Writes
 * `key=value` lines to the file named by `-Dsockstatlog.benchOut`.
 *
 * - back to back: the worker's poll work run in a loop on this (attached
 *   Java) thread; CPU time and JVM bytes allocated by this thread per poll
 *   (ThreadMXBean), median of the rounds.
 * - at 10 ms: a real logger polling every 10 ms; CPU time of its worker
 *   thread per poll (/proc/self/task/<tid>/schedstat), wakeups included.
 */
@Tag("benchmark")
class PollBenchmark {
    @TempDir lateinit var dir: Path

    private val mx = ManagementFactory.getThreadMXBean() as com.sun.management.ThreadMXBean
    private val out = StringBuilder()

    private fun record(key: String, value: Any) {
        out.append(key).append('=').append(value).append('\n')
        println("PollBenchmark $key=$value")
    }

    private class Design(val name: String, val handle: () -> Long)

    private val designs =
        listOf(
            Design("floor") { PerfHooks.syntheticSource(LABELS) },
            Design("uniffi") { PerfHooks.foreignSource(FfiConverterTypeCounterSource.lower(ChangingSource())) },
            Design("jni") { PerfHooks.jniReader(RegisteredReader(ChangingReader())) },
        )

    private class Sample(val cpuNs: Long, val bytes: Long)

    private fun backToBack(handle: Long, polls: Int): Sample {
        val id = Thread.currentThread().id
        val bytes0 = mx.getThreadAllocatedBytes(id)
        val cpu0 = mx.currentThreadCpuTime
        val events = PerfHooks.pollBackToBack(handle, polls)
        val cpu1 = mx.currentThreadCpuTime
        val bytes1 = mx.getThreadAllocatedBytes(id)
        check(events == polls - 1 || events == polls) { "events: $events of $polls polls" }
        return Sample(cpu1 - cpu0, bytes1 - bytes0)
    }

    @Test
    fun pollCostPerDesign() {
        val warmPolls = Integer.getInteger("sockstatlog.benchWarmPolls", 5000)
        val polls = Integer.getInteger("sockstatlog.benchPolls", 2000)
        val rounds = Integer.getInteger("sockstatlog.benchRounds", 15)
        val periodPolls = Integer.getInteger("sockstatlog.benchPeriodPolls", 300)
        // Loads the bindings' library (and registers the callback tables the
        // UniFFI source needs) before any source is lowered.
        sockstatLogId(NODE_ID)
        record("labels", LABELS)
        record("warmup_polls", warmPolls)

        // Back to back: one registered source per design, warmed, then rounds interleaved.
        val handles = designs.associate { it.name to it.handle() }
        handles.values.forEach { check(it != 0L) }
        for (round in 0 until 3) handles.values.forEach { backToBack(it, warmPolls) }
        // What measuring itself allocates, subtracted from every sample.
        val overhead = (0 until 5).minOf { backToBack(handles.getValue("floor"), 0).bytes }
        val samples = designs.associate { it.name to ArrayList<Sample>() }
        for (round in 0 until rounds) {
            val order = designs.indices.map { designs[(it + round) % designs.size] }
            for (d in order) samples.getValue(d.name).add(backToBack(handles.getValue(d.name), polls))
        }
        for (d in designs) {
            val s = samples.getValue(d.name)
            val cpu = s.map { it.cpuNs.toDouble() / polls }.sorted()[s.size / 2]
            val bytes = s.map { (it.bytes - overhead).toDouble() / polls }.sorted()[s.size / 2]
            record("${d.name}_warm_cpu_ns_per_poll", "%.0f".format(cpu))
            record("${d.name}_warm_bytes_per_poll", "%.1f".format(bytes))
        }
        handles.values.forEach { PerfHooks.release(it) }

        // At a real 10 ms period, in a logger: two rounds, interleaved.
        val perPoll = designs.associate { it.name to ArrayList<Double>() }
        for (round in 0 until 2) {
            for (d in designs) perPoll.getValue(d.name).add(atPeriod(d, periodPolls, round))
        }
        for (d in designs) {
            record("${d.name}_10ms_cpu_ns_per_poll", "%.0f".format(perPoll.getValue(d.name).minOrNull()!!))
        }
        measureStats()
        System.getProperty("sockstatlog.benchOut")?.let { File(it).writeText(out.toString()) }
    }

    private fun atPeriod(d: Design, polls: Int, round: Int): Double {
        val options = LoggerOptions(pollPeriodMs = 10u, batchPeriodMs = 3_600_000u)
        val logDir = dir.resolve("${d.name}-$round").toString()
        Logger.withRegisteredSource(logDir, NODE_ID, d.handle().toULong(), options).use { l ->
            l.setLoggingEnabled(true)
            waitUntil(what = "first polls") { l.stats().polls >= 20uL }
            val p0 = l.stats().polls
            val w0 = osThreadCpuNs("sockstatlog") ?: error("no single sockstatlog thread")
            waitUntil(timeoutMs = polls * 100L + 60_000, what = "$polls polls") {
                Thread.sleep(100)
                l.stats().polls >= p0 + polls.toULong()
            }
            val w1 = osThreadCpuNs("sockstatlog") ?: error("no single sockstatlog thread")
            val done = (l.stats().polls - p0).toDouble()
            assertEquals(0uL, l.stats().sourceErrors)
            return (w1 - w0) / done
        }
    }

    /** `Logger.stats()` from Kotlin: CPU and JVM bytes per call, warm. */
    private fun measureStats() {
        NativeCounters.newLogger(dir.resolve("stats").toString(), NODE_ID, ChangingReader()).use { l ->
            l.setLoggingEnabled(true)
            repeat(5000) { l.stats() }
            val id = Thread.currentThread().id
            val calls = 2000
            val bytes0 = mx.getThreadAllocatedBytes(id)
            val cpu0 = mx.currentThreadCpuTime
            repeat(calls) { l.stats() }
            val cpu1 = mx.currentThreadCpuTime
            val bytes1 = mx.getThreadAllocatedBytes(id)
            record("stats_cpu_ns_per_call", (cpu1 - cpu0) / calls)
            record("stats_bytes_per_call", (bytes1 - bytes0) / calls)
        }
    }
}
