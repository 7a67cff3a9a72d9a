//! A log buffer that also remembers every line appended, so the demo can
//! check what reached the server, and appends it to a second buffer that is
//! never uploaded (what a phone's buffer would hold without flushes).

use sockstatlog::buffer::{BufferError, BufferStats, BufferedLine, Cursor};
use sockstatlog::{FileBuffer, LogBuffer};
use std::sync::Mutex;

/// Wraps a buffer and records every line appended to it.
pub struct RecordingBuffer<B> {
    inner: B,
    copy: FileBuffer,
    appended: Mutex<Vec<String>>,
}

impl<B: LogBuffer> RecordingBuffer<B> {
    /// Wraps `inner`; every batch `inner` accepts is appended to `copy` too.
    pub fn new(inner: B, copy: FileBuffer) -> Self {
        RecordingBuffer {
            inner,
            copy,
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
        // The copy is for looking at later; the session goes on without it.
        if let Err(error) = self.copy.append(lines) {
            eprintln!("sockstatlog-demo: the buffer copy missed a batch: {error}");
        }
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
