//! Validation of one logtail upload, free of I/O.
//!
//! [`validate`] takes the request's `Content-Encoding` and `Orig-Content-Length` headers and
//! its body, and returns either the exact JSON text of every entry (in order) or the
//! [`Rejection`] to answer with. A request is all-or-nothing: one bad entry rejects it whole.
//!
//! The rules, in the order they are checked:
//! 1. `Content-Encoding` is absent, `identity` or `zstd` (else 415).
//! 2. The body (decoded, for zstd) is at most the body limit (else 413). zstd is decoded
//!    with its output capped at the limit, so a small compressed "bomb" cannot use more
//!    memory than an honest upload.
//! 3. For zstd, `Orig-Content-Length`, if present, equals the decoded length (else 400).
//! 4. The body is UTF-8 JSON, a single array, whose elements are all objects (else 400).
//! 5. If an object has a `logtail` member, it is an object with no member other than
//!    `client_time`, and `client_time`, if present, is a string (else 400).

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::value::RawValue;
use thiserror::Error;

use crate::logid::{CollectionError, IdError};

/// The only member allowed inside an entry's `logtail` object.
pub const CLIENT_TIME: &str = "client_time";

/// Why an upload was refused. `Display` is the plain-text reason sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejection {
    /// The collection segment of the URL is invalid.
    #[error("bad collection in URL: {0}")]
    Collection(#[from] CollectionError),
    /// The log id segment of the URL is invalid.
    #[error("bad log id in URL: {0}")]
    LogId(#[from] IdError),
    /// The request body could not be read (e.g. the client went away mid-body).
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    /// `Content-Encoding` is something other than `zstd` or `identity`.
    #[error("unsupported Content-Encoding {0:?}: send the body uncompressed or with Content-Encoding: zstd")]
    UnsupportedEncoding(String),
    /// The body (after decoding) is larger than the server's limit.
    #[error("request body is larger than this server's limit of {limit} bytes (after decompression); send smaller batches")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// `Content-Encoding: zstd` but the body does not decode.
    #[error("Content-Encoding is zstd but the body is not a valid zstd stream: {0}")]
    InvalidZstd(String),
    /// `Orig-Content-Length` is not a decimal number.
    #[error(
        "Orig-Content-Length must be the decimal length of the uncompressed body, but it is {0:?}"
    )]
    BadOrigContentLength(String),
    /// `Orig-Content-Length` differs from the decoded body's length.
    #[error(
        "Orig-Content-Length says {declared} bytes, but the zstd body decodes to {actual} bytes"
    )]
    OrigContentLengthMismatch {
        /// The header's value.
        declared: u64,
        /// The decoded body's length.
        actual: usize,
    },
    /// The (decoded) body is not UTF-8.
    #[error("body is not valid UTF-8 (first bad byte at offset {valid_up_to}); send a JSON array of objects")]
    NotUtf8 {
        /// Length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// The (decoded) body is not a JSON document.
    #[error("body is not valid JSON ({0}); send a JSON array of objects")]
    InvalidJson(String),
    /// The body is JSON but not an array.
    #[error("body must be a JSON array of objects, but it is {found}")]
    NotArray {
        /// What it is instead, e.g. "an object".
        found: &'static str,
    },
    /// An element of the array is not an object.
    #[error("entry {index} (0-based) must be a JSON object, but it is {found}")]
    EntryNotObject {
        /// Zero-based position in the array.
        index: usize,
        /// What it is instead.
        found: &'static str,
    },
    /// An entry's `logtail` member is not an object.
    #[error("entry {index} (0-based): \"logtail\" must be an object, but it is {found}")]
    LogtailNotObject {
        /// Zero-based position in the array.
        index: usize,
        /// What it is instead.
        found: &'static str,
    },
    /// An entry's `logtail` object has a member other than `client_time`.
    #[error("entry {index} (0-based): \"logtail\" may contain only \"client_time\", but it has {member:?}")]
    LogtailUnknownMember {
        /// Zero-based position in the array.
        index: usize,
        /// The first (in sorted order) member that is not allowed.
        member: String,
    },
    /// An entry's `logtail.client_time` is not a string.
    #[error("entry {index} (0-based): \"logtail\".\"client_time\" must be a string (RFC 3339 time), but it is {found}")]
    ClientTimeNotString {
        /// Zero-based position in the array.
        index: usize,
        /// What it is instead.
        found: &'static str,
    },
    /// A traffic view's query string is invalid.
    #[error("bad query: {0}")]
    BadQuery(String),
}

impl Rejection {
    /// The HTTP status to answer with: 413, 415, or 400 for everything else.
    pub fn status(&self) -> u16 {
        match self {
            Rejection::TooLarge { .. } => 413,
            Rejection::UnsupportedEncoding(_) => 415,
            _ => 400,
        }
    }
}

