//! Uploading the buffer to a log server: the interface `flush` calls.

use crate::buffer::LogBuffer;
use std::time::Instant;

/// What one flush did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Batches the server accepted.
    pub batches_sent: u64,
    /// Lines the server accepted (now removed from the buffer).
    pub lines_sent: u64,
    /// Bytes sent on the wire for the accepted batches (after compression).
    pub bytes_sent: u64,
    /// Batches the server refused for good (dropped, see the upload policy).
    pub batches_dropped: u64,
    /// Lines in the dropped batches.
    pub lines_dropped: u64,
    /// Lines still in the buffer when the flush returned.
    pub lines_still_buffered: u64,
    /// Whether everything buffered when the flush began was sent or dropped.
    pub complete: bool,
}

/// Sends what a buffer holds to a log server. Called by `flush`, on the
/// calling thread, with the flush's deadline.
pub trait Uploader: Send + Sync {
    /// Uploads the lines buffered when the call began, removing each batch
    /// the server accepted, and returns what happened. Must return by
    /// `deadline`.
    fn upload(&self, buffer: &dyn LogBuffer, deadline: Instant) -> FlushReport;
}
