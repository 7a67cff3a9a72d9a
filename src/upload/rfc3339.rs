//! RFC 3339 timestamps in UTC with nanoseconds, for logtail's `client_time`.
//!
//! Pure: a time in, text out, e.g. `2026-11-28T23:45:55.123456789Z`. Always
//! nine fraction digits (the form Go's `time.RFC3339Nano` gives when the
//! nanoseconds are not zero; the server only needs a string).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds from the Unix epoch to 0000-01-01T00:00:00Z, the earliest time
/// RFC 3339's four-digit year can show.
const MIN_UNIX_SECS: i64 = -62_167_219_200;
/// Seconds from the Unix epoch to 9999-12-31T23:59:59Z, the latest.
const MAX_UNIX_SECS: i64 = 253_402_300_799;

/// Formats `time` as RFC 3339 in UTC with nanoseconds. Times outside years
/// 0000-9999 are clamped to the nearest representable one.
pub fn format_system_time(time: SystemTime) -> String {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => {
            let secs = i64::try_from(after.as_secs()).unwrap_or(i64::MAX);
            format_unix(secs, after.subsec_nanos())
        }
        Err(before) => {
            let before = before.duration();
            let mut secs = -i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            let mut nanos = before.subsec_nanos();
            if nanos > 0 {
                secs -= 1;
                nanos = 1_000_000_000 - nanos;
            }
            format_unix(secs, nanos)
        }
    }
}

/// Formats `secs` seconds plus `nanos` nanoseconds after the Unix epoch as
/// RFC 3339 in UTC, e.g. `1970-01-01T00:00:00.000000000Z` for `(0, 0)`.
/// `nanos` above 999,999,999 is capped; times outside years 0000-9999 are
/// clamped.
pub fn format_unix(secs: i64, nanos: u32) -> String {
    let (secs, nanos) = if secs < MIN_UNIX_SECS {
        (MIN_UNIX_SECS, 0)
    } else if secs > MAX_UNIX_SECS {
        (MAX_UNIX_SECS, 999_999_999)
    } else {
        (secs, nanos.min(999_999_999))
    };
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(30);
    push_digits(&mut out, year as u64, 4);
    out.push('-');
    push_digits(&mut out, u64::from(month), 2);
    out.push('-');
    push_digits(&mut out, u64::from(day), 2);
    out.push('T');
    push_digits(&mut out, (of_day / 3600) as u64, 2);
    out.push(':');
    push_digits(&mut out, (of_day / 60 % 60) as u64, 2);
    out.push(':');
    push_digits(&mut out, (of_day % 60) as u64, 2);
    out.push('.');
    push_digits(&mut out, u64::from(nanos), 9);
    out.push('Z');
    out
}

/// Whether `text` is an RFC 3339 date-time as Go's `time.RFC3339Nano`
/// writes it: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1-9 digits,
/// then `Z` or `±HH:MM` (`2024-01-02T03:04:05.1Z`,
/// `2024-01-02T03:04:05+01:00`). Fields are range-checked (second 60 is a
/// leap second), not checked against the month's length.
pub fn is_valid(text: &str) -> bool {
    let b = text.as_bytes();
    let num = |at: usize, len: usize, max: u32| -> bool {
        b.get(at..at + len).is_some_and(|d| {
            d.iter().all(u8::is_ascii_digit)
                && d.iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0')) <= max
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let date_time = num(0, 4, 9999)
        && at(4, b'-')
        && num(5, 2, 12)
        && b[5..7] != *b"00"
        && at(7, b'-')
        && num(8, 2, 31)
        && b[8..10] != *b"00"
        && at(10, b'T')
        && num(11, 2, 23)
        && at(13, b':')
        && num(14, 2, 59)
        && at(16, b':')
        && num(17, 2, 60);
    if !date_time {
        return false;
    }
    let mut i = 19;
    if at(i, b'.') {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return false;
        }
        i += 1 + digits;
    }
    match &b[i..] {
        [b'Z'] => true,
        [b'+' | b'-', ..] => {
            b.len() == i + 6 && num(i + 1, 2, 23) && at(i + 3, b':') && num(i + 4, 2, 59)
        }
        _ => false,
    }
}

/// Appends `value` in decimal, zero-padded to `width` digits.
fn push_digits(out: &mut String, value: u64, width: usize) {
    let mut num = itoa::Buffer::new();
    let text = num.format(value);
    for _ in text.len()..width {
        out.push('0');
    }
    out.push_str(text);
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_epoch_and_known_instants_format_exactly() {
        assert_eq!(format_unix(0, 0), "1970-01-01T00:00:00.000000000Z");
        // 2026-11-28T23:45:55Z
        assert_eq!(
            format_unix(1_795_909_555, 123_456_789),
            "2026-11-28T23:45:55.123456789Z"
        );
        // A leap day and the last second of a leap year.
        assert_eq!(
            format_unix(951_782_400, 1),
            "2000-02-29T00:00:00.000000001Z"
        );
        assert_eq!(
            format_unix(1_735_689_599, 999_999_999),
            "2024-12-31T23:59:59.999999999Z"
        );
    }

    #[test]
    fn what_go_writes_is_valid_rfc_3339() {
        for ok in [
            "2026-11-28T23:45:55.123456789Z",
            "2024-01-02T03:04:05.1Z",
            "2024-01-02T03:04:05Z",
            "2024-01-02T03:04:05.5+01:00",
            "2024-12-31T23:59:60-11:30",
        ] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "x",
            "2024-01-02",
            "2024-01-02T03:04:05",
            "2024-01-02 03:04:05Z",
            "2024-13-02T03:04:05Z",
            "2024-00-02T03:04:05Z",
            "2024-01-00T03:04:05Z",
            "2024-01-02T24:04:05Z",
            "2024-01-02T03:04:05.Z",
            "2024-01-02T03:04:05.1234567890Z",
            "2024-01-02T03:04:05Zjunk",
            "2024-01-02T03:04:05+0100",
            "2024-01-02T03:04:05z",
            "２024-01-02T03:04:05Z",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn system_times_before_the_epoch_borrow_a_second() {
        let t = UNIX_EPOCH - Duration::from_nanos(1);
        assert_eq!(format_system_time(t), "1969-12-31T23:59:59.999999999Z");
        let t = UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(format_system_time(t), "1969-12-31T00:00:00.000000000Z");
    }

    #[test]
    fn system_times_after_the_epoch_keep_their_nanoseconds() {
        let t = UNIX_EPOCH + Duration::new(1_795_909_555, 5);
        assert_eq!(format_system_time(t), "2026-11-28T23:45:55.000000005Z");
    }

    #[test]
    fn out_of_range_times_are_clamped_to_four_digit_years() {
        assert_eq!(format_unix(i64::MIN, 5), "0000-01-01T00:00:00.000000000Z");
        assert_eq!(format_unix(i64::MAX, 0), "9999-12-31T23:59:59.999999999Z");
        assert_eq!(
            format_unix(MIN_UNIX_SECS, 0),
            "0000-01-01T00:00:00.000000000Z"
        );
        assert_eq!(format_unix(0, u32::MAX), "1970-01-01T00:00:00.999999999Z");
    }

    #[test]
    fn every_day_for_a_few_centuries_round_trips_through_the_calendar() {
        // Independent day counter: walk dates forward one day at a time.
        let (mut y, mut m, mut d) = (1900i64, 1u32, 1u32);
        let start = -25_567; // days from 1970-01-01 back to 1900-01-01
        for days in start..start + 200 * 366 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
