//! Upload bodies: buffered lines -> a logtail JSON array.
//!
//! Pure: lines and an upload time in, bytes out.
//!
//! Each line becomes one element of the array, an object whose `logtail`
//! member holds only `client_time` (RFC 3339 UTC):
//! - a line that already is such an object (the Go client wrote its buffer
//!   lines this way, `{"logtail":{"client_time":"…"},"t":…}`; the time must
//!   be valid RFC 3339) is sent as it is, keeping its `client_time`;
//! - a line that is one JSON object without a top-level `logtail` member gets
//!   the member inserted right after its opening brace; every other byte of
//!   the object is kept as it is (`{"t":1}` -> `{"logtail":{...},"t":1}`;
//!   whitespace around the object, outside its braces, is left out);
//! - any other line (not JSON, JSON but not an object, or an object whose
//!   `logtail` member the server would refuse) is wrapped:
//!   `{"logtail":{...},"text":"<the line as a JSON string>"}`.
//!
//! `client_time` says when the line was logged where the line says so: an
//! event line (`{"t":<ms>,"d":<ms>,…`, as [`Event`](crate::event::Event)
//! writes it) gets the end of its interval, `t + d`, to the millisecond;
//! a line with its own `client_time` keeps it. Other lines (the app's own
//! `write` lines, markers) get the upload time: the library keeps no time
//! per line on disk.
//!
//! So a body built here never makes the server refuse it for its entries.
//!
//! A body holds lines, in order, until the next one would take it past
//! [`MAX_BODY_BYTES`]; a single line larger than that is sent alone in an
//! oversized body (a line is at most 64 KiB, so a wrapped one, with every
//! byte escaped as `\u00XX`, is at most about 384 KiB).

use crate::upload::rfc3339;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;
use std::time::SystemTime;

/// The size logtail bodies aim for: 256 KiB of JSON, before compression
/// (logtail's own target). One line may take a body past it.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The member every entry starts with, for one upload time:
/// `"logtail":{"client_time":"2026-11-28T23:45:55.123456789Z"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogtailMember(String);

impl LogtailMember {
    /// The member for an upload made at `client_time`.
    pub fn new(client_time: SystemTime) -> Self {
        Self::from_rfc3339(&rfc3339::format_system_time(client_time))
    }

    /// The member for a line logged `unix_ms` ms after the Unix epoch.
    pub fn at_unix_ms(unix_ms: i64) -> Self {
        let secs = unix_ms.div_euclid(1000);
        let nanos = (unix_ms.rem_euclid(1000) * 1_000_000) as u32;
        Self::from_rfc3339(&rfc3339::format_unix(secs, nanos))
    }

    /// The member for a `client_time` already formatted (RFC 3339 text:
    /// digits, `-`, `:`, `.`, `T`, `Z`, `+`; nothing that needs escaping).
    pub fn from_rfc3339(client_time: &str) -> Self {
        debug_assert!(client_time
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-:.+".contains(&b)));
        LogtailMember(format!("\"logtail\":{{\"client_time\":\"{client_time}\"}}"))
    }

    /// The member's JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a line goes into a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// One JSON object without a top-level `logtail` member: the member is
    /// inserted after the brace at byte `open_brace`. `empty`: the object has
    /// no members (`{}`), so no comma follows the inserted one.
    Object {
        /// Byte offset of the object's opening brace (after any whitespace).
        open_brace: usize,
        /// Whether the object is `{}` (possibly with whitespace inside).
        empty: bool,
    },
    /// One JSON object whose `logtail` member holds only a valid
    /// `client_time`: sent as it is, bytes `start..end` of the line (the
    /// object without the whitespace around it).
    Stamped {
        /// Byte offset of the object's opening brace.
        start: usize,
        /// Byte offset just past its closing brace.
        end: usize,
    },
    /// Anything else: wrapped as `{"logtail":{...},"text":"<line>"}`.
    Text,
}

/// The end of an event line's interval, `t + d`, in ms since the Unix
/// epoch, if `line` starts as an event line does: `{"t":<digits>,"d":<digits>,`.
/// Reads only those bytes (no JSON parse, no allocation).
pub fn event_end_unix_ms(line: &str) -> Option<i64> {
    let rest = line.strip_prefix("{\"t\":")?;
    let (t, rest) = leading_number(rest)?;
    let rest = rest.strip_prefix(",\"d\":")?;
    let (d, rest) = leading_number(rest)?;
    if !rest.starts_with(',') {
        return None;
    }
    t.checked_add(d)
}

/// A non-negative decimal number at the start of `text` (at most 18
/// digits, so it fits in an `i64`), and what follows it.
fn leading_number(text: &str) -> Option<(i64, &str)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=18).contains(&digits) {
        return None;
    }
    Some((text[..digits].parse().ok()?, &text[digits..]))
}

