//! `Retry-After`: waited for when the flush's deadline allows, not tried
//! when it does not (the batch then waits for the next flush).

use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, Fault, FaultConfig, FaultPlan, RunningServer, Server};
use std::time::{Duration, Instant};

/// A server whose first upload gets `429` with `Retry-After: 1` and whose
/// second is handled normally (a seed picked with the server's own plan).
fn server_429_then_ok() -> RunningServer {
    let mut faults = FaultConfig {
        fail_429: 0.5,
        retry_after_secs: 1,
        ..FaultConfig::default()
    };
    faults.seed = (0..1_000)
        .find(|&seed| {
            let mut plan = FaultPlan::new(&FaultConfig {
                seed,
                ..faults.clone()
            });
            plan.next_fault()
                == Fault::TooManyRequests {
                    retry_after_secs: 1,
                }
                && plan.next_fault() == Fault::None
        })
        .expect("a seed giving 429 then success");
    Server::start(Config {
        faults,
        ..Config::in_memory()
    })
    .unwrap()
}

#[test]
fn retry_after_is_waited_for_when_the_deadline_allows() {
    let server = server_429_then_ok();
    let Setup {
        server,
        transport,
        buffer: _,
        logger,
        dir: _dir,
    } = setup(server, 256 * 1024);
    logger.write(r#"{"hello":"world"}"#).unwrap();
    let report = logger.flush(Duration::from_secs(5)).unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!(
        (report.requests, report.retries, report.lines_sent),
        (2, 1, 1)
    );
    let requests = transport.requests();
    assert_eq!(requests[0].result, Ok(429));
    assert_eq!(requests[1].result, Ok(200));
    let waited = requests[1].started - requests[0].finished;
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    assert!(
        waited < Duration::from_millis(1_500),
        "retried after {waited:?}"
    );
    assert_eq!(server.entries(COLLECTION, &log_id()).len(), 1);
}

#[test]
fn no_retry_when_the_wait_does_not_fit_and_the_next_flush_sends_it() {
    let server = server_429_then_ok();
    let Setup {
        server,
        transport: _,
        buffer,
        logger,
        dir: _dir,
    } = setup(server, 256 * 1024);
    logger.write(r#"{"hello":"world"}"#).unwrap();
    let started = Instant::now();
    let report = logger.flush(Duration::from_millis(1_100)).unwrap();
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(900),
        "waited for nothing: {took:?}"
    );
    assert!(!report.complete);
    assert_eq!((report.requests, report.retries), (1, 0));
    assert_eq!(report.lines_still_buffered, 1);
    assert!(
        report
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("the log server answered 429: injected fault"),
        "{report:?}"
    );
    assert_eq!(buffered(buffer.as_ref()), vec![r#"{"hello":"world"}"#]);
    assert!(server.entries(COLLECTION, &log_id()).is_empty());

    let report = logger.flush(Duration::from_secs(5)).unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!(report.lines_sent, 1);
    assert_eq!(server.entries(COLLECTION, &log_id()).len(), 1);
}
