//! Kill harness: a child process appends (and now and then removes) numbered
//! lines as fast as it can, printing each acknowledged operation; the parent
//! SIGKILLs it at random moments, reopens the buffer and checks that every
//! acknowledged line is there, in order, intact, and nothing else is.
//!
//! `SOCKSTATLOG_KILL_ITERATIONS=10000 cargo test --release --test buffer_kill -- --nocapture`
//! runs a long version (default: 400 kills).

use sockstatlog::buffer::{FileBuffer, FileBufferOptions, LogBuffer};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

const CHILD_DIR: &str = "SOCKSTATLOG_KILL_CHILD_DIR";
const CHILD_START: &str = "SOCKSTATLOG_KILL_CHILD_START";
const CHILD_SEED: &str = "SOCKSTATLOG_KILL_CHILD_SEED";
const MAX_BATCH: u64 = 8;

/// Small segments, so that rotation and segment deletion happen all the time.
fn options() -> FileBufferOptions {
    FileBufferOptions {
        cap_bytes: 64 * 1024 * 1024,
        segment_bytes: 4096,
        fsync: true,
    }
}

/// The exact text of line `n`: its length varies with `n`.
fn text(n: u64) -> String {
    let pad = (n.wrapping_mul(7919) % 300) as usize;
    format!("{{\"n\":{n},\"pad\":\"{}\"}}", "x".repeat(pad))
}

fn number(text: &str) -> Option<u64> {
    text.strip_prefix("{\"n\":")?
        .split(',')
        .next()?
        .parse()
        .ok()
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The child: run by the parent through the test binary itself.
#[test]
#[ignore = "run by sigkilled_appends_lose_no_acknowledged_line as a child process"]
fn kill_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let mut next: u64 = std::env::var(CHILD_START).unwrap().parse().unwrap();
    let mut rng = Rng(std::env::var(CHILD_SEED).unwrap().parse().unwrap());
    let out = std::io::stdout();
    let say = |msg: String| {
        let mut out = out.lock();
        writeln!(out, "{msg}").unwrap();
        out.flush().unwrap();
    };
    let buffer = FileBuffer::open(Path::new(&dir), options()).unwrap();
    say("opened".into());
    loop {
        let count = 1 + rng.below(MAX_BATCH);
        let batch: Vec<String> = (next..next + count).map(text).collect();
        say(format!("try {}", next + count - 1));
        buffer.append(&batch).unwrap();
        say(format!("ack {}", next + count - 1));
        next += count;
        if rng.below(4) == 0 {
            let lines = buffer.read(None, 1 + rng.below(20_000) as usize).unwrap();
            let last = lines.last().unwrap();
            let n = number(&last.text).unwrap();
            say(format!("rm-try {n}"));
            buffer.remove_through(last.cursor).unwrap();
            say(format!("rm-ack {n}"));
        }
    }
}

#[derive(Default)]
struct Seen {
    opened: bool,
    acked: Option<u64>,
    tried: Option<u64>,
    rm_acked: Option<u64>,
    rm_tried: Option<u64>,
}

fn absorb(seen: &mut Seen, line: &str) -> bool {
    let (word, n) = line.split_once(' ').unwrap_or((line, ""));
    let n = n.parse::<u64>().ok();
    match word {
        "opened" => seen.opened = true,
        "try" => seen.tried = n,
        "ack" => seen.acked = n,
        "rm-try" => seen.rm_tried = n,
        "rm-ack" => seen.rm_acked = n,
        _ => return false,
    }
    true
}

