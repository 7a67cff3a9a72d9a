// Hand-written glue (not generated): pure Kotlin.
package com.sockstatlog

/**
 * Tells when the app's UI goes to the background, from the signals Android
 * gives a process (fed by the framework adapter, or by tests):
 * activities started and stopped, and `onTrimMemory(TRIM_MEMORY_UI_HIDDEN)`.
 *
 * [onHidden] runs once per transition from visible to hidden, whichever
 * signal arrives first (the last activity stopping, or UI_HIDDEN); the other
 * one, arriving right after, is not a second transition. An activity
 * starting makes the UI visible again.
 *
 * Thread-safe; [onHidden] runs on the thread that delivered the signal
 * (the main thread on Android): it must only hand work off.
 */
class AppVisibility(private val onHidden: Runnable) {
    private var started = 0
    private var hidden = false

    /** An activity of this process became visible (`onActivityStarted`). */
    fun activityStarted() = synchronized(this) {
        started++
        hidden = false
    }

    /** An activity of this process stopped (`onActivityStopped`). */
    fun activityStopped() {
        val nowHidden = synchronized(this) {
            if (started > 0) started--
            started == 0 && markHidden()
        }
        if (nowHidden) onHidden.run()
    }

    /** The system says the process's UI is no longer visible (`TRIM_MEMORY_UI_HIDDEN`). */
    fun uiHidden() {
        val nowHidden = synchronized(this) { markHidden() }
        if (nowHidden) onHidden.run()
    }

    private fun markHidden(): Boolean {
        if (hidden) return false
        hidden = true
        return true
    }
}
