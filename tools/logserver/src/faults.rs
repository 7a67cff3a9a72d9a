//! Fault injection: which uploads get a 500, a 429, a dropped connection or a slow answer.
//!
//! Each upload (`POST /c/...`) draws one number from a seeded generator, in arrival order,
//! whatever the shares are; so a given seed and sequence of uploads always gets the same
//! faults. The shares partition `[0, 1)` in the order 500, 429, reset, slow; the rest of the
//! interval is "no fault". Reads (`GET`) are never faulted.

use std::time::Duration;

use thiserror::Error;

/// How often, and how, uploads fail on purpose. All shares are in `0.0..=1.0` and their
/// sum is at most 1. The default injects no faults.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Share of uploads answered `500 Internal Server Error` (nothing stored).
    pub fail_500: f64,
    /// Share of uploads answered `429 Too Many Requests` with `Retry-After` (nothing stored).
    pub fail_429: f64,
    /// The `Retry-After` value, in seconds, sent with a 429.
    pub retry_after_secs: u64,
    /// Share of uploads whose connection is closed without any response (nothing stored).
    pub fail_reset: f64,
    /// Share of uploads answered only after [`FaultConfig::slow_delay`], then handled normally.
    pub slow: f64,
    /// How long a slow upload waits before it is handled.
    pub slow_delay: Duration,
    /// Seed of the generator that picks the faults.
    pub seed: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            fail_500: 0.0,
            fail_429: 0.0,
            retry_after_secs: 1,
            fail_reset: 0.0,
            slow: 0.0,
            slow_delay: Duration::from_secs(2),
            seed: 0,
        }
    }
}

/// Why a [`FaultConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FaultConfigError {
    /// A share is outside `0.0..=1.0` (or NaN).
    #[error("fault share {name} is {value}, but it must be between 0.0 and 1.0")]
    ShareOutOfRange {
        /// The share's name, e.g. "fail_500".
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// The shares add up to more than 1.
    #[error("fault shares add up to {sum}, but at most 1.0 of requests can be faulted")]
    SharesOverOne {
        /// Their sum.
        sum: f64,
    },
}

impl FaultConfig {
    /// Checks that every share is in `0.0..=1.0` and that they sum to at most 1.
    pub fn validate(&self) -> Result<(), FaultConfigError> {
        for (name, value) in self.shares() {
            if !(0.0..=1.0).contains(&value) {
                return Err(FaultConfigError::ShareOutOfRange { name, value });
            }
        }
        let sum: f64 = self.shares().iter().map(|(_, v)| v).sum();
        // Tolerate rounding, e.g. 0.1 + 0.2 + 0.3 + 0.4.
        if sum > 1.0 + 1e-9 {
            return Err(FaultConfigError::SharesOverOne { sum });
        }
        Ok(())
    }

    /// Whether any fault can happen at all.
    pub fn any(&self) -> bool {
        self.shares().iter().any(|(_, v)| *v > 0.0)
    }

    fn shares(&self) -> [(&'static str, f64); 4] {
        [
            ("fail_500", self.fail_500),
            ("fail_429", self.fail_429),
            ("fail_reset", self.fail_reset),
            ("slow", self.slow),
        ]
    }
}

/// What happens to one upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Handled normally.
    None,
    /// Answered `500`, nothing stored.
    ServerError,
    /// Answered `429` with `Retry-After: retry_after_secs`, nothing stored.
    TooManyRequests {
        /// Seconds sent in `Retry-After`.
        retry_after_secs: u64,
    },
    /// Connection closed without a response, nothing stored.
    Reset,
    /// Handled normally after waiting `delay`.
    Slow {
        /// How long to wait first.
        delay: Duration,
    },
}

/// The sequence of faults for a [`FaultConfig`]: call [`FaultPlan::next_fault`] once per
/// upload. Tests can build the same plan to predict what the server will do.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    config: FaultConfig,
    rng: SplitMix64,
}

impl FaultPlan {
    /// A plan starting at the beginning of `config.seed`'s sequence.
    pub fn new(config: &FaultConfig) -> Self {
        Self {
            config: config.clone(),
            rng: SplitMix64(config.seed),
        }
    }

