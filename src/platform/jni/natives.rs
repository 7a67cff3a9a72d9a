//! The natives of Kotlin's `com.sockstatlog.NativeCounters` (static
//! methods): register a reader, release an unused registration, count the
//! global references held. Each catches panics: none unwinds into the JVM.

use super::reader::{live_readers, JniReader};
use crate::platform::registry;
use jni::sys::{jclass, jint, jlong, jobject, JNIEnv};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// `NativeCounters.register(reader: RegisteredReader): Long`: resolves the
/// reader on the app's thread and returns its registration handle, or 0
/// with an exception pending.
///
/// # Safety
/// Called by the JVM.
#[no_mangle]
pub unsafe extern "system" fn Java_com_sockstatlog_NativeCounters_register(
    env: *mut JNIEnv,
    _class: jclass,
    reader: jobject,
) -> jlong {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the JVM passes this thread's env and a live local reference.
        match unsafe { JniReader::register(env, reader) } {
            Ok(reader) => registry::register(Arc::new(reader)) as jlong,
            Err(()) => 0,
        }
    }))
    .unwrap_or(0)
}

/// `NativeCounters.release(handle: Long)`: drops a registration no logger
/// took (and its global reference). Does nothing for a taken handle.
///
/// # Safety
/// Called by the JVM.
#[no_mangle]
pub unsafe extern "system" fn Java_com_sockstatlog_NativeCounters_release(
    _env: *mut JNIEnv,
    _class: jclass,
    handle: jlong,
) {
    let _ = catch_unwind(|| registry::release(handle as u64));
}

/// `NativeCounters.liveReaderCount(): Int`: global references held to
/// readers now.
///
/// # Safety
/// Called by the JVM.
#[no_mangle]
pub unsafe extern "system" fn Java_com_sockstatlog_NativeCounters_liveReaderCount(
    _env: *mut JNIEnv,
    _class: jclass,
) -> jint {
    jint::try_from(live_readers()).unwrap_or(jint::MAX)
}
