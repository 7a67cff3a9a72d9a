//! The platform certificate verifier's one-time setup, for the default
//! transport ([`ReqwestTransport`](super::ReqwestTransport)).
//!
//! On Android, `rustls-platform-verifier` calls into the JVM (the app's
//! `Context` and class loader) to check certificates, and panics at the
//! first handshake if nobody gave it them. The library never lets it get
//! that far: the Kotlin glue's `SockstatLog.initTls(context)` (the JNI
//! entry below) hands them over once, and until it has, the default
//! transport refuses to start a connection with a
//! [`TransportError::Unusable`] naming that call, and the FFI refuses to
//! create a logger that would need it (`SockstatException`). Android apps
//! that do not opt in upload through the glue's `UrlConnectionHttpClient`
//! (the platform's own TLS stack) and never reach this. Other platforms
//! need no setup. See docs/UPLOAD.md ("Android TLS").

use super::transport::TransportError;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the verifier got what it needs (Android: `initTls` succeeded).
static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Whether this platform's verifier needs [`INITIALISED`] before use.
const NEEDS_INIT: bool = cfg!(target_os = "android");

/// What to do when the verifier is not set up: the call to make, or the
/// alternative.
pub const NOT_INITIALISED: &str = "the default HTTPS transport cannot check certificates yet \
     on Android: call SockstatLog.initTls(context) once (with the app's Context, and the \
     rustls-platform-verifier Android component in the app) before the first flush, or set \
     httpClient = UrlConnectionHttpClient() in the options to upload through the platform's \
     own HTTPS stack";

/// Whether the default transport may start a TLS connection now.
pub fn ready() -> Result<(), TransportError> {
    readiness(NEEDS_INIT, INITIALISED.load(Ordering::Acquire))
}

/// The rule behind [`ready`], for any platform: a platform that needs
/// setup is ready only once it was done.
fn readiness(needs_init: bool, initialised: bool) -> Result<(), TransportError> {
    if needs_init && !initialised {
        Err(TransportError::Unusable(NOT_INITIALISED.to_string()))
    } else {
        Ok(())
    }
}

/// `SockstatLog.initTls(context)`: gives the platform verifier the JVM and
/// the app's `Context`. Idempotent; throws a `RuntimeException` (never
/// crashes) if the context cannot be used.
///
/// Kotlin declaration (in `object SockstatLog`, package `com.sockstatlog`,
/// after `System.loadLibrary("sockstatlog")`):
/// `@JvmStatic external fun initTls(context: android.content.Context)`.
#[cfg(target_os = "android")]
#[no_mangle]
pub extern "system" fn Java_com_sockstatlog_SockstatLog_initTls<'caller>(
    mut env: jni::EnvUnowned<'caller>,
    _class: jni::objects::JObject<'caller>,
    context: jni::objects::JObject<'caller>,
) {
    env.with_env(|env| -> jni::errors::Result<()> {
        rustls_platform_verifier::android::init_with_env(env, context)?;
        INITIALISED.store(true, Ordering::Release);
        log::info!("sockstatlog: platform certificate verifier initialised");
        Ok(())
    })
    .resolve::<jni::errors::ThrowRuntimeExAndDefault>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_platform_that_needs_setup_is_unusable_until_it_is_done_and_says_what_to_call() {
        let error = readiness(true, false).unwrap_err();
        assert_eq!(error, TransportError::Unusable(NOT_INITIALISED.to_string()));
        assert!(error.to_string().contains("SockstatLog.initTls(context)"));
        assert!(error.to_string().contains("UrlConnectionHttpClient"));
        assert_eq!(readiness(true, true), Ok(()));
        assert_eq!(readiness(false, false), Ok(()));
    }

    #[test]
    #[cfg(not(target_os = "android"))]
    fn platforms_other_than_android_need_no_setup() {
        assert_eq!(ready(), Ok(()));
    }
}
