//! Measurements, not assertions: the cost of one `append` of a 10 s batch and
//! the bytes written per hour. Run with
//! `cargo test --release --test buffer_cost -- --ignored --nocapture`.

use sockstatlog::buffer::{FileBuffer, FileBufferOptions, LogBuffer};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::time::Instant;

/// An event line with 13 busy labels, like the poller writes every 100 ms.
fn event(i: u64) -> String {
    let mut labels: Vec<String> = (0..13).map(|l: u64| l.to_string()).collect();
    labels.sort(); // Keys sort as strings, as Go's encoder does.
    let entries: Vec<String> = labels
        .iter()
        .map(|l| {
            let n: u64 = l.parse().unwrap();
            format!(
                "\"{l}\":[{},{}]",
                1_000_000_000 + i * 1_237 + n,
                2_000_000_000 + i * 7_919 + n
            )
        })
        .collect();
    format!(
        "{{\"t\":{},\"d\":100,\"c\":1,\"s\":{{{}}}}}",
        1_760_000_000_000u64 + i * 100,
        entries.join(",")
    )
}

fn batch(n: u64) -> Vec<String> {
    (0..100).map(|i| event(n * 100 + i)).collect()
}

/// (bytes handed to write(2), bytes sent to the storage layer) so far.
fn process_io() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/self/io").ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok())
    };
    Some((field("wchar:")?, field("write_bytes:")?))
}

#[test]
#[ignore = "measurement; run with --ignored --nocapture"]
fn measure_append_cost_and_bytes_written_per_hour() {
    let line_len = event(0).len();
    eprintln!(
        "event line: {line_len} bytes; batch: 100 lines, {} bytes",
        100 * line_len
    );

    // 1. One append of a 10 s batch, with fsync, median of many.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    let mut times = Vec::new();
    for n in 0..300 {
        let b = batch(n);
        let start = Instant::now();
        buffer.append(&b).unwrap();
        times.push(start.elapsed());
        if n % 60 == 59 {
            // A flush every 10 minutes, as an app would.
            let last = buffer.last_cursor().unwrap().unwrap();
            buffer.remove_through(last).unwrap();
        }
    }
    times.sort();
    let pct = |p: usize| times[(times.len() - 1) * p / 100];
    eprintln!(
        "append of one batch with fsync ({} runs, {}): median {:?}, p10 {:?}, p90 {:?}, max {:?}",
        times.len(),
        dir.path().display(),
        pct(50),
        pct(10),
        pct(90),
        times[times.len() - 1]
    );

    // 2. Bytes written in an hour: 360 batches.
    for (label, flush_every) in [
        ("flush every 10 min", Some(60u64)),
        ("never flushed (cap evicts)", None),
    ] {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
        let text_bytes = 360 * 100 * line_len as u64;
        let before = process_io();
        // Bytes written, from the files: growth of each file, and the whole
        // of every file that is new or replaced (markers, consumed cursor).
        let mut growth = 0u64;
        let mut files: HashMap<String, (u64, u64)> = HashMap::new();
        let mut account = |growth: &mut u64| {
            let mut now = HashMap::new();
            for e in std::fs::read_dir(dir.path()).unwrap() {
                let e = e.unwrap();
                let m = e.metadata().unwrap();
                now.insert(e.file_name().into_string().unwrap(), (m.ino(), m.len()));
            }
            for (name, &(ino, len)) in &now {
                *growth += match files.get(name) {
                    Some(&(old_ino, old_len)) if old_ino == ino => len.saturating_sub(old_len),
                    _ => len,
                };
            }
            files = now;
        };
        for n in 0..360 {
            buffer.append(&batch(n)).unwrap();
            account(&mut growth);
            if flush_every.is_some_and(|f| n % f == f - 1) {
                let last = buffer.last_cursor().unwrap().unwrap();
                buffer.remove_through(last).unwrap();
                account(&mut growth);
            }
        }
        let after = process_io();
        let stats = buffer.stats();
        eprintln!(
            "one hour, {label}: {text_bytes} bytes of lines; {growth} bytes written to the files \
             ({:.2}% more); evicted {} lines",
            (growth as f64 / text_bytes as f64 - 1.0) * 100.0,
            stats.evicted_lines
        );
        if let (Some((w0, b0)), Some((w1, b1))) = (before, after) {
            eprintln!(
                "  /proc/self/io for the same hour: {} bytes passed to write(2), {} bytes sent to storage",
                w1 - w0,
                b1 - b0
            );
        }
    }
}
