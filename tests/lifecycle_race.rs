//! The logger's lifecycle under concurrency: what a caller relies on when
//! several threads write, toggle, flush and shut down at once.
//!
//! - Every `write` that returned `Ok` is in the buffer once `shutdown`
//!   returned `Ok`.
//! - After concurrent `set_logging_enabled` calls, the worker does what the
//!   last requested state says.
//! - No upload runs after `shutdown` returned `Ok`.
//!
//! The schedule of each run comes from a seeded generator; a failure prints
//! the seed, and `SOCKSTATLOG_RACE_SEED` replays one run,
//! `SOCKSTATLOG_RACE_RUNS` sets how many runs (default 400).

mod common;

use common::{buffered_lines, wait_for, Rng, ScriptedUploader};
use sockstatlog::{Counters, Label, Logger, MemoryBuffer, Options, PublicId, Snapshot};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

/// Writes per thread racing shutdown: enough to straddle it.
const WRITES_PER_THREAD: usize = 2_000;
const NODE: &str = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d";

fn runs() -> Vec<u64> {
    if let Some(seed) = std::env::var("SOCKSTATLOG_RACE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let n = std::env::var("SOCKSTATLOG_RACE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    (1..=n).collect()
}

fn new_logger(
    buffer: Arc<MemoryBuffer>,
    polls: Arc<AtomicU64>,
    uploader: Option<Arc<ScriptedUploader>>,
) -> (Logger, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let source = move || {
        let n = polls.fetch_add(1, Ordering::SeqCst);
        Ok(Snapshot::new(false, [(Label(1), Counters { tx: n, rx: n })]).unwrap())
    };
    let logger = Logger::new(
        dir.path(),
        NODE.parse::<PublicId>().unwrap(),
        Arc::new(source),
        Options {
            poll_period: Duration::from_millis(10),
            // Room for every line a run writes: a full queue dropping the
            // oldest is another rule, tested elsewhere.
            max_queued_lines: 100_000,
            max_queued_bytes: 64 << 20,
            buffer: Some(buffer),
            uploader: uploader.map(|u| u as Arc<dyn sockstatlog::Uploader>),
            ..Options::default()
        },
    )
    .unwrap();
    (logger, dir)
}

fn buffered(buffer: &MemoryBuffer) -> HashSet<String> {
    buffered_lines(buffer).into_iter().collect()
}

/// One randomized run: `threads` threads do a seeded mix of enable, disable,
/// write and flush; all end by requesting `last`; then writers race
/// `shutdown`. Returns a description of what broke, if anything.
fn one_run(seed: u64) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let threads = 2 + rng.below(7) as usize;
    let last = rng.below(2) == 0;
    let buffer = Arc::new(MemoryBuffer::default());
    let polls = Arc::new(AtomicU64::new(0));
    let uploader = Arc::new(ScriptedUploader::default());
    let (logger, _dir) = new_logger(buffer.clone(), polls.clone(), Some(uploader.clone()));
    let logger = Arc::new(logger);
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));

    // Phase 1: a random mix; every thread's last call requests `last`.
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (logger, start, accepted) = (logger.clone(), start.clone(), accepted.clone());
            let mut rng = Rng::new(seed ^ (t as u64 + 1) << 32);
            std::thread::spawn(move || {
                start.wait();
                for i in 0..rng.below(40) {
                    match rng.below(10) {
                        0..=2 => logger.set_logging_enabled(true).unwrap(),
                        3..=5 => logger.set_logging_enabled(false).unwrap(),
                        6..=8 => {
                            let text = format!("p1 t{t} i{i}");
                            if logger.write(&text).is_ok() {
                                accepted.lock().unwrap().push(text);
                            }
                        }
                        _ => {
                            logger.flush(Duration::from_secs(5)).unwrap();
                        }
                    }
                }
                logger.set_logging_enabled(last).unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    if logger.is_logging_enabled() != last {
        return Err(format!("seed {seed}: the last requested state {last} lost"));
    }
    // The worker obeys it: disabled, it parks and polls no more; enabled, it
    // keeps polling.
    logger.flush(Duration::from_secs(5)).unwrap();
    if last {
        let before = polls.load(Ordering::SeqCst);
        wait_for("polling to go on", || {
            polls.load(Ordering::SeqCst) > before + 1
        });
    } else {
        wait_for("the worker to park", || logger.is_worker_parked());
        let before = polls.load(Ordering::SeqCst);
        logger.flush(Duration::from_secs(5)).unwrap();
        if polls.load(Ordering::SeqCst) != before || !logger.is_worker_parked() {
            return Err(format!("seed {seed}: disabled last, yet the worker polled"));
        }
    }

    // Phase 2: writers race shutdown.
    let go = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (logger, go, accepted) = (logger.clone(), go.clone(), accepted.clone());
            std::thread::spawn(move || {
                go.wait();
                for i in 0..WRITES_PER_THREAD {
                    let text = format!("p2 t{t} i{i}");
                    match logger.write(&text) {
                        Ok(()) => accepted.lock().unwrap().push(text),
                        Err(_) => break,
                    }
                    if i % 100 == 99 && t % 2 == 0 {
                        // Some flushes race shutdown too; a refusal or a
                        // wait for another flush is fine here.
                        let _ = logger.flush(Duration::from_secs(5));
                    }
                }
            })
        })
        .collect();
    go.wait();
    for _ in 0..rng.below(20) {
        std::thread::yield_now();
    }
    logger
        .shutdown(Duration::from_secs(10))
        .map_err(|e| format!("seed {seed}: shutdown failed: {e}"))?;
    let uploading_at_return = uploader.uploading.load(Ordering::SeqCst);
    let uploads_at_return = uploader.calls.load(Ordering::SeqCst);
    for h in handles {
        h.join().unwrap();
    }
    if uploading_at_return || uploader.calls.load(Ordering::SeqCst) != uploads_at_return {
        return Err(format!(
            "seed {seed}: an upload ran after shutdown returned Ok"
        ));
    }
    // Accepted lines are in the buffer, or were uploaded (and removed).
    let mut stored = buffered(&buffer);
    stored.extend(uploader.sent.lock().unwrap().iter().cloned());
    let lost: Vec<String> = accepted
        .lock()
        .unwrap()
        .iter()
        .filter(|t| !stored.contains(*t))
        .cloned()
        .collect();
    if !lost.is_empty() {
        return Err(format!(
            "seed {seed}: {} accepted lines missing after shutdown returned Ok, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(3)]
        ));
    }
    Ok(())
}

