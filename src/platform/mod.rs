//! What differs per platform: where the library's diagnostics go, and, on
//! Android and the Linux host, the JVM (attaching the worker thread once and
//! the JNI counter source, see [`jni`]).
//!
//! The library logs through the `log` facade. On Android the first logger
//! created routes it to logcat (tag `sockstatlog`), on Apple platforms to the
//! unified log (subsystem `com.sockstatlog`), unless the app installed a
//! `log` backend of its own first. Elsewhere nothing is installed: diagnostics
//! are silent unless the host program installs a backend.

#[cfg(any(target_os = "android", target_os = "linux"))]
pub(crate) mod jni;
mod registry;

pub(crate) use registry::take_registered_source;

/// Runs first thing on the logger's worker thread: where a JVM loaded the
/// library (Android, or a desktop JVM that called `System.loadLibrary`),
/// attaches the thread to it for its whole life, so Kotlin callbacks do not
/// attach and detach it on every poll.
pub fn on_worker_start() {
    #[cfg(any(target_os = "android", target_os = "linux"))]
    jni::attach_worker_thread();
}

/// Installs the platform's `log` backend once; later calls do nothing.
pub fn init_diagnostics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(install);
}

#[cfg(target_os = "android")]
fn install() {
    android_logger::init_once(
        android_logger::Config::default()
            .with_tag("sockstatlog")
            .with_max_level(log::LevelFilter::Info),
    );
}

#[cfg(target_vendor = "apple")]
fn install() {
    // Fails only if the app already installed a logger: then that one is used.
    let _ = oslog::OsLogger::new("com.sockstatlog")
        .level_filter(log::LevelFilter::Info)
        .init();
}

#[cfg(not(any(target_os = "android", target_vendor = "apple")))]
fn install() {}
