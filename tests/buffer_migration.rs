//! Taking over the Go logger's files `sockstats.log1.txt` / `.log2.txt`.

use sockstatlog::buffer::{FileBuffer, FileBufferOptions, LogBuffer};
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

fn write_with_mtime(path: &Path, bytes: &[u8], seconds_ago: u64) {
    fs::write(path, bytes).unwrap();
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 - seconds_ago))
        .unwrap();
}

fn all(buffer: &FileBuffer) -> Vec<String> {
    buffer
        .all_lines()
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect()
}

#[test]
fn the_go_loggers_complete_lines_are_taken_over_oldest_file_first_then_the_files_go() {
    let dir = tempfile::tempdir().unwrap();
    // log2 is the older file here (the files swap roles in the Go logger).
    let mut older = b"{\"old\":1}\n{\"old\":2}\n".to_vec();
    older.extend_from_slice(b"\n"); // empty line: skipped
    older.extend_from_slice(b"\xff\xfe not utf-8\n"); // skipped
    older.extend_from_slice(&vec![b'x'; 70 * 1024]); // over 64 KiB: skipped
    older.extend_from_slice(b"\n{\"old\":3}\n");
    write_with_mtime(&dir.path().join("sockstats.log2.txt"), &older, 100);
    // The newer file ends with a torn line (no newline): skipped.
    write_with_mtime(
        &dir.path().join("sockstats.log1.txt"),
        b"{\"new\":1}\n{\"new\":2}\n{\"torn\":",
        10,
    );

    let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    assert_eq!(
        all(&buffer),
        [
            "{\"old\":1}",
            "{\"old\":2}",
            "{\"old\":3}",
            "{\"new\":1}",
            "{\"new\":2}"
        ]
    );
    assert_eq!(buffer.stats().corrupt_lines_skipped, 4);
    assert!(!dir.path().join("sockstats.log1.txt").exists());
    assert!(!dir.path().join("sockstats.log2.txt").exists());

    // Once only: reopening takes nothing over again.
    drop(buffer);
    let reopened = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    assert_eq!(all(&reopened).len(), 5);
}

#[test]
fn migrated_lines_come_before_new_ones_and_can_be_removed() {
    let dir = tempfile::tempdir().unwrap();
    write_with_mtime(&dir.path().join("sockstats.log1.txt"), b"a\nb\n", 5);
    let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    buffer.append(&["c".to_string()]).unwrap();
    assert_eq!(all(&buffer), ["a", "b", "c"]);
    let first = buffer.read(None, 2).unwrap();
    buffer.remove_through(first[1].cursor).unwrap();
    assert_eq!(all(&buffer), ["c"]);
}

#[test]
fn files_with_equal_times_are_taken_log1_first() {
    let dir = tempfile::tempdir().unwrap();
    write_with_mtime(&dir.path().join("sockstats.log2.txt"), b"two\n", 7);
    write_with_mtime(&dir.path().join("sockstats.log1.txt"), b"one\n", 7);
    let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    assert_eq!(all(&buffer), ["one", "two"]);
}

#[test]
fn empty_go_files_are_simply_removed() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("sockstats.log1.txt"), b"").unwrap();
    let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    assert!(all(&buffer).is_empty());
    assert_eq!(buffer.stats().corrupt_lines_skipped, 0);
    assert!(!dir.path().join("sockstats.log1.txt").exists());
}
