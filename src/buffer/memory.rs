//! An in-memory log buffer with a size cap.

use super::{record, BufferError, BufferStats, BufferedLine, Cursor, LogBuffer};
use crate::line;
use std::collections::VecDeque;
use std::sync::Mutex;

/// A log buffer in memory: for tests, and for apps that keep nothing on disk.
/// Bounded: past `cap_bytes` the oldest lines are evicted and a marker line
/// records how many.
#[derive(Debug)]
pub struct MemoryBuffer {
    cap_bytes: u64,
    state: Mutex<State>,
}

/// One held line. Line cursors are even; a marker takes the odd cursor just
/// below the first line it precedes, so it never shares a cursor with a line.
#[derive(Debug)]
struct Entry {
    line: BufferedLine,
    /// For a marker: whether a `read` has handed it out. An unsent marker is
    /// never removed by `remove_through` (the server cannot have it).
    marker_sent: Option<bool>,
}

#[derive(Debug, Default)]
struct State {
    entries: VecDeque<Entry>,
    /// Cursor of the next line appended (even).
    next_cursor: u64,
    stats: BufferStats,
}

impl State {
    fn push(&mut self, text: String) {
        self.stats.lines += 1;
        self.stats.bytes += text.len() as u64;
        self.entries.push_back(Entry {
            line: BufferedLine {
                cursor: Cursor(self.next_cursor),
                text,
            },
            marker_sent: None,
        });
        self.next_cursor += 2;
    }

    fn pop_front(&mut self) -> Option<Entry> {
        let entry = self.entries.pop_front()?;
        self.stats.lines -= 1;
        self.stats.bytes -= entry.line.text.len() as u64;
        Some(entry)
    }
}

