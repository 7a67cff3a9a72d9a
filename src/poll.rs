//! One poll's work and the poll schedule.
//!
//! Pure: the worker thread reads the clocks and the source and hands the
//! results in; nothing here reads a clock, sleeps or touches a thread.
//!
//! Rules:
//! - The first poll after enabling (or after [`Poller::reset`]) is a
//!   baseline: it writes nothing.
//! - An event covers the time from the previous successful poll to this one:
//!   `t` is the wall clock at the previous poll, `d` the monotonic time since
//!   it, truncated to milliseconds. A late poll or a device sleep simply makes
//!   `d` longer: there is no burst of catch-up polls.
//! - A poll whose source call failed, panicked or took longer than the source
//!   timeout is skipped: the baseline stays, so the next good poll covers the
//!   whole interval and no byte is lost.

use crate::event::Event;
use crate::snapshot::{delta_into, DeltaEntry, Snapshot};
use crate::source::SourceError;
use std::time::Duration;

/// When one poll happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollTiming {
    /// Wall clock when the poll began, Unix milliseconds.
    pub wall_unix_ms: i64,
    /// Monotonic clock just before the source was called.
    pub started: Duration,
    /// Monotonic clock just after the source returned.
    pub finished: Duration,
}

/// Why a poll was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The source returned an error (or panicked).
    SourceFailed(SourceError),
    /// The source took longer than the source timeout.
    SourceTooSlow(Duration),
}

/// What one poll produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PollOutcome {
    /// The first poll: a baseline, no event.
    Baseline,
    /// Bytes moved: the event line (without a newline).
    Event(String),
    /// Nothing moved: no event.
    NoChange,
    /// The poll was skipped; the next one covers its interval.
    Skipped(SkipReason),
}

#[derive(Debug)]
struct Baseline {
    snapshot: Snapshot,
    wall_unix_ms: i64,
    started: Duration,
}

/// The poller's state between polls: the baseline and reusable scratch space.
#[derive(Debug)]
pub struct Poller {
    source_timeout: Duration,
    baseline: Option<Baseline>,
    scratch: Vec<DeltaEntry>,
}

impl Poller {
    /// A poller that skips source calls slower than `source_timeout`.
    pub fn new(source_timeout: Duration) -> Self {
        Poller {
            source_timeout,
            baseline: None,
            scratch: Vec::new(),
        }
    }

    /// Forgets the baseline: the next poll is a baseline again.
    pub fn reset(&mut self) {
        self.baseline = None;
    }

    /// Takes one poll's result and returns what it produced.
    pub fn poll(
        &mut self,
        timing: PollTiming,
        result: Result<&Snapshot, SourceError>,
    ) -> PollOutcome {
        let took = timing.finished.saturating_sub(timing.started);
        if took > self.source_timeout {
            return PollOutcome::Skipped(SkipReason::SourceTooSlow(took));
        }
        let snapshot = match result {
            Ok(snapshot) => snapshot,
            Err(err) => return PollOutcome::Skipped(SkipReason::SourceFailed(err)),
        };
        let Some(baseline) = &mut self.baseline else {
            self.baseline = Some(Baseline {
                snapshot: snapshot.clone(),
                wall_unix_ms: timing.wall_unix_ms,
                started: timing.started,
            });
            return PollOutcome::Baseline;
        };
        delta_into(&baseline.snapshot, snapshot, &mut self.scratch);
        let outcome = if self.scratch.is_empty() {
            PollOutcome::NoChange
        } else {
            let event = Event {
                start_unix_ms: baseline.wall_unix_ms,
                duration_ms: i64::try_from(
                    timing.started.saturating_sub(baseline.started).as_millis(),
                )
                .unwrap_or(i64::MAX),
                cellular: snapshot.is_cellular(),
                stats: &self.scratch,
            };
            PollOutcome::Event(event.encode())
        };
        baseline.snapshot.advance_to(snapshot);
        baseline.wall_unix_ms = timing.wall_unix_ms;
        baseline.started = timing.started;
        outcome
    }
}

