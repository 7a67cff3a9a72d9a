//! Log identity: the collection name and the private/public log ids in a logtail URL.
//!
//! A client uploads to `/c/{collection}/{private id}`. The private id is the lowercase hex
//! of 32 secret bytes; the server files the log under the *public* id, the lowercase hex of
//! sha256 of those 32 bytes, so that a log can be read without knowing the secret.

use std::fmt;

use sha2::{Digest, Sha256};
use thiserror::Error;

/// Length in bytes of a log id (private or public).
pub const ID_LEN: usize = 32;

/// Length in characters of a log id written as hex.
pub const ID_HEX_LEN: usize = ID_LEN * 2;

/// Longest collection name accepted, in bytes.
pub const COLLECTION_MAX_LEN: usize = 128;

/// Why a log id in a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    /// The id does not have exactly [`ID_HEX_LEN`] characters.
    #[error("{kind} log id must be {ID_HEX_LEN} lowercase hex characters (32 bytes), but it has {len} characters")]
    WrongLength {
        /// "private" or "public".
        kind: &'static str,
        /// Number of characters received.
        len: usize,
    },
    /// The id contains a character other than `0-9a-f`.
    #[error(
        "{kind} log id must be lowercase hex (0-9, a-f), but character {position} is {found:?}"
    )]
    NotLowercaseHex {
        /// "private" or "public".
        kind: &'static str,
        /// Zero-based index of the first bad character.
        position: usize,
        /// The bad character.
        found: char,
    },
}

/// Why a collection name in a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CollectionError {
    /// The collection segment is empty.
    #[error("collection name is empty; use e.g. /c/sockstats.log.example/{{id}}")]
    Empty,
    /// The collection name is longer than [`COLLECTION_MAX_LEN`] bytes.
    #[error("collection name is {len} bytes long; at most {COLLECTION_MAX_LEN} are allowed")]
    TooLong {
        /// Length received, in bytes.
        len: usize,
    },
    /// The collection name contains a character outside `A-Z a-z 0-9 . _ -`.
    #[error("collection name may contain only A-Z, a-z, 0-9, '.', '_' and '-', but character {position} is {found:?}")]
    BadCharacter {
        /// Zero-based index of the first bad character.
        position: usize,
        /// The bad character.
        found: char,
    },
}

/// A validated collection name (the `{collection}` URL segment).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Collection(String);

impl Collection {
    /// Validates a collection name: 1 to [`COLLECTION_MAX_LEN`] bytes of `A-Z a-z 0-9 . _ -`.
    pub fn parse(name: &str) -> Result<Self, CollectionError> {
        if name.is_empty() {
            return Err(CollectionError::Empty);
        }
        if name.len() > COLLECTION_MAX_LEN {
            return Err(CollectionError::TooLong { len: name.len() });
        }
        if let Some((position, found)) = name
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(CollectionError::BadCharacter { position, found });
        }
        Ok(Self(name.to_owned()))
    }

    /// The collection name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The secret id a client uploads with. Its `Debug` output does not show the bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PrivateId([u8; ID_LEN]);

impl PrivateId {
    /// Parses [`ID_HEX_LEN`] lowercase hex characters.
    pub fn from_hex(hex: &str) -> Result<Self, IdError> {
        decode_hex("private", hex).map(Self)
    }

    /// Wraps 32 raw bytes.
    pub fn from_bytes(bytes: [u8; ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The public id that this private id's log is stored and read under.
    pub fn public_id(&self) -> PublicId {
        PublicId(Sha256::digest(self.0).into())
    }
}

impl fmt::Debug for PrivateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateId(<redacted>)")
    }
}

/// The id a log is stored and read back under: sha256 of the private id's bytes.
/// `Display` writes it as lowercase hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicId([u8; ID_LEN]);

impl PublicId {
    /// Parses [`ID_HEX_LEN`] lowercase hex characters.
    pub fn from_hex(hex: &str) -> Result<Self, IdError> {
        decode_hex("public", hex).map(Self)
    }

