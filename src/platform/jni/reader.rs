//! The JNI counter source: a Kotlin `CounterReader`, called by the worker
//! through a cached method ID on one global reference, writing into a
//! `long[]` allocated once and read back with one `GetLongArrayRegion`.
//!
//! Per poll: `CallIntMethodA` (the Kotlin side runs the reader, catching
//! every `Throwable`), `GetObjectField` (the array), `GetLongArrayRegion`,
//! `DeleteLocalRef`, with a pending exception checked and cleared after each
//! call that can throw. No allocation on either side; a failed read costs
//! one more call for its reason.

use super::layout::{fill, PollStatus, LONGS_PER_ENTRY};
use super::{current_env, jni_call, with_env_for_scope};
use crate::snapshot::Snapshot;
use crate::source::{CounterSource, SourceError};
use jni::sys::{jfieldID, jmethodID, jobject, jsize, JNIEnv};
use std::ffi::CStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Global references held to readers now (one per live [`JniReader`]).
static LIVE_READERS: AtomicUsize = AtomicUsize::new(0);

/// The number of global references the library holds to Kotlin readers.
pub(crate) fn live_readers() -> usize {
    LIVE_READERS.load(Ordering::SeqCst)
}

/// The names the Kotlin side (`RegisteredReader` in NativeCounters.kt)
/// must keep: R8 rules in android/consumer-rules.pro.
const POLL: (&CStr, &CStr) = (c"poll", c"()I");
const FAILURE: (&CStr, &CStr) = (c"failure", c"()Ljava/lang/String;");
const VALUES: (&CStr, &CStr) = (c"values", c"[J");

/// A registered Kotlin reader.
pub(crate) struct JniReader {
    /// Global reference to the Kotlin `RegisteredReader`.
    reader: jobject,
    poll: jmethodID,
    failure: jmethodID,
    values: jfieldID,
    /// Entries the array holds.
    capacity: usize,
    /// Where the array is copied each poll; only the worker polls.
    scratch: Mutex<Scratch>,
}

/// The worker's per-reader state between polls.
struct Scratch {
    values: Vec<i64>,
    /// The reason of the last failed poll, logged once per run of failures
    /// with the same reason ("" after a good poll).
    last_failure: String,
}

// SAFETY: a global reference, a method ID and a field ID are valid on every
// thread of the JVM (JNI spec); each call gets the calling thread's JNIEnv.
unsafe impl Send for JniReader {}
unsafe impl Sync for JniReader {}

/// Clears a pending exception; returns whether there was one.
///
/// # Safety
/// `env` is the calling thread's.
unsafe fn clear_exception(env: *mut JNIEnv) -> bool {
    unsafe {
        if jni_call!(env, ExceptionCheck) {
            jni_call!(env, ExceptionClear);
            true
        } else {
            false
        }
    }
}

impl JniReader {
    /// Resolves the reader's method and field IDs and takes one global
    /// reference. Runs on the app's thread (inside a native method), where
    /// the reader's class is the app's own. `Err(())`: an exception is
    /// pending for the caller (`NoSuchMethodError`, an array of the wrong
    /// length, out of memory).
    ///
    /// # Safety
    /// `env` is the calling thread's and `reader` a valid local reference.
    pub(crate) unsafe fn register(env: *mut JNIEnv, reader: jobject) -> Result<JniReader, ()> {
        unsafe {
            let class = jni_call!(env, GetObjectClass, reader);
            if class.is_null() {
                return Err(());
            }
            let poll = jni_call!(env, GetMethodID, class, POLL.0.as_ptr(), POLL.1.as_ptr());
            let failure = if poll.is_null() {
                std::ptr::null_mut()
            } else {
                jni_call!(
                    env,
                    GetMethodID,
                    class,
                    FAILURE.0.as_ptr(),
                    FAILURE.1.as_ptr()
                )
            };
            let values = if failure.is_null() {
                std::ptr::null_mut()
            } else {
                jni_call!(env, GetFieldID, class, VALUES.0.as_ptr(), VALUES.1.as_ptr())
            };
            jni_call!(env, DeleteLocalRef, class);
            if values.is_null() {
                return Err(()); // NoSuchMethodError / NoSuchFieldError pending
            }
            let array = jni_call!(env, GetObjectField, reader, values);
            let len = if array.is_null() {
                0
            } else {
                jni_call!(env, GetArrayLength, array)
            };
            jni_call!(env, DeleteLocalRef, array);
            let capacity = usize::try_from(len).unwrap_or(0) / LONGS_PER_ENTRY;
            if capacity == 0 {
                throw_illegal_state(env, c"sockstatlog: the reader's values array is empty");
                return Err(());
            }
            let global = jni_call!(env, NewGlobalRef, reader);
            if global.is_null() {
                return Err(()); // OutOfMemoryError pending
            }
            LIVE_READERS.fetch_add(1, Ordering::SeqCst);
            Ok(JniReader {
                reader: global,
                poll,
                failure,
                values,
                capacity,
                scratch: Mutex::new(Scratch {
                    values: vec![0; capacity * LONGS_PER_ENTRY],
                    last_failure: String::new(),
                }),
            })
        }
    }

