//! A full disk, for real: a 64 KiB tmpfs. Needs root (mount); without it the
//! test says so and passes, and the injected-fault versions in
//! `buffer::file::tests` (always run) cover the same behaviour.

use sockstatlog::buffer::{record, BufferError, FileBuffer, FileBufferOptions, LogBuffer};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Option<Mount> {
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn batch(n: usize) -> Vec<String> {
    (0..10)
        .map(|i| {
            format!(
                "{{\"batch\":{n},\"line\":{i},\"pad\":\"{}\"}}",
                "z".repeat(180)
            )
        })
        .collect()
}

#[test]
fn a_full_disk_fails_the_append_cleanly_and_appends_resume_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = Mount::tmpfs(dir.path(), "64k") else {
        eprintln!(
            "SKIPPED the tmpfs part: mounting a tmpfs is not permitted here (needs root); \
             the injected disk-full tests in buffer::file::tests still run"
        );
        return;
    };
    // Filler that can be deleted later to give space back.
    let filler = dir.path().join("filler");
    fs::write(&filler, vec![0u8; 16 * 1024]).unwrap();
    let options = FileBufferOptions {
        cap_bytes: 1 << 20,
        segment_bytes: 256 * 1024,
        fsync: true,
    };
    let buffer = FileBuffer::open(&dir.path().join("buf"), options.clone()).unwrap();
    let mut stored = Vec::new();
    let err = loop {
        let b = batch(stored.len() / 10);
        match buffer.append(&b) {
            Ok(()) => stored.extend(b),
            Err(e) => break e,
        }
        assert!(stored.len() < 10_000, "the disk never filled up");
    };
    assert!(
        matches!(err, BufferError::DiskFull { lines: 10 }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the disk is full; 10 lines were not stored (they stay queued in memory and are retried)"
    );
    assert_eq!(buffer.stats().append_errors, 1);
    let texts = |b: &FileBuffer| -> Vec<String> {
        b.all_lines().unwrap().into_iter().map(|l| l.text).collect()
    };
    assert_eq!(texts(&buffer), stored);
    // No partial record was left behind: the file is exactly header plus
    // the stored records.
    let seg = dir.path().join("buf/sockstatlog.00000000.seg");
    let expected: usize = record::HEADER_LEN
        + stored
            .iter()
            .map(|l| record::record_len(l.len()))
            .sum::<usize>();
    assert_eq!(fs::metadata(&seg).unwrap().len() as usize, expected);
    let reopened = FileBuffer::open(&dir.path().join("buf"), options.clone()).unwrap();
    assert_eq!(texts(&reopened), stored);
    assert_eq!(reopened.stats().corrupt_lines_skipped, 0);

    // Space returns.
    fs::remove_file(&filler).unwrap();
    let b = batch(9999);
    buffer.append(&b).unwrap();
    stored.extend(b);
    assert_eq!(texts(&buffer), stored);
    assert_eq!(texts(&reopened), stored);
}

#[test]
fn on_a_full_disk_sent_lines_are_still_removed_so_the_next_flush_sends_the_next_batch() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = Mount::tmpfs(dir.path(), "64k") else {
        eprintln!(
            "SKIPPED the tmpfs part: mounting a tmpfs is not permitted here (needs root); \
             buffer::file::tests::removal_works_on_a_full_disk still runs"
        );
        return;
    };
    let options = FileBufferOptions {
        cap_bytes: 1 << 20,
        segment_bytes: 256 * 1024,
        fsync: true,
    };
    let buffer = FileBuffer::open(&dir.path().join("buf"), options.clone()).unwrap();
    let mut stored = Vec::new();
    loop {
        let b = batch(stored.len() / 10);
        match buffer.append(&b) {
            Ok(()) => stored.extend(b),
            Err(BufferError::DiskFull { .. }) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(stored.len() < 10_000, "the disk never filled up");
    }
    // A flush: the server accepted the first 10 lines.
    let line_bytes = stored[0].len();
    let first = buffer.read(None, 10 * line_bytes).unwrap();
    assert_eq!(first.len(), 10);
    buffer.remove_through(first[9].cursor).unwrap();
    let texts = |b: &FileBuffer| -> Vec<String> {
        b.all_lines().unwrap().into_iter().map(|l| l.text).collect()
    };
    assert_eq!(texts(&buffer), stored[10..]);
    // The next flush (even in a new process) starts with line 10.
    let reopened = FileBuffer::open(&dir.path().join("buf"), options).unwrap();
    assert_eq!(texts(&reopened), stored[10..]);
    let next = reopened.read(None, 200).unwrap();
    assert_eq!(next[0].text, stored[10]);
}
