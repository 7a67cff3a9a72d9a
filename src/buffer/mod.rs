//! The log buffer: where lines wait until the log server has accepted them.
//!
//! The poller hands it batches of lines; a flush reads the oldest lines
//! without removing them and removes them only once the server accepted them
//! (at-least-once). [`MemoryBuffer`] is the in-memory implementation used by
//! tests and by apps that want no disk; the durable one lives beside it.

mod file;
mod file_ops;
mod memory;
pub mod record;

pub use file::{FileBuffer, FileBufferOptions};
pub use file_ops::{FileOps, OpenMode, RealFileOps};
pub use memory::MemoryBuffer;

use crate::line::LineError;
use thiserror::Error;

/// Position of a line in a buffer. Later lines have greater cursors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor(pub u64);

/// A line read from a buffer, with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferedLine {
    /// Where the line is; pass it to [`LogBuffer::remove_through`] once the
    /// server has accepted it.
    pub cursor: Cursor,
    /// The line, without a newline.
    pub text: String,
}

/// Counters a buffer keeps, for an app's debug screen and for tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferStats {
    /// Lines held now.
    pub lines: u64,
    /// Bytes of line text held now (without newlines).
    pub bytes: u64,
    /// Lines evicted, oldest first, to stay under the size cap.
    pub evicted_lines: u64,
    /// Bytes of the evicted lines.
    pub evicted_bytes: u64,
    /// Appends that failed (for example with the disk full).
    pub append_errors: u64,
    /// Damaged lines found in storage and skipped.
    pub corrupt_lines_skipped: u64,
}

/// Why a buffer operation failed.
#[derive(Debug, Error)]
pub enum BufferError {
    /// A line was rejected; nothing of its batch was stored.
    #[error("line {index} of the batch was rejected: {reason}")]
    InvalidLine {
        /// 0-based index of the line in the batch.
        index: usize,
        /// Why.
        reason: LineError,
    },
    /// The device has no space left; nothing of the batch was stored.
    #[error("the disk is full; {lines} lines were not stored (they stay queued in memory and are retried)")]
    DiskFull {
        /// Lines not stored.
        lines: usize,
    },
    /// Storage failed.
    #[error("log buffer {operation} failed for {path}: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file or directory involved.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The buffer's path exists but is not a directory.
    #[error("log buffer path {path} exists but is not a directory; pass the path of a directory (it is created if missing)")]
    NotADirectory {
        /// The path given.
        path: std::path::PathBuf,
    },
    /// The buffer's directory cannot be written.
    #[error("log buffer directory {path} is not writable ({source}); give the process write access to it or choose another directory")]
    NotWritable {
        /// The directory.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Where log lines wait until the log server has accepted them.
///
/// Implementations are shared between the poller's worker thread and the
/// threads calling `flush`, so every method takes `&self`.
pub trait LogBuffer: Send + Sync {
    /// Appends lines, in order. When it returns `Ok`, the lines are stored
    /// (durably, for a durable buffer); on `Err`, none of them are.
    fn append(&self, lines: &[String]) -> Result<(), BufferError>;

    /// The oldest lines after `after` (from the start when `None`), without
    /// removing them: up to `max_bytes` of text, but at least one line if
    /// there is one.
    fn read(
        &self,
        after: Option<Cursor>,
        max_bytes: usize,
    ) -> Result<Vec<BufferedLine>, BufferError>;

    /// The cursor of the newest line held, if any.
    fn last_cursor(&self) -> Result<Option<Cursor>, BufferError>;

    /// Removes every line up to and including `through` (the server accepted
    /// them, or they can never be sent).
    fn remove_through(&self, through: Cursor) -> Result<(), BufferError>;

    /// The buffer's counters.
    fn stats(&self) -> BufferStats;
}
