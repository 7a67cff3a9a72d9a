//! A logtail-compatible log server for sockstatlog's integration tests and demo.
//!
//! It implements the ingestion endpoint a logtail client uploads to,
//! `POST /c/{collection}/{private_id}`, stores every entry's exact JSON text in SQLite
//! under the log's public id (sha256 of the private id), serves the entries back, and can
//! fail on purpose (500, 429 + `Retry-After`, dropped connections, slow answers) with a
//! seeded, reproducible choice of which requests fail.
//!
//! It runs on its own thread with its own tokio runtime, so plain synchronous tests can
//! use it:
//!
//! ```no_run
//! use sockstatlog_logserver::{logid, Config, Server};
//!
//! let server = Server::start(Config::in_memory()).unwrap();
//! let private = "00".repeat(32);
//! let url = format!("{}/c/sockstats.test/{private}", server.base_url());
//! // ... a client POSTs `[{"a":1}]` to `url` ...
//! let public = logid::public_id_hex(&private).unwrap();
//! assert_eq!(server.entries("sockstats.test", &public), vec![r#"{"a":1}"#.to_string()]);
//! server.shutdown();
//! ```
//!
//! Modules: [`config`] (what to start), [`server`] (starting and stopping), [`ingest`]
//! (validation of an upload, no I/O), [`logid`] (collection and id rules), [`faults`]
//! (fault injection), [`store`] (SQLite), [`stats`] (counters), [`traffic`] (the
//! web UI's timelines and totals, also used by `sockstatlog-report`). The HTTP layer is private.

#![deny(missing_docs)]

pub mod config;
pub mod faults;
mod http;
pub mod ingest;
pub mod logid;
pub mod server;
pub mod stats;
pub mod store;
pub mod traffic;

pub use config::{Config, ConfigError, Storage, DEFAULT_BODY_LIMIT};
pub use faults::{Fault, FaultConfig, FaultConfigError, FaultPlan};
pub use ingest::Rejection;
pub use server::{RunningServer, Server, StartError};
pub use stats::Stats;
pub use store::StoreError;
