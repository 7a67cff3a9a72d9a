//! The timeline as one self-contained SVG: a lane per label (bytes sent
//! above the line, received below, each lane on its own scale), cellular
//! periods shaded, gaps hatched, a UTC time axis.
//!
//! Elements carry `class` and `data-*` attributes (`series`, `cellular`,
//! `gap`) so tests can check what is drawn against the data.

use std::fmt::Write;

use super::aggregate::Traffic;
use super::format::{self, escape};

const WIDTH: f64 = 1100.0;
const LEFT: f64 = 200.0;
const RIGHT: f64 = 100.0;
const TOP: f64 = 56.0;
const LANE: f64 = 52.0;
const HALF: f64 = 22.0;
const BOTTOM: f64 = 40.0;
const TX_COLOR: &str = "#2f6fdf";
const RX_COLOR: &str = "#12a36e";
const CELLULAR_COLOR: &str = "#ffd591";
/// Steps the time axis may use, in milliseconds.
const STEPS_MS: [i64; 22] = [
    1, 10, 100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
    600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000,
];

fn plot_width() -> f64 {
    WIDTH - LEFT - RIGHT
}

/// Renders `traffic` as an SVG document (no XML declaration, so it can be
/// inlined in HTML too).
pub fn render(traffic: &Traffic) -> String {
    let lanes = traffic.series.len().max(1) as f64;
    let height = TOP + lanes * LANE + BOTTOM;
    let window = traffic.window;
    let x_of =
        |ms: i64| LEFT + (ms - window.from_ms) as f64 * plot_width() / window.len_ms() as f64;
    let bottom = TOP + lanes * LANE;
    let mut out = String::with_capacity(64 * 1024 + traffic.series.len() * traffic.buckets * 40);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="system-ui, sans-serif" font-size="12" data-from="{}" data-to="{}" data-buckets="{}" data-series="{}">"#,
        window.from_ms,
        window.to_ms,
        traffic.buckets,
        traffic.series.len()
    );
    let _ = write!(
        out,
        r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4f4f4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d0d0d0" stroke-width="2"/></pattern></defs><rect width="{WIDTH}" height="{height}" fill="#fff"/>"##
    );
    legend(&mut out);
    let band = |out: &mut String,
                class: &str,
                range: &[i64; 2],
                fill: &str,
                opacity: f64,
                title: &str| {
        let (x0, x1) = (x_of(range[0]), x_of(range[1]));
        let _ = write!(
            out,
            r#"<rect class="{class}" data-from="{}" data-to="{}" x="{x0:.1}" y="{TOP}" width="{:.1}" height="{:.1}" fill="{fill}" fill-opacity="{opacity}"><title>{title} {} – {}</title></rect>"#,
            range[0],
            range[1],
            (x1 - x0).max(1.0),
            bottom - TOP,
            format::time(range[0]),
            format::time(range[1])
        );
    };
    for range in &traffic.cellular {
        band(
            &mut out,
            "cellular",
            range,
            CELLULAR_COLOR,
            0.55,
            "on cellular",
        );
    }
    for gap in &traffic.gaps {
        band(
            &mut out,
            "gap",
            gap,
            "url(#hatch)",
            1.0,
            "no events (logger off, phone asleep, or no traffic):",
        );
    }
    axis(&mut out, traffic, bottom, &x_of);
    if traffic.series.is_empty() {
        let _ = write!(
            out,
            r##"<text class="empty" x="{}" y="{}" text-anchor="middle" fill="#555" font-size="14">No events in this range</text>"##,
            LEFT + plot_width() / 2.0,
            TOP + LANE / 2.0 + 5.0
        );
    }
    for (index, series) in traffic.series.iter().enumerate() {
        let mid = TOP + index as f64 * LANE + LANE / 2.0;
        let peak = series
            .tx
            .iter()
            .chain(&series.rx)
            .copied()
            .max()
            .unwrap_or(0)
            .max(1);
        let _ = write!(
            out,
            r##"<g class="series" data-label="{}" data-tx="{}" data-rx="{}"><title>{}: sent {}, received {}</title><text x="{}" y="{:.1}" text-anchor="end" fill="#222">{}</text><text x="{}" y="{:.1}" text-anchor="end" fill="#888" font-size="10">#{} · {}</text>"##,
            series.label,
            series.total_tx,
            series.total_rx,
            escape(&series.name),
            format::bytes(series.total_tx),
            format::bytes(series.total_rx),
            LEFT - 10.0,
            mid - 2.0,
            escape(&series.name),
            LEFT - 10.0,
            mid + 12.0,
            series.label,
            format::bytes(series.total())
        );
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{mid:.1}" y2="{mid:.1}" stroke="#bbb" stroke-width="0.5"/>"##,
            LEFT + plot_width()
        );
        area(
            &mut out,
            &series.tx,
            &traffic.covered,
            peak,
            mid,
            -HALF,
            TX_COLOR,
            "tx",
        );
        area(
            &mut out,
            &series.rx,
            &traffic.covered,
            peak,
            mid,
            HALF,
            RX_COLOR,
            "rx",
        );
        let _ = write!(
            out,
            r##"<text x="{}" y="{:.1}" fill="#555" font-size="10">peak</text><text x="{}" y="{:.1}" fill="#555" font-size="10">{}</text></g>"##,
            LEFT + plot_width() + 8.0,
            mid - 2.0,
            LEFT + plot_width() + 8.0,
            mid + 10.0,
            format::rate(peak, traffic.bucket_ms)
        );
        if index + 1 < traffic.series.len() {
            let y = mid + LANE / 2.0;
            let _ = write!(
                out,
                r##"<line x1="{}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e6e6e6"/>"##,
                20.0,
                WIDTH - 10.0
            );
        }
    }
    out.push_str("</svg>");
    out
}

