//! Nothing is uploaded by itself: lines left in the buffer by an earlier run
//! wait, through start-up, enabling and polling, for the next flush.

use sockstatlog::buffer::{FileBuffer, FileBufferOptions};
use sockstatlog::{
    Counters, Label, LogBuffer, Logger, ManualClock, Options, Snapshot, SourceError,
};
use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, Server};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn lines_from_an_earlier_run_wait_for_a_flush_while_the_logger_polls() {
    let server = Server::start(Config::in_memory()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let earlier = event_lines(50, 1_764_373_555_000);
    {
        // An earlier run of the app left these in the buffer.
        let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
        buffer.append(&earlier).unwrap();
    }

    let transport = Recording::new();
    let clock = Arc::new(ManualClock::new(1_764_400_000_000));
    let calls = Arc::new(AtomicU64::new(0));
    let c = calls.clone();
    let source = Arc::new(move || -> Result<Snapshot, SourceError> {
        let n = c.fetch_add(1, Ordering::SeqCst);
        Snapshot::new(
            false,
            [(
                Label(8),
                Counters {
                    tx: 100 * n,
                    rx: 300 * n,
                },
            )],
        )
        .map_err(|e| SourceError(e.to_string()))
    });
    let logger = Logger::new(
        dir.path(),
        node(),
        source,
        Options {
            clock: clock.clone(),
            source_timeout: Some(Duration::from_secs(3_600)),
            batch_period: Duration::from_secs(1),
            uploader: Some(uploader(
                &server.base_url(),
                transport.clone(),
                quick_retries(),
                256 * 1024,
            )),
            ..Options::default()
        },
    )
    .unwrap();
    logger.set_logging_enabled(true).unwrap();
    let start = Instant::now();
    while calls.load(Ordering::SeqCst) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no baseline poll"
        );
        std::thread::yield_now();
    }
    // 30 simulated seconds of polling: 300 polls, 30 batches to the buffer.
    for n in 1..=300 {
        clock.advance(Duration::from_millis(100));
        let start = Instant::now();
        while calls.load(Ordering::SeqCst) <= n {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "poll {n} never came"
            );
            std::thread::yield_now();
        }
    }
    assert_eq!(
        transport.requests().len(),
        0,
        "nothing is uploaded before a flush"
    );
    assert_eq!(server.stats().requests, 0);

    let report = logger.flush(Duration::from_secs(10)).unwrap();
    assert!(report.complete, "{report:?}");
    let stored: Vec<String> = server
        .entries(COLLECTION, &log_id())
        .iter()
        .map(|e| strip_member(e).unwrap())
        .collect();
    assert_eq!(
        stored[..earlier.len()],
        earlier[..],
        "the earlier run's lines go first"
    );
    assert_eq!(
        stored.len() as u64,
        earlier.len() as u64 + logger.stats().events
    );
    logger.shutdown(Duration::from_secs(5)).unwrap();
}
