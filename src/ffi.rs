//! The Kotlin and Swift surface (UniFFI, proc-macros, library mode).
//!
//! The only module that knows UniFFI types. It converts between the FFI
//! types and the core's types and holds no logic of its own: every rule
//! (deltas, resets, failed or slow sources, panics, shutdown) is the core's.
//!
//! Regenerate the bindings after any change here: `scripts/regen-bindings`.

use crate::buffer::BufferStats as CoreBufferStats;
use crate::label::Label;
use crate::logger::{Logger as CoreLogger, LoggerStats as CoreLoggerStats, Options};
use crate::logid::{PrivateId, PublicId};
use crate::snapshot::{Counters, Snapshot};
use crate::source::{CounterSource as CoreCounterSource, SourceError};
use crate::upload::FlushReport as CoreFlushReport;
use crate::upload::{
    HttpRequest, HttpResponse, HttpTransport, LogtailUploader, TransportError, UploaderConfig,
};
use crate::Error;
use crate::Uploader;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

/// How long closing a `Logger` (Kotlin `close()`, Swift deinit) waits for
/// the worker to store what is queued. Short: close runs on an app thread.
const CLOSE_SHUTDOWN_DEADLINE: Duration = Duration::from_millis(500);

/// An error from the sockstatlog API. The message says what went wrong and
/// what to do; it never contains a private log ID.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum SockstatError {
    /// The logger was shut down (or closed); create a new one to log again.
    #[error("{0}")]
    ShutDown(String),
    /// A log ID is not 64 hex characters.
    #[error("{0}")]
    InvalidLogId(String),
    /// An option is out of range.
    #[error("{0}")]
    InvalidOption(String),
    /// The log directory cannot be created or used.
    #[error("{0}")]
    LogDirectory(String),
    /// A line given to `write` was rejected.
    #[error("{0}")]
    InvalidLine(String),
    /// The log buffer failed.
    #[error("{0}")]
    Buffer(String),
    /// The operation did not finish by its deadline; what was done is kept.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// The logger's worker thread could not be started.
    #[error("{0}")]
    WorkerThread(String),
}

impl From<Error> for SockstatError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::ShutDown => SockstatError::ShutDown(message),
            Error::InvalidLogId(_) => SockstatError::InvalidLogId(message),
            Error::InvalidOption { .. } => SockstatError::InvalidOption(message),
            Error::LogDirectory { .. } => SockstatError::LogDirectory(message),
            Error::InvalidLine(_) => SockstatError::InvalidLine(message),
            Error::Buffer(_) => SockstatError::Buffer(message),
            Error::DeadlineExceeded { .. } | Error::FlushInProgress { .. } => {
                SockstatError::DeadlineExceeded(message)
            }
            Error::WorkerThread { .. } => SockstatError::WorkerThread(message),
            Error::UploadLock { .. } => SockstatError::LogDirectory(message),
        }
    }
}

impl From<crate::logid::LogIdError> for SockstatError {
    fn from(e: crate::logid::LogIdError) -> Self {
        Error::from(e).into()
    }
}

impl From<crate::buffer::BufferError> for SockstatError {
    fn from(e: crate::buffer::BufferError) -> Self {
        Error::from(e).into()
    }
}

/// Why a counter source gave no snapshot. Thrown by foreign implementations
/// of [`CounterSource`]; the poll is skipped and counted in
/// `LoggerStats.source_errors`.
///
/// (A separate type from [`SockstatError`] because UniFFI cannot carry a
/// flat error's message from Kotlin/Swift into Rust.)
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CounterSourceError {
    /// The platform could not read its counters.
    #[error("{reason}")]
    Failed {
        /// What went wrong.
        reason: String,
    },
    /// The foreign implementation threw something not declared (any other
    /// exception or error) or the call could not be made.
    #[error("unexpected error in the counter source: {reason}")]
    Unexpected {
        /// What the binding reported.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CounterSourceError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        CounterSourceError::Unexpected { reason: e.reason }
    }
}

/// One label's cumulative byte counters.
///
/// `tx` and `rx` are signed because Android's `TrafficStats` reports -1 for
/// "unsupported": an entry with a negative counter is left out of the
/// snapshot, as if the label were not reported (its earlier counters stay in
/// the baseline, so no bytes are invented when it comes back).
#[derive(Clone, Debug, uniffi::Record)]
pub struct LabelCounters {
    /// The label (0-255).
    pub label: u8,
    /// Bytes transmitted since the counter started; negative: unsupported.
    pub tx: i64,
    /// Bytes received since the counter started; negative: unsupported.
    pub rx: i64,
}

/// Every label's cumulative counters at one instant, and whether the
/// interface carrying traffic is a cellular one.
#[derive(Clone, Debug, uniffi::Record)]
pub struct CounterSnapshot {
    /// Whether the interface carrying traffic is a cellular one.
    pub cellular: bool,
    /// One entry per label; report each label at most once.
    pub counters: Vec<LabelCounters>,
}

