//! Two processes appending to one directory at once (an iOS app and its
//! extension) while a third uploads and removes, under a small cap so that
//! evictions happen too: every line of both is intact, each process's
//! lines keep their order, batches are never interleaved, no line is
//! uploaded twice, and every line neither uploaded nor still held was
//! evicted and is counted by a marker.

use sockstatlog::buffer::{record, FileBuffer, FileBufferOptions, LogBuffer};
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const CHILD_DIR: &str = "SOCKSTATLOG_TWO_PROC_DIR";
const CHILD_NAME: &str = "SOCKSTATLOG_TWO_PROC_NAME";
const STOP_FILE: &str = "stop-uploading";
const BATCHES: usize = 1000;
const PER_BATCH: usize = 4;

fn options() -> FileBufferOptions {
    FileBufferOptions {
        cap_bytes: 64 << 10,
        segment_bytes: 8192,
        fsync: false,
    }
}

fn text(name: &str, batch: usize, i: usize) -> String {
    format!(
        "{{\"p\":\"{name}\",\"b\":{batch},\"i\":{i},\"pad\":\"{}\"}}",
        "q".repeat(batch % 97)
    )
}

/// One child: an appender ("app", "ext") or the uploader ("up").
#[test]
#[ignore = "run by two_processes_appending_while_a_third_uploads_lose_nothing"]
fn two_process_child() {
    let (Ok(dir), Ok(name)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_NAME)) else {
        return;
    };
    let dir = Path::new(&dir);
    let buffer = FileBuffer::open(dir, options()).unwrap();
    if name == "up" {
        // Uploads (prints) the oldest lines and removes them, until told to
        // stop and nothing is left.
        loop {
            let stopping = dir.join(STOP_FILE).exists();
            let lines = buffer.read(None, 4096).unwrap();
            let Some(last) = lines.last() else {
                if stopping {
                    break;
                }
                continue;
            };
            for line in &lines {
                println!("{}", line.text);
            }
            buffer.remove_through(last.cursor).unwrap();
        }
        return;
    }
    for b in 0..BATCHES {
        let batch: Vec<String> = (0..PER_BATCH).map(|i| text(&name, b, i)).collect();
        buffer.append(&batch).unwrap();
    }
    println!("evicted {}", buffer.stats().evicted_lines);
}

fn spawn(dir: &Path, name: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "two_process_child",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_NAME, name)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The child's output lines that are log lines or the eviction count.
fn output(child: std::process::Child) -> Vec<String> {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    BufReader::new(&out.stdout[..])
        .lines()
        .map(Result::unwrap)
        // The test harness prints its "test ... " prefix before the first.
        .map(|l| match l.strip_prefix("test two_process_child ... ") {
            Some(rest) => rest.to_string(),
            None => l,
        })
        .filter(|l| l.starts_with('{') || l.starts_with("evicted "))
        .collect()
}

#[test]
fn two_processes_appending_while_a_third_uploads_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Read the uploader's output as it comes, so it never blocks on a full
    // pipe: it uploads while the appenders append.
    let uploader = spawn(dir.path(), "up");
    let uploader = std::thread::spawn(move || output(uploader));
    let appenders: Vec<_> = ["app", "ext"].map(|name| spawn(dir.path(), name)).into();
    let mut evicted = 0u64;
    for child in appenders {
        for line in output(child) {
            evicted += line["evicted ".len()..].parse::<u64>().unwrap();
        }
    }
    std::fs::write(dir.path().join(STOP_FILE), b"").unwrap();
    let uploaded = uploader.join().unwrap();

    let buffer = FileBuffer::open(dir.path(), options()).unwrap();
    assert_eq!(buffer.stats().corrupt_lines_skipped, 0);
    let left = buffer.all_lines().unwrap();
    assert!(
        left.is_empty(),
        "the uploader stopped early: {} left",
        left.len()
    );
    eprintln!(
        "{} lines uploaded, {evicted} evicted by the appenders, {} markers",
        uploaded.len(),
        uploaded
            .iter()
            .filter(|t| t.contains("dropped_lines"))
            .count()
    );
    assert!(evicted > 0, "no eviction happened: make the cap smaller");

    let is_marker = |t: &str| record::parse_dropped_marker(t).is_some();
    let markers: u64 = uploaded
        .iter()
        .filter_map(|t| record::parse_dropped_marker(t))
        .map(|(lines, _)| lines)
        .sum();
    let data: Vec<&str> = uploaded
        .iter()
        .map(String::as_str)
        .filter(|t| !is_marker(t))
        .collect();
    let unique: HashSet<&str> = data.iter().copied().collect();
    assert_eq!(unique.len(), data.len(), "a line was uploaded twice");
    let mut missing = 0u64;
    for name in ["app", "ext"] {
        let mine: Vec<&str> = data
            .iter()
            .copied()
            .filter(|t| t.starts_with(&format!("{{\"p\":\"{name}\"")))
            .collect();
        let expected: Vec<String> = (0..BATCHES)
            .flat_map(|b| (0..PER_BATCH).map(move |i| text(name, b, i)))
            .collect();
        // In order, intact: a subsequence of what was appended.
        let mut want = expected.iter();
        for line in &mine {
            assert!(want.any(|e| e == line), "{line} out of order or damaged");
        }
        missing += (expected.len() - mine.len()) as u64;
    }
    // Every missing line was evicted, and a marker said so.
    assert!(missing <= evicted, "{missing} missing, {evicted} evicted");
    assert!(
        missing <= markers,
        "{missing} missing, markers count {markers}"
    );
    // Whole batches: consecutive uploaded lines of one batch are never
    // split by another line, only by a marker (the rest was evicted).
    for w in uploaded.windows(2) {
        let (a, b) = (w[0].as_str(), w[1].as_str());
        let head = |t: &str| t.split(",\"i\"").next().unwrap().to_string();
        if is_marker(a) || is_marker(b) || head(a) == head(b) {
            continue;
        }
        assert!(
            a.contains(&format!("\"i\":{}", PER_BATCH - 1)),
            "batch split after {a}"
        );
    }
}
