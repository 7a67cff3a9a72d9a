//! The upload loop against a scripted transport and a fake clock: no
//! network, no real sleeps.

use super::*;
use crate::buffer::{BufferError, BufferStats, MemoryBuffer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const S: fn(u64) -> Duration = Duration::from_secs;
const MS: fn(u64) -> Duration = Duration::from_millis;
const TIME: &str = "2026-11-28T23:45:55.123456789Z";

/// A clock that moves only when slept on or told to.
struct FakeClock {
    start: Instant,
    offset: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
}

impl FakeClock {
    fn new() -> Arc<Self> {
        Arc::new(FakeClock {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
            sleeps: Mutex::new(Vec::new()),
        })
    }

    fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += by;
    }

    fn elapsed(&self) -> Duration {
        *self.offset.lock().unwrap()
    }

    fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }

    fn deadline(&self, after: Duration) -> Instant {
        self.start + after
    }
}

impl UploadClock for FakeClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn wall(&self) -> SystemTime {
        UNIX_EPOCH + Duration::new(1_795_909_555, 123_456_789)
    }

    fn sleep(&self, duration: Duration) {
        self.sleeps.lock().unwrap().push(duration);
        self.advance(duration);
    }
}

/// What the scripted transport does for one request.
enum Step {
    Reply {
        status: u16,
        retry_after: Option<&'static str>,
        body: &'static str,
    },
    Fail(TransportError),
    /// Takes longer than any timeout: the clock moves by the timeout.
    Hang,
}

fn reply(status: u16) -> Step {
    Step::Reply {
        status,
        retry_after: None,
        body: "",
    }
}

type Hook = Box<dyn Fn() + Send + Sync>;

/// Answers from a script (then 200s) and records every request.
struct Script {
    clock: Arc<FakeClock>,
    steps: Mutex<VecDeque<Step>>,
    requests: Mutex<Vec<(HttpRequest, Duration)>>,
    latency: Duration,
    ends: AtomicUsize,
    on_post: Option<Hook>,
}

impl Script {
    fn new(clock: &Arc<FakeClock>, steps: Vec<Step>) -> Script {
        Script {
            clock: clock.clone(),
            steps: Mutex::new(steps.into()),
            requests: Mutex::new(Vec::new()),
            latency: MS(10),
            ends: AtomicUsize::new(0),
            on_post: None,
        }
    }

    fn requests(&self) -> Vec<(HttpRequest, Duration)> {
        self.requests.lock().unwrap().clone()
    }

    fn timeouts(&self) -> Vec<Duration> {
        self.requests().into_iter().map(|(_, t)| t).collect()
    }
}

impl HttpTransport for Script {
    fn post(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        self.requests
            .lock()
            .unwrap()
            .push((request.clone(), timeout));
        if let Some(hook) = &self.on_post {
            hook();
        }
        let step = self.steps.lock().unwrap().pop_front().unwrap_or(reply(200));
        if let Step::Hang = step {
            self.clock.advance(timeout);
            return Err(TransportError::Timeout(timeout));
        }
        self.clock.advance(self.latency.min(timeout));
        match step {
            Step::Reply {
                status,
                retry_after,
                body,
            } => Ok(HttpResponse {
                status,
                headers: retry_after
                    .map(|v| vec![("retry-after".to_string(), v.to_string())])
                    .unwrap_or_default(),
                body: body.as_bytes().to_vec(),
            }),
            Step::Fail(error) => Err(error),
            Step::Hang => unreachable!(),
        }
    }

    fn end_of_flush(&self) {
        self.ends.fetch_add(1, Ordering::SeqCst);
    }
}

fn private_id() -> PrivateId {
    PrivateId::from_bytes([7; 32])
}

fn hex() -> String {
    "07".repeat(32)
}

fn config(clock: &Arc<FakeClock>, transport: Arc<Script>) -> UploaderConfig {
    UploaderConfig {
        base_url: "http://127.0.0.1:1".to_string(),
        collection: "test".to_string(),
        clock: clock.clone(),
        jitter_seed: Some(1),
        ..UploaderConfig::new(private_id(), transport)
    }
}

fn uploader(clock: &Arc<FakeClock>, transport: &Arc<Script>) -> LogtailUploader {
    LogtailUploader::new(config(clock, transport.clone())).unwrap()
}

