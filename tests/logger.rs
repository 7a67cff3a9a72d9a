//! The logger end to end through its worker thread: polling, timing,
//! failures, enable/disable races, and that nothing is lost on disable or
//! shutdown.
//!
//! Timing assertions use an injected [`ManualClock`]; tests wait for the
//! worker by watching its counters, never by sleeping a fixed time.

use serde_json::Value;
use sockstatlog::buffer::{BufferError, BufferStats, BufferedLine, Cursor};
use sockstatlog::{
    Counters, Error, Label, LogBuffer, Logger, ManualClock, MemoryBuffer, Options, PublicId,
    Snapshot, SourceError,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
const NODE: &str = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d";

fn node() -> PublicId {
    NODE.parse().unwrap()
}

/// Waits until `cond` holds, failing the test after 20 s (a hang).
fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(MS);
    }
}

/// A counter source whose counters the test moves by hand.
#[derive(Default)]
struct FeedSource {
    counters: Mutex<BTreeMap<u8, Counters>>,
    cellular: AtomicBool,
    calls: AtomicU64,
    in_call: AtomicUsize,
    max_in_call: AtomicUsize,
}

impl FeedSource {
    fn feed(&self, label: u8, tx: u64, rx: u64) {
        let mut counters = self.counters.lock().unwrap();
        let c = counters.entry(label).or_default();
        c.tx += tx;
        c.rx += rx;
    }

    fn set(&self, label: u8, tx: u64, rx: u64) {
        self.counters
            .lock()
            .unwrap()
            .insert(label, Counters { tx, rx });
    }

    fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let now = self.in_call.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_call.fetch_max(now, Ordering::SeqCst);
        self.calls.fetch_add(1, Ordering::SeqCst);
        let counters = self.counters.lock().unwrap().clone();
        let snapshot = Snapshot::new(
            self.cellular.load(Ordering::SeqCst),
            counters.into_iter().map(|(l, c)| (Label(l), c)),
        )
        .map_err(|e| SourceError(e.to_string()));
        self.in_call.fetch_sub(1, Ordering::SeqCst);
        snapshot
    }
}

fn logger_with(
    source: Arc<FeedSource>,
    buffer: Arc<dyn LogBuffer>,
    options: Options,
) -> (Logger, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        buffer: Some(buffer),
        ..options
    };
    let logger = Logger::new(
        dir.path().join("logs"),
        node(),
        Arc::new(move || source.snapshot()),
        options,
    )
    .unwrap();
    (logger, dir)
}

