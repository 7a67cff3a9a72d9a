//! What an upload costs: zstd ratio and memory for a full 5 MiB buffer of
//! realistic event lines, and how the zstd settings compare.
//!
//! ```sh
//! cargo run --release -p sockstatlog-perf --bin upload_cost
//! ```
//!
//! Memory is counted two ways: the counting global allocator of
//! `sockstatlog_perf::alloc` sees every Rust
//! allocation (lines, bodies, compressed output); zstd's C library allocates
//! with malloc, so its context is reported with `ZSTD_sizeof_CCtx`. For the
//! process as a whole, run it under `/usr/bin/time -v` (max RSS).

use sockstatlog::buffer::MemoryBuffer;
use sockstatlog::upload::body::{self, LogtailMember, MAX_BODY_BYTES};
use sockstatlog::upload::compress::{self, Compressor};
use sockstatlog::upload::{
    HttpRequest, HttpResponse, HttpTransport, LogtailUploader, TransportError, UploaderConfig,
};
use sockstatlog::{LogBuffer, PrivateId, Uploader};
use sockstatlog_perf::alloc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Event lines like a phone's (one to four labels, sometimes cellular),
/// `bytes` of text in all.
fn event_lines(bytes: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut total = 0;
    while total < bytes {
        let start = 1_764_373_555_000 + 100 * lines.len() as i64;
        for line in sockstatlog_e2e::event_lines(1_000, start) {
            if total >= bytes {
                break;
            }
            total += line.len();
            lines.push(line);
        }
    }
    lines
}

/// Accepts everything and counts what it was sent.
#[derive(Default)]
struct Sink {
    bytes: AtomicU64,
}

impl HttpTransport for Sink {
    fn post(&self, request: &HttpRequest, _: Duration) -> Result<HttpResponse, TransportError> {
        self.bytes
            .fetch_add(request.body.len() as u64, Ordering::Relaxed);
        Ok(HttpResponse {
            status: 200,
            ..HttpResponse::default()
        })
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    const BUFFER_BYTES: usize = 5 * 1024 * 1024;
    let lines = event_lines(BUFFER_BYTES - 200);
    let text: usize = lines.iter().map(String::len).sum();

    // 1. A whole flush of a full 5 MiB buffer, as the uploader does it.
    let buffer = MemoryBuffer::new(BUFFER_BYTES as u64);
    buffer.append(&lines).unwrap();
    let sink = Arc::new(Sink::default());
    let uploader = LogtailUploader::new(UploaderConfig {
        base_url: "http://127.0.0.1:1".into(),
        ..UploaderConfig::new(PrivateId::from_bytes([1; 32]), sink.clone())
    })
    .unwrap();
    drop(lines);
    let before = alloc::current();
    alloc::reset_peak();
    let started = Instant::now();
    let report = uploader.upload(&buffer, Instant::now() + Duration::from_secs(600));
    let took = started.elapsed();
    let peak = alloc::peak() - before;
    assert!(report.complete && buffer.stats().lines == 0);
    println!(
        "full buffer: {} lines, {:.2} MiB of text",
        report.lines_sent,
        mib(text)
    );
    println!(
        "  {} bodies, {:.2} MiB JSON -> {:.2} MiB on the wire: ratio {:.1}x, {:?} (CPU, no network)",
        report.batches_sent,
        mib(report.bytes_uncompressed as usize),
        mib(report.bytes_sent as usize),
        report.bytes_uncompressed as f64 / report.bytes_sent as f64,
        took
    );
    println!(
        "  peak Rust heap during the flush, above the buffer itself: {:.2} MiB",
        mib(peak)
    );

    // 2. zstd settings on the same 256 KiB bodies.
    let lines = event_lines(BUFFER_BYTES - 200);
    let member = LogtailMember::new(SystemTime::now());
    let mut bodies = Vec::new();
    let mut rest: &[String] = &lines;
    while !rest.is_empty() {
        let b = body::build(rest.iter().map(String::as_str), &member, MAX_BODY_BYTES);
        rest = &rest[b.lines..];
        bodies.push(b.json);
    }
    let json: usize = bodies.iter().map(Vec::len).sum();
    let mut ours = Compressor::new();
    let started = Instant::now();
    let sent: usize = bodies
        .iter()
        .map(|b| ours.encode(b.clone()).body.len())
        .sum();
    let ours_time = started.elapsed();
    println!(
        "\nlibrary settings (level {}, window 2^{}, hash 2^{}): context {:.0} KiB, ratio {:.2}x, {:?}",
        compress::LEVEL,
        compress::WINDOW_LOG,
        compress::HASH_LOG,
        ours.context_bytes() as f64 / 1024.0,
        json as f64 / sent as f64,
        ours_time
    );
    println!("\nlevel window  context KiB  ratio   time");
    use zstd::zstd_safe::CParameter;
    for level in [-5, -1, 1, 3] {
        for window in [None, Some(13), Some(15), Some(16), Some(17)] {
            let mut c = zstd::bulk::Compressor::new(level).unwrap();
            if let Some(w) = window {
                c.set_parameter(CParameter::WindowLog(w)).unwrap();
            }
            let started = Instant::now();
            let size: usize = bodies.iter().map(|b| c.compress(b).unwrap().len()).sum();
            let time = started.elapsed();
            println!(
                "{level:>5} {:>6} {:>12.0} {:>6.2}x {:>6.1?}",
                window.map_or("auto".to_string(), |w| w.to_string()),
                c.context_mut().sizeof() as f64 / 1024.0,
                json as f64 / size as f64,
                time
            );
        }
    }
}
