//! The golden vectors produced by the Go original: every line must hold.
//!
//! They are read from `$SOCKSTATLOG_GOLDEN_DIR` (default `../shared/golden`
//! from the project root), so another file of the same format can be
//! dropped in.
//!
//! `events.jsonl` was produced with the original's delta, which subtracts
//! without checking: where a counter went backwards its `line` holds the
//! wrapped-around u64. This library counts such a direction as a reset (its
//! delta is the new value). So every case is checked twice:
//! 1. The encoder, fed the original's delta, reproduces `line` byte for byte.
//! 2. The library's own delta reproduces `line` byte for byte where no
//!    counter went backwards, and otherwise `line` with each wrapped value
//!    replaced by the reset value (and an entry whose delta is then zero in
//!    both directions removed).

use serde_json::Value;
use sockstatlog::snapshot::delta;
use sockstatlog::{Counters, DeltaEntry, Event, Label, PrivateId, PublicId, Snapshot};
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    match std::env::var_os("SOCKSTATLOG_GOLDEN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/golden"),
    }
}

fn read_golden(name: &str) -> String {
    let path = golden_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read golden file {}: {e}; set SOCKSTATLOG_GOLDEN_DIR to the golden directory",
            path.display()
        )
    })
}

fn snapshot(value: &Value) -> Snapshot {
    let stats = value["stats"].as_object().expect("stats is an object");
    Snapshot::new(
        value["cellular"].as_bool().expect("cellular is a bool"),
        stats.iter().map(|(label, pair)| {
            let label: u8 = label.parse().expect("label is 0-255");
            let pair = pair.as_array().expect("[tx, rx]");
            (
                Label(label),
                Counters {
                    tx: pair[0].as_u64().expect("tx is a u64"),
                    rx: pair[1].as_u64().expect("rx is a u64"),
                },
            )
        }),
    )
    .expect("golden snapshots have unique labels")
}

/// The original's delta: `later - earlier` with wrap-around, entries left out
/// only when both directions are unchanged.
fn original_delta(earlier: &Snapshot, later: &Snapshot) -> Vec<DeltaEntry> {
    later
        .entries()
        .iter()
        .filter_map(|&(label, cur)| {
            let prev = earlier.get(label).unwrap_or_default();
            (prev != cur).then(|| DeltaEntry {
                label,
                tx: cur.tx.wrapping_sub(prev.tx),
                rx: cur.rx.wrapping_sub(prev.rx),
            })
        })
        .collect()
}

fn encode(t: i64, d: i64, cellular: bool, stats: &[DeltaEntry]) -> Option<String> {
    (!stats.is_empty()).then(|| {
        Event {
            start_unix_ms: t,
            duration_ms: d,
            cellular,
            stats,
        }
        .encode()
    })
}

/// The golden line with every wrapped-around value replaced by the reset
/// rule's value, derived from the golden text itself.
fn expected_with_resets(golden: &str, earlier: &Snapshot, later: &Snapshot) -> Option<String> {
    let mut line = golden.to_string();
    for &(label, cur) in later.entries() {
        let prev = earlier.get(label).unwrap_or_default();
        if cur.tx >= prev.tx && cur.rx >= prev.rx {
            continue;
        }
        let wrapped = format!(
            "\"{}\":[{},{}]",
            label.0,
            cur.tx.wrapping_sub(prev.tx),
            cur.rx.wrapping_sub(prev.rx)
        );
        let reset = |p: u64, c: u64| if c < p { c } else { c - p };
        let (tx, rx) = (reset(prev.tx, cur.tx), reset(prev.rx, cur.rx));
        let replacement = if tx == 0 && rx == 0 {
            String::new()
        } else {
            format!("\"{}\":[{tx},{rx}]", label.0)
        };
        assert!(
            line.contains(&wrapped),
            "golden line lacks {wrapped}: {golden}"
        );
        line = line.replacen(&wrapped, &replacement, 1);
    }
    let line = line
        .replace("{,", "{")
        .replace(",,", ",")
        .replace(",}", "}");
    (!line.contains("\"s\":{}")).then_some(line)
}

#[test]
fn every_golden_event_line_is_reproduced_byte_for_byte() {
    let text = read_golden("events.jsonl");
    let (mut cases, mut with_resets) = (0, 0);
    for (n, row) in text.lines().enumerate() {
        let case: Value = serde_json::from_str(row).expect("each line is a JSON case");
        let earlier = snapshot(&case["prev"]);
        let later = snapshot(&case["cur"]);
        let t = case["t"].as_i64().expect("t");
        let d = case["d"].as_i64().expect("d");
        let golden = case["line"].as_str().map(str::to_string);
        let cellular = later.is_cellular();

        let original = encode(t, d, cellular, &original_delta(&earlier, &later));
        assert_eq!(
            original,
            golden,
            "case {}: encoder differs from the original",
            n + 1
        );

        let ours = encode(t, d, cellular, &delta(&earlier, &later));
        let went_backwards = later.entries().iter().any(|&(label, cur)| {
            let prev = earlier.get(label).unwrap_or_default();
            cur.tx < prev.tx || cur.rx < prev.rx
        });
        let expected = match (&golden, went_backwards) {
            (Some(golden), true) => {
                with_resets += 1;
                expected_with_resets(golden, &earlier, &later)
            }
            _ => golden.clone(),
        };
        assert_eq!(ours, expected, "case {}: reset-safe delta", n + 1);
        cases += 1;
    }
    assert!(cases > 0, "no golden cases read");
    println!("{cases} golden event cases checked, {with_resets} with counters going backwards");
}

#[test]
fn every_golden_id_derivation_holds() {
    let text = read_golden("ids.txt");
    let mut cases = 0;
    for (n, row) in text.lines().enumerate() {
        let fields: Vec<&str> = row.split(' ').collect();
        assert_eq!(fields.len(), 4, "ids.txt line {} has 4 fields", n + 1);
        let private: PrivateId = fields[0].parse().expect("private ID");
        let public: PublicId = fields[1].parse().expect("public ID");
        assert_eq!(
            private.public(),
            public,
            "line {}: public = sha256(private)",
            n + 1
        );
        assert_eq!(public.to_string(), fields[1]);
        let sockstat_private = public.sockstat_private_id();
        assert_eq!(sockstat_private.expose_hex(), fields[2], "line {}", n + 1);
        assert_eq!(
            sockstat_private.public().to_string(),
            fields[3],
            "line {}",
            n + 1
        );
        cases += 1;
    }
    assert!(cases > 0, "no golden ID cases read");
}
