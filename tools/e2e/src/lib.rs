//! Helpers for sockstatlog's end-to-end tests (`tests/`): the library's
//! `LogtailUploader` and `Logger` against the log server crate, in process,
//! over loopback.
//!
//! Run with `cargo test -p sockstatlog-e2e`. Each test starts its own server
//! on a free loopback port with in-memory storage.
#![deny(missing_docs)]

pub mod stub;

use sockstatlog::event::Event;
use sockstatlog::snapshot::DeltaEntry;
use sockstatlog::upload::{
    HttpRequest, HttpResponse, HttpTransport, LogtailUploader, ReqwestTransport, RetryPolicy,
    TransportError, UploaderConfig,
};
use sockstatlog::MemoryBuffer;
use sockstatlog::{
    CounterSource, Label, LogBuffer, Logger, Options, PrivateId, PublicId, Snapshot, SourceError,
};
use sockstatlog_logserver::RunningServer;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The collection the tests upload to.
pub const COLLECTION: &str = "sockstats.e2e";

/// The node the tests log for. The logger writes under the sockstat ID
/// derived from it.
pub fn node() -> PublicId {
    "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d"
        .parse()
        .expect("a valid public ID")
}

/// The private ID the logger for [`node`] uploads with.
pub fn private_id() -> PrivateId {
    node().sockstat_private_id()
}

/// The public ID the server files the log under.
pub fn log_id() -> String {
    private_id().public().to_string()
}

/// `n` realistic event lines, 100 ms apart, starting at `start_unix_ms`:
/// the shapes a phone logs (one to four labels, sometimes cellular).
pub fn event_lines(n: usize, start_unix_ms: i64) -> Vec<String> {
    (0..n)
        .map(|i| {
            let k = i as u64;
            let mut stats = vec![DeltaEntry {
                label: Label(8),
                tx: 1_200 + k % 700,
                rx: 3_000 + (k * 37) % 5_000,
            }];
            if i.is_multiple_of(3) {
                stats.insert(
                    0,
                    DeltaEntry {
                        label: Label(10),
                        tx: 0,
                        rx: 20 + k % 90,
                    },
                );
            }
            if i.is_multiple_of(7) {
                stats.push(DeltaEntry {
                    label: Label(9),
                    tx: 96,
                    rx: 0,
                });
            }
            if i.is_multiple_of(50) {
                stats.insert(
                    0,
                    DeltaEntry {
                        label: Label(1),
                        tx: 517 + k,
                        rx: 6_104,
                    },
                );
            }
            Event {
                start_unix_ms: start_unix_ms + 100 * i as i64,
                duration_ms: 100 + (k % 3) as i64,
                cellular: i.is_multiple_of(11),
                stats: &stats,
            }
            .encode()
        })
        .collect()
}

/// A retry policy with short backoffs, for tests that fail many requests
/// on purpose. `Retry-After` is still honoured in full.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
        ..RetryPolicy::default()
    }
}

/// What one request looked like, as the recording transport saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The request's headers.
    pub headers: Vec<(String, String)>,
    /// Bytes on the wire.
    pub body_len: usize,
    /// When it was handed to the transport.
    pub started: Instant,
    /// When the transport returned.
    pub finished: Instant,
    /// The timeout the uploader gave.
    pub timeout: Duration,
    /// The status, or the error's text.
    pub result: Result<u16, String>,
}

impl Recorded {
    /// The value of header `name`, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The default transport, with a record of every request.
#[derive(Default)]
pub struct Recording {
    inner: ReqwestTransport,
    log: Mutex<Vec<Recorded>>,
}

impl Recording {
    /// A recording [`ReqwestTransport`].
    pub fn new() -> Arc<Recording> {
        Arc::new(Recording::default())
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }
}

impl HttpTransport for Recording {
    fn post(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let started = Instant::now();
        let result = self.inner.post(request, timeout);
        self.log.lock().unwrap().push(Recorded {
            headers: request.headers.clone(),
            body_len: request.body.len(),
            started,
            finished: Instant::now(),
            timeout,
            result: match &result {
                Ok(response) => Ok(response.status),
                Err(error) => Err(error.to_string()),
            },
        });
        result
    }

