//! A batch the server refuses for good (4xx) is dropped and counted, and the
//! lines after it still go.

use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, Server};
use std::time::Duration;

#[test]
fn a_refused_batch_is_dropped_counted_and_does_not_block_the_rest() {
    // The server takes at most 8 KiB per body; the client aims for 4 KiB,
    // so only a batch holding the one huge line is over the limit.
    let server = Server::start(Config {
        body_limit: 8 * 1024,
        ..Config::in_memory()
    })
    .unwrap();
    let Setup {
        server,
        transport,
        buffer: _,
        logger,
        dir: _dir,
    } = setup(server, 4 * 1024);
    let lines = event_lines(60, 1_764_373_555_000);
    let poison = format!(r#"{{"huge":"{}"}}"#, "z".repeat(16 * 1024));
    for line in &lines[..30] {
        logger.write(line).unwrap();
    }
    logger.write(&poison).unwrap();
    for line in &lines[30..] {
        logger.write(line).unwrap();
    }
    let report = logger.flush(Duration::from_secs(10)).unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!((report.batches_dropped, report.lines_dropped), (1, 1));
    assert_eq!(report.lines_sent, 60);
    assert_eq!(report.lines_still_buffered, 0);
    assert_eq!(report.retries, 0);
    assert!(
        report
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("the log server answered 413: request body is larger than"),
        "{report:?}"
    );
    let stored: Vec<String> = server
        .entries(COLLECTION, &log_id())
        .iter()
        .map(|e| strip_member(e).unwrap())
        .collect();
    assert_eq!(stored, lines);
    let stats = server.stats();
    assert_eq!(stats.rejected, 1);
    assert_eq!(
        transport
            .requests()
            .iter()
            .filter(|r| r.result == Ok(413))
            .count(),
        1
    );
}
