//! Measures the traffic view at the scale of a day: 864,000 events of 13
//! busy labels (one every 100 ms, all labels changing, cellular a third of
//! the time, the logger off for an hour). Prints `key=value` lines for
//! `scripts/perf-report`:
//!
//! - the log server's page and JSON for the whole day: bytes and the time
//!   from request to last byte (median of 3, server already warm);
//! - `sockstatlog-report` over the same day as a file of exported lines:
//!   wall time of the whole run (read, aggregate, write HTML).
//!
//! `traffic-perf --report-bin PATH [--html-out FILE]`: `--html-out` keeps the
//! page for a browser to measure its rendering.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use sockstatlog_logserver::store::Store;
use sockstatlog_logserver::{Config, Server, Storage};

const EVENTS: i64 = 864_000;
const T0: i64 = 1_700_000_000_000;
const COLLECTION: &str = "sockstats.perf";

/// The day's event lines, as the server stores them (with `logtail`).
fn day() -> Vec<String> {
    let mut lines = Vec::with_capacity(EVENTS as usize);
    for i in 0..EVENTS {
        let at = i * 100;
        // The logger is off from 10:00 to 11:00.
        if (36_000_000..39_600_000).contains(&at) {
            continue;
        }
        let cellular = (at / 3_600_000) % 3 == 1;
        let mut line = format!(
            r#"{{"logtail":{{"client_time":"2023-11-14T22:13:20.000000000Z"}},"t":{},"d":100,{}"s":{{"#,
            T0 + at,
            if cellular { r#""c":1,"# } else { "" }
        );
        for label in [0, 1, 10, 11, 12, 2, 3, 4, 5, 6, 7, 8, 9] {
            let tx = 40 + (i * 7 + label * 13) % 1400;
            let rx = 100 + (i * 11 + label * 29) % 9000;
            line.push_str(&format!(r#""{label}":[{tx},{rx}],"#));
        }
        line.pop();
        line.push_str("}}");
        lines.push(line);
    }
    lines
}

fn get(addr: std::net::SocketAddr, path: &str) -> (Duration, usize) {
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let elapsed = start.elapsed();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    assert!(
        raw.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&raw[..split])
    );
    (elapsed, raw.len() - split)
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut report_bin, mut html_out) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--report-bin" => report_bin = args.next().map(PathBuf::from),
            "--html-out" => html_out = args.next().map(PathBuf::from),
            other => panic!(
                "unknown argument {other}; usage: traffic-perf --report-bin PATH [--html-out FILE]"
            ),
        }
    }
    let report_bin = report_bin.expect("--report-bin PATH is required");
    let dir = tempfile::tempdir().expect("temporary directory");
    let lines = day();
    println!("events={}", lines.len());
    let line_bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    println!("lines_file_bytes={line_bytes}");

    let db = dir.path().join("day.sqlite3");
    let id = "ab".repeat(32);
    Store::open(&Storage::Sqlite(db.clone()))
        .expect("store")
        .append(COLLECTION, &id, &lines)
        .expect("append");
    let server = Server::start(Config {
        log_requests: false,
        ..Config::sqlite(db)
    })
    .expect("server");
    let page = format!("/logs/{COLLECTION}/{id}");
    let json = format!("/api/logs/{COLLECTION}/{id}");
    get(server.addr(), &page);
    let runs: Vec<(Duration, usize)> = (0..3).map(|_| get(server.addr(), &page)).collect();
    println!("page_bytes={}", runs[0].1);
    println!(
        "page_ms={}",
        median(runs.iter().map(|r| r.0).collect()).as_millis()
    );
    let runs: Vec<(Duration, usize)> = (0..3).map(|_| get(server.addr(), &json)).collect();
    println!("json_bytes={}", runs[0].1);
    println!(
        "json_ms={}",
        median(runs.iter().map(|r| r.0).collect()).as_millis()
    );
    let zoom = format!("{page}?from={}&to={}", T0 + 43_200_000, T0 + 43_260_000);
    let (elapsed, bytes) = get(server.addr(), &zoom);
    println!("zoomed_minute_page_bytes={bytes}");
    println!("zoomed_minute_page_ms={}", elapsed.as_millis());
    if let Some(path) = html_out {
        let mut stream = TcpStream::connect(server.addr()).expect("connect");
        write!(
            stream,
            "GET {page} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).expect("read");
        let body = raw.split_once("\r\n\r\n").expect("body").1;
        std::fs::write(path, body).expect("write the page");
    }
    server.shutdown();

    let file = dir.path().join("day.jsonl");
    std::fs::write(&file, lines.join("\n")).expect("write lines");
    drop(lines);
    let out = dir.path().join("day.html");
    let start = Instant::now();
    let status = Command::new(&report_bin)
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run the report");
    let elapsed = start.elapsed();
    assert!(status.success(), "report failed");
    println!("report_ms={}", elapsed.as_millis());
    println!(
        "report_html_bytes={}",
        std::fs::metadata(&out).expect("report").len()
    );
}
