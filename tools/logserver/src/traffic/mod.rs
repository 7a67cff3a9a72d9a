//! The traffic view: a log's events as per-label timelines, for people.
//!
//! [`line`] classifies one stored line, [`aggregate`] sums events into time
//! buckets in one streaming pass (so a day of events needs no more memory
//! than its buckets), [`svg`] draws the timeline, [`page`] wraps it in an
//! HTML page with the totals table, [`format`] writes numbers and times.
//! All of it is pure; the log server's HTTP layer and `sockstatlog-report`
//! feed it lines.

pub mod aggregate;
pub mod format;
pub mod line;
pub mod page;
pub mod svg;

pub use aggregate::{aggregate, Aggregator, Issues, Series, Span, Traffic, Window};
