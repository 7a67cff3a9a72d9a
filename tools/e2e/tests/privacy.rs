//! No piece of the private log ID (8 hex characters or more) in any error
//! text, log line or `Debug` output, whatever the server or the network
//! answers: servers and proxies quote the request path, which holds it.
//!
//! One test, so that the capturing `log` backend sees every scenario.

use sockstatlog::upload::{HttpTransport, LogtailUploader};
use sockstatlog::{Error, MemoryBuffer, Uploader};
use sockstatlog_e2e::stub::{Answer, StubServer};
use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, Server};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every log record, formatted.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0.lock().unwrap().push(format!(
            "{} {}: {}",
            record.level(),
            record.target(),
            record.args()
        ));
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

/// What the scenarios produced: texts to scan.
#[derive(Default)]
struct Texts(Vec<String>);

impl Texts {
    fn add(&mut self, text: impl Into<String>) {
        self.0.push(text.into());
    }
}

/// One flush of `lines` through an uploader to `base_url`; every text it
/// produces goes into `texts`.
fn flush_through(base_url: &str, lines: &[String], texts: &mut Texts) {
    let dir = tempfile::tempdir().unwrap();
    let buffer = Arc::new(MemoryBuffer::default());
    let transport = Recording::new();
    let up: Arc<LogtailUploader> = uploader(base_url, transport.clone(), quick_retries(), 4 * 1024);
    texts.add(format!("{up:?}"));
    let logger = logger(dir.path(), buffer.clone(), up);
    for line in lines {
        logger.write(line).unwrap();
    }
    let report = logger.flush(Duration::from_secs(1)).unwrap();
    texts.add(format!("{report:?}"));
    texts.add(report.last_error.clone().unwrap_or_default());
    texts.add(format!("{:?}", logger.stats()));
    texts.add(format!("{logger:?}"));
    texts.add(format!("{:?}", transport.requests()));
    logger.shutdown(Duration::from_secs(5)).unwrap();
    let after: Error = logger.flush(Duration::from_secs(1)).unwrap_err();
    texts.add(format!("{after} {after:?}"));
}

#[test]
fn no_piece_of_the_private_id_appears_in_any_message_log_line_or_debug_output() {
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let hex = private_id().expose_hex();
    let lines = event_lines(30, 1_764_373_555_000);
    let mut texts = Texts::default();

    // A good upload to the real server.
    let server = Server::start(Config::in_memory()).unwrap();
    flush_through(&server.base_url(), &lines, &mut texts);

    // Error pages quoting the path: whole, cut at the 200th character of
    // the reason, in capitals, and in pieces.
    let cut_page = format!(
        "<html><body><p>{}The URL {{path}} was not found.</p>",
        "-".repeat(140)
    );
    let answers = [
        Answer::new(404, &cut_page),
        Answer::new(
            404,
            "<html><title>404 Not Found</title><body>No such log: {path}</body></html>",
        ),
        Answer::new(401, "unauthorized: {path}"),
        Answer::new(403, "forbidden"),
        Answer::new(407, "Proxy-Authenticate required for {path}"),
        Answer::new(400, "bad body for {path}"),
        Answer::new(413, "too large: {path}"),
        Answer::new(500, "internal error at {path}"),
        Answer {
            headers: vec![("Retry-After".into(), "1".into())],
            ..Answer::new(429, "slow down, {path}")
        },
        Answer::new(302, "moved: {path}"),
    ];
    for answer in answers {
        let stub = StubServer::start(vec![answer]);
        flush_through(&stub.base_url(), &lines, &mut texts);
        assert!(stub.paths()[0].contains(&hex), "the stub saw the real path");
    }
    let upper = StubServer::start(vec![Answer::new(404, "NOT FOUND: {path}")]);
    // The stub quotes the path as sent; make a page with it in capitals.
    let shouting = StubServer::start(vec![Answer::new(
        404,
        &format!("NOT FOUND: /C/X/{}", hex.to_ascii_uppercase()),
    )]);
    let pieces = StubServer::start(vec![Answer::new(
        404,
        &format!("id starts {} and ends {}", &hex[..10], &hex[54..]),
    )]);
    for stub in [&upper, &shouting, &pieces] {
        flush_through(&stub.base_url(), &lines, &mut texts);
    }

    // Nothing listening: a transport error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    flush_through(&format!("http://127.0.0.1:{port}"), &lines, &mut texts);

    // The transport's own errors, straight.
    let transport = sockstatlog::upload::ReqwestTransport::new();
    let request = sockstatlog::upload::HttpRequest {
        url: format!("http://127.0.0.1:{port}/c/{COLLECTION}/{hex}"),
        headers: vec![],
        body: b"[]".to_vec(),
    };
    texts.add(format!("{request:?}"));
    let error = transport
        .post(&request, Duration::from_secs(2))
        .unwrap_err();
    texts.add(format!("{error} {error:?}"));
    transport.end_of_flush();

    // Direct uploads and the IDs' own Debug.
    let up = uploader(
        &server.base_url(),
        Recording::new(),
        quick_retries(),
        4 * 1024,
    );
    let buffer = MemoryBuffer::default();
    texts.add(format!(
        "{:?}",
        up.upload(&buffer, Instant::now() + Duration::from_secs(1))
    ));
    texts.add(format!("{:?} {:?}", private_id(), node()));

    let logged = CAPTURE.0.lock().unwrap().clone();
    assert!(
        logged.iter().any(|l| l.contains("answered 404")),
        "the capture saw the library's log lines: {logged:#?}"
    );
    let all: Vec<&String> = texts.0.iter().chain(logged.iter()).collect();
    assert!(all.len() > 50, "{}", all.len());
    for text in all {
        let lower = text.to_ascii_lowercase();
        for i in 0..=hex.len() - 8 {
            let piece = &hex[i..i + 8];
            assert!(
                !lower.contains(piece),
                "{piece} (characters {i}..{}) of the private ID in: {text}",
                i + 8
            );
        }
    }
}
