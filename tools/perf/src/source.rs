//! Synthetic traffic: labels that each move 1,500 tx and 4,000 rx bytes per
//! poll (a busy data path), with a few cellular switches.

use sockstatlog::{Counters, DeltaEntry, Event, Label, Snapshot, SourceError};
use std::sync::atomic::{AtomicU64, Ordering};

/// A counter source whose every label is busy.
pub struct BusyLabels {
    labels: u8,
    polls: AtomicU64,
}

impl BusyLabels {
    /// `labels` labels (0..labels), all moving.
    pub fn new(labels: u8) -> Self {
        BusyLabels {
            labels,
            polls: AtomicU64::new(0),
        }
    }

    /// The counters after one more poll's traffic.
    pub fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let n = self.polls.fetch_add(1, Ordering::Relaxed) + 1;
        let cellular = (n / 3_000) % 2 == 1; // switches every 5 minutes
        Snapshot::new(
            cellular,
            (0..self.labels).map(|l| {
                (
                    Label(l),
                    Counters {
                        tx: n * (1_500 + u64::from(l)),
                        rx: n * (4_000 + 3 * u64::from(l)),
                    },
                )
            }),
        )
        .map_err(|e| SourceError(e.to_string()))
    }
}

/// Event lines of a busy session with `labels` labels, `cap` bytes in all.
pub fn event_lines(labels: u8, cap: u64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut bytes = 0u64;
    let mut t = 1_800_000_000_000i64;
    while bytes < cap {
        let stats: Vec<DeltaEntry> = (0..labels)
            .map(|l| DeltaEntry {
                label: Label(l),
                tx: 1_500 + u64::from(l) * 7 + (t as u64 % 97),
                rx: 4_000 + u64::from(l) * 13 + (t as u64 % 89),
            })
            .collect();
        let mut sorted = stats;
        sorted.sort_by_key(|e| e.label.text_rank());
        let line = Event {
            start_unix_ms: t,
            duration_ms: 100,
            cellular: (t / 300_000) % 2 == 1,
            stats: &sorted,
        }
        .encode();
        bytes += line.len() as u64;
        lines.push(line);
        t += 100;
    }
    lines
}
