//! The on-disk record format of [`FileBuffer`](super::FileBuffer): pure
//! functions from bytes to records and back, with no I/O, so that recovery
//! can be tested and fuzzed without files.
//!
//! A segment file is a [header](encode_header) followed by records:
//!
//! ```text
//! header (16 bytes): "SSLBUF" | version 1 (u8) | 0 (u8) | base (u32 LE) | crc32 of the 12 bytes before (u32 LE)
//! record (11 + len bytes):
//!   0xF5 | kind (u8) | len (u32 LE) | crc32 of kind, len and text (u32 LE) | text (len bytes) | '\n'
//! ```
//!
//! `kind` is [`KIND_LINE`] or [`KIND_MARKER`], with [`END_OF_BATCH`] set on
//! the last record an `append` call wrote. `0xF5` never occurs in UTF-8, so
//! it cannot appear inside a line's text; after damage the scanner resumes at
//! the next `0xF5` whose record checks out. Records after the last
//! end-of-batch record are the remains of an interrupted append and are
//! dropped, which makes every batch all-or-nothing. The trailing newline
//! keeps a segment readable with `strings` or `less` when debugging.

use crate::line;
use std::ops::Range;

/// Length of a segment header in bytes.
pub const HEADER_LEN: usize = 16;
/// Bytes a record adds to its text: magic, kind, length, checksum, newline.
pub const RECORD_OVERHEAD: usize = 11;
/// First byte of every record; never part of valid UTF-8.
pub const RECORD_MAGIC: u8 = 0xF5;
/// Record kind: a line handed to `append` (or migrated).
pub const KIND_LINE: u8 = 0x01;
/// Record kind: a marker the buffer wrote in place of evicted lines.
pub const KIND_MARKER: u8 = 0x02;
/// Flag on the kind byte of the last record of one `append` call.
pub const END_OF_BATCH: u8 = 0x80;

const HEADER_MAGIC: &[u8; 6] = b"SSLBUF";
const VERSION: u8 = 1;
const RECORD_HEAD: usize = 10;

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// Continues a CRC-32 (IEEE 802.3, as in zlib) computation: start with
/// `0xFFFF_FFFF`, feed the bytes, and invert the result.
fn crc32_update(mut crc: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        crc = CRC_TABLE[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

/// CRC-32 (IEEE 802.3, the checksum of zlib and gzip) of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    !crc32_update(0xFFFF_FFFF, bytes)
}

fn record_crc(kind: u8, len: [u8; 4], text: &[u8]) -> u32 {
    let crc = crc32_update(0xFFFF_FFFF, &[kind]);
    let crc = crc32_update(crc, &len);
    !crc32_update(crc, text)
}

/// The header of a segment whose cursors start counting at `base`.
pub fn encode_header(base: u32) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[..6].copy_from_slice(HEADER_MAGIC);
    out[6] = VERSION;
    out[7] = 0;
    out[8..12].copy_from_slice(&base.to_le_bytes());
    let crc = crc32(&out[..12]);
    out[12..16].copy_from_slice(&crc.to_le_bytes());
    out
}

/// The `base` of a segment header, or `None` if `bytes` does not start with
/// a complete, intact header.
pub fn decode_header(bytes: &[u8]) -> Option<u32> {
    let head = bytes.get(..HEADER_LEN)?;
    if &head[..6] != HEADER_MAGIC || head[6] != VERSION || head[7] != 0 {
        return None;
    }
    let crc = u32::from_le_bytes(head[12..16].try_into().ok()?);
    if crc32(&head[..12]) != crc {
        return None;
    }
    Some(u32::from_le_bytes(head[8..12].try_into().ok()?))
}

