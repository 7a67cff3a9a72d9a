//! FileBuffer: storage, reading, removal, eviction, damage and permissions.

use sockstatlog::buffer::{
    record, BufferError, BufferedLine, Cursor, FileBuffer, FileBufferOptions, LogBuffer,
};
use sockstatlog::line;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn strings(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|s| s.to_string()).collect()
}

fn texts(lines: &[BufferedLine]) -> Vec<&str> {
    lines.iter().map(|l| l.text.as_str()).collect()
}

fn open(dir: &Path) -> FileBuffer {
    FileBuffer::open(dir, FileBufferOptions::default()).unwrap()
}

fn small(cap_bytes: u64, segment_bytes: u64) -> FileBufferOptions {
    FileBufferOptions {
        cap_bytes,
        segment_bytes,
        fsync: false,
    }
}

fn segment_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    out.sort();
    out
}

fn disk_bytes(dir: &Path) -> u64 {
    segment_files(dir)
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .sum()
}

#[test]
fn appended_lines_are_there_after_reopening_in_order() {
    let dir = tempfile::tempdir().unwrap();
    {
        let buffer = open(dir.path());
        buffer.append(&strings(&["a", "b"])).unwrap();
        buffer.append(&strings(&["c"])).unwrap();
    }
    let buffer = open(dir.path());
    let lines = buffer.all_lines().unwrap();
    assert_eq!(texts(&lines), ["a", "b", "c"]);
    assert!(lines.windows(2).all(|w| w[0].cursor < w[1].cursor));
    assert_eq!(buffer.stats().lines, 3);
    assert_eq!(buffer.stats().bytes, 3);
    assert_eq!(buffer.stats().corrupt_lines_skipped, 0);
}

#[test]
fn read_returns_lines_after_the_cursor_up_to_max_bytes_but_at_least_one() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = open(dir.path());
    buffer
        .append(&strings(&["aaaa", "bbbb", "cccc", "dddd"]))
        .unwrap();
    let first = buffer.read(None, 8).unwrap();
    assert_eq!(texts(&first), ["aaaa", "bbbb"]);
    let next = buffer.read(Some(first[1].cursor), 1).unwrap();
    assert_eq!(texts(&next), ["cccc"]);
    let rest = buffer.read(Some(next[0].cursor), 100).unwrap();
    assert_eq!(texts(&rest), ["dddd"]);
    assert!(buffer.read(Some(rest[0].cursor), 100).unwrap().is_empty());
    // Reading removed nothing.
    assert_eq!(buffer.all_lines().unwrap().len(), 4);
}

#[test]
fn removed_lines_stay_removed_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let buffer = open(dir.path());
        buffer.append(&strings(&["a", "b", "c"])).unwrap();
        let lines = buffer.read(None, 100).unwrap();
        buffer.remove_through(lines[1].cursor).unwrap();
        assert_eq!(texts(&buffer.all_lines().unwrap()), ["c"]);
    }
    let buffer = open(dir.path());
    assert_eq!(texts(&buffer.all_lines().unwrap()), ["c"]);
    assert_eq!(buffer.stats().lines, 1);
    buffer.append(&strings(&["d"])).unwrap();
    assert_eq!(texts(&buffer.all_lines().unwrap()), ["c", "d"]);
}

#[test]
fn removing_everything_deletes_the_segments_and_cursors_keep_growing() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = open(dir.path());
    buffer.append(&strings(&["a", "b"])).unwrap();
    let last = buffer.last_cursor().unwrap().unwrap();
    buffer.remove_through(last).unwrap();
    assert_eq!(segment_files(dir.path()).len(), 0);
    assert_eq!(buffer.last_cursor().unwrap(), None);
    buffer.append(&strings(&["c"])).unwrap();
    let lines = buffer.all_lines().unwrap();
    assert_eq!(texts(&lines), ["c"]);
    assert!(lines[0].cursor > last);
}

#[test]
fn removing_through_a_cursor_beyond_the_newest_line_spares_later_lines() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = open(dir.path());
    buffer.append(&strings(&["a"])).unwrap();
    buffer.remove_through(Cursor(u64::MAX)).unwrap();
    buffer.append(&strings(&["b"])).unwrap();
    assert_eq!(texts(&buffer.all_lines().unwrap()), ["b"]);
}

#[test]
fn a_batch_with_an_invalid_line_is_rejected_whole() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = open(dir.path());
    let too_long = "x".repeat(line::MAX_LINE_BYTES + 1);
    let err = buffer.append(&["ok".to_string(), too_long]).unwrap_err();
    assert!(matches!(err, BufferError::InvalidLine { index: 1, .. }));
    assert_eq!(
        err.to_string(),
        "line 1 of the batch was rejected: the line is 65537 bytes, over the 65536-byte limit; split it into shorter lines"
    );
    let err = buffer.append(&strings(&["ok", ""])).unwrap_err();
    assert!(matches!(err, BufferError::InvalidLine { index: 1, .. }));
    let err = buffer.append(&strings(&["a\nb"])).unwrap_err();
    assert!(matches!(err, BufferError::InvalidLine { index: 0, .. }));
    assert!(buffer.all_lines().unwrap().is_empty());
    assert_eq!(buffer.stats().lines, 0);
    assert_eq!(disk_bytes(dir.path()), 0);
}

