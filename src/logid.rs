//! Log IDs: private and public IDs, and the sockstat ID derivation.
//!
//! Pure. A private ID is the secret that lets a client write to a log; the
//! public ID, its sha256, names the log for readers. Both are 32 bytes written
//! as 64 lowercase hex characters. A private ID never appears in `Debug`
//! output, in an error message or in a diagnostic.

use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Length of an ID in bytes.
pub const ID_LEN: usize = 32;

/// Why a text is not a log ID. The messages never repeat the text itself, so
/// a private ID typed in the wrong place does not leak into logs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LogIdError {
    /// The text is not 64 characters long.
    #[error("a log ID is 64 hex characters, this one has {0}")]
    WrongLength(usize),
    /// A character is not a hex digit.
    #[error("a log ID is hex digits only (0-9, a-f); character {position} is not one")]
    NotHex {
        /// 1-based position of the first offending character.
        position: usize,
    },
}

fn parse_hex(text: &str) -> Result<[u8; ID_LEN], LogIdError> {
    let chars = text.chars().count();
    if chars != 2 * ID_LEN || text.len() != 2 * ID_LEN {
        return Err(LogIdError::WrongLength(chars));
    }
    let digit = |i: usize| -> Result<u8, LogIdError> {
        let c = text.as_bytes()[i];
        (c as char)
            .to_digit(16)
            .map(|d| d as u8)
            .ok_or(LogIdError::NotHex { position: i + 1 })
    };
    let mut out = [0u8; ID_LEN];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = digit(2 * i)? << 4 | digit(2 * i + 1)?;
    }
    Ok(out)
}

fn write_hex(bytes: &[u8; ID_LEN], f: &mut impl fmt::Write) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        f.write_char(HEX[usize::from(b >> 4)] as char)?;
        f.write_char(HEX[usize::from(b & 0xf)] as char)?;
    }
    Ok(())
}

/// The secret ID a client uses to write to a log.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateId([u8; ID_LEN]);

/// The ID that names a log for readers: sha256 of the private ID.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicId([u8; ID_LEN]);

impl PrivateId {
    /// Wraps 32 raw bytes.
    pub fn from_bytes(bytes: [u8; ID_LEN]) -> Self {
        PrivateId(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; ID_LEN] {
        &self.0
    }

    /// The public ID of this private ID: sha256 of its bytes.
    pub fn public(&self) -> PublicId {
        PublicId(Sha256::digest(self.0).into())
    }

    /// The 64-character lowercase hex text of this secret. Named so that every
    /// use is visible in review: only the upload URL needs it.
    pub fn expose_hex(&self) -> String {
        let mut s = String::with_capacity(2 * ID_LEN);
        write_hex(&self.0, &mut s).expect("writing to a String cannot fail");
        s
    }
}

impl fmt::Debug for PrivateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateId(<redacted>)")
    }
}

impl FromStr for PrivateId {
    type Err = LogIdError;
    /// Parses 64 hex characters (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hex(s).map(PrivateId)
    }
}

impl PublicId {
    /// Wraps 32 raw bytes.
    pub fn from_bytes(bytes: [u8; ID_LEN]) -> Self {
        PublicId(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; ID_LEN] {
        &self.0
    }

    /// The private ID this library logs under for a node with this public ID:
    /// sha256 of this ID's lowercase hex text followed by `sockstat`.
    ///
    /// As in the original, anyone who knows the node's public ID can derive it;
    /// the logs are for debugging only.
    pub fn sockstat_private_id(&self) -> PrivateId {
        let mut hasher = Sha256::new();
        hasher.update(self.to_string().as_bytes());
        hasher.update(b"sockstat");
        PrivateId(hasher.finalize().into())
    }
}

impl fmt::Display for PublicId {
    /// 64 lowercase hex characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(&self.0, f)
    }
}

impl fmt::Debug for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicId({self})")
    }
}

impl FromStr for PublicId {
    type Err = LogIdError;
    /// Parses 64 hex characters (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hex(s).map(PublicId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_as_lowercase_hex() {
        let text = "00ff".repeat(16);
        let id: PublicId = text.to_uppercase().parse().unwrap();
        assert_eq!(id.to_string(), text);
    }

    #[test]
    fn a_short_id_is_rejected_with_its_length() {
        let err = "abc".parse::<PublicId>().unwrap_err();
        assert_eq!(err, LogIdError::WrongLength(3));
        assert_eq!(
            err.to_string(),
            "a log ID is 64 hex characters, this one has 3"
        );
    }

    #[test]
    fn a_non_hex_character_is_rejected_by_position_without_echoing_the_text() {
        let text = format!("{}g{}", "a".repeat(10), "b".repeat(53));
        let err = text.parse::<PrivateId>().unwrap_err();
        assert_eq!(err, LogIdError::NotHex { position: 11 });
        assert!(!err.to_string().contains("aaaa"));
    }

    #[test]
    fn multibyte_text_is_a_length_error_not_a_panic() {
        let text = "é".repeat(32);
        assert_eq!(
            text.parse::<PublicId>().unwrap_err(),
            LogIdError::WrongLength(32)
        );
        let text = format!("{}é", "a".repeat(62));
        assert_eq!(
            text.parse::<PublicId>().unwrap_err(),
            LogIdError::WrongLength(63)
        );
    }

    #[test]
    fn a_private_id_is_redacted_in_debug_output() {
        let id = PrivateId::from_bytes([7; 32]);
        assert_eq!(format!("{id:?}"), "PrivateId(<redacted>)");
    }
}
