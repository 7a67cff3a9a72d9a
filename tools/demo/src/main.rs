//! A simulated VPN session through sockstatlog, end to end.
//!
//! Starts the log server on loopback (or uses `--server URL`), runs a
//! synthetic counter source with traffic on several labels (a switch to
//! cellular and back, the logger's own uploads on label 11), enables logging,
//! goes "to the background" (flush) halfway and at the end, shuts down, and
//! prints a summary, checking that the server holds every event exactly, and
//! ends with the URL of the session's traffic view on the server. It exits 0
//! only if the server holds every line.
//!
//! Every line is also appended to a second buffer directory that is never
//! uploaded (`--buffer-copy`), standing in for a buffer copied off a phone:
//! `sockstatlog-report` reads it.
//!
//! `cargo run -p sockstatlog-demo -- [--seconds N] [--server URL] [--keep-serving] [--buffer-copy DIR]`

mod recording;
mod vpn;

use recording::RecordingBuffer;
use sockstatlog::upload::{LogtailUploader, UploaderConfig};
use sockstatlog::{FileBuffer, FileBufferOptions, Logger, Options, PublicId};
use sockstatlog_logserver::{Config, RunningServer, Server};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vpn::SimulatedVpn;

const NODE: &str = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d";
const COLLECTION: &str = "sockstats.log.tailscale.io";

struct Args {
    seconds: f64,
    server: Option<String>,
    keep_serving: bool,
    buffer_copy: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args {
        seconds: 4.0,
        server: None,
        keep_serving: false,
        buffer_copy: std::env::temp_dir().join("sockstatlog-demo-buffer"),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().ok_or("--seconds needs a number")?;
                parsed.seconds = value
                    .parse()
                    .map_err(|_| format!("--seconds: {value:?} is not a number"))?;
                if !(1.0..=3_600.0).contains(&parsed.seconds) {
                    return Err("--seconds must be between 1 and 3600".into());
                }
            }
            "--server" => {
                parsed.server = Some(args.next().ok_or("--server needs a URL")?);
            }
            "--keep-serving" => parsed.keep_serving = true,
            "--buffer-copy" => {
                parsed.buffer_copy = args.next().ok_or("--buffer-copy needs a directory")?.into();
            }
            "--help" | "-h" => {
                println!(
                    "usage: sockstatlog-demo [--seconds N] [--server URL] [--keep-serving] [--buffer-copy DIR]\n\
                     Without --server, a log server is started on 127.0.0.1 for the run;\n\
                     --keep-serving keeps it running after the summary (until Ctrl-C) so the\n\
                     traffic view can be opened. --buffer-copy DIR (default: $TMPDIR/sockstatlog-demo-buffer,\n\
                     replaced on each run) receives every line too and is never uploaded:\n\
                     a stand-in for a buffer copied off a phone, for sockstatlog-report.\n\
                     Exits 0 only if the server holds every line."
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok(parsed)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("sockstatlog-demo: {e}");
            std::process::exit(2);
        }
    };
    match run(args) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("sockstatlog-demo: {e}");
            std::process::exit(1);
        }
    }
}

/// What the server holds for our log, with the `logtail` member removed, or
/// why it cannot be read back.
fn server_lines(
    local: Option<&RunningServer>,
    base_url: &str,
    log_id: &str,
) -> Result<Vec<String>, String> {
    let entries = match local {
        Some(server) => server.entries(COLLECTION, log_id),
        None => fetch_entries(base_url, log_id)?,
    };
    entries
        .iter()
        .map(|e| strip_logtail(e).ok_or_else(|| format!("unexpected entry {e}")))
        .collect()
}

/// Reads a log back from a server given with --server (our log server's
/// read-back endpoint; plain http on loopback only).
fn fetch_entries(base_url: &str, log_id: &str) -> Result<Vec<String>, String> {
    let host = base_url
        .strip_prefix("http://")
        .ok_or("read-back works only with our log server over http on loopback")?
        .trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host).map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET /c/{COLLECTION}/{log_id} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no HTTP body")?;
    if !head.starts_with("HTTP/1.1 200") || head.to_ascii_lowercase().contains("chunked") {
        return Err(format!(
            "read-back failed: {}",
            head.lines().next().unwrap_or("")
        ));
    }
    let array: Vec<&str> = split_top_level(body.trim());
    Ok(array.into_iter().map(str::to_string).collect())
}

/// Splits a JSON array of objects into the objects' texts.
fn split_top_level(array: &str) -> Vec<&str> {
    let inner = array.trim_start_matches('[').trim_end_matches(']');
    let (mut out, mut depth, mut start, mut in_str, mut esc) = (Vec::new(), 0, 0, false, false);
    for (i, c) in inner.char_indices() {
        match (in_str, esc, c) {
            (true, true, _) => esc = false,
            (true, false, '\\') => esc = true,
            (true, false, '"') => in_str = false,
            (false, _, '"') => in_str = true,
            (false, _, '{') => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            (false, _, '}') => {
                depth -= 1;
                if depth == 0 {
                    out.push(&inner[start..=i]);
                }
            }
            _ => {}
        }
    }
    out
}