    /// The reason the Kotlin side gave for a failed read.
    ///
    /// # Safety
    /// `env` is the calling thread's.
    unsafe fn failure_reason(&self, env: *mut JNIEnv) -> String {
        unsafe {
            let text = jni_call!(
                env,
                CallObjectMethodA,
                self.reader,
                self.failure,
                std::ptr::null()
            );
            if clear_exception(env) || text.is_null() {
                return "the counter reader failed and gave no reason".into();
            }
            let chars = jni_call!(env, GetStringUTFChars, text, std::ptr::null_mut());
            let reason = if chars.is_null() {
                clear_exception(env);
                "the counter reader failed (its reason could not be read)".into()
            } else {
                let reason = CStr::from_ptr(chars).to_string_lossy().into_owned();
                jni_call!(env, ReleaseStringUTFChars, text, chars);
                reason
            };
            jni_call!(env, DeleteLocalRef, text);
            reason
        }
    }
}

/// Throws `java.lang.IllegalStateException(message)` to the native method's
/// caller.
///
/// # Safety
/// `env` is the calling thread's; no exception is pending.
unsafe fn throw_illegal_state(env: *mut JNIEnv, message: &CStr) {
    unsafe {
        let class = jni_call!(env, FindClass, c"java/lang/IllegalStateException".as_ptr());
        if !class.is_null() {
            jni_call!(env, ThrowNew, class, message.as_ptr());
            jni_call!(env, DeleteLocalRef, class);
        }
    }
}

impl CounterSource for JniReader {
    fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let mut out = Snapshot::default();
        self.snapshot_into(&mut out)?;
        Ok(out)
    }

    fn snapshot_into(&self, out: &mut Snapshot) -> Result<(), SourceError> {
        let mut scratch = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
        let result = self.read_into(&mut scratch.values, out);
        match &result {
            Ok(()) => scratch.last_failure.clear(),
            Err(e) if e.0 != scratch.last_failure => {
                log::warn!("sockstatlog: polls skipped: {}", e.0);
                scratch.last_failure.clone_from(&e.0);
            }
            Err(_) => {}
        }
        result
    }
}

impl JniReader {
    /// One read: the Kotlin side's `poll()`, then its entries into `out`.
    fn read_into(&self, scratch: &mut [i64], out: &mut Snapshot) -> Result<(), SourceError> {
        let env = current_env().map_err(SourceError)?;
        // SAFETY: `env` is this thread's; `reader`, `poll`, `failure` and
        // `values` were resolved from the reader's own class and stay valid
        // while the global reference is held.
        unsafe {
            let raw = jni_call!(
                env,
                CallIntMethodA,
                self.reader,
                self.poll,
                std::ptr::null()
            );
            if clear_exception(env) {
                return Err(SourceError(
                    "the counter reader threw past NativeCounters' catch-all".into(),
                ));
            }
            let (entries, cellular) = match PollStatus::decode(raw) {
                PollStatus::Failed => return Err(SourceError(self.failure_reason(env))),
                PollStatus::Read { entries, cellular } => (entries, cellular),
            };
            if entries > self.capacity {
                return Err(SourceError(format!(
                    "the counter reader put {entries} entries; its array holds {}",
                    self.capacity
                )));
            }
            let longs = entries * LONGS_PER_ENTRY;
            let array = jni_call!(env, GetObjectField, self.reader, self.values);
            if !array.is_null() {
                jni_call!(
                    env,
                    GetLongArrayRegion,
                    array,
                    0,
                    longs as jsize,
                    scratch.as_mut_ptr()
                );
            }
            let threw = clear_exception(env);
            jni_call!(env, DeleteLocalRef, array);
            if array.is_null() || threw {
                return Err(SourceError(
                    "the counter reader's array could not be read".into(),
                ));
            }
            fill(&scratch[..longs], cellular, out)
        }
    }
}

impl Drop for JniReader {
    fn drop(&mut self) {
        let reader = self.reader;
        // SAFETY: the global reference was made by `register` and is deleted
        // once; DeleteGlobalRef is safe with an exception pending.
        with_env_for_scope(|env| unsafe { jni_call!(env, DeleteGlobalRef, reader) });
        LIVE_READERS.fetch_sub(1, Ordering::SeqCst);
    }
}
