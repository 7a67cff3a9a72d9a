//! The HTTP stack the uploader sends through: a trait and plain data, so a
//! platform's own stack (OkHttp, URLSession, via UniFFI) can stand in for
//! the default [`ReqwestTransport`](crate::upload::ReqwestTransport).

use std::fmt;
use std::time::Duration;
use thiserror::Error;

/// One upload request: always a `POST`.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The full URL. It contains the private log ID: never log it.
    pub url: String,
    /// Header names and values, in order (`Content-Type`, and for a
    /// compressed body `Content-Encoding` and `Orig-Content-Length`).
    pub headers: Vec<(String, String)>,
    /// The body, as it goes on the wire.
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpRequest {
    /// Shows the URL's origin only: the path holds the private log ID.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("url", &format_args!("{}/<redacted>", origin(&self.url)))
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// `scheme://host[:port]` of `url`: the part that may be shown.
pub fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

impl HttpRequest {
    /// The value of header `name` (compared without regard to case).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// The server's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code, e.g. 200.
    pub status: u16,
    /// Header names and values (at least `Retry-After` when the server sent
    /// it; transports may leave out the rest).
    pub headers: Vec<(String, String)>,
    /// The start of the body (transports may cut it short: the uploader
    /// only shows it in diagnostics, at most a few hundred bytes).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of header `name` (compared without regard to case).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why a request got no HTTP answer. Messages must not contain the URL
/// (it holds the private log ID); the uploader also redacts it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TransportError {
    /// No answer within the timeout. The server may still have stored it.
    #[error("no answer from the log server within {0:?}")]
    Timeout(Duration),
    /// The connection could not be made (DNS, TCP, TLS).
    #[error("could not connect to the log server: {0}")]
    Connect(String),
    /// The connection failed while sending or receiving.
    #[error("the upload request failed: {0}")]
    Request(String),
    /// The transport cannot send at all (e.g. its HTTP client could not be
    /// set up): no retry within this flush.
    #[error("the HTTP transport is unusable: {0}")]
    Unusable(String),
}

/// Sends upload requests. Implemented by [`ReqwestTransport`] and by
/// platform code. Called from the thread running a flush; one request at a
/// time per flush.
///
/// [`ReqwestTransport`]: crate::upload::ReqwestTransport
pub trait HttpTransport: Send + Sync {
    /// POSTs `request` and returns the server's answer, whatever its status,
    /// within `timeout`. Must not follow redirects (a redirect would take the
    /// private log ID elsewhere).
    fn post(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError>;

    /// Called at the end of every flush: release connections, threads and
    /// timers so nothing runs between flushes. The default does nothing.
    fn end_of_flush(&self) {}
}
