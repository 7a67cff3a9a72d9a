//! [`LogUploader`]: a flush-only handle on a log directory, for a second
//! process (an iOS app flushing what its Network Extension buffered, an
//! Android UI process flushing what its `:vpn` process buffered); and the
//! one claimed upload that it and `Logger::flush` both run.

use crate::buffer::{BufferStats, FileBuffer, FileBufferOptions, LogBuffer};
use crate::error::Error;
use crate::logid::PublicId;
use crate::upload::{FlushReport, Uploader};
use crate::upload_claim::UploadClaim;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Uploads what a log directory holds, and nothing else: it never polls and
/// never writes a line. Another process's [`Logger`](crate::Logger) may be
/// appending to the same directory meanwhile.
///
/// Flushes take the directory's upload claim (`upload.lock`) for the length
/// of one upload; if a logger or another `LogUploader`, in this process or
/// another, holds it, [`flush`](LogUploader::flush) returns at once with
/// [`FlushReport::other_uploader_active`] set and uploads nothing.
pub struct LogUploader {
    dir: PathBuf,
    log_id: PublicId,
    buffer: FileBuffer,
    uploader: Arc<dyn Uploader>,
}

impl std::fmt::Debug for LogUploader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogUploader")
            .field("log_id", &self.log_id)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl LogUploader {
    /// Opens the buffer in `dir` (created if missing) for the log of the
    /// node `public_id` (the sockstat ID derived from it, as
    /// [`Logger::new`](crate::Logger::new) does). `uploader` sends the lines
    /// (build it with the derived private ID); `buffer_cap_bytes` caps the
    /// buffer as the logger's option of that name does: use the same value
    /// as the logger writing there.
    pub fn open(
        dir: impl AsRef<Path>,
        public_id: PublicId,
        uploader: Arc<dyn Uploader>,
        buffer_cap_bytes: u64,
    ) -> Result<LogUploader, Error> {
        crate::platform::init_diagnostics();
        let dir = dir.as_ref().to_path_buf();
        crate::logger::prepare_dir(&dir)?;
        let buffer = FileBuffer::open(
            &dir,
            FileBufferOptions {
                cap_bytes: buffer_cap_bytes,
                ..FileBufferOptions::default()
            },
        )?;
        Ok(LogUploader {
            dir,
            log_id: public_id.sockstat_private_id().public(),
            buffer,
            uploader,
        })
    }

    /// Uploads what the directory's buffer holds, within `deadline`, unless
    /// another uploader is at work on it (then it returns at once with
    /// [`FlushReport::other_uploader_active`] set).
    pub fn flush(&self, deadline: Duration) -> Result<FlushReport, Error> {
        let until = Instant::now() + deadline;
        upload_claimed(&self.dir, self.uploader.as_ref(), &self.buffer, until)
    }

    /// The public ID of the log uploaded to.
    pub fn log_id(&self) -> PublicId {
        self.log_id
    }

    /// The buffer's counters (lines and bytes waiting, as of the latest
    /// operation).
    pub fn buffer_stats(&self) -> BufferStats {
        self.buffer.stats()
    }
}

/// One upload under the directory's upload claim. Without the claim: an
/// empty report with `other_uploader_active`. A panicking uploader costs
/// this upload only: it is caught and reported in `last_error`.
pub(crate) fn upload_claimed(
    dir: &Path,
    uploader: &dyn Uploader,
    buffer: &dyn LogBuffer,
    until: Instant,
) -> Result<FlushReport, Error> {
    let Some(_claim) = UploadClaim::try_take(dir)? else {
        let lines = buffer.stats().lines;
        return Ok(FlushReport {
            other_uploader_active: true,
            complete: false,
            lines_still_buffered: lines,
            ..FlushReport::default()
        });
    };
    match catch_unwind(AssertUnwindSafe(|| uploader.upload(buffer, until))) {
        Ok(report) => Ok(report),
        Err(_) => {
            log::error!(
                "sockstatlog: the uploader panicked; this flush ends, the lines stay buffered"
            );
            let lines = buffer.stats().lines;
            Ok(FlushReport {
                lines_still_buffered: lines,
                complete: lines == 0,
                last_error: Some(
                    "the uploader panicked (a bug in it or in the HTTP client); what it had not \
                     confirmed stays buffered for the next flush"
                        .into(),
                ),
                ..FlushReport::default()
            })
        }
    }
}
