// Hand-written glue (not generated): pure Kotlin.
package com.sockstatlog

/**
 * A [Flusher] over the flush-only handle [LogUploader]: for an app process
 * that does not run the VPN (the UI process, when the `VpnService` runs in
 * a separate `:vpn` process). It uploads what the VPN's logger buffered in
 * the same log directory, and never polls or writes a line.
 *
 * Uploads from both processes take the directory's upload claim: while the
 * VPN's logger (or another uploader) is uploading, [flush] returns at once
 * with [FlushReport.otherUploaderActive] set and uploads nothing, so no line
 * is sent twice. Close it when done (releases the handle).
 */
class LogUploaderFlusher(
    /** The flush-only handle (a `LogUploader` on a device). */
    val uploader: LogUploaderInterface,
) : Flusher, AutoCloseable {
    /** Uploads what the directory holds, within [deadlineMs]. Blocks: not on the main thread. */
    override fun flush(deadlineMs: Long): FlushReport = uploader.flush(deadlineMs.toULong())

    /** Releases the handle; a flush running now finishes first. Idempotent. */
    override fun close() {
        (uploader as? AutoCloseable)?.close()
    }

    /** Factories. */
    companion object {
        /**
         * Opens a flush-only handle on [logDir] (the VPN's log directory)
         * with the server, collection, HTTP client and buffer cap of
         * [config], as the VPN's logger has them: an app that sets only
         * [SockstatConfig.serverUrl] uploads through [UrlConnectionHttpClient].
         *
         * @throws IllegalArgumentException if [config] has no server URL.
         * @throws SockstatException if the handle cannot open (bad log ID,
         *   unusable directory, bad server URL).
         */
        @JvmStatic
        fun open(logDir: String, publicLogId: String, config: SockstatConfig): LogUploaderFlusher {
            val options = config.toLoggerOptions()
            val serverUrl = requireNotNull(options.serverUrl) {
                "a LogUploaderFlusher needs SockstatConfig.serverUrl: it only uploads"
            }
            val handle = LogUploader(
                logDir,
                publicLogId,
                LogUploaderOptions(
                    serverUrl = serverUrl,
                    collection = options.collection,
                    httpClient = options.httpClient,
                    bufferCapBytes = options.bufferCapBytes,
                ),
            )
            return LogUploaderFlusher(handle)
        }
    }
}
