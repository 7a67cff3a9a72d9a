//! The default transport: reqwest's async client over rustls (ring), driven
//! by a tokio current-thread runtime that lives only while a flush runs.
//!
//! Why this shape:
//! - **No thread, timer or socket between flushes.** The runtime and the
//!   client (with its connection pool) are created on a flush's first
//!   request and dropped by [`HttpTransport::end_of_flush`], so an idle
//!   library never wakes the phone. `reqwest::blocking` would keep a
//!   background thread with its own runtime for as long as the client lives.
//! - **No extra thread during a flush either**, except the one tokio starts
//!   for a DNS lookup (`getaddrinfo` blocks); it is left to finish on its
//!   own (`shutdown_background`) so a stuck lookup cannot hold a flush past
//!   its deadline.
//! - **Connections are reused within a flush** (one per host), and the
//!   rustls configuration, with its TLS session cache, across flushes: a
//!   later flush resumes the TLS 1.3 session instead of a full handshake.
//! - **Small**: HTTP/1.1 only (logtail needs no HTTP/2), no proxy detection,
//!   no cookies, no response decompression, ring rather than aws-lc-rs.
//! - **TLS 1.3 only**, certificates checked by the platform's verifier
//!   (`rustls-platform-verifier`: the system trust store and its policies,
//!   user-installed CAs included, as the platform's own HTTP stack would).
//!   On Android it needs the app to initialise it once with a JNI context
//!   (`SockstatLog.initTls(context)`, see [`platform_tls`](super::platform_tls))
//!   and to ship its small Kotlin component; until then every request is
//!   [`TransportError::Unusable`] with that advice. The Android glue's
//!   default is the platform's own HTTPS stack instead (see `docs/UPLOAD.md`).
//! - **Never a panic out of a flush**: a panic in the HTTP or TLS stack
//!   (a verifier that was not set up, a bug) ends that request as
//!   [`TransportError::Unusable`]; the batch stays buffered and the next
//!   flush starts a fresh client.
//! - **No redirects** (a redirect would carry the private log ID elsewhere).

use super::transport::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The most of a response body kept: enough for a server's reason.
const MAX_RESPONSE_BODY: usize = 4 * 1024;

/// The default [`HttpTransport`]. Cheap to create; holds nothing but its TLS
/// settings between flushes.
pub struct ReqwestTransport {
    /// Built once (the platform verifier is not free to set up) and cloned
    /// into each flush's client; the clones share the TLS session cache.
    tls: Mutex<Option<rustls::ClientConfig>>,
    /// The runtime and client of the flush in progress, if any.
    session: Mutex<Option<Session>>,
    /// Builds the TLS settings ([`tls_config`]; tests inject failures).
    tls_setup: fn() -> Result<rustls::ClientConfig, TransportError>,
    /// A name resolver in place of the system's (tests only).
    #[cfg(test)]
    resolver: Option<Arc<dyn reqwest::dns::Resolve>>,
}

impl Default for ReqwestTransport {
    fn default() -> Self {
        ReqwestTransport {
            tls: Mutex::new(None),
            session: Mutex::new(None),
            tls_setup: tls_config,
            #[cfg(test)]
            resolver: None,
        }
    }
}

impl std::fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("in_flush", &lock(&self.session).is_some())
            .finish()
    }
}

