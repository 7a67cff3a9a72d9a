//! Uploading the buffer to a log server: the interface `flush` calls, and the
//! logtail uploader that implements it.
//!
//! `Logger::flush` calls [`Uploader::upload`] with the log buffer and the
//! flush's deadline. [`LogtailUploader`] speaks the logtail protocol
//! (`docs/UPLOAD.md` describes it and the retry policy):
//!
//! | module | role | kind |
//! |---|---|---|
//! | [`rfc3339`] | the `client_time` text | pure |
//! | [`body`] | lines -> a JSON array body of at most 256 KiB | pure |
//! | [`compress`] | zstd, when it pays | pure (CPU only) |
//! | [`policy`] | status -> accept / drop / retry after a wait / stop | pure |
//! | [`endpoint`] | base URL and collection checks, the upload URL | pure |
//! | [`redact`] | the private ID (and any 8+ hex piece of it) out of messages | pure |
//! | [`transport`] | [`HttpTransport`]: the HTTP stack, pluggable | interface |
//! | `reqwest` | [`ReqwestTransport`], the default transport (feature `reqwest-transport`) | shell |
//! | `platform_tls` | the platform verifier's one-time setup (Android's `SockstatLog.initTls`) | shell |
//! | [`clock`] | [`UploadClock`]: now, wall time and sleep, injectable | shell |
//! | [`client`] | [`LogtailUploader`]: the loop tying them together | shell |
//!
//! Intended construction (the logger's uploader is set through
//! [`Options::uploader`](crate::Options)):
//!
//! ```no_run
//! # #[cfg(feature = "reqwest-transport")] {
//! use sockstatlog::upload::{LogtailUploader, ReqwestTransport, UploaderConfig};
//! use sockstatlog::{MemoryBuffer, Options, PublicId};
//! use std::sync::Arc;
//!
//! let node: PublicId = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d".parse()?;
//! let config = UploaderConfig::new(node.sockstat_private_id(), Arc::new(ReqwestTransport::new()));
//! let options = Options {
//!     uploader: Some(Arc::new(LogtailUploader::new(config)?)),
//!     buffer: Some(Arc::new(MemoryBuffer::default())),
//!     ..Options::default()
//! };
//! # let _ = options;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod body;
pub mod client;
pub mod clock;
pub mod compress;
pub mod endpoint;
#[cfg(feature = "reqwest-transport")]
pub mod platform_tls;
pub mod policy;
pub mod redact;
#[cfg(feature = "reqwest-transport")]
mod reqwest;
pub mod rfc3339;
pub mod transport;

pub use client::{LogtailUploader, UploaderConfig, DEFAULT_BASE_URL, DEFAULT_COLLECTION};
pub use clock::{SystemUploadClock, UploadClock};
pub use endpoint::ConfigError;
pub use policy::RetryPolicy;
#[cfg(feature = "reqwest-transport")]
pub use reqwest::ReqwestTransport;
pub use transport::{HttpRequest, HttpResponse, HttpTransport, TransportError};

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
    /// JSON bytes of the accepted batches before compression.
    pub bytes_uncompressed: u64,
    /// HTTP requests made, whatever their outcome.
    pub requests: u64,
    /// Requests that failed and were retried after a wait.
    pub retries: u64,
    /// The last failure seen (a status with the server's reason, or a
    /// transport error), if any. Never contains the private log ID.
    pub last_error: Option<String>,
    /// Another process, or another logger/LogUploader on the same directory,
    /// was uploading; this flush uploaded nothing and returned at once.
    pub other_uploader_active: bool,
}

/// Sends what a buffer holds to a log server. Called by `flush`, on the
/// calling thread, with the flush's deadline.
pub trait Uploader: Send + Sync {
    /// Uploads the lines buffered when the call began, removing each batch
    /// the server accepted, and returns what happened. Must return by
    /// `deadline`.
    fn upload(&self, buffer: &dyn LogBuffer, deadline: Instant) -> FlushReport;
}
