//! Fuzz target: arbitrary bytes as buffer files. The pure recovery function
//! and a FileBuffer opened on those files must not panic and must never
//! return a line that fails `line::validate`; the buffer must keep working.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockstatlog::buffer::record::{recover_segment, scan_records, Scanner, MAX_RECORD_LEN};
use sockstatlog::buffer::{FileBuffer, FileBufferOptions, LogBuffer};
use sockstatlog::line;
use std::path::Path;

fn check_pure(data: &[u8]) {
    let recovered = recover_segment(data);
    let scan = &recovered.scan;
    assert!(scan.valid_end <= data.len());
    let mut end = 0;
    for r in &scan.records {
        assert!(r.offset >= end, "records overlap");
        end = r.offset + r.len();
        assert!(end <= scan.valid_end);
        let text = std::str::from_utf8(&data[r.text.clone()]).expect("a record is UTF-8");
        assert_eq!(line::validate(text), Ok(()));
    }
    check_windows(data);
}

/// Scanning window by window (as `FileBuffer` reads a segment) finds
/// exactly what one scan of the whole finds.
fn check_windows(data: &[u8]) {
    let whole = scan_records(data, 0);
    let window = MAX_RECORD_LEN + 1 + data.first().copied().unwrap_or(0) as usize;
    let mut scanner = Scanner::new(0);
    let mut records = Vec::new();
    loop {
        let from = scanner.position();
        let to = (from + window).min(data.len());
        let last = to == data.len();
        scanner.feed(&data[from.min(to)..to], from.min(to), last);
        records.extend(scanner.take_records());
        if last {
            break;
        }
    }
    let mut scan = scanner.finish();
    scan.records = records;
    assert_eq!(scan, whole);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fuzz_target!(|data: &[u8]| {
    check_pure(data);
    let Some((&layout, rest)) = data.split_first() else {
        return;
    };
    let base = Path::new("/dev/shm");
    let dir = if base.is_dir() {
        tempfile::tempdir_in(base)
    } else {
        tempfile::tempdir()
    }
    .unwrap();
    let split = rest.len() / 2;
    // The first byte chooses which files the bytes become.
    match layout % 5 {
        0 => write(dir.path(), "sockstatlog.00000000.seg", rest),
        1 => {
            write(dir.path(), "sockstatlog.00000000.seg", &rest[..split]);
            write(dir.path(), "sockstatlog.00000001.seg", &rest[split..]);
        }
        2 => write(dir.path(), "sockstats.log1.txt", rest),
        3 => {
            write(dir.path(), "sockstatlog.00000003.seg", &rest[..split]);
            write(dir.path(), "sockstatlog.consumed", &rest[split..]);
        }
        _ => {
            write(dir.path(), "sockstats.log2.txt", &rest[..split]);
            write(dir.path(), "sockstatlog.00000000.seg", &rest[split..]);
        }
    }
    let options = FileBufferOptions {
        cap_bytes: 4096,
        segment_bytes: 1024,
        fsync: false,
    };
    let buffer = FileBuffer::open(dir.path(), options).expect("open never fails on bad data");
    let before = buffer.all_lines().unwrap();
    for l in &before {
        assert_eq!(line::validate(&l.text), Ok(()));
    }
    buffer.append(&["{\"fuzz\":1}".to_string()]).unwrap();
    let after = buffer.all_lines().unwrap();
    for l in &after {
        assert_eq!(line::validate(&l.text), Ok(()));
    }
    assert!(after.windows(2).all(|w| w[0].cursor < w[1].cursor));
    assert_eq!(after.last().map(|l| l.text.as_str()), Some("{\"fuzz\":1}"));
});