/// The platform's per-label byte counters, implemented in Kotlin or Swift.
///
/// Called once per poll (every 100 ms by default) from the library's worker
/// thread, never from the caller's thread. It may throw, block or report
/// counters that went backwards: the poll is skipped (or the reset counted)
/// and the next one covers the interval. In Kotlin, extend
/// `SafeCounterSource` (android glue), which also turns a thrown
/// `java.lang.Error` into a failed poll.
#[uniffi::export(with_foreign)]
pub trait CounterSource: Send + Sync {
    /// The cumulative counters now.
    fn snapshot(&self) -> Result<CounterSnapshot, CounterSourceError>;
}

/// Adapts a foreign source to the core's trait.
pub(crate) struct ForeignSource(pub(crate) Arc<dyn CounterSource>);

impl CoreCounterSource for ForeignSource {
    fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let snapshot = self.0.snapshot().map_err(|e| SourceError(e.to_string()))?;
        let entries = snapshot.counters.into_iter().filter_map(|c| {
            let (tx, rx) = (u64::try_from(c.tx).ok()?, u64::try_from(c.rx).ok()?);
            Some((Label(c.label), Counters { tx, rx }))
        });
        Snapshot::new(snapshot.cellular, entries).map_err(|e| SourceError(e.to_string()))
    }
}

/// One HTTP header: a name and its value.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// The header's name, e.g. `Content-Type`.
    pub name: String,
    /// Its value.
    pub value: String,
}

