//! A log buffer that also remembers every line appended, so the demo can
//! check what reached the server.

use sockstatlog::buffer::{BufferError, BufferStats, BufferedLine, Cursor};
use sockstatlog::LogBuffer;
use std::sync::Mutex;

/// Wraps a buffer and records every line appended to it.
pub struct RecordingBuffer<B> {
    inner: B,
    appended: Mutex<Vec<String>>,
}

impl<B: LogBuffer> RecordingBuffer<B> {
    /// Wraps `inner`.
    pub fn new(inner: B) -> Self {
        RecordingBuffer {
            inner,
            appended: Mutex::new(Vec::new()),
        }
    }

    /// Every line appended so far, in order.
    pub fn appended(&self) -> Vec<String> {
        self.appended
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl<B: LogBuffer> LogBuffer for RecordingBuffer<B> {
    fn append(&self, lines: &[String]) -> Result<(), BufferError> {
        self.inner.append(lines)?;
        self.appended
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(lines);
        Ok(())
    }
    fn read(&self, after: Option<Cursor>, max: usize) -> Result<Vec<BufferedLine>, BufferError> {
        self.inner.read(after, max)
    }
    fn last_cursor(&self) -> Result<Option<Cursor>, BufferError> {
        self.inner.last_cursor()
    }
    fn remove_through(&self, through: Cursor) -> Result<(), BufferError> {
        self.inner.remove_through(through)
    }
    fn stats(&self) -> BufferStats {
        self.inner.stats()
    }
}