struct Session {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The TLS settings: ring, TLS 1.3 only, the platform's verifier, HTTP/1.1.
fn tls_config() -> Result<rustls::ClientConfig, TransportError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let unusable =
        |what: &str, error: rustls::Error| TransportError::Unusable(format!("{what}: {error}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| unusable("TLS 1.3 is not available", e))?
        .with_platform_verifier()
        .map_err(|e| unusable("the platform certificate verifier is unavailable", e))?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

impl ReqwestTransport {
    /// A transport; nothing is set up until the first request.
    pub fn new() -> Self {
        Self::default()
    }

    fn new_session(&self) -> Result<Session, TransportError> {
        super::platform_tls::ready()?;
        let tls = {
            let mut tls = lock(&self.tls);
            match tls.as_ref() {
                Some(config) => config.clone(),
                None => {
                    let config = catch_unwind(self.tls_setup)
                        .map_err(|panic| panicked("setting up TLS", panic.as_ref()))??;
                    tls.insert(config).clone()
                }
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            // Names the only thread it may start (a DNS lookup's).
            .thread_name("sockstatlog-dns")
            .build()
            .map_err(|e| {
                TransportError::Unusable(format!("cannot start the HTTP client's runtime: {e}"))
            })?;
        let client = {
            let _inside = runtime.enter();
            let builder = reqwest::Client::builder()
                .tls_backend_preconfigured(tls)
                .http1_only()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(1);
            #[cfg(test)]
            let builder = match &self.resolver {
                Some(resolver) => builder.dns_resolver(resolver.clone()),
                None => builder,
            };
            builder
                .build()
                .map_err(|e| TransportError::Unusable(describe(e)))?
        };
        Ok(Session { runtime, client })
    }
}

/// A panic in the HTTP or TLS stack, as an error naming what was being done.
fn panicked(what: &str, panic: &(dyn Any + Send)) -> TransportError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string());
    TransportError::Unusable(format!(
        "the HTTPS stack panicked while {what} ({message}); the batch stays buffered{}",
        if message.contains("rustls-platform-verifier") {
            format!(" ({})", super::platform_tls::NOT_INITIALISED)
        } else {
            String::new()
        }
    ))
}

/// An error's text with its causes, without the URL (it holds the private
/// log ID).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn classify(error: reqwest::Error, timeout: Duration) -> TransportError {
    if error.is_timeout() {
        TransportError::Timeout(timeout)
    } else if error.is_builder() {
        TransportError::Unusable(describe(error))
    } else if error.is_connect() {
        TransportError::Connect(describe(error))
    } else {
        TransportError::Request(describe(error))
    }
}

async fn exchange(
    client: &reqwest::Client,
    request: &HttpRequest,
    timeout: Duration,
) -> Result<HttpResponse, TransportError> {
    let mut builder = client.post(request.url.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let mut response = builder
        .body(request.body.clone())
        .send()
        .await
        .map_err(|e| classify(e, timeout))?;
    let headers = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    let status = response.status().as_u16();
    let mut body = Vec::new();
    // The start of the body, for diagnostics; a failure here does not
    // change the answer.
    while body.len() < MAX_RESPONSE_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_RESPONSE_BODY - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

impl HttpTransport for ReqwestTransport {
    fn post(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            // block_on would panic inside another runtime.
            return Err(TransportError::Unusable(
                "flush was called from inside a tokio runtime; call it from a plain thread \
                 (for example with tokio::task::spawn_blocking)"
                    .to_string(),
            ));
        }
        let mut session = lock(&self.session);
        if session.is_none() {
            *session = Some(self.new_session()?);
        }
        let Session { runtime, client } = session.as_ref().expect("set above");
        let result = catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(async {
                tokio::time::timeout(timeout, exchange(client, request, timeout))
                    .await
                    .unwrap_or(Err(TransportError::Timeout(timeout)))
            })
        }));
        result.unwrap_or_else(|panic| {
            // The client may be half-way through anything: start afresh.
            if let Some(Session { runtime, client }) = session.take() {
                drop(client);
                runtime.shutdown_background();
            }
            Err(panicked("sending a request", panic.as_ref()))
        })
    }

