//! Where uploads go: the base URL and collection checks, and the upload URL.
//!
//! Pure. The upload URL is `{base}/c/{collection}/{private id hex}`; it
//! carries the private log ID, so it is built only to hand to the transport
//! and never printed. The base URL must be `https://`, except plain
//! `http://` to a loopback host (`127.0.0.0/8`, `[::1]`, `localhost`), which
//! a local test server needs; anything else is a configuration error found
//! when the uploader is created, not at the first flush.

use std::net::{Ipv4Addr, Ipv6Addr};
use thiserror::Error;

/// The longest collection name accepted (as the log server does).
pub const MAX_COLLECTION_LEN: usize = 128;

/// Why an uploader's configuration is unusable. Messages never contain the
/// private log ID (it is not part of anything checked here).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// The base URL is neither `https://` nor `http://`.
    #[error("log server URL {url:?} must start with https:// (or http:// for a test server on this device's loopback address)")]
    UnsupportedScheme {
        /// The URL given.
        url: String,
    },
    /// Plain `http://` to a host that is not loopback.
    #[error("log server URL {url:?} uses plain http to {host:?}, which is not a loopback address; use https:// (plain http is allowed only to 127.0.0.0/8, [::1] and localhost, for tests)")]
    InsecureHttp {
        /// The URL given.
        url: String,
        /// Its host.
        host: String,
    },
    /// The base URL has user info (`user:password@`). Not echoed: it may
    /// hold a password.
    #[error("log server URL must not contain a user name or password (user@host); give only scheme, host, port and path")]
    Credentials,
    /// The base URL is malformed.
    #[error("log server URL {url:?} is not usable: {reason}; give scheme, host, optional port and path, e.g. https://log.tailscale.com")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The collection name is malformed.
    #[error("collection name {name:?} is not usable: {reason}; use 1-128 characters of A-Z a-z 0-9 . _ - such as sockstats.log.tailscale.io")]
    InvalidCollection {
        /// The name given.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Another setting is out of range.
    #[error("uploader setting {name} is out of range: {reason}")]
    InvalidSetting {
        /// The setting.
        name: &'static str,
        /// What is wrong and what to use.
        reason: String,
    },
}

/// A checked base URL and collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    base: String,
    collection: String,
}

impl Endpoint {
    /// Checks `base_url` and `collection`. A trailing `/` on the base URL is
    /// ignored.
    pub fn new(base_url: &str, collection: &str) -> Result<Endpoint, ConfigError> {
        let base = check_base_url(base_url)?;
        check_collection(collection)?;
        Ok(Endpoint {
            base,
            collection: collection.to_string(),
        })
    }

    /// The base URL, normalised: scheme in lowercase, no trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The collection name.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// `{base}/c/{collection}/{private_hex}`: a secret; do not print it.
    pub fn upload_url(&self, private_hex: &str) -> String {
        format!("{}/c/{}/{}", self.base, self.collection, private_hex)
    }
}

fn invalid(url: &str, reason: &'static str) -> ConfigError {
    ConfigError::InvalidUrl {
        url: url.to_string(),
        reason,
    }
}

/// Checks a base URL and returns its normal form.
fn check_base_url(url: &str) -> Result<String, ConfigError> {
    let has_scheme = |scheme: &str| {
        url.get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    };
    let (https, rest) = if has_scheme("https://") {
        (true, &url[8..])
    } else if has_scheme("http://") {
        (false, &url[7..])
    } else {
        return Err(ConfigError::UnsupportedScheme {
            url: url.to_string(),
        });
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err(ConfigError::Credentials);
    }
    if url
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(invalid(url, "it contains spaces or control characters"));
    }
    if url.contains(['?', '#']) {
        return Err(invalid(url, "it has a query or fragment"));
    }
    if !path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b))
    {
        return Err(invalid(url, "its path has characters that need escaping"));
    }
    let host = check_authority(url, authority)?;
    if !https && !is_loopback(host) {
        return Err(ConfigError::InsecureHttp {
            url: url.to_string(),
            host: host.to_string(),
        });
    }
    let scheme = if https { "https://" } else { "http://" };
    Ok(format!("{scheme}{authority}{}", path.trim_end_matches('/')))
}

/// Checks `host[:port]` or `[v6]:port` and returns the host (with brackets
/// for IPv6).
fn check_authority<'a>(url: &str, authority: &'a str) -> Result<&'a str, ConfigError> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority
            .find(']')
            .ok_or_else(|| invalid(url, "its IPv6 address has no closing ]"))?;
        let (host, after) = authority.split_at(end + 1);
        if host[1..end].parse::<Ipv6Addr>().is_err() {
            return Err(invalid(url, "the address in [] is not an IPv6 address"));
        }
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(invalid(url, "unexpected text after the IPv6 address")),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(invalid(url, "it has no host"));
    }
    if !host.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(invalid(
            url,
            "its host has characters a host name cannot have",
        ));
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65_535).contains(&p));
        if !valid {
            return Err(invalid(url, "its port is not a number from 1 to 65535"));
        }
    }
    Ok(host)
}

/// Whether `host` (as in a URL; IPv6 in brackets) is this device.
fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