/// How the request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No `Content-Encoding`, or `identity`.
    Identity,
    /// `Content-Encoding: zstd`.
    Zstd,
}

/// The parts of an upload request that [`validate`] looks at.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    /// Raw value of the `Content-Encoding` header, if any.
    pub content_encoding: Option<&'a [u8]>,
    /// Raw value of the `Orig-Content-Length` header, if any.
    pub orig_content_length: Option<&'a [u8]>,
    /// The body as received (possibly compressed).
    pub body: &'a [u8],
}

/// Parses a `Content-Encoding` header value (case-insensitive, surrounding spaces ignored).
pub fn parse_content_encoding(value: Option<&[u8]>) -> Result<Encoding, Rejection> {
    let Some(value) = value else {
        return Ok(Encoding::Identity);
    };
    let text = String::from_utf8_lossy(value);
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("zstd") {
        Ok(Encoding::Zstd)
    } else if trimmed.eq_ignore_ascii_case("identity") || trimmed.is_empty() {
        Ok(Encoding::Identity)
    } else {
        Err(Rejection::UnsupportedEncoding(trimmed.to_owned()))
    }
}

/// Checks one upload and returns the exact JSON text of each entry, in order.
///
/// `body_limit` caps the body's size after decoding (and before, for uncompressed bodies).
pub fn validate(upload: &Upload<'_>, body_limit: usize) -> Result<Vec<String>, Rejection> {
    let encoding = parse_content_encoding(upload.content_encoding)?;
    let decoded;
    let json: &[u8] = match encoding {
        Encoding::Identity => {
            if upload.body.len() > body_limit {
                return Err(Rejection::TooLarge { limit: body_limit });
            }
            upload.body
        }
        Encoding::Zstd => {
            decoded = decode_zstd(upload.body, body_limit)?;
            if let Some(header) = upload.orig_content_length {
                let declared = parse_length(header)?;
                if declared != decoded.len() as u64 {
                    return Err(Rejection::OrigContentLengthMismatch {
                        declared,
                        actual: decoded.len(),
                    });
                }
            }
            &decoded
        }
    };
    split_entries(json)
}

/// Decodes a zstd body, refusing output larger than `limit` bytes without producing it.
pub fn decode_zstd(body: &[u8], limit: usize) -> Result<Vec<u8>, Rejection> {
    let invalid = |e: std::io::Error| Rejection::InvalidZstd(e.to_string());
    let mut decoder = zstd::stream::read::Decoder::with_buffer(body).map_err(invalid)?;
    // The window is the decoder's main allocation: allow what any ordinary compressor
    // uses (up to 16 MiB), more only if the limit itself is larger, and never over 128 MiB.
    decoder
        .window_log_max(window_log_for(limit))
        .map_err(invalid)?;
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder.take(cap).read_to_end(&mut out).map_err(invalid)?;
    if out.len() > limit {
        return Err(Rejection::TooLarge { limit });
    }
    Ok(out)
}

/// log2 of the largest zstd window accepted for a given output limit: within 24..=27.
fn window_log_for(limit: usize) -> u32 {
    let needed = usize::BITS - limit.saturating_sub(1).leading_zeros();
    needed.clamp(24, 27)
}

fn parse_length(header: &[u8]) -> Result<u64, Rejection> {
    let bad = || Rejection::BadOrigContentLength(String::from_utf8_lossy(header).into_owned());
    let text = std::str::from_utf8(header).map_err(|_| bad())?.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    text.parse().map_err(|_| bad())
}

