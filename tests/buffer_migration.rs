//! Taking over the Go logger's files `sockstats.log1.txt` / `.log2.txt`.

use sockstatlog::buffer::{FileBuffer, FileBufferOptions, LogBuffer};
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

fn write_with_mtime(path: &Path, bytes: &[u8], seconds_ago: u64) {
    fs::write(path, bytes).unwrap();
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 - seconds_ago))
        .unwrap();
}

fn all(buffer: &FileBuffer) -> Vec<String> {
    buffer
        .all_lines()
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect()
}

/// Lines exactly as the Go logtail client wrote them into filch's files:
/// each object starts with the `logtail` member holding `client_time`
/// (RFC 3339, nanoseconds, trailing zeros cut, UTC) stamped when the line
/// was logged. Events are the JSON objects sockstatlog encoded; text from
/// `Logf` is wrapped as `"text"` (after `"v"` for verbose lines).
const GO_EVENT_1: &str = r#"{"logtail":{"client_time":"2023-04-27T18:04:40.512207413Z"},"t":1682618680411,"d":100,"s":{"8":[1500,4000]}}"#;
const GO_EVENT_2: &str = r#"{"logtail":{"client_time":"2023-04-27T18:04:40.6124Z"},"t":1682618680511,"d":101,"c":1,"s":{"10":[0,20],"2":[512,0]}}"#;
const GO_TEXT: &str = r#"{"logtail":{"client_time":"2023-04-27T18:04:41.000000001Z"},"text":"sockstatlog: error encoding log: json: unsupported value: \"x\"\n"}"#;
const GO_VERBOSE_TEXT: &str = r#"{"logtail":{"client_time":"2023-04-27T18:04:41.2Z"},"v":1,"text":"magicsock: Ω derp-1 connected"}"#;
const GO_EVENT_3: &str = r#"{"logtail":{"client_time":"2023-04-27T18:05:50.700000002Z"},"t":1682618750600,"d":100,"s":{"11":[3120,1877]}}"#;
const GO_EVENT_4: &str = r#"{"logtail":{"client_time":"2023-04-27T18:05:50.8Z"},"t":1682618750700,"d":99,"s":{"9":[60,60]}}"#;

#[test]
fn the_go_loggers_complete_lines_are_taken_over_oldest_file_first_then_the_files_go() {
    let dir = tempfile::tempdir().unwrap();
    // log2 is the older file here (the files swap roles in the Go logger).
    let mut older = format!("{GO_EVENT_1}\n{GO_EVENT_2}\n").into_bytes();
    older.extend_from_slice(b"\n"); // empty line: skipped
    older.extend_from_slice(b"\xff\xfe not utf-8\n"); // skipped
    older.extend_from_slice(&vec![b'x'; 70 * 1024]); // over 64 KiB: skipped
    older.extend_from_slice(format!("\n{GO_TEXT}\n").as_bytes());
    write_with_mtime(&dir.path().join("sockstats.log2.txt"), &older, 100);
    // The newer file ends with a torn line (no newline): skipped.
    let newer = format!("{GO_VERBOSE_TEXT}\n{GO_EVENT_3}\n{}", &GO_EVENT_4[..40]);
    write_with_mtime(&dir.path().join("sockstats.log1.txt"), newer.as_bytes(), 10);

    let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    // Byte for byte: the upload keeps each line's own client_time.
    assert_eq!(
        all(&buffer),
        [GO_EVENT_1, GO_EVENT_2, GO_TEXT, GO_VERBOSE_TEXT, GO_EVENT_3]
    );
    for line in all(&buffer) {
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        let logtail = value["logtail"].as_object().unwrap();
        assert_eq!(logtail.keys().collect::<Vec<_>>(), ["client_time"]);
    }
    assert_eq!(buffer.stats().corrupt_lines_skipped, 4);
    assert!(!dir.path().join("sockstats.log1.txt").exists());
    assert!(!dir.path().join("sockstats.log2.txt").exists());

    // Once only: reopening takes nothing over again.
    drop(buffer);
    let reopened = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    assert_eq!(all(&reopened).len(), 5);
}

#[test]
fn migrated_lines_come_before_new_ones_and_can_be_removed() {
    let dir = tempfile::tempdir().unwrap();
    let go = format!("{GO_EVENT_1}\n{GO_TEXT}\n");
    write_with_mtime(&dir.path().join("sockstats.log1.txt"), go.as_bytes(), 5);
    let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    let ours = r#"{"t":1700000000000,"d":100,"s":{"8":[1,2]}}"#.to_string();
    buffer.append(std::slice::from_ref(&ours)).unwrap();
    assert_eq!(all(&buffer), [GO_EVENT_1, GO_TEXT, ours.as_str()]);
    let first = buffer.read(None, GO_EVENT_1.len() + GO_TEXT.len()).unwrap();
    assert_eq!(first.len(), 2);
    buffer.remove_through(first[1].cursor).unwrap();
    assert_eq!(all(&buffer), [ours]);
}

#[test]
fn files_with_equal_times_are_taken_log1_first() {
    let dir = tempfile::tempdir().unwrap();
    let two = format!("{GO_EVENT_2}\n");
    let one = format!("{GO_EVENT_1}\n");
    write_with_mtime(&dir.path().join("sockstats.log2.txt"), two.as_bytes(), 7);
    write_with_mtime(&dir.path().join("sockstats.log1.txt"), one.as_bytes(), 7);
    let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    assert_eq!(all(&buffer), [GO_EVENT_1, GO_EVENT_2]);
}

#[test]
fn empty_go_files_are_simply_removed() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("sockstats.log1.txt"), b"").unwrap();
    let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    assert!(all(&buffer).is_empty());
    assert_eq!(buffer.stats().corrupt_lines_skipped, 0);
    assert!(!dir.path().join("sockstats.log1.txt").exists());
}
