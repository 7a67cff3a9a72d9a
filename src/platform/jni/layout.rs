//! The contract between the Kotlin `CounterWriter` and the Rust side: what
//! the reader's `poll()` returns and how its `long[]` is laid out. Pure: no
//! JNI here, so the checks are unit-tested without a JVM.
//!
//! `poll()` returns `entries * 2 + cellular` (`cellular` 0 or 1) after a
//! read, or any negative value when the read failed (the reader threw, or
//! put garbage); the reason is then asked for separately. The array holds
//! `entries` triples `label, tx, rx` from its start.

use crate::label::Label;
use crate::snapshot::{Counters, Snapshot};
use crate::source::SourceError;

/// Longs per entry in the array: label, tx, rx.
pub(crate) const LONGS_PER_ENTRY: usize = 3;

/// What one `poll()` call reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PollStatus {
    /// The reader put `entries` entries and returned `cellular`.
    Read {
        /// Entries at the start of the array.
        entries: usize,
        /// Whether the underlying network is cellular.
        cellular: bool,
    },
    /// The read failed; `failure()` says why.
    Failed,
}

impl PollStatus {
    /// Decodes `poll()`'s return value.
    pub(crate) fn decode(raw: i32) -> PollStatus {
        if raw < 0 {
            return PollStatus::Failed;
        }
        PollStatus::Read {
            entries: (raw >> 1) as usize,
            cellular: raw & 1 == 1,
        }
    }
}

/// Refills `out` from `values`, the entries' triples (its length a multiple
/// of [`LONGS_PER_ENTRY`]). An entry with a negative counter is left out (as
/// Android's `TrafficStats.UNSUPPORTED`); a label outside 0-255 or a label
/// given twice fails the poll. Allocates nothing once `out` has held as many
/// entries.
pub(crate) fn fill(values: &[i64], cellular: bool, out: &mut Snapshot) -> Result<(), SourceError> {
    let entries = values.chunks_exact(LONGS_PER_ENTRY);
    if let Some(bad) = entries.clone().find(|e| !(0..=255).contains(&e[0])) {
        return Err(SourceError(format!(
            "the counter reader put label {}, outside 0-255",
            bad[0]
        )));
    }
    let counters = entries.filter_map(|e| {
        let (tx, rx) = (u64::try_from(e[1]).ok()?, u64::try_from(e[2]).ok()?);
        Some((Label(e[0] as u8), Counters { tx, rx }))
    });
    out.refill(cellular, counters)
        .map_err(|e| SourceError(format!("the counter reader put garbage: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_carries_entries_and_the_cellular_flag() {
        assert_eq!(
            PollStatus::decode(13 * 2 + 1),
            PollStatus::Read {
                entries: 13,
                cellular: true
            }
        );
        assert_eq!(
            PollStatus::decode(0),
            PollStatus::Read {
                entries: 0,
                cellular: false
            }
        );
        assert_eq!(PollStatus::decode(-1), PollStatus::Failed);
    }

    #[test]
    fn entries_become_the_snapshot_and_negative_counters_are_left_out() {
        let mut out = Snapshot::default();
        fill(&[2, 10, 20, 1, -1, 5, 255, 7, 8], true, &mut out).unwrap();
        assert!(out.is_cellular());
        assert_eq!(out.get(Label(2)), Some(Counters { tx: 10, rx: 20 }));
        assert_eq!(out.get(Label(1)), None);
        assert_eq!(out.get(Label(255)), Some(Counters { tx: 7, rx: 8 }));
        assert_eq!(out.entries().len(), 2);
    }

    #[test]
    fn a_label_out_of_range_or_twice_fails_the_poll_with_the_reason() {
        let mut out = Snapshot::default();
        let e = fill(&[256, 1, 1], false, &mut out).unwrap_err();
        assert_eq!(e.0, "the counter reader put label 256, outside 0-255");
        let e = fill(&[-3, 1, 1], false, &mut out).unwrap_err();
        assert_eq!(e.0, "the counter reader put label -3, outside 0-255");
        let e = fill(&[4, 1, 1, 4, 2, 2], false, &mut out).unwrap_err();
        assert!(e.0.contains("was reported more than once"), "{e}");
    }
}
