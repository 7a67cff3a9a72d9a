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
    /// The operation did not finish by its deadline. What was done is kept.
    #[error("{operation} did not finish within its deadline of {deadline_ms} ms (the counter source may be blocked); everything logged so far is kept")]
    DeadlineExceeded {
        /// The operation: "flush" or "shutdown".
        operation: &'static str,
        /// The deadline given, in milliseconds.
        deadline_ms: u64,
    },
}
