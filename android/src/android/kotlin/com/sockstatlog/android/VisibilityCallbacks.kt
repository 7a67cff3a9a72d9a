// Android adapter: activity lifecycle and trim-memory -> AppVisibility.
package com.sockstatlog.android

import android.app.Activity
import android.app.Application
import android.content.ComponentCallbacks2
import android.content.res.Configuration
import android.os.Bundle
import com.sockstatlog.AppVisibility

/**
 * Feeds [visibility] from this process's activities (started/stopped) and
 * `onTrimMemory(TRIM_MEMORY_UI_HIDDEN)`. Framework APIs only (no AndroidX).
 */
class VisibilityCallbacks(
    private val app: Application,
    private val visibility: AppVisibility,
) : Application.ActivityLifecycleCallbacks, ComponentCallbacks2, AutoCloseable {
    /** Registers both callbacks on [app]. */
    fun register(): VisibilityCallbacks = apply {
        app.registerActivityLifecycleCallbacks(this)
        app.registerComponentCallbacks(this)
    }

    /** Unregisters both. */
    override fun close() {
        app.unregisterActivityLifecycleCallbacks(this)
        app.unregisterComponentCallbacks(this)
    }

    override fun onActivityStarted(activity: Activity) = visibility.activityStarted()

    override fun onActivityStopped(activity: Activity) = visibility.activityStopped()

    override fun onTrimMemory(level: Int) {
        if (level >= ComponentCallbacks2.TRIM_MEMORY_UI_HIDDEN) visibility.uiHidden()
    }

    override fun onActivityCreated(activity: Activity, savedInstanceState: Bundle?) {}

    override fun onActivityResumed(activity: Activity) {}

    override fun onActivityPaused(activity: Activity) {}

    override fun onActivitySaveInstanceState(activity: Activity, outState: Bundle) {}

    override fun onActivityDestroyed(activity: Activity) {}

    override fun onConfigurationChanged(newConfig: Configuration) {}

    @Deprecated("Deprecated in Android")
    override fun onLowMemory() {}
}