    /// The fault for the next upload. Draws exactly one number, whatever the shares.
    pub fn next_fault(&mut self) -> Fault {
        let draw = self.rng.next_unit();
        let c = &self.config;
        let mut edge = c.fail_500;
        if draw < edge {
            return Fault::ServerError;
        }
        edge += c.fail_429;
        if draw < edge {
            return Fault::TooManyRequests {
                retry_after_secs: c.retry_after_secs,
            };
        }
        edge += c.fail_reset;
        if draw < edge {
            return Fault::Reset;
        }
        edge += c.slow;
        if draw < edge {
            return Fault::Slow {
                delay: c.slow_delay,
            };
        }
        Fault::None
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, and good enough to pick faults.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, from the top 53 bits.
    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(config: &FaultConfig, n: usize) -> [usize; 5] {
        let mut plan = FaultPlan::new(config);
        let mut counts = [0; 5];
        for _ in 0..n {
            let slot = match plan.next_fault() {
                Fault::None => 0,
                Fault::ServerError => 1,
                Fault::TooManyRequests { .. } => 2,
                Fault::Reset => 3,
                Fault::Slow { .. } => 4,
            };
            counts[slot] += 1;
        }
        counts
    }

    #[test]
    fn no_shares_means_no_faults() {
        assert_eq!(count(&FaultConfig::default(), 1000), [1000, 0, 0, 0, 0]);
    }

    #[test]
    fn a_share_of_one_faults_every_request() {
        let config = FaultConfig {
            fail_429: 1.0,
            retry_after_secs: 7,
            ..FaultConfig::default()
        };
        let mut plan = FaultPlan::new(&config);
        for _ in 0..100 {
            assert_eq!(
                plan.next_fault(),
                Fault::TooManyRequests {
                    retry_after_secs: 7
                }
            );
        }
    }

    #[test]
    fn shares_are_roughly_honoured() {
        let config = FaultConfig {
            fail_500: 0.1,
            fail_429: 0.2,
            fail_reset: 0.3,
            slow: 0.1,
            seed: 42,
            ..FaultConfig::default()
        };
        let counts = count(&config, 10_000);
        let expected = [3000, 1000, 2000, 3000, 1000];
        for (got, want) in counts.iter().zip(expected) {
            assert!(got.abs_diff(want) < 200, "{counts:?} vs {expected:?}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence_and_another_seed_does_not() {
        let config = FaultConfig {
            fail_500: 0.5,
            seed: 9,
            ..FaultConfig::default()
        };
        let run = |config: &FaultConfig| {
            let mut plan = FaultPlan::new(config);
            (0..64).map(|_| plan.next_fault()).collect::<Vec<_>>()
        };
        assert_eq!(run(&config), run(&config));
        assert_ne!(
            run(&config),
            run(&FaultConfig {
                seed: 10,
                ..config.clone()
            })
        );
    }

    #[test]
    fn invalid_shares_are_refused() {
        let bad = FaultConfig {
            slow: 1.5,
            ..FaultConfig::default()
        };
        assert_eq!(
            bad.validate(),
            Err(FaultConfigError::ShareOutOfRange {
                name: "slow",
                value: 1.5
            })
        );
        let nan = FaultConfig {
            fail_500: f64::NAN,
            ..FaultConfig::default()
        };
        assert!(matches!(
            nan.validate(),
            Err(FaultConfigError::ShareOutOfRange {
                name: "fail_500",
                ..
            })
        ));
        let over = FaultConfig {
            fail_500: 0.6,
            fail_reset: 0.6,
            ..FaultConfig::default()
        };
        assert!(matches!(
            over.validate(),
            Err(FaultConfigError::SharesOverOne { .. })
        ));
        let exact = FaultConfig {
            fail_500: 0.1,
            fail_429: 0.2,
            fail_reset: 0.3,
            slow: 0.4,
            ..FaultConfig::default()
        };
        assert_eq!(exact.validate(), Ok(()));
    }
}