#[test]
fn a_line_of_exactly_64_kib_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = open(dir.path());
    let long = "y".repeat(line::MAX_LINE_BYTES);
    buffer.append(std::slice::from_ref(&long)).unwrap();
    let buffer = open(dir.path());
    assert_eq!(buffer.all_lines().unwrap()[0].text, long);
}

fn numbered(n: usize) -> String {
    format!("{{\"n\":{n:05},\"pad\":\"{}\"}}", "p".repeat(80))
}

#[test]
fn when_full_the_oldest_lines_give_way_to_one_marker_and_the_cap_holds() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = FileBuffer::open(dir.path(), small(8192, 2048)).unwrap();
    let total = 300;
    for n in 0..total {
        buffer.append(&[numbered(n)]).unwrap();
        assert!(
            disk_bytes(dir.path()) <= 8192,
            "over the cap after line {n}"
        );
    }
    let lines = buffer.all_lines().unwrap();
    let stats = buffer.stats();
    let marker = line::dropped_marker(stats.evicted_lines, stats.evicted_bytes, "buffer full");
    assert_eq!(lines[0].text, marker, "one marker, first, with the totals");
    let kept: Vec<&str> = texts(&lines[1..]);
    let first_kept = total - kept.len();
    assert_eq!(stats.evicted_lines as usize, first_kept);
    assert_eq!(stats.evicted_bytes as usize, first_kept * numbered(0).len());
    let expected: Vec<String> = (first_kept..total).map(numbered).collect();
    assert_eq!(
        kept,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(lines.windows(2).all(|w| w[0].cursor < w[1].cursor));
    // The same view after reopening.
    let reopened = FileBuffer::open(dir.path(), small(8192, 2048)).unwrap();
    assert_eq!(reopened.all_lines().unwrap(), lines);
}

#[test]
fn evicted_lines_that_were_already_read_do_not_remove_the_marker() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = FileBuffer::open(dir.path(), small(4096, 1024)).unwrap();
    buffer.append(&[numbered(0)]).unwrap();
    let read = buffer.read(None, 1).unwrap();
    for n in 1..100 {
        buffer.append(&[numbered(n)]).unwrap();
    }
    // The upload of line 0 succeeds after line 0 was evicted.
    buffer.remove_through(read[0].cursor).unwrap();
    let lines = buffer.all_lines().unwrap();
    assert!(lines[0]
        .text
        .starts_with("{\"sockstatlog\":{\"dropped_lines\":"));
    assert_eq!(lines.last().unwrap().text, numbered(99));
}

#[test]
fn a_batch_larger_than_the_cap_keeps_its_newest_lines_behind_a_marker() {
    let dir = tempfile::tempdir().unwrap();
    let buffer = FileBuffer::open(dir.path(), small(1024, 256)).unwrap();
    let batch: Vec<String> = (0..20).map(numbered).collect();
    buffer.append(&batch).unwrap();
    let lines = buffer.all_lines().unwrap();
    let stats = buffer.stats();
    assert!(stats.evicted_lines > 0);
    assert_eq!(
        lines[0].text,
        line::dropped_marker(stats.evicted_lines, stats.evicted_bytes, "buffer full")
    );
    assert_eq!(stats.evicted_lines as usize + lines.len() - 1, 20);
    assert_eq!(lines.last().unwrap().text, numbered(19));
    assert!(disk_bytes(dir.path()) <= 1024);
}

#[test]
fn a_torn_tail_is_cut_off_and_never_returned() {
    let dir = tempfile::tempdir().unwrap();
    {
        let buffer = open(dir.path());
        buffer.append(&strings(&["one", "two"])).unwrap();
    }
    let seg = segment_files(dir.path()).pop().unwrap();
    let good_len = fs::metadata(&seg).unwrap().len();
    // Half of a record: what a crash in the middle of a write leaves.
    let mut rec = Vec::new();
    record::encode_record(&mut rec, record::KIND_LINE | record::END_OF_BATCH, "three");
    let mut bytes = fs::read(&seg).unwrap();
    bytes.extend_from_slice(&rec[..rec.len() / 2]);
    fs::write(&seg, &bytes).unwrap();

    let buffer = open(dir.path());
    assert_eq!(texts(&buffer.all_lines().unwrap()), ["one", "two"]);
    assert_eq!(buffer.stats().corrupt_lines_skipped, 1);
    buffer.append(&strings(&["four"])).unwrap();
    let after = fs::metadata(&seg).unwrap().len();
    assert_eq!(after, good_len + record::record_len(4) as u64);
    let buffer = open(dir.path());
    assert_eq!(texts(&buffer.all_lines().unwrap()), ["one", "two", "four"]);
    assert_eq!(buffer.stats().corrupt_lines_skipped, 0);
}

