//! HTML pages: the index of logs, and one log's traffic (also the report
//! file). Self-contained: inline CSS and SVG, no script, nothing fetched.

use std::fmt::Write;

use super::aggregate::{Traffic, Window};
use super::format::{self, escape};
use super::svg;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}\
h1{font-size:20px;margin:0 0 6px}h2{font-size:16px;margin:22px 0 8px}\
code{font-size:12px;background:#eee;padding:1px 4px;border-radius:3px}\
.facts{color:#555;margin:0 0 12px}.facts span{margin-right:18px;white-space:nowrap;display:inline-block}\
nav.zoom{margin:10px 0;display:flex;gap:8px;align-items:center;flex-wrap:wrap}\
nav.zoom a{padding:4px 10px;border:1px solid #bbb;border-radius:4px;background:#fff;color:#224;text-decoration:none}\
nav.zoom a:hover{background:#eef}.range{font-weight:600;margin-right:8px}\
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;overflow-x:auto;width:max-content;max-width:100%}\
table{border-collapse:collapse;background:#fff}th,td{padding:4px 12px;border-bottom:1px solid #e4e4e4;text-align:right}\
th{background:#f0f0f0}td.name,th.name{text-align:left}tr.total td{font-weight:600;border-top:2px solid #bbb}\
.notice{background:#fff6e0;border:1px solid #f0c36d;border-radius:4px;padding:8px 12px;margin:10px 0}\
.issues li{margin:2px 0}form{display:inline-flex;gap:6px;align-items:center;margin-left:12px}\
form input{width:130px}table.logs td{white-space:nowrap}";

/// What a log page shows besides the aggregates.
#[derive(Debug)]
pub struct Page<'a> {
    /// Heading, e.g. `Traffic of log 5a41…`.
    pub heading: &'a str,
    /// Facts under the heading: `(name, value)`, shown as text.
    pub facts: Vec<(&'a str, String)>,
    /// The aggregates of the window shown.
    pub traffic: &'a Traffic,
    /// The whole log's span, if it has events (for the "whole log" link).
    pub whole: Option<Window>,
    /// The page's own path, for zoom links (`{path}?from=..&to=..`); `None`
    /// for a static report.
    pub path: Option<&'a str>,
    /// The path of the JSON with the same aggregates, if served.
    pub json_path: Option<&'a str>,
}

/// The query string selecting `window` with `buckets` buckets.
pub fn query(window: Window, buckets: usize) -> String {
    format!(
        "from={}&to={}&buckets={buckets}",
        window.from_ms, window.to_ms
    )
}

/// The window `factor` times as long around the same centre (< 1 zooms in),
/// shifted by `shift` of its length, kept at least 100 ms long.
pub fn zoomed(window: Window, factor: f64, shift: f64) -> Window {
    let len = window.len_ms() as f64;
    let centre = window.from_ms as f64 + len / 2.0 + shift * len;
    let half = (len * factor / 2.0).max(50.0);
    Window::new(
        (centre - half).round() as i64,
        (centre + half).round() as i64,
    )
}

/// One log's page: range and zoom links, the timeline, the totals table,
/// and everything odd about the input.
pub fn log_page(page: &Page) -> String {
    let traffic = page.traffic;
    let window = traffic.window;
    let mut out = String::with_capacity(128 * 1024);
    let _ = write!(
        out,
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1><p class=facts>",
        escape(page.heading),
        escape(page.heading)
    );
    for (name, value) in &page.facts {
        let _ = write!(
            out,
            "<span>{}: <b>{}</b></span>",
            escape(name),
            escape(value)
        );
    }
    out.push_str("</p>");
    let _ = write!(
        out,
        r#"<nav class=zoom><span class=range id=range data-from="{}" data-to="{}">{} – {} ({})</span>"#,
        window.from_ms,
        window.to_ms,
        format::time(window.from_ms),
        format::time(window.to_ms),
        format::duration(window.len_ms())
    );
    if let Some(path) = page.path {
        let buckets = traffic.buckets;
        let link = |class: &str, text: &str, target: Window| {
            format!(
                r#"<a class="{class}" href="{}?{}">{text}</a>"#,
                escape(path),
                escape(&query(target, buckets))
            )
        };
        out.push_str(&link("earlier", "« earlier", zoomed(window, 1.0, -0.5)));
        out.push_str(&link("zoom-in", "zoom in", zoomed(window, 0.5, 0.0)));
        out.push_str(&link("zoom-out", "zoom out", zoomed(window, 2.0, 0.0)));
        out.push_str(&link("later", "later »", zoomed(window, 1.0, 0.5)));
        if let Some(whole) = page.whole {
            out.push_str(&link("whole", "whole log", whole));
        }
        if let Some(json) = page.json_path {
            let _ = write!(
                out,
                r#"<a class="json" href="{}?{}">JSON</a>"#,
                escape(json),
                escape(&query(window, buckets))
            );
        }
        let _ = write!(
            out,
            r#"<form method=get action="{}"><label>from <input name=from value="{}"></label><label>to <input name=to value="{}"></label><span>Unix ms</span><input type=submit value=show></form>"#,
            escape(path),
            window.from_ms,
            window.to_ms
        );
    }
    out.push_str("</nav>");
    notices(&mut out, traffic);
    out.push_str("<figure>");
    out.push_str(&svg::render(traffic));
    out.push_str("</figure>");
    totals_table(&mut out, traffic);
    issues(&mut out, traffic);
    out.push_str("</body></html>\n");
    out
}

fn notices(out: &mut String, traffic: &Traffic) {
    let issues = &traffic.issues;
    let mut notes = Vec::new();
    if issues.events == 0 {
        notes.push(if issues.lines == 0 {
            "This log holds no lines at all: nothing was uploaded (or read) yet.".to_owned()
        } else {
            format!(
                "This log holds {} lines but no events: nothing to draw (see the list below).",
                issues.lines
            )
        });
    } else if traffic.events_in_window == 0 {
        notes.push(format!(
            "No events in this range; the log's {} events lie elsewhere. Use “whole log”.",
            issues.events
        ));
    }
    if issues.damaged_lines > 0 {
        notes.push(format!(
            "{} damaged lines were skipped (listed below).",
            issues.damaged_lines
        ));
    }
    if issues.out_of_order + issues.overlapping > 0 {
        notes.push(format!(
            "{} events start before the previous one started and {} before it ended: the phone's clock was probably changed. Bytes are drawn where the events' own times put them.",
            issues.out_of_order, issues.overlapping
        ));
    }
    for note in notes {
        let _ = write!(out, "<p class=notice>{}</p>", escape(&note));
    }
}

fn totals_table(out: &mut String, traffic: &Traffic) {
    out.push_str("<h2>Totals in this range</h2><table class=totals><thead><tr><th>label</th><th class=name>name</th><th>sent</th><th>received</th><th>total</th><th>share of total</th><th>on cellular</th></tr></thead><tbody>");
    let all = traffic.total();
    for series in &traffic.series {
        let _ = write!(
            out,
            r#"<tr data-label="{}" data-tx="{}" data-rx="{}"><td>{}</td><td class=name>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            series.label,
            series.total_tx,
            series.total_rx,
            series.label,
            escape(&series.name),
            format::bytes(series.total_tx),
            format::bytes(series.total_rx),
            format::bytes(series.total()),
            format::percent(series.total(), all),
            format::percent(series.cellular_bytes, series.total())
        );
    }
    let _ = write!(
        out,
        r#"<tr class=total data-tx="{}" data-rx="{}"><td></td><td class=name>all labels</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></tbody></table>"#,
        traffic.total_tx,
        traffic.total_rx,
        format::bytes(traffic.total_tx),
        format::bytes(traffic.total_rx),
        format::bytes(all),
        if all == 0 { "-" } else { "100 %" },
        format::percent(traffic.cellular_bytes, all)
    );
}

/// The lines that make up the input, and what was odd about them.
pub fn issue_lines(traffic: &Traffic) -> Vec<String> {
    let i = &traffic.issues;
    let mut lines = vec![format!(
        "{} lines: {} events ({} in this range), {} other lines (text, markers), {} damaged",
        i.lines, i.events, traffic.events_in_window, i.other_lines, i.damaged_lines
    )];
    for example in &i.damaged_examples {
        lines.push(format!("damaged: {example}"));
    }
    if i.unknown_label_keys > 0 {
        lines.push(format!(
            "{} label keys that are not numbers 0-255 were left out: {}",
            i.unknown_label_keys,
            i.unknown_label_examples.join(", ")
        ));
    }
    if i.out_of_order > 0 || i.overlapping > 0 {
        lines.push(format!(
            "{} events out of order, {} overlapping the previous one (clock changes?)",
            i.out_of_order, i.overlapping
        ));
    }
    if i.long_intervals > 0 {
        lines.push(format!(
            "{} intervals longer than 2 s (phone asleep or polls skipped): drawn at their end, the time before as a gap",
            i.long_intervals
        ));
    }
    lines
}

fn issues(out: &mut String, traffic: &Traffic) {
    out.push_str("<h2>Input</h2><ul class=issues>");
    for line in issue_lines(traffic) {
        let _ = write!(out, "<li>{}</li>", escape(&line));
    }
    out.push_str("</ul>");
}

/// One row of the index of logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRow {
    /// The collection.
    pub collection: String,
    /// The public log ID.
    pub public_id: String,
    /// Lines stored.
    pub lines: u64,
    /// Event lines among them.
    pub events: u64,
    /// Bytes of stored JSON.
    pub bytes: u64,
    /// Start of the first event, Unix ms.
    pub first_ms: Option<i64>,
    /// End of the last event, Unix ms.
    pub last_ms: Option<i64>,
}

/// The index: every log the server holds, linked to its page.
pub fn index_page(logs: &[LogRow], usage: &str) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>sockstatlog log server</title><style>{STYLE}</style></head><body><h1>Logs on this server</h1>"
    );
    if logs.is_empty() {
        out.push_str("<p class=notice>No logs yet: nothing has been uploaded to this server.</p>");
    } else {
        out.push_str("<table class=logs><thead><tr><th class=name>collection</th><th class=name>public log ID</th><th>first event</th><th>last event</th><th>events</th><th>lines</th><th>stored</th></tr></thead><tbody>");
        for log in logs {
            let time = |t: Option<i64>| t.map_or("-".to_owned(), format::time);
            let _ = write!(
                out,
                r#"<tr><td class=name>{}</td><td class=name><a href="/logs/{}/{}" title="{}"><code>{}…</code></a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                escape(&log.collection),
                escape(&log.collection),
                escape(&log.public_id),
                escape(&log.public_id),
                escape(log.public_id.get(..16).unwrap_or(&log.public_id)),
                time(log.first_ms),
                time(log.last_ms),
                log.events,
                log.lines,
                format::bytes(log.bytes)
            );
        }
        out.push_str("</tbody></table>");
    }
    let _ = writeln!(
        out,
        "<h2>Endpoints</h2><pre>{}</pre></body></html>",
        escape(usage)
    );
    out
}
