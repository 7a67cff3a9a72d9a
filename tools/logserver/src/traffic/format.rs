//! Numbers and times as people read them: `12.3 kB`, `4.1 kB/s`, `2026-11-30 14:05:09 UTC`.

use sockstatlog::upload::rfc3339;

/// Bytes in SI units with three significant digits: `999 B`, `1.23 kB`, `45.6 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 999.5 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let digits = if value >= 99.95 {
        0
    } else if value >= 9.995 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {}", UNITS[unit])
}

/// A rate in bytes per second: `bytes(n) + "/s"`, from `n` bytes over `ms`.
pub fn rate(n: u64, ms: i64) -> String {
    let per_second = (n as f64 * 1000.0 / ms.max(1) as f64).round() as u64;
    format!("{}/s", bytes(per_second))
}

/// `part` as a percentage of `whole` with one decimal, `-` if `whole` is 0.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_owned();
    }
    format!("{:.1} %", part as f64 * 100.0 / whole as f64)
}

/// `2026-11-30 14:05:09.250 UTC` (milliseconds left out when 0).
pub fn time(ms: i64) -> String {
    let text = rfc3339::format_unix(
        ms.div_euclid(1000),
        (ms.rem_euclid(1000) as u32) * 1_000_000,
    );
    let (date, rest) = text.split_at(10);
    let clock = &rest[1..9];
    let millis = &rest[10..13];
    if millis == "000" {
        format!("{date} {clock} UTC")
    } else {
        format!("{date} {clock}.{millis} UTC")
    }
}

/// A duration: `850 ms`, `12.5 s`, `3 min 20 s`, `2 h 5 min`, `1 d 2 h`.
pub fn duration(ms: i64) -> String {
    let s = ms / 1000;
    match ms {
        _ if ms < 1000 => format!("{ms} ms"),
        _ if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ if ms < 3_600_000 => format!("{} min {} s", s / 60, s % 60),
        _ if ms < 86_400_000 => format!("{} h {} min", s / 3600, s / 60 % 60),
        _ => format!("{} d {} h", s / 86_400, s / 3600 % 24),
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML and SVG text and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_234), "1.23 kB");
        assert_eq!(bytes(45_600_000), "45.6 MB");
        assert_eq!(bytes(999_999), "1.00 MB");
        assert_eq!(rate(5_000, 2_000), "2.50 kB/s");
        assert_eq!(percent(1, 3), "33.3 %");
        assert_eq!(percent(1, 0), "-");
        assert_eq!(time(1_700_000_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(time(1_700_000_000_250), "2023-11-14 22:13:20.250 UTC");
        assert_eq!(duration(200_000), "3 min 20 s");
        assert_eq!(
            escape("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
    }
}
