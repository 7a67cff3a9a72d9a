//! Time buckets: a log's events summed per label over a window, with the
//! cellular periods, the gaps and everything odd about the input.
//!
//! Pure and streaming: lines go in one at a time, in the order they were
//! stored, so a day of events (864,000 lines) needs memory for the buckets
//! only, never for the lines.

use serde::Serialize;

use super::line::{self, Event, Line};

/// An event longer than this is a poll that came late (the phone slept, or
/// polls were skipped): its bytes are drawn at its end and the time before
/// is shown as a gap, not spread over hours.
pub const LONG_INTERVAL_MS: i64 = 2_000;
/// How much of a long interval is drawn as covered: one poll period.
const POLL_MS: i64 = 100;
/// An event starting this much before the previous one ended still counts
/// as in order: `t` is a wall clock and `d` a truncated monotonic one.
const ORDER_TOLERANCE_MS: i64 = 5;
/// Damaged lines and unknown label keys quoted in the issues.
const EXAMPLES: usize = 5;
/// Fewest and most buckets a view may ask for.
pub const BUCKETS_RANGE: (usize, usize) = (10, 2_000);
/// Buckets when the caller does not say.
pub const DEFAULT_BUCKETS: usize = 450;
/// Bucket lengths, in milliseconds: round numbers, so bucket edges fall on
/// round times, and never shorter than the 100 ms poll period (shorter
/// buckets would alternate between full and empty). Past a day, whole days.
const BUCKET_LENGTHS_MS: [i64; 23] = [
    100, 200, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 180_000,
    300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000,
    86_400_000,
];

/// A half-open time range `[from_ms, to_ms)` in Unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Start, inclusive.
    pub from_ms: i64,
    /// End, exclusive; always after `from_ms`.
    pub to_ms: i64,
}

impl Window {
    /// `[from_ms, to_ms)`, widened to one millisecond if empty or reversed.
    pub fn new(from_ms: i64, to_ms: i64) -> Window {
        Window {
            from_ms,
            to_ms: to_ms.max(from_ms.saturating_add(1)),
        }
    }

    /// Length in milliseconds.
    pub fn len_ms(&self) -> i64 {
        self.to_ms - self.from_ms
    }
}

/// First pass over a log when no window is given: where its events lie.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    first_ms: Option<i64>,
    last_ms: Option<i64>,
}

impl Span {
    /// Takes one line into account (lines that are not events are ignored).
    pub fn add_line(&mut self, text: &str) {
        if let Some((start, end)) = line::interval(text) {
            self.add(start, end);
        }
    }

    fn add(&mut self, start: i64, end: i64) {
        self.first_ms = Some(self.first_ms.map_or(start, |f| f.min(start)));
        self.last_ms = Some(self.last_ms.map_or(end, |l| l.max(end)));
    }

    /// The window from the first event's start to the last one's end, or
    /// `None` without events.
    pub fn window(&self) -> Option<Window> {
        Some(Window::new(self.first_ms?, self.last_ms?))
    }
}

/// What was odd about the input; each count is shown on the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Issues {
    /// Lines read.
    pub lines: u64,
    /// Event lines read (in the window or not).
    pub events: u64,
    /// Event lines whose bytes fall outside the window.
    pub events_outside_window: u64,
    /// JSON objects that are not events (text lines, markers).
    pub other_lines: u64,
    /// Lines that are not JSON objects, or events with fields of the wrong shape.
    pub damaged_lines: u64,
    /// Up to five damaged lines: `line N: reason`.
    pub damaged_examples: Vec<String>,
    /// `s` keys that are not a label number 0-255 (their bytes are left out).
    pub unknown_label_keys: u64,
    /// Up to five such keys.
    pub unknown_label_examples: Vec<String>,
    /// Events starting before the previous event started (clock set back?).
    pub out_of_order: u64,
    /// Events starting before the previous one ended (clock changed?).
    pub overlapping: u64,
    /// Events longer than [`LONG_INTERVAL_MS`] (phone asleep, polls skipped).
    pub long_intervals: u64,
}

/// One label's buckets and totals over the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Series {
    /// The label number.
    pub label: u8,
    /// Its well-known name, or `label N` for an app's own label.
    pub name: String,
    /// Bytes sent per bucket.
    pub tx: Vec<u64>,
    /// Bytes received per bucket.
    pub rx: Vec<u64>,
    /// Bytes sent in the window.
    pub total_tx: u64,
    /// Bytes received in the window.
    pub total_rx: u64,
    /// Bytes (sent + received) in events marked cellular.
    pub cellular_bytes: u64,
}

impl Series {
    /// Bytes sent and received.
    pub fn total(&self) -> u64 {
        self.total_tx.saturating_add(self.total_rx)
    }
}

