//! The HTTP endpoints: routing, fault injection, and turning outcomes into responses.
//!
//! | request                              | answer                                         |
//! |--------------------------------------|------------------------------------------------|
//! | `POST /c/{collection}/{private_id}`  | 200 empty when stored; 4xx + plain-text reason |
//! | `GET /c/{collection}/{public_id}`    | 200 JSON array of the entries, in order        |
//! | `GET /stats`                         | 200 JSON object of counters ([`crate::Stats`]) |
//! | `GET /`                              | 200 plain-text summary of the above            |

use std::sync::{Arc, Mutex, PoisonError};

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::faults::{Fault, FaultPlan};
use crate::ingest::{self, Rejection, Upload};
use crate::logid::{Collection, PrivateId, PublicId};
use crate::stats::Counters;
use crate::store::Store;

type Reply = Response<Full<Bytes>>;

/// Returned by the service to make hyper close the connection without a response.
#[derive(Debug, thiserror::Error)]
#[error("fault injection: connection dropped without a response")]
pub(crate) struct DropConnection;

/// Shared state of the endpoints.
pub(crate) struct App {
    pub(crate) store: Arc<Store>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) faults: Mutex<FaultPlan>,
    pub(crate) body_limit: usize,
    pub(crate) log_requests: bool,
}

/// Serves HTTP/1.1 requests on one accepted connection until it closes.
pub(crate) async fn serve_connection(app: Arc<App>, stream: TcpStream) {
    let service = service_fn(move |request| Arc::clone(&app).handle(request));
    // Errors here are the peer going away or an injected drop; nothing to report.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The request path as it may be logged: an upload's private ID is replaced
/// by the public ID it maps to, so no private ID ever reaches a log.
fn redacted_path(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["", "c", collection, id] if id.len() == 64 => match crate::logid::public_id_hex(id) {
            Ok(public) => format!("/c/{collection}/public:{public}"),
            Err(_) => format!("/c/{collection}/<invalid id>"),
        },
        _ => path.to_owned(),
    }
}

impl App {
    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Result<Reply, DropConnection> {
        let line = self.log_requests.then(|| {
            format!(
                "{} {}",
                request.method(),
                redacted_path(request.uri().path())
            )
        });
        let result = self.route(request).await;
        if let Some(line) = line {
            match &result {
                Ok(reply) => eprintln!("{line} -> {}", reply.status().as_u16()),
                Err(_) => eprintln!("{line} -> connection dropped (fault)"),
            }
        }
        result
    }

