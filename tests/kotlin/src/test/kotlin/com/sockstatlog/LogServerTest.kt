package com.sockstatlog

import org.junit.jupiter.api.Assertions.assertEquals
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
