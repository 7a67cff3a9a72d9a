//! One stored line, classified: an event, another kind of line, or damage.
//!
//! Pure: text in, value out. An event line is
//! `{"t":<unix ms>,"d":<ms>,"c":1,"s":{"<label>":[tx,rx],...}}`, possibly with
//! a `logtail` member (as the server stores it) or other members, which are
//! ignored. An object without `s` is another kind of line (a text line, a
//! dropped-lines marker).

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// One event: `bytes` sent and received per label during `[t, t + d]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// Start of the interval, Unix milliseconds (the phone's wall clock).
    pub t: i64,
    /// Length of the interval in milliseconds.
    pub d: i64,
    /// Whether the phone was on cellular at the end of the interval.
    pub cellular: bool,
    /// `(label, tx, rx)` for each label with a valid number.
    pub bytes: Vec<(u8, u64, u64)>,
    /// Keys of `s` that are not a label number 0-255 (their bytes are left out).
    pub unknown_labels: Vec<String>,
}

impl Event {
    /// The end of the interval, `t + d`.
    pub fn end(&self) -> i64 {
        self.t.saturating_add(self.d)
    }
}

/// What a line is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// An event line.
    Event(Event),
    /// A JSON object that is not an event (a text line, a marker).
    Other,
    /// Not a JSON object, or an event whose fields have the wrong shape.
    Damaged(String),
}

#[derive(Deserialize)]
struct Members<'a> {
    #[serde(borrow)]
    t: Option<&'a RawValue>,
    #[serde(borrow)]
    d: Option<&'a RawValue>,
    #[serde(borrow)]
    c: Option<&'a RawValue>,
    #[serde(borrow)]
    s: Option<&'a RawValue>,
}

/// The `s` member: label keys to `[tx, rx]`.
struct Counts {
    bytes: Vec<(u8, u64, u64)>,
    unknown: Vec<String>,
}

impl<'de> Deserialize<'de> for Counts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountsVisitor;
        impl<'de> Visitor<'de> for CountsVisitor {
            type Value = Counts;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"an object of "<label>":[tx,rx]"#)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Counts, A::Error> {
                let mut counts = Counts {
                    bytes: Vec::with_capacity(16),
                    unknown: Vec::new(),
                };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let (tx, rx): (u64, u64) = map.next_value()?;
                    match key.parse::<u8>() {
                        Ok(label) if label.to_string() == key => counts.bytes.push((label, tx, rx)),
                        _ => counts.unknown.push(key.into_owned()),
                    }
                }
                Ok(counts)
            }
        }
        deserializer.deserialize_map(CountsVisitor)
    }
}

/// Classifies one line.
pub fn parse(text: &str) -> Line {
    if let Some(event) = parse_canonical(text) {
        return Line::Event(event);
    }
    parse_any(text)
}

