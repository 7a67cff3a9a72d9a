//! An in-memory log buffer with a size cap.

use super::{BufferError, BufferStats, BufferedLine, Cursor, LogBuffer};
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

#[derive(Debug, Default)]
struct State {
    lines: VecDeque<BufferedLine>,
    next_cursor: u64,
    stats: BufferStats,
}

impl State {
    fn push(&mut self, text: String) {
        self.stats.lines += 1;
        self.stats.bytes += text.len() as u64;
        self.lines.push_back(BufferedLine {
            cursor: Cursor(self.next_cursor),
            text,
        });
        self.next_cursor += 1;
    }

    fn pop_front(&mut self) -> Option<BufferedLine> {
        let line = self.lines.pop_front()?;
        self.stats.lines -= 1;
        self.stats.bytes -= line.text.len() as u64;
        Some(line)
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
    fn append(&self, lines: &[String]) -> Result<(), BufferError> {
        for (index, text) in lines.iter().enumerate() {
            line::validate(text).map_err(|reason| BufferError::InvalidLine { index, reason })?;
        }
        let mut state = self.lock();
        for text in lines {
            state.push(text.clone());
        }
        let (mut lines, mut bytes) = (0u64, 0u64);
        while state.stats.bytes > self.cap_bytes {
            let Some(evicted) = state.pop_front() else {
                break;
            };
            lines += 1;
            bytes += evicted.text.len() as u64;
        }
        if lines > 0 {
            state.stats.evicted_lines += lines;
            state.stats.evicted_bytes += bytes;
            let marker = line::dropped_marker(lines, bytes, "buffer full");
            // The marker takes the evicted lines' place: first in line.
            let cursor = state
                .lines
                .front()
                .map(|l| Cursor(l.cursor.0.saturating_sub(1)))
                .unwrap_or(Cursor(state.next_cursor));
            state.stats.lines += 1;
            state.stats.bytes += marker.len() as u64;
            state.lines.push_front(BufferedLine {
                cursor,
                text: marker,
            });
            if state.lines.len() == 1 {
                state.next_cursor += 1;
            }
        }
        Ok(())
    }

    fn read(
        &self,
        after: Option<Cursor>,
        max_bytes: usize,
    ) -> Result<Vec<BufferedLine>, BufferError> {
        let state = self.lock();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for line in state
            .lines
            .iter()
            .filter(|l| after.is_none_or(|after| l.cursor > after))
        {
            if !out.is_empty() && bytes + line.text.len() > max_bytes {
                break;
            }
            bytes += line.text.len();
            out.push(line.clone());
        }
        Ok(out)
    }

    fn last_cursor(&self) -> Result<Option<Cursor>, BufferError> {
        Ok(self.lock().lines.back().map(|l| l.cursor))
    }

    fn remove_through(&self, through: Cursor) -> Result<(), BufferError> {
        let mut state = self.lock();
        while state.lines.front().is_some_and(|l| l.cursor <= through) {
            state.pop_front();
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
}
