//! The HTTP endpoints: routing, fault injection, and turning outcomes into responses.
//!
//! | request                              | answer                                         |
//! |--------------------------------------|------------------------------------------------|
//! | `POST /c/{collection}/{private_id}`  | 200 empty when stored; 4xx + plain-text reason |
//! | `GET /c/{collection}/{public_id}`    | 200 JSON array of the entries, in order        |
//! | `GET /stats`                         | 200 JSON object of counters ([`crate::Stats`]) |
//! | `GET /`                              | 200 HTML index of the logs held, and the above |
//! | `GET /logs/{collection}/{public_id}` | 200 HTML traffic view (`?from=&to=&buckets=`)  |
//! | `GET /api/logs/{collection}/{public_id}` | 200 JSON of the same aggregates            |

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
use crate::store::{Store, StoreError};
use crate::traffic::aggregate::{BUCKETS_RANGE, DEFAULT_BUCKETS, LONG_INTERVAL_MS};
use crate::traffic::page::{self, Page};
use crate::traffic::{format, Aggregator, Window};

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
                self.index().await
            } else {
                method_not_allowed("GET")
            });
        }
        for (prefix, as_json) in [("/logs/", false), ("/api/logs/", true)] {
            if let Some(rest) = path.strip_prefix(prefix) {
                if !is_get {
                    return Ok(method_not_allowed("GET"));
                }
                let query = request.uri().query().unwrap_or("").to_owned();
                return Ok(self.view(&path, rest, &query, as_json).await);
            }
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

impl App {
    /// `GET /`: the logs held, as HTML.
    async fn index(&self) -> Reply {
        let store = Arc::clone(&self.store);
        match tokio::task::spawn_blocking(move || store.logs(None)).await {
            Ok(Ok(logs)) => html(page::index_page(&logs, USAGE)),
            Ok(Err(error)) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("reading the list of logs failed: {error}"),
            ),
            Err(error) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("reading the list of logs failed: {error}"),
            ),
        }
    }

    /// `GET /logs/{collection}/{public_id}` (HTML) or `/api/logs/...` (JSON).
    async fn view(&self, path: &str, rest: &str, query: &str, as_json: bool) -> Reply {
        let parsed = rest
            .split_once('/')
            .filter(|(_, id)| !id.contains('/'))
            .ok_or(Rejection::BadQuery(
                "expected /logs/{collection}/{public_id}".to_owned(),
            ))
            .and_then(|(collection, id)| {
                Ok((
                    Collection::parse(collection)?,
                    PublicId::from_hex(id)?,
                    ViewQuery::parse(query)?,
                ))
            });
        let (collection, public_id, query) = match parsed {
            Ok(parsed) => parsed,
            Err(rejection) => return rejected(&rejection),
        };
        let store = Arc::clone(&self.store);
        let path = path.to_owned();
        let built = tokio::task::spawn_blocking(move || {
            let (collection, public_id) = (collection.as_str(), public_id.to_hex());
            let summary = store.logs(Some((collection, &public_id)))?;
            let Some(summary) = summary.into_iter().next() else {
                return Ok(None);
            };
            let whole = summary
                .first_ms
                .zip(summary.last_ms)
                .map(|(first, last)| Window::new(first, last));
            let window = query.window(whole);
            let mut aggregator = Aggregator::new(window, query.buckets);
            // Bytes go where an event's middle is (the aggregator's rule), at most
            // LONG_INTERVAL_MS / 2 before its end, or its last poll for longer ones.
            let ends = (window != whole.unwrap_or(window)).then_some((
                window.from_ms,
                window.to_ms.saturating_add(LONG_INTERVAL_MS),
            ));
            store.for_each_entry(collection, &public_id, ends, |entry, span| {
                aggregator.add_stored_line(entry, span)
            })?;
            aggregator.add_unread(summary.lines, summary.events);
            let traffic = aggregator.finish();
            if as_json {
                return Ok(Some(serde_json::to_string(&traffic).unwrap_or_default()));
            }
            let heading = format!("Traffic of log {}…", &public_id[..16]);
            let json_path = path.replacen("/logs/", "/api/logs/", 1);
            let time = |t: Option<i64>| t.map_or("-".to_owned(), format::time);
            let page = Page {
                heading: &heading,
                facts: vec![
                    ("collection", collection.to_owned()),
                    ("public log ID", public_id.clone()),
                    ("events", summary.events.to_string()),
                    ("first event", time(summary.first_ms)),
                    ("last event", time(summary.last_ms)),
                ],
                traffic: &traffic,
                whole,
                path: Some(&path),
                json_path: Some(&json_path),
            };
            Ok::<_, StoreError>(Some(page::log_page(&page)))
        })
        .await;
        match built {
            Ok(Ok(Some(body))) if as_json => json(body),
            Ok(Ok(Some(body))) => html(body),
            Ok(Ok(None)) => text(
                StatusCode::NOT_FOUND,
                "this server holds no log with that collection and public ID; / lists the logs it holds",
            ),
            Ok(Err(error)) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("reading the log failed: {error}"),
            ),
            Err(error) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("reading the log failed: {error}"),
            ),
        }
    }
}