fn headers_to_ffi(headers: &[(String, String)]) -> Vec<HttpHeader> {
    headers
        .iter()
        .map(|(name, value)| HttpHeader {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

/// An upload request for an [`HttpClient`]: always a `POST`.
#[derive(Clone, uniffi::Record)]
pub struct HttpPostRequest {
    /// The full URL. It contains the private log ID: never log it or put it
    /// in an error message.
    pub url: String,
    /// Headers to send, in order (`Content-Type`, `User-Agent`, and for a
    /// compressed body `Content-Encoding` and `Orig-Content-Length`).
    pub headers: Vec<HttpHeader>,
    /// The body, exactly as it goes on the wire.
    pub body: Vec<u8>,
    /// Give up after this many ms (connect and the whole exchange).
    pub timeout_ms: u64,
}

impl fmt::Debug for HttpPostRequest {
    /// Leaves the URL out: it holds the private log ID.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpPostRequest")
            .field("url", &"<redacted>")
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// The server's answer to an [`HttpPostRequest`], whatever its status.
#[derive(Clone, Debug, uniffi::Record)]
pub struct HttpPostResponse {
    /// The status code, e.g. 200.
    pub status: u16,
    /// Response headers (at least `Retry-After` when the server sent it).
    pub headers: Vec<HttpHeader>,
    /// The body, or its start (only shown in diagnostics).
    pub body: Vec<u8>,
}

/// Why an [`HttpClient`] got no HTTP answer. Messages must not contain the
/// request's URL (it holds the private log ID).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum HttpClientError {
    /// No answer within `timeout_ms`. Retried while the flush's deadline allows.
    #[error("no answer within the timeout: {reason}")]
    Timeout {
        /// What went wrong.
        reason: String,
    },
    /// The connection could not be made (DNS, TCP, TLS). Retried.
    #[error("{reason}")]
    Connect {
        /// What went wrong.
        reason: String,
    },
    /// The connection failed while sending or receiving. Retried.
    #[error("{reason}")]
    Request {
        /// What went wrong.
        reason: String,
    },
    /// The client cannot send at all: the flush stops, keeping the batch.
    #[error("{reason}")]
    Unusable {
        /// What went wrong.
        reason: String,
    },
    /// The foreign implementation threw something not declared (any other
    /// exception or error) or the call could not be made. Handled like
    /// `Unusable`.
    #[error("unexpected error in the HTTP client: {reason}")]
    Unexpected {
        /// What the binding reported.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HttpClientError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        HttpClientError::Unexpected { reason: e.reason }
    }
}

/// The HTTP stack `flush` uploads through, implemented in Kotlin or Swift
/// (set as `LoggerOptions.http_client`); without one, the library's own
/// (reqwest) is used, if the build has it.
///
/// Called on the thread running `flush` (and closing the logger), one
/// request at a time. Return the server's answer whatever its status; throw
/// [`HttpClientError`] when there is none. Must not follow redirects (a
/// redirect would take the private log ID elsewhere) and must honour
/// `timeout_ms`. In Kotlin, extend `SafeHttpClient` or use
/// `UrlConnectionHttpClient` (android glue).
#[uniffi::export(with_foreign)]
pub trait HttpClient: Send + Sync {
    /// POSTs `request` and returns the answer.
    fn post(&self, request: HttpPostRequest) -> Result<HttpPostResponse, HttpClientError>;
}

/// Adapts a foreign HTTP client to the core's transport.
struct ForeignTransport(Arc<dyn HttpClient>);

impl HttpTransport for ForeignTransport {
    fn post(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let ffi_request = HttpPostRequest {
            url: request.url.clone(),
            headers: headers_to_ffi(&request.headers),
            body: request.body.clone(),
            timeout_ms: u64::try_from(timeout.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
        };
        // A panic while calling out (the binding failing to lift a value)
        // must not unwind into the flush.
        let result =
            catch_unwind(AssertUnwindSafe(|| self.0.post(ffi_request))).unwrap_or_else(|_| {
                Err(HttpClientError::Unexpected {
                    reason: "the call to the HTTP client panicked".into(),
                })
            });
        // Messages come from the foreign client: strip the URL should it
        // have put it in (the uploader also strips the private ID).
        let clean = |reason: String| reason.replace(&request.url, "<upload URL>");
        match result {
            Ok(response) => Ok(HttpResponse {
                status: response.status,
                headers: response
                    .headers
                    .into_iter()
                    .map(|h| (h.name, h.value))
                    .collect(),
                body: response.body,
            }),
            Err(HttpClientError::Timeout { .. }) => Err(TransportError::Timeout(timeout)),
            Err(HttpClientError::Connect { reason }) => Err(TransportError::Connect(clean(reason))),
            Err(HttpClientError::Request { reason }) => Err(TransportError::Request(clean(reason))),
            Err(e @ (HttpClientError::Unusable { .. } | HttpClientError::Unexpected { .. })) => {
                Err(TransportError::Unusable(clean(e.to_string())))
            }
        }
    }
}

/// Settings for a [`Logger`]. The defaults are the library's defaults.
#[derive(Clone, uniffi::Record)]
pub struct LoggerOptions {
    /// How often to poll the counter source, in ms (at least 10).
    #[uniffi(default = 100)]
    pub poll_period_ms: u64,
    /// How often queued events are handed to the log buffer, in ms (at
    /// least one poll period).
    #[uniffi(default = 10000)]
    pub batch_period_ms: u64,
    /// A source call slower than this is skipped and counted, in ms.
    /// `null`/`nil`: 1 s, or the poll period if that is longer.
    #[uniffi(default = None)]
    pub source_timeout_ms: Option<u64>,
    /// Lines the memory queue holds at most; the oldest are dropped beyond.
    #[uniffi(default = 1000)]
    pub max_queued_lines: u64,
    /// Bytes the memory queue holds at most (at least 64 KiB).
    #[uniffi(default = 524288)]
    pub max_queued_bytes: u64,
    /// Size cap of the log buffer (the durable files in `log_dir`), in
    /// bytes; past it the oldest lines are evicted, leaving a marker.
    /// `null`/`nil`: 5 MiB. It never changes where lines are kept.
    #[uniffi(default = None)]
    pub buffer_cap_bytes: Option<u64>,
    /// The log server `flush` uploads to: `https://...` (Tailscale's is
    /// `https://log.tailscale.com`), or `http://` to a loopback address for
    /// tests. `null`/`nil`: no uploads; `flush` only stores queued lines.
    #[uniffi(default = None)]
    pub server_url: Option<String>,
    /// The log collection. `null`/`nil`: `sockstats.log.tailscale.io`.
    /// Needs `server_url`.
    #[uniffi(default = None)]
    pub collection: Option<String>,
    /// The HTTP stack uploads go through (e.g. Kotlin's
    /// `UrlConnectionHttpClient`). `null`/`nil`: the library's own, in builds
    /// that have it (feature `reqwest-transport`); builds without it need
    /// one for `server_url`. Needs `server_url`.
    #[uniffi(default = None)]
    pub http_client: Option<Arc<dyn HttpClient>>,
}

impl fmt::Debug for LoggerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggerOptions")
            .field("poll_period_ms", &self.poll_period_ms)
            .field("batch_period_ms", &self.batch_period_ms)
            .field("source_timeout_ms", &self.source_timeout_ms)
            .field("max_queued_lines", &self.max_queued_lines)
            .field("max_queued_bytes", &self.max_queued_bytes)
            .field("buffer_cap_bytes", &self.buffer_cap_bytes)
            .field("server_url", &self.server_url)
            .field("collection", &self.collection)
            .field(
                "http_client",
                &self.http_client.as_ref().map(|_| "<foreign>"),
            )
            .finish()
    }
}

/// The library's default options.
#[uniffi::export]
pub fn default_logger_options() -> LoggerOptions {
    let o = Options::default();
    LoggerOptions {
        poll_period_ms: o.poll_period.as_millis() as u64,
        batch_period_ms: o.batch_period.as_millis() as u64,
        source_timeout_ms: o.source_timeout.map(|t| t.as_millis() as u64),
        max_queued_lines: o.max_queued_lines as u64,
        max_queued_bytes: o.max_queued_bytes as u64,
        buffer_cap_bytes: None,
        server_url: None,
        collection: None,
        http_client: None,
    }
}

fn saturating_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The logtail uploader for `server_url` and `collection`, if a server is
/// set, sending through `http_client` or else the default transport.
fn uploader(
    server_url: Option<String>,
    collection: Option<String>,
    http_client: Option<Arc<dyn HttpClient>>,
    public_id: PublicId,
) -> Result<Option<Arc<dyn Uploader>>, SockstatError> {
    let Some(base_url) = server_url else {
        return match (collection, http_client) {
            (None, None) => Ok(None),
            (Some(_), _) => Err(SockstatError::InvalidOption(
                "invalid option collection: it needs server_url; set both or neither".into(),
            )),
            (None, Some(_)) => Err(SockstatError::InvalidOption(
                "invalid option http_client: it needs server_url; set both or neither".into(),
            )),
        };
    };
    let private_id = public_id.sockstat_private_id();
    let mut config = match http_client {
        Some(client) => UploaderConfig::new(private_id, Arc::new(ForeignTransport(client))),
        None => default_transport_config(private_id)?,
    };
    config.base_url = base_url;
    if let Some(collection) = collection {
        config.collection = collection;
    }
    let uploader = LogtailUploader::new(config).map_err(|e| {
        SockstatError::InvalidOption(format!("invalid option server_url/collection: {e}"))
    })?;
    Ok(Some(Arc::new(uploader)))
}

#[cfg(feature = "reqwest-transport")]
fn default_transport_config(private_id: PrivateId) -> Result<UploaderConfig, SockstatError> {
    // On Android the platform verifier needs SockstatLog.initTls first: say
    // so now rather than fail every flush (or panic in the handshake).
    crate::upload::platform_tls::ready().map_err(|_| {
        SockstatError::InvalidOption(format!(
            "invalid option server_url without http_client: {}",
            crate::upload::platform_tls::NOT_INITIALISED
        ))
    })?;
    Ok(UploaderConfig::with_default_transport(private_id))
}

#[cfg(not(feature = "reqwest-transport"))]
fn default_transport_config(private_id: PrivateId) -> Result<UploaderConfig, SockstatError> {
    let _ = private_id;
    Err(SockstatError::InvalidOption(
        "invalid option server_url: this build has no HTTP transport of its own (feature \
         reqwest-transport); set http_client too"
            .into(),
    ))
}

impl LoggerOptions {
    fn into_core(self, public_id: PublicId) -> Result<Options, SockstatError> {
        Ok(Options {
            uploader: uploader(
                self.server_url,
                self.collection,
                self.http_client,
                public_id,
            )?,
            poll_period: Duration::from_millis(self.poll_period_ms),
            batch_period: Duration::from_millis(self.batch_period_ms),
            source_timeout: self.source_timeout_ms.map(Duration::from_millis),
            max_queued_lines: saturating_usize(self.max_queued_lines),
            max_queued_bytes: saturating_usize(self.max_queued_bytes),
            // Always the durable file buffer in the log directory: this
            // option only sets its size cap.
            buffer: None,
            buffer_cap_bytes: self
                .buffer_cap_bytes
                .unwrap_or(Options::default().buffer_cap_bytes),
            ..Options::default()
        })
    }
}

/// What one flush did.
#[derive(Clone, Debug, uniffi::Record)]
pub struct FlushReport {
    /// Batches the server accepted.
    pub batches_sent: u64,
    /// Lines the server accepted (now removed from the buffer).
    pub lines_sent: u64,
    /// Bytes sent on the wire for the accepted batches (after compression).
    pub bytes_sent: u64,
    /// Batches the server refused for good.
    pub batches_dropped: u64,
    /// Lines in the dropped batches.
    pub lines_dropped: u64,
    /// Lines still in the buffer when the flush returned.
    pub lines_still_buffered: u64,
    /// Whether everything buffered when the flush began was sent or dropped.
    pub complete: bool,
    /// JSON bytes of the accepted batches before compression.
    pub bytes_uncompressed: u64,
    /// HTTP requests made.
    pub requests: u64,
    /// Requests that failed and were retried.
    pub retries: u64,
    /// The last failure seen, if any.
    pub last_error: Option<String>,
    /// Another process, or another logger/LogUploader on the same directory,
    /// was uploading; this flush uploaded nothing and returned at once.
    pub other_uploader_active: bool,
}

impl From<CoreFlushReport> for FlushReport {
    fn from(r: CoreFlushReport) -> Self {
        FlushReport {
            batches_sent: r.batches_sent,
            lines_sent: r.lines_sent,
            bytes_sent: r.bytes_sent,
            batches_dropped: r.batches_dropped,
            lines_dropped: r.lines_dropped,
            lines_still_buffered: r.lines_still_buffered,
            complete: r.complete,
            bytes_uncompressed: r.bytes_uncompressed,
            requests: r.requests,
            retries: r.retries,
            last_error: r.last_error,
            other_uploader_active: r.other_uploader_active,
        }
    }
}

/// The log buffer's counters.
#[derive(Clone, Debug, uniffi::Record)]
pub struct BufferStats {
    /// Lines held now.
    pub lines: u64,
    /// Bytes of line text held now.
    pub bytes: u64,
    /// Lines evicted to stay under the size cap.
    pub evicted_lines: u64,
    /// Bytes of the evicted lines.
    pub evicted_bytes: u64,
    /// Appends that failed.
    pub append_errors: u64,
    /// Damaged lines found in storage and skipped.
    pub corrupt_lines_skipped: u64,
}

impl From<CoreBufferStats> for BufferStats {
    fn from(s: CoreBufferStats) -> Self {
        BufferStats {
            lines: s.lines,
            bytes: s.bytes,
            evicted_lines: s.evicted_lines,
            evicted_bytes: s.evicted_bytes,
            append_errors: s.append_errors,
            corrupt_lines_skipped: s.corrupt_lines_skipped,
        }
    }
}

/// What the logger has done so far, for a debug screen.
#[derive(Clone, Debug, uniffi::Record)]
pub struct LoggerStats {
    /// Whether logging is enabled.
    pub logging_enabled: bool,
    /// Source calls made.
    pub polls: u64,
    /// Events written.
    pub events: u64,
    /// Polls skipped because the source failed, threw or panicked.
    pub source_errors: u64,
    /// Polls skipped because the source was slower than the source timeout.
    pub source_too_slow: u64,
    /// Poll times that passed without a poll.
    pub missed_ticks: u64,
    /// Lines dropped from the full memory queue.
    pub dropped_lines: u64,
    /// Bytes of those lines.
    pub dropped_bytes: u64,
    /// Lines handed to the buffer.
    pub lines_buffered: u64,
    /// Batches the buffer could not store (kept queued and retried).
    pub buffer_errors: u64,
    /// Times the worker thread woke.
    pub worker_wakeups: u64,
    /// The buffer's own counters.
    pub buffer: BufferStats,
}

impl From<CoreLoggerStats> for LoggerStats {
    fn from(s: CoreLoggerStats) -> Self {
        LoggerStats {
            logging_enabled: s.logging_enabled,
            polls: s.polls,
            events: s.events,
            source_errors: s.source_errors,
            source_too_slow: s.source_too_slow,
            missed_ticks: s.missed_ticks,
            dropped_lines: s.dropped_lines,
            dropped_bytes: s.dropped_bytes,
            lines_buffered: s.lines_buffered,
            buffer_errors: s.buffer_errors,
            worker_wakeups: s.worker_wakeups,
            buffer: s.buffer.into(),
        }
    }
}

/// Logs how many bytes each label sends and receives.
///
/// Starts disabled. Every method may be called from any thread and none
/// waits on the counter source except `flush` and `shutdown`, up to their
/// deadline. Closing it (Kotlin `close()`/`use {}`, Swift deinit) shuts it
/// down with a 500 ms deadline; later calls throw.
#[derive(uniffi::Object)]
pub struct Logger {
    inner: CoreLogger,
}

#[uniffi::export]
impl Logger {
    /// Creates a logger keeping its files in `log_dir` (created if missing),
    /// logging under the sockstat ID derived from the node's public log ID
    /// (64 hex characters).
    #[uniffi::constructor]
    pub fn new(
        log_dir: String,
        public_log_id: String,
        source: Arc<dyn CounterSource>,
        options: LoggerOptions,
    ) -> Result<Arc<Self>, SockstatError> {
        let public_id: PublicId = public_log_id.parse()?;
        let source = Arc::new(ForeignSource(source));
        let options = options.into_core(public_id)?;
        let inner = CoreLogger::new(log_dir, public_id, source, options)?;
        Ok(Arc::new(Logger { inner }))
    }

    /// Creates a logger whose counter source was registered natively: the
    /// JNI fast path (Kotlin: use `NativeCounters.newLogger`, which calls
    /// this). The registration is used up whether this succeeds or not.
    #[uniffi::constructor]
    pub fn with_registered_source(
        log_dir: String,
        public_log_id: String,
        source_handle: u64,
        options: LoggerOptions,
    ) -> Result<Arc<Self>, SockstatError> {
        let source = crate::platform::take_registered_source(source_handle).ok_or_else(|| {
            SockstatError::InvalidOption(format!(
                "invalid option source_handle: no counter source is registered as \
                 {source_handle}; create the logger with NativeCounters.newLogger"
            ))
        })?;
        let public_id: PublicId = public_log_id.parse()?;
        let options = options.into_core(public_id)?;
        let inner = CoreLogger::new(log_dir, public_id, source, options)?;
        Ok(Arc::new(Logger { inner }))
    }

    /// Turns polling on or off; returns at once.
    pub fn set_logging_enabled(&self, enabled: bool) -> Result<(), SockstatError> {
        Ok(self.inner.set_logging_enabled(enabled)?)
    }

    /// Whether logging is enabled.
    pub fn is_logging_enabled(&self) -> bool {
        self.inner.is_logging_enabled()
    }

    /// Adds a line of the app's own (one line, at most 64 KiB).
    pub fn write(&self, text: String) -> Result<(), SockstatError> {
        Ok(self.inner.write(&text)?)
    }

    /// The public ID of the log this logger writes to (64 hex characters).
    pub fn log_id(&self) -> String {
        self.inner.log_id().to_string()
    }

    /// Hands queued events to the buffer and uploads, within `deadline_ms`.
    pub fn flush(&self, deadline_ms: u64) -> Result<FlushReport, SockstatError> {
        Ok(self.inner.flush(Duration::from_millis(deadline_ms))?.into())
    }

    /// Stops logging for good, within `deadline_ms`. Idempotent.
    pub fn shutdown(&self, deadline_ms: u64) -> Result<(), SockstatError> {
        Ok(self.inner.shutdown(Duration::from_millis(deadline_ms))?)
    }

    /// The logger's counters.
    pub fn stats(&self) -> LoggerStats {
        self.inner.stats().into()
    }

    /// Whether the worker thread is waiting with no timer at all: it has
    /// handled every enable/disable so far and is disabled. For tests and
    /// diagnostics (a disabled logger costs nothing once this is true).
    pub fn is_worker_parked(&self) -> bool {
        self.inner.is_worker_parked()
    }

    /// The oldest lines waiting in the log buffer, up to `max_bytes` of text
    /// (at least one line if any). Read-only, for debug screens and tests.
    pub fn buffered_lines(&self, max_bytes: u64) -> Result<Vec<String>, SockstatError> {
        let lines = self
            .inner
            .buffer()
            .read(None, saturating_usize(max_bytes))?;
        Ok(lines.into_iter().map(|l| l.text).collect())
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        let _ = self.inner.shutdown(CLOSE_SHUTDOWN_DEADLINE);
    }
}

/// The public log ID (64 hex characters) of a private log ID.
#[uniffi::export]
pub fn public_log_id(private_log_id: String) -> Result<String, SockstatError> {
    let private: PrivateId = private_log_id.parse()?;
    Ok(private.public().to_string())
}

/// The public ID of the sockstat log of a node with this public log ID: the
/// ID `Logger.log_id()` returns.
#[uniffi::export]
pub fn sockstat_log_id(public_log_id: String) -> Result<String, SockstatError> {
    let public: PublicId = public_log_id.parse()?;
    Ok(public.sockstat_private_id().public().to_string())
}

// ---------------------------------------------------------------------------
// LogUploader: the flush-only handle for a second process.
// ---------------------------------------------------------------------------

/// Settings for a [`LogUploader`].
#[derive(Clone, uniffi::Record)]
pub struct LogUploaderOptions {
    /// The log server: `https://...`, or `http://` to a loopback address for
    /// tests.
    pub server_url: String,
    /// The log collection. `null`/`nil`: `sockstats.log.tailscale.io`.
    #[uniffi(default = None)]
    pub collection: Option<String>,
    /// The HTTP stack uploads go through. `null`/`nil`: the library's own,
    /// in builds that have it.
    #[uniffi(default = None)]
    pub http_client: Option<Arc<dyn HttpClient>>,
    /// The buffer's size cap in bytes: use the same value as the logger
    /// writing to the directory. `null`/`nil`: 5 MiB.
    #[uniffi(default = None)]
    pub buffer_cap_bytes: Option<u64>,
}

impl fmt::Debug for LogUploaderOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogUploaderOptions")
            .field("server_url", &self.server_url)
            .field("collection", &self.collection)
            .field(
                "http_client",
                &self.http_client.as_ref().map(|_| "<foreign>"),
            )
            .field("buffer_cap_bytes", &self.buffer_cap_bytes)
            .finish()
    }
}

