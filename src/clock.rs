//! Clocks: the wall clock for an event's start, a monotonic clock for its
//! length and for scheduling polls.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Called by a clock that moves by hand, after it moved, to wake a waiting
/// poller at once.
pub type Waker = Box<dyn Fn() + Send + Sync>;

/// The two clocks the poller reads. Injected so tests can control time.
pub trait Clock: Send + Sync {
    /// Wall-clock time, Unix milliseconds.
    fn wall_unix_ms(&self) -> i64;
    /// Time since an arbitrary fixed origin that never goes backwards and,
    /// on phones, keeps counting while the device sleeps.
    fn monotonic(&self) -> Duration;

    /// Registers `waker` to be called whenever this clock jumps forward by
    /// hand. Real clocks never do, and ignore it (the default).
    fn on_advance(&self, waker: Waker) {
        drop(waker);
    }
}

/// The system's clocks.
///
/// The monotonic clock is `CLOCK_BOOTTIME` on Linux and Android and
/// `CLOCK_MONOTONIC` on Apple platforms: both keep counting during sleep,
/// so an event after a device sleep covers the real elapsed time (std's
/// `Instant` stops during sleep on Linux and Android).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn wall_unix_ms(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
        }
    }

    fn monotonic(&self) -> Duration {
        monotonic_since_boot()
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn monotonic_since_boot() -> Duration {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const CLOCK: libc::clockid_t = libc::CLOCK_BOOTTIME;
    #[cfg(target_vendor = "apple")]
    const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK is supported on
    // these targets; clock_gettime writes only into it.
    let rc = unsafe { libc::clock_gettime(CLOCK, &mut ts) };
    if rc != 0 {
        return fallback_monotonic();
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn monotonic_since_boot() -> Duration {
    fallback_monotonic()
}

fn fallback_monotonic() -> Duration {
    use std::sync::OnceLock;
    use std::time::Instant;
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed()
}

/// A clock that moves only when told to: for tests and simulations. A
/// logger using it polls as soon as the clock reaches its next tick, so a
/// simulated hour takes as long as its polls' work, not an hour.
#[derive(Default)]
pub struct ManualClock {
    wall_ms: AtomicI64,
    mono_nanos: AtomicU64,
    wakers: Mutex<Vec<Waker>>,
}

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualClock")
            .field("wall_ms", &self.wall_ms)
            .field("mono_nanos", &self.mono_nanos)
            .finish_non_exhaustive()
    }
}

impl ManualClock {
    /// A clock showing `wall_unix_ms` on the wall and zero on the monotonic clock.
    pub fn new(wall_unix_ms: i64) -> Self {
        ManualClock {
            wall_ms: AtomicI64::new(wall_unix_ms),
            mono_nanos: AtomicU64::new(0),
            wakers: Mutex::new(Vec::new()),
        }
    }

    /// Moves both clocks forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.wall_ms
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
        self.mono_nanos
            .fetch_add(by.as_nanos() as u64, Ordering::SeqCst);
        let wakers = self.wakers.lock().unwrap_or_else(|e| e.into_inner());
        for wake in wakers.iter() {
            wake();
        }
    }

    /// Sets the wall clock alone (the user changed the time, or NTP did).
    pub fn set_wall(&self, wall_unix_ms: i64) {
        self.wall_ms.store(wall_unix_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn wall_unix_ms(&self) -> i64 {
        self.wall_ms.load(Ordering::SeqCst)
    }

    fn monotonic(&self) -> Duration {
        Duration::from_nanos(self.mono_nanos.load(Ordering::SeqCst))
    }

    fn on_advance(&self, waker: Waker) {
        self.wakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(waker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_monotonic_clock_never_goes_backwards() {
        let a = SystemClock.monotonic();
        let b = SystemClock.monotonic();
        assert!(b >= a);
    }

    #[test]
    fn the_system_wall_clock_is_after_2020() {
        assert!(SystemClock.wall_unix_ms() > 1_577_836_800_000);
    }

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::new(1_000);
        clock.advance(Duration::from_millis(250));
        assert_eq!(clock.wall_unix_ms(), 1_250);
        assert_eq!(clock.monotonic(), Duration::from_millis(250));
        clock.set_wall(5);
        assert_eq!(clock.wall_unix_ms(), 5);
        assert_eq!(clock.monotonic(), Duration::from_millis(250));
    }

    #[test]
    fn a_manual_clock_calls_its_wakers_when_advanced() {
        let clock = ManualClock::new(0);
        let woken = std::sync::Arc::new(AtomicU64::new(0));
        let w = woken.clone();
        clock.on_advance(Box::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        }));
        clock.advance(Duration::from_millis(1));
        clock.set_wall(9);
        clock.advance(Duration::from_millis(1));
        assert_eq!(woken.load(Ordering::SeqCst), 2);
    }
}
