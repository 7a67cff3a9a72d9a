//! A slow server cannot hold a flush past its deadline, and the batch stays.

use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, FaultConfig, Server};
use std::time::{Duration, Instant};

#[test]
fn a_flush_returns_by_its_deadline_and_keeps_the_batch() {
    let server = Server::start(Config {
        faults: FaultConfig {
            slow: 1.0,
            slow_delay: Duration::from_secs(3),
            ..FaultConfig::default()
        },
        ..Config::in_memory()
    })
    .unwrap();
    let Setup {
        server: _server,
        transport,
        buffer,
        logger,
        dir: _dir,
    } = setup(server, 256 * 1024);
    let lines = event_lines(50, 1_764_373_555_000);
    for line in &lines {
        logger.write(line).unwrap();
    }
    let deadline = Duration::from_secs(1);
    let started = Instant::now();
    let report = logger.flush(deadline).unwrap();
    let took = started.elapsed();
    println!("flush with a 1 s deadline against a 3 s server took {took:?}");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < deadline + Duration::from_millis(500), "{took:?}");
    assert!(!report.complete);
    assert_eq!(report.lines_sent, 0);
    assert_eq!(report.lines_still_buffered, 50);
    assert!(
        report
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("no answer from the log server within"),
        "{report:?}"
    );
    let requests = transport.requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].timeout <= deadline);
    assert_eq!(buffered(buffer.as_ref()), lines);
}
