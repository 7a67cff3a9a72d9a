// Hand-written glue (not generated): pure Kotlin, also compiled by the JVM
// tests in tests/kotlin.
package com.sockstatlog

import java.io.IOException
import java.io.InputStream
import java.net.ConnectException
import java.net.HttpURLConnection
import java.net.NoRouteToHostException
import java.net.SocketTimeoutException
import java.net.URI
import java.net.UnknownHostException
import javax.net.ssl.SSLException

/**
 * The base class for HTTP clients written in Kotlin (set one as
 * `LoggerOptions.httpClient`).
 *
 * Like [SafeCounterSource], it catches every [Throwable] thrown by [send],
 * `java.lang.Error` included, and reports it as an [HttpClientException], so
 * a failing client makes a flush keep its batch instead of crashing:
 * - an [HttpClientException] is passed on as is;
 * - [SocketTimeoutException]: [HttpClientException.Timeout] (retried);
 * - [UnknownHostException], [ConnectException], [NoRouteToHostException],
 *   [SSLException]: [HttpClientException.Connect] (retried);
 * - any other [IOException]: [HttpClientException.Request] (retried);
 * - anything else (a bug, an [Error]): [HttpClientException.Unusable] (the
 *   flush stops, keeping the batch for the next one).
 *
 * Messages name the exception's class and message; [send] must not put the
 * request's URL in them (it holds the private log ID). The library strips
 * the URL from messages anyway.
 *
 * [send] runs on the thread calling `flush` (or closing the logger).
 */
abstract class SafeHttpClient : HttpClient {
    /** POSTs [request]; returns the answer whatever its status. May throw anything. */
    protected abstract fun send(request: HttpPostRequest): HttpPostResponse

    final override fun post(request: HttpPostRequest): HttpPostResponse =
        try {
            send(request)
        } catch (e: HttpClientException) {
            throw e
        } catch (e: SocketTimeoutException) {
            throw HttpClientException.Timeout(describe(e, request))
        } catch (e: UnknownHostException) {
            throw HttpClientException.Connect(describe(e, request))
        } catch (e: ConnectException) {
            throw HttpClientException.Connect(describe(e, request))
        } catch (e: NoRouteToHostException) {
            throw HttpClientException.Connect(describe(e, request))
        } catch (e: SSLException) {
            throw HttpClientException.Connect(describe(e, request))
        } catch (e: IOException) {
            throw HttpClientException.Request(describe(e, request))
        } catch (t: Throwable) {
            if (t is InterruptedException) Thread.currentThread().interrupt()
            throw HttpClientException.Unusable(describe(t, request))
        }

    private fun describe(t: Throwable, request: HttpPostRequest): String =
        try {
            "${t.javaClass.name}: ${t.message ?: "(no message)"}".replace(request.url, "<upload URL>")
        } catch (_: Throwable) {
            "a throwable whose description failed"
        }
}

/**
 * An [HttpClient] on [java.net.HttpURLConnection]: Android and the desktop
 * JVM, no dependencies. Redirects are not followed (a 3xx is returned as
 * the answer); `timeoutMs` bounds the connect and each read (the class has
 * no whole-exchange timeout); error bodies (4xx/5xx) are read like others,
 * up to [maxBodyBytes]; the connection is closed after each request, so
 * nothing stays open between flushes.
 */
open class UrlConnectionHttpClient(
    /** How much of a response body to keep (the library only shows its start). */
    private val maxBodyBytes: Int = 64 * 1024,
) : SafeHttpClient() {
    override fun send(request: HttpPostRequest): HttpPostResponse {
        val timeout = request.timeoutMs.coerceIn(1uL, Int.MAX_VALUE.toULong()).toInt()
        val conn = URI(request.url).toURL().openConnection() as HttpURLConnection
        try {
            conn.instanceFollowRedirects = false
            conn.useCaches = false
            conn.connectTimeout = timeout
            conn.readTimeout = timeout
            conn.requestMethod = "POST"
            conn.doOutput = true
            for (h in request.headers) conn.addRequestProperty(h.name, h.value)
            conn.setFixedLengthStreamingMode(request.body.size)
            conn.outputStream.use { it.write(request.body) }
            val status = conn.responseCode
            if (status < 0) throw IOException("not a valid HTTP response")
            val stream: InputStream? = if (status >= 400) conn.errorStream else conn.inputStream
            val body = stream?.use { readAtMost(it, maxBodyBytes) } ?: ByteArray(0)
            val headers = conn.headerFields.flatMap { (name, values) ->
                if (name == null) emptyList() else values.map { HttpHeader(name, it) }
            }
            return HttpPostResponse(status.toUShort(), headers, body)
        } finally {
            conn.disconnect()
        }
    }

    private fun readAtMost(input: InputStream, max: Int): ByteArray {
        val out = java.io.ByteArrayOutputStream()
        val buf = ByteArray(8192)
        while (out.size() < max) {
            val n = input.read(buf, 0, minOf(buf.size, max - out.size()))
            if (n < 0) break
            out.write(buf, 0, n)
        }
        return out.toByteArray()
    }
}