/// `{"logtail":{"client_time":"..."},REST` -> `{REST`.
fn strip_logtail(entry: &str) -> Option<String> {
    let rest = entry.strip_prefix(r#"{"logtail":{"client_time":""#)?;
    let (_, rest) = rest.split_once("\"}")?;
    Some(match rest.strip_prefix(',') {
        Some(rest) => format!("{{{rest}"),
        None => format!("{{{}", rest.trim_start_matches('}')),
    })
}

fn run(args: Args) -> Result<bool, Box<dyn std::error::Error>> {
    let local = match &args.server {
        Some(_) => None,
        None => Some(Server::start(Config::in_memory())?),
    };
    let base_url = match (&args.server, &local) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) => server.base_url(),
        (None, None) => unreachable!("a server is started when none is given"),
    };
    let dir = std::env::temp_dir().join(format!("sockstatlog-demo-{}", std::process::id()));
    let node: PublicId = NODE.parse()?;
    // A fresh copy each run; a missing one is fine.
    let _ = std::fs::remove_dir_all(&args.buffer_copy);
    let copy = FileBuffer::open(&args.buffer_copy, FileBufferOptions::default())?;
    let buffer = Arc::new(RecordingBuffer::new(
        FileBuffer::open(&dir, FileBufferOptions::default())?,
        copy,
    ));
    let mut upload = UploaderConfig::with_default_transport(node.sockstat_private_id());
    upload.base_url = base_url.clone();
    upload.collection = COLLECTION.to_string();
    let vpn = Arc::new(SimulatedVpn::default());
    let source = vpn.clone();
    let logger = Logger::new(
        &dir,
        node,
        Arc::new(move || source.snapshot()),
        Options {
            batch_period: Duration::from_secs(1),
            buffer: Some(buffer.clone()),
            uploader: Some(Arc::new(LogtailUploader::new(upload)?)),
            ..Options::default()
        },
    )?;
    let log_id = logger.log_id().to_string();
    println!("log server {base_url}, log {log_id}");
    println!(
        "simulating {:.0} s of VPN traffic (Wi-Fi, then cellular, then Wi-Fi)",
        args.seconds
    );

    logger.set_logging_enabled(true)?;
    let length = Duration::from_secs_f64(args.seconds);
    let start = Instant::now();
    let mut reports = Vec::new();
    let mut flushed_midway = false;
    while start.elapsed() < length {
        let part = start.elapsed().as_secs_f64() / length.as_secs_f64();
        vpn.cellular
            .store((0.33..0.66).contains(&part), Ordering::SeqCst);
        if part >= 0.5 && !flushed_midway {
            // The app goes to the background for a moment: upload. The
            // upload's own traffic shows up on label 11 in later events.
            logger.write(r#"{"demo":"app backgrounded: flush"}"#)?;
            let report = logger.flush(Duration::from_secs(10))?;
            vpn.own_upload(report.bytes_sent);
            reports.push(report);
            flushed_midway = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    logger.write(r#"{"demo":"session over: flush and shut down"}"#)?;
    logger.set_logging_enabled(false)?;
    let last = logger.flush(Duration::from_secs(10))?;
    reports.push(last.clone());
    logger.shutdown(Duration::from_secs(5))?;

    let stats = logger.stats();
    let sent: Vec<String> = buffer.appended();
    let on_server = server_lines(local.as_ref(), &base_url, &log_id);
    let _ = std::fs::remove_dir_all(&dir);

    let batches: u64 = reports.iter().map(|r| r.batches_sent).sum();
    let wire: u64 = reports.iter().map(|r| r.bytes_sent).sum();
    let json: u64 = reports.iter().map(|r| r.bytes_uncompressed).sum();
    let line_bytes: usize = sent.iter().map(String::len).sum();
    let own = sent.iter().filter(|l| l.contains("\"11\":[")).count();
    println!();
    for line in sent.iter().filter(|l| l.contains("\"c\":1")).take(1) {
        println!("a cellular event:      {line}");
    }
    for line in sent.iter().filter(|l| l.contains("\"11\":[")).take(1) {
        println!("an own-upload event:   {line}");
    }
    println!();
    println!("polls                  {}", stats.polls);
    println!("events                 {}", stats.events);
    println!("lines buffered         {} ({line_bytes} bytes)", sent.len());
    println!("events with label 11   {own}");
    println!("flushes                {}", reports.len());
    println!("batches uploaded       {batches}");
    println!("bytes of JSON          {json}");
    println!("bytes on the wire      {wire}");
    println!(
        "compression ratio      {:.1}x",
        json as f64 / wire.max(1) as f64
    );
    println!(
        "skipped polls          {}",
        stats.source_errors + stats.source_too_slow
    );
    println!("dropped lines          {}", stats.dropped_lines);
    println!("left in the buffer     {}", last.lines_still_buffered);
    if let Some(error) = reports.iter().rev().find_map(|r| r.last_error.as_ref()) {
        println!("last upload error      {error}");
    }
    let ok = match on_server {
        Ok(lines) if lines == sent => {
            println!(
                "server holds every line exactly, in order: yes ({} lines)",
                lines.len()
            );
            true
        }
        Ok(lines) => {
            let missing = sent.iter().filter(|l| !lines.contains(l)).count();
            println!(
                "server holds every line exactly, in order: NO (server {}, logged {}, missing {missing})",
                lines.len(),
                sent.len()
            );
            false
        }
        Err(e) => {
            println!("server holds every line exactly: cannot tell ({e})");
            false
        }
    };
    println!();
    println!(
        "the session's lines as a phone's buffer directory: {}",
        args.buffer_copy.display()
    );
    println!(
        "  report: cargo run -p sockstatlog-report -- {} --out report.html",
        args.buffer_copy.display()
    );
    let page = format!("{base_url}/logs/{COLLECTION}/{log_id}");
    match (&local, args.keep_serving) {
        (Some(_), false) => {
            println!("(the demo's server stops now; run with --keep-serving to open the page)")
        }
        (Some(_), true) => println!("the server keeps running until interrupted (Ctrl-C)"),
        (None, _) => {}
    }
    println!("traffic view of this session: {page}");
    let _ = std::io::stdout().flush();
    if let (Some(server), true) = (local, args.keep_serving) {
        server.wait();
    }
    Ok(ok && last.complete)
}