/// Uploads what a log directory holds, and nothing else: it never polls and
/// never writes. For the process that does not log: an iOS app flushing what
/// its Network Extension buffered in the shared container, an Android UI
/// process flushing what its `:vpn` process buffered.
///
/// One uploader per directory at a time, across processes: if a logger or
/// another `LogUploader` is uploading, `flush` returns at once with
/// `FlushReport.other_uploader_active` set.
#[derive(uniffi::Object)]
pub struct LogUploader {
    inner: crate::LogUploader,
}

#[uniffi::export]
impl LogUploader {
    /// Opens the buffer in `log_dir` (created if missing) of the node with
    /// this public log ID (64 hex characters).
    #[uniffi::constructor]
    pub fn new(
        log_dir: String,
        public_log_id: String,
        options: LogUploaderOptions,
    ) -> Result<Arc<Self>, SockstatError> {
        let public_id: PublicId = public_log_id.parse()?;
        let uploader = uploader(
            Some(options.server_url),
            options.collection,
            options.http_client,
            public_id,
        )?
        .ok_or_else(|| SockstatError::InvalidOption("invalid option server_url: missing".into()))?;
        let cap = options
            .buffer_cap_bytes
            .unwrap_or(crate::DEFAULT_BUFFER_CAP_BYTES);
        let inner = crate::LogUploader::open(log_dir, public_id, uploader, cap)?;
        Ok(Arc::new(LogUploader { inner }))
    }

