//! Helpers shared by the logger's integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use sockstatlog::{FlushReport, LogBuffer, Uploader};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Every line a buffer holds, oldest first.
pub fn buffered_lines(buffer: &dyn LogBuffer) -> Vec<String> {
    buffer
        .read(None, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect()
}

/// Waits until `cond` holds, failing the test after 20 s (a hang).
pub fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A small deterministic generator (xorshift64*), enough to vary schedules.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// An uploader driven by the test: records what it sent, removes it from
/// the buffer, and can panic or block on request.
#[derive(Default)]
pub struct ScriptedUploader {
    /// Lines uploaded, in order.
    pub sent: Mutex<Vec<String>>,
    /// Calls to upload.
    pub calls: AtomicU64,
    /// The next upload panics.
    pub panic_next: AtomicBool,
    /// While set, `upload` waits (after setting `uploading`) until cleared.
    pub hold: AtomicBool,
    /// An upload is running.
    pub uploading: AtomicBool,
}

impl Uploader for ScriptedUploader {
    fn upload(&self, buffer: &dyn LogBuffer, deadline: Instant) -> FlushReport {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.uploading.store(true, Ordering::SeqCst);
        while self.hold.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        if self.panic_next.swap(false, Ordering::SeqCst) {
            self.uploading.store(false, Ordering::SeqCst);
            panic!("a bug in the uploader");
        }
        let mut report = FlushReport::default();
        // Like the real uploader: nothing starts past the deadline.
        if Instant::now() < deadline {
            let lines = buffer.read(None, usize::MAX).unwrap();
            if let Some(last) = lines.last() {
                buffer.remove_through(last.cursor).unwrap();
            }
            report.lines_sent = lines.len() as u64;
            self.sent
                .lock()
                .unwrap()
                .extend(lines.into_iter().map(|l| l.text));
        }
        report.lines_still_buffered = buffer.stats().lines;
        report.complete = report.lines_still_buffered == 0;
        self.uploading.store(false, Ordering::SeqCst);
        report
    }
}