/// Appends the record for `text` to `out`. `kind` is [`KIND_LINE`] or
/// [`KIND_MARKER`], optionally with [`END_OF_BATCH`].
///
/// The caller validates `text` with [`line::validate`] first; the length
/// always fits a `u32` because lines are at most [`line::MAX_LINE_BYTES`].
pub fn encode_record(out: &mut Vec<u8>, kind: u8, text: &str) {
    debug_assert!(text.len() <= line::MAX_LINE_BYTES);
    let len = (text.len() as u32).to_le_bytes();
    out.reserve(RECORD_OVERHEAD + text.len());
    out.push(RECORD_MAGIC);
    out.push(kind);
    out.extend_from_slice(&len);
    out.extend_from_slice(&record_crc(kind, len, text.as_bytes()).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
}

/// Bytes the record for a text of `text_len` bytes takes.
pub fn record_len(text_len: usize) -> usize {
    RECORD_OVERHEAD + text_len
}

/// A record found by [`scan_records`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScannedRecord {
    /// Offset of the record's first byte, counted like the `start` passed
    /// to [`scan_records`].
    pub offset: usize,
    /// [`KIND_LINE`] or [`KIND_MARKER`] (without [`END_OF_BATCH`]).
    pub kind: u8,
    /// Where the text is, counted like `offset`. The text passed
    /// [`line::validate`] and is valid UTF-8.
    pub text: Range<usize>,
}

impl ScannedRecord {
    /// Total length of the record on disk.
    pub fn len(&self) -> usize {
        record_len(self.text.len())
    }

    /// Whether the record has no text (never true for a scanned record).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// What [`scan_records`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Intact records of complete batches, in file order.
    pub records: Vec<ScannedRecord>,
    /// End of the last complete batch: bytes from here on are a torn tail
    /// or garbage that a writer may cut off.
    pub valid_end: usize,
    /// Damaged stretches skipped: each run of unparseable bytes, each record
    /// whose text is not a valid line, and each record of an interrupted
    /// batch counts once.
    pub corrupt_lines: u64,
    /// Bytes in those stretches.
    pub corrupt_bytes: u64,
    /// The part of `corrupt_lines` found after `valid_end` (a torn tail).
    pub tail_corrupt_lines: u64,
}

enum Parse {
    Record {
        kind: u8,
        end_of_batch: bool,
        text_len: usize,
    },
    /// Framing and checksum are fine but the text is no valid line.
    BadText {
        len: usize,
    },
    Invalid,
}

fn parse_at(bytes: &[u8], pos: usize) -> Parse {
    let Some(head) = bytes.get(pos..pos + RECORD_HEAD) else {
        return Parse::Invalid;
    };
    if head[0] != RECORD_MAGIC {
        return Parse::Invalid;
    }
    let kind = head[1];
    let end_of_batch = kind & END_OF_BATCH != 0;
    let base_kind = kind & !END_OF_BATCH;
    if base_kind != KIND_LINE && base_kind != KIND_MARKER {
        return Parse::Invalid;
    }
    let len_bytes: [u8; 4] = [head[2], head[3], head[4], head[5]];
    let len = u32::from_le_bytes(len_bytes) as usize;
    if len > line::MAX_LINE_BYTES {
        return Parse::Invalid;
    }
    let crc = u32::from_le_bytes([head[6], head[7], head[8], head[9]]);
    let text_start = pos + RECORD_HEAD;
    let Some(text) = bytes.get(text_start..text_start + len) else {
        return Parse::Invalid;
    };
    if bytes.get(text_start + len) != Some(&b'\n') {
        return Parse::Invalid;
    }
    if record_crc(kind, len_bytes, text) != crc {
        return Parse::Invalid;
    }
    match std::str::from_utf8(text) {
        Ok(s) if line::validate(s).is_ok() => Parse::Record {
            kind: base_kind,
            end_of_batch,
            text_len: len,
        },
        _ => Parse::BadText {
            len: record_len(len),
        },
    }
}

/// Finds the records in `bytes[start..]`, skipping damage.
///
/// Never panics, whatever the bytes. Every returned record's text is a
/// valid line (UTF-8, passes [`line::validate`]). Records of a batch whose
/// end-of-batch record is missing at the end of the bytes are left out
/// (counted as corrupt): they belong to an append that never finished.
pub fn scan_records(bytes: &[u8], start: usize) -> Scan {
    let mut scanner = Scanner::new(start.min(bytes.len()));
    scanner.feed(bytes, 0, true);
    scanner.finish()
}