    /// Uploads what the directory holds, within `deadline_ms`.
    pub fn flush(&self, deadline_ms: u64) -> Result<FlushReport, SockstatError> {
        Ok(self.inner.flush(Duration::from_millis(deadline_ms))?.into())
    }

    /// The public ID of the log uploaded to (64 hex characters).
    pub fn log_id(&self) -> String {
        self.inner.log_id().to_string()
    }

    /// The buffer's counters.
    pub fn buffer_stats(&self) -> BufferStats {
        self.inner.buffer_stats().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffer::LogBuffer;

    #[test]
    fn record_defaults_match_the_core_defaults() {
        let d = default_logger_options();
        assert_eq!(d.poll_period_ms, 100);
        assert_eq!(d.batch_period_ms, 10_000);
        assert_eq!(d.source_timeout_ms, None);
        assert_eq!(d.max_queued_lines, 1_000);
        assert_eq!(d.max_queued_bytes, 524_288);
    }

    struct NoCounters;
    impl CounterSource for NoCounters {
        fn snapshot(&self) -> Result<CounterSnapshot, CounterSourceError> {
            Ok(CounterSnapshot {
                cellular: false,
                counters: vec![],
            })
        }
    }

    const NODE: &str = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d";

    #[test]
    fn buffer_cap_bytes_caps_the_durable_file_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap().to_string();
        let options = || LoggerOptions {
            buffer_cap_bytes: Some(64 * 1024),
            ..default_logger_options()
        };
        let logger =
            Logger::new(path.clone(), NODE.into(), Arc::new(NoCounters), options()).unwrap();
        logger.write("kept across restarts".into()).unwrap();
        logger.shutdown(5_000).unwrap();
        drop(logger);
        // A new logger on the same directory (the app restarted) finds it.
        let again = Logger::new(path, NODE.into(), Arc::new(NoCounters), options()).unwrap();
        assert_eq!(
            again.buffered_lines(1 << 20).unwrap(),
            vec!["kept across restarts".to_string()]
        );
        // And the cap is the one asked for: 64 KiB of lines, not 5 MiB.
        let line = "x".repeat(1000);
        for _ in 0..200 {
            again.write(line.clone()).unwrap();
        }
        again.flush(5_000).unwrap();
        let stats = again.stats().buffer;
        assert!(stats.bytes <= 64 * 1024, "{stats:?}");
        assert!(stats.evicted_lines > 0, "{stats:?}");
    }

