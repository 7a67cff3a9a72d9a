//! sockstatlog: how many bytes each part of an app sends and receives, logged
//! every 100 ms from inside a phone's VPN process and uploaded on demand to a
//! logtail-compatible log server.
//!
//! A Rust port, and successor, of Tailscale's Go `sockstatlog`: the event
//! lines and log IDs are byte-compatible with it; the mistakes listed in
//! `ARCHITECTURE.md` are not repeated.
//!
//! ```no_run
//! use sockstatlog::{Counters, Label, Logger, Options, PublicId, Snapshot, SourceError};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! let source = Arc::new(|| -> Result<Snapshot, SourceError> {
//!     Snapshot::new(false, [(Label::MAGICSOCK_CONN_UDP4, Counters { tx: 1_500, rx: 4_000 })])
//!         .map_err(|e| SourceError(e.to_string()))
//! });
//! let node: PublicId = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d".parse()?;
//! let logger = Logger::new("/tmp/sockstats", node, source, Options::default())?;
//! logger.set_logging_enabled(true)?;
//! // ... when the app goes to the background:
//! let report = logger.flush(Duration::from_secs(5))?;
//! logger.shutdown(Duration::from_secs(5))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod buffer;
pub mod clock;
mod error;
pub mod event;
mod ffi;
pub mod label;
pub mod line;
mod log_uploader;
mod logger;
pub mod logid;
mod platform;
pub mod poll;
pub mod queue;
pub mod snapshot;
pub mod source;
pub mod upload;
mod upload_claim;
mod worker;

pub use buffer::{BufferStats, FileBuffer, FileBufferOptions, LogBuffer, MemoryBuffer};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::Error;
pub use event::Event;
pub use label::Label;
pub use log_uploader::LogUploader;
pub use logger::{
    Logger, LoggerStats, Options, DEFAULT_BATCH_PERIOD, DEFAULT_BUFFER_CAP_BYTES,
    DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_QUEUED_LINES, DEFAULT_POLL_PERIOD,
    DEFAULT_SOURCE_TIMEOUT, FLUSH_WORKER_SHARE_PERCENT, MIN_POLL_PERIOD,
};
pub use logid::{LogIdError, PrivateId, PublicId};
pub use snapshot::{Counters, DeltaEntry, Snapshot, SnapshotError};
pub use source::{CounterSource, SourceError};
pub use upload::{FlushReport, HttpTransport, LogtailUploader, Uploader, UploaderConfig};
pub use upload_claim::UPLOAD_LOCK_FILE;

uniffi::setup_scaffolding!();
