//! Natives for the JVM poll benchmark (`PollBenchmark` in tests/kotlin, run
//! by scripts/perf-report): feature `jvm-perf-hooks`, never in a shipped
//! build. Kotlin side: `object com.sockstatlog.PerfHooks` (test sources).
//!
//! Each design becomes a registered source (the same registry the fast path
//! uses), so `Logger.withRegisteredSource` runs it in a real logger at a
//! real poll period, and [`pollBackToBack`](Java_com_sockstatlog_PerfHooks_pollBackToBack)
//! runs the worker's poll work back to back on the calling Java thread,
//! where the JVM measures its CPU time and allocations.

use crate::clock::{Clock, SystemClock};
use crate::label::Label;
use crate::platform::registry;
use crate::poll::{PollOutcome, PollTiming, Poller};
use crate::snapshot::{Counters, Snapshot};
use crate::source::{CounterSource, SourceError};
use jni::sys::{jclass, jint, jlong, JNIEnv};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The floor: a source in Rust, every label changing on every call.
struct Synthetic {
    labels: u8,
    calls: AtomicU64,
}

impl CounterSource for Synthetic {
    fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let mut out = Snapshot::default();
        self.snapshot_into(&mut out)?;
        Ok(out)
    }

    fn snapshot_into(&self, out: &mut Snapshot) -> Result<(), SourceError> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let entries = (0..self.labels).map(|l| {
            let i = u64::from(l);
            (
                Label(l),
                Counters {
                    tx: n * 100 + i,
                    rx: n * 1000 + i,
                },
            )
        });
        out.refill(false, entries)
            .map_err(|e| SourceError(e.to_string()))
    }
}

/// `PerfHooks.syntheticSource(labels: Int): Long`: registers the floor.
///
/// # Safety
/// Called by the JVM.
#[no_mangle]
pub unsafe extern "system" fn Java_com_sockstatlog_PerfHooks_syntheticSource(
    _env: *mut JNIEnv,
    _class: jclass,
    labels: jint,
) -> jlong {
    let source = Synthetic {
        labels: labels.clamp(0, 255) as u8,
        calls: AtomicU64::new(0),
    };
    registry::register(Arc::new(source)) as jlong
}

/// `PerfHooks.foreignSource(lowered: Long): Long`: registers a UniFFI
/// `CounterSource` (the value `FfiConverterTypeCounterSource.lower` gave),
/// called through JNA as `Logger(..)` calls it.
///
/// # Safety
/// Called by the JVM with a freshly lowered handle.
#[no_mangle]
pub unsafe extern "system" fn Java_com_sockstatlog_PerfHooks_foreignSource(
    _env: *mut JNIEnv,
    _class: jclass,
    lowered: jlong,
) -> jlong {
    catch_unwind(|| {
        type Foreign = Arc<dyn crate::ffi::CounterSource>;
        let handle = uniffi::Handle::from_raw_unchecked(lowered as u64);
        match <Foreign as uniffi::Lift<crate::UniFfiTag>>::try_lift(handle) {
            Ok(source) => registry::register(Arc::new(crate::ffi::ForeignSource(source))) as jlong,
            Err(_) => 0,
        }
    })
    .unwrap_or(0)
}

/// `PerfHooks.jniReader(reader: RegisteredReader): Long`: registers a
/// reader as `NativeCounters.newLogger` does, 0 with an exception pending.
///
/// # Safety
/// Called by the JVM.
#[no_mangle]
pub unsafe extern "system" fn Java_com_sockstatlog_PerfHooks_jniReader(
    env: *mut JNIEnv,
    _class: jclass,
    reader: jni::sys::jobject,
) -> jlong {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the JVM passes this thread's env and a live local reference.
        match unsafe { super::reader::JniReader::register(env, reader) } {
            Ok(reader) => registry::register(Arc::new(reader)) as jlong,
            Err(()) => 0,
        }
    }))
    .unwrap_or(0)
}

/// `PerfHooks.pollBackToBack(handle: Long, polls: Int): Int`: runs the
/// worker's poll work (source, delta, event line) `polls` times on this
/// thread with the source registered as `handle`; returns the events made,
/// or -1 for an unknown handle or a failed poll.
///
/// # Safety
/// Called by the JVM.
#[no_mangle]
pub unsafe extern "system" fn Java_com_sockstatlog_PerfHooks_pollBackToBack(
    _env: *mut JNIEnv,
    _class: jclass,
    handle: jlong,
    polls: jint,
) -> jint {
    let Some(source) = registry::get(handle as u64) else {
        return -1;
    };
    catch_unwind(AssertUnwindSafe(|| {
        let clock = SystemClock;
        let mut poller = Poller::new(Duration::from_secs(1));
        let mut current = Snapshot::default();
        let mut events = 0;
        for _ in 0..polls {
            let wall_unix_ms = clock.wall_unix_ms();
            let started = clock.monotonic();
            let result = source.snapshot_into(&mut current);
            let finished = clock.monotonic();
            let timing = PollTiming {
                wall_unix_ms,
                started,
                finished,
            };
            match poller.poll(timing, result.map(|()| &current)) {
                PollOutcome::Event(line) => {
                    events += 1;
                    drop(line);
                }
                PollOutcome::Baseline | PollOutcome::NoChange => {}
                PollOutcome::Skipped(_) => return -1,
            }
        }
        events
    }))
    .unwrap_or(-1)
}

/// `PerfHooks.release(handle: Long)`: drops a registered source.
///
/// # Safety
/// Called by the JVM.
#[no_mangle]
pub unsafe extern "system" fn Java_com_sockstatlog_PerfHooks_release(
    _env: *mut JNIEnv,
    _class: jclass,
    handle: jlong,
) {
    let _ = catch_unwind(|| registry::release(handle as u64));
}