    #[test]
    fn negative_counters_leave_the_entry_out() {
        struct S;
        impl CounterSource for S {
            fn snapshot(&self) -> Result<CounterSnapshot, CounterSourceError> {
                Ok(CounterSnapshot {
                    cellular: true,
                    counters: vec![
                        LabelCounters {
                            label: 1,
                            tx: -1,
                            rx: 5,
                        },
                        LabelCounters {
                            label: 2,
                            tx: 3,
                            rx: 4,
                        },
                    ],
                })
            }
        }
        let s = ForeignSource(Arc::new(S)).snapshot().unwrap();
        assert!(s.is_cellular());
        assert_eq!(s.entries(), &[(Label(2), Counters { tx: 3, rx: 4 })]);
    }

    struct Scripted(std::sync::Mutex<Vec<Result<HttpPostResponse, HttpClientError>>>);
    impl HttpClient for Scripted {
        fn post(&self, request: HttpPostRequest) -> Result<HttpPostResponse, HttpClientError> {
            assert_eq!(request.timeout_ms, 1500);
            assert_eq!(request.body, b"[]");
            assert_eq!(
                request.headers,
                vec![HttpHeader {
                    name: "Content-Type".into(),
                    value: "application/json".into(),
                }]
            );
            self.0.lock().unwrap().remove(0)
        }
    }

