//! [`LogtailUploader`]: uploads a log buffer to a logtail server, batch by
//! batch, within a flush's deadline.
//!
//! One flush:
//! 1. Note the buffer's last cursor. Only lines up to it are uploaded, so
//!    lines written during the upload (its own traffic's events among them)
//!    wait for the next flush: a flush always ends.
//! 2. Read the oldest lines, build a body of at most 256 KiB
//!    ([`body`]), compress it if that pays
//!    ([`compress`](super::compress)).
//! 3. POST it and follow the [`policy`]: accepted or refused,
//!    remove the batch and go on; a failure, wait and send the same body
//!    again while the deadline allows; otherwise stop, keeping the batch.
//!
//! The private log ID is only in the request URL; it is stripped from every
//! message this module produces (transport errors included).

use super::body::{self, LogtailMember, MAX_BODY_BYTES};
use super::clock::{SystemUploadClock, UploadClock};
use super::compress::Compressor;
use super::endpoint::{ConfigError, Endpoint};
use super::policy::{self, Decision, Outcome, RetryPolicy, StopReason};
use super::redact::Redactor;
use super::transport::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use super::{FlushReport, Uploader};
use crate::buffer::{BufferedLine, Cursor, LogBuffer};
use crate::logid::PrivateId;
use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where logs go by default: Tailscale's log server.
pub const DEFAULT_BASE_URL: &str = "https://log.tailscale.com";
/// The original's collection.
pub const DEFAULT_COLLECTION: &str = "sockstats.log.tailscale.io";
/// The smallest body size accepted in [`UploaderConfig::max_body_bytes`].
pub const MIN_BODY_BYTES: usize = 1024;
/// How much of a server's reason for a refusal goes into messages.
const MAX_REASON_CHARS: usize = 200;
/// How much of a response body is looked at (and redacted) for the reason:
/// as much as the default transport keeps.
const MAX_REASON_SCAN_BYTES: usize = 4 * 1024;
/// Sent as `User-Agent`.
const USER_AGENT: &str = concat!("sockstatlog/", env!("CARGO_PKG_VERSION"));

/// Settings for a [`LogtailUploader`]. Start from [`UploaderConfig::new`].
#[derive(Clone)]
pub struct UploaderConfig {
    /// The log server: `https://...`, or `http://` to a loopback address for
    /// tests. Default [`DEFAULT_BASE_URL`].
    pub base_url: String,
    /// The collection. Default [`DEFAULT_COLLECTION`].
    pub collection: String,
    /// The private ID to write with (the logger's: derive it with
    /// [`PublicId::sockstat_private_id`](crate::PublicId::sockstat_private_id)).
    pub private_id: PrivateId,
    /// The HTTP stack.
    pub transport: Arc<dyn HttpTransport>,
    /// Retry and timeout settings.
    pub retry: RetryPolicy,
    /// The size bodies aim for, before compression. Default
    /// [`MAX_BODY_BYTES`] (256 KiB); at least [`MIN_BODY_BYTES`].
    pub max_body_bytes: usize,
    /// Clocks and sleep. Tests inject a fake.
    pub clock: Arc<dyn UploadClock>,
    /// Seed for the retry jitter. `None`: a random seed.
    pub jitter_seed: Option<u64>,
}

impl UploaderConfig {
    /// The defaults: Tailscale's server and collection, [`RetryPolicy`]'s
    /// defaults, 256 KiB bodies, the system clock.
    pub fn new(private_id: PrivateId, transport: Arc<dyn HttpTransport>) -> Self {
        UploaderConfig {
            base_url: DEFAULT_BASE_URL.to_string(),
            collection: DEFAULT_COLLECTION.to_string(),
            private_id,
            transport,
            retry: RetryPolicy::default(),
            max_body_bytes: MAX_BODY_BYTES,
            clock: Arc::new(SystemUploadClock),
            jitter_seed: None,
        }
    }

    /// The defaults with the default transport, [`ReqwestTransport`](super::ReqwestTransport).
    #[cfg(feature = "reqwest-transport")]
    pub fn with_default_transport(private_id: PrivateId) -> Self {
        Self::new(private_id, Arc::new(super::ReqwestTransport::new()))
    }
}

impl fmt::Debug for UploaderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploaderConfig")
            .field("base_url", &self.base_url)
            .field("collection", &self.collection)
            .field("private_id", &self.private_id)
            .field("retry", &self.retry)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("jitter_seed", &self.jitter_seed)
            .finish_non_exhaustive()
    }
}