#[test]
fn every_accepted_write_is_stored_and_the_last_state_wins_under_random_schedules() {
    let failures: Vec<String> = runs()
        .into_iter()
        .filter_map(|s| one_run(s).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn eight_writers_racing_shutdown_lose_no_accepted_line() {
    let mut lost_runs = 0;
    let mut lost_lines = 0;
    for _ in 0..300 {
        let buffer = Arc::new(MemoryBuffer::default());
        let (logger, _dir) = new_logger(buffer.clone(), Arc::new(AtomicU64::new(0)), None);
        logger.set_logging_enabled(true).unwrap();
        let logger = Arc::new(logger);
        let go = Arc::new(Barrier::new(9));
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let (logger, go) = (logger.clone(), go.clone());
                std::thread::spawn(move || {
                    let mut accepted = vec![];
                    go.wait();
                    for i in 0..WRITES_PER_THREAD {
                        let text = format!("t{t} i{i}");
                        if logger.write(&text).is_err() {
                            break;
                        }
                        accepted.push(text);
                    }
                    accepted
                })
            })
            .collect();
        go.wait();
        logger.shutdown(Duration::from_secs(10)).unwrap();
        let stored = buffered(&buffer);
        let lost = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .filter(|t| !stored.contains(t))
            .count();
        if lost > 0 {
            lost_runs += 1;
            lost_lines += lost;
        }
    }
    assert_eq!(
        (lost_runs, lost_lines),
        (0, 0),
        "runs that lost accepted lines, and lines lost"
    );
}