fn buffer(lines: &[&str]) -> MemoryBuffer {
    let buffer = MemoryBuffer::default();
    let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    buffer.append(&lines).unwrap();
    buffer
}

fn numbered(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"t":{},"d":100,"s":{{"8":[{i},0]}}}}"#,
                1_764_373_555_000u64 + i as u64
            )
        })
        .collect()
}

/// The JSON text of a request's body, decompressed if need be.
fn json_of(request: &HttpRequest) -> String {
    let bytes = match request.header("Content-Encoding") {
        Some("zstd") => {
            let json = zstd::bulk::decompress(&request.body, 1 << 20).unwrap();
            let declared: usize = request
                .header("Orig-Content-Length")
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(declared, json.len());
            json
        }
        None => request.body.clone(),
        Some(other) => panic!("encoding {other}"),
    };
    String::from_utf8(bytes).unwrap()
}

/// Every line a request carried, with the logtail member taken out again
/// (object lines only: each entry then starts with the member and a comma).
fn lines_of(request: &HttpRequest) -> Vec<String> {
    let json = json_of(request);
    let marker = r#"{"logtail":{"client_time":""#;
    let inner = &json[1..json.len() - 1];
    inner
        .split(&format!(",{marker}"))
        .enumerate()
        .map(|(i, piece)| {
            let entry = if i == 0 {
                piece.to_string()
            } else {
                format!("{marker}{piece}")
            };
            // The member's time is 30 characters, then `"},`.
            match entry.strip_prefix(marker) {
                Some(rest) if rest.get(30..33) == Some(r#""},"#) => format!("{{{}", &rest[33..]),
                _ => entry,
            }
        })
        .collect()
}

#[test]
fn three_lines_go_in_one_request_and_leave_the_buffer() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(&clock, vec![]));
    let buffer = buffer(&[r#"{"t":1}"#, "plain text", "{}"]);
    let report = uploader(&clock, &transport).upload(&buffer, clock.deadline(S(10)));
    let expected_body = format!(
        concat!(
            r#"[{{"logtail":{{"client_time":"{t}"}},"t":1}},"#,
            r#"{{"logtail":{{"client_time":"{t}"}},"text":"plain text"}},"#,
            r#"{{"logtail":{{"client_time":"{t}"}}}}]"#
        ),
        t = TIME
    );
    let requests = transport.requests();
    assert_eq!(requests.len(), 1);
    let (request, timeout) = &requests[0];
    assert_eq!(request.url, format!("http://127.0.0.1:1/c/test/{}", hex()));
    assert_eq!(
        request.headers,
        vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("User-Agent".to_string(), USER_AGENT.to_string()),
        ]
    );
    assert_eq!(
        String::from_utf8(request.body.clone()).unwrap(),
        expected_body
    );
    assert_eq!(*timeout, S(10));
    assert_eq!(
        report,
        FlushReport {
            batches_sent: 1,
            lines_sent: 3,
            bytes_sent: expected_body.len() as u64,
            bytes_uncompressed: expected_body.len() as u64,
            requests: 1,
            complete: true,
            ..FlushReport::default()
        }
    );
    assert_eq!(buffer.stats().lines, 0);
    assert_eq!(transport.ends.load(Ordering::SeqCst), 1);
}

#[test]
fn an_empty_buffer_sends_nothing_and_is_complete() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(&clock, vec![]));
    let report =
        uploader(&clock, &transport).upload(&MemoryBuffer::default(), clock.deadline(S(5)));
    assert_eq!(
        report,
        FlushReport {
            complete: true,
            ..FlushReport::default()
        }
    );
    assert_eq!(transport.requests().len(), 0);
    assert_eq!(transport.ends.load(Ordering::SeqCst), 1);
}

