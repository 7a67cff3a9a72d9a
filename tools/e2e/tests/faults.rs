//! 10,000 events through a server that fails 30 % of uploads (500, 429 and
//! dropped connections), flushing until everything is stored.

use sockstatlog::buffer::{FileBuffer, FileBufferOptions};
use sockstatlog::LogBuffer;
use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, FaultConfig, Server};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EVENTS: usize = 10_000;

#[test]
fn ten_thousand_events_survive_thirty_percent_faults() {
    let started = Instant::now();
    let server = Server::start(Config {
        faults: FaultConfig {
            fail_500: 0.15,
            fail_429: 0.05,
            fail_reset: 0.10,
            retry_after_secs: 1,
            seed: 20_261_128,
            ..FaultConfig::default()
        },
        ..Config::in_memory()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let buffer = Arc::new(
        FileBuffer::open(
            &dir.path().join("buffer"),
            FileBufferOptions {
                fsync: false,
                ..FileBufferOptions::default()
            },
        )
        .unwrap(),
    );
    let transport = Recording::new();
    // 16 KiB bodies: many batches, so many chances to fail.
    let uploader = uploader(
        &server.base_url(),
        transport.clone(),
        quick_retries(),
        16 * 1024,
    );
    let logger = logger(&dir.path().join("log"), buffer.clone(), uploader);

    let lines = event_lines(EVENTS, 1_764_373_555_000);
    let mut reports = Vec::new();
    // Events keep coming while flushes run, as on a phone.
    for chunk in lines.chunks(1_000) {
        for line in chunk {
            logger.write(line).unwrap();
        }
        reports.push(logger.flush(Duration::from_secs(2)).unwrap());
    }
    while !reports.last().unwrap().complete || reports.last().unwrap().lines_still_buffered > 0 {
        assert!(reports.len() < 200, "no progress: {:?}", reports.last());
        reports.push(logger.flush(Duration::from_secs(2)).unwrap());
    }
    logger.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(buffer.stats().lines, 0);

    // Every event is on the server at least once, in order once repeats are
    // left out, and nothing else is.
    let stored: Vec<String> = server
        .entries(COLLECTION, &log_id())
        .iter()
        .map(|e| strip_member(e).expect("an object entry"))
        .collect();
    let mut seen = HashSet::new();
    let first_copies: Vec<&String> = stored.iter().filter(|l| seen.insert(*l)).collect();
    assert_eq!(first_copies.len(), EVENTS, "events missing on the server");
    assert!(
        first_copies.iter().zip(&lines).all(|(a, b)| *a == b),
        "order differs"
    );
    let mut counts: HashMap<&String, usize> = HashMap::new();
    for line in &stored {
        *counts.entry(line).or_default() += 1;
    }
    let duplicates: Vec<(&&String, &usize)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    println!(
        "duplicates: {} lines stored more than once ({} extra entries)",
        duplicates.len(),
        stored.len() - EVENTS
    );
    for (line, n) in duplicates.iter().take(10) {
        println!("  {n}x {line}");
    }

    // Each line was removed from the buffer exactly once.
    let sum = |f: fn(&sockstatlog::FlushReport) -> u64| reports.iter().map(f).sum::<u64>();
    assert_eq!(sum(|r| r.lines_sent), EVENTS as u64);
    assert_eq!(sum(|r| r.lines_dropped), 0);
    let stats = server.stats();
    let faults = stats.fault_500 + stats.fault_429 + stats.fault_reset;
    let requests = transport.requests();
    println!(
        "{} flushes, {} requests ({} retried), {} faults: {} x 500, {} x 429, {} resets; {} accepted; {:?}",
        reports.len(),
        requests.len(),
        sum(|r| r.retries),
        faults,
        stats.fault_500,
        stats.fault_429,
        stats.fault_reset,
        stats.accepted,
        started.elapsed()
    );
    assert!(faults * 100 >= stats.requests * 20, "{stats:?}");
    assert!(stats.fault_500 > 0 && stats.fault_429 > 0 && stats.fault_reset > 0);
    assert_eq!(stats.rejected, 0, "a body the server refused: {stats:?}");
    assert_eq!(stats.requests, requests.len() as u64);
    assert!(
        requests.iter().any(|r| r.result.is_err()),
        "resets reach the client as errors"
    );
}
