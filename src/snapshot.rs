//! Snapshots of cumulative byte counters, and the delta between two of them.
//!
//! Pure: values in, values out.
//!
//! # The delta rule
//! For every label in the later snapshot, each direction (tx, rx) counts
//! `later - earlier`, where a label missing from the earlier snapshot counts
//! from zero. A label missing from the later snapshot is ignored. A label
//! whose delta is zero in both directions is left out.
//!
//! Unlike the original, a direction whose counter went *backwards* (the
//! platform reset it: process restart, interface change, reboot) is a reset:
//! its delta is the new value, the bytes counted since the reset. It never
//! underflows into a huge bogus number and never panics.

use crate::label::Label;
use thiserror::Error;

/// Cumulative bytes sent (`tx`) and received (`rx`) under one label.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counters {
    /// Bytes transmitted since the counter started.
    pub tx: u64,
    /// Bytes received since the counter started.
    pub rx: u64,
}

/// One label's bytes over an interval: an entry of an event's `s` map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeltaEntry {
    /// The label.
    pub label: Label,
    /// Bytes transmitted during the interval.
    pub tx: u64,
    /// Bytes received during the interval.
    pub rx: u64,
}

/// A snapshot that could not be built from the counters given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SnapshotError {
    /// The same label was reported twice in one snapshot.
    #[error("label {0} was reported more than once in one snapshot; report each label once")]
    DuplicateLabel(Label),
}

/// Per-label cumulative counters at one instant, and whether the interface
/// carrying traffic then was a cellular one.
///
/// Entries are kept unique and sorted by the label's decimal text, the order
/// in which events list them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    cellular: bool,
    entries: Vec<(Label, Counters)>,
}

impl Snapshot {
    /// Builds a snapshot, rejecting a label reported twice.
    pub fn new(
        cellular: bool,
        entries: impl IntoIterator<Item = (Label, Counters)>,
    ) -> Result<Self, SnapshotError> {
        let mut snapshot = Snapshot {
            cellular,
            entries: entries.into_iter().collect(),
        };
        snapshot.sort_and_check()?;
        Ok(snapshot)
    }

    /// Replaces the contents with new counters, reusing this snapshot's
    /// memory: no allocation once it has held as many labels. On error the
    /// snapshot must not be used until refilled.
    pub fn refill(
        &mut self,
        cellular: bool,
        entries: impl IntoIterator<Item = (Label, Counters)>,
    ) -> Result<(), SnapshotError> {
        self.cellular = cellular;
        self.entries.clear();
        self.entries.extend(entries);
        self.sort_and_check()
    }

    fn sort_and_check(&mut self) -> Result<(), SnapshotError> {
        if !self
            .entries
            .is_sorted_by_key(|(label, _)| label.text_rank())
        {
            self.entries
                .sort_unstable_by_key(|(label, _)| label.text_rank());
        }
        match self.entries.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            Some(pair) => Err(SnapshotError::DuplicateLabel(pair[0].0)),
            None => Ok(()),
        }
    }

    /// Whether the interface carrying traffic was a cellular one.
    pub fn is_cellular(&self) -> bool {
        self.cellular
    }

    /// The entries, sorted by the label's decimal text.
    pub fn entries(&self) -> &[(Label, Counters)] {
        &self.entries
    }

    /// The counters of one label, if the snapshot has it.
    pub fn get(&self, label: Label) -> Option<Counters> {
        self.entries
            .binary_search_by_key(&label.text_rank(), |(l, _)| l.text_rank())
            .ok()
            .map(|i| self.entries[i].1)
    }

    /// Makes this snapshot (a baseline) take on `later`: labels in `later` get
    /// its counters, labels missing from `later` keep their last counters, so
    /// that a label which vanishes and comes back counts only the bytes beyond
    /// what was already logged.
    pub fn advance_to(&mut self, later: &Snapshot) {
        self.cellular = later.cellular;
        let same_labels = self.entries.len() == later.entries.len()
            && self
                .entries
                .iter()
                .zip(&later.entries)
                .all(|(a, b)| a.0 == b.0);
        if same_labels {
            // The common case: no allocation.
            self.entries.copy_from_slice(&later.entries);
            return;
        }
        let mut merged = Vec::with_capacity(self.entries.len() + later.entries.len());
        let (mut i, mut j) = (0, 0);
        while i < self.entries.len() || j < later.entries.len() {
            let take_later = match (self.entries.get(i), later.entries.get(j)) {
                (Some(old), Some(new)) => {
                    if old.0 == new.0 {
                        i += 1;
                        true
                    } else {
                        new.0.text_rank() < old.0.text_rank()
                    }
                }
                (None, Some(_)) => true,
                _ => false,
            };
            if take_later {
                merged.push(later.entries[j]);
                j += 1;
            } else {
                merged.push(self.entries[i]);
                i += 1;
            }
        }
        self.entries = merged;
    }
}

