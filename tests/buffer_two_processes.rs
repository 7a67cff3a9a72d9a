//! Two processes appending to one directory at once (an iOS app and its
//! extension): every line of both is intact, each process's lines are in
//! its order, and batches are never interleaved.

use sockstatlog::buffer::{FileBuffer, FileBufferOptions, LogBuffer};
use std::path::Path;
use std::process::Command;

const CHILD_DIR: &str = "SOCKSTATLOG_TWO_PROC_DIR";
const CHILD_NAME: &str = "SOCKSTATLOG_TWO_PROC_NAME";
const BATCHES: usize = 1000;
const PER_BATCH: usize = 4;

fn options() -> FileBufferOptions {
    FileBufferOptions {
        cap_bytes: 16 << 20,
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

#[test]
#[ignore = "run by two_processes_appending_at_once_keep_every_line_intact"]
fn two_process_child() {
    let (Ok(dir), Ok(name)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_NAME)) else {
        return;
    };
    let buffer = FileBuffer::open(Path::new(&dir), options()).unwrap();
    for b in 0..BATCHES {
        let batch: Vec<String> = (0..PER_BATCH).map(|i| text(&name, b, i)).collect();
        buffer.append(&batch).unwrap();
    }
}

#[test]
fn two_processes_appending_at_once_keep_every_line_intact() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["app", "ext"]
        .into_iter()
        .map(|name| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "two_process_child",
                    "--ignored",
                    "--test-threads=1",
                ])
                .env(CHILD_DIR, dir.path())
                .env(CHILD_NAME, name)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let buffer = FileBuffer::open(dir.path(), options()).unwrap();
    let lines = buffer.all_lines().unwrap();
    assert_eq!(lines.len(), 2 * BATCHES * PER_BATCH);
    assert_eq!(buffer.stats().corrupt_lines_skipped, 0);
    assert!(lines.windows(2).all(|w| w[0].cursor < w[1].cursor));
    for name in ["app", "ext"] {
        let mine: Vec<&str> = lines
            .iter()
            .map(|l| l.text.as_str())
            .filter(|t| t.starts_with(&format!("{{\"p\":\"{name}\"")))
            .collect();
        let expected: Vec<String> = (0..BATCHES)
            .flat_map(|b| (0..PER_BATCH).map(move |i| text(name, b, i)))
            .collect();
        assert_eq!(
            mine,
            expected.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }
    // The two really ran at once: their batches alternate somewhere.
    let switches = lines
        .chunks(PER_BATCH)
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0][0].text[..10] != w[1][0].text[..10])
        .count();
    eprintln!("{switches} switches between the two processes' batches");
    assert!(switches > 1, "the two children did not overlap");
    for chunk in lines.chunks(PER_BATCH) {
        let head = |t: &str| t.split(",\"i\"").next().unwrap().to_string();
        assert!(
            chunk.iter().all(|l| head(&l.text) == head(&chunk[0].text)),
            "interleaved batch"
        );
    }
}