/// Longest stretch a record can take: a window of the file this much
/// longer than a position holds any record that starts there.
pub const MAX_RECORD_LEN: usize = RECORD_HEAD + line::MAX_LINE_BYTES + 1;

/// [`scan_records`] over a file read piece by piece: memory stays bounded
/// by the window the caller reads, however long the file (plus the
/// records found). Offsets are counted from the start of the file.
#[derive(Debug)]
pub struct Scanner {
    pos: usize,
    scan: Scan,
    /// Records of the current batch, not yet confirmed by an end-of-batch
    /// record.
    pending: Vec<ScannedRecord>,
    garbage_from: Option<usize>,
    corrupt_at_valid_end: u64,
}

impl Scanner {
    /// A scan starting at offset `start` of the file.
    pub fn new(start: usize) -> Scanner {
        Scanner {
            pos: start,
            scan: Scan {
                valid_end: start,
                ..Scan::default()
            },
            pending: Vec::new(),
            garbage_from: None,
            corrupt_at_valid_end: 0,
        }
    }

    /// Where the next window must start (or earlier: a window may overlap).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Scans `window`, the file's bytes from offset `window_start`, which
    /// must be at most [`position`](Self::position). Unless `last` (the
    /// window reaches the end of the file), stops where a record might run
    /// past the window: feed the next window from `position()` on.
    pub fn feed(&mut self, window: &[u8], window_start: usize, last: bool) {
        debug_assert!(window_start <= self.pos);
        let end = window_start + window.len();
        while self.pos < end {
            let at = self.pos - window_start;
            if !last && window.len() - at < MAX_RECORD_LEN {
                return;
            }
            match parse_at(window, at) {
                Parse::Record {
                    kind,
                    end_of_batch,
                    text_len,
                } => {
                    self.end_garbage();
                    let pos = self.pos;
                    self.pending.push(ScannedRecord {
                        offset: pos,
                        kind,
                        text: pos + RECORD_HEAD..pos + RECORD_HEAD + text_len,
                    });
                    self.pos += record_len(text_len);
                    if end_of_batch {
                        self.end_batch();
                    }
                }
                Parse::BadText { len } => {
                    self.end_garbage();
                    self.scan.corrupt_lines += 1;
                    self.scan.corrupt_bytes += len as u64;
                    // A checksummed record with a bad text still ends a
                    // batch if it says so; it is skipped, its neighbours
                    // are kept.
                    let end_of_batch = window[at + 1] & END_OF_BATCH != 0;
                    self.pos += len;
                    if end_of_batch {
                        self.end_batch();
                    }
                }
                Parse::Invalid => {
                    self.garbage_from.get_or_insert(self.pos);
                    // Resume at the next possible record start.
                    self.pos = window[at + 1..]
                        .iter()
                        .position(|&b| b == RECORD_MAGIC)
                        .map_or(end, |i| self.pos + 1 + i);
                }
            }
        }
    }

    /// Moves past `position()..to`, which the caller knows to be all zero
    /// bytes (a hole in a sparse file): garbage, no record can start there.
    pub fn skip_zeros(&mut self, to: usize) {
        if to > self.pos {
            self.garbage_from.get_or_insert(self.pos);
            self.pos = to;
        }
    }

    /// Takes the records of complete batches found so far (the scan then
    /// holds no records, only counts).
    pub fn take_records(&mut self) -> Vec<ScannedRecord> {
        std::mem::take(&mut self.scan.records)
    }

    /// The scan, once the last window was fed.
    pub fn finish(mut self) -> Scan {
        if let Some(from) = self.garbage_from.take() {
            self.scan.corrupt_lines += 1;
            self.scan.corrupt_bytes += (self.pos - from) as u64;
        }
        for record in &self.pending {
            self.scan.corrupt_lines += 1;
            self.scan.corrupt_bytes += record.len() as u64;
        }
        self.scan.tail_corrupt_lines = self.scan.corrupt_lines - self.corrupt_at_valid_end;
        self.scan
    }

    fn end_garbage(&mut self) {
        if let Some(from) = self.garbage_from.take() {
            self.scan.corrupt_lines += 1;
            self.scan.corrupt_bytes += (self.pos - from) as u64;
        }
    }

