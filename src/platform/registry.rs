//! Counter sources registered natively and waiting for the logger that will
//! own them.
//!
//! The JNI fast path registers a Kotlin reader on the app's thread (the only
//! place its class can be resolved) and gets a handle; the UniFFI
//! constructor `Logger::with_registered_source` then takes the source out by
//! that handle. A handle is used once: taking or releasing it removes the
//! source, and handles are never reused.

use crate::source::CounterSource;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

type Entry = (u64, Arc<dyn CounterSource>);

static SOURCES: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

fn sources() -> std::sync::MutexGuard<'static, Vec<Entry>> {
    SOURCES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Keeps `source` until it is taken or released; returns its handle (never 0).
#[cfg_attr(not(any(target_os = "android", target_os = "linux")), allow(dead_code))]
pub(crate) fn register(source: Arc<dyn CounterSource>) -> u64 {
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    sources().push((handle, source));
    handle
}

/// Takes the source registered under `handle`, if any.
pub(crate) fn take_registered_source(handle: u64) -> Option<Arc<dyn CounterSource>> {
    let mut sources = sources();
    let at = sources.iter().position(|(h, _)| *h == handle)?;
    Some(sources.swap_remove(at).1)
}

/// The source registered under `handle`, left registered (benchmarks).
#[cfg(all(
    feature = "jvm-perf-hooks",
    any(target_os = "android", target_os = "linux")
))]
pub(crate) fn get(handle: u64) -> Option<Arc<dyn CounterSource>> {
    let sources = sources();
    sources
        .iter()
        .find(|(h, _)| *h == handle)
        .map(|(_, s)| s.clone())
}

/// Drops the source registered under `handle`, if it was not taken.
#[cfg_attr(not(any(target_os = "android", target_os = "linux")), allow(dead_code))]
pub(crate) fn release(handle: u64) {
    // Dropped outside the lock: dropping a JNI reader makes a JNI call.
    let source = take_registered_source(handle);
    drop(source);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Snapshot;
    use crate::source::SourceError;

    fn source() -> Arc<dyn CounterSource> {
        Arc::new(|| -> Result<Snapshot, SourceError> { Ok(Snapshot::default()) })
    }

    #[test]
    fn a_handle_gives_its_source_once() {
        let a = register(source());
        let b = register(source());
        assert_ne!(a, b);
        assert!(take_registered_source(a).is_some());
        assert!(take_registered_source(a).is_none());
        release(b);
        assert!(take_registered_source(b).is_none());
        assert!(take_registered_source(0).is_none());
    }
}