    #[test]
    fn the_foreign_transport_maps_answers_and_errors_without_the_url() {
        let url = "http://127.0.0.1:1/c/x/00112233";
        let reason = format!("failed to reach {url}");
        let client = Scripted(std::sync::Mutex::new(vec![
            Ok(HttpPostResponse {
                status: 429,
                headers: vec![HttpHeader {
                    name: "Retry-After".into(),
                    value: "3".into(),
                }],
                body: b"slow down".to_vec(),
            }),
            Err(HttpClientError::Timeout {
                reason: reason.clone(),
            }),
            Err(HttpClientError::Connect {
                reason: reason.clone(),
            }),
            Err(HttpClientError::Request {
                reason: reason.clone(),
            }),
            Err(HttpClientError::Unusable {
                reason: reason.clone(),
            }),
            Err(uniffi::UnexpectedUniFFICallbackError::new(reason.clone()).into()),
        ]));
        let transport = ForeignTransport(Arc::new(client));
        let request = HttpRequest {
            url: url.into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: b"[]".to_vec(),
        };
        let timeout = Duration::from_millis(1500);
        let answer = transport.post(&request, timeout).unwrap();
        assert_eq!(answer.status, 429);
        assert_eq!(answer.header("retry-after"), Some("3"));
        assert_eq!(answer.body, b"slow down");
        assert_eq!(
            transport.post(&request, timeout),
            Err(TransportError::Timeout(timeout))
        );
        let clean = "failed to reach <upload URL>".to_string();
        assert_eq!(
            transport.post(&request, timeout),
            Err(TransportError::Connect(clean.clone()))
        );
        assert_eq!(
            transport.post(&request, timeout),
            Err(TransportError::Request(clean.clone()))
        );
        assert_eq!(
            transport.post(&request, timeout),
            Err(TransportError::Unusable(clean.clone()))
        );
        let unexpected = transport.post(&request, timeout).unwrap_err();
        assert!(matches!(&unexpected, TransportError::Unusable(m) if !m.contains(url)));
        assert!(!format!(
            "{:?}",
            HttpPostRequest {
                url: url.into(),
                headers: vec![],
                body: vec![],
                timeout_ms: 1,
            }
        )
        .contains("00112233"));
    }

