//! A simulated VPN session through sockstatlog: a synthetic counter source
//! with traffic on several labels, a switch to cellular and back, then
//! disable, flush and shutdown. Prints every event line it produced.
//!
//! `cargo run -p sockstatlog-demo -- --seconds 3`

use sockstatlog::{
    Counters, Label, LogBuffer, Logger, MemoryBuffer, Options, PublicId, Snapshot, SourceError,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A synthetic platform: every call advances traffic by one poll's worth.
struct SimulatedVpn {
    counters: Mutex<BTreeMap<Label, Counters>>,
    calls: AtomicU64,
    cellular: AtomicBool,
}

impl SimulatedVpn {
    fn new() -> Self {
        SimulatedVpn {
            counters: Mutex::new(BTreeMap::new()),
            calls: AtomicU64::new(0),
            cellular: AtomicBool::new(false),
        }
    }

    fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let mut add = |label: Label, tx: u64, rx: u64| {
            let c = counters.entry(label).or_default();
            c.tx += tx;
            c.rx += rx;
        };
        // Steady data-path traffic on IPv4, bursts on IPv6.
        add(Label::MAGICSOCK_CONN_UDP4, 1_500, 4_000 + 37 * (n % 11));
        if n % 7 < 2 {
            add(Label::MAGICSOCK_CONN_UDP6, 1_280, 9_000);
        }
        // A DNS query every half second, a DERP keepalive every second.
        if n.is_multiple_of(5) {
            add(Label::DNS_FORWARDER_UDP, 64, 180);
        }
        if n.is_multiple_of(10) {
            add(Label::DERP_HTTP_CLIENT, 40, 40);
        }
        // Control-plane long poll: a map response now and then.
        if n.is_multiple_of(23) {
            add(Label::CONTROL_CLIENT_AUTO, 300, 12_000);
        }
        drop(counters);
        Snapshot::new(
            self.cellular.load(Ordering::SeqCst),
            self.counters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(l, c)| (*l, *c)),
        )
        .map_err(|e| SourceError(e.to_string()))
    }
}

fn parse_seconds() -> Result<f64, String> {
    let mut args = std::env::args().skip(1);
    let mut seconds = 3.0;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().ok_or("--seconds needs a number")?;
                seconds = value
                    .parse()
                    .map_err(|_| format!("--seconds: {value:?} is not a number"))?;
                if !(0.5..=3_600.0).contains(&seconds) {
                    return Err("--seconds must be between 0.5 and 3600".into());
                }
            }
            "--help" | "-h" => {
                println!("usage: sockstatlog-demo [--seconds N]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok(seconds)
}

fn main() {
    let seconds = match parse_seconds() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sockstatlog-demo: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(Duration::from_secs_f64(seconds)) {
        eprintln!("sockstatlog-demo: {e}");
        std::process::exit(1);
    }
}

fn run(length: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("sockstatlog-demo-{}", std::process::id()));
    let vpn = Arc::new(SimulatedVpn::new());
    let buffer = Arc::new(MemoryBuffer::default());
    let node: PublicId =
        "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d".parse()?;
    let source = vpn.clone();
    let logger = Logger::new(
        &dir,
        node,
        Arc::new(move || source.snapshot()),
        Options {
            batch_period: Duration::from_secs(1),
            buffer: Some(buffer.clone()),
            ..Options::default()
        },
    )?;
    println!("log ID {}", logger.log_id());
    logger.set_logging_enabled(true)?;
    let start = Instant::now();
    while start.elapsed() < length {
        let third = start.elapsed().as_secs_f64() / length.as_secs_f64();
        vpn.cellular
            .store((0.33..0.66).contains(&third), Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
    }
    logger.write(r#"{"demo":"going to the background"}"#)?;
    logger.set_logging_enabled(false)?;
    let report = logger.flush(Duration::from_secs(5))?;
    logger.shutdown(Duration::from_secs(5))?;

    let lines = buffer.read(None, usize::MAX)?;
    for line in &lines {
        println!("{}", line.text);
    }
    let stats = logger.stats();
    println!(
        "summary: {} polls, {} events, {} lines buffered ({} bytes), {} skipped polls, {} dropped lines, {} lines still to upload",
        stats.polls,
        stats.events,
        stats.buffer.lines,
        stats.buffer.bytes,
        stats.source_errors + stats.source_too_slow,
        stats.dropped_lines,
        report.lines_still_buffered,
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