/// The characters JSON allows around values.
const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// Decides how `line` goes into a body, checking it with serde_json without
/// building a tree (values are skipped, only top-level keys are compared).
pub fn classify(line: &str) -> LineKind {
    match serde_json::from_str::<ObjectProbe>(line) {
        Ok(ObjectProbe {
            logtail_members: 0, ..
        }) => {
            let open_brace = line
                .find('{')
                .expect("a line that parsed as an object has an opening brace");
            let empty = line[open_brace + 1..]
                .trim_start_matches(JSON_WHITESPACE)
                .starts_with('}');
            LineKind::Object { open_brace, empty }
        }
        Ok(ObjectProbe {
            logtail_members: 1,
            logtail_valid: true,
        }) => {
            let start = line.len() - line.trim_start_matches(JSON_WHITESPACE).len();
            let end = line.trim_end_matches(JSON_WHITESPACE).len();
            LineKind::Stamped { start, end }
        }
        Ok(_) | Err(_) => LineKind::Text,
    }
}

/// Appends `line` as one array element (without separator) to `out`.
/// `upload` is the member for lines that do not say when they were logged.
pub fn encode_entry(line: &str, upload: &LogtailMember, out: &mut Vec<u8>) {
    match classify(line) {
        LineKind::Object { open_brace, empty } => {
            let logged;
            let member = match event_end_unix_ms(line) {
                Some(end) => {
                    logged = LogtailMember::at_unix_ms(end);
                    &logged
                }
                None => upload,
            };
            // The object's own bytes: whitespace around it is not part of it
            // (and the server would not store it).
            let rest = line[open_brace + 1..].trim_end_matches(JSON_WHITESPACE);
            out.push(b'{');
            out.extend_from_slice(member.as_str().as_bytes());
            if !empty {
                out.push(b',');
            }
            out.extend_from_slice(rest.as_bytes());
        }
        LineKind::Stamped { start, end } => out.extend_from_slice(&line.as_bytes()[start..end]),
        LineKind::Text => {
            out.push(b'{');
            out.extend_from_slice(upload.as_str().as_bytes());
            out.extend_from_slice(b",\"text\":");
            serde_json::to_writer(&mut *out, line).expect("writing a string to a Vec cannot fail");
            out.push(b'}');
        }
    }
}

/// One upload body and how many lines it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body {
    /// The JSON array.
    pub json: Vec<u8>,
    /// How many of the given lines it holds: the first `lines` of them.
    pub lines: usize,
}

/// Builds a body from the first of `lines` that fit in `max_bytes` (the
/// whole array, brackets included). Takes at least one line when there is
/// one, even if it alone is over `max_bytes`. No lines: `[]`, holding 0.
pub fn build<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    member: &LogtailMember,
    max_bytes: usize,
) -> Body {
    let mut json = Vec::new();
    json.push(b'[');
    // Each entry is encoded here first, so the body never grows past what
    // it keeps (a body that overshot and was cut back would hold twice its
    // size in capacity).
    let mut entry = Vec::new();
    let mut count = 0;
    for line in lines {
        entry.clear();
        encode_entry(line, member, &mut entry);
        // A comma before all but the first; +1 for the closing bracket.
        let grown = json.len() + usize::from(count > 0) + entry.len() + 1;
        if count > 0 && grown > max_bytes {
            break;
        }
        if count > 0 {
            json.push(b',');
        }
        json.extend_from_slice(&entry);
        count += 1;
        if grown >= max_bytes {
            break;
        }
    }
    json.push(b']');
    Body { json, lines: count }
}