    fn end_of_flush(&self) {
        self.inner.end_of_flush();
    }
}

/// An uploader to `base_url` through `transport`.
pub fn uploader(
    base_url: &str,
    transport: Arc<dyn HttpTransport>,
    retry: RetryPolicy,
    max_body_bytes: usize,
) -> Arc<LogtailUploader> {
    Arc::new(
        LogtailUploader::new(UploaderConfig {
            base_url: base_url.to_string(),
            collection: COLLECTION.to_string(),
            retry,
            max_body_bytes,
            ..UploaderConfig::new(private_id(), transport)
        })
        .expect("a valid uploader configuration"),
    )
}

/// A counter source with nothing to report: the tests write their lines
/// with `Logger::write`, so logging stays disabled.
pub fn idle_source() -> Arc<dyn CounterSource> {
    Arc::new(|| -> Result<Snapshot, SourceError> {
        Snapshot::new(false, []).map_err(|e| SourceError(e.to_string()))
    })
}

/// A logger for [`node`] in `dir` with `buffer` and `uploader`.
pub fn logger(
    dir: &std::path::Path,
    buffer: Arc<dyn LogBuffer>,
    uploader: Arc<LogtailUploader>,
) -> Logger {
    let logger = Logger::new(
        dir,
        node(),
        idle_source(),
        Options {
            uploader: Some(uploader),
            buffer: Some(buffer),
            ..Options::default()
        },
    )
    .expect("a logger");
    assert_eq!(logger.log_id().to_string(), log_id());
    logger
}

/// What most tests start from: a log server, and a logger for [`node`] in a
/// fresh directory with a memory buffer, uploading to the server through a
/// [`Recording`] transport.
pub struct Setup {
    /// The server.
    pub server: RunningServer,
    /// What the uploader sent and got back.
    pub transport: Arc<Recording>,
    /// The logger's buffer.
    pub buffer: Arc<MemoryBuffer>,
    /// The logger (disabled; tests write their lines).
    pub logger: Logger,
    /// The log directory, removed when dropped.
    pub dir: tempfile::TempDir,
}

/// A [`Setup`] around `server`, with bodies of at most `max_body_bytes`.
pub fn setup(server: RunningServer, max_body_bytes: usize) -> Setup {
    let transport = Recording::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let buffer = Arc::new(MemoryBuffer::default());
    let uploader = uploader(
        &server.base_url(),
        transport.clone(),
        RetryPolicy::default(),
        max_body_bytes,
    );
    let logger = logger(dir.path(), buffer.clone(), uploader);
    Setup {
        server,
        transport,
        buffer,
        logger,
        dir,
    }
}

/// Removes the `"logtail":{...}` member `client_time` put first in a
/// stored entry that was an object line, giving back the line. `None` if
/// the entry does not start with the member.
pub fn strip_member(entry: &str) -> Option<String> {
    let rest = entry.strip_prefix(r#"{"logtail":{"client_time":""#)?;
    let end = rest.find(r#""}"#)?;
    let time = &rest[..end];
    let after = &rest[end + 2..];
    if !is_client_time(time) {
        return None;
    }
    Some(match after.strip_prefix(',') {
        Some(members) => format!("{{{members}"),
        None => format!("{{{after}"),
    })
}

/// Whether `text` looks like `2026-11-28T23:45:55.123456789Z`.
pub fn is_client_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 30
        && text.ends_with('Z')
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b.iter()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19, 29].contains(&i) || c.is_ascii_digit())
}

/// Every line still in `buffer`, oldest first.
pub fn buffered(buffer: &dyn LogBuffer) -> Vec<String> {
    buffer
        .read(None, usize::MAX)
        .expect("reading the buffer")
        .into_iter()
        .map(|l| l.text)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_member_gives_back_the_line() {
        let t = "2026-11-28T23:45:55.123456789Z";
        assert_eq!(
            strip_member(&format!(r#"{{"logtail":{{"client_time":"{t}"}},"a":1}}"#)).as_deref(),
            Some(r#"{"a":1}"#)
        );
        assert_eq!(
            strip_member(&format!(r#"{{"logtail":{{"client_time":"{t}"}}}}"#)).as_deref(),
            Some("{}")
        );
        assert_eq!(strip_member(r#"{"a":1}"#), None);
    }

    #[test]
    fn event_lines_are_distinct_events() {
        let lines = event_lines(1000, 1_764_373_555_000);
        let unique: std::collections::HashSet<_> = lines.iter().collect();
        assert_eq!(unique.len(), 1000);
        assert!(lines[0].starts_with(r#"{"t":1764373555000,"d":100,"c":1,"s":{"1":"#));
    }
}
