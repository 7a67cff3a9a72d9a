//! The in-memory queue of lines waiting for the next batch.
//!
//! Pure. Bounded by line count and bytes: on overflow the oldest lines are
//! dropped and counted, and the next batch starts with a marker line saying
//! how many, so the log server sees the gap. Pushing never blocks (the
//! original could hang its poller on a full queue).

use crate::line;
use std::collections::VecDeque;

/// Lines waiting to be handed to the log buffer.
#[derive(Debug)]
pub struct LineQueue {
    lines: VecDeque<String>,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
    unreported_lines: u64,
    unreported_bytes: u64,
    /// The drops reported by the marker heading the last batch taken.
    marker_in_last_batch: Dropped,
}

/// What a push dropped to make room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Lines dropped.
    pub lines: u64,
    /// Bytes of the dropped lines.
    pub bytes: u64,
}

impl LineQueue {
    /// A queue holding at most `max_lines` lines and `max_bytes` bytes
    /// (at least one line, however long).
    pub fn new(max_lines: usize, max_bytes: usize) -> Self {
        LineQueue {
            lines: VecDeque::new(),
            bytes: 0,
            max_lines: max_lines.max(1),
            max_bytes,
            unreported_lines: 0,
            unreported_bytes: 0,
            marker_in_last_batch: Dropped::default(),
        }
    }

    /// Lines queued now.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether no line is queued.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds a line at the back, dropping the oldest lines if over a bound.
    pub fn push(&mut self, line: String) -> Dropped {
        self.bytes += line.len();
        self.lines.push_back(line);
        self.enforce_bounds()
    }

    /// Takes every queued line, oldest first, preceded by a marker line if
    /// lines were dropped since the last batch.
    pub fn take_batch(&mut self) -> Vec<String> {
        let mut batch = Vec::with_capacity(self.lines.len() + 1);
        self.marker_in_last_batch = Dropped {
            lines: self.unreported_lines,
            bytes: self.unreported_bytes,
        };
        if self.unreported_lines > 0 {
            batch.push(line::dropped_marker(
                self.unreported_lines,
                self.unreported_bytes,
                "memory queue full",
            ));
            self.unreported_lines = 0;
            self.unreported_bytes = 0;
        }
        batch.extend(self.lines.drain(..));
        self.bytes = 0;
        batch
    }

    /// Puts the last batch taken, which could not be stored, back in front of
    /// the queue, in order, so it is retried with the next batch. Its marker
    /// line goes back to being a count, so the next batch reports all drops
    /// in one marker. Over a bound, the oldest lines are dropped and counted.
    pub fn restore(&mut self, mut batch: Vec<String>) -> Dropped {
        let marker = std::mem::take(&mut self.marker_in_last_batch);
        if marker.lines > 0 && !batch.is_empty() {
            batch.remove(0);
            self.unreported_lines += marker.lines;
            self.unreported_bytes += marker.bytes;
        }
        for line in batch.into_iter().rev() {
            self.bytes += line.len();
            self.lines.push_front(line);
        }
        self.enforce_bounds()
    }

    fn enforce_bounds(&mut self) -> Dropped {
        let mut dropped = Dropped::default();
        while self.lines.len() > self.max_lines
            || (self.bytes > self.max_bytes && self.lines.len() > 1)
        {
            let Some(oldest) = self.lines.pop_front() else {
                break;
            };
            self.bytes -= oldest.len();
            dropped.lines += 1;
            dropped.bytes += oldest.len() as u64;
        }
        self.unreported_lines += dropped.lines;
        self.unreported_bytes += dropped.bytes;
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_out_in_order_and_the_queue_empties() {
        let mut q = LineQueue::new(10, 1_000);
        q.push("a".into());
        q.push("b".into());
        assert_eq!(q.take_batch(), ["a", "b"]);
        assert!(q.is_empty());
        assert_eq!(q.take_batch(), Vec::<String>::new());
    }

    #[test]
    fn over_the_line_bound_the_oldest_are_dropped_and_reported_in_the_next_batch() {
        let mut q = LineQueue::new(2, 1_000);
        q.push("a".into());
        q.push("b".into());
        assert_eq!(q.push("cc".into()), Dropped { lines: 1, bytes: 1 });
        assert_eq!(
            q.take_batch(),
            [
                r#"{"sockstatlog":{"dropped_lines":1,"dropped_bytes":1,"reason":"memory queue full"}}"#,
                "b",
                "cc"
            ]
        );
        assert_eq!(q.take_batch(), Vec::<String>::new());
    }

    #[test]
    fn over_the_byte_bound_the_oldest_are_dropped_but_the_newest_line_stays() {
        let mut q = LineQueue::new(100, 5);
        q.push("aaa".into());
        assert_eq!(q.push("bbb".into()), Dropped { lines: 1, bytes: 3 });
        assert_eq!(q.push("cccccccc".into()), Dropped { lines: 1, bytes: 3 });
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn a_restored_batch_goes_back_in_front_in_order() {
        let mut q = LineQueue::new(10, 1_000);
        q.push("a".into());
        q.push("b".into());
        let batch = q.take_batch();
        q.push("c".into());
        assert_eq!(q.restore(batch), Dropped::default());
        assert_eq!(q.take_batch(), ["a", "b", "c"]);
    }

    #[test]
    fn a_restored_batch_turns_its_marker_back_into_a_count() {
        let mut q = LineQueue::new(2, 1_000);
        q.push("a".into());
        q.push("b".into());
        q.push("c".into());
        let batch = q.take_batch();
        assert_eq!(batch.len(), 3);
        assert_eq!(q.restore(batch), Dropped::default());
        assert_eq!(q.push("d".into()), Dropped { lines: 1, bytes: 1 });
        assert_eq!(
            q.take_batch(),
            [
                r#"{"sockstatlog":{"dropped_lines":2,"dropped_bytes":2,"reason":"memory queue full"}}"#,
                "c",
                "d"
            ]
        );
    }
}
