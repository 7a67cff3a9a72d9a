//! The recovery path on pseudo-random input (seeded, so CI runs the same
//! cases every time): what the fuzz target `buffer_recovery` does, without
//! cargo-fuzz.

use sockstatlog::buffer::record::{self, recover_segment};
use sockstatlog::buffer::{FileBuffer, FileBufferOptions, LogBuffer};
use sockstatlog::line;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random bytes, a valid segment, or a valid segment damaged at random:
/// flipped bytes, cuts, spliced noise.
fn input(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = Vec::new();
    match rng.below(3) {
        0 => {
            for _ in 0..rng.below(2000) {
                bytes.push(rng.next() as u8);
            }
        }
        _ => {
            bytes.extend(record::encode_header(rng.below(1000) as u32));
            for b in 0..rng.below(20) {
                let n = 1 + rng.below(4);
                for i in 0..n {
                    let kind = if i + 1 == n {
                        record::KIND_LINE | record::END_OF_BATCH
                    } else {
                        record::KIND_LINE
                    };
                    let text = format!(
                        "{{\"b\":{b},\"i\":{i}}}{}",
                        "é".repeat(rng.below(40) as usize)
                    );
                    record::encode_record(&mut bytes, kind, &text);
                }
            }
            for _ in 0..rng.below(4) {
                if bytes.is_empty() {
                    break;
                }
                let at = rng.below(bytes.len() as u64) as usize;
                match rng.below(3) {
                    0 => bytes[at] ^= 1 << rng.below(8),
                    1 => bytes.truncate(at),
                    _ => {
                        let noise: Vec<u8> = (0..rng.below(30)).map(|_| rng.next() as u8).collect();
                        bytes.splice(at..at, noise);
                    }
                }
            }
        }
    }
    bytes
}

#[test]
fn recovery_never_returns_an_invalid_line_on_5000_random_inputs() {
    let mut rng = Rng(0xB0FF_E12D_5EED_0042);
    let (mut records, mut corrupt) = (0u64, 0u64);
    for case in 0..5000 {
        let bytes = input(&mut rng);
        let recovered = recover_segment(&bytes);
        let scan = &recovered.scan;
        assert!(scan.valid_end <= bytes.len(), "case {case}");
        let mut last_end = 0;
        for r in &scan.records {
            assert!(r.offset >= last_end, "case {case}: overlapping records");
            last_end = r.offset + r.len();
            assert!(last_end <= scan.valid_end, "case {case}");
            let text = std::str::from_utf8(&bytes[r.text.clone()]).expect("utf-8");
            assert_eq!(line::validate(text), Ok(()), "case {case}");
        }
        records += scan.records.len() as u64;
        corrupt += scan.corrupt_lines;
    }
    eprintln!("5000 inputs: {records} records recovered, {corrupt} damaged stretches skipped");
}

#[test]
fn a_buffer_opened_on_random_segment_files_returns_only_valid_lines_and_keeps_working() {
    let mut rng = Rng(0x00DD_BA11_0000_0007);
    for case in 0..150 {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..1 + rng.below(3) {
            let path = dir.path().join(format!("sockstatlog.{n:08x}.seg"));
            std::fs::write(path, input(&mut rng)).unwrap();
        }
        let options = FileBufferOptions {
            fsync: false,
            ..FileBufferOptions::default()
        };
        let buffer = FileBuffer::open(dir.path(), options).unwrap();
        let before = buffer.all_lines().unwrap();
        for l in &before {
            assert_eq!(line::validate(&l.text), Ok(()), "case {case}");
        }
        buffer.append(&["appended".to_string()]).unwrap();
        let after = buffer.all_lines().unwrap();
        assert_eq!(&after[..before.len()], &before[..], "case {case}");
        assert_eq!(after.last().unwrap().text, "appended", "case {case}");
        assert!(
            after.windows(2).all(|w| w[0].cursor < w[1].cursor),
            "case {case}"
        );
    }
}
