//! Measurement harnesses behind `docs/PERFORMANCE.md`. Each subcommand runs
//! one measurement and prints its figures as `key=value` lines on stdout;
//! `scripts/perf-report` runs them all and writes the report.
//!
//! - `memory --server-bin PATH`: a simulated one-hour session (manual clock,
//!   13 busy labels, 10 s batches, a flush every 10 minutes to a log server
//!   in a child process) under a counting allocator: peak heap, heap at each
//!   minute, peak RSS, and bytes written to disk.
//! - `wakeups`: wakeups per second of the library's threads, enabled and
//!   disabled, counted by the kernel (voluntary context switches).
//! - `upload --server-bin PATH`: a full 5 MiB buffer flushed to the server:
//!   compression ratio, throughput, bytes on the wire per event.

use sockstatlog_perf::{alloc, server, source};

use sockstatlog::upload::{LogtailUploader, UploaderConfig};
use sockstatlog::{
    FileBuffer, FileBufferOptions, LogBuffer, Logger, ManualClock, Options, PublicId,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NODE: &str = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d";
const MINUTE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let server_bin = args
        .iter()
        .position(|a| a == "--server-bin")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let result = match (args.first().map(String::as_str), server_bin) {
        (Some("memory"), Some(bin)) => memory(&bin),
        (Some("upload"), Some(bin)) => upload(&bin),
        (Some("wakeups"), _) => wakeups(),
        _ => Err("usage: sockstatlog-perf memory|upload --server-bin PATH | wakeups".into()),
    };
    if let Err(e) = result {
        eprintln!("sockstatlog-perf: {e}");
        std::process::exit(1);
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn uploader(base_url: &str, node: PublicId) -> Result<Arc<LogtailUploader>> {
    let mut config = UploaderConfig::with_default_transport(node.sockstat_private_id());
    config.base_url = base_url.to_string();
    Ok(Arc::new(LogtailUploader::new(config)?))
}

/// Waits (spinning politely) until `cond` holds; fails after 60 s.
fn wait_for(what: &str, cond: impl Fn() -> bool) -> Result<()> {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > Duration::from_secs(60) {
            return Err(format!("timed out waiting for {what}").into());
        }
        std::thread::yield_now();
    }
    Ok(())
}

/// Bytes this process has caused to be written to storage so far.
fn storage_write_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("write_bytes: ")?.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Peak resident set size of this process, in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmHWM:")?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

fn memory(server_bin: &std::path::Path) -> Result<()> {
    let server = server::LogServer::start(server_bin)?;
    let node: PublicId = NODE.parse()?;
    let dir = std::env::temp_dir().join(format!("sockstatlog-perf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let source = Arc::new(source::BusyLabels::new(13));
    let s = source.clone();
    let logger = Logger::new(
        &dir,
        node,
        Arc::new(move || s.snapshot()),
        Options {
            clock: clock.clone(),
            source_timeout: Some(Duration::from_secs(3_600)),
            uploader: Some(uploader(&server.base_url, node)?),
            ..Options::default()
        },
    )?;
    let writes_before = storage_write_bytes();
    let heap_start = alloc::current();
    alloc::reset_peak();
    logger.set_logging_enabled(true)?;
    wait_for("the baseline", || logger.stats().polls == 1)?;
    let mut heap_by_minute = Vec::new();
    let mut peak_after_10 = 0;
    let mut flushes = 0;
    let started = Instant::now();
    for minute in 1..=60u32 {
        for _ in 0..(MINUTE.as_millis() / POLL.as_millis()) {
            let polls = logger.stats().polls;
            clock.advance(POLL);
            wait_for("a poll", || logger.stats().polls > polls)?;
        }
        if minute % 10 == 0 {
            let report = logger.flush(Duration::from_secs(60))?;
            if !report.complete {
                return Err(format!("flush at minute {minute} incomplete: {report:?}").into());
            }
            flushes += 1;
        }
        heap_by_minute.push(alloc::current());
        if minute == 10 {
            alloc::reset_peak();
        }
        if minute > 10 {
            peak_after_10 = peak_after_10.max(alloc::peak());
        }
    }
    let peak_first_10 = heap_by_minute[..10].iter().copied().max().unwrap_or(0);
    let stats = logger.stats();
    logger.shutdown(Duration::from_secs(10))?;
    let stored = server.entries_stored()?;
    let _ = std::fs::remove_dir_all(&dir);
    println!("simulated_minutes=60");
    println!("wall_seconds={:.1}", started.elapsed().as_secs_f64());
    println!("polls={}", stats.polls);
    println!("events={}", stats.events);
    println!("flushes={flushes}");
    println!("events_on_server={stored}");
    println!("heap_start_bytes={heap_start}");
    println!(
        "peak_heap_bytes={}",
        alloc::overall_peak().saturating_sub(heap_start)
    );
    println!(
        "peak_heap_first_10_min_bytes={}",
        peak_first_10.saturating_sub(heap_start)
    );
    println!(
        "peak_heap_min_10_to_60_bytes={}",
        peak_after_10.saturating_sub(heap_start)
    );
    println!(
        "heap_min_10_bytes={}",
        heap_by_minute[9].saturating_sub(heap_start)
    );
    println!(
        "heap_min_60_bytes={}",
        heap_by_minute[59].saturating_sub(heap_start)
    );
    println!("peak_rss_kib={}", peak_rss_kib());
    println!(
        "disk_write_bytes_per_hour={}",
        storage_write_bytes() - writes_before
    );
    Ok(())
}

/// Voluntary context switches (sleeps followed by wakeups) of the library's
/// threads: every thread of this process named `sockstatlog...` except the
/// main thread (this program's own, named after the binary).
fn library_wakeups() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| {
            let path = t.ok()?.path();
            if path.file_name()?.to_str()? == std::process::id().to_string() {
                return None;
            }
            let name = std::fs::read_to_string(path.join("comm")).ok()?;
            if !name.trim().starts_with("sockstatlog") {
                return None;
            }
            let status = std::fs::read_to_string(path.join("status")).ok()?;
            status.lines().find_map(|l| {
                l.strip_prefix("voluntary_ctxt_switches:")?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
        })
        .sum()
}

fn wakeups() -> Result<()> {
    const SECONDS: u64 = 10;
    let node: PublicId = NODE.parse()?;
    let dir = std::env::temp_dir().join(format!("sockstatlog-perf-w-{}", std::process::id()));
    let source = Arc::new(source::BusyLabels::new(13));
    let s = source.clone();
    let logger = Logger::new(
        &dir,
        node,
        Arc::new(move || s.snapshot()),
        Options::default(),
    )?;
    logger.set_logging_enabled(true)?;
    std::thread::sleep(Duration::from_millis(500));
    let before = library_wakeups();
    let (loop_before, polls_before) = (logger.stats().worker_wakeups, logger.stats().polls);
    std::thread::sleep(Duration::from_secs(SECONDS));
    let enabled = library_wakeups() - before;
    let loop_enabled = logger.stats().worker_wakeups - loop_before;
    let polls = logger.stats().polls - polls_before;
    logger.set_logging_enabled(false)?;
    logger.flush(Duration::from_secs(5))?;
    std::thread::sleep(Duration::from_millis(2_000));
    let before = library_wakeups();
    let loop_before = logger.stats().worker_wakeups;
    std::thread::sleep(Duration::from_secs(SECONDS));
    let disabled = library_wakeups() - before;
    let loop_disabled = logger.stats().worker_wakeups - loop_before;
    logger.shutdown(Duration::from_secs(5))?;
    let _ = std::fs::remove_dir_all(&dir);
    println!("seconds={SECONDS}");
    println!(
        "wakeups_per_second_enabled={:.1}",
        enabled as f64 / SECONDS as f64
    );
    println!(
        "wakeups_per_second_disabled={:.1}",
        disabled as f64 / SECONDS as f64
    );
    println!("worker_loop_wakeups_disabled={loop_disabled}");
    println!(
        "worker_loop_wakeups_per_second_enabled={:.1}",
        loop_enabled as f64 / SECONDS as f64
    );
    println!(
        "worker_loop_wakeups_per_poll_enabled={:.2}",
        loop_enabled as f64 / polls.max(1) as f64
    );
    Ok(())
}

fn upload(server_bin: &std::path::Path) -> Result<()> {
    const CAP: u64 = 5 * 1024 * 1024;
    let server = server::LogServer::start(server_bin)?;
    let node: PublicId = NODE.parse()?;
    let dir = std::env::temp_dir().join(format!("sockstatlog-perf-u-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let buffer = FileBuffer::open(
        &dir,
        FileBufferOptions {
            cap_bytes: CAP,
            ..FileBufferOptions::default()
        },
    )?;
    // Fill the buffer to its cap with the events of a busy 13-label session.
    let lines = source::event_lines(13, CAP);
    for batch in lines.chunks(100) {
        buffer.append(batch)?;
    }
    let events = buffer.stats().lines;
    let text_bytes = buffer.stats().bytes;
    let uploader = uploader(&server.base_url, node)?;
    alloc::reset_peak();
    let heap_before = alloc::current();
    let started = Instant::now();
    let report = sockstatlog::Uploader::upload(
        uploader.as_ref(),
        &buffer,
        Instant::now() + Duration::from_secs(120),
    );
    let took = started.elapsed();
    let peak = alloc::peak().saturating_sub(heap_before);
    let stored = server.entries_stored()?;
    let _ = std::fs::remove_dir_all(&dir);
    if !report.complete {
        return Err(format!("upload incomplete: {report:?}").into());
    }
    println!("events={events}");
    println!("events_on_server={stored}");
    println!("buffer_text_bytes={text_bytes}");
    println!("body_bytes_uncompressed={}", report.bytes_uncompressed);
    println!("bytes_on_wire={}", report.bytes_sent);
    println!("requests={}", report.requests);
    println!(
        "compression_ratio={:.2}",
        report.bytes_uncompressed as f64 / report.bytes_sent.max(1) as f64
    );
    println!(
        "wire_bytes_per_event={:.1}",
        report.bytes_sent as f64 / events.max(1) as f64
    );
    println!("seconds={:.3}", took.as_secs_f64());
    println!(
        "throughput_mib_per_second={:.1}",
        report.bytes_uncompressed as f64 / (1024.0 * 1024.0) / took.as_secs_f64()
    );
    println!("peak_heap_during_flush_bytes={peak}");
    Ok(())
}
