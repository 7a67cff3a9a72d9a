package com.sockstatlog

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URI
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/** The original lines of the logtail entries read back from the log server, in order. */
fun serverLines(readBack: String): List<String> {
    val starts = Regex("\\{\"logtail\":\\{\"client_time\":\"[0-9TZ:.+-]*\"\\},").findAll(readBack).toList()
    return starts.mapIndexed { i, m ->
        val end = if (i + 1 < starts.size) starts[i + 1].range.first - 1 else readBack.length - 1
        "{" + readBack.substring(m.range.last + 1, end)
    }
}

/** A buffered line as the server stores it (less the logtail member): JSON objects as they are, other lines wrapped. */
fun asStored(line: String): String =
    if (line.startsWith("{")) line else "{\"text\":\"" + line.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}"

/**
 * An HTTP client for tests: counts calls, and either sends through
 * [UrlConnectionHttpClient] or fails as [failure] says.
 */
class TestHttpClient : SafeHttpClient() {
    private val real = UrlConnectionHttpClient()
    val calls = AtomicInteger()
    val sent = AtomicInteger()

    /** Thrown by the next calls, or null to send. Its message may hold the URL. */
    @Volatile var failure: ((url: String) -> Throwable)? = null

    override fun send(request: HttpPostRequest): HttpPostResponse {
        calls.incrementAndGet()
        failure?.let { throw it(request.url) }
        return real.post(request).also { sent.incrementAndGet() }
    }
}

/**
 * Flush to the project's local log server (tools/logserver), started here.
 * scripts/kotlin-tests builds it and passes its path as -Dsockstatlog.logserver.
 */
class LogServerTest {
    @TempDir lateinit var dir: Path

    private fun <T> withServer(block: (url: String) -> T): T {
        val exe = System.getProperty("sockstatlog.logserver")
        assumeTrue(exe != null && java.io.File(exe).canExecute(), "no -Dsockstatlog.logserver")
        val port = ServerSocket(0).use { it.localPort }
        val process = ProcessBuilder(exe, "--listen", "127.0.0.1:$port", "--memory", "--quiet")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start()
        try {
            val line = process.inputStream.bufferedReader().readLine()
            assertTrue(line != null && line.startsWith("listening on"), "log server said: $line")
            return block("http://127.0.0.1:$port")
        } finally {
            process.destroy()
            process.waitFor(5, TimeUnit.SECONDS)
        }
    }

    private fun get(url: String): String {
        val conn = URI(url).toURL().openConnection() as HttpURLConnection
        return conn.inputStream.bufferedReader().use { it.readText() }
    }

    @Test
    fun flushUploadsToTheLocalLogServer() = withServer { url ->
        val source = SettableSource()
        source.set(false, Triple(1, 0L, 0L))
        val options = fastOptions().copy(serverUrl = url, collection = "kotlin.test")
        Logger(dir.resolve("log").toString(), NODE_ID, source, options).use { logger ->
            logger.write("{\"text\":\"from kotlin\"}")
            logger.setLoggingEnabled(true)
            waitUntil(what = "baseline") { logger.stats().polls >= 2uL }
            source.set(true, Triple(1, 100L, 200L))
            waitUntil(what = "event") { logger.stats().events >= 1uL }

            val report = logger.flush(10_000u)
            assertTrue(report.complete, report.toString())
            assertEquals(2uL, report.linesSent, report.toString())
            assertEquals(0uL, report.linesStillBuffered)
            assertEquals(null, report.lastError)
            val stored = get("$url/c/kotlin.test/${logger.logId()}")
            assertTrue(stored.contains("from kotlin"), stored)
            assertTrue(stored.contains("\"1\":[100,200]"), stored)
            assertEquals(emptyList<String>(), logger.bufferedLines(1_000_000u))
        }
    }

    /** Polls to one event, writes a line and stops logging, so nothing new arrives. */
    private fun eventThenQuiet(logger: Logger, source: SettableSource) {
        logger.write("{\"text\":\"from kotlin\"}")
        logger.write("not json: a \"quoted\" \\ line")
        logger.setLoggingEnabled(true)
        waitUntil(what = "baseline") { logger.stats().polls >= 2uL }
        source.set(true, Triple(1, 100L, 200L), Triple(7, 5L, 0L))
        waitUntil(what = "event") { logger.stats().events >= 1uL }
        logger.setLoggingEnabled(false)
        // The worker closed the interval, stored the queue and waits with no timer.
        waitUntil(what = "the worker parked") { logger.isWorkerParked() }
    }

    /**
     * A flush through Kotlin's UrlConnectionHttpClient instead of reqwest:
     * the server holds every line exactly, in order, and the client was called.
     */
    @Test
    fun flushThroughTheKotlinHttpClient() = withServer { url ->
        val source = SettableSource()
        source.set(false, Triple(1, 0L, 0L))
        val client = TestHttpClient()
        val options = fastOptions().copy(serverUrl = url, collection = "kotlin.client", httpClient = client)
        Logger(dir.resolve("log").toString(), NODE_ID, source, options).use { logger ->
            eventThenQuiet(logger, source)
            // First offline: the flush stores the queue and keeps every line.
            client.failure = { java.net.ConnectException("Connection refused") }
            val offline = logger.flush(2_000u)
            assertFalse(offline.complete, offline.toString())
            val expected = logger.bufferedLines(1_000_000u)
            assertEquals(expected.size.toULong(), offline.linesStillBuffered)
            assertEquals(3, expected.size, expected.toString())
            assertTrue(client.calls.get() >= 1)
            assertEquals(0, client.sent.get())

            client.failure = null
            val calls = client.calls.get()
            val report = logger.flush(10_000u)
            assertTrue(report.complete, report.toString())
            assertEquals(expected.size.toULong(), report.linesSent, report.toString())
            assertEquals(0uL, report.linesStillBuffered)
            assertEquals(report.requests.toInt(), client.calls.get() - calls)
            assertTrue(client.sent.get() >= 1)
            assertEquals(emptyList<String>(), logger.bufferedLines(1_000_000u))

            val stored = serverLines(get("$url/c/kotlin.client/${logger.logId()}"))
            assertEquals(expected.map(::asStored), stored)
            assertTrue(stored.any { it.contains("\"1\":[100,200]") }, stored.toString())
        }
    }

