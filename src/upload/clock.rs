//! Time for the uploader: now, the wall clock for `client_time`, and sleep
//! between retries. Injected so tests run retries and deadlines without
//! sleeping.

use std::time::{Duration, Instant, SystemTime};

/// The uploader's clocks and its way to wait.
pub trait UploadClock: Send + Sync {
    /// The monotonic now, comparable with the flush deadline.
    fn now(&self) -> Instant;
    /// The wall clock, for `client_time`.
    fn wall(&self) -> SystemTime;
    /// Waits `duration` (the thread blocks: a flush runs on the caller's
    /// thread).
    fn sleep(&self, duration: Duration);
}

/// The real clocks and `std::thread::sleep`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemUploadClock;

impl UploadClock for SystemUploadClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}
