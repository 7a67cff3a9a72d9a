//! Two processes flushing one log directory while a third appends to it (an
//! app and its extension sharing an app-group container): the upload claim
//! lets one upload at a time, so the server gets every line exactly once.
//!
//! The test binary runs itself as the three children. They run for
//! `SOCKSTATLOG_TWO_UPLOADERS_SECS` seconds (default 30).

use sockstatlog::buffer::{FileBuffer, FileBufferOptions};
use sockstatlog::upload::{ReqwestTransport, RetryPolicy};
use sockstatlog::{LogUploader, Logger, Options};
use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, Server};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROLE: &str = "SOCKSTATLOG_E2E_ROLE";
const DIR: &str = "SOCKSTATLOG_E2E_DIR";
const URL: &str = "SOCKSTATLOG_E2E_URL";
const SECS: &str = "SOCKSTATLOG_TWO_UPLOADERS_SECS";
/// Large enough that nothing is evicted: every appended line must arrive.
const CAP_BYTES: u64 = 64 << 20;

fn run_for() -> Duration {
    let secs = std::env::var(SECS)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    Duration::from_secs(secs)
}

fn buffer_options() -> FileBufferOptions {
    FileBufferOptions {
        cap_bytes: CAP_BYTES,
        fsync: false,
        ..FileBufferOptions::default()
    }
}

fn log_uploader(dir: &Path, url: &str) -> LogUploader {
    let uploader = uploader(
        url,
        Arc::new(ReqwestTransport::new()),
        RetryPolicy::default(),
        64 * 1024,
    );
    LogUploader::open(dir, node(), uploader, CAP_BYTES).unwrap()
}

fn line(seq: u64) -> String {
    format!(
        "{{\"seq\":{seq},\"pad\":\"{}\"}}",
        "x".repeat((seq % 200) as usize)
    )
}

/// A child: appends numbered lines, or flushes in a loop, for `run_for()`;
/// prints what it did on one line of stdout.
#[test]
#[ignore = "run by two_processes_flushing_while_a_third_appends_upload_every_line_once"]
fn two_uploaders_child() {
    let (Ok(role), Ok(dir), Ok(url)) =
        (std::env::var(ROLE), std::env::var(DIR), std::env::var(URL))
    else {
        return;
    };
    let dir = Path::new(&dir);
    let until = Instant::now() + run_for();
    match role.as_str() {
        "appender" => {
            let buffer = Arc::new(FileBuffer::open(dir, buffer_options()).unwrap());
            let logger = Logger::new(
                dir,
                node(),
                idle_source(),
                Options {
                    buffer: Some(buffer),
                    ..Options::default()
                },
            )
            .unwrap();
            let mut seq = 0;
            while Instant::now() < until {
                logger.write(&line(seq)).unwrap();
                seq += 1;
            }
            logger.shutdown(Duration::from_secs(10)).unwrap();
            println!("appended={seq}");
        }
        _ => {
            let handle = log_uploader(dir, &url);
            let (mut flushes, mut refused, mut sent) = (0u64, 0u64, 0u64);
            while Instant::now() < until {
                let report = handle.flush(Duration::from_secs(5)).unwrap();
                flushes += 1;
                refused += report.other_uploader_active as u64;
                sent += report.lines_sent;
            }
            println!("flushes={flushes} refused={refused} sent={sent}");
        }
    }
}

/// The `key=value` pairs a child printed.
fn report(output: std::process::Output) -> BTreeMap<String, u64> {
    assert!(output.status.success(), "a child failed: {output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains('='))
        .unwrap_or_else(|| panic!("no report in {text:?}"));
    line.split_whitespace()
        .filter(|word| word.contains('='))
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn two_processes_flushing_while_a_third_appends_upload_every_line_once() {
    let server = Server::start(Config::in_memory()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["appender", "flusher", "flusher"]
        .into_iter()
        .map(|role| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "two_uploaders_child",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(ROLE, role)
                .env(DIR, dir.path())
                .env(URL, server.base_url())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let reports: Vec<_> = children
        .into_iter()
        .map(|c| report(c.wait_with_output().unwrap()))
        .collect();
    let appended = reports[0]["appended"];
    let flushes: u64 = reports[1..].iter().map(|r| r["flushes"]).sum();
    let refused: u64 = reports[1..].iter().map(|r| r["refused"]).sum();
    let sent_by_children: u64 = reports[1..].iter().map(|r| r["sent"]).sum();

    // What the children left (lines appended after their last flush).
    let last = log_uploader(dir.path(), &server.base_url())
        .flush(Duration::from_secs(30))
        .unwrap();
    assert!(last.complete, "{last:?}");

    let mut seen = vec![0u32; appended as usize];
    for entry in server.entries(COLLECTION, &log_id()) {
        let text = strip_member(&entry).unwrap();
        let seq: usize = text
            .strip_prefix("{\"seq\":")
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("not a line of the appender: {text}"));
        seen[seq] += 1;
    }
    let lost = seen.iter().filter(|&&n| n == 0).count();
    let twice = seen.iter().filter(|&&n| n > 1).count();
    println!(
        "{appended} lines appended; {flushes} flushes by the two uploaders, {refused} refused \
         (other uploader active), {sent_by_children} lines sent by them, {} by the last flush; \
         {lost} lost, {twice} uploaded more than once",
        last.lines_sent
    );
    assert_eq!((lost, twice), (0, 0), "lines lost, lines uploaded twice");
    assert!(appended > 0);
    assert!(sent_by_children > 0, "the children uploaded nothing");
    assert!(refused > 0, "no flush ever met the other uploader");
}