fn check_collection(name: &str) -> Result<(), ConfigError> {
    let fail = |reason| {
        Err(ConfigError::InvalidCollection {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return fail("it is empty");
    }
    if name.len() > MAX_COLLECTION_LEN {
        return fail("it is longer than 128 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return fail("it has a character other than A-Z a-z 0-9 . _ -");
    }
    if name == "." || name == ".." {
        return fail("it is a relative path segment");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn url(base: &str) -> Result<String, ConfigError> {
        Endpoint::new(base, "sockstats.log.tailscale.io").map(|e| e.upload_url(HEX))
    }

    #[test]
    fn the_default_server_gives_the_logtail_url() {
        assert_eq!(
            url("https://log.tailscale.com").unwrap(),
            format!("https://log.tailscale.com/c/sockstats.log.tailscale.io/{HEX}")
        );
    }

    #[test]
    fn https_urls_are_normalised() {
        let e = Endpoint::new("HTTPS://logs.example.com:8443/prefix/", "c").unwrap();
        assert_eq!(e.base(), "https://logs.example.com:8443/prefix");
        assert_eq!(
            e.upload_url(HEX),
            format!("https://logs.example.com:8443/prefix/c/c/{HEX}")
        );
        assert_eq!(
            Endpoint::new("https://[2001:db8::1]/", "c").unwrap().base(),
            "https://[2001:db8::1]"
        );
    }

    #[test]
    fn plain_http_is_allowed_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8090",
            "http://127.1.2.3",
            "http://localhost:1",
            "http://LOCALHOST",
            "http://[::1]:8090",
        ] {
            assert!(url(ok).is_ok(), "{ok}: {:?}", url(ok));
        }
        for (bad, host) in [
            ("http://log.tailscale.com", "log.tailscale.com"),
            ("http://10.0.0.1:80", "10.0.0.1"),
            ("http://128.0.0.1", "128.0.0.1"),
            ("http://[::2]", "[::2]"),
            ("http://localhost.example.com", "localhost.example.com"),
            ("http://0.0.0.0", "0.0.0.0"),
        ] {
            assert_eq!(
                url(bad),
                Err(ConfigError::InsecureHttp {
                    url: bad.to_string(),
                    host: host.to_string()
                })
            );
        }
    }

    #[test]
    fn other_schemes_are_refused() {
        for bad in [
            "ftp://x",
            "log.tailscale.com",
            "",
            "https:/x",
            "ws://localhost",
        ] {
            assert_eq!(
                url(bad),
                Err(ConfigError::UnsupportedScheme {
                    url: bad.to_string()
                })
            );
        }
    }

    #[test]
    fn malformed_urls_are_refused_with_a_reason() {
        let reason = |u: &str| match url(u) {
            Err(ConfigError::InvalidUrl { reason, .. }) => reason,
            other => panic!("{u}: {other:?}"),
        };
        assert_eq!(reason("https://"), "it has no host");
        assert_eq!(reason("https://:80"), "it has no host");
        assert_eq!(
            reason("https://a b"),
            "it contains spaces or control characters"
        );
        assert_eq!(reason("https://h/?q=1"), "it has a query or fragment");
        assert_eq!(reason("https://h#f"), "it has a query or fragment");
        assert_eq!(
            reason("https://h:0"),
            "its port is not a number from 1 to 65535"
        );
        assert_eq!(
            reason("https://h:65536"),
            "its port is not a number from 1 to 65535"
        );
        assert_eq!(
            reason("https://h:"),
            "its port is not a number from 1 to 65535"
        );
        assert_eq!(
            reason("https://h:1:2"),
            "its port is not a number from 1 to 65535"
        );
        assert_eq!(reason("https://[::1"), "its IPv6 address has no closing ]");
        assert_eq!(
            reason("https://[zz]"),
            "the address in [] is not an IPv6 address"
        );
        assert_eq!(
            reason("https://[::1]x"),
            "unexpected text after the IPv6 address"
        );
        assert_eq!(
            reason("https://h_x"),
            "its host has characters a host name cannot have"
        );
        assert_eq!(
            reason("https://h/a\"b"),
            "its path has characters that need escaping"
        );
    }

    #[test]
    fn credentials_are_refused_without_being_echoed() {
        let err = url("https://user:hunter2@log.example.com").unwrap_err();
        assert_eq!(err, ConfigError::Credentials);
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn collection_names_follow_the_server_rules() {
        assert!(Endpoint::new("https://h", &"a".repeat(128)).is_ok());
        assert!(Endpoint::new("https://h", "A-Z_a.z-09").is_ok());
        let reason = |c: &str| match Endpoint::new("https://h", c) {
            Err(ConfigError::InvalidCollection { reason, .. }) => reason,
            other => panic!("{c}: {other:?}"),
        };
        assert_eq!(reason(""), "it is empty");
        assert_eq!(reason(&"a".repeat(129)), "it is longer than 128 characters");
        assert_eq!(
            reason("a/b"),
            "it has a character other than A-Z a-z 0-9 . _ -"
        );
        assert_eq!(
            reason("é"),
            "it has a character other than A-Z a-z 0-9 . _ -"
        );
        assert_eq!(reason(".."), "it is a relative path segment");
    }

    #[test]
    fn messages_say_what_to_do() {
        let err = url("http://log.example.com").unwrap_err();
        assert_eq!(
            err.to_string(),
            "log server URL \"http://log.example.com\" uses plain http to \"log.example.com\", which is not a loopback address; use https:// (plain http is allowed only to 127.0.0.0/8, [::1] and localhost, for tests)"
        );
    }
}
