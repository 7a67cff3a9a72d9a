//! Server configuration: where to listen, where to store, faults, and the body limit.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use thiserror::Error;

use crate::faults::{FaultConfig, FaultConfigError};

/// Default cap on an upload's body, after decompression: 16 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 16 << 20;

/// Where entries are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// An SQLite database that lives as long as the server (for tests).
    Memory,
    /// An SQLite database file, created if missing; entries survive restarts.
    Sqlite(PathBuf),
}

/// Everything [`crate::Server::start`] needs. `Config::default()` listens on an ephemeral
/// loopback port, stores in memory, injects no faults and accepts bodies up to
/// [`DEFAULT_BODY_LIMIT`].
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port; see [`crate::RunningServer::addr`].
    pub listen: SocketAddr,
    /// Must be `true` to listen on anything but a loopback address: this server has no
    /// authentication and is meant for tests and demos.
    pub allow_non_loopback: bool,
    /// Where entries are kept.
    pub storage: Storage,
    /// Deliberate failures, for testing clients' retry logic.
    pub faults: FaultConfig,
    /// Largest accepted body in bytes, both as sent and after decompression (else 413).
    pub body_limit: usize,
    /// Print one line per request to stderr.
    pub log_requests: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            allow_non_loopback: false,
            storage: Storage::Memory,
            faults: FaultConfig::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            log_requests: false,
        }
    }
}

/// Why a [`Config`] is unusable.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// A non-loopback listen address without [`Config::allow_non_loopback`].
    #[error("refusing to listen on non-loopback address {0}: this server has no authentication; allow it explicitly (--allow-non-loopback) if you really mean to")]
    NonLoopback(SocketAddr),
    /// The fault settings are invalid.
    #[error("invalid fault settings: {0}")]
    Faults(#[from] FaultConfigError),
    /// A body limit of zero would refuse everything.
    #[error("body limit must be at least 1 byte")]
    ZeroBodyLimit,
}

impl Config {
    /// The default configuration, storing in memory.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// The default configuration, storing in the SQLite file at `path`.
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        Self {
            storage: Storage::Sqlite(path.into()),
            ..Self::default()
        }
    }

    /// Checks the listen address against [`Config::allow_non_loopback`], the fault shares
    /// and the body limit.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.listen.ip().is_loopback() && !self.allow_non_loopback {
            return Err(ConfigError::NonLoopback(self.listen));
        }
        self.faults.validate()?;
        if self.body_limit == 0 {
            return Err(ConfigError::ZeroBodyLimit);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_listens_on_an_ephemeral_loopback_port_in_memory() {
        let config = Config::default();
        assert_eq!(config.listen, "127.0.0.1:0".parse().unwrap());
        assert_eq!(config.storage, Storage::Memory);
        assert_eq!(config.body_limit, 16 * 1024 * 1024);
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn ipv6_loopback_is_allowed() {
        let config = Config {
            listen: "[::1]:0".parse().unwrap(),
            ..Config::default()
        };
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn non_loopback_addresses_need_an_explicit_opt_in() {
        let any: SocketAddr = "0.0.0.0:8090".parse().unwrap();
        let config = Config {
            listen: any,
            ..Config::default()
        };
        assert_eq!(config.validate(), Err(ConfigError::NonLoopback(any)));
        let allowed = Config {
            allow_non_loopback: true,
            ..config
        };
        assert_eq!(allowed.validate(), Ok(()));
    }

    #[test]
    fn a_zero_body_limit_is_refused() {
        let config = Config {
            body_limit: 0,
            ..Config::default()
        };
        assert_eq!(config.validate(), Err(ConfigError::ZeroBodyLimit));
    }
}
