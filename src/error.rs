//! The public API's error type.
//!
//! Messages say what went wrong and what to do. None of them ever contains a
//! private log ID.

use crate::buffer::BufferError;
use crate::line::LineError;
use crate::logid::LogIdError;
use std::path::PathBuf;
use thiserror::Error;

/// An error from the [`Logger`](crate::Logger) API.
#[derive(Debug, Error)]
pub enum Error {
    /// The logger was shut down; create a new one to log again.
    #[error("the logger has been shut down; create a new logger to log again")]
    ShutDown,
    /// A log ID could not be parsed.
    #[error("invalid log ID: {0}")]
    InvalidLogId(#[from] LogIdError),
    /// An option is out of range.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// The option's name.
        name: &'static str,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// The log directory cannot be created or used.
    #[error("cannot use log directory {path}: {source}; pass a writable directory inside the app's container")]
    LogDirectory {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line given to `write` was rejected.
    #[error("line rejected: {0}")]
    InvalidLine(#[from] LineError),
    /// The log buffer failed.
    #[error(transparent)]
    Buffer(#[from] BufferError),
    /// The logger's worker thread could not be started.
    #[error("could not start the logger's worker thread: {source}; the process is out of threads or memory: end threads it no longer needs, then create the logger again")]
    WorkerThread {
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The cross-process upload lock file cannot be opened or locked.
    #[error("cannot use the upload lock file {path}: {source}; give the process write access to the log directory")]
    UploadLock {
        /// The lock file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Another flush of the same logger was uploading for the whole deadline.
    #[error("{operation} waited its whole deadline of {deadline_ms} ms for another flush of this logger to finish uploading; nothing is lost (lines stay buffered): call {operation} again once that flush has returned, or give it a longer deadline")]
    FlushInProgress {
        /// The operation that waited: "flush" or "shutdown".
        operation: &'static str,
        /// The deadline given, in milliseconds.
        deadline_ms: u64,
    },
    /// The worker did not finish by the deadline: it is inside a counter
    /// source call. What was queued has been stored by the calling thread.
    #[error("{operation} did not finish within its deadline of {deadline_ms} ms because the counter source has not returned; everything logged so far is stored; make the counter source return promptly")]
    DeadlineExceeded {
        /// The operation: "flush" or "shutdown".
        operation: &'static str,
        /// The deadline given, in milliseconds.
        deadline_ms: u64,
    },
}
