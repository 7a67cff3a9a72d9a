// Android entry point for the library's own HTTPS transport (not generated).
package com.sockstatlog

import android.content.Context

/**
 * One-time setup of the library's own HTTPS transport on Android.
 *
 * Only needed by builds with the reqwest transport (the Cargo feature
 * `reqwest-transport`) that upload through it, i.e. that set no
 * `httpClient`: that transport checks certificates with the platform
 * verifier, which needs the app's [Context] first. Until this is called such
 * a logger refuses to start (a [SockstatException] naming this call); it
 * never crashes. The glue's default ([SockstatConfig] with a server URL and
 * no `httpClient`) uploads through [UrlConnectionHttpClient], the platform's
 * own TLS stack and trust store, and needs no setup.
 *
 * Loads the native library (`System.loadLibrary("sockstatlog")`) first.
 */
object SockstatLog {
    init {
        System.loadLibrary("sockstatlog")
    }

    /**
     * Gives the platform certificate verifier the app's [context].
     * Idempotent. Call it once, before the first flush, e.g. in
     * `Application.onCreate`. The app must also ship
     * rustls-platform-verifier's Android component.
     *
     * @throws RuntimeException if [context] cannot be used.
     * @throws UnsatisfiedLinkError in a build without the reqwest transport
     *   (nothing to set up there).
     */
    @JvmStatic
    external fun initTls(context: Context)
}
