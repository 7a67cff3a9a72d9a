//! The event line: byte-compatible with the original's JSON encoding.
//!
//! Pure: values in, text out.
//!
//! `{"t":<unix ms>,"d":<ms>,"c":1,"s":{"<label>":[tx,rx],...}}`
//! - `t` is the wall-clock start of the interval, `d` its length.
//! - `c` appears (as 1) only when the interface at the end of the interval is
//!   cellular.
//! - `s` lists labels by their decimal text ("10" before "2"), the order Go's
//!   encoder writes map keys in.

use crate::snapshot::DeltaEntry;

/// One interval's traffic, ready to be written as a log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// Wall-clock start of the interval, Unix milliseconds.
    pub start_unix_ms: i64,
    /// Length of the interval in milliseconds (monotonic clock, truncated).
    pub duration_ms: i64,
    /// Whether the interface carrying traffic at the end was cellular.
    pub cellular: bool,
    /// The labels that moved bytes, in decimal-text order of the label.
    pub stats: &'a [DeltaEntry],
}

impl Event<'_> {
    /// Appends the event's line (without a newline) to `out`.
    ///
    /// Allocation-free once `out` has grown to the size of a line.
    pub fn encode_into(&self, out: &mut String) {
        let mut num = itoa::Buffer::new();
        out.push_str("{\"t\":");
        out.push_str(num.format(self.start_unix_ms));
        out.push_str(",\"d\":");
        out.push_str(num.format(self.duration_ms));
        if self.cellular {
            out.push_str(",\"c\":1");
        }
        out.push_str(",\"s\":{");
        for (i, entry) in self.stats.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(num.format(entry.label.0));
            out.push_str("\":[");
            out.push_str(num.format(entry.tx));
            out.push(',');
            out.push_str(num.format(entry.rx));
            out.push(']');
        }
        out.push_str("}}");
    }

    /// The event's line, without a newline.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(32 + 32 * self.stats.len());
        self.encode_into(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::Label;

    fn entry(label: u8, tx: u64, rx: u64) -> DeltaEntry {
        DeltaEntry {
            label: Label(label),
            tx,
            rx,
        }
    }

    #[test]
    fn an_event_on_wifi_has_no_c_member() {
        let stats = [entry(10, 1, 2), entry(2, 0, 20)];
        let event = Event {
            start_unix_ms: 1_700_000_000_000,
            duration_ms: 100,
            cellular: false,
            stats: &stats,
        };
        assert_eq!(
            event.encode(),
            r#"{"t":1700000000000,"d":100,"s":{"10":[1,2],"2":[0,20]}}"#
        );
    }

    #[test]
    fn an_event_on_cellular_has_c_equal_to_one() {
        let stats = [entry(11, u64::MAX, 0)];
        let event = Event {
            start_unix_ms: -5,
            duration_ms: 0,
            cellular: true,
            stats: &stats,
        };
        assert_eq!(
            event.encode(),
            r#"{"t":-5,"d":0,"c":1,"s":{"11":[18446744073709551615,0]}}"#
        );
    }
}
