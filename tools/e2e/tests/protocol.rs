//! The wire protocol, checked against the log server: what is stored, in
//! which form, and how bodies are encoded.

use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, Server};
use std::time::Duration;

#[test]
fn entries_are_stored_exactly_with_the_logtail_member_first() {
    let server = Server::start(Config::in_memory()).unwrap();
    let Setup {
        server,
        transport,
        buffer: _,
        logger,
        dir: _dir,
    } = setup(server, 256 * 1024);
    let event = event_lines(1, 1_764_373_555_000).remove(0);
    // Lines the Go client left in its buffer carry their own client_time.
    let go_event = r#"{"logtail": {"client_time": "2023-05-01T10:00:00.1234Z"}, "t":1682935199823,"d":100,"s":{"8":[1500,4000]}}"#;
    let go_text =
        r#"{"logtail":{"client_time":"2023-05-01T10:00:01Z"},"text":"sockstatlog: started"}"#;
    let lines = [
        event.as_str(),
        "plain text from the app: \"quoted\" \\ tab\t é 🎉",
        r#"{"logtail":{"client_time":"mine"},"a":1}"#,
        "{}",
        r#" { "spaced" : [1, 2.50, null] } "#,
        "[1,2,3]",
        go_event,
        go_text,
    ];
    for line in lines {
        logger.write(line).unwrap();
    }
    let report = logger.flush(Duration::from_secs(10)).unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!((report.batches_sent, report.lines_sent), (1, 8));
    assert_eq!(report.lines_still_buffered, 0);

    let stored = server.entries(COLLECTION, &log_id());
    assert_eq!(stored.len(), 8, "{stored:#?}");
    // Every entry starts with the member. The event's client_time is the
    // end of its interval (t + d); lines that do not say when they were
    // logged carry the upload time, one value per body.
    let time = &stored[1][r#"{"logtail":{"client_time":""#.len()..][..30];
    assert!(is_client_time(time), "{time}");
    let member = format!(r#"{{"logtail":{{"client_time":"{time}"}}"#);
    let event_member = r#"{"logtail":{"client_time":"2025-11-28T23:45:55.100000000Z"}"#;
    let expected = vec![
        format!("{event_member},{}", &event[1..]),
        format!(r#"{member},"text":"plain text from the app: \"quoted\" \\ tab\t é 🎉"}}"#),
        format!(r#"{member},"text":"{{\"logtail\":{{\"client_time\":\"mine\"}},\"a\":1}}"}}"#),
        format!("{member}}}"),
        format!(r#"{member}, "spaced" : [1, 2.50, null] }}"#),
        format!(r#"{member},"text":"[1,2,3]"}}"#),
        // The Go client's lines, exactly as they were buffered.
        go_event.to_string(),
        go_text.to_string(),
    ];
    assert_eq!(stored, expected);
    // The object lines come back byte for byte once the member is removed.
    assert_eq!(strip_member(&stored[0]).unwrap(), event);
    assert_eq!(strip_member(&stored[3]).unwrap(), "{}");

    // Over 256 bytes and compressible: zstd.
    let requests = transport.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("Content-Encoding"), Some("zstd"));
    assert_eq!(requests[0].header("Content-Type"), Some("application/json"));
    assert_eq!(
        requests[0].header("Orig-Content-Length"),
        Some(report.bytes_uncompressed.to_string().as_str())
    );

    // A body of 256 bytes or less goes as it is.
    logger.write(r#"{"a":1}"#).unwrap();
    let report = logger.flush(Duration::from_secs(10)).unwrap();
    assert!(report.complete);
    assert_eq!(report.bytes_sent, report.bytes_uncompressed);
    let requests = transport.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("Content-Encoding"), None);
    assert_eq!(requests[1].header("Orig-Content-Length"), None);
    let stored = server.entries(COLLECTION, &log_id());
    assert_eq!(strip_member(&stored[8]).as_deref(), Some(r#"{"a":1}"#));
    logger.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn big_bodies_are_sent_with_zstd_and_stored_in_order() {
    let server = Server::start(Config::in_memory()).unwrap();
    let Setup {
        server,
        transport,
        buffer: _,
        logger,
        dir: _dir,
    } = setup(server, 256 * 1024);
    let lines = event_lines(5_000, 1_764_373_555_000);
    for line in &lines {
        logger.write(line).unwrap();
    }
    let report = logger.flush(Duration::from_secs(20)).unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!(report.lines_sent, 5_000);
    assert!(report.batches_sent >= 2, "{report:?}");
    assert!(
        report.bytes_sent * 5 < report.bytes_uncompressed,
        "zstd should shrink event lines at least 5x: {report:?}"
    );
    let requests = transport.requests();
    assert_eq!(requests.len() as u64, report.batches_sent);
    for request in &requests {
        assert_eq!(request.header("Content-Encoding"), Some("zstd"));
        let original: usize = request
            .header("Orig-Content-Length")
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            original <= 256 * 1024 && original > 200 * 1024
                || request.started == requests.last().unwrap().started
        );
        assert!(request.body_len * 5 < original);
        assert_eq!(request.result, Ok(200));
    }
    let stored: Vec<String> = server
        .entries(COLLECTION, &log_id())
        .iter()
        .map(|e| strip_member(e).expect("an object entry"))
        .collect();
    assert_eq!(stored, lines);
    let stats = server.stats();
    assert_eq!((stats.accepted, stats.rejected), (report.batches_sent, 0));
    println!(
        "5000 events: {} batches, {} bytes JSON, {} bytes on the wire ({:.1}x)",
        report.batches_sent,
        report.bytes_uncompressed,
        report.bytes_sent,
        report.bytes_uncompressed as f64 / report.bytes_sent as f64
    );
}

#[test]
fn a_flush_with_nothing_buffered_makes_no_request() {
    let server = Server::start(Config::in_memory()).unwrap();
    let Setup {
        server,
        transport,
        buffer: _,
        logger,
        dir: _dir,
    } = setup(server, 256 * 1024);
    let report = logger.flush(Duration::from_secs(5)).unwrap();
    assert!(report.complete);
    assert_eq!(report.requests, 0);
    assert_eq!(transport.requests().len(), 0);
    assert_eq!(server.stats().requests, 0);
}