/// What [`classify`] learns from a line: that it is an object, how many
/// top-level `logtail` members it has, and whether the (last) one holds
/// only a valid `client_time`.
struct ObjectProbe {
    logtail_members: u32,
    logtail_valid: bool,
}

impl<'de> de::Deserialize<'de> for ObjectProbe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = ObjectProbe;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ObjectProbe, A::Error> {
        let mut probe = ObjectProbe {
            logtail_members: 0,
            logtail_valid: false,
        };
        while let Some(IsLogtail(is)) = map.next_key()? {
            if is {
                probe.logtail_members += 1;
                probe.logtail_valid = is_valid_logtail(&map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(probe)
    }
}

/// Whether a `logtail` member's value is an object holding only
/// `client_time`, a string of valid RFC 3339. (Such members are rare: lines
/// the Go client buffered; building the small value is cheap.)
fn is_valid_logtail(value: &serde_json::Value) -> bool {
    value.as_object().is_some_and(|members| {
        members.len() == 1
            && members
                .get("client_time")
                .and_then(serde_json::Value::as_str)
                .is_some_and(rfc3339::is_valid)
    })
}

/// A key, reduced to whether it is `logtail` (after unescaping).
struct IsLogtail(bool);

impl<'de> de::Deserialize<'de> for IsLogtail {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = IsLogtail;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<IsLogtail, E> {
        Ok(IsLogtail(key == "logtail"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIME: &str = "2026-11-28T23:45:55.123456789Z";
    const MEMBER: &str = r#""logtail":{"client_time":"2026-11-28T23:45:55.123456789Z"}"#;

    fn member() -> LogtailMember {
        LogtailMember::from_rfc3339(TIME)
    }

    fn entry(line: &str) -> String {
        let mut out = Vec::new();
        encode_entry(line, &member(), &mut out);
        String::from_utf8(out).unwrap()
    }

    fn body(lines: &[&str], max: usize) -> (String, usize) {
        let body = build(lines.iter().copied(), &member(), max);
        (String::from_utf8(body.json).unwrap(), body.lines)
    }

    #[test]
    fn the_member_is_built_from_a_system_time() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::new(1_795_909_555, 123_456_789);
        assert_eq!(LogtailMember::new(t).as_str(), MEMBER);
    }

    #[test]
    fn an_event_line_gets_the_end_of_its_interval_as_client_time_and_keeps_its_bytes() {
        // t = 2025-11-28T23:45:55.123Z, d = 100 ms.
        assert_eq!(
            entry(r#"{"t":1764373555123,"d":100,"s":{"10":[0,20],"8":[1500,4000]}}"#),
            r#"{"logtail":{"client_time":"2025-11-28T23:45:55.223000000Z"},"t":1764373555123,"d":100,"s":{"10":[0,20],"8":[1500,4000]}}"#
        );
        assert_eq!(
            entry(r#"{"t":0,"d":1,"c":1,"s":{"1":[1,0]}}"#),
            r#"{"logtail":{"client_time":"1970-01-01T00:00:00.001000000Z"},"t":0,"d":1,"c":1,"s":{"1":[1,0]}}"#
        );
    }

    #[test]
    fn only_lines_shaped_as_events_have_an_interval_end() {
        assert_eq!(
            event_end_unix_ms(r#"{"t":1000,"d":250,"s":{}}"#),
            Some(1250)
        );
        assert_eq!(event_end_unix_ms(r#"{"t":1000,"d":250}"#), None);
        assert_eq!(event_end_unix_ms(r#"{"d":250,"t":1000,"s":{}}"#), None);
        assert_eq!(event_end_unix_ms(r#"{"t":-5,"d":250,"s":{}}"#), None);
        assert_eq!(event_end_unix_ms(r#"{"t":1.5,"d":250,"s":{}}"#), None);
        assert_eq!(event_end_unix_ms(r#"{ "t":1000,"d":250,"s":{}}"#), None);
        assert_eq!(
            event_end_unix_ms(r#"{"t":1234567890123456789,"d":1,"s":{}}"#),
            None
        );
        assert_eq!(event_end_unix_ms("plain text"), None);
        // A non-event object and text get the upload time.
        assert_eq!(entry(r#"{"t":"x"}"#), format!(r#"{{{MEMBER},"t":"x"}}"#));
    }

    #[test]
    fn formatting_inside_an_object_is_kept_and_whitespace_around_it_dropped() {
        assert_eq!(
            entry(" {  \"a\" : 1.50e3 ,\"b\":\"\\u00e9\"  }\t "),
            format!("{{{MEMBER},  \"a\" : 1.50e3 ,\"b\":\"\\u00e9\"  }}")
        );
    }

    #[test]
    fn an_empty_object_gets_the_member_without_a_comma() {
        assert_eq!(entry("{}"), format!("{{{MEMBER}}}"));
        assert_eq!(entry("{ }"), format!("{{{MEMBER} }}"));
    }

    #[test]
    fn a_nested_logtail_member_does_not_count() {
        assert_eq!(
            entry(r#"{"x":{"logtail":1}}"#),
            format!(r#"{{{MEMBER},"x":{{"logtail":1}}}}"#)
        );
    }

    #[test]
    fn non_object_lines_are_wrapped_as_text() {
        assert_eq!(
            entry("hello \"world\"\t\u{1}é"),
            format!(r#"{{{MEMBER},"text":"hello \"world\"\t\u0001é"}}"#)
        );
        assert_eq!(entry("[1,2]"), format!(r#"{{{MEMBER},"text":"[1,2]"}}"#));
        assert_eq!(entry("42"), format!(r#"{{{MEMBER},"text":"42"}}"#));
        assert_eq!(entry("\"s\""), format!(r#"{{{MEMBER},"text":"\"s\""}}"#));
    }

    #[test]
    fn broken_or_trailing_json_is_wrapped_as_text() {
        assert_eq!(
            entry("{\"a\":"),
            format!(r#"{{{MEMBER},"text":"{{\"a\":"}}"#)
        );
        assert_eq!(
            entry("{\"a\":1} x"),
            format!(r#"{{{MEMBER},"text":"{{\"a\":1}} x"}}"#)
        );
        assert_eq!(
            entry("{\"a\":1}{}"),
            format!(r#"{{{MEMBER},"text":"{{\"a\":1}}{{}}"}}"#)
        );
    }

    #[test]
    fn a_line_with_its_own_logtail_member_is_wrapped_as_text() {
        assert_eq!(
            entry(r#"{"a":1,"logtail":{"client_time":"x"}}"#),
            format!(r#"{{{MEMBER},"text":"{{\"a\":1,\"logtail\":{{\"client_time\":\"x\"}}}}"}}"#)
        );
        // An escaped key is still "logtail" once unescaped.
        assert_eq!(classify(r#"{"log\u0074ail":1}"#), LineKind::Text);
    }

    #[test]
    fn a_line_the_go_client_stamped_is_sent_as_it_is() {
        // Event and text lines as Go's logtail wrote them into its buffer.
        for line in [
            r#"{"logtail": {"client_time": "2023-05-01T10:00:00.123456789Z"}, "t":1682935199923,"d":100,"s":{"8":[1500,4000]}}"#,
            r#"{"logtail":{"client_time":"2023-05-01T10:00:00.5Z"},"text":"sockstatlog: started"}"#,
            r#"{"t":1,"logtail":{"client_time":"2023-05-01T12:00:00+02:00"}}"#,
        ] {
            assert_eq!(entry(line), line);
            assert_eq!(entry(&format!(" {line}\n")), line);
        }
        assert_eq!(
            classify(r#" {"logtail":{"client_time":"2023-05-01T10:00:00Z"}} "#),
            LineKind::Stamped { start: 1, end: 51 }
        );
    }

    #[test]
    fn a_logtail_member_the_server_would_refuse_is_wrapped_as_text() {
        for line in [
            r#"{"logtail":{"client_time":"2023-05-01T10:00:00Z","proc_id":1},"t":1}"#,
            r#"{"logtail":{"client_time":"yesterday"},"t":1}"#,
            r#"{"logtail":{"client_time":5},"t":1}"#,
            r#"{"logtail":{},"t":1}"#,
            r#"{"logtail":"2023-05-01T10:00:00Z"}"#,
            r#"{"logtail":[1,{"a":2}]}"#,
            r#"{"logtail":null}"#,
            r#"{"logtail":{"client_time":"2023-05-01T10:00:00Z"},"logtail":{"client_time":"2023-05-01T10:00:00Z"}}"#,
        ] {
            assert_eq!(classify(line), LineKind::Text, "{line}");
        }
    }

    #[test]
    fn classify_reports_where_the_brace_is() {
        assert_eq!(
            classify("  {\"a\":1}"),
            LineKind::Object {
                open_brace: 2,
                empty: false
            }
        );
        assert_eq!(
            classify("{}"),
            LineKind::Object {
                open_brace: 0,
                empty: true
            }
        );
    }

    #[test]
    fn a_body_is_an_array_of_entries_in_order() {
        let (json, lines) = body(&[r#"{"a":1}"#, "plain", "{}"], MAX_BODY_BYTES);
        assert_eq!(lines, 3);
        assert_eq!(
            json,
            format!(r#"[{{{MEMBER},"a":1}},{{{MEMBER},"text":"plain"}},{{{MEMBER}}}]"#)
        );
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed[0]["logtail"]["client_time"], TIME);
    }

    #[test]
    fn no_lines_make_an_empty_array() {
        assert_eq!(body(&[], MAX_BODY_BYTES), ("[]".to_string(), 0));
    }

    #[test]
    fn a_body_stops_before_the_line_that_would_cross_the_limit() {
        let line = r#"{"a":1}"#;
        let one = entry(line).len(); // each entry's size
                                     // "[" + n entries + (n-1) commas + "]"
        let size = |n: usize| 2 + n * one + (n - 1);
        let (json, lines) = body(&[line; 5], size(3));
        assert_eq!((json.len(), lines), (size(3), 3));
        let (json, lines) = body(&[line; 5], size(3) - 1);
        assert_eq!((json.len(), lines), (size(2), 2));
    }

    #[test]
    fn the_256_kib_boundary_is_exact() {
        // Lines sized so that entries fill 256 KiB exactly.
        let fill = |len: usize| format!(r#"{{"x":"{}"}}"#, "y".repeat(len));
        let overhead = entry(&fill(0)).len(); // entry size for an empty filler
        let per_entry = 1024; // entry + comma
        let line = fill(per_entry - 1 - overhead);
        assert_eq!(entry(&line).len() + 1, per_entry);
        let lines = vec![line.as_str(); 300];
        // 256 entries: 256 * 1024 - 1 (no comma after the last) + 2 brackets.
        let built = build(lines.iter().copied(), &member(), MAX_BODY_BYTES + 1);
        assert_eq!((built.json.len(), built.lines), (MAX_BODY_BYTES + 1, 256));
        let built = build(lines.iter().copied(), &member(), MAX_BODY_BYTES);
        assert_eq!(
            (built.json.len(), built.lines),
            (MAX_BODY_BYTES + 1 - per_entry, 255)
        );
        assert!(serde_json::from_slice::<serde_json::Value>(&built.json).is_ok());
    }

    #[test]
    fn a_single_oversized_line_is_sent_alone() {
        let big = format!(r#"{{"x":"{}"}}"#, "y".repeat(64 * 1024));
        let (json, lines) = body(&[&big, r#"{"a":1}"#], 1024);
        assert_eq!(lines, 1);
        assert_eq!(json, format!("[{}]", entry(&big)));
    }
}
