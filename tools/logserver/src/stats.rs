//! Counters of uploads, outcomes, faults and stored entries since the server started.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the counters. Served as JSON by `GET /stats` (see [`Stats::to_json`]).
///
/// Every upload (`POST /c/...`) counts in `requests` and ends in exactly one of
/// `accepted`, `rejected`, `store_errors`, `fault_500`, `fault_429` or `fault_reset`
/// (an upload still being handled, or abandoned by its client while delayed, is in none). `fault_slow` counts uploads that were
/// delayed; they then also end as accepted or rejected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Uploads received.
    pub requests: u64,
    /// Uploads answered 200 (their entries stored).
    pub accepted: u64,
    /// Uploads refused with a 4xx by validation.
    pub rejected: u64,
    /// Uploads answered 500 because storing failed (not a fault injection).
    pub store_errors: u64,
    /// Uploads answered 500 by fault injection.
    pub fault_500: u64,
    /// Uploads answered 429 by fault injection.
    pub fault_429: u64,
    /// Uploads whose connection was dropped by fault injection.
    pub fault_reset: u64,
    /// Uploads delayed by fault injection.
    pub fault_slow: u64,
    /// Entries stored by this server run.
    pub entries_stored: u64,
}

impl Stats {
    /// The snapshot as a JSON object with one member per field, e.g.
    /// `{"requests":3,"accepted":2,...,"entries_stored":7}`.
    pub fn to_json(&self) -> String {
        format!(
            concat!(
                r#"{{"requests":{},"accepted":{},"rejected":{},"store_errors":{},"#,
                r#""fault_500":{},"fault_429":{},"fault_reset":{},"fault_slow":{},"#,
                r#""entries_stored":{}}}"#
            ),
            self.requests,
            self.accepted,
            self.rejected,
            self.store_errors,
            self.fault_500,
            self.fault_429,
            self.fault_reset,
            self.fault_slow,
            self.entries_stored,
        )
    }
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicU64,
    pub(crate) accepted: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) store_errors: AtomicU64,
    pub(crate) fault_500: AtomicU64,
    pub(crate) fault_429: AtomicU64,
    pub(crate) fault_reset: AtomicU64,
    pub(crate) fault_slow: AtomicU64,
    pub(crate) entries_stored: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::SeqCst);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        Stats {
            requests: get(&self.requests),
            accepted: get(&self.accepted),
            rejected: get(&self.rejected),
            store_errors: get(&self.store_errors),
            fault_500: get(&self.fault_500),
            fault_429: get(&self.fault_429),
            fault_reset: get(&self.fault_reset),
            fault_slow: get(&self.fault_slow),
            entries_stored: get(&self.entries_stored),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_one_member_per_counter() {
        let stats = Stats {
            requests: 9,
            accepted: 1,
            rejected: 2,
            store_errors: 0,
            fault_500: 3,
            fault_429: 1,
            fault_reset: 2,
            fault_slow: 4,
            entries_stored: 5,
        };
        assert_eq!(
            stats.to_json(),
            concat!(
                r#"{"requests":9,"accepted":1,"rejected":2,"store_errors":0,"#,
                r#""fault_500":3,"fault_429":1,"fault_reset":2,"fault_slow":4,"entries_stored":5}"#
            )
        );
    }

    #[test]
    fn snapshot_reads_every_counter() {
        let counters = Counters::default();
        Counters::bump(&counters.requests, 2);
        Counters::bump(&counters.entries_stored, 7);
        assert_eq!(
            counters.snapshot(),
            Stats {
                requests: 2,
                entries_stored: 7,
                ..Stats::default()
            }
        );
    }
}