fn legend(out: &mut String) {
    let y = 16.0;
    let items = [
        (TX_COLOR, "sent (above the line)", "1"),
        (RX_COLOR, "received (below)", "1"),
        (CELLULAR_COLOR, "on cellular", "0.9"),
        ("url(#hatch)", "no events", "1"),
    ];
    let mut x = LEFT;
    for (fill, text, opacity) in items {
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{}" width="14" height="10" fill="{fill}" fill-opacity="{opacity}" stroke="#999" stroke-width="0.5"/><text x="{}" y="{}" fill="#333">{text}</text>"##,
            y - 9.0,
            x + 19.0,
            y
        );
        x += 28.0 + text.len() as f64 * 6.3;
    }
    let _ = write!(
        out,
        r##"<text x="{}" y="{y}" text-anchor="end" fill="#666">each lane on its own scale</text>"##,
        WIDTH - 10.0
    );
}

fn axis(out: &mut String, traffic: &Traffic, bottom: f64, x_of: &dyn Fn(i64) -> f64) {
    let window = traffic.window;
    let step = STEPS_MS
        .iter()
        .copied()
        .find(|step| window.len_ms() / step <= 8)
        .unwrap_or_else(|| (window.len_ms() / 8 / 86_400_000 + 1) * 86_400_000);
    let mut tick = window.from_ms.div_euclid(step) * step;
    if tick < window.from_ms {
        tick += step;
    }
    let mut previous_date = String::new();
    while tick <= window.to_ms {
        let x = x_of(tick);
        let text = format::time(tick);
        let (date, clock) = text.split_at(10);
        let clock = clock.trim_end_matches(" UTC").trim();
        let _ = write!(
            out,
            r##"<line class="tick" x1="{x:.1}" x2="{x:.1}" y1="{}" y2="{:.1}" stroke="#ddd" stroke-dasharray="2,3"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#333">{clock}</text>"##,
            TOP - 6.0,
            bottom + 4.0,
            bottom + 18.0
        );
        if date != previous_date {
            let _ = write!(
                out,
                r##"<text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#777" font-size="10">{date}</text>"##,
                bottom + 31.0
            );
            previous_date = date.to_owned();
        }
        tick += step;
    }
    let _ = write!(
        out,
        r##"<text x="{}" y="{:.1}" text-anchor="end" fill="#777" font-size="10">UTC · bucket {}</text>"##,
        LEFT - 40.0,
        bottom + 18.0,
        format::duration(traffic.bucket_ms)
    );
}

/// One direction of one lane: a step area over each run of covered buckets,
/// broken at gaps (never drawn across them).
#[allow(clippy::too_many_arguments)]
fn area(
    out: &mut String,
    values: &[u64],
    covered: &[bool],
    peak: u64,
    mid: f64,
    half: f64,
    color: &str,
    class: &str,
) {
    let step = plot_width() / values.len() as f64;
    let _ = write!(out, r#"<path class="{class}" fill="{color}" d=""#);
    let mut i = 0;
    while i < values.len() {
        if !covered[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < values.len() && covered[i] {
            i += 1;
        }
        if values[start..i].iter().all(|&v| v == 0) {
            continue;
        }
        let _ = write!(out, "M{:.1} {mid:.1}", LEFT + start as f64 * step);
        let mut y_previous = mid;
        for (offset, &value) in values[start..i].iter().enumerate() {
            let y = mid + half * value as f64 / peak as f64;
            if (y - y_previous).abs() > 0.05 {
                let _ = write!(out, "H{:.1}V{y:.1}", LEFT + (start + offset) as f64 * step);
                y_previous = y;
            }
        }
        let _ = write!(out, "H{:.1}", LEFT + i as f64 * step);
        let _ = write!(out, "V{mid:.1}Z");
    }
    out.push_str(r#""/>"#);
}