    async fn route(&self, request: Request<Incoming>) -> Result<Reply, DropConnection> {
        let path = request.uri().path().to_owned();
        let is_get = request.method() == Method::GET;
        if path == "/" {
            return Ok(if is_get {
                text(StatusCode::OK, USAGE)
            } else {
                method_not_allowed("GET")
            });
        }
        if path == "/stats" {
            return Ok(if is_get {
                json(self.counters.snapshot().to_json())
            } else {
                method_not_allowed("GET")
            });
        }
        let target = path
            .strip_prefix("/c/")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(_, id)| !id.contains('/'));
        let Some((collection, id)) = target else {
            return Ok(text(StatusCode::NOT_FOUND, NOT_FOUND));
        };
        let (collection, id) = (collection.to_owned(), id.to_owned());
        match *request.method() {
            Method::POST => self.upload(&collection, &id, request).await,
            Method::GET => Ok(self.read_back(&collection, &id).await),
            _ => Ok(method_not_allowed("GET, POST")),
        }
    }

    /// `POST /c/{collection}/{private_id}`.
    async fn upload(
        &self,
        collection: &str,
        private_id: &str,
        request: Request<Incoming>,
    ) -> Result<Reply, DropConnection> {
        let counters = &self.counters;
        Counters::bump(&counters.requests, 1);
        let fault = self
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_fault();
        let (parts, body) = request.into_parts();
        // Read the body before any fault, so the client has finished sending whatever
        // the answer is (else it may see a write error instead of the 500/429).
        let body = read_body(body, self.body_limit).await;
        match fault {
            Fault::None => {}
            Fault::ServerError => {
                Counters::bump(&counters.fault_500, 1);
                return Ok(text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "injected fault: 500 (fault mode is on); nothing was stored, retry later",
                ));
            }
            Fault::TooManyRequests { retry_after_secs } => {
                Counters::bump(&counters.fault_429, 1);
                let mut reply = text(
                    StatusCode::TOO_MANY_REQUESTS,
                    "injected fault: 429 (fault mode is on); nothing was stored, retry after Retry-After seconds",
                );
                reply
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                return Ok(reply);
            }
            Fault::Reset => {
                Counters::bump(&counters.fault_reset, 1);
                return Err(DropConnection);
            }
            Fault::Slow { delay } => {
                Counters::bump(&counters.fault_slow, 1);
                tokio::time::sleep(delay).await;
            }
        }
        let checked = body.and_then(|body| {
            let collection = Collection::parse(collection)?;
            let public_id = PrivateId::from_hex(private_id)?.public_id();
            let header = |name: &str| parts.headers.get(name).map(HeaderValue::as_bytes);
            let upload = Upload {
                content_encoding: header("content-encoding"),
                orig_content_length: header("orig-content-length"),
                body: &body,
            };
            let entries = ingest::validate(&upload, self.body_limit)?;
            Ok((collection, public_id, entries))
        });
        let (collection, public_id, entries) = match checked {
            Ok(checked) => checked,
            Err(rejection) => {
                Counters::bump(&counters.rejected, 1);
                return Ok(rejected(&rejection));
            }
        };
        let count = entries.len() as u64;
        let store = Arc::clone(&self.store);
        let stored = tokio::task::spawn_blocking(move || {
            store.append(collection.as_str(), &public_id.to_hex(), &entries)
        })
        .await;
        match stored {
            Ok(Ok(())) => {
                Counters::bump(&counters.entries_stored, count);
                Counters::bump(&counters.accepted, 1);
                Ok(text(StatusCode::OK, ""))
            }
            Ok(Err(error)) => {
                Counters::bump(&counters.store_errors, 1);
                Ok(text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("storing the entries failed: {error}; nothing was stored"),
                ))
            }
            Err(join_error) => {
                Counters::bump(&counters.store_errors, 1);
                Ok(text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("storing the entries failed: {join_error}; nothing was stored"),
                ))
            }
        }
    }

    /// `GET /c/{collection}/{public_id}`: a JSON array of the stored entries, in order.
    async fn read_back(&self, collection: &str, public_id: &str) -> Reply {
        let parsed = Collection::parse(collection)
            .map_err(Rejection::from)
            .and_then(|c| Ok((c, PublicId::from_hex(public_id)?)));
        let (collection, public_id) = match parsed {
            Ok(parsed) => parsed,
            Err(rejection) => return rejected(&rejection),
        };
        let store = Arc::clone(&self.store);
        let loaded = tokio::task::spawn_blocking(move || {
            store.entries(collection.as_str(), &public_id.to_hex())
        })
        .await;
        match loaded {
            Ok(Ok(entries)) => json(format!("[{}]", entries.join(","))),
            Ok(Err(error)) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("reading the entries failed: {error}"),
            ),
            Err(join_error) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("reading the entries failed: {join_error}"),
            ),
        }
    }
}

/// Reads the whole body, refusing more than `limit` bytes.
async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, Rejection> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Rejection::TooLarge { limit })
        }
        Err(error) => Err(Rejection::BodyRead(error.to_string())),
    }
}

const USAGE: &str = "sockstatlog-logserver: a logtail-compatible log server for tests\n\
POST /c/{collection}/{private_id}  upload a JSON array of objects (optionally Content-Encoding: zstd)\n\
GET  /c/{collection}/{public_id}   the stored entries as a JSON array, in arrival order\n\
GET  /stats                        request, fault and entry counters as JSON";

const NOT_FOUND: &str = "no such endpoint; use POST /c/{collection}/{private_id}, GET /c/{collection}/{public_id} or GET /stats";

fn rejected(rejection: &Rejection) -> Reply {
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::BAD_REQUEST);
    text(status, &rejection.to_string())
}

fn text(status: StatusCode, message: &str) -> Reply {
    let body = if message.is_empty() {
        Bytes::new()
    } else {
        Bytes::from(format!("{message}\n"))
    };
    let mut reply = Response::new(Full::new(body));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    reply
}

fn json(body: String) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    reply.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    reply
}

fn method_not_allowed(allow: &'static str) -> Reply {
    let mut reply = text(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("method not allowed here; allowed: {allow}"),
    );
    reply
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    reply
}

#[cfg(test)]
mod tests {
    use super::redacted_path;

    #[test]
    fn a_logged_upload_path_shows_the_public_id_never_the_private_one() {
        let private = "0".repeat(64);
        assert_eq!(
            redacted_path(&format!("/c/sockstats.log.tailscale.io/{private}")),
            "/c/sockstats.log.tailscale.io/public:66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
        assert_eq!(redacted_path("/stats"), "/stats");
    }
}