/// The next poll time after a poll scheduled for `scheduled` finished at
/// `now`: the first tick of the `period` grid after `now`, and how many ticks
/// were missed on the way (a slow source, a late wakeup, a device sleep).
pub fn next_tick(scheduled: Duration, now: Duration, period: Duration) -> (Duration, u64) {
    let period_nanos = period.as_nanos().max(1);
    let behind = now.saturating_sub(scheduled).as_nanos();
    let ticks = behind / period_nanos + 1;
    let next = scheduled + Duration::from_nanos((ticks * period_nanos) as u64);
    (next, (ticks - 1) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::Label;
    use crate::snapshot::Counters;

    const MS: Duration = Duration::from_millis(1);
    const TIMEOUT: Duration = Duration::from_millis(100);

    fn snap(cellular: bool, entries: &[(u8, u64, u64)]) -> Snapshot {
        Snapshot::new(
            cellular,
            entries
                .iter()
                .map(|&(l, tx, rx)| (Label(l), Counters { tx, rx })),
        )
        .unwrap()
    }

    fn at(wall_unix_ms: i64, mono_ms: u64) -> PollTiming {
        PollTiming {
            wall_unix_ms,
            started: MS * mono_ms as u32,
            finished: MS * mono_ms as u32,
        }
    }

    fn event(line: &str) -> PollOutcome {
        PollOutcome::Event(line.to_string())
    }

    #[test]
    fn the_first_poll_is_a_baseline_and_the_next_writes_the_interval() {
        let mut p = Poller::new(TIMEOUT);
        assert_eq!(
            p.poll(at(1_000, 0), Ok(&snap(false, &[(1, 10, 10)]))),
            PollOutcome::Baseline
        );
        assert_eq!(
            p.poll(at(1_100, 100), Ok(&snap(true, &[(1, 15, 30)]))),
            event(r#"{"t":1000,"d":100,"c":1,"s":{"1":[5,20]}}"#)
        );
        assert_eq!(
            p.poll(at(1_200, 200), Ok(&snap(false, &[(1, 16, 30)]))),
            event(r#"{"t":1100,"d":100,"s":{"1":[1,0]}}"#)
        );
    }

    #[test]
    fn a_poll_with_no_change_writes_nothing_but_moves_the_interval_start() {
        let mut p = Poller::new(TIMEOUT);
        p.poll(at(0, 0), Ok(&snap(false, &[(1, 1, 1)])));
        assert_eq!(
            p.poll(at(100, 100), Ok(&snap(false, &[(1, 1, 1)]))),
            PollOutcome::NoChange
        );
        assert_eq!(
            p.poll(at(200, 200), Ok(&snap(false, &[(1, 2, 1)]))),
            event(r#"{"t":100,"d":100,"s":{"1":[1,0]}}"#)
        );
    }

    #[test]
    fn d_is_monotonic_time_truncated_to_milliseconds_even_if_the_wall_clock_jumps() {
        let mut p = Poller::new(TIMEOUT);
        let start = PollTiming {
            wall_unix_ms: 50_000,
            started: Duration::from_micros(10_900),
            finished: Duration::from_micros(10_900),
        };
        p.poll(start, Ok(&snap(false, &[])));
        let next = PollTiming {
            wall_unix_ms: 10, // the user set the clock back
            started: Duration::from_micros(110_899),
            finished: Duration::from_micros(110_950),
        };
        assert_eq!(
            p.poll(next, Ok(&snap(false, &[(3, 0, 9)]))),
            event(r#"{"t":50000,"d":99,"s":{"3":[0,9]}}"#)
        );
    }

    #[test]
    fn a_late_poll_covers_the_real_elapsed_time_in_one_event() {
        let mut p = Poller::new(TIMEOUT);
        p.poll(at(0, 0), Ok(&snap(false, &[(8, 0, 0)])));
        assert_eq!(
            p.poll(at(730, 730), Ok(&snap(false, &[(8, 700, 7_000)]))),
            event(r#"{"t":0,"d":730,"s":{"8":[700,7000]}}"#)
        );
    }

    #[test]
    fn after_a_device_sleep_one_event_covers_the_whole_sleep() {
        let mut p = Poller::new(TIMEOUT);
        p.poll(at(1_000, 5_000), Ok(&snap(false, &[(9, 1, 1)])));
        // Slept for an hour: the monotonic clock counts sleep.
        assert_eq!(
            p.poll(at(3_601_000, 3_605_000), Ok(&snap(true, &[(9, 2, 3)]))),
            event(r#"{"t":1000,"d":3600000,"c":1,"s":{"9":[1,2]}}"#)
        );
    }

    #[test]
    fn a_failing_source_skips_the_poll_and_the_next_poll_covers_its_interval() {
        let mut p = Poller::new(TIMEOUT);
        p.poll(at(0, 0), Ok(&snap(false, &[(1, 0, 0)])));
        let err = SourceError("permission denied".into());
        assert_eq!(
            p.poll(at(100, 100), Err(err.clone())),
            PollOutcome::Skipped(SkipReason::SourceFailed(err))
        );
        assert_eq!(
            p.poll(at(200, 200), Ok(&snap(false, &[(1, 10, 20)]))),
            event(r#"{"t":0,"d":200,"s":{"1":[10,20]}}"#)
        );
    }

    #[test]
    fn a_source_slower_than_the_timeout_is_skipped_and_loses_no_bytes() {
        let mut p = Poller::new(TIMEOUT);
        p.poll(at(0, 0), Ok(&snap(false, &[(1, 0, 0)])));
        let slow = PollTiming {
            wall_unix_ms: 100,
            started: MS * 100,
            finished: MS * 2_100,
        };
        assert_eq!(
            p.poll(slow, Ok(&snap(false, &[(1, 5, 5)]))),
            PollOutcome::Skipped(SkipReason::SourceTooSlow(MS * 2_000))
        );
        assert_eq!(
            p.poll(at(2_200, 2_200), Ok(&snap(false, &[(1, 6, 6)]))),
            event(r#"{"t":0,"d":2200,"s":{"1":[6,6]}}"#)
        );
    }

    #[test]
    fn a_failed_first_poll_leaves_the_next_one_as_the_baseline() {
        let mut p = Poller::new(TIMEOUT);
        let err = SourceError("not ready".into());
        assert!(matches!(
            p.poll(at(0, 0), Err(err)),
            PollOutcome::Skipped(_)
        ));
        assert_eq!(
            p.poll(at(100, 100), Ok(&snap(false, &[(1, 5, 5)]))),
            PollOutcome::Baseline
        );
    }

    #[test]
    fn reset_makes_the_next_poll_a_baseline() {
        let mut p = Poller::new(TIMEOUT);
        p.poll(at(0, 0), Ok(&snap(false, &[(1, 0, 0)])));
        p.reset();
        assert_eq!(
            p.poll(at(100, 100), Ok(&snap(false, &[(1, 9, 9)]))),
            PollOutcome::Baseline
        );
    }

    #[test]
    fn counters_going_backwards_between_polls_count_as_resets() {
        let mut p = Poller::new(TIMEOUT);
        p.poll(at(0, 0), Ok(&snap(false, &[(1, 1_000, 1_000)])));
        assert_eq!(
            p.poll(at(100, 100), Ok(&snap(false, &[(1, 10, 1_200)]))),
            event(r#"{"t":0,"d":100,"s":{"1":[10,200]}}"#)
        );
    }

    #[test]
    fn next_tick_on_time_is_one_period_later() {
        assert_eq!(next_tick(MS * 1_000, MS * 1_003, MS * 100), (MS * 1_100, 0));
    }

    #[test]
    fn next_tick_after_a_late_poll_skips_missed_ticks_without_a_burst() {
        assert_eq!(next_tick(MS * 1_000, MS * 1_350, MS * 100), (MS * 1_400, 3));
        assert_eq!(next_tick(MS * 1_000, MS * 1_100, MS * 100), (MS * 1_200, 1));
    }
}