    fn end_batch(&mut self) {
        self.scan.records.append(&mut self.pending);
        self.scan.valid_end = self.pos;
        self.corrupt_at_valid_end = self.scan.corrupt_lines;
    }
}

/// The record at the start of `bytes`, checked (framing, checksum, valid
/// line), regardless of batches: `(kind without END_OF_BATCH, text)`.
pub fn decode_record(bytes: &[u8]) -> Option<(u8, &str)> {
    match parse_at(bytes, 0) {
        Parse::Record { kind, text_len, .. } => {
            let text = &bytes[RECORD_HEAD..RECORD_HEAD + text_len];
            std::str::from_utf8(text).ok().map(|t| (kind, t))
        }
        _ => None,
    }
}

/// What [`recover_segment`] found in a whole segment file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// The header's base, if the header is intact. Without one the records
    /// are still recovered (with base 0), but nothing more is appended to
    /// the segment.
    pub base: Option<u32>,
    /// The records and damage found after the header.
    pub scan: Scan,
}

/// Recovers the records of a whole segment file: the pure core of opening a
/// buffer, and the fuzzing target.
pub fn recover_segment(bytes: &[u8]) -> Recovered {
    match decode_header(bytes) {
        Some(base) => Recovered {
            base: Some(base),
            scan: scan_records(bytes, HEADER_LEN),
        },
        None => {
            // No intact header (damage, or a crash while the file was being
            // created): recover what records there are.
            let scan = scan_records(bytes, 0);
            Recovered { base: None, scan }
        }
    }
}

/// The counts in a marker written by [`line::dropped_marker`], if `text` is
/// one: `(lines, bytes)`.
pub fn parse_dropped_marker(text: &str) -> Option<(u64, u64)> {
    let rest = text.strip_prefix("{\"sockstatlog\":{\"dropped_lines\":")?;
    let (lines, rest) = split_number(rest)?;
    let rest = rest.strip_prefix(",\"dropped_bytes\":")?;
    let (bytes, rest) = split_number(rest)?;
    rest.strip_prefix(",\"reason\":\"")?;
    Some((lines, bytes))
}