/// An event line's interval `(t, t + d)`, or `None` for any other line. For
/// lines as the library writes them only `t` and `d` are read, so an event
/// whose counters are damaged still has an interval here (use it for where
/// events lie, [`parse`] for what they hold).
pub fn interval(text: &str) -> Option<(i64, i64)> {
    let canonical = (|| {
        let mut rest = text.strip_prefix('{')?;
        if let Some(after) = rest.strip_prefix(r#""logtail":{"client_time":""#) {
            let end = after.find('"')?;
            rest = after[end..].strip_prefix("\"},")?;
        }
        let (t, rest) = integer(rest.strip_prefix(r#""t":"#)?)?;
        let (d, rest) = integer(rest.strip_prefix(r#","d":"#)?)?;
        let rest = rest.strip_prefix(r#","c":1"#).unwrap_or(rest);
        (d >= 0 && rest.starts_with(r#","s":{"#)).then_some((t, t + d))
    })();
    canonical.or_else(|| match parse(text) {
        Line::Event(event) => Some((event.t, event.end())),
        _ => None,
    })
}

/// The fast path for lines exactly as the library writes them (and the server
/// stores them): `{["logtail":{"client_time":"…"},]"t":N,"d":N,["c":1,]"s":{"L":[tx,rx],…}}`.
/// `None` for anything else, which then goes through the general parser.
fn parse_canonical(text: &str) -> Option<Event> {
    let mut rest = text.strip_prefix('{')?;
    if let Some(after) = rest.strip_prefix(r#""logtail":{"client_time":""#) {
        let end = after.find('"')?;
        if after[..end].contains('\\') {
            return None;
        }
        rest = after[end..].strip_prefix("\"},")?;
    }
    let (t, rest) = integer(rest.strip_prefix(r#""t":"#)?)?;
    let (d, rest) = integer(rest.strip_prefix(r#","d":"#)?)?;
    let (cellular, rest) = match rest.strip_prefix(r#","c":1"#) {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let mut rest = rest.strip_prefix(r#","s":{"#)?;
    let mut bytes = Vec::with_capacity(16);
    if let Some(end) = rest.strip_prefix("}}") {
        rest = end;
    } else {
        loop {
            let (label, after) = integer(rest.strip_prefix('"')?)?;
            let label = u8::try_from(label).ok()?;
            let (tx, after) = integer(after.strip_prefix(r#"":["#)?)?;
            let (rx, after) = integer(after.strip_prefix(',')?)?;
            bytes.push((label, u64::try_from(tx).ok()?, u64::try_from(rx).ok()?));
            let after = after.strip_prefix(']')?;
            if let Some(end) = after.strip_prefix("}}") {
                rest = end;
                break;
            }
            rest = after.strip_prefix(',')?;
        }
    }
    (rest.is_empty() && d >= 0).then_some(Event {
        t,
        d,
        cellular,
        bytes,
        unknown_labels: Vec::new(),
    })
}

/// A decimal integer without leading zeros (JSON's form) and what follows it.
fn integer(text: &str) -> Option<(i64, &str)> {
    let negative = text.starts_with('-');
    let digits = &text[usize::from(negative)..];
    let len = digits.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 || len > 18 || (len > 1 && digits.starts_with('0')) {
        return None;
    }
    let value: i64 = digits[..len].parse().ok()?;
    Some((if negative { -value } else { value }, &digits[len..]))
}

/// The general path: any JSON object.
fn parse_any(text: &str) -> Line {
    let members: Members = match serde_json::from_str(text) {
        Ok(members) => members,
        Err(error) => return Line::Damaged(format!("not a JSON object: {error}")),
    };
    let Some(s) = members.s else {
        return Line::Other;
    };
    let field = |name: &str, raw: Option<&RawValue>| -> Result<i64, String> {
        let raw = raw.ok_or_else(|| format!("event without \"{name}\""))?;
        serde_json::from_str::<i64>(raw.get())
            .map_err(|_| format!("\"{name}\" is not an integer: {}", raw.get()))
    };
    let event = (|| {
        let t = field("t", members.t)?;
        let d = field("d", members.d)?;
        if d < 0 {
            return Err(format!("\"d\" is negative: {d}"));
        }
        let cellular = match members.c.map(RawValue::get) {
            None | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => return Err(format!("\"c\" is not 1: {other}")),
        };
        let counts: Counts = serde_json::from_str(s.get())
            .map_err(|e| format!("\"s\" is not an object of [tx,rx] pairs: {e}"))?;
        Ok(Event {
            t,
            d,
            cellular,
            bytes: counts.bytes,
            unknown_labels: counts.unknown,
        })
    })();
    match event {
        Ok(event) => Line::Event(event),
        Err(reason) => Line::Damaged(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_line_as_the_server_stores_it_is_read_whole() {
        let line = r#"{"logtail":{"client_time":"2026-01-01T00:00:00.1Z"},"t":1700000000000,"d":100,"c":1,"s":{"10":[1,2],"2":[0,20]}}"#;
        assert_eq!(
            parse(line),
            Line::Event(Event {
                t: 1_700_000_000_000,
                d: 100,
                cellular: true,
                bytes: vec![(10, 1, 2), (2, 0, 20)],
                unknown_labels: vec![],
            })
        );
    }

    #[test]
    fn the_fast_path_reads_exactly_what_the_general_parser_reads() {
        let lines = [
            r#"{"logtail":{"client_time":"2026-01-01T00:00:00.1Z"},"t":1700000000000,"d":100,"c":1,"s":{"10":[1,2],"2":[0,20]}}"#,
            r#"{"t":-5,"d":0,"s":{"11":[18446744073709551615,0]}}"#,
            r#"{"t":5,"d":7,"s":{}}"#,
            r#"{"t":5,"d":7,"s":{"256":[1,1]}}"#,
            r#"{"t":5,"d":7,"s":{"07":[1,1]}}"#,
            r#"{"t":05,"d":7,"s":{"7":[1,1]}}"#,
            r#"{"t":5,"d":7,"s":{"7":[1,1]}} "#,
            r#"{"t":5,"d":-7,"s":{"7":[1,1]}}"#,
            r#"{"logtail":{"client_time":"a"b"},"t":5,"d":7,"s":{"7":[1,1]}}"#,
        ];
        for line in lines {
            if let Some(fast) = parse_canonical(line) {
                assert_eq!(Line::Event(fast), parse_any(line), "{line}");
            }
        }
        assert!(parse_canonical(lines[0]).is_some() && parse_canonical(lines[2]).is_some());
        assert!(parse_canonical(lines[3]).is_none() && parse_canonical(lines[4]).is_none());
    }

    #[test]
    fn text_lines_and_markers_are_other_lines() {
        assert_eq!(
            parse(r#"{"logtail":{"client_time":"x"},"text":"hello"}"#),
            Line::Other
        );
        assert_eq!(parse(r#"{"demo":"app backgrounded"}"#), Line::Other);
    }

    #[test]
    fn damage_is_named() {
        assert!(
            matches!(parse("{\"t\":1,\"d\""), Line::Damaged(r) if r.starts_with("not a JSON object"))
        );
        assert!(matches!(parse("[1,2]"), Line::Damaged(r) if r.starts_with("not a JSON object")));
        assert_eq!(
            parse(r#"{"t":"x","d":1,"s":{}}"#),
            Line::Damaged(r#""t" is not an integer: "x""#.into())
        );
        assert_eq!(
            parse(r#"{"t":1,"s":{}}"#),
            Line::Damaged(r#"event without "d""#.into())
        );
        assert!(
            matches!(parse(r#"{"t":1,"d":1,"s":{"1":[1]}}"#), Line::Damaged(r) if r.starts_with("\"s\" is not"))
        );
    }

    #[test]
    fn keys_that_are_not_label_numbers_are_kept_aside() {
        let Line::Event(event) =
            parse(r#"{"t":1,"d":1,"s":{"300":[1,1],"x":[2,2],"07":[3,3],"255":[4,4]}}"#)
        else {
            panic!("not an event");
        };
        assert_eq!(event.bytes, vec![(255, 4, 4)]);
        assert_eq!(event.unknown_labels, vec!["300", "x", "07"]);
    }
}