/// Uploads a log buffer to a logtail-compatible server. Give it to the
/// logger as [`Options::uploader`](crate::Options); `flush` then calls it.
///
/// ```no_run
/// # #[cfg(feature = "reqwest-transport")] {
/// use sockstatlog::upload::{LogtailUploader, UploaderConfig};
/// use sockstatlog::{Options, PublicId};
/// use std::sync::Arc;
///
/// let node: PublicId = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d".parse()?;
/// let uploader = LogtailUploader::new(UploaderConfig::with_default_transport(
///     node.sockstat_private_id(),
/// ))?;
/// let options = Options { uploader: Some(Arc::new(uploader)), ..Options::default() };
/// # let _ = options;
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LogtailUploader {
    endpoint: Endpoint,
    /// The upload URL: a secret.
    url: String,
    /// Strips the private ID from messages.
    redactor: Redactor,
    transport: Arc<dyn HttpTransport>,
    retry: RetryPolicy,
    max_body_bytes: usize,
    clock: Arc<dyn UploadClock>,
    jitter: Mutex<SplitMix64>,
}

impl fmt::Debug for LogtailUploader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogtailUploader")
            .field("base_url", &self.endpoint.base())
            .field("collection", &self.endpoint.collection())
            .field("retry", &self.retry)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl LogtailUploader {
    /// Checks `config` and creates the uploader. Errors name the setting and
    /// what to use instead.
    pub fn new(config: UploaderConfig) -> Result<LogtailUploader, ConfigError> {
        let endpoint = Endpoint::new(&config.base_url, &config.collection)?;
        if config.max_body_bytes < MIN_BODY_BYTES {
            return Err(ConfigError::InvalidSetting {
                name: "max_body_bytes",
                reason: format!(
                    "{} is below the minimum of {MIN_BODY_BYTES} bytes",
                    config.max_body_bytes
                ),
            });
        }
        if config.retry.max_request_timeout.is_zero() || config.retry.min_request_time.is_zero() {
            return Err(ConfigError::InvalidSetting {
                name: "retry.max_request_timeout/retry.min_request_time",
                reason: "both must be above zero".to_string(),
            });
        }
        let private_hex = config.private_id.expose_hex();
        let url = endpoint.upload_url(&private_hex);
        let seed = config
            .jitter_seed
            .unwrap_or_else(|| RandomState::new().hash_one(0x5eed_u64));
        Ok(LogtailUploader {
            endpoint,
            url,
            redactor: Redactor::new(&private_hex),
            transport: config.transport,
            retry: config.retry,
            max_body_bytes: config.max_body_bytes,
            clock: config.clock,
            jitter: Mutex::new(SplitMix64(seed)),
        })
    }

    /// The server's base URL (without the private ID: safe to show).
    pub fn base_url(&self) -> &str {
        self.endpoint.base()
    }

    /// The collection uploaded to.
    pub fn collection(&self) -> &str {
        self.endpoint.collection()
    }

    fn next_jitter(&self) -> f64 {
        self.jitter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_unit()
    }

    /// `text` without the private ID or any piece of it.
    fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// The status and the start of the server's reason: redacted first,
    /// then cut (cutting first could split the ID into pieces).
    fn describe_status(&self, response: &HttpResponse) -> String {
        let body = &response.body[..response.body.len().min(MAX_REASON_SCAN_BYTES)];
        let reason: String = String::from_utf8_lossy(body)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let reason = self.redact(&reason);
        let reason: String = reason.trim().chars().take(MAX_REASON_CHARS).collect();
        let reason = reason.trim_end();
        if reason.is_empty() {
            format!("the log server answered {}", response.status)
        } else {
            format!("the log server answered {}: {reason}", response.status)
        }
    }

    fn request(&self, body: Vec<u8>, encoding_headers: Vec<(String, String)>) -> HttpRequest {
        let mut headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("User-Agent".to_string(), USER_AGENT.to_string()),
        ];
        headers.extend(encoding_headers);
        HttpRequest {
            url: self.url.clone(),
            headers,
            body,
        }
    }

    /// Sends one batch until the policy says it is done. Returns the final
    /// decision (never `Retry`).
    fn send(
        &self,
        request: &HttpRequest,
        deadline: Instant,
        failures: &mut u32,
        report: &mut FlushReport,
    ) -> Decision {
        loop {
            let remaining = deadline.saturating_duration_since(self.clock.now());
            let Some(timeout) = policy::request_timeout(&self.retry, remaining) else {
                return Decision::Stop(StopReason::Deadline {
                    wait: Duration::ZERO,
                });
            };
            report.requests += 1;
            let result = self.transport.post(request, timeout);
            let outcome = match &result {
                Ok(response) => Outcome::Response {
                    status: response.status,
                    retry_after: response.header("Retry-After"),
                },
                Err(TransportError::Unusable(_)) => Outcome::Unrecoverable,
                Err(_) => Outcome::TransportFailed,
            };
            if !matches!(outcome, Outcome::Response { status: 200, .. }) {
                *failures += 1;
                report.last_error = Some(match &result {
                    Ok(response) => self.describe_status(response),
                    Err(error) => self.redact(&error.to_string()),
                });
            }
            let remaining = deadline.saturating_duration_since(self.clock.now());
            match policy::decide(
                &self.retry,
                outcome,
                *failures,
                self.next_jitter(),
                remaining,
            ) {
                Decision::Retry(wait) => {
                    log::debug!(
                        "sockstatlog: upload to {} failed ({}); retrying in {wait:?}",
                        self.endpoint.base(),
                        report.last_error.as_deref().unwrap_or("")
                    );
                    report.retries += 1;
                    self.clock.sleep(wait);
                }
                decision => return decision,
            }
        }
    }

    fn run(&self, buffer: &dyn LogBuffer, deadline: Instant, report: &mut FlushReport) -> bool {
        let buffer_failed = |report: &mut FlushReport, what: &str, error: &dyn fmt::Display| {
            let message = format!("{what} the log buffer failed: {error}");
            log::warn!("sockstatlog: upload stopped: {message}");
            report.last_error = Some(message);
            false
        };
        let end = match buffer.last_cursor() {
            Ok(Some(end)) => end,
            Ok(None) => return true,
            Err(error) => return buffer_failed(report, "reading", &error),
        };
        let mut pending: VecDeque<BufferedLine> = VecDeque::new();
        let mut pending_bytes = 0usize;
        let mut read_after: Option<Cursor> = None;
        let mut exhausted = false;
        let mut compressor = Compressor::new();
        let mut failures = 0u32;
        loop {
            if !exhausted && pending_bytes < self.max_body_bytes {
                let lines = match buffer.read(read_after, self.max_body_bytes - pending_bytes) {
                    Ok(lines) => lines,
                    Err(error) => return buffer_failed(report, "reading", &error),
                };
                exhausted = lines.is_empty();
                for line in lines {
                    if line.cursor > end {
                        exhausted = true;
                        break;
                    }
                    read_after = Some(line.cursor);
                    pending_bytes += line.text.len();
                    pending.push_back(line);
                }
                exhausted |= read_after == Some(end);
            }
            if pending.is_empty() {
                return true;
            }
            let member = LogtailMember::new(self.clock.wall());
            let built = body::build(
                pending.iter().map(|line| line.text.as_str()),
                &member,
                self.max_body_bytes,
            );
            let lines = built.lines;
            let through = pending[lines - 1].cursor;
            // The body holds these lines now; free their text while it is
            // sent (on a stop they are still in the buffer).
            for line in pending.drain(..lines) {
                pending_bytes -= line.text.len();
            }
            let encoded = compressor.encode(built.json);
            let headers = encoded.headers();
            let request = self.request(encoded.body, headers);
            match self.send(&request, deadline, &mut failures, report) {
                Decision::Accepted => {
                    failures = 0;
                    report.batches_sent += 1;
                    report.lines_sent += lines as u64;
                    report.bytes_sent += request.body.len() as u64;
                    report.bytes_uncompressed += encoded.uncompressed_len as u64;
                }
                Decision::Drop => {
                    failures = 0;
                    log::warn!(
                        "sockstatlog: {} refused a batch of {lines} lines ({} bytes) for good ({}); dropped it so later lines can be sent",
                        self.endpoint.base(),
                        encoded.uncompressed_len,
                        report.last_error.as_deref().unwrap_or("no reason given")
                    );
                    report.batches_dropped += 1;
                    report.lines_dropped += lines as u64;
                }
                Decision::Stop(StopReason::Blocked { status }) => {
                    let answer = report.last_error.take().unwrap_or_default();
                    let message = format!(
                        "{answer} (the batch is kept: a {status} is about the request's way, not \
                         its lines; check server_url and collection, or a proxy or captive \
                         portal answering in the log server's place)"
                    );
                    log::warn!(
                        "sockstatlog: upload to {} stopped: {message}",
                        self.endpoint.base()
                    );
                    report.last_error = Some(message);
                    return false;
                }
                Decision::Stop(reason) => {
                    log::debug!(
                        "sockstatlog: upload stopped ({}); the batch stays buffered for the next flush",
                        match reason {
                            StopReason::Deadline { .. } =>
                                "the flush deadline leaves no time for another try",
                            StopReason::Unrecoverable | StopReason::Blocked { .. } =>
                                "the transport cannot send",
                        }
                    );
                    return false;
                }
                Decision::Retry(_) => unreachable!("send() retries itself"),
            }
            if let Err(error) = buffer.remove_through(through) {
                return buffer_failed(report, "removing sent lines from", &error);
            }
        }
    }
}

/// Calls [`HttpTransport::end_of_flush`] when dropped, on every way out of
/// an upload (panics included).
struct EndOfFlush<'a>(&'a dyn HttpTransport);

impl Drop for EndOfFlush<'_> {
    fn drop(&mut self) {
        self.0.end_of_flush();
    }
}

impl Uploader for LogtailUploader {
    fn upload(&self, buffer: &dyn LogBuffer, deadline: Instant) -> FlushReport {
        let _end = EndOfFlush(self.transport.as_ref());
        let mut report = FlushReport::default();
        report.complete = self.run(buffer, deadline, &mut report);
        report.lines_still_buffered = buffer.stats().lines;
        report
    }
}

/// SplitMix64: a tiny generator for retry jitter (not for secrets).
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests;