/// Splits a JSON array of objects into each element's exact text, checking each entry.
pub fn split_entries(json: &[u8]) -> Result<Vec<String>, Rejection> {
    let text = std::str::from_utf8(json).map_err(|e| Rejection::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    let whole: &RawValue =
        serde_json::from_str(text).map_err(|e| Rejection::InvalidJson(e.to_string()))?;
    let found = json_kind(whole.get());
    if found != ARRAY {
        return Err(Rejection::NotArray { found });
    }
    let elements: Vec<&RawValue> =
        serde_json::from_str(whole.get()).map_err(|e| Rejection::InvalidJson(e.to_string()))?;
    elements
        .iter()
        .enumerate()
        .map(|(index, element)| {
            check_entry(index, element)?;
            Ok(element.get().to_owned())
        })
        .collect()
}

fn check_entry(index: usize, element: &RawValue) -> Result<(), Rejection> {
    let found = json_kind(element.get());
    if found != OBJECT {
        return Err(Rejection::EntryNotObject { index, found });
    }
    let members: BTreeMap<String, &RawValue> =
        serde_json::from_str(element.get()).map_err(|e| Rejection::InvalidJson(e.to_string()))?;
    let Some(logtail) = members.get("logtail") else {
        return Ok(());
    };
    let found = json_kind(logtail.get());
    if found != OBJECT {
        return Err(Rejection::LogtailNotObject { index, found });
    }
    let inner: BTreeMap<String, &RawValue> =
        serde_json::from_str(logtail.get()).map_err(|e| Rejection::InvalidJson(e.to_string()))?;
    if let Some(member) = inner.keys().find(|k| k.as_str() != CLIENT_TIME) {
        return Err(Rejection::LogtailUnknownMember {
            index,
            member: member.clone(),
        });
    }
    if let Some(time) = inner.get(CLIENT_TIME) {
        let found = json_kind(time.get());
        if found != STRING {
            return Err(Rejection::ClientTimeNotString { index, found });
        }
    }
    Ok(())
}

const OBJECT: &str = "an object";
const ARRAY: &str = "an array";
const STRING: &str = "a string";

/// Names the kind of a syntactically valid JSON value from its first character.
fn json_kind(raw: &str) -> &'static str {
    match raw.trim_start().as_bytes().first() {
        Some(b'{') => OBJECT,
        Some(b'[') => ARRAY,
        Some(b'"') => STRING,
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    fn plain(body: &str) -> Result<Vec<String>, Rejection> {
        validate(
            &Upload {
                content_encoding: None,
                orig_content_length: None,
                body: body.as_bytes(),
            },
            LIMIT,
        )
    }

    fn zstd_upload(
        compressed: &[u8],
        orig: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Rejection> {
        validate(
            &Upload {
                content_encoding: Some(b"zstd"),
                orig_content_length: orig.map(str::as_bytes),
                body: compressed,
            },
            limit,
        )
    }

    #[test]
    fn entries_keep_their_exact_text_and_order() {
        let body = " [ {\"b\": 1,  \"a\":\"\\u00e9\"} ,\n{\"logtail\":{\"client_time\":\"2024-01-02T03:04:05.123456789Z\"},\"x\":[1, 2]}, {} ] ";
        assert_eq!(
            plain(body).unwrap(),
            vec![
                "{\"b\": 1,  \"a\":\"\\u00e9\"}".to_owned(),
                "{\"logtail\":{\"client_time\":\"2024-01-02T03:04:05.123456789Z\"},\"x\":[1, 2]}"
                    .to_owned(),
                "{}".to_owned(),
            ]
        );
    }

    #[test]
    fn an_empty_array_is_accepted_with_no_entries() {
        assert_eq!(plain("[]").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn zstd_bodies_are_decoded() {
        let json = br#"[{"a":1},{"b":2}]"#;
        let compressed = zstd::encode_all(&json[..], 3).unwrap();
        let expected = vec![r#"{"a":1}"#.to_owned(), r#"{"b":2}"#.to_owned()];
        assert_eq!(zstd_upload(&compressed, None, LIMIT).unwrap(), expected);
        assert_eq!(
            zstd_upload(&compressed, Some("17"), LIMIT).unwrap(),
            expected
        );
    }

    #[test]
    fn orig_content_length_must_match_the_decoded_length() {
        let compressed = zstd::encode_all(&br#"[{"a":1}]"#[..], 3).unwrap();
        assert_eq!(
            zstd_upload(&compressed, Some("10"), LIMIT),
            Err(Rejection::OrigContentLengthMismatch {
                declared: 10,
                actual: 9
            })
        );
        assert_eq!(
            zstd_upload(&compressed, Some("nine"), LIMIT),
            Err(Rejection::BadOrigContentLength("nine".to_owned()))
        );
        assert_eq!(
            zstd_upload(&compressed, Some("-9"), LIMIT),
            Err(Rejection::BadOrigContentLength("-9".to_owned()))
        );
    }

    #[test]
    fn corrupt_zstd_is_rejected() {
        let err = zstd_upload(b"[{\"a\":1}]", None, LIMIT).unwrap_err();
        assert!(matches!(err, Rejection::InvalidZstd(_)), "{err:?}");
        assert_eq!(err.status(), 400);

        let mut truncated = zstd::encode_all(&br#"[{"a":1},{"b":2}]"#[..], 3).unwrap();
        truncated.truncate(truncated.len() - 3);
        let err = zstd_upload(&truncated, None, LIMIT).unwrap_err();
        assert!(matches!(err, Rejection::InvalidZstd(_)), "{err:?}");
    }

    #[test]
    fn a_zstd_bomb_is_refused_at_the_limit() {
        // 64 MiB of spaces compress to a few KiB.
        let bomb = zstd::encode_all(std::io::repeat(b' ').take(64 << 20), 3).unwrap();
        assert!(bomb.len() < 64 << 10);
        assert_eq!(
            zstd_upload(&bomb, None, LIMIT),
            Err(Rejection::TooLarge { limit: LIMIT })
        );
    }

    #[test]
    fn the_zstd_window_allowed_is_16_mib_or_the_limit_up_to_128_mib() {
        assert_eq!(window_log_for(1), 24);
        assert_eq!(window_log_for(16 << 20), 24);
        assert_eq!(window_log_for((16 << 20) + 1), 25);
        assert_eq!(window_log_for(usize::MAX), 27);
    }

    #[test]
    fn a_body_exactly_at_the_limit_is_accepted_and_one_byte_more_is_not() {
        let body = format!("[{{\"pad\":\"{}\"}}]", "x".repeat(100));
        let at = body.len();
        let upload = Upload {
            content_encoding: None,
            orig_content_length: None,
            body: body.as_bytes(),
        };
        assert_eq!(validate(&upload, at).unwrap().len(), 1);
        assert_eq!(
            validate(&upload, at - 1),
            Err(Rejection::TooLarge { limit: at - 1 })
        );
        let compressed = zstd::encode_all(body.as_bytes(), 3).unwrap();
        assert_eq!(zstd_upload(&compressed, None, at).unwrap().len(), 1);
        assert_eq!(
            zstd_upload(&compressed, None, at - 1),
            Err(Rejection::TooLarge { limit: at - 1 })
        );
    }

    #[test]
    fn content_encodings_other_than_zstd_are_unsupported() {
        assert_eq!(parse_content_encoding(None), Ok(Encoding::Identity));
        assert_eq!(
            parse_content_encoding(Some(b"identity")),
            Ok(Encoding::Identity)
        );
        assert_eq!(parse_content_encoding(Some(b" ZSTD ")), Ok(Encoding::Zstd));
        let err = parse_content_encoding(Some(b"gzip")).unwrap_err();
        assert_eq!(err, Rejection::UnsupportedEncoding("gzip".to_owned()));
        assert_eq!(err.status(), 415);
    }

    #[test]
    fn bodies_that_are_not_a_json_array_of_objects_are_rejected() {
        assert!(matches!(plain(""), Err(Rejection::InvalidJson(_))));
        assert!(matches!(
            plain("[{\"a\":1}"),
            Err(Rejection::InvalidJson(_))
        ));
        assert!(matches!(plain("[{}] []"), Err(Rejection::InvalidJson(_))));
        assert_eq!(
            plain("{\"a\":1}"),
            Err(Rejection::NotArray { found: "an object" })
        );
        assert_eq!(
            plain("\"x\""),
            Err(Rejection::NotArray { found: "a string" })
        );
        assert_eq!(
            plain("[{}, 3]"),
            Err(Rejection::EntryNotObject {
                index: 1,
                found: "a number"
            })
        );
        assert_eq!(
            plain("[null]"),
            Err(Rejection::EntryNotObject {
                index: 0,
                found: "null"
            })
        );
        assert_eq!(
            split_entries(b"[\"\xff\"]"),
            Err(Rejection::NotUtf8 { valid_up_to: 2 })
        );
    }

    #[test]
    fn the_logtail_member_may_only_carry_client_time() {
        assert_eq!(
            plain(r#"[{"logtail":"now"}]"#),
            Err(Rejection::LogtailNotObject {
                index: 0,
                found: "a string"
            })
        );
        assert_eq!(
            plain(r#"[{}, {"logtail":{"client_time":"t","server_time":"t"}}]"#),
            Err(Rejection::LogtailUnknownMember {
                index: 1,
                member: "server_time".to_owned()
            })
        );
        assert_eq!(
            plain(r#"[{"logtail":{"client_time":5}}]"#),
            Err(Rejection::ClientTimeNotString {
                index: 0,
                found: "a number"
            })
        );
        assert_eq!(plain(r#"[{"logtail":{}}]"#).unwrap().len(), 1);
        // Only the top-level "logtail" member is special.
        assert_eq!(
            plain(r#"[{"x":{"logtail":{"other":1}}}]"#).unwrap().len(),
            1
        );
    }

    #[test]
    fn rejection_reasons_are_actionable_text() {
        assert_eq!(
            Rejection::EntryNotObject {
                index: 2,
                found: "a string"
            }
            .to_string(),
            "entry 2 (0-based) must be a JSON object, but it is a string"
        );
        assert_eq!(
            Rejection::TooLarge { limit: 100 }.to_string(),
            "request body is larger than this server's limit of 100 bytes (after decompression); send smaller batches"
        );
    }
}