    /// The id as [`ID_HEX_LEN`] lowercase hex characters.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(ID_HEX_LEN);
        for byte in self.0 {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The public id (lowercase hex) for a private id given as lowercase hex.
///
/// Tests use this to find the log that a client uploading with `private_hex` wrote.
pub fn public_id_hex(private_hex: &str) -> Result<String, IdError> {
    Ok(PrivateId::from_hex(private_hex)?.public_id().to_hex())
}

fn decode_hex(kind: &'static str, hex: &str) -> Result<[u8; ID_LEN], IdError> {
    let len = hex.chars().count();
    if len != ID_HEX_LEN || hex.len() != ID_HEX_LEN {
        return Err(IdError::WrongLength { kind, len });
    }
    let nibble = |position: usize, c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(IdError::NotLowercaseHex {
            kind,
            position,
            found: char::from(c),
        }),
    };
    let bytes = hex.as_bytes();
    let mut out = [0u8; ID_LEN];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = (nibble(2 * i, bytes[2 * i])? << 4) | nibble(2 * i + 1, bytes[2 * i + 1])?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO_PRIVATE: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    /// sha256 of 32 zero bytes.
    const ZERO_PUBLIC: &str = "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925";

    #[test]
    fn public_id_is_sha256_of_the_private_ids_raw_bytes() {
        assert_eq!(public_id_hex(ZERO_PRIVATE).unwrap(), ZERO_PUBLIC);
        assert_eq!(
            PrivateId::from_bytes([0; ID_LEN]).public_id(),
            PublicId::from_hex(ZERO_PUBLIC).unwrap()
        );
    }

    #[test]
    fn public_id_round_trips_through_hex() {
        let id = PublicId::from_hex(ZERO_PUBLIC).unwrap();
        assert_eq!(id.to_hex(), ZERO_PUBLIC);
        assert_eq!(id.to_string(), ZERO_PUBLIC);
    }

    #[test]
    fn ids_of_the_wrong_length_are_refused() {
        assert_eq!(
            PrivateId::from_hex(&ZERO_PRIVATE[1..]),
            Err(IdError::WrongLength {
                kind: "private",
                len: 63
            })
        );
        assert_eq!(
            PublicId::from_hex(&format!("{ZERO_PUBLIC}0")),
            Err(IdError::WrongLength {
                kind: "public",
                len: 65
            })
        );
    }

    #[test]
    fn ids_with_uppercase_or_non_hex_characters_are_refused() {
        let upper = format!("{}A", &ZERO_PRIVATE[1..]);
        assert_eq!(
            PrivateId::from_hex(&upper),
            Err(IdError::NotLowercaseHex {
                kind: "private",
                position: 63,
                found: 'A'
            })
        );
        let non_hex = format!("g{}", &ZERO_PRIVATE[1..]);
        assert_eq!(
            PrivateId::from_hex(&non_hex),
            Err(IdError::NotLowercaseHex {
                kind: "private",
                position: 0,
                found: 'g'
            })
        );
    }

    #[test]
    fn multibyte_characters_are_a_length_error_not_a_panic() {
        let s = format!("é{}", &ZERO_PRIVATE[2..]);
        assert_eq!(s.len(), ID_HEX_LEN);
        assert_eq!(
            PrivateId::from_hex(&s),
            Err(IdError::WrongLength {
                kind: "private",
                len: 63
            })
        );
    }

    #[test]
    fn private_id_debug_does_not_reveal_the_secret() {
        let id = PrivateId::from_bytes([0xab; ID_LEN]);
        assert_eq!(format!("{id:?}"), "PrivateId(<redacted>)");
    }

    #[test]
    fn collection_names_are_restricted_to_a_safe_alphabet() {
        assert_eq!(
            Collection::parse("sockstats.log.example-1_a")
                .unwrap()
                .as_str(),
            "sockstats.log.example-1_a"
        );
        assert_eq!(Collection::parse(""), Err(CollectionError::Empty));
        assert_eq!(
            Collection::parse("a b"),
            Err(CollectionError::BadCharacter {
                position: 1,
                found: ' '
            })
        );
        assert_eq!(
            Collection::parse(&"a".repeat(COLLECTION_MAX_LEN + 1)),
            Err(CollectionError::TooLong {
                len: COLLECTION_MAX_LEN + 1
            })
        );
    }
}