fn split_number(s: &str) -> Option<(u64, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let n = s[..digits].parse().ok()?;
    Some((n, &s[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(lines: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, text) in lines.iter().enumerate() {
            let kind = if i + 1 == lines.len() {
                KIND_LINE | END_OF_BATCH
            } else {
                KIND_LINE
            };
            encode_record(&mut out, kind, text);
        }
        out
    }

    fn texts<'a>(bytes: &'a [u8], scan: &Scan) -> Vec<&'a str> {
        scan.records
            .iter()
            .map(|r| std::str::from_utf8(&bytes[r.text.clone()]).unwrap())
            .collect()
    }

    fn segment(batches: &[&[&str]]) -> Vec<u8> {
        let mut out = encode_header(0).to_vec();
        for b in batches {
            out.extend(batch(b));
        }
        out
    }

    #[test]
    fn scanning_window_by_window_finds_what_one_scan_finds() {
        let mut bytes = segment(&[&["one", "two"], &["three"]]);
        bytes.extend_from_slice(&[0xF5, 0x01, 0x00]);
        bytes.extend(std::iter::repeat_n(b'z', 3 * MAX_RECORD_LEN));
        bytes.extend_from_slice(&batch(&["four", &"x".repeat(line::MAX_LINE_BYTES)]));
        bytes.extend_from_slice(&vec![0u8; MAX_RECORD_LEN]);
        bytes.extend_from_slice(&batch(&["five"]));
        bytes.extend_from_slice(&batch(&["torn"])[..7]);
        let whole = scan_records(&bytes, HEADER_LEN);
        for window in [MAX_RECORD_LEN + 1, MAX_RECORD_LEN + 977, 3 * MAX_RECORD_LEN] {
            let mut scanner = Scanner::new(HEADER_LEN);
            let mut records = Vec::new();
            loop {
                let from = scanner.position();
                let to = (from + window).min(bytes.len());
                let last = to == bytes.len();
                scanner.feed(&bytes[from..to], from, last);
                records.extend(scanner.take_records());
                if last {
                    break;
                }
            }
            let mut scan = scanner.finish();
            scan.records = records;
            assert_eq!(scan, whole, "window {window}");
        }
        assert_eq!(texts(&bytes, &whole)[..3], ["one", "two", "three"]);
        assert_eq!(whole.records.len(), 6);
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn a_record_is_text_framed_by_eleven_bytes() {
        let mut out = Vec::new();
        encode_record(&mut out, KIND_LINE | END_OF_BATCH, "hi");
        assert_eq!(out.len(), 13);
        assert_eq!(&out[..6], &[0xF5, 0x81, 2, 0, 0, 0]);
        assert_eq!(&out[10..], b"hi\n");
    }

    #[test]
    fn a_header_round_trips_and_damage_is_detected() {
        let header = encode_header(1234);
        assert_eq!(decode_header(&header), Some(1234));
        let mut bad = header;
        bad[9] ^= 1;
        assert_eq!(decode_header(&bad), None);
        assert_eq!(decode_header(&header[..15]), None);
    }

    #[test]
    fn intact_batches_are_read_back_in_order() {
        let bytes = segment(&[&["a", "b"], &["c"]]);
        let recovered = recover_segment(&bytes);
        assert_eq!(recovered.base, Some(0));
        assert_eq!(texts(&bytes, &recovered.scan), ["a", "b", "c"]);
        assert_eq!(recovered.scan.valid_end, bytes.len());
        assert_eq!(recovered.scan.corrupt_lines, 0);
    }

    #[test]
    fn every_cut_of_a_batch_drops_exactly_that_whole_batch() {
        let full = segment(&[&["first"], &["x", "yy", "zzz"]]);
        let first_end = HEADER_LEN + record_len(5);
        for cut in first_end..full.len() {
            let scan = recover_segment(&full[..cut]).scan;
            assert_eq!(texts(&full, &scan), ["first"], "cut at {cut}");
            assert_eq!(scan.valid_end, first_end, "cut at {cut}");
            let torn = cut > first_end;
            assert_eq!(scan.corrupt_lines > 0, torn, "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_byte_loses_only_its_record() {
        let bytes = segment(&[&["one"], &["two"], &["three"]]);
        let second = HEADER_LEN + record_len(3);
        for i in second..second + record_len(3) {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x40;
            let scan = recover_segment(&damaged).scan;
            assert_eq!(texts(&damaged, &scan), ["one", "three"], "flip at {i}");
            assert_eq!(scan.corrupt_lines, 1, "flip at {i}");
            assert_eq!(scan.valid_end, damaged.len());
        }
    }

    #[test]
    fn a_checksummed_record_with_invalid_text_is_skipped_and_counted() {
        let mut bytes = encode_header(0).to_vec();
        let mut raw = Vec::new();
        encode_record(&mut raw, KIND_LINE | END_OF_BATCH, "ok");
        // Forge a record whose text is not UTF-8 but whose checksum fits.
        let text = [0xC3u8, 0x28];
        let len = 2u32.to_le_bytes();
        let kind = KIND_LINE | END_OF_BATCH;
        bytes.extend([RECORD_MAGIC, kind]);
        bytes.extend(len);
        bytes.extend(record_crc(kind, len, &text).to_le_bytes());
        bytes.extend(text);
        bytes.push(b'\n');
        bytes.extend(&raw);
        let scan = recover_segment(&bytes).scan;
        assert_eq!(texts(&bytes, &scan), ["ok"]);
        assert_eq!(scan.corrupt_lines, 1);
        assert_eq!(scan.corrupt_bytes, 13);
    }

    #[test]
    fn a_file_without_a_header_still_yields_its_records() {
        let bytes = batch(&["a"]);
        let recovered = recover_segment(&bytes);
        assert_eq!(recovered.base, None);
        assert_eq!(texts(&bytes, &recovered.scan), ["a"]);
    }

    #[test]
    fn the_marker_counts_are_read_back() {
        let marker = line::dropped_marker(12, 3456, "buffer full");
        assert_eq!(parse_dropped_marker(&marker), Some((12, 3456)));
        assert_eq!(parse_dropped_marker("{\"x\":1}"), None);
    }
}