fn buffered_lines(buffer: &dyn LogBuffer) -> Vec<String> {
    buffer
        .read(None, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect()
}

/// Sums tx and rx over every event line.
fn logged_bytes(lines: &[String]) -> (u64, u64) {
    let (mut tx, mut rx) = (0u64, 0u64);
    for line in lines {
        let v: Value = serde_json::from_str(line).unwrap();
        if let Some(stats) = v["s"].as_object() {
            for pair in stats.values() {
                tx += pair[0].as_u64().unwrap();
                rx += pair[1].as_u64().unwrap();
            }
        }
    }
    (tx, rx)
}

#[test]
fn events_carry_exact_times_deltas_and_the_cellular_flag() {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let source = Arc::new(FeedSource::default());
    let buffer = Arc::new(MemoryBuffer::default());
    let options = Options {
        poll_period: 10 * MS,
        source_timeout: Some(Duration::from_secs(3_600)),
        clock: clock.clone(),
        ..Options::default()
    };
    let (logger, _dir) = logger_with(source.clone(), buffer.clone(), options);
    source.set(8, 1_000, 2_000);
    logger.set_logging_enabled(true).unwrap();
    wait_for("the baseline poll", || {
        source.calls.load(Ordering::SeqCst) == 1
    });

    source.feed(8, 1_500, 4_000);
    clock.advance(10 * MS);
    wait_for("the second poll", || logger.stats().polls == 2);

    source.cellular.store(true, Ordering::SeqCst);
    source.feed(11, 300, 0);
    clock.advance(10 * MS);
    wait_for("the third poll", || logger.stats().polls == 3);

    logger.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(
        buffered_lines(buffer.as_ref()),
        [
            r#"{"t":1700000000000,"d":10,"s":{"8":[1500,4000]}}"#,
            r#"{"t":1700000000010,"d":10,"c":1,"s":{"11":[300,0]}}"#,
        ]
    );
    assert_eq!(logger.stats().events, 2);
    logger.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_device_sleep_gives_one_event_for_the_whole_sleep_and_no_catch_up_burst() {
    let clock = Arc::new(ManualClock::new(0));
    let source = Arc::new(FeedSource::default());
    let buffer = Arc::new(MemoryBuffer::default());
    let options = Options {
        poll_period: 10 * MS,
        source_timeout: Some(Duration::from_secs(3_600)),
        clock: clock.clone(),
        ..Options::default()
    };
    let (logger, _dir) = logger_with(source.clone(), buffer.clone(), options);
    logger.set_logging_enabled(true).unwrap();
    wait_for("the baseline poll", || logger.stats().polls == 1);

    source.feed(9, 10, 20);
    clock.advance(Duration::from_secs(3_600));
    wait_for("the poll after the sleep", || logger.stats().polls == 2);
    // Give a burst the chance to show itself: the next poll is due only
    // after the clock moves again.
    clock.advance(10 * MS);
    wait_for("one more poll", || logger.stats().polls == 3);
    logger.flush(Duration::from_secs(5)).unwrap();

    assert_eq!(
        buffered_lines(buffer.as_ref()),
        [r#"{"t":0,"d":3600000,"s":{"9":[10,20]}}"#]
    );
    let stats = logger.stats();
    assert_eq!(stats.missed_ticks, 359_999);
    assert_eq!(stats.polls, 4); // baseline, after the sleep, one more, the flush's
    logger.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_failing_or_panicking_source_skips_polls_and_loses_no_bytes() {
    let clock = Arc::new(ManualClock::new(0));
    let feed = Arc::new(FeedSource::default());
    let calls = Arc::new(AtomicU64::new(0));
    let buffer = Arc::new(MemoryBuffer::default());
    let dir = tempfile::tempdir().unwrap();
    let (f, c) = (feed.clone(), calls.clone());
    let source = move || -> Result<Snapshot, SourceError> {
        match c.fetch_add(1, Ordering::SeqCst) {
            1 => Err(SourceError("TrafficStats unsupported".into())),
            2 => panic!("a bug in the platform glue"),
            _ => f.snapshot(),
        }
    };
    let logger = Logger::new(
        dir.path(),
        node(),
        Arc::new(source),
        Options {
            poll_period: 10 * MS,
            source_timeout: Some(Duration::from_secs(3_600)),
            clock: clock.clone(),
            buffer: Some(buffer.clone()),
            ..Options::default()
        },
    )
    .unwrap();
    logger.set_logging_enabled(true).unwrap();
    wait_for("the baseline", || calls.load(Ordering::SeqCst) == 1);
    for _ in 0..3 {
        feed.feed(1, 100, 1_000);
        let before = calls.load(Ordering::SeqCst);
        clock.advance(10 * MS);
        wait_for("a poll", || calls.load(Ordering::SeqCst) == before + 1);
    }
    logger.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(
        buffered_lines(buffer.as_ref()),
        [r#"{"t":0,"d":30,"s":{"1":[300,3000]}}"#]
    );
    assert_eq!(logger.stats().source_errors, 2);
    logger.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_blocked_source_stalls_no_caller_and_its_late_answer_is_skipped() {
    let release = Arc::new(Barrier::new(2));
    let entered = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let buffer = Arc::new(MemoryBuffer::default());
    let dir = tempfile::tempdir().unwrap();
    let (r, e, c) = (release.clone(), entered.clone(), calls.clone());
    let source = move || -> Result<Snapshot, SourceError> {
        let n = c.fetch_add(1, Ordering::SeqCst);
        if n == 1 {
            e.store(true, Ordering::SeqCst);
            r.wait(); // blocks until the test releases it
        }
        Snapshot::new(false, [(Label(1), Counters { tx: n, rx: 0 })])
            .map_err(|e| SourceError(e.to_string()))
    };
    let logger = Logger::new(
        dir.path(),
        node(),
        Arc::new(source),
        Options {
            poll_period: 10 * MS,
            buffer: Some(buffer.clone()),
            ..Options::default()
        },
    )
    .unwrap();
    logger.set_logging_enabled(true).unwrap();
    wait_for("the source to block", || entered.load(Ordering::SeqCst));
    logger.write("written while the source is blocked").unwrap();

    let start = Instant::now();
    logger.set_logging_enabled(false).unwrap();
    let report = logger.flush(Duration::from_millis(200)).unwrap();
    let flushed_in = start.elapsed();
    let shutdown = logger.shutdown(Duration::from_millis(200));
    let total = start.elapsed();

    assert!(
        flushed_in < Duration::from_secs(2),
        "flush waited {flushed_in:?}"
    );
    assert!(total < Duration::from_secs(4), "calls waited {total:?}");
    assert!(matches!(
        shutdown,
        Err(Error::DeadlineExceeded {
            operation: "shutdown",
            ..
        })
    ));
    assert_eq!(report.lines_still_buffered, 1);
    assert_eq!(
        buffered_lines(buffer.as_ref()),
        ["written while the source is blocked"]
    );

    release.wait();
    wait_for("the slow poll to be counted", || {
        logger.stats().source_too_slow == 1
    });
    assert!(matches!(logger.shutdown(Duration::from_secs(5)), Ok(())));
}

#[test]
fn disable_and_shutdown_lose_no_byte() {
    let source = Arc::new(FeedSource::default());
    let buffer = Arc::new(MemoryBuffer::default());
    let options = Options {
        poll_period: 10 * MS,
        batch_period: Duration::from_secs(3_600),
        ..Options::default()
    };
    let (logger, _dir) = logger_with(source.clone(), buffer.clone(), options);
    let (mut fed_tx, mut fed_rx) = (0, 0);
    for round in 0..3 {
        logger.set_logging_enabled(true).unwrap();
        let polls = logger.stats().polls;
        wait_for("the baseline", || logger.stats().polls > polls);
        for i in 0..200u64 {
            let label = (i % 13) as u8;
            source.feed(label, i, 2 * i);
            fed_tx += i;
            fed_rx += 2 * i;
            if i % 50 == 0 {
                std::thread::yield_now();
            }
        }
        if round < 2 {
            logger.set_logging_enabled(false).unwrap();
        }
    }
    logger.shutdown(Duration::from_secs(5)).unwrap();
    let lines = buffered_lines(buffer.as_ref());
    assert_eq!(logged_bytes(&lines), (fed_tx, fed_rx));
    assert_eq!(logger.stats().dropped_lines, 0);
}

#[test]
fn after_shutdown_every_call_fails_clearly_and_nothing_restarts() {
    let source = Arc::new(FeedSource::default());
    let (logger, _dir) = logger_with(
        source.clone(),
        Arc::new(MemoryBuffer::default()),
        Options::default(),
    );
    logger.set_logging_enabled(true).unwrap();
    logger.shutdown(Duration::from_secs(5)).unwrap();
    logger.shutdown(Duration::from_secs(5)).unwrap();
    let calls = source.calls.load(Ordering::SeqCst);
    let err = logger.set_logging_enabled(true).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the logger has been shut down; create a new logger to log again"
    );
    assert!(matches!(logger.write("x"), Err(Error::ShutDown)));
    assert!(matches!(
        logger.flush(Duration::from_secs(1)),
        Err(Error::ShutDown)
    ));
    assert!(!logger.is_logging_enabled());
    assert_eq!(source.calls.load(Ordering::SeqCst), calls);
}

#[test]
fn written_lines_keep_their_place_among_events_and_bad_lines_are_rejected() {
    let clock = Arc::new(ManualClock::new(0));
    let source = Arc::new(FeedSource::default());
    let buffer = Arc::new(MemoryBuffer::default());
    let options = Options {
        poll_period: 10 * MS,
        source_timeout: Some(Duration::from_secs(3_600)),
        clock: clock.clone(),
        ..Options::default()
    };
    let (logger, _dir) = logger_with(source.clone(), buffer.clone(), options);
    logger.write("{\"before\":1}\n").unwrap();
    logger.set_logging_enabled(true).unwrap();
    wait_for("the baseline", || logger.stats().polls == 1);
    source.feed(2, 5, 5);
    clock.advance(10 * MS);
    wait_for("a poll", || logger.stats().polls == 2);
    logger.write("plain text after the event").unwrap();
    assert!(matches!(logger.write(""), Err(Error::InvalidLine(_))));
    assert_eq!(
        logger.write("two\nlines").unwrap_err().to_string(),
        "line rejected: the line contains a line break at byte 3; write one line per call"
    );
    logger.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(
        buffered_lines(buffer.as_ref()),
        [
            "{\"before\":1}",
            r#"{"t":0,"d":10,"s":{"2":[5,5]}}"#,
            "plain text after the event",
        ]
    );
}

/// A buffer that fails while `full` is set, like a full disk.
#[derive(Default)]
struct FlakyBuffer {
    inner: MemoryBuffer,
    full: AtomicBool,
}

impl LogBuffer for FlakyBuffer {
    fn append(&self, lines: &[String]) -> Result<(), BufferError> {
        if self.full.load(Ordering::SeqCst) {
            return Err(BufferError::DiskFull { lines: lines.len() });
        }
        self.inner.append(lines)
    }
    fn read(&self, after: Option<Cursor>, max: usize) -> Result<Vec<BufferedLine>, BufferError> {
        self.inner.read(after, max)
    }
    fn last_cursor(&self) -> Result<Option<Cursor>, BufferError> {
        self.inner.last_cursor()
    }
    fn remove_through(&self, through: Cursor) -> Result<(), BufferError> {
        self.inner.remove_through(through)
    }
    fn stats(&self) -> BufferStats {
        self.inner.stats()
    }
}

#[test]
fn a_failing_buffer_keeps_lines_queued_and_a_full_queue_drops_the_oldest_with_a_marker() {
    let source = Arc::new(FeedSource::default());
    let buffer = Arc::new(FlakyBuffer::default());
    buffer.full.store(true, Ordering::SeqCst);
    let options = Options {
        max_queued_lines: 3,
        ..Options::default()
    };
    let (logger, _dir) = logger_with(source, buffer.clone(), options);
    for n in 0..5 {
        let result = logger.write(&format!("line {n}"));
        assert!(matches!(
            result,
            Err(Error::Buffer(BufferError::DiskFull { .. }))
        ));
    }
    assert_eq!(logger.stats().dropped_lines, 2);
    buffer.full.store(false, Ordering::SeqCst);
    logger.write("line 5").unwrap();
    assert_eq!(
        buffered_lines(buffer.as_ref()),
        [
            r#"{"sockstatlog":{"dropped_lines":3,"dropped_bytes":18,"reason":"memory queue full"}}"#,
            "line 3",
            "line 4",
            "line 5",
        ]
    );
    logger.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn the_log_id_is_the_public_id_of_the_derived_sockstat_id_and_no_private_id_leaks() {
    let (logger, _dir) = logger_with(
        Arc::new(FeedSource::default()),
        Arc::new(MemoryBuffer::default()),
        Options::default(),
    );
    let derived = node().sockstat_private_id();
    assert_eq!(logger.log_id(), derived.public());
    let debug = format!("{logger:?}");
    assert!(!debug.contains(&derived.expose_hex()));
    assert!(debug.contains(&derived.public().to_string()));
}

#[test]
fn bad_options_and_directories_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(|| Ok(Snapshot::default()));
    let err = Logger::new(
        dir.path(),
        node(),
        source.clone(),
        Options {
            poll_period: MS,
            ..Options::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid option poll_period: 1ms is below the minimum of 10ms"
    );
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = Logger::new(&file, node(), source, Options::default()).unwrap_err();
    assert!(matches!(err, Error::LogDirectory { .. }), "{err}");
    assert!(err
        .to_string()
        .starts_with(&format!("cannot use log directory {}", file.display())));
}
