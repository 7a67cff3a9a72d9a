//! The JVM, on Android and on the Linux host (where the JVM tests load the
//! same library): `JNI_OnLoad`, the worker thread attached once for its
//! life, and the JNI counter source ([`reader`], registered by the
//! `Java_com_sockstatlog_NativeCounters_*` natives in [`natives`]).
//!
//! `JNI_OnLoad` runs when the app loads the library through the JVM
//! (`System.loadLibrary("sockstatlog")`, done by Kotlin's `NativeCounters`
//! and the Android glue); JNA's own loading does not run it. Without it the
//! worker is not attached here and JNA attaches it around each callback.
//!
//! Raw JNI calls go through [`jni_call!`] on the `jni` crate's `sys`
//! function table: the poll path makes four of them and checks for a
//! pending exception after each one that can throw.

mod layout;
mod natives;
#[cfg(feature = "jvm-perf-hooks")]
mod perf_hooks;
mod reader;

use jni::sys::{jint, JNIEnv, JavaVM as RawJavaVM, JNI_OK, JNI_VERSION_1_6};
use std::ffi::c_void;

/// Calls a function of a `JNIEnv`'s table (JNI 1.6, which every JVM and ART
/// since Android 2.0 implement).
macro_rules! jni_call {
    ($env:expr, $name:ident $(, $arg:expr)* $(,)?) => {{
        let env: *mut jni::sys::JNIEnv = $env;
        ((**env).v1_6.$name)(env $(, $arg)*)
    }};
}
pub(crate) use jni_call;

/// Records the JVM for [`attach_worker_thread`] and [`current_env`]. Called
/// by the JVM when the library is loaded with `System.loadLibrary`.
///
/// # Safety
/// Called by the JVM with its own `JavaVM` pointer.
#[no_mangle]
pub unsafe extern "system" fn JNI_OnLoad(vm: *mut RawJavaVM, _reserved: *mut c_void) -> jint {
    if !vm.is_null() {
        // Records the process's JavaVM as jni's singleton; only checks null.
        let _ = unsafe { jni::JavaVM::from_raw(vm) };
    }
    JNI_VERSION_1_6
}

/// Attaches the calling thread (the worker) to the JVM until it ends, if
/// the JVM is known. Never fails the caller: without an attach, JNA attaches
/// around each callback and [`current_env`] attaches on first use.
pub(crate) fn attach_worker_thread() {
    let Ok(vm) = jni::JavaVM::singleton() else {
        log::info!("sockstatlog: JNI_OnLoad did not run; JNA attaches the worker per call");
        return;
    };
    let config = || jni::AttachConfig::new().thread_name(jni::jni_str!("sockstatlog"));
    if let Err(e) =
        vm.attach_current_thread_with_config(config, None, |_env| Ok::<(), jni::errors::Error>(()))
    {
        log::warn!("sockstatlog: cannot attach the worker thread to the JVM: {e}");
    }
}

/// The calling thread's `JNIEnv`, attaching the thread for the rest of its
/// life if it is not attached yet.
pub(crate) fn current_env() -> Result<*mut JNIEnv, String> {
    let vm = jni::JavaVM::singleton()
        .map_err(|_| "the JVM is unknown: load the library with System.loadLibrary".to_string())?;
    let raw = vm.get_raw();
    let mut env: *mut c_void = std::ptr::null_mut();
    // SAFETY: `raw` is the JVM's own pointer (checked non-null by from_raw);
    // GetEnv only reads the calling thread's attachment.
    let rc = unsafe { ((**raw).v1_2.GetEnv)(raw, &mut env, JNI_VERSION_1_6) };
    if rc == JNI_OK && !env.is_null() {
        return Ok(env.cast());
    }
    vm.attach_current_thread(|env| Ok::<_, jni::errors::Error>(env.get_raw()))
        .map_err(|e| format!("cannot attach the worker thread to the JVM: {e}"))
}

/// Runs `f` with a `JNIEnv` on any thread: attached for the call if the
/// thread was not (dropping a reader on a thread the JVM does not know).
pub(crate) fn with_env_for_scope(f: impl FnOnce(*mut JNIEnv)) {
    let Ok(vm) = jni::JavaVM::singleton() else {
        return;
    };
    let run = |env: &mut jni::Env| {
        f(env.get_raw());
        Ok::<(), jni::errors::Error>(())
    };
    if let Err(e) = vm.attach_current_thread_for_scope(run) {
        log::warn!("sockstatlog: cannot reach the JVM to release a counter reader: {e}");
    }
}