/// The aggregates of one window: what the page, the report and the JSON
/// endpoint show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Traffic {
    /// The window shown.
    pub window: Window,
    /// Length of one bucket in milliseconds.
    pub bucket_ms: i64,
    /// Number of buckets.
    pub buckets: usize,
    /// One series per label with bytes in the window, by label number.
    pub series: Vec<Series>,
    /// Whether any event covers each bucket.
    pub covered: Vec<bool>,
    /// Runs of buckets without events, as `[from_ms, to_ms]`.
    pub gaps: Vec<[i64; 2]>,
    /// Cellular periods, as `[from_ms, to_ms]`, merged when less than a bucket apart.
    pub cellular: Vec<[i64; 2]>,
    /// Bytes sent in the window, all labels.
    pub total_tx: u64,
    /// Bytes received in the window, all labels.
    pub total_rx: u64,
    /// Bytes on cellular in the window, all labels.
    pub cellular_bytes: u64,
    /// Events in the window.
    pub events_in_window: u64,
    /// What was odd about the input.
    pub issues: Issues,
}

impl Traffic {
    /// Bytes sent and received in the window.
    pub fn total(&self) -> u64 {
        self.total_tx.saturating_add(self.total_rx)
    }
}

/// The name shown for `label`.
pub fn label_name(label: u8) -> String {
    match sockstatlog::Label(label).name() {
        Some(name) => name.to_owned(),
        None => format!("label {label}"),
    }
}

/// Sums events into the buckets of one window.
#[derive(Debug)]
pub struct Aggregator {
    window: Window,
    bucket_ms: i64,
    series: Vec<Option<Series>>,
    covered: Vec<bool>,
    cellular: Vec<[i64; 2]>,
    events_in_window: u64,
    issues: Issues,
    previous: Option<(i64, i64)>,
}

impl Aggregator {
    /// An empty aggregation of `window` into at most `buckets` buckets
    /// (clamped to [`BUCKETS_RANGE`]) of a round length of at least 100 ms.
    pub fn new(window: Window, buckets: usize) -> Aggregator {
        let buckets = buckets.clamp(BUCKETS_RANGE.0, BUCKETS_RANGE.1) as i64;
        let shortest = (window.len_ms() + buckets - 1) / buckets;
        const DAY_MS: i64 = 86_400_000;
        let bucket_ms = BUCKET_LENGTHS_MS
            .into_iter()
            .find(|&length| length >= shortest)
            .unwrap_or_else(|| (shortest + DAY_MS - 1) / DAY_MS * DAY_MS);
        let count = ((window.len_ms() + bucket_ms - 1) / bucket_ms) as usize;
        Aggregator {
            window,
            bucket_ms,
            series: vec![None; 256],
            covered: vec![false; count],
            cellular: Vec::new(),
            events_in_window: 0,
            issues: Issues::default(),
            previous: None,
        }
    }

    fn bucket(&self, at: i64) -> usize {
        let index = (at - self.window.from_ms) / self.bucket_ms;
        (index.max(0) as usize).min(self.covered.len() - 1)
    }

    /// Takes in one stored line.
    pub fn add_line(&mut self, text: &str) {
        self.issues.lines += 1;
        match line::parse(text) {
            Line::Event(event) => self.add_event(&event),
            Line::Other => self.issues.other_lines += 1,
            Line::Damaged(reason) => {
                self.issues.damaged_lines += 1;
                if self.issues.damaged_examples.len() < EXAMPLES {
                    let n = self.issues.lines;
                    self.issues
                        .damaged_examples
                        .push(format!("line {n}: {reason}"));
                }
            }
        }
    }

    /// Takes in one stored line whose event interval `(t, t + d)` is known
    /// already (the log server stores it beside the line): an event outside
    /// the window is counted without being parsed.
    pub fn add_stored_line(&mut self, text: &str, span: Option<(i64, i64)>) {
        if let Some((t, end)) = span {
            let (_, middle) = drawn_interval(t, end);
            if !self.contains(middle) {
                self.issues.lines += 1;
                self.issues.events += 1;
                self.check_order(t, end);
                self.issues.events_outside_window += 1;
                return;
            }
        }
        self.add_line(text);
    }

    /// Counts the lines and events of a log that were never read because
    /// they lie outside the window (`lines` and `events` are the log's totals).
    pub fn add_unread(&mut self, lines: u64, events: u64) {
        let unread_events = events.saturating_sub(self.issues.events);
        self.issues.events_outside_window += unread_events;
        self.issues.events += unread_events;
        self.issues.lines = self.issues.lines.max(lines);
    }

    fn contains(&self, at: i64) -> bool {
        at >= self.window.from_ms && at < self.window.to_ms
    }

