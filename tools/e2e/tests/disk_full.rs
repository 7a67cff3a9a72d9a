//! A full disk must not make every flush upload the same batch again:
//! recording what the server accepted works without free space, so each
//! line reaches the log server exactly once.

use sockstatlog::buffer::{FileBuffer, FileBufferOptions, FileOps};
use sockstatlog::{LogBuffer, Uploader};
use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, Server};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A disk that, once full, refuses every write that needs a new byte
/// (appends, growing files) and allows overwriting bytes a file has, like a
/// real file system.
#[derive(Debug, Default)]
struct FullDisk {
    full: AtomicBool,
}

impl FullDisk {
    fn no_space() -> io::Error {
        io::Error::from_raw_os_error(28) // ENOSPC
    }
}

impl FileOps for FullDisk {
    fn write(&self, _: &Path, mut file: &File, data: &[u8]) -> io::Result<usize> {
        if self.full.load(Ordering::SeqCst) {
            return Err(Self::no_space());
        }
        io::Write::write(&mut file, data)
    }

    fn write_at(&self, _: &Path, file: &File, data: &[u8], offset: u64) -> io::Result<usize> {
        let grows = offset + data.len() as u64 > file.metadata()?.len();
        if grows && self.full.load(Ordering::SeqCst) {
            return Err(Self::no_space());
        }
        file.write_at(data, offset)
    }
}

#[test]
fn on_a_full_disk_each_line_is_uploaded_once() {
    let server = Server::start(Config::in_memory()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let disk = Arc::new(FullDisk::default());
    let buffer =
        FileBuffer::open_with_ops(dir.path(), FileBufferOptions::default(), disk.clone()).unwrap();
    let lines = event_lines(60, 1_764_373_555_000);
    for batch in lines.chunks(20) {
        buffer.append(batch).unwrap();
    }
    disk.full.store(true, Ordering::SeqCst);
    assert!(buffer.append(&lines[..1]).is_err(), "the disk is not full");

    // Small bodies: several batches per flush, several flushes.
    let transport = Recording::new();
    let uploader = uploader(&server.base_url(), transport.clone(), quick_retries(), 2048);
    let mut reports = Vec::new();
    for _ in 0..3 {
        let report = uploader.upload(&buffer, Instant::now() + Duration::from_secs(10));
        reports.push((
            report.complete,
            report.lines_sent,
            report.last_error.clone(),
        ));
    }
    let stored: Vec<String> = server
        .entries(COLLECTION, &log_id())
        .iter()
        .map(|e| strip_member(e).expect("an object line with client_time"))
        .collect();
    assert_eq!(stored, lines, "flushes: {reports:?}");
    assert_eq!(reports[0], (true, 60, None));
    assert!(buffered(&buffer).is_empty());
    // Still true for the next process.
    let reopened = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    assert!(buffered(&reopened).is_empty());
}