    #[test]
    fn a_panicking_client_is_an_error_not_a_crash() {
        struct Panics;
        impl HttpClient for Panics {
            fn post(&self, _: HttpPostRequest) -> Result<HttpPostResponse, HttpClientError> {
                panic!("lift failed")
            }
        }
        let request = HttpRequest {
            url: "http://127.0.0.1:1/c/x/y".into(),
            headers: vec![],
            body: vec![],
        };
        let got = ForeignTransport(Arc::new(Panics)).post(&request, Duration::from_secs(1));
        assert!(matches!(got, Err(TransportError::Unusable(_))), "{got:?}");
    }

    #[test]
    fn http_client_and_server_url_options() {
        let public: PublicId = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d"
            .parse()
            .unwrap();
        let client: Arc<dyn HttpClient> = Arc::new(Scripted(Default::default()));
        let got = uploader(
            Some("http://127.0.0.1:9".into()),
            None,
            Some(client.clone()),
            public,
        );
        assert!(matches!(got, Ok(Some(_))));
        let e = uploader(None, None, Some(client), public).err().unwrap();
        assert!(
            e.to_string().contains("http_client: it needs server_url"),
            "{e}"
        );
        let without = uploader(Some("http://127.0.0.1:9".into()), None, None, public);
        #[cfg(feature = "reqwest-transport")]
        assert!(matches!(without, Ok(Some(_))));
        #[cfg(not(feature = "reqwest-transport"))]
        assert!(
            matches!(&without, Err(SockstatError::InvalidOption(m)) if m.contains("set http_client")),
        );
    }

    #[test]
    fn a_log_uploader_uploads_what_another_process_buffered_and_nothing_else() {
        struct Accepts(std::sync::atomic::AtomicU64);
        impl HttpClient for Accepts {
            fn post(&self, _: HttpPostRequest) -> Result<HttpPostResponse, HttpClientError> {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(HttpPostResponse {
                    status: 200,
                    headers: vec![],
                    body: vec![],
                })
            }
        }
        let public = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d";
        let dir = tempfile::tempdir().unwrap();
        let written = crate::FileBuffer::open(dir.path(), Default::default()).unwrap();
        written
            .append(&["{\"a\":1}".to_string(), "{\"b\":2}".to_string()])
            .unwrap();
        let client = Arc::new(Accepts(Default::default()));
        let options = LogUploaderOptions {
            server_url: "http://127.0.0.1:9".into(),
            collection: None,
            http_client: Some(client.clone()),
            buffer_cap_bytes: None,
        };
        let uploader = LogUploader::new(
            dir.path().to_str().unwrap().into(),
            public.into(),
            options.clone(),
        )
        .unwrap();
        assert_eq!(uploader.log_id(), sockstat_log_id(public.into()).unwrap());
        assert_eq!(uploader.buffer_stats().lines, 2);
        let report = uploader.flush(5_000).unwrap();
        assert_eq!((report.lines_sent, report.complete), (2, true));
        assert!(!report.other_uploader_active);
        assert_eq!(uploader.buffer_stats().lines, 0);
        assert_eq!(client.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(matches!(
            LogUploader::new(dir.path().to_str().unwrap().into(), "xyz".into(), options),
            Err(SockstatError::InvalidLogId(_))
        ));
    }
}