    fn check_order(&mut self, t: i64, end: i64) {
        if let Some((previous_start, previous_end)) = self.previous {
            if t < previous_start {
                self.issues.out_of_order += 1;
            } else if t + ORDER_TOLERANCE_MS < previous_end {
                self.issues.overlapping += 1;
            }
        }
        self.previous = Some((t, end));
    }

    /// Takes in one event.
    pub fn add_event(&mut self, event: &Event) {
        self.issues.events += 1;
        let end = event.end();
        self.check_order(event.t, end);
        let issues = &mut self.issues;
        for key in &event.unknown_labels {
            issues.unknown_label_keys += 1;
            if issues.unknown_label_examples.len() < EXAMPLES
                && !issues.unknown_label_examples.contains(key)
            {
                issues.unknown_label_examples.push(key.clone());
            }
        }
        if event.d > LONG_INTERVAL_MS {
            issues.long_intervals += 1;
        }
        let (start, middle) = drawn_interval(event.t, end);
        let window = self.window;
        if !self.contains(middle) {
            self.issues.events_outside_window += 1;
            return;
        }
        self.events_in_window += 1;
        let (first, last) = (
            self.bucket(start.max(window.from_ms)),
            self.bucket((end - 1).max(start).min(window.to_ms - 1)),
        );
        for covered in &mut self.covered[first..=last] {
            *covered = true;
        }
        if event.cellular {
            let range = [start.max(window.from_ms), end.min(window.to_ms)];
            match self.cellular.last_mut() {
                Some(last) if range[0] >= last[0] && range[0] <= last[1] + self.bucket_ms => {
                    last[1] = last[1].max(range[1]);
                }
                _ => self.cellular.push(range),
            }
        }
        let bucket = self.bucket(middle);
        let buckets = self.covered.len();
        for &(label, tx, rx) in &event.bytes {
            let series = self.series[usize::from(label)].get_or_insert_with(|| Series {
                label,
                name: label_name(label),
                tx: vec![0; buckets],
                rx: vec![0; buckets],
                total_tx: 0,
                total_rx: 0,
                cellular_bytes: 0,
            });
            series.tx[bucket] = series.tx[bucket].saturating_add(tx);
            series.rx[bucket] = series.rx[bucket].saturating_add(rx);
            series.total_tx = series.total_tx.saturating_add(tx);
            series.total_rx = series.total_rx.saturating_add(rx);
            if event.cellular {
                series.cellular_bytes = series.cellular_bytes.saturating_add(tx.saturating_add(rx));
            }
        }
    }

    /// The aggregates.
    pub fn finish(self) -> Traffic {
        let series: Vec<Series> = self.series.into_iter().flatten().collect();
        let sum = |f: fn(&Series) -> u64| series.iter().map(f).fold(0u64, u64::saturating_add);
        let (total_tx, total_rx) = (sum(|s| s.total_tx), sum(|s| s.total_rx));
        let cellular_bytes = sum(|s| s.cellular_bytes);
        let mut cellular = self.cellular;
        cellular.sort_unstable();
        let mut merged: Vec<[i64; 2]> = Vec::with_capacity(cellular.len());
        for range in cellular {
            match merged.last_mut() {
                Some(last) if range[0] <= last[1] + self.bucket_ms => {
                    last[1] = last[1].max(range[1])
                }
                _ => merged.push(range),
            }
        }
        let from = self.window.from_ms;
        let mut gaps = Vec::new();
        let mut run: Option<usize> = None;
        for (i, &covered) in self.covered.iter().chain([&true]).enumerate() {
            match (covered, run) {
                (false, None) => run = Some(i),
                (true, Some(first)) => {
                    let at = |b: usize| (from + b as i64 * self.bucket_ms).min(self.window.to_ms);
                    gaps.push([at(first), at(i)]);
                    run = None;
                }
                _ => {}
            }
        }
        Traffic {
            window: self.window,
            bucket_ms: self.bucket_ms,
            buckets: self.covered.len(),
            series,
            covered: self.covered,
            gaps,
            cellular: merged,
            total_tx,
            total_rx,
            cellular_bytes,
            events_in_window: self.events_in_window,
            issues: self.issues,
        }
    }
}

/// The part of an event's interval `[t, end]` that is drawn, and its
/// middle, where its bytes go: all of it, or for a long interval only its
/// last poll period.
fn drawn_interval(t: i64, end: i64) -> (i64, i64) {
    let start = if end - t > LONG_INTERVAL_MS {
        end - POLL_MS
    } else {
        t
    };
    (start, start + (end - start) / 2)
}

