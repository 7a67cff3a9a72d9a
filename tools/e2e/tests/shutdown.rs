//! Shutting the logger down while a flush is uploading loses nothing: every
//! line ends up on the server or still in the buffer, and a later logger on
//! the same buffer sends the rest. Shutdown waits for the upload to end.

use sockstatlog::buffer::{FileBuffer, FileBufferOptions};
use sockstatlog::{Error, LogBuffer};
use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, FaultConfig, Server};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

fn open(dir: &std::path::Path) -> Arc<FileBuffer> {
    Arc::new(
        FileBuffer::open(
            dir,
            FileBufferOptions {
                fsync: false,
                ..FileBufferOptions::default()
            },
        )
        .unwrap(),
    )
}

#[test]
fn shutdown_during_an_upload_loses_nothing() {
    let slow = Server::start(Config {
        faults: FaultConfig {
            slow: 1.0,
            slow_delay: Duration::from_millis(600),
            ..FaultConfig::default()
        },
        ..Config::in_memory()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let buffer_dir = dir.path().join("buffer");
    let buffer = open(&buffer_dir);
    let transport = Recording::new();
    let slow_uploader = uploader(
        &slow.base_url(),
        transport.clone(),
        Default::default(),
        4 * 1024,
    );
    let first = Arc::new(logger(
        &dir.path().join("log"),
        buffer.clone(),
        slow_uploader,
    ));
    let lines = event_lines(400, 1_764_373_555_000);
    for line in &lines {
        first.write(line).unwrap();
    }

    let flushing = {
        let first = first.clone();
        std::thread::spawn(move || first.flush(Duration::from_secs(3)))
    };
    // Shut down once the upload is under way: its first batch was accepted.
    let started = std::time::Instant::now();
    while buffer.stats().lines == lines.len() as u64 {
        assert!(started.elapsed() < Duration::from_secs(20), "no batch sent");
        std::thread::yield_now();
    }
    // Shutdown waits for the running upload (within its deadline), so no
    // upload runs once it returned.
    first.shutdown(Duration::from_secs(5)).unwrap();
    assert!(flushing.is_finished(), "an upload outlived shutdown");
    assert!(matches!(
        first.flush(Duration::from_secs(1)),
        Err(Error::ShutDown)
    ));
    let report = flushing.join().unwrap().unwrap();
    assert!(
        !report.complete,
        "the slow server should not take it all: {report:?}"
    );
    assert!(report.lines_sent > 0, "{report:?}");
    // A request the client gave up on may still land on the server later:
    // its lines are still in the buffer too, so reading the server now
    // cannot hide a loss.

    let on_server: Vec<String> = slow
        .entries(COLLECTION, &log_id())
        .iter()
        .map(|e| strip_member(e).unwrap())
        .collect();
    let in_buffer = buffered(buffer.as_ref());
    assert_eq!(in_buffer.len() as u64, report.lines_still_buffered);
    let both: HashSet<&String> = on_server.iter().chain(&in_buffer).collect();
    let missing: Vec<&String> = lines.iter().filter(|l| !both.contains(l)).collect();
    assert!(
        missing.is_empty(),
        "{} lines lost: {:?}",
        missing.len(),
        &missing[..missing.len().min(3)]
    );
    let twice = in_buffer.iter().filter(|l| on_server.contains(l)).count();
    println!(
        "after shutdown: {} lines on the server, {} still buffered, {} in both (sent, then timed out)",
        on_server.len(),
        in_buffer.len(),
        twice
    );
    drop(first);

    // A new logger on the same buffer directory sends the rest.
    let fast = Server::start(Config::in_memory()).unwrap();
    let buffer = open(&buffer_dir);
    let fast_uploader = uploader(
        &fast.base_url(),
        Recording::new(),
        Default::default(),
        256 * 1024,
    );
    let second = logger(&dir.path().join("log2"), buffer.clone(), fast_uploader);
    let report = second.flush(Duration::from_secs(10)).unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!(buffer.stats().lines, 0);
    let mut all: HashSet<String> = on_server.into_iter().collect();
    all.extend(
        fast.entries(COLLECTION, &log_id())
            .iter()
            .map(|e| strip_member(e).unwrap()),
    );
    assert!(lines.iter().all(|l| all.contains(l)));
    second.shutdown(Duration::from_secs(5)).unwrap();
}
