//! The counter source: the platform's per-label byte counters.

use crate::snapshot::Snapshot;
use thiserror::Error;

/// A counter source could not give a snapshot. The poll is skipped and
/// counted; the next one covers the interval.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the counter source failed: {0}")]
pub struct SourceError(pub String);

/// Gives the platform's cumulative per-label byte counters and cellular state.
///
/// Called once per poll from the library's worker thread. It may fail, be
/// slow, panic or report counters that went backwards: none of these stop
/// the poller.
pub trait CounterSource: Send + Sync {
    /// The counters now.
    fn snapshot(&self) -> Result<Snapshot, SourceError>;

    /// Writes the counters now into `out`, which the poller reuses from poll
    /// to poll. A source that can fill it in place (see
    /// [`Snapshot::refill`]) makes a poll free of heap allocation; the
    /// default calls [`snapshot`](CounterSource::snapshot).
    fn snapshot_into(&self, out: &mut Snapshot) -> Result<(), SourceError> {
        *out = self.snapshot()?;
        Ok(())
    }
}

impl<F> CounterSource for F
where
    F: Fn() -> Result<Snapshot, SourceError> + Send + Sync,
{
    fn snapshot(&self) -> Result<Snapshot, SourceError> {
        self()
    }
}