#[test]
fn lines_written_during_the_upload_wait_for_the_next_flush() {
    let clock = FakeClock::new();
    let buffer = Arc::new(buffer(&[r#"{"a":1}"#, r#"{"a":2}"#]));
    let mut script = Script::new(&clock, vec![]);
    let during = buffer.clone();
    // Every request makes a new event, as the upload's own traffic would.
    script.on_post = Some(Box::new(move || {
        during
            .append(&[r#"{"upload":"traffic"}"#.to_string()])
            .unwrap();
    }));
    let transport = Arc::new(script);
    let report = uploader(&clock, &transport).upload(buffer.as_ref(), clock.deadline(S(10)));
    assert_eq!(transport.requests().len(), 1);
    assert_eq!(
        lines_of(&transport.requests()[0].0),
        vec![r#"{"a":1}"#, r#"{"a":2}"#]
    );
    assert_eq!((report.lines_sent, report.lines_still_buffered), (2, 1));
    assert!(report.complete);
}

#[test]
fn a_big_buffer_goes_in_batches_of_at_most_the_body_size_in_order() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(&clock, vec![]));
    let lines = numbered(300);
    let buffer = MemoryBuffer::default();
    buffer.append(&lines).unwrap();
    let uploader = LogtailUploader::new(UploaderConfig {
        max_body_bytes: 4096,
        ..config(&clock, transport.clone())
    })
    .unwrap();
    let report = uploader.upload(&buffer, clock.deadline(S(10)));
    let requests = transport.requests();
    assert!(requests.len() > 5, "{}", requests.len());
    let mut sent = Vec::new();
    for (request, _) in &requests {
        let json = json_of(request);
        assert!(json.len() <= 4096, "{}", json.len());
        // Full batches: the next line would not have fitted.
        sent.extend(lines_of(request));
    }
    assert_eq!(sent, lines);
    assert!(requests
        .iter()
        .all(|(r, _)| r.header("Content-Encoding") == Some("zstd")));
    assert_eq!(report.batches_sent, requests.len() as u64);
    assert_eq!(report.lines_sent, 300);
    assert_eq!(
        report.bytes_sent,
        requests
            .iter()
            .map(|(r, _)| r.body.len() as u64)
            .sum::<u64>()
    );
    assert_eq!(
        report.bytes_uncompressed,
        requests
            .iter()
            .map(|(r, _)| json_of(r).len() as u64)
            .sum::<u64>()
    );
    assert!(report.bytes_sent * 3 < report.bytes_uncompressed);
    assert!(report.complete);
    assert_eq!(buffer.stats().lines, 0);
}

#[test]
fn a_server_error_is_retried_after_a_jittered_backoff() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(
        &clock,
        vec![Step::Reply {
            status: 500,
            retry_after: None,
            body: "boom\n",
        }],
    ));
    let buffer = buffer(&[r#"{"a":1}"#]);
    let report = uploader(&clock, &transport).upload(&buffer, clock.deadline(S(10)));
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    assert!((MS(500)..=S(1)).contains(&sleeps[0]), "{sleeps:?}");
    assert_eq!(
        (report.requests, report.retries, report.lines_sent),
        (2, 1, 1)
    );
    assert_eq!(
        report.last_error.as_deref(),
        Some("the log server answered 500: boom")
    );
    assert!(report.complete);
    // The same body both times.
    let requests = transport.requests();
    assert_eq!(requests[0].0, requests[1].0);
}

#[test]
fn retry_after_is_waited_for_when_the_deadline_allows() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(
        &clock,
        vec![Step::Reply {
            status: 429,
            retry_after: Some("1"),
            body: "",
        }],
    ));
    let buffer = buffer(&[r#"{"a":1}"#]);
    let report = uploader(&clock, &transport).upload(&buffer, clock.deadline(S(5)));
    assert_eq!(clock.sleeps(), vec![S(1)]);
    assert_eq!(
        (report.requests, report.retries, report.lines_sent),
        (2, 1, 1)
    );
    assert_eq!(
        report.last_error.as_deref(),
        Some("the log server answered 429")
    );
    assert!(report.complete);
}

#[test]
fn no_retry_when_retry_after_does_not_fit_before_the_deadline() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(
        &clock,
        vec![Step::Reply {
            status: 429,
            retry_after: Some("1"),
            body: "",
        }],
    ));
    let buffer = buffer(&[r#"{"a":1}"#, r#"{"a":2}"#]);
    let report = uploader(&clock, &transport).upload(&buffer, clock.deadline(MS(1200)));
    assert_eq!(clock.sleeps(), vec![]);
    assert_eq!(
        report,
        FlushReport {
            requests: 1,
            lines_still_buffered: 2,
            complete: false,
            last_error: Some("the log server answered 429".to_string()),
            ..FlushReport::default()
        }
    );
    assert_eq!(buffer.stats().lines, 2);
}

/// 100 event lines in a buffer, an uploader making 4 KiB bodies, and a
/// server answering the first request `status` with `body`, then 200.
fn hundred_lines_in_4_kib_bodies(
    clock: &Arc<FakeClock>,
    status: u16,
    body: &'static str,
) -> (Arc<Script>, MemoryBuffer, Vec<String>, LogtailUploader) {
    let transport = Arc::new(Script::new(
        clock,
        vec![Step::Reply {
            status,
            retry_after: None,
            body,
        }],
    ));
    let lines = numbered(100);
    let buffer = MemoryBuffer::default();
    buffer.append(&lines).unwrap();
    let uploader = LogtailUploader::new(UploaderConfig {
        max_body_bytes: 4096,
        ..config(clock, transport.clone())
    })
    .unwrap();
    (transport, buffer, lines, uploader)
}

#[test]
fn a_refused_batch_is_dropped_and_counted_and_the_rest_still_goes() {
    let clock = FakeClock::new();
    let (transport, buffer, _, uploader) =
        hundred_lines_in_4_kib_bodies(&clock, 400, "entry 0 (0-based) must be a JSON object\n");
    let report = uploader.upload(&buffer, clock.deadline(S(10)));
    let requests = transport.requests();
    let first_batch = lines_of(&requests[0].0).len() as u64;
    assert_eq!(report.batches_dropped, 1);
    assert_eq!(report.lines_dropped, first_batch);
    assert_eq!(report.lines_sent, 100 - first_batch);
    assert_eq!(report.batches_sent, requests.len() as u64 - 1);
    assert_eq!(report.retries, 0);
    assert!(report.complete);
    assert_eq!(
        report.last_error.as_deref(),
        Some("the log server answered 400: entry 0 (0-based) must be a JSON object")
    );
    assert_eq!(buffer.stats().lines, 0);
    assert_eq!(clock.sleeps(), vec![]);
}

#[test]
fn an_auth_path_or_proxy_answer_keeps_every_batch_and_ends_the_flush() {
    for status in [401, 403, 404, 407, 415] {
        let clock = FakeClock::new();
        let (transport, buffer, lines, uploader) =
            hundred_lines_in_4_kib_bodies(&clock, status, "<html>Sign in to the Wi-Fi</html>");
        let report = uploader.upload(&buffer, clock.deadline(S(10)));
        assert_eq!(
            report,
            FlushReport {
                requests: 1,
                lines_still_buffered: 100,
                complete: false,
                last_error: Some(format!(
                    "the log server answered {status}: <html>Sign in to the Wi-Fi</html> (the \
                     batch is kept: a {status} is about the request's way, not its lines; check \
                     server_url and collection, or a proxy or captive portal answering in the \
                     log server's place)"
                )),
                ..FlushReport::default()
            },
            "{status}"
        );
        assert_eq!(clock.sleeps(), vec![], "{status}");
        // Once the way is clear, the next flush sends every line.
        let report = uploader.upload(&buffer, clock.deadline(S(10)));
        assert_eq!(
            (report.lines_sent, report.complete),
            (100, true),
            "{status}"
        );
        let sent: Vec<String> = transport.requests()[1..]
            .iter()
            .flat_map(|(r, _)| lines_of(r))
            .collect();
        assert_eq!(sent, lines, "{status}");
    }
}

#[test]
fn a_slow_server_cannot_hold_the_flush_past_its_deadline() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(&clock, vec![Step::Hang, Step::Hang]));
    let buffer = buffer(&[r#"{"a":1}"#]);
    let deadline = clock.deadline(S(2));
    let report = uploader(&clock, &transport).upload(&buffer, deadline);
    assert_eq!(transport.timeouts(), vec![S(2)]);
    assert_eq!(clock.now(), deadline);
    assert_eq!(clock.sleeps(), vec![]);
    assert!(!report.complete);
    assert_eq!((report.requests, report.lines_still_buffered), (1, 1));
    assert_eq!(
        report.last_error.as_deref(),
        Some("no answer from the log server within 2s")
    );
}

#[test]
fn requests_time_out_after_45_s_at_most() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(&clock, vec![]));
    let buffer = buffer(&[r#"{"a":1}"#]);
    uploader(&clock, &transport).upload(&buffer, clock.deadline(S(600)));
    assert_eq!(transport.timeouts(), vec![S(45)]);
}

#[test]
fn failures_back_off_exponentially_until_the_deadline() {
    let clock = FakeClock::new();
    let steps = (0..50)
        .map(|_| Step::Fail(TransportError::Connect("connection refused".into())))
        .collect();
    let transport = Arc::new(Script::new(&clock, steps));
    let buffer = buffer(&[r#"{"a":1}"#]);
    let deadline = clock.deadline(S(20));
    let report = uploader(&clock, &transport).upload(&buffer, deadline);
    let sleeps = clock.sleeps();
    assert!(sleeps.len() >= 3, "{sleeps:?}");
    for (i, wait) in sleeps.iter().enumerate() {
        let base = S(1) * (1 << i);
        assert!((base / 2..=base).contains(wait), "{i}: {wait:?}");
    }
    assert!(clock.now() <= deadline);
    // Stopped because the next wait and a request did not fit.
    let remaining = deadline - clock.now();
    assert!(
        remaining < S(1) * (1 << sleeps.len()) / 2 + MS(250),
        "{remaining:?}"
    );
    assert_eq!(report.requests, sleeps.len() as u64 + 1);
    assert_eq!(report.retries, sleeps.len() as u64);
    assert!(!report.complete);
    assert_eq!(
        report.last_error.as_deref(),
        Some("could not connect to the log server: connection refused")
    );
}

#[test]
fn failures_in_a_row_reset_after_a_success() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(
        &clock,
        vec![reply(503), reply(503), reply(200), reply(503), reply(200)],
    ));
    let buffer = MemoryBuffer::default();
    buffer.append(&numbered(100)).unwrap();
    let uploader = LogtailUploader::new(UploaderConfig {
        max_body_bytes: 8192,
        ..config(&clock, transport.clone())
    })
    .unwrap();
    let report = uploader.upload(&buffer, clock.deadline(S(30)));
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 3);
    assert!((MS(500)..=S(1)).contains(&sleeps[0]));
    assert!((S(1)..=S(2)).contains(&sleeps[1]));
    assert!((MS(500)..=S(1)).contains(&sleeps[2]), "{sleeps:?}");
    assert!(report.complete);
}

#[test]
fn an_unusable_transport_stops_the_flush_at_once() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(
        &clock,
        vec![Step::Fail(TransportError::Unusable("no runtime".into()))],
    ));
    let buffer = buffer(&[r#"{"a":1}"#]);
    let report = uploader(&clock, &transport).upload(&buffer, clock.deadline(S(10)));
    assert_eq!((report.requests, report.retries), (1, 0));
    assert!(!report.complete);
    assert_eq!(clock.sleeps(), vec![]);
}

#[test]
fn a_passed_deadline_sends_nothing() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(&clock, vec![]));
    let buffer = buffer(&[r#"{"a":1}"#]);
    let report = uploader(&clock, &transport).upload(&buffer, clock.deadline(MS(100)));
    assert_eq!(report.requests, 0);
    assert!(!report.complete);
    assert_eq!(report.lines_still_buffered, 1);
}

#[test]
fn messages_never_contain_the_private_id() {
    let clock = FakeClock::new();
    let url = format!("http://127.0.0.1:1/c/test/{}", hex());
    let leaky: &'static str = Box::leak(format!("bad request to {url}").into_boxed_str());
    let transport = Arc::new(Script::new(
        &clock,
        vec![
            Step::Fail(TransportError::Request(format!(
                "error sending request for url ({url})"
            ))),
            Step::Reply {
                status: 404,
                retry_after: None,
                body: leaky,
            },
        ],
    ));
    let buffer = buffer(&[r#"{"a":1}"#]);
    let uploader = uploader(&clock, &transport);
    let report = uploader.upload(&buffer, clock.deadline(S(10)));
    let error = report.last_error.unwrap();
    assert!(
        error.starts_with(
            "the log server answered 404: bad request to http://127.0.0.1:1/c/test/<private-id> (the batch is kept"
        ),
        "{error}"
    );
    assert!(!format!("{uploader:?}").contains(&hex()));
    assert!(!format!("{:?}", config(&clock, transport.clone())).contains(&hex()));
    assert!(!format!("{:?}", transport.requests()[0].0).contains(&hex()));
    assert_eq!(
        uploader.redact(&format!("error sending request for url ({url})")),
        "error sending request for url (http://127.0.0.1:1/c/test/<private-id>)"
    );
}

#[test]
fn a_private_id_cut_by_the_reason_length_is_still_redacted() {
    // An HTML 404 page quoting the path, the ID straddling the 200th
    // character of the reason.
    let clock = FakeClock::new();
    let prefix = format!("<html><body><p>{}The URL /c/test/", "-".repeat(139));
    assert_eq!(prefix.len(), 170);
    let page: &'static str =
        Box::leak(format!("{prefix}{} was not found.</p></body></html>", hex()).into_boxed_str());
    let transport = Arc::new(Script::new(
        &clock,
        vec![Step::Reply {
            status: 404,
            retry_after: None,
            body: page,
        }],
    ));
    let buffer = buffer(&[r#"{"a":1}"#]);
    let report = uploader(&clock, &transport).upload(&buffer, clock.deadline(S(10)));
    let error = report.last_error.unwrap();
    assert!(
        error.starts_with(&format!(
            "the log server answered 404: {prefix}<private-id> was not"
        )),
        "{error}"
    );
    let lower = error.to_ascii_lowercase();
    for i in 0..=hex().len() - 8 {
        assert!(!lower.contains(&hex()[i..i + 8]), "{error}");
    }
}

#[test]
fn server_reasons_are_cut_short_and_cleaned() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(&clock, vec![]));
    let uploader = uploader(&clock, &transport);
    let response = HttpResponse {
        status: 413,
        headers: vec![],
        body: format!("too\nbig {}", "x".repeat(500)).into_bytes(),
    };
    let text = uploader.describe_status(&response);
    assert!(text.starts_with("the log server answered 413: too big xxx"));
    assert_eq!(
        text.len(),
        "the log server answered 413: ".len() + MAX_REASON_CHARS
    );
}

#[test]
fn a_buffer_that_cannot_remove_stops_the_flush() {
    struct Stuck(MemoryBuffer);
    impl LogBuffer for Stuck {
        fn append(&self, lines: &[String]) -> Result<(), BufferError> {
            self.0.append(lines)
        }
        fn read(
            &self,
            after: Option<Cursor>,
            max: usize,
        ) -> Result<Vec<BufferedLine>, BufferError> {
            self.0.read(after, max)
        }
        fn last_cursor(&self) -> Result<Option<Cursor>, BufferError> {
            self.0.last_cursor()
        }
        fn remove_through(&self, _: Cursor) -> Result<(), BufferError> {
            Err(BufferError::DiskFull { lines: 0 })
        }
        fn stats(&self) -> BufferStats {
            self.0.stats()
        }
    }
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(&clock, vec![]));
    let buffer = Stuck(buffer(&[r#"{"a":1}"#]));
    let report = uploader(&clock, &transport).upload(&buffer, clock.deadline(S(10)));
    assert_eq!(report.requests, 1);
    assert!(!report.complete);
    assert!(report
        .last_error
        .unwrap()
        .starts_with("removing sent lines from the log buffer failed: "));
}

#[test]
fn bad_settings_are_refused_when_the_uploader_is_made() {
    let clock = FakeClock::new();
    let transport = Arc::new(Script::new(&clock, vec![]));
    let err = LogtailUploader::new(UploaderConfig {
        base_url: "http://logs.example.com".into(),
        ..config(&clock, transport.clone())
    })
    .unwrap_err();
    assert!(matches!(err, ConfigError::InsecureHttp { .. }), "{err}");
    let err = LogtailUploader::new(UploaderConfig {
        max_body_bytes: 100,
        ..config(&clock, transport.clone())
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "uploader setting max_body_bytes is out of range: 100 is below the minimum of 1024 bytes"
    );
    let ok = LogtailUploader::new(UploaderConfig::new(private_id(), transport)).unwrap();
    assert_eq!(ok.base_url(), DEFAULT_BASE_URL);
    assert_eq!(ok.collection(), DEFAULT_COLLECTION);
}
