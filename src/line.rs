//! Log lines: the unit stored in the buffer and uploaded.
//!
//! Pure. A line is UTF-8 text without a newline, at most [`MAX_LINE_BYTES`]
//! long: an event, a marker, or a line the app handed to `write`.

use thiserror::Error;

/// The longest line accepted, in bytes (the original's buffer limit).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Why a line was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LineError {
    /// The line is empty.
    #[error("the line is empty; write a line with some text")]
    Empty,
    /// The line is longer than [`MAX_LINE_BYTES`].
    #[error("the line is {len} bytes, over the {max}-byte limit; split it into shorter lines")]
    TooLong {
        /// Length of the rejected line in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The line contains a newline or carriage return.
    #[error("the line contains a line break at byte {position}; write one line per call")]
    LineBreak {
        /// 0-based byte offset of the line break.
        position: usize,
    },
}

/// Checks that `line` is a single line that fits the limit.
pub fn validate(line: &str) -> Result<(), LineError> {
    if line.is_empty() {
        return Err(LineError::Empty);
    }
    if line.len() > MAX_LINE_BYTES {
        return Err(LineError::TooLong {
            len: line.len(),
            max: MAX_LINE_BYTES,
        });
    }
    if let Some(position) = line.bytes().position(|b| b == b'\n' || b == b'\r') {
        return Err(LineError::LineBreak { position });
    }
    Ok(())
}

/// The marker line that takes the place of lines the library had to drop,
/// so the log server sees the gap: `{"sockstatlog":{"dropped_lines":N,"dropped_bytes":B,"reason":"..."}}`.
pub fn dropped_marker(lines: u64, bytes: u64, reason: &str) -> String {
    let mut num = itoa::Buffer::new();
    let mut out = String::with_capacity(96);
    out.push_str("{\"sockstatlog\":{\"dropped_lines\":");
    out.push_str(num.format(lines));
    out.push_str(",\"dropped_bytes\":");
    out.push_str(num.format(bytes));
    out.push_str(",\"reason\":\"");
    // Reasons are library constants: plain ASCII without quotes or backslashes.
    debug_assert!(reason
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' '));
    out.push_str(reason);
    out.push_str("\"}}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_line_within_the_limit_is_accepted() {
        assert_eq!(validate("{\"hello\":1}"), Ok(()));
        assert_eq!(validate(&"x".repeat(MAX_LINE_BYTES)), Ok(()));
    }

    #[test]
    fn empty_long_and_multi_line_text_is_rejected() {
        assert_eq!(validate(""), Err(LineError::Empty));
        assert_eq!(
            validate(&"x".repeat(MAX_LINE_BYTES + 1)),
            Err(LineError::TooLong {
                len: MAX_LINE_BYTES + 1,
                max: MAX_LINE_BYTES
            })
        );
        assert_eq!(
            validate("ab\ncd"),
            Err(LineError::LineBreak { position: 2 })
        );
        assert_eq!(validate("ab\r"), Err(LineError::LineBreak { position: 2 }));
    }

    #[test]
    fn the_dropped_marker_names_counts_and_reason() {
        assert_eq!(
            dropped_marker(3, 120, "memory queue full"),
            r#"{"sockstatlog":{"dropped_lines":3,"dropped_bytes":120,"reason":"memory queue full"}}"#
        );
    }
}