#[test]
fn damaged_files_are_skipped_counted_and_the_buffer_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    {
        let buffer = open(dir.path());
        buffer.append(&strings(&["kept"])).unwrap();
    }
    // A segment of random bytes, an empty one, and one holding a plain text
    // line without framing, all numbered after the good one.
    let mut noise = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..5000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push(x as u8);
    }
    fs::write(dir.path().join("sockstatlog.00000001.seg"), &noise).unwrap();
    fs::write(dir.path().join("sockstatlog.00000002.seg"), b"").unwrap();
    fs::write(dir.path().join("sockstatlog.00000003.seg"), b"plain text\n").unwrap();

    let buffer = open(dir.path());
    assert_eq!(texts(&buffer.all_lines().unwrap()), ["kept"]);
    assert_eq!(buffer.stats().corrupt_lines_skipped, 2);
    buffer.append(&strings(&["new"])).unwrap();
    assert_eq!(texts(&buffer.all_lines().unwrap()), ["kept", "new"]);
    let reopened = open(dir.path());
    assert_eq!(texts(&reopened.all_lines().unwrap()), ["kept", "new"]);
}

#[test]
fn a_missing_directory_is_created_0700_and_files_are_0600() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("a/b/logs");
    let buffer = open(&dir);
    buffer.append(&strings(&["a", "b"])).unwrap();
    let lines = buffer.read(None, 1).unwrap();
    buffer.remove_through(lines[0].cursor).unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "sockstatlog.00000000.seg",
            "sockstatlog.consumed",
            "sockstatlog.lock"
        ]
    );
    for name in names {
        assert_eq!(mode(&dir.join(&name)), 0o600, "{name}");
    }
}

#[test]
fn a_path_that_is_a_file_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    fs::write(&file, b"x").unwrap();
    let err = FileBuffer::open(&file, FileBufferOptions::default()).unwrap_err();
    assert!(matches!(err, BufferError::NotADirectory { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "log buffer path {} exists but is not a directory; pass the path of a directory (it is created if missing)",
            file.display()
        )
    );
}

/// Root ignores permission bits, so as root the unwritable directory is a
/// read-only tmpfs; otherwise a directory with mode 0500.
#[test]
fn an_unwritable_directory_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("ro");
    fs::create_dir(&target).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs"])
        .arg(&target)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("mount not permitted: testing a 0500 directory instead");
        fs::set_permissions(&target, fs::Permissions::from_mode(0o500)).unwrap();
    }
    let result = FileBuffer::open(&target, FileBufferOptions::default());
    if mounted {
        let _ = std::process::Command::new("umount").arg(&target).status();
    } else {
        fs::set_permissions(&target, fs::Permissions::from_mode(0o700)).unwrap();
    }
    let err = result.unwrap_err();
    assert!(matches!(err, BufferError::NotWritable { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!(
        "log buffer directory {} is not writable (",
        target.display()
    )));
}

#[test]
fn two_instances_on_threads_interleave_whole_batches() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(dir.path());
    let b = open(dir.path());
    std::thread::scope(|s| {
        for (buffer, name) in [(&a, "a"), (&b, "b")] {
            s.spawn(move || {
                for n in 0..100 {
                    let batch: Vec<String> = (0..3).map(|i| format!("{name}-{n}-{i}")).collect();
                    buffer.append(&batch).unwrap();
                }
            });
        }
    });
    let lines = open(dir.path()).all_lines().unwrap();
    assert_eq!(lines.len(), 600);
    assert!(lines.windows(2).all(|w| w[0].cursor < w[1].cursor));
    for name in ["a", "b"] {
        let mine: Vec<&str> = lines
            .iter()
            .map(|l| l.text.as_str())
            .filter(|t| t.starts_with(name))
            .collect();
        let expected: Vec<String> = (0..100)
            .flat_map(|n| (0..3).map(move |i| format!("{name}-{n}-{i}")))
            .collect();
        assert_eq!(
            mine,
            expected.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }
    // Batches are contiguous.
    for chunk in lines.chunks(3) {
        let prefix = |t: &str| t.rsplit_once('-').unwrap().0.to_string();
        assert!(chunk
            .iter()
            .all(|l| prefix(&l.text) == prefix(&chunk[0].text)));
    }
}

#[test]
fn cursors_read_by_one_instance_stay_valid_while_another_appends() {
    let dir = tempfile::tempdir().unwrap();
    let uploader = FileBuffer::open(dir.path(), small(1 << 20, 512)).unwrap();
    let writer = FileBuffer::open(dir.path(), small(1 << 20, 512)).unwrap();
    writer.append(&strings(&["a", "b"])).unwrap();
    let sent = uploader.read(None, 100).unwrap();
    for n in 0..50 {
        writer.append(&[numbered(n)]).unwrap();
    }
    uploader.remove_through(sent[1].cursor).unwrap();
    let left = writer.all_lines().unwrap();
    assert_eq!(left.len(), 50);
    assert_eq!(left[0].text, numbered(0));
    assert_eq!(writer.stats().lines, 50);
}
