//! Shared parts of the measurement harnesses (`sockstatlog-perf`,
//! `upload_cost`): a counting global allocator, the log server in a child
//! process, and synthetic traffic.
#![deny(missing_docs)]

pub mod alloc;
pub mod server;
pub mod source;
