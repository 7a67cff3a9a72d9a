//! The upload policy: what to do after each request.
//!
//! Pure: a status (or a transport failure), the time left until the flush's
//! deadline and a jitter value in, a [`Decision`] out. No clock, no sleep, no
//! randomness of its own.
//!
//! | outcome | decision |
//! |---|---|
//! | `200` | accepted: the batch leaves the buffer |
//! | `408`, `429`, `5xx` | kept; retried after a wait, if the deadline allows |
//! | transport error, timeout | kept; retried after a wait, if the deadline allows |
//! | `400`, `413`, `422` | dropped: removed from the buffer, counted, warned about |
//! | any other `4xx` (`401`, `403`, `404`, `407`, `415`, ...) | kept; the flush stops |
//! | anything else (`1xx`, other `2xx`, `3xx`) | kept; retried like a `5xx` |
//!
//! The wait is the server's `Retry-After` (delta-seconds, capped at
//! [`RetryPolicy::max_retry_after`]; `0`, a date or garbage count as absent),
//! else an exponential backoff: [`RetryPolicy::initial_backoff`] doubled
//! after every failure in a row, at most [`RetryPolicy::max_backoff`], with
//! "equal jitter" (a random point in the upper half: `[b/2, b]`), so phones
//! that failed together do not retry together.
//!
//! A retry happens only when the wait plus [`RetryPolicy::min_request_time`]
//! fits before the deadline. Otherwise the flush stops and the batch stays in
//! the buffer for the next flush: the original waited 30-60 s between
//! attempts, forever, which a flush bounded to a few seconds cannot do.
//!
//! Dropping is only for answers that say these bytes can never be accepted,
//! by any server: `400` (a body the server cannot parse), `413` (over its
//! size limit), `422` (well-formed but invalid entries). Retrying those
//! would block every later line forever. Every other `4xx` is about the
//! request's way rather than its body (credentials, path, collection, a
//! proxy or a captive portal answering in the server's place: `401`, `403`,
//! `404`, `407`, `415`, ...), so the batch is kept and the flush ends at
//! once: the same answer would come for every batch, and a fix of the
//! configuration or the network makes the next flush succeed. The original
//! never dropped anything (it gave up the flush only on `400`).

use std::time::Duration;

/// The knobs of the upload policy. `RetryPolicy::default()` is the
/// library's choice; tests shorten the waits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first backoff without `Retry-After` (before jitter).
    pub initial_backoff: Duration,
    /// The longest backoff without `Retry-After`.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; longer values are cut to it.
    pub max_retry_after: Duration,
    /// The least time left before the deadline worth starting a request
    /// with (a TLS handshake on a phone network takes hundreds of ms).
    pub min_request_time: Duration,
    /// The longest a single request may take.
    pub max_request_timeout: Duration,
}

/// 1 s: short enough for a retry within a flush of a few seconds.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// 60 s: the upper end of the original's fixed 30-60 s wait.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(60);
/// 5 min: the original's cap on `Retry-After`.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);
/// 250 ms.
pub const DEFAULT_MIN_REQUEST_TIME: Duration = Duration::from_millis(250);
/// 45 s: the original's request timeout.
pub const DEFAULT_MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(45);

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            min_request_time: DEFAULT_MIN_REQUEST_TIME,
            max_request_timeout: DEFAULT_MAX_REQUEST_TIMEOUT,
        }
    }
}

/// What a status says about the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusClass {
    /// `200`: stored.
    Accepted,
    /// `408`, `429`, `5xx`: not now; try again later.
    Retryable,
    /// `400`, `413`, `422`: these bytes will never be accepted.
    Refused,
    /// Another `4xx`: the request does not reach a log server that takes
    /// it (auth, path, proxy, captive portal); keep the batch, stop.
    Blocked,
    /// Anything else: not a logtail answer; keep the batch and try again.
    Unexpected,
}

