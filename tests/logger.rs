//! The logger end to end through its worker thread: polling, timing,
//! failures, enable/disable races, and that nothing is lost on disable or
//! shutdown.
//!
//! Timing assertions use an injected [`ManualClock`]; tests wait for the
//! worker by watching its counters, never by sleeping a fixed time.

use serde_json::Value;
use sockstatlog::buffer::{BufferError, BufferStats, BufferedLine, Cursor};
mod common;

use common::{buffered_lines, wait_for, ScriptedUploader};
use sockstatlog::{
    Counters, Error, FlushReport, Label, LogBuffer, Logger, ManualClock, MemoryBuffer, Options,
    PublicId, Snapshot, SourceError,
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
            source_timeout: Some(10 * MS),
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
fn a_write_on_a_full_disk_is_accepted_and_stored_later_and_a_full_queue_drops_the_oldest_with_a_marker(
) {
    let source = Arc::new(FeedSource::default());
    let buffer = Arc::new(FlakyBuffer::default());
    buffer.full.store(true, Ordering::SeqCst);
    let options = Options {
        max_queued_lines: 3,
        ..Options::default()
    };
    let (logger, _dir) = logger_with(source, buffer.clone(), options);
    // Accepted (Ok) means queued and stored later: the full disk only
    // delays it, so the caller must not retry (that would duplicate it).
    for n in 0..5 {
        logger.write(&format!("line {n}")).unwrap();
    }
    assert_eq!(logger.stats().buffer_errors, 5);
    assert_eq!(logger.stats().dropped_lines, 2);
    assert!(buffered_lines(buffer.as_ref()).is_empty());
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

#[test]
fn shutdown_ok_means_every_accepted_line_is_stored_even_after_a_full_disk() {
    let source = Arc::new(FeedSource::default());
    let buffer = Arc::new(FlakyBuffer::default());
    let (logger, _dir) = logger_with(source, buffer.clone(), Options::default());
    logger.set_logging_enabled(true).unwrap();
    logger.write("accepted while the disk is fine").unwrap();
    buffer.full.store(true, Ordering::SeqCst);
    let err = logger.shutdown(Duration::from_secs(5)).unwrap_err();
    assert!(
        matches!(err, Error::Buffer(BufferError::DiskFull { .. })),
        "{err}"
    );
    assert!(buffered_lines(buffer.as_ref()).is_empty());
    buffer.full.store(false, Ordering::SeqCst);
    logger.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(
        buffered_lines(buffer.as_ref()),
        ["accepted while the disk is fine"]
    );
}

fn logger_uploading_to(
    uploader: Arc<ScriptedUploader>,
    source: Arc<dyn sockstatlog::CounterSource>,
    options: Options,
) -> (Logger, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let logger = Logger::new(
        dir.path(),
        node(),
        source,
        Options {
            uploader: Some(uploader),
            buffer: Some(Arc::new(MemoryBuffer::default())),
            ..options
        },
    )
    .unwrap();
    (logger, dir)
}

/// A logger with one line buffered and a flush (on its own thread) held
/// inside its upload until the test clears `uploader.hold`.
#[allow(clippy::type_complexity)]
fn a_flush_held_in_its_upload() -> (
    Arc<Logger>,
    Arc<ScriptedUploader>,
    std::thread::JoinHandle<Result<FlushReport, Error>>,
    tempfile::TempDir,
) {
    let uploader = Arc::new(ScriptedUploader::default());
    let source = Arc::new(|| Ok(Snapshot::default()));
    let (logger, _dir) = logger_uploading_to(uploader.clone(), source, Options::default());
    let logger = Arc::new(logger);
    logger.write("a line").unwrap();
    uploader.hold.store(true, Ordering::SeqCst);
    let flusher = {
        let logger = logger.clone();
        std::thread::spawn(move || logger.flush(Duration::from_secs(20)))
    };
    wait_for("the upload to start", || {
        uploader.uploading.load(Ordering::SeqCst)
    });
    (logger, uploader, flusher, _dir)
}

#[test]
fn a_blocked_source_leaves_most_of_the_flush_deadline_to_the_upload() {
    let release = Arc::new(Barrier::new(2));
    let entered = Arc::new(AtomicBool::new(false));
    let (r, e) = (release.clone(), entered.clone());
    let calls = AtomicU64::new(0);
    let source = move || -> Result<Snapshot, SourceError> {
        if calls.fetch_add(1, Ordering::SeqCst) == 1 {
            e.store(true, Ordering::SeqCst);
            r.wait();
        }
        Ok(Snapshot::default())
    };
    let uploader = Arc::new(ScriptedUploader::default());
    let options = Options {
        poll_period: 10 * MS,
        ..Options::default()
    };
    let (logger, _dir) = logger_uploading_to(uploader.clone(), Arc::new(source), options);
    logger.set_logging_enabled(true).unwrap();
    wait_for("the source to block", || entered.load(Ordering::SeqCst));
    logger.write("written while the source is blocked").unwrap();

    let report = logger.flush(Duration::from_secs(2)).unwrap();

    assert_eq!(report.lines_sent, 1);
    assert!(report.complete);
    assert_eq!(
        *uploader.sent.lock().unwrap(),
        ["written while the source is blocked"]
    );
    release.wait();
    logger.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_panicking_uploader_costs_one_flush_only() {
    let uploader = Arc::new(ScriptedUploader::default());
    let source = Arc::new(|| Ok(Snapshot::default()));
    let (logger, _dir) = logger_uploading_to(uploader.clone(), source, Options::default());
    logger.write("kept through the panic").unwrap();
    uploader.panic_next.store(true, Ordering::SeqCst);

    let report = logger.flush(Duration::from_millis(300)).unwrap();
    assert_eq!(report.lines_sent, 0);
    assert_eq!(report.lines_still_buffered, 1);
    assert!(!report.complete);
    let error = report.last_error.unwrap();
    assert!(error.starts_with("the uploader panicked"), "{error}");

    for _ in 0..3 {
        logger.write("after the panic").unwrap();
        let report = logger.flush(Duration::from_millis(300)).unwrap();
        assert!(report.complete, "{report:?}");
    }
    assert_eq!(
        *uploader.sent.lock().unwrap(),
        [
            "kept through the panic",
            "after the panic",
            "after the panic",
            "after the panic"
        ]
    );
    logger.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn shutdown_waits_for_a_running_upload_and_no_upload_starts_after_it() {
    let (logger, uploader, flusher, _dir) = a_flush_held_in_its_upload();

    // Within a short deadline, shutdown says a flush is still uploading.
    let err = logger.shutdown(Duration::from_millis(50)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::FlushInProgress {
                operation: "shutdown",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("another flush of this logger"));

    // With time, it waits for the upload to end before returning Ok.
    let shutter = {
        let (logger, uploader) = (logger.clone(), uploader.clone());
        std::thread::spawn(move || {
            let result = logger.shutdown(Duration::from_secs(20));
            (result, uploader.uploading.load(Ordering::SeqCst))
        })
    };
    // A flush started now is refused: the logger is shutting down.
    assert!(matches!(
        logger.flush(Duration::from_secs(1)),
        Err(Error::ShutDown)
    ));
    uploader.hold.store(false, Ordering::SeqCst);
    let (result, uploading_at_return) = shutter.join().unwrap();
    result.unwrap();
    assert!(!uploading_at_return, "shutdown returned during an upload");
    assert_eq!(flusher.join().unwrap().unwrap().lines_sent, 1);
    assert_eq!(uploader.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_source_taking_150_ms_on_every_call_still_logs_every_byte_by_default() {
    let clock = Arc::new(ManualClock::new(0));
    let calls = Arc::new(AtomicU64::new(0));
    let (c, k) = (clock.clone(), calls.clone());
    // Like a JVM source on a cheap phone: every call takes 150 ms (1.5 poll
    // periods) and finds 100 more bytes sent and 10 received.
    let source = move || -> Result<Snapshot, SourceError> {
        let n = k.fetch_add(1, Ordering::SeqCst);
        c.advance(150 * MS);
        Snapshot::new(
            false,
            [(
                Label(8),
                Counters {
                    tx: 100 * n,
                    rx: 10 * n,
                },
            )],
        )
        .map_err(|e| SourceError(e.to_string()))
    };
    let buffer = Arc::new(MemoryBuffer::default());
    let logger = Logger::new(
        tempfile::tempdir().unwrap().path().join("logs"),
        node(),
        Arc::new(source),
        Options {
            clock: clock.clone(),
            buffer: Some(buffer.clone()),
            ..Options::default()
        },
    )
    .unwrap();
    logger.set_logging_enabled(true).unwrap();
    wait_for("five polls", || calls.load(Ordering::SeqCst) >= 5);
    logger.shutdown(Duration::from_secs(5)).unwrap();

    let polls = calls.load(Ordering::SeqCst);
    let lines = buffered_lines(buffer.as_ref());
    assert_eq!(logger.stats().source_too_slow, 0);
    assert_eq!(
        lines.len() as u64,
        polls - 1,
        "one event per poll after the baseline"
    );
    assert_eq!(logged_bytes(&lines), (100 * (polls - 1), 10 * (polls - 1)));
}

#[test]
fn a_flush_that_waited_for_another_flush_says_so() {
    let busy = Error::FlushInProgress {
        operation: "flush",
        deadline_ms: 300,
    };
    assert_eq!(
        busy.to_string(),
        "flush waited its whole deadline of 300 ms for another flush of this logger to finish \
         uploading; nothing is lost (lines stay buffered): call flush again once that flush has \
         returned, or give it a longer deadline"
    );
}

#[test]
fn a_second_flush_of_the_same_logger_waits_for_the_first_and_says_so_at_its_deadline() {
    let (logger, uploader, first, _dir) = a_flush_held_in_its_upload();
    let err = logger.flush(Duration::from_millis(50)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::FlushInProgress {
                operation: "flush",
                ..
            }
        ),
        "{err}"
    );
    uploader.hold.store(false, Ordering::SeqCst);
    assert!(first.join().unwrap().unwrap().complete);
    logger.shutdown(Duration::from_secs(5)).unwrap();
}