/// The query of a traffic view: `from` and `to` (Unix ms), `buckets`.
#[derive(Debug, PartialEq, Eq)]
struct ViewQuery {
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    buckets: usize,
}

impl ViewQuery {
    fn parse(query: &str) -> Result<ViewQuery, Rejection> {
        let mut parsed = ViewQuery {
            from_ms: None,
            to_ms: None,
            buckets: DEFAULT_BUCKETS,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let number = |what: &str| {
                value.parse::<i64>().map_err(|_| {
                    Rejection::BadQuery(format!(
                        "{name}={value:?}: {what} must be an integer (Unix milliseconds for from/to)"
                    ))
                })
            };
            match name {
                "from" if !value.is_empty() => parsed.from_ms = Some(number("from")?),
                "to" if !value.is_empty() => parsed.to_ms = Some(number("to")?),
                "buckets" => {
                    let n = number("buckets")?;
                    let (low, high) = BUCKETS_RANGE;
                    if n < low as i64 || n > high as i64 {
                        return Err(Rejection::BadQuery(format!(
                            "buckets={n}: must be between {low} and {high}"
                        )));
                    }
                    parsed.buckets = n as usize;
                }
                "from" | "to" => {}
                other => {
                    return Err(Rejection::BadQuery(format!(
                        "unknown query parameter {other:?}; use from, to (Unix ms) and buckets"
                    )))
                }
            }
        }
        if let (Some(from), Some(to)) = (parsed.from_ms, parsed.to_ms) {
            if to <= from {
                return Err(Rejection::BadQuery(format!(
                    "to ({to}) must be after from ({from})"
                )));
            }
        }
        Ok(parsed)
    }

    /// The window asked for; missing ends come from the whole log's span
    /// (or from the other end, one hour apart, for a log without events).
    fn window(&self, whole: Option<Window>) -> Window {
        const HOUR_MS: i64 = 3_600_000;
        let whole = whole.unwrap_or_else(|| match (self.from_ms, self.to_ms) {
            (Some(from), _) => Window::new(from, from.saturating_add(HOUR_MS)),
            (None, Some(to)) => Window::new(to.saturating_sub(HOUR_MS), to),
            (None, None) => Window::new(0, HOUR_MS),
        });
        let from = self.from_ms.unwrap_or(whole.from_ms);
        let to = self
            .to_ms
            .unwrap_or(whole.to_ms.max(from.saturating_add(1)));
        Window::new(from, to)
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
GET  /stats                        request, fault and entry counters as JSON\n\
GET  /logs/{collection}/{public_id}      traffic view (HTML; ?from=&to= in Unix ms, &buckets=)\n\
GET  /api/logs/{collection}/{public_id}  the same aggregates as JSON";

const NOT_FOUND: &str = "no such endpoint; use POST /c/{collection}/{private_id}, GET /c/{collection}/{public_id}, GET /stats, or GET / for the logs and their traffic views";

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

fn html(body: String) -> Reply {
    typed(body, "text/html; charset=utf-8")
}

fn json(body: String) -> Reply {
    typed(body, "application/json")
}

fn typed(body: String, content_type: &'static str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    reply
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
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
