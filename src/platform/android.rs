//! Android: the library's worker thread is attached to the JVM once, for its
//! whole life.
//!
//! The Kotlin bindings call the counter source through JNA. On a native
//! thread that is not attached, JNA attaches it before every callback and
//! detaches it after (a JNI attach and a `java.lang.Thread` each 100 ms).
//! Attached once here, JNA finds the thread attached and leaves it so; the
//! JVM detaches it when the thread ends.
//!
//! `JNI_OnLoad` runs when the app loads the library through the JVM
//! (`System.loadLibrary("sockstatlog")`, done by the Android glue's
//! `SockstatLog` object); JNA's own loading does not run it. Without it the
//! worker is not attached here and JNA's per-call attach still works.
//!
//! Wiring (outside this file): `platform::on_worker_start()` calls
//! [`attach_worker_thread`] first thing in the worker thread.

use jni::sys::{jint, JavaVM as RawJavaVM, JNI_VERSION_1_6};
use std::ffi::c_void;

/// Records the JVM for [`attach_worker_thread`]. Called by the JVM when the
/// library is loaded with `System.loadLibrary`.
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
/// around each callback.
pub(crate) fn attach_worker_thread() {
    let Ok(vm) = jni::JavaVM::singleton() else {
        log::info!("sockstatlog: JNI_OnLoad did not run; JNA attaches the worker per call");
        return;
    };
    if let Err(e) = vm.attach_current_thread(|_env| Ok::<(), jni::errors::Error>(())) {
        log::warn!("sockstatlog: cannot attach the worker thread to the JVM: {e}");
    }
}
