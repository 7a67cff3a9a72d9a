//! Enable/disable from many threads at once. Its own test binary, so that
//! the worker-thread count it checks is not disturbed by other tests.

mod common;

use common::wait_for;
use sockstatlog::{
    Counters, Label, Logger, MemoryBuffer, Options, PublicId, Snapshot, SourceError,
};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const NODE: &str = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d";

/// Threads of this process named like the worker (Linux only; elsewhere 1).
fn worker_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 1;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "sockstatlog")
        .count()
}

/// Counts calls and the most calls ever in progress at once.
#[derive(Default)]
struct CountingSource {
    calls: AtomicU64,
    in_call: AtomicUsize,
    max_in_call: AtomicUsize,
}

impl CountingSource {
    fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let now = self.in_call.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_call.fetch_max(now, Ordering::SeqCst);
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::yield_now();
        self.in_call.fetch_sub(1, Ordering::SeqCst);
        Snapshot::new(false, [(Label(1), Counters { tx: n, rx: n })])
            .map_err(|e| SourceError(e.to_string()))
    }
}

/// Eight threads toggle 10,000 times each and all end by requesting
/// `last`, in whatever order the scheduler picks: the worker must then do
/// what `last` says (poll, or park with no timer and poll no more).
fn toggle_from_eight_threads_ending_with(last: bool) {
    let source = Arc::new(CountingSource::default());
    let dir = tempfile::tempdir().unwrap();
    let s = source.clone();
    let logger = Logger::new(
        dir.path(),
        NODE.parse::<PublicId>().unwrap(),
        Arc::new(move || s.snapshot()),
        Options {
            poll_period: Duration::from_millis(10),
            buffer: Some(Arc::new(MemoryBuffer::default())),
            ..Options::default()
        },
    )
    .unwrap();
    let logger = Arc::new(logger);
    wait_for("the worker thread to start", || worker_threads() == 1);
    let start = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let (logger, start) = (logger.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 0..10_000 {
                    logger.set_logging_enabled((i + t) % 2 == 0).unwrap();
                }
                logger.set_logging_enabled(last).unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(worker_threads(), 1, "exactly one worker thread exists");

    // The last requested state wins, in what the worker does.
    assert_eq!(logger.is_logging_enabled(), last);
    assert_eq!(logger.stats().logging_enabled, last);
    // A flush is handled by the worker after every request above.
    logger.flush(Duration::from_secs(5)).unwrap();
    if last {
        let calls = source.calls.load(Ordering::SeqCst);
        wait_for("polling to go on", || {
            source.calls.load(Ordering::SeqCst) > calls + 2
        });
        assert!(!logger.is_worker_parked());
    } else {
        wait_for("the worker to park with no timer", || {
            logger.is_worker_parked()
        });
        let calls = source.calls.load(Ordering::SeqCst);
        logger.flush(Duration::from_secs(5)).unwrap();
        assert_eq!(
            source.calls.load(Ordering::SeqCst),
            calls,
            "disabled, the worker polls no more"
        );
        assert!(logger.is_worker_parked());
    }
    assert_eq!(
        source.max_in_call.load(Ordering::SeqCst),
        1,
        "never two polls at once"
    );

    let started = Instant::now();
    logger.shutdown(Duration::from_secs(5)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(worker_threads(), 0, "the worker ended with shutdown");
    assert_eq!(source.max_in_call.load(Ordering::SeqCst), 1);
}

// One test function: the worker-thread count is per process, so the two
// cases must not run at once.
#[test]
fn eight_threads_toggling_leave_one_worker_doing_what_the_last_request_says() {
    toggle_from_eight_threads_ending_with(false);
    toggle_from_eight_threads_ending_with(true);
}