/// The bytes one direction counted between two readings: the difference, or
/// the new value when the counter went backwards (a reset).
pub fn counted(earlier: u64, later: u64) -> u64 {
    later.checked_sub(earlier).unwrap_or(later)
}

/// Writes into `out` (cleared first) the delta from `earlier` to `later`,
/// following the rule in the module documentation, in event order.
pub fn delta_into(earlier: &Snapshot, later: &Snapshot, out: &mut Vec<DeltaEntry>) {
    out.clear();
    let mut prev = earlier.entries.iter().peekable();
    for &(label, cur) in &later.entries {
        let rank = label.text_rank();
        while prev.next_if(|(l, _)| l.text_rank() < rank).is_some() {}
        let base = prev
            .next_if(|(l, _)| *l == label)
            .map(|(_, c)| *c)
            .unwrap_or_default();
        let entry = DeltaEntry {
            label,
            tx: counted(base.tx, cur.tx),
            rx: counted(base.rx, cur.rx),
        };
        if entry.tx != 0 || entry.rx != 0 {
            out.push(entry);
        }
    }
}

/// The delta from `earlier` to `later` (see [`delta_into`]).
pub fn delta(earlier: &Snapshot, later: &Snapshot) -> Vec<DeltaEntry> {
    let mut out = Vec::new();
    delta_into(earlier, later, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(entries: &[(u8, u64, u64)]) -> Snapshot {
        Snapshot::new(
            false,
            entries
                .iter()
                .map(|&(l, tx, rx)| (Label(l), Counters { tx, rx })),
        )
        .unwrap()
    }

    fn entry(label: u8, tx: u64, rx: u64) -> DeltaEntry {
        DeltaEntry {
            label: Label(label),
            tx,
            rx,
        }
    }

    #[test]
    fn growing_counters_count_the_difference() {
        let d = delta(&snap(&[(1, 100, 200)]), &snap(&[(1, 150, 260)]));
        assert_eq!(d, vec![entry(1, 50, 60)]);
    }

    #[test]
    fn a_label_new_in_the_later_snapshot_counts_from_zero() {
        let d = delta(&snap(&[]), &snap(&[(7, 10, 20)]));
        assert_eq!(d, vec![entry(7, 10, 20)]);
    }

    #[test]
    fn a_label_missing_from_the_later_snapshot_is_ignored() {
        let d = delta(&snap(&[(3, 10, 10), (4, 1, 1)]), &snap(&[(4, 2, 1)]));
        assert_eq!(d, vec![entry(4, 1, 0)]);
    }

    #[test]
    fn an_unchanged_label_is_left_out_and_one_direction_may_be_zero() {
        let d = delta(
            &snap(&[(1, 5, 5), (2, 5, 5)]),
            &snap(&[(1, 5, 5), (2, 5, 25)]),
        );
        assert_eq!(d, vec![entry(2, 0, 20)]);
    }

    #[test]
    fn tx_going_backwards_is_a_reset_counting_the_new_value() {
        let d = delta(&snap(&[(1, 1_000, 500)]), &snap(&[(1, 40, 600)]));
        assert_eq!(d, vec![entry(1, 40, 100)]);
    }

    #[test]
    fn rx_going_backwards_is_a_reset_counting_the_new_value() {
        let d = delta(&snap(&[(1, 1_000, 500)]), &snap(&[(1, 1_010, 7)]));
        assert_eq!(d, vec![entry(1, 10, 7)]);
    }

    #[test]
    fn both_directions_going_backwards_count_the_new_values() {
        let d = delta(&snap(&[(9, u64::MAX, u64::MAX)]), &snap(&[(9, 3, 4)]));
        assert_eq!(d, vec![entry(9, 3, 4)]);
    }

    #[test]
    fn a_reset_to_zero_carries_no_bytes_and_writes_nothing() {
        let d = delta(&snap(&[(1, 1_000, 500)]), &snap(&[(1, 0, 0)]));
        assert_eq!(d, vec![]);
        let d = delta(&snap(&[(1, 1_000, 500)]), &snap(&[(1, 0, 500)]));
        assert_eq!(d, vec![]);
        let d = delta(&snap(&[(1, 1_000, 500)]), &snap(&[(1, 0, 501)]));
        assert_eq!(d, vec![entry(1, 0, 1)]);
    }

    #[test]
    fn entries_come_out_in_decimal_text_order() {
        let d = delta(
            &snap(&[]),
            &snap(&[(2, 1, 1), (10, 1, 1), (1, 1, 1), (100, 1, 1)]),
        );
        let labels: Vec<u8> = d.iter().map(|e| e.label.0).collect();
        assert_eq!(labels, vec![1, 10, 100, 2]);
    }

    #[test]
    fn a_refilled_snapshot_equals_a_new_one_and_rejects_duplicates() {
        let mut reused = snap(&[(1, 1, 1), (2, 2, 2), (3, 3, 3)]);
        reused
            .refill(
                true,
                [
                    (Label(20), Counters { tx: 5, rx: 6 }),
                    (Label(3), Counters::default()),
                ],
            )
            .unwrap();
        let fresh = Snapshot::new(
            true,
            [
                (Label(3), Counters::default()),
                (Label(20), Counters { tx: 5, rx: 6 }),
            ],
        )
        .unwrap();
        assert_eq!(reused, fresh);
        let err = reused
            .refill(
                false,
                [
                    (Label(7), Counters::default()),
                    (Label(7), Counters::default()),
                ],
            )
            .unwrap_err();
        assert_eq!(err, SnapshotError::DuplicateLabel(Label(7)));
    }

    #[test]
    fn a_label_reported_twice_is_rejected() {
        let err = Snapshot::new(
            false,
            [
                (Label(4), Counters::default()),
                (Label(4), Counters::default()),
            ],
        )
        .unwrap_err();
        assert_eq!(err, SnapshotError::DuplicateLabel(Label(4)));
        assert_eq!(
            err.to_string(),
            "label DNSForwarderDoH was reported more than once in one snapshot; report each label once"
        );
    }

    #[test]
    fn a_vanished_label_keeps_its_counters_in_the_baseline_until_it_returns() {
        let mut baseline = snap(&[(1, 100, 100), (2, 50, 50)]);
        let gone = snap(&[(2, 60, 60)]);
        assert_eq!(delta(&baseline, &gone), vec![entry(2, 10, 10)]);
        baseline.advance_to(&gone);
        assert_eq!(baseline, snap(&[(1, 100, 100), (2, 60, 60)]));
        // Back with more bytes: only the bytes beyond the last reading count.
        let back = snap(&[(1, 130, 100), (2, 60, 60)]);
        assert_eq!(delta(&baseline, &back), vec![entry(1, 30, 0)]);
        // Back after a reset: the new value counts.
        let back_reset = snap(&[(1, 20, 5), (2, 60, 60)]);
        assert_eq!(delta(&baseline, &back_reset), vec![entry(1, 20, 5)]);
    }

    #[test]
    fn advancing_the_baseline_merges_label_sets_in_order() {
        let mut baseline = snap(&[(1, 1, 1), (3, 3, 3)]);
        baseline.advance_to(&snap(&[(2, 2, 2), (3, 4, 4), (20, 5, 5)]));
        assert_eq!(
            baseline,
            snap(&[(1, 1, 1), (2, 2, 2), (20, 5, 5), (3, 4, 4)])
        );
    }
}
