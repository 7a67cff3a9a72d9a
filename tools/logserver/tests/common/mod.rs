//! A minimal blocking HTTP/1.1 client over `std::net::TcpStream`, and shared constants.
//!
//! Each request uses its own connection with `Connection: close`, so a dropped connection
//! shows up as an error on exactly that request.

#![allow(dead_code)] // Each test file uses a different subset.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The collection the tests upload to.
pub const COLLECTION: &str = "sockstats.test";

/// A private id of 32 zero bytes.
pub const PRIVATE_ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// sha256 of 32 zero bytes: where [`PRIVATE_ZERO`]'s log is stored.
pub const PUBLIC_ZERO: &str = "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925";

/// The upload path for [`PRIVATE_ZERO`] in [`COLLECTION`].
pub fn upload_path() -> String {
    format!("/c/{COLLECTION}/{PRIVATE_ZERO}")
}

/// The read-back path for [`PRIVATE_ZERO`]'s log.
pub fn read_path() -> String {
    format!("/c/{COLLECTION}/{PUBLIC_ZERO}")
}

/// A complete HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request and reads the whole response. A connection closed (or reset) before
/// any response byte is an error of kind `UnexpectedEof` or `ConnectionReset`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    // A safety net against a hung server, not a timing assumption.
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    if raw.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed without a response",
        ));
    }
    parse_reply(&raw)
}

/// Whether `error` is what [`request`] returns for a dropped connection.
pub fn is_dropped_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
    )
}

fn parse_reply(raw: &[u8]) -> io::Result<Reply> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| bad("non-UTF-8 head"))?;
    let body = String::from_utf8(raw[split + 4..].to_vec()).map_err(|_| bad("non-UTF-8 body"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("no status line"))?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let reply = Reply {
        status,
        headers,
        body,
    };
    if let Some(len) = reply.header("content-length") {
        if len.parse::<usize>().ok() != Some(reply.body.len()) {
            return Err(bad("body length differs from Content-Length"));
        }
    }
    Ok(reply)
}

/// `GET path`, panicking on a transport error.
pub fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, &[], b"").expect("GET failed")
}

/// `POST path` with a plain JSON body, panicking on a transport error.
pub fn post_json(addr: SocketAddr, path: &str, json: &str) -> Reply {
    request(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        json.as_bytes(),
    )
    .expect("POST failed")
}

/// `POST path` with `json` compressed by zstd, `Content-Encoding: zstd` and, if given,
/// `Orig-Content-Length`; panicking on a transport error.
pub fn post_zstd(addr: SocketAddr, path: &str, json: &str, orig_len: Option<&str>) -> Reply {
    let compressed = zstd::encode_all(json.as_bytes(), 3).expect("zstd compression");
    let mut headers = vec![
        ("Content-Type", "application/json"),
        ("Content-Encoding", "zstd"),
    ];
    if let Some(len) = orig_len {
        headers.push(("Orig-Content-Length", len));
    }
    request(addr, "POST", path, &headers, &compressed).expect("POST failed")
}