    private fun failingClientKeepsTheBatch(failure: (url: String) -> Throwable) = withServer { url ->
        val source = SettableSource()
        source.set(false, Triple(1, 0L, 0L))
        val client = TestHttpClient()
        client.failure = failure
        val options = fastOptions().copy(serverUrl = url, httpClient = client)
        Logger(dir.resolve("log").toString(), NODE_ID, source, options).use { logger ->
            eventThenQuiet(logger, source)
            val report = logger.flush(5_000u)
            assertFalse(report.complete, report.toString())
            assertEquals(0uL, report.linesSent)
            assertEquals(3uL, report.linesStillBuffered, report.toString())
            assertEquals(1, client.calls.get(), "an unusable client stops the flush at once")
            val error = report.lastError!!
            assertTrue(error.contains("boom in the client"), error)
            assertFalse(error.contains("/c/"), "the upload URL leaked: $error")
            val kept = logger.bufferedLines(1_000_000u)
            assertEquals(3, kept.size)

            client.failure = null
            val later = logger.flush(10_000u)
            assertTrue(later.complete, later.toString())
            assertEquals(3uL, later.linesSent)
            val stored = serverLines(get("$url/c/sockstats.log.tailscale.io/${logger.logId()}"))
            assertEquals(3, stored.size, stored.toString())
            assertEquals(kept.map(::asStored), stored)
        }
    }

    @Test
    fun clientThrowingAnExceptionKeepsTheBatch() =
        failingClientKeepsTheBatch { url -> IllegalStateException("boom in the client for $url") }

    @Test
    fun clientThrowingAnErrorKeepsTheBatch() =
        failingClientKeepsTheBatch { url -> AssertionError("boom in the client for $url") }

    /** Without SafeHttpClient: the bindings report an undeclared exception as unexpected. */
    @Test
    fun rawClientThrowingAnExceptionKeepsTheBatch() {
        val calls = AtomicInteger()
        val client = object : HttpClient {
            override fun post(request: HttpPostRequest): HttpPostResponse {
                calls.incrementAndGet()
                throw RuntimeException("raw")
            }
        }
        val options = fastOptions().copy(serverUrl = "http://127.0.0.1:9", httpClient = client)
        Logger(dir.resolve("log").toString(), NODE_ID, SettableSource(), options).use { logger ->
            logger.write("kept")
            val report = logger.flush(5_000u)
            assertFalse(report.complete, report.toString())
            assertEquals(1uL, report.linesStillBuffered)
            assertEquals(1, calls.get())
            assertTrue(report.lastError!!.contains("unexpected error in the HTTP client"), report.lastError)
        }
    }

    /**
     * Without SafeHttpClient, a thrown Error: JNA hands it to its callback
     * exception handler and returns zeros to Rust; the flush still ends with
     * the batch kept.
     */
    @Test
    fun rawClientThrowingAnErrorKeepsTheBatch() {
        val previous = com.sun.jna.Native.getCallbackExceptionHandler()
        val seen = AtomicInteger()
        com.sun.jna.Native.setCallbackExceptionHandler { _, _ -> seen.incrementAndGet() }
        try {
            val client = object : HttpClient {
                override fun post(request: HttpPostRequest): HttpPostResponse = throw AssertionError("raw error")
            }
            val options = fastOptions().copy(serverUrl = "http://127.0.0.1:9", httpClient = client)
            Logger(dir.resolve("log").toString(), NODE_ID, SettableSource(), options).use { logger ->
                logger.write("kept")
                val report = logger.flush(3_000u)
                assertFalse(report.complete, report.toString())
                assertEquals(1uL, report.linesStillBuffered)
                assertEquals(listOf("kept"), logger.bufferedLines(1000u))
            }
        } finally {
            com.sun.jna.Native.setCallbackExceptionHandler(previous)
        }
        assertTrue(seen.get() >= 1)
    }

    @Test
    fun httpClientNeedsServerUrl() {
        val e = assertThrows<SockstatException.InvalidOption> {
            Logger(dir.resolve("log").toString(), NODE_ID, SettableSource(), LoggerOptions(httpClient = UrlConnectionHttpClient()))
        }
        assertTrue(e.message!!.contains("http_client: it needs server_url"), e.message)
    }

    @Test
    fun badServerUrlReadsWell() {
        val e = assertThrows<SockstatException.InvalidOption> {
            Logger(dir.resolve("log").toString(), NODE_ID, SettableSource(), LoggerOptions(serverUrl = "http://example.com"))
        }
        assertTrue(e.message!!.contains("not a loopback address"), e.message)
        assertThrows<SockstatException.InvalidOption> {
            Logger(dir.resolve("log").toString(), NODE_ID, SettableSource(), LoggerOptions(collection = "x"))
        }
    }
}
