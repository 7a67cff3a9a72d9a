//! Helpers shared by the logger's integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use sockstatlog::LogBuffer;
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
