//! Keeping the private log ID out of messages.
//!
//! Pure: text in, text out. A server's answer or a transport's error may
//! quote the request path, which holds the private ID, whole or in part
//! (an HTML error page, a proxy's message cut short). [`Redactor::redact`]
//! replaces every run of hex digits that shares [`MIN_LEAK_CHARS`]
//! consecutive characters with the ID, in either case, so no piece of the
//! ID long enough to matter survives. Redact first, then cut a message to
//! length: cutting first can split the ID into pieces the redactor would
//! still find, but also into pieces too short to recognise as a whole ID.

/// The shortest piece of the private ID that is redacted: 8 hex
/// characters (32 bits). Shorter runs of hex are common in messages
/// (ports, status codes, hashes of other things) and say little.
pub const MIN_LEAK_CHARS: usize = 8;

/// What a redacted piece of the ID is replaced with.
pub const REDACTED: &str = "<private-id>";

/// Strips a private ID's text from messages.
pub struct Redactor {
    /// The ID's hex, lowercase.
    hex: String,
}

impl Redactor {
    /// A redactor for the ID whose text is `private_hex`.
    pub fn new(private_hex: &str) -> Self {
        Redactor {
            hex: private_hex.to_ascii_lowercase(),
        }
    }

    /// `text` with every run of hex digits that holds
    /// [`MIN_LEAK_CHARS`] consecutive characters of the ID replaced by
    /// [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(|c: char| c.is_ascii_hexdigit()) {
            out.push_str(&rest[..start]);
            let run_len = rest[start..]
                .find(|c: char| !c.is_ascii_hexdigit())
                .unwrap_or(rest.len() - start);
            let run = &rest[start..start + run_len];
            if self.shares_a_piece(run) {
                out.push_str(REDACTED);
            } else {
                out.push_str(run);
            }
            rest = &rest[start + run_len..];
        }
        out.push_str(rest);
        out
    }

    /// Whether `run` (hex digits) holds a piece of the ID of at least
    /// [`MIN_LEAK_CHARS`] characters.
    fn shares_a_piece(&self, run: &str) -> bool {
        if run.len() < MIN_LEAK_CHARS || self.hex.len() < MIN_LEAK_CHARS {
            return false;
        }
        let run = run.to_ascii_lowercase();
        (0..=run.len() - MIN_LEAK_CHARS).any(|i| self.hex.contains(&run[i..i + MIN_LEAK_CHARS]))
    }
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor(<private-id>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef00112233445566778899aabbccddeeff";

    fn redact(text: &str) -> String {
        Redactor::new(ID).redact(text)
    }

    #[test]
    fn the_whole_id_is_redacted_in_either_case() {
        assert_eq!(redact(&format!("/c/x/{ID} gone")), "/c/x/<private-id> gone");
        assert_eq!(redact(&ID.to_ascii_uppercase()), "<private-id>");
    }

    #[test]
    fn any_piece_of_eight_or_more_is_redacted_with_its_whole_run() {
        // The last 8 characters, after other hex.
        assert_eq!(redact("path /c/x/beefccddeeff."), "path /c/x/<private-id>.");
        // A piece from the middle, cut at both ends.
        assert_eq!(redact(&format!("…{}…", &ID[20..40])), "…<private-id>…");
        assert_eq!(redact(&format!("a {} b", &ID[56..])), "a <private-id> b");
    }

    #[test]
    fn short_or_foreign_hex_is_kept() {
        assert_eq!(
            redact(&format!("x {} y", &ID[56..63])),
            format!("x {} y", &ID[56..63])
        );
        assert_eq!(
            redact("port 8080, sha deadbeefdeadbeef"),
            "port 8080, sha deadbeefdeadbeef"
        );
        assert_eq!(redact("answered 404: not found"), "answered 404: not found");
        assert_eq!(redact(""), "");
        assert_eq!(redact("é ü 00112233"), "é ü <private-id>");
    }

    #[test]
    fn debug_shows_no_id() {
        assert_eq!(format!("{:?}", Redactor::new(ID)), "Redactor(<private-id>)");
    }
}