/// Classifies an HTTP status.
pub fn classify_status(status: u16) -> StatusClass {
    match status {
        200 => StatusClass::Accepted,
        408 | 429 | 500..=599 => StatusClass::Retryable,
        400 | 413 | 422 => StatusClass::Refused,
        400..=499 => StatusClass::Blocked,
        _ => StatusClass::Unexpected,
    }
}

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// The server answered.
    Response {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` header's value, if any.
        retry_after: Option<&'a str>,
    },
    /// No answer: connection failed or dropped, or the request timed out.
    /// Worth another try later.
    TransportFailed,
    /// The request could not be made at all and will not be in this flush
    /// (e.g. the HTTP client could not be set up).
    Unrecoverable,
}

/// What to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The server stored the batch: remove it from the buffer.
    Accepted,
    /// The server refused the batch for good: remove it, count it, warn.
    Drop,
    /// Wait this long, then send the same batch again.
    Retry(Duration),
    /// Stop this flush and keep the batch for the next one.
    Stop(StopReason),
}

/// Why a flush stops with the batch kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The wait (and then a request) would not fit before the deadline.
    Deadline {
        /// The wait that was called for.
        wait: Duration,
    },
    /// Retrying cannot help in this flush.
    Unrecoverable,
    /// The server (or something in its place) refused the request for a
    /// reason other than its body: the status, e.g. 401, 403, 404, 407.
    Blocked {
        /// The HTTP status.
        status: u16,
    },
}

/// Parses `Retry-After` as delta-seconds, capped at `cap`. Absent, `0`,
/// an HTTP date or anything else that is not digits gives `None` (the
/// caller then backs off on its own).
pub fn parse_retry_after(value: Option<&str>, cap: Duration) -> Option<Duration> {
    let text = value?.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // All digits: only overflow can fail, and that is over any cap.
    let secs = text.parse::<u64>().unwrap_or(u64::MAX);
    if secs == 0 {
        return None;
    }
    Some(Duration::from_secs(secs).min(cap))
}

/// The backoff after `failures` failures in a row (1 for the first), with
/// `jitter` in `[0, 1)` picking a point in `[b/2, b]` where `b` is the
/// capped exponential backoff.
pub fn backoff(policy: &RetryPolicy, failures: u32, jitter: f64) -> Duration {
    // 2^31 times any backoff is past any sensible cap: stop doubling there.
    let doublings = failures.saturating_sub(1).min(31);
    let base = policy
        .initial_backoff
        .saturating_mul(1u32 << doublings)
        .min(policy.max_backoff);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    base.mul_f64(0.5 + jitter / 2.0)
}

/// The timeout for a request started with `remaining` time before the
/// deadline, or `None` when too little is left to start one.
pub fn request_timeout(policy: &RetryPolicy, remaining: Duration) -> Option<Duration> {
    if remaining < policy.min_request_time {
        return None;
    }
    Some(remaining.min(policy.max_request_timeout))
}

/// Decides what follows `outcome`, the `failures`-th failure in a row if it
/// is one (count it before calling), with `remaining` time before the
/// deadline and `jitter` in `[0, 1)`.
pub fn decide(
    policy: &RetryPolicy,
    outcome: Outcome<'_>,
    failures: u32,
    jitter: f64,
    remaining: Duration,
) -> Decision {
    let retry_after = match outcome {
        Outcome::Response {
            status,
            retry_after,
        } => match classify_status(status) {
            StatusClass::Accepted => return Decision::Accepted,
            StatusClass::Refused => return Decision::Drop,
            StatusClass::Blocked => return Decision::Stop(StopReason::Blocked { status }),
            StatusClass::Retryable | StatusClass::Unexpected => {
                parse_retry_after(retry_after, policy.max_retry_after)
            }
        },
        Outcome::TransportFailed => None,
        Outcome::Unrecoverable => return Decision::Stop(StopReason::Unrecoverable),
    };
    let wait = retry_after.unwrap_or_else(|| backoff(policy, failures, jitter));
    if wait.saturating_add(policy.min_request_time) <= remaining {
        Decision::Retry(wait)
    } else {
        Decision::Stop(StopReason::Deadline { wait })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;
    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn status(status: u16) -> Outcome<'static> {
        Outcome::Response {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn statuses_fall_into_their_classes() {
        assert_eq!(classify_status(200), StatusClass::Accepted);
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert_eq!(classify_status(s), StatusClass::Retryable, "{s}");
        }
        for s in [400, 413, 422] {
            assert_eq!(classify_status(s), StatusClass::Refused, "{s}");
        }
        for s in [
            401, 402, 403, 404, 405, 407, 409, 410, 411, 415, 421, 451, 499,
        ] {
            assert_eq!(classify_status(s), StatusClass::Blocked, "{s}");
        }
        for s in [0, 100, 201, 204, 301, 302, 307, 600] {
            assert_eq!(classify_status(s), StatusClass::Unexpected, "{s}");
        }
    }

    #[test]
    fn each_outcome_gets_its_decision() {
        let p = RetryPolicy::default();
        let plenty = S(3600);
        assert_eq!(decide(&p, status(200), 0, 0.0, plenty), Decision::Accepted);
        assert_eq!(decide(&p, status(400), 1, 0.0, plenty), Decision::Drop);
        assert_eq!(decide(&p, status(413), 1, 0.0, plenty), Decision::Drop);
        assert_eq!(decide(&p, status(422), 1, 0.0, plenty), Decision::Drop);
        for s in [401, 403, 404, 407, 415] {
            assert_eq!(
                decide(&p, status(s), 1, 0.0, plenty),
                Decision::Stop(StopReason::Blocked { status: s }),
                "{s}"
            );
        }
        assert_eq!(
            decide(&p, status(500), 1, 0.0, plenty),
            Decision::Retry(MS(500))
        );
        assert_eq!(
            decide(&p, status(408), 1, 0.0, plenty),
            Decision::Retry(MS(500))
        );
        assert_eq!(
            decide(&p, status(302), 1, 0.0, plenty),
            Decision::Retry(MS(500))
        );
        assert_eq!(
            decide(&p, Outcome::TransportFailed, 2, 0.0, plenty),
            Decision::Retry(S(1))
        );
        assert_eq!(
            decide(&p, Outcome::Unrecoverable, 1, 0.0, plenty),
            Decision::Stop(StopReason::Unrecoverable)
        );
    }

    #[test]
    fn retry_after_is_honoured_over_the_backoff() {
        let p = RetryPolicy::default();
        let outcome = Outcome::Response {
            status: 429,
            retry_after: Some("7"),
        };
        assert_eq!(decide(&p, outcome, 5, 0.9, S(3600)), Decision::Retry(S(7)));
        let outcome = Outcome::Response {
            status: 503,
            retry_after: Some("1"),
        };
        assert_eq!(decide(&p, outcome, 9, 0.9, S(3600)), Decision::Retry(S(1)));
    }

    #[test]
    fn retry_after_parsing() {
        let cap = S(300);
        assert_eq!(parse_retry_after(Some("1"), cap), Some(S(1)));
        assert_eq!(parse_retry_after(Some(" 42 "), cap), Some(S(42)));
        assert_eq!(parse_retry_after(None, cap), None);
        assert_eq!(parse_retry_after(Some(""), cap), None);
        assert_eq!(parse_retry_after(Some("0"), cap), None);
        assert_eq!(parse_retry_after(Some("-1"), cap), None);
        assert_eq!(parse_retry_after(Some("1.5"), cap), None);
        assert_eq!(parse_retry_after(Some("soon"), cap), None);
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT"), cap),
            None
        );
        assert_eq!(parse_retry_after(Some("301"), cap), Some(S(300)));
        assert_eq!(parse_retry_after(Some("86400"), cap), Some(S(300)));
        assert_eq!(
            parse_retry_after(Some("99999999999999999999999"), cap),
            Some(S(300))
        );
    }

    #[test]
    fn the_backoff_doubles_up_to_its_cap_with_equal_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(backoff(&p, 1, 0.0), MS(500));
        assert_eq!(backoff(&p, 1, 0.5), MS(750));
        assert_eq!(backoff(&p, 1, 0.999_999), Duration::from_nanos(999_999_500));
        assert_eq!(backoff(&p, 2, 0.0), S(1));
        assert_eq!(backoff(&p, 3, 0.0), S(2));
        assert_eq!(backoff(&p, 7, 0.0), S(30));
        assert_eq!(backoff(&p, 8, 0.0), S(30));
        assert_eq!(backoff(&p, u32::MAX, 1.0), S(60));
        // Out-of-range jitter is clamped.
        assert_eq!(backoff(&p, 1, -3.0), MS(500));
        assert_eq!(backoff(&p, 1, f64::NAN), MS(500));
        assert_eq!(backoff(&p, 1, 7.0), S(1));
        // 0 failures is treated as the first.
        assert_eq!(backoff(&p, 0, 0.0), MS(500));
    }

    #[test]
    fn a_retry_happens_only_if_the_wait_and_a_request_fit() {
        let p = RetryPolicy::default(); // min request time 250 ms
        let limited = Outcome::Response {
            status: 429,
            retry_after: Some("1"),
        };
        assert_eq!(decide(&p, limited, 1, 0.0, MS(1250)), Decision::Retry(S(1)));
        assert_eq!(
            decide(&p, limited, 1, 0.0, MS(1249)),
            Decision::Stop(StopReason::Deadline { wait: S(1) })
        );
        assert_eq!(
            decide(&p, Outcome::TransportFailed, 1, 0.0, MS(700)),
            Decision::Stop(StopReason::Deadline { wait: MS(500) })
        );
        assert_eq!(
            decide(&p, Outcome::TransportFailed, 1, 0.0, MS(750)),
            Decision::Retry(MS(500))
        );
        // Accepting and dropping need no time.
        assert_eq!(
            decide(&p, status(200), 0, 0.0, Duration::ZERO),
            Decision::Accepted
        );
        assert_eq!(
            decide(&p, status(400), 1, 0.0, Duration::ZERO),
            Decision::Drop
        );
    }

    #[test]
    fn a_five_minute_retry_after_outlasts_a_flush() {
        let p = RetryPolicy::default();
        let outcome = Outcome::Response {
            status: 429,
            retry_after: Some("3600"),
        };
        assert_eq!(
            decide(&p, outcome, 1, 0.0, S(10)),
            Decision::Stop(StopReason::Deadline { wait: S(300) })
        );
    }

    #[test]
    fn request_timeouts_stay_within_the_deadline_and_45_s() {
        let p = RetryPolicy::default();
        assert_eq!(request_timeout(&p, S(5)), Some(S(5)));
        assert_eq!(request_timeout(&p, S(100)), Some(S(45)));
        assert_eq!(request_timeout(&p, MS(250)), Some(MS(250)));
        assert_eq!(request_timeout(&p, MS(249)), None);
        assert_eq!(request_timeout(&p, Duration::ZERO), None);
    }
}
