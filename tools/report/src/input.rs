//! The three kinds of input, read into lines: a buffer directory copied off a
//! phone, a file of exported lines, or a log on the log server.

use std::fs;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::value::RawValue;
use sockstatlog::{FileBuffer, FileBufferOptions, LogBuffer};
use thiserror::Error;

/// The buffer's own lock file: left out of the copy, it is state, not data.
const LOCK_FILE: &str = "sockstatlog.lock";
/// The largest cap a buffer accepts: the copy must evict nothing.
const COPY_CAP_BYTES: u64 = 1 << 30;

/// Why the input could not be read.
#[derive(Debug, Error)]
pub enum InputError {
    /// The path does not exist or cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The buffer directory could not be opened (from its temporary copy).
    #[error("{path} is not a readable sockstatlog buffer directory: {reason}")]
    Buffer {
        /// The directory.
        path: PathBuf,
        /// What the buffer said.
        reason: String,
    },
    /// The file starts with `[` but is not a JSON array.
    #[error("{path} starts with '[' but is not a JSON array of entries: {reason}; export one JSON object per line, or the array GET /c/{{collection}}/{{public_id}} returns")]
    Array {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        reason: String,
    },
    /// The URL is not one this tool can read.
    #[error("cannot read {url}: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// Why.
        reason: String,
    },
}

/// Lines read from an input, and what to say about where they came from.
#[derive(Debug, Default)]
pub struct Lines {
    /// The lines, oldest first.
    pub lines: Vec<String>,
    /// What the input was, e.g. `buffer directory /tmp/x`.
    pub source: String,
    /// Notes about the input (e.g. damaged records the buffer skipped).
    pub notes: Vec<String>,
}

/// Reads `input`: an `http://` URL of a log on the log server, a directory
/// (a buffer), or a file of lines.
pub fn read(input: &str) -> Result<Lines, InputError> {
    if input.starts_with("http://") || input.starts_with("https://") {
        return read_url(input);
    }
    let path = Path::new(input);
    let meta = fs::metadata(path).map_err(|source| InputError::Read {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_dir() {
        read_buffer(path)
    } else {
        read_file(path)
    }
}

/// Opens a copy of the buffer directory `dir`, so the original is never
/// changed: opening a buffer recovers it, takes over the Go original's
/// files, and locks it.
pub fn read_buffer(dir: &Path) -> Result<Lines, InputError> {
    let read_error = |path: &Path| {
        let path = path.to_owned();
        move |source| InputError::Read { path, source }
    };
    let copy = tempfile::tempdir().map_err(read_error(&std::env::temp_dir()))?;
    let mut copied = 0;
    for entry in fs::read_dir(dir).map_err(read_error(dir))? {
        let entry = entry.map_err(read_error(dir))?;
        let name = entry.file_name();
        if name == LOCK_FILE || !entry.file_type().map_err(read_error(dir))?.is_file() {
            continue;
        }
        fs::copy(entry.path(), copy.path().join(&name)).map_err(read_error(&entry.path()))?;
        copied += 1;
    }
    let options = FileBufferOptions {
        cap_bytes: COPY_CAP_BYTES,
        ..FileBufferOptions::default()
    };
    let buffer_error = |e: sockstatlog::buffer::BufferError| InputError::Buffer {
        path: dir.to_owned(),
        reason: e.to_string(),
    };
    let buffer = FileBuffer::open(copy.path(), options).map_err(buffer_error)?;
    let lines = buffer.all_lines().map_err(buffer_error)?;
    let stats = buffer.stats();
    let mut notes = Vec::new();
    if copied == 0 {
        notes.push(format!("{} holds no buffer files", dir.display()));
    }
    if stats.corrupt_lines_skipped > 0 {
        notes.push(format!(
            "the buffer skipped {} damaged records (torn writes or corruption on the phone)",
            stats.corrupt_lines_skipped
        ));
    }
    Ok(Lines {
        lines: lines.into_iter().map(|l| l.text).collect(),
        source: format!("buffer directory {}", dir.display()),
        notes,
    })
}

/// A file of one JSON object per line (blank lines skipped), or one JSON array.
pub fn read_file(path: &Path) -> Result<Lines, InputError> {
    let text = fs::read_to_string(path).map_err(|source| InputError::Read {
        path: path.to_owned(),
        source,
    })?;
    let lines = if text.trim_start().starts_with('[') {
        split_array(&text).map_err(|reason| InputError::Array {
            path: path.to_owned(),
            reason,
        })?
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect()
    };
    Ok(Lines {
        lines,
        source: format!("file {}", path.display()),
        notes: Vec::new(),
    })
}

/// The entries of a JSON array, each as its exact text.
fn split_array(text: &str) -> Result<Vec<String>, String> {
    let entries: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(entries.into_iter().map(|e| e.get().to_owned()).collect())
}

/// `http://HOST:PORT/c/{collection}/{public_id}` (or the traffic view's
/// `/logs/...` address): the log's entries from the log server.
pub fn read_url(url: &str) -> Result<Lines, InputError> {
    let fail = |reason: String| InputError::Url {
        url: url.to_owned(),
        reason,
    };
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        fail("only plain http is supported (the development log server); for another server, export the lines to a file".into())
    })?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.split('?').next().unwrap_or("");
    let log = path
        .strip_prefix("c/")
        .or_else(|| path.strip_prefix("logs/"))
        .or_else(|| path.strip_prefix("api/logs/"))
        .filter(|log| log.split('/').count() == 2)
        .ok_or_else(|| fail("expected http://HOST:PORT/c/{collection}/{public_id}".into()))?;
    let body = get(host, &format!("/c/{log}")).map_err(fail)?;
    Ok(Lines {
        lines: split_array(&body)
            .map_err(|e| fail(format!("the answer is not a JSON array: {e}")))?,
        source: format!("log server http://{host}/c/{log}"),
        notes: Vec::new(),
    })
}

/// One HTTP/1.1 GET with `Connection: close`; the body of a 200 answer.
fn get(host: &str, path: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(host).map_err(|e| format!("cannot connect: {e}"))?;
    // A bound against a server that never answers, not a timing assumption.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(300)));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    let text = String::from_utf8(raw).map_err(|_| "the answer is not UTF-8".to_owned())?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("the answer has no body")?;
    let status = head.lines().next().unwrap_or("");
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("the server answered {status:?}: {}", body.trim()));
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Err("chunked answers are not supported (not the sockstatlog log server?)".into());
    }
    Ok(body.to_owned())
}