impl MemoryBuffer {
    /// A buffer holding at most `cap_bytes` of line text.
    pub fn new(cap_bytes: u64) -> Self {
        MemoryBuffer {
            cap_bytes,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data: every
        // mutation above completes before it could panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for MemoryBuffer {
    /// 5 MiB, the original's cap.
    fn default() -> Self {
        MemoryBuffer::new(5 * 1024 * 1024)
    }
}

impl LogBuffer for MemoryBuffer {
    /// Past the cap, the oldest lines are evicted and one marker takes their
    /// place, as in [`FileBuffer`](super::FileBuffer): its cursor is above
    /// every evicted line (so removing a line read before it was evicted
    /// leaves the marker) and below every remaining one; an evicted marker's
    /// counts are added to the new one.
    fn append(&self, lines: &[String]) -> Result<(), BufferError> {
        for (index, text) in lines.iter().enumerate() {
            line::validate(text).map_err(|reason| BufferError::InvalidLine { index, reason })?;
        }
        let mut state = self.lock();
        for text in lines {
            state.push(text.clone());
        }
        let (mut lines, mut bytes) = (0u64, 0u64);
        let (mut dropped_lines, mut dropped_bytes) = (0u64, 0u64);
        while state.stats.bytes > self.cap_bytes {
            let Some(evicted) = state.pop_front() else {
                break;
            };
            let earlier = evicted
                .marker_sent
                .and_then(|_| record::parse_dropped_marker(&evicted.line.text));
            match earlier {
                Some((l, b)) => {
                    dropped_lines += l;
                    dropped_bytes += b;
                }
                None => {
                    lines += 1;
                    bytes += evicted.line.text.len() as u64;
                }
            }
        }
        if lines > 0 || dropped_lines > 0 {
            state.stats.evicted_lines += lines;
            state.stats.evicted_bytes += bytes;
            let marker =
                line::dropped_marker(dropped_lines + lines, dropped_bytes + bytes, "buffer full");
            // Odd, so above every evicted line and below the first
            // remaining one (or the next one appended).
            let below = state
                .entries
                .front()
                .map_or(state.next_cursor, |e| e.line.cursor.0);
            state.stats.lines += 1;
            state.stats.bytes += marker.len() as u64;
            state.entries.push_front(Entry {
                line: BufferedLine {
                    cursor: Cursor(below - 1),
                    text: marker,
                },
                marker_sent: Some(false),
            });
        }
        Ok(())
    }

    fn read(
        &self,
        after: Option<Cursor>,
        max_bytes: usize,
    ) -> Result<Vec<BufferedLine>, BufferError> {
        let mut state = self.lock();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for entry in state
            .entries
            .iter_mut()
            .filter(|e| after.is_none_or(|after| e.line.cursor > after))
        {
            if !out.is_empty() && bytes + entry.line.text.len() > max_bytes {
                break;
            }
            bytes += entry.line.text.len();
            if let Some(sent) = entry.marker_sent.as_mut() {
                *sent = true;
            }
            out.push(entry.line.clone());
        }
        Ok(out)
    }

    fn last_cursor(&self) -> Result<Option<Cursor>, BufferError> {
        Ok(self.lock().entries.back().map(|e| e.line.cursor))
    }

    fn remove_through(&self, through: Cursor) -> Result<(), BufferError> {
        let mut state = self.lock();
        let mut unsent_markers = Vec::new();
        while state
            .entries
            .front()
            .is_some_and(|e| e.line.cursor <= through)
        {
            let entry = state.pop_front().expect("checked above");
            if entry.marker_sent == Some(false) {
                unsent_markers.push(entry);
            }
        }
        for entry in unsent_markers.into_iter().rev() {
            state.stats.lines += 1;
            state.stats.bytes += entry.line.text.len() as u64;
            state.entries.push_front(entry);
        }
        Ok(())
    }

    fn stats(&self) -> BufferStats {
        self.lock().stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[BufferedLine]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn lines_are_read_in_order_without_being_removed() {
        let buffer = MemoryBuffer::default();
        buffer
            .append(&["a".into(), "b".into(), "c".into()])
            .unwrap();
        let first = buffer.read(None, 2).unwrap();
        assert_eq!(texts(&first), ["a", "b"]);
        let rest = buffer.read(Some(first[1].cursor), 100).unwrap();
        assert_eq!(texts(&rest), ["c"]);
        assert_eq!(buffer.stats().lines, 3);
    }

    #[test]
    fn removed_lines_are_gone_and_the_rest_stay() {
        let buffer = MemoryBuffer::default();
        buffer
            .append(&["a".into(), "b".into(), "c".into()])
            .unwrap();
        let lines = buffer.read(None, 100).unwrap();
        buffer.remove_through(lines[1].cursor).unwrap();
        assert_eq!(texts(&buffer.read(None, 100).unwrap()), ["c"]);
        assert_eq!(buffer.stats().bytes, 1);
    }

    #[test]
    fn a_batch_with_a_bad_line_stores_nothing() {
        let buffer = MemoryBuffer::default();
        let err = buffer
            .append(&["ok".into(), "two\nlines".into()])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1 of the batch was rejected: the line contains a line break at byte 3; write one line per call"
        );
        assert_eq!(buffer.stats().lines, 0);
    }

    #[test]
    fn over_the_cap_the_oldest_lines_give_way_to_a_marker() {
        let buffer = MemoryBuffer::new(10);
        buffer.append(&["aaaa".into(), "bbbb".into()]).unwrap();
        buffer.append(&["cccc".into()]).unwrap();
        let lines = buffer.read(None, 1000).unwrap();
        assert_eq!(
            texts(&lines),
            [
                r#"{"sockstatlog":{"dropped_lines":1,"dropped_bytes":4,"reason":"buffer full"}}"#,
                "bbbb",
                "cccc"
            ]
        );
        assert!(lines.windows(2).all(|w| w[0].cursor < w[1].cursor));
        assert_eq!(buffer.stats().evicted_lines, 1);
        assert_eq!(buffer.stats().evicted_bytes, 4);
    }

    const MARKER_A: &str =
        r#"{"sockstatlog":{"dropped_lines":1,"dropped_bytes":4,"reason":"buffer full"}}"#;

    #[test]
    fn a_marker_made_while_a_flush_is_in_flight_survives_that_flushs_removal() {
        // A flush reads a and b; meanwhile c evicts a; the server accepts a
        // and b. The marker telling the server about a's loss was never
        // sent, so it must still be there, before c.
        let buffer = MemoryBuffer::new(8);
        buffer.append(&["aaaa".into(), "bbbb".into()]).unwrap();
        let read = buffer.read(None, 100).unwrap();
        assert_eq!(texts(&read), ["aaaa", "bbbb"]);
        buffer.append(&["cccc".into()]).unwrap();
        buffer.remove_through(read[1].cursor).unwrap();
        let left = buffer.read(None, 1000).unwrap();
        assert_eq!(texts(&left), [MARKER_A, "cccc"]);
        assert!(left[0].cursor < left[1].cursor);
        // Once sent (read) and accepted, it goes like any line.
        buffer.remove_through(left[0].cursor).unwrap();
        assert_eq!(texts(&buffer.read(None, 1000).unwrap()), ["cccc"]);
    }

    #[test]
    fn a_marker_sits_after_the_lines_it_replaces_even_when_they_were_read() {
        let buffer = MemoryBuffer::new(8);
        buffer.append(&["aaaa".into(), "bbbb".into()]).unwrap();
        let read = buffer.read(None, 4).unwrap();
        assert_eq!(texts(&read), ["aaaa"]);
        buffer.append(&["cccc".into()]).unwrap();
        // The server accepted a, which was evicted meanwhile.
        buffer.remove_through(read[0].cursor).unwrap();
        assert_eq!(
            texts(&buffer.read(None, 1000).unwrap()),
            [MARKER_A, "bbbb", "cccc"]
        );
    }

    #[test]
    fn an_evicted_marker_adds_its_counts_to_the_new_one() {
        let buffer = MemoryBuffer::new(8);
        buffer.append(&["aaaa".into(), "bbbb".into()]).unwrap();
        buffer.append(&["cccc".into()]).unwrap();
        buffer.append(&["dddd".into(), "eeee".into()]).unwrap();
        let lines = buffer.read(None, 1000).unwrap();
        assert_eq!(
            texts(&lines),
            [
                r#"{"sockstatlog":{"dropped_lines":3,"dropped_bytes":12,"reason":"buffer full"}}"#,
                "dddd",
                "eeee"
            ]
        );
        assert!(lines.windows(2).all(|w| w[0].cursor < w[1].cursor));
    }
}
