// Hand-written glue (not generated): pure Kotlin.
package com.sockstatlog

import java.util.concurrent.Executor
import java.util.concurrent.RejectedExecutionException
import java.util.concurrent.atomic.AtomicBoolean

/**
 * Something that can upload what the log buffer holds within a deadline:
 * the VPN's logger (`Logger.flush`) in the process that runs it, or the
 * flush-only handle in the app's other processes.
 */
fun interface Flusher {
    /** Uploads within [deadlineMs]. May throw anything (the scheduler reports it). */
    fun flush(deadlineMs: Long): FlushReport?
}

/** Told the result of each background flush. */
fun interface FlushListener {
    /** [report] of a flush that returned, or [error] it threw (one of them is null; both if the flush was skipped). */
    fun onFlushed(report: FlushReport?, error: Throwable?)
}

/**
 * Runs flushes off the caller's thread (never on the main thread), one at a
 * time, each bounded by [deadlineMs]. A request made while a flush runs is
 * not stacked: it returns false and nothing more happens, because the
 * running flush already uploads what the buffer holds.
 *
 * [onDone] is told each flush's result (the report, or what it threw):
 * for logging and tests.
 */
class FlushScheduler @JvmOverloads constructor(
    private val flusher: Flusher,
    /** Deadline of each flush, in ms. */
    val deadlineMs: Long = DEFAULT_DEADLINE_MS,
    /** Where flushes run; by default a new daemon thread per flush. */
    private val executor: Executor = Executor { task -> Thread(task, "sockstatlog-flush").apply { isDaemon = true }.start() },
    private val onDone: FlushListener = FlushListener { _, _ -> },
) {
    private val running = AtomicBoolean(false)

    /** Starts a flush unless one is running; true if this call started one. Any thread. */
    fun request(): Boolean {
        if (!running.compareAndSet(false, true)) return false
        try {
            executor.execute(::runOne)
        } catch (e: RejectedExecutionException) {
            running.set(false)
            return false
        }
        return true
    }

    /** Whether a flush is running now. */
    val isRunning: Boolean get() = running.get()

    private fun runOne() {
        var report: FlushReport? = null
        var error: Throwable? = null
        try {
            report = flusher.flush(deadlineMs)
        } catch (t: Throwable) {
            error = t
        } finally {
            running.set(false)
        }
        try {
            onDone.onFlushed(report, error)
        } catch (_: Throwable) {
            // A listener's failure must not reach the executor's thread.
        }
    }

    /** Defaults. */
    companion object {
        /** Default flush deadline: long enough for a few batches, short enough for a backgrounding app. */
        const val DEFAULT_DEADLINE_MS: Long = 5_000
    }
}