/// Aggregates `lines` over `window`, or over the whole log if `None` (then
/// `lines` is walked twice: once for the span, once for the buckets).
/// Without any event and without a window, the window is the empty one at 0.
pub fn aggregate<'a, I>(lines: impl Fn() -> I, window: Option<Window>, buckets: usize) -> Traffic
where
    I: Iterator<Item = &'a str>,
{
    let window = window.unwrap_or_else(|| {
        let mut span = Span::default();
        lines().for_each(|l| span.add_line(l));
        span.window().unwrap_or(Window::new(0, 1))
    });
    let mut aggregator = Aggregator::new(window, buckets);
    lines().for_each(|l| aggregator.add_line(l));
    aggregator.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traffic(lines: &[&str], window: Window, buckets: usize) -> Traffic {
        aggregate(|| lines.iter().copied(), Some(window), buckets)
    }

    #[test]
    fn bytes_land_in_the_bucket_of_their_interval_and_add_up_per_label() {
        let lines = [
            r#"{"t":1000,"d":100,"s":{"8":[10,20],"11":[1,2]}}"#,
            r#"{"t":1100,"d":100,"c":1,"s":{"8":[5,5]}}"#,
            r#"{"t":1900,"d":100,"c":1,"s":{"200":[7,0]}}"#,
        ];
        let t = traffic(&lines, Window::new(1000, 2000), 10);
        assert_eq!((t.buckets, t.bucket_ms), (10, 100));
        let labels: Vec<(u8, &str)> = t
            .series
            .iter()
            .map(|s| (s.label, s.name.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                (8, "MagicsockConnUDP4"),
                (11, "SockstatlogLogger"),
                (200, "label 200")
            ]
        );
        assert_eq!(t.series[0].tx, [10, 5, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(t.series[0].rx, [20, 5, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            (
                t.series[0].total_tx,
                t.series[0].total_rx,
                t.series[0].cellular_bytes
            ),
            (15, 25, 10)
        );
        assert_eq!(t.series[2].tx[9], 7);
        assert_eq!((t.total_tx, t.total_rx, t.cellular_bytes), (23, 27, 17));
        assert_eq!(t.cellular, [[1100, 1200], [1900, 2000]]);
        assert_eq!(t.gaps, [[1200, 1900]]);
        assert_eq!(t.events_in_window, 3);
    }

    #[test]
    fn a_long_interval_is_drawn_at_its_end_and_leaves_a_gap() {
        let lines = [
            r#"{"t":0,"d":100,"s":{"8":[1,1]}}"#,
            r#"{"t":100,"d":9900,"s":{"8":[2,2]}}"#,
        ];
        let t = traffic(&lines, Window::new(0, 10_000), 10);
        assert_eq!(t.series[0].tx, [1, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(t.gaps, [[1000, 9000]]);
        assert_eq!(t.issues.long_intervals, 1);
    }

    #[test]
    fn odd_input_is_counted_and_quoted_never_fatal() {
        let lines = [
            r#"{"t":5000,"d":100,"s":{"8":[1,1]}}"#,
            "garbage",
            r#"{"text":"hello"}"#,
            r#"{"t":1000,"d":100,"s":{"x":[1,1]}}"#,
            r#"{"t":1050,"d":100,"s":{"8":[1,1]}}"#,
            r#"{"t":99000,"d":100,"s":{"8":[1,1]}}"#,
        ];
        let t = traffic(&lines, Window::new(0, 10_000), 10);
        let i = &t.issues;
        assert_eq!(
            (i.lines, i.events, i.other_lines, i.damaged_lines),
            (6, 4, 1, 1)
        );
        assert_eq!(i.damaged_examples.len(), 1);
        assert!(i.damaged_examples[0].starts_with("line 2: not a JSON object"));
        assert_eq!(
            (i.unknown_label_keys, i.unknown_label_examples.clone()),
            (1, vec!["x".to_string()])
        );
        assert_eq!(
            (i.out_of_order, i.overlapping, i.events_outside_window),
            (1, 1, 1)
        );
        assert_eq!(t.series[0].total_tx, 2);
    }

    #[test]
    fn without_a_window_the_whole_log_is_shown_and_no_events_is_an_empty_result() {
        let lines = [
            r#"{"t":1000,"d":100,"s":{"8":[1,1]}}"#,
            r#"{"t":3000,"d":100,"s":{"8":[1,1]}}"#,
        ];
        let t = aggregate(|| lines.iter().copied(), None, 450);
        assert_eq!(t.window, Window::new(1000, 3100));
        assert_eq!(t.total_tx, 2);
        let empty = aggregate(|| [r#"{"text":"x"}"#].into_iter(), None, 450);
        assert_eq!(
            (
                empty.events_in_window,
                empty.series.len(),
                empty.issues.other_lines
            ),
            (0, 0, 1)
        );
    }
}