#[test]
fn sigkilled_appends_lose_no_acknowledged_line() {
    let iterations: u64 = std::env::var("SOCKSTATLOG_KILL_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    // Lines 0..first_present were removed for good; next is the next number
    // to append.
    let mut first_present: u64 = 0;
    let mut next: u64 = 0;
    let (mut kills, mut lines_checked, mut lost, mut torn) = (0u64, 0u64, 0u64, 0u64);
    let mut acked_total = 0u64;
    let (mut inflight_kept, mut inflight_gone, mut removal_interrupted) = (0u64, 0u64, 0u64);
    for _ in 0..iterations {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "kill_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_START, next.to_string())
            .env(CHILD_SEED, (rng.next() | 1).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut seen = Seen::default();
        // Kill after a random number of acknowledged appends, sometimes
        // before the child even opened the buffer.
        let wait_for = match rng.below(10) {
            0 => 0,
            1..=3 => 1 + rng.below(3),
            _ => 1 + rng.below(60),
        };
        // Half the time, count "try" lines instead: the kill then tends to
        // land inside an append.
        let trigger = if rng.below(2) == 0 { "ack " } else { "try " };
        let mut acks = 0;
        let mut line = String::new();
        while acks < wait_for {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            absorb(&mut seen, line.trim_end());
            if line.starts_with(trigger) {
                acks += 1;
            }
        }
        child.kill().unwrap();
        kills += 1;
        // What the child managed to say before dying.
        loop {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if line.ends_with('\n') {
                absorb(&mut seen, line.trim_end());
            }
        }
        let status = child.wait().unwrap();
        assert!(!status.success(), "the child ended by itself: {status:?}");

        let buffer = FileBuffer::open(dir.path(), options()).unwrap();
        let lines = buffer.all_lines().unwrap();
        torn += buffer.stats().corrupt_lines_skipped;
        let numbers: Vec<u64> = lines
            .iter()
            .map(|l| number(&l.text).unwrap_or_else(|| panic!("garbage line {:?}", l.text)))
            .collect();
        for (l, &n) in lines.iter().zip(&numbers) {
            assert_eq!(l.text, text(n), "line {n} is damaged");
        }
        assert!(lines.windows(2).all(|w| w[0].cursor < w[1].cursor));
        // Contiguous, in order, no duplicates.
        for w in numbers.windows(2) {
            assert_eq!(w[1], w[0] + 1, "gap or disorder: {numbers:?}");
        }
        // Removal: everything through an acknowledged removal is gone; an
        // interrupted removal may or may not have happened.
        let removed_through = seen.rm_acked.map_or(first_present, |n| n + 1);
        let maybe_removed = seen
            .rm_tried
            .map_or(removed_through, |n| n + 1)
            .max(removed_through);
        // Appends: everything acknowledged is there; an interrupted batch is
        // there whole or not at all.
        let acked_end = seen.acked.map_or(next, |n| n + 1);
        let tried_end = seen.tried.map_or(next, |n| n + 1).max(acked_end);
        let end = match (numbers.first(), numbers.last()) {
            (Some(&start), Some(&last)) => {
                assert!(
                    start == removed_through || start == maybe_removed,
                    "present lines start at {start}; removed through {removed_through} (maybe {maybe_removed})"
                );
                let end = last + 1;
                if end < acked_end {
                    lost += acked_end - end;
                }
                assert!(
                    end == acked_end || end == tried_end,
                    "lines end at {end}; acknowledged through {acked_end}, tried through {tried_end}"
                );
                first_present = start;
                end
            }
            _ => {
                // Everything was removed: the removals must cover every
                // acknowledged line.
                if maybe_removed < acked_end {
                    lost += acked_end - maybe_removed;
                }
                assert!(
                    maybe_removed >= acked_end,
                    "no lines, but only {maybe_removed} of {acked_end} were removed"
                );
                first_present = acked_end;
                acked_end
            }
        };
        if tried_end > acked_end {
            if end == tried_end {
                inflight_kept += 1;
            } else {
                inflight_gone += 1;
            }
        }
        if seen.rm_tried > seen.rm_acked {
            removal_interrupted += 1;
        }
        lines_checked += numbers.len() as u64;
        acked_total += acked_end - next;
        next = end;
    }
    eprintln!(
        "kill harness: {kills} kills, {acked_total} appended lines acknowledged, \
         {lines_checked} lines checked after kills, {lost} lost; killed during an append \
         {} times (batch kept whole {inflight_kept}, absent whole {inflight_gone}), during a \
         removal {removal_interrupted} times; {torn} damaged records skipped",
        inflight_kept + inflight_gone
    );
    assert_eq!(lost, 0);
}