    fn end_of_flush(&self) {
        if let Some(Session { runtime, client }) = lock(&self.session).take() {
            drop(client);
            // Do not wait for a DNS lookup still running on tokio's blocking
            // thread: it ends on its own.
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_settings_are_tls_1_3_only_with_http_1_1() {
        let config = tls_config().unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        // rustls shows the enabled versions only in its Debug output.
        let shown = format!("{config:?}");
        assert!(shown.contains("TLSv1_3"), "{shown}");
        assert!(!shown.contains("TLSv1_2"), "{shown}");
    }

    #[test]
    fn a_call_from_inside_a_tokio_runtime_is_an_error_not_a_panic() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let transport = ReqwestTransport::new();
        let request = HttpRequest {
            url: "http://127.0.0.1:9/c/test/x".to_string(),
            headers: vec![],
            body: vec![],
        };
        let result = runtime.block_on(async { transport.post(&request, Duration::from_secs(1)) });
        assert!(
            matches!(&result, Err(TransportError::Unusable(m)) if m.contains("spawn_blocking")),
            "{result:?}"
        );
    }

    /// Panics as rustls-platform-verifier does when Android never gave it
    /// a Context.
    fn verifier_never_initialised() -> Result<rustls::ClientConfig, TransportError> {
        panic!("Expect rustls-platform-verifier to be initialized")
    }

    fn request_to(url: &str) -> HttpRequest {
        HttpRequest {
            url: url.to_string(),
            headers: vec![],
            body: b"[]".to_vec(),
        }
    }

    #[test]
    fn a_panic_while_setting_up_tls_is_an_error_naming_the_call_to_make() {
        let transport = ReqwestTransport {
            tls_setup: verifier_never_initialised,
            ..ReqwestTransport::default()
        };
        let error = transport
            .post(
                &request_to("http://127.0.0.1:9/c/x/y"),
                Duration::from_secs(1),
            )
            .unwrap_err();
        let TransportError::Unusable(message) = &error else {
            panic!("{error:?}")
        };
        assert!(
            message.starts_with(
                "the HTTPS stack panicked while setting up TLS (Expect rustls-platform-verifier \
                 to be initialized); the batch stays buffered (the default HTTPS transport"
            ),
            "{message}"
        );
        assert!(
            message.contains("SockstatLog.initTls(context)"),
            "{message}"
        );
        transport.end_of_flush();
    }

    /// Panics in the middle of a request, as a verifier would during the
    /// handshake.
    struct PanickingResolver;

    impl reqwest::dns::Resolve for PanickingResolver {
        fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
            panic!("the stack broke mid-request")
        }
    }

    #[test]
    fn a_panic_during_a_request_is_an_error_and_the_next_request_starts_afresh() {
        let transport = ReqwestTransport {
            resolver: Some(Arc::new(PanickingResolver)),
            ..ReqwestTransport::default()
        };
        let request = request_to("http://panic.invalid:9/c/x/y");
        let error = transport
            .post(&request, Duration::from_secs(5))
            .unwrap_err();
        assert_eq!(
            error,
            TransportError::Unusable(
                "the HTTPS stack panicked while sending a request (the stack broke \
                 mid-request); the batch stays buffered"
                    .to_string()
            )
        );
        assert!(lock(&transport.session).is_none());
        // Not poisoned: the next request gets the same clean error.
        assert!(matches!(
            transport.post(&request, Duration::from_secs(5)),
            Err(TransportError::Unusable(_))
        ));
        transport.end_of_flush();
    }

    #[test]
    fn a_refused_connection_is_a_connect_error_without_the_url() {
        // Port 9 on loopback: nothing listens (discard is not run in CI).
        let transport = ReqwestTransport::new();
        let secret = "ab".repeat(32);
        let request = HttpRequest {
            url: format!("http://127.0.0.1:9/c/test/{secret}"),
            headers: vec![],
            body: b"[]".to_vec(),
        };
        let error = transport
            .post(&request, Duration::from_secs(5))
            .unwrap_err();
        assert!(matches!(error, TransportError::Connect(_)), "{error:?}");
        assert!(!error.to_string().contains(&secret), "{error}");
        transport.end_of_flush();
        assert!(lock(&transport.session).is_none());
    }
}
