//! The per-label totals and the input's oddities as plain text for a terminal.

use std::fmt::Write;

use sockstatlog_logserver::traffic::page::issue_lines;
use sockstatlog_logserver::traffic::{format, Traffic};

/// The summary printed after a report is written.
pub fn summary(source: &str, notes: &[String], traffic: &Traffic) -> String {
    let mut out = String::new();
    let window = traffic.window;
    let _ = writeln!(out, "{source}");
    for note in notes {
        let _ = writeln!(out, "note: {note}");
    }
    if traffic.issues.events == 0 {
        let _ = writeln!(out, "no events in this input: nothing to chart");
    } else {
        let _ = writeln!(
            out,
            "{} – {} ({}), {} events in range",
            format::time(window.from_ms),
            format::time(window.to_ms),
            format::duration(window.len_ms()),
            traffic.events_in_window
        );
    }
    let _ = writeln!(
        out,
        "\n{:>5}  {:<22} {:>10} {:>10} {:>10} {:>8} {:>12}",
        "label", "name", "sent", "received", "total", "share", "on cellular"
    );
    let all = traffic.total();
    for s in &traffic.series {
        let _ = writeln!(
            out,
            "{:>5}  {:<22} {:>10} {:>10} {:>10} {:>8} {:>12}",
            s.label,
            s.name,
            format::bytes(s.total_tx),
            format::bytes(s.total_rx),
            format::bytes(s.total()),
            format::percent(s.total(), all),
            format::percent(s.cellular_bytes, s.total())
        );
    }
    let _ = writeln!(
        out,
        "{:>5}  {:<22} {:>10} {:>10} {:>10} {:>8} {:>12}\n",
        "",
        "all labels",
        format::bytes(traffic.total_tx),
        format::bytes(traffic.total_rx),
        format::bytes(all),
        if all == 0 { "-" } else { "100 %" },
        format::percent(traffic.cellular_bytes, all)
    );
    for line in issue_lines(traffic) {
        let _ = writeln!(out, "{line}");
    }
    out
}
