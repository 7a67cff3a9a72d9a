//! A durable log buffer in a directory: segment files of checksummed
//! records, crash-safe, bounded, shareable by two processes.
//!
//! Layout of the directory (see `docs/BUFFER.md` for the full rules):
//!
//! - `sockstatlog.NNNNNNNN.seg`: segment files (`NNNNNNNN` = segment number,
//!   8 hex digits), in the [record format](super::record). Appends go to the
//!   newest one; a new one is started when it would grow past
//!   [`FileBufferOptions::segment_bytes`].
//! - `sockstatlog.consumed`: the cursor of the last line removed with
//!   [`LogBuffer::remove_through`]: two slots of 8 bytes, little endian,
//!   plus a CRC-32, overwritten in turn in place (so removals need no new
//!   block on a full disk, and a torn write spares the newer slot).
//! - `sockstatlog.lock`: an empty file locked with `flock` for the duration
//!   of each operation only, never while idle.
//!
//! A [`Cursor`] is `segment number << 32 | position`, where position is the
//! record's offset in its segment file plus the base in the segment's
//! header. Cursors only grow, and stay valid while other instances append.

use super::file_ops::{FileOps, OpenMode, RealFileOps};
use super::record::{self, END_OF_BATCH, HEADER_LEN, KIND_LINE, KIND_MARKER};
use super::{BufferError, BufferStats, BufferedLine, Cursor, LogBuffer};
use crate::line;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufRead, Read};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

const LOCK_NAME: &str = "sockstatlog.lock";
const CONSUMED_NAME: &str = "sockstatlog.consumed";
const SEGMENT_PREFIX: &str = "sockstatlog.";
const SEGMENT_SUFFIX: &str = ".seg";
const TMP_SUFFIX: &str = ".tmp";
const PROBE_NAME: &str = "sockstatlog.probe.tmp";
/// The Go logger's files, taken over once by [`FileBuffer::open`].
const LEGACY_FILES: [&str; 2] = ["sockstats.log1.txt", "sockstats.log2.txt"];
/// Size of one slot of the `consumed` file: cursor (u64 LE) + CRC-32.
const CONSUMED_SLOT: usize = 12;
/// Size of the `consumed` file: two slots, overwritten in turn in place.
const CONSUMED_LEN: usize = 2 * CONSUMED_SLOT;
/// Room kept for a marker record: the longest marker text is 114 bytes.
const MARKER_RESERVE: u64 = record::RECORD_OVERHEAD as u64 + 128;
/// The smallest cap accepted: room for a segment holding just a marker.
const MIN_CAP_BYTES: u64 = 1024;
/// The largest cap accepted: keeps every position within 32 bits.
const MAX_CAP_BYTES: u64 = 1 << 30;
/// Migrated lines are appended in batches of about this many bytes.
const MIGRATION_BATCH_BYTES: usize = 256 * 1024;
const MARKER_FLAG: u32 = 1 << 31;

/// Settings of a [`FileBuffer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileBufferOptions {
    /// Most bytes the segment files may take together. Past it, the oldest
    /// unsent lines are evicted, whole segments at a time, and a marker line
    /// (`line::dropped_marker(lines, bytes, "buffer full")`) takes their
    /// place. Clamped to 1 KiB ..= 1 GiB. Default: 5 MiB (the original's).
    pub cap_bytes: u64,
    /// Size at which appends move on to a new segment file: the unit of
    /// eviction. Clamped to 256 bytes ..= `cap_bytes / 4`. Default: 640 KiB
    /// (an eighth of the default cap).
    pub segment_bytes: u64,
    /// Whether each `append` (and each removal) is flushed to stable storage
    /// with fsync (`F_FULLFSYNC` on Apple platforms) before it returns.
    /// Without it, appended lines survive a crash of the process but not
    /// necessarily a power loss. Default: `true`.
    pub fsync: bool,
}

impl Default for FileBufferOptions {
    fn default() -> Self {
        FileBufferOptions {
            cap_bytes: 5 * 1024 * 1024,
            segment_bytes: 640 * 1024,
            fsync: true,
        }
    }
}

impl FileBufferOptions {
    fn clamped(&self) -> FileBufferOptions {
        let cap_bytes = self.cap_bytes.clamp(MIN_CAP_BYTES, MAX_CAP_BYTES);
        FileBufferOptions {
            cap_bytes,
            segment_bytes: self.segment_bytes.clamp(256, cap_bytes / 4),
            fsync: self.fsync,
        }
    }
}

/// A durable, bounded log buffer in a directory.
///
/// - **Durable**: when [`append`](LogBuffer::append) returns `Ok`, its lines
///   are in the segment file and, with [`FileBufferOptions::fsync`] (the
///   default), flushed to stable storage. A crash at any instant leaves
///   each batch either entirely there or entirely absent.
/// - **At-least-once**: lines leave only through
///   [`remove_through`](LogBuffer::remove_through) or eviction.
/// - **Shared**: several instances, in one process or two, may use one
///   directory; each operation holds an advisory lock on
///   `sockstatlog.lock` only while it runs.
///
/// Counters in [`stats`](LogBuffer::stats): `lines` and `bytes` describe the
/// directory as of the latest operation; the others count what this instance
/// did or saw since it was opened.
pub struct FileBuffer {
    dir: PathBuf,
    options: FileBufferOptions,
    ops: Arc<dyn FileOps>,
    inner: Mutex<Inner>,
}

impl fmt::Debug for FileBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileBuffer")
            .field("dir", &self.dir)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug)]
struct Rec {
    /// Offset of the record in its file.
    offset: u32,
    /// Text length, with [`MARKER_FLAG`] set for markers.
    len: u32,
}

impl Rec {
    fn text_len(self) -> u64 {
        (self.len & !MARKER_FLAG) as u64
    }

    fn is_marker(self) -> bool {
        self.len & MARKER_FLAG != 0
    }
}

#[derive(Debug)]
struct Segment {
    number: u32,
    /// (device, inode): a segment replaced by a marker has a new one.
    id: (u64, u64),
    base: u32,
    /// Whether appends may go here (intact header, room for positions).
    appendable: bool,
    file_len: u64,
    valid_end: u64,
    /// Corrupt lines counted in `valid_end..file_len`, so that a rescan of
    /// that tail does not count them twice.
    tail_corrupt: u64,
    records: Vec<Rec>,
}

impl Segment {
    fn cursor(&self, rec: Rec) -> u64 {
        (self.number as u64) << 32 | (self.base as u64 + rec.offset as u64)
    }

    fn last_cursor(&self) -> Option<u64> {
        self.records.last().map(|&r| self.cursor(r))
    }

    /// Index of the first record with a cursor above `after`.
    fn first_after(&self, after: Option<u64>) -> usize {
        match after {
            None => 0,
            Some(after) => self.records.partition_point(|&r| self.cursor(r) <= after),
        }
    }
}

#[derive(Debug)]
struct Inner {
    lock_file: File,
    segments: Vec<Segment>,
    consumed: Option<u64>,
    stats: BufferStats,
}

/// Holds the directory lock; releases it when dropped.
struct DirLock<'a>(&'a File);

impl<'a> DirLock<'a> {
    fn acquire(file: &'a File) -> io::Result<Self> {
        loop {
            // SAFETY: flock on a file descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(DirLock(file));
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

impl Drop for DirLock<'_> {
    fn drop(&mut self) {
        // SAFETY: flock on a file descriptor we own. Closing would also
        // release it; an error here leaves nothing to do.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

fn io_err<'a>(
    operation: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> BufferError + 'a {
    move |source| BufferError::Io {
        operation,
        path: path.to_path_buf(),
        source,
    }
}

fn is_disk_full(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
        || err.kind() == io::ErrorKind::StorageFull
}

fn parse_segment_name(name: &str) -> Option<u32> {
    let hex = name
        .strip_prefix(SEGMENT_PREFIX)?
        .strip_suffix(SEGMENT_SUFFIX)?;
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

fn segment_name(number: u32) -> String {
    format!("{SEGMENT_PREFIX}{number:08x}{SEGMENT_SUFFIX}")
}

fn encode_consumed(cursor: u64) -> [u8; CONSUMED_SLOT] {
    let mut out = [0u8; CONSUMED_SLOT];
    out[..8].copy_from_slice(&cursor.to_le_bytes());
    let crc = record::crc32(&out[..8]);
    out[8..].copy_from_slice(&crc.to_le_bytes());
    out
}

/// The two slots of the `consumed` file (`None`: missing or damaged).
fn decode_consumed(bytes: &[u8]) -> [Option<u64>; 2] {
    let slot = |i: usize| {
        let b = bytes.get(i * CONSUMED_SLOT..(i + 1) * CONSUMED_SLOT)?;
        let crc = u32::from_le_bytes(b[8..].try_into().ok()?);
        (record::crc32(&b[..8]) == crc).then(|| u64::from_le_bytes(b[..8].try_into().unwrap()))
    };
    [slot(0), slot(1)]
}

/// Reads at most `limit` bytes of a file from offset 0.
fn read_prefix(file: &File, limit: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; limit];
    let mut done = 0;
    while done < limit {
        match file.read_at(&mut buf[done..], done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(done);
    Ok(buf)
}

impl FileBuffer {
    /// Opens (creating it, mode 0700, if missing) the buffer in `dir`.
    ///
    /// Recovers from any earlier crash (cuts off a torn last batch, skips
    /// and counts damaged records), and takes over the lines of the Go
    /// logger's `sockstats.log1.txt` / `sockstats.log2.txt` if present.
    ///
    /// Errors: [`BufferError::NotADirectory`] if `dir` is a file,
    /// [`BufferError::NotWritable`] if the directory cannot be written,
    /// [`BufferError::Io`] for other failures.
    pub fn open(dir: &Path, options: FileBufferOptions) -> Result<FileBuffer, BufferError> {
        Self::open_with_ops(dir, options, Arc::new(RealFileOps))
    }

    /// [`open`](Self::open) with every change to the disk made through
    /// `ops`: for injecting faults and recording operations in tests.
    pub fn open_with_ops(
        dir: &Path,
        options: FileBufferOptions,
        ops: Arc<dyn FileOps>,
    ) -> Result<FileBuffer, BufferError> {
        match fs::metadata(dir) {
            Ok(meta) if !meta.is_dir() => {
                return Err(BufferError::NotADirectory {
                    path: dir.to_path_buf(),
                })
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|source| match source.kind() {
                        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                            BufferError::NotWritable {
                                path: dir.to_path_buf(),
                                source,
                            }
                        }
                        _ => BufferError::Io {
                            operation: "create directory",
                            path: dir.to_path_buf(),
                            source,
                        },
                    })?;
            }
            Err(source) => {
                return Err(BufferError::Io {
                    operation: "inspect directory",
                    path: dir.to_path_buf(),
                    source,
                })
            }
        }
        let not_writable = |source: io::Error| match source.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                BufferError::NotWritable {
                    path: dir.to_path_buf(),
                    source,
                }
            }
            _ => BufferError::Io {
                operation: "create file",
                path: dir.to_path_buf(),
                source,
            },
        };
        let lock_file = ops
            .open(&dir.join(LOCK_NAME), OpenMode::ReadWrite)
            .map_err(not_writable)?;
        let buffer = FileBuffer {
            dir: dir.to_path_buf(),
            options: options.clamped(),
            ops,
            inner: Mutex::new(Inner {
                lock_file,
                segments: Vec::new(),
                consumed: None,
                stats: BufferStats::default(),
            }),
        };
        {
            let mut inner = buffer.lock_inner();
            let lock_file = inner.lock_file.try_clone().map_err(not_writable)?;
            let _lock = DirLock::acquire(&lock_file).map_err(io_err("lock", dir))?;
            // The lock file may predate a change to read-only: probe.
            let probe = dir.join(PROBE_NAME);
            buffer
                .ops
                .open(&probe, OpenMode::CreateTruncate)
                .map_err(not_writable)?;
            buffer.ops.remove(&probe).map_err(not_writable)?;
            buffer.remove_stale_temporaries();
            buffer.preallocate_consumed();
            buffer.refresh(&mut inner)?;
            buffer.remove_consumed_segments(&mut inner)?;
            buffer.migrate_legacy(&mut inner)?;
        }
        Ok(buffer)
    }

    /// The directory this buffer lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options in force, after clamping.
    pub fn options(&self) -> &FileBufferOptions {
        &self.options
    }

    /// Every line held, oldest first, without removing anything: a
    /// read-only view for local debugging.
    pub fn all_lines(&self) -> Result<Vec<BufferedLine>, BufferError> {
        self.read(None, usize::MAX)
    }

    fn lock_inner(&self) -> MutexGuard<'_, Inner> {
        // Every mutation of Inner leaves it consistent before anything that
        // could panic, and `refresh` rebuilds it from disk anyway.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with the directory locked and the view of it up to date.
    fn with_lock<T>(
        &self,
        f: impl FnOnce(&mut Inner) -> Result<T, BufferError>,
    ) -> Result<T, BufferError> {
        let mut inner = self.lock_inner();
        let lock_file = inner
            .lock_file
            .try_clone()
            .map_err(io_err("lock", &self.dir))?;
        let _lock = DirLock::acquire(&lock_file).map_err(io_err("lock", &self.dir))?;
        self.refresh(&mut inner)?;
        f(&mut inner)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn sync_dir(&self) -> Result<(), BufferError> {
        if !self.options.fsync {
            return Ok(());
        }
        self.ops
            .sync_dir(&self.dir)
            .map_err(io_err("sync directory", &self.dir))
    }

    fn write_all(&self, path: &Path, file: &File, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            match self.ops.write(path, file, data) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes `data` to `name` atomically: temporary file, fsync, rename.
    /// Returns the (device, inode) of the new file.
    fn replace_file(&self, name: &str, data: &[u8]) -> Result<(u64, u64), io::Error> {
        let tmp = self.path(&format!("{name}{TMP_SUFFIX}"));
        let result = (|| {
            let file = self.ops.open(&tmp, OpenMode::CreateTruncate)?;
            self.write_all(&tmp, &file, data)?;
            if self.options.fsync {
                self.ops.sync(&tmp, &file)?;
            }
            let meta = file.metadata()?;
            self.ops.rename(&tmp, &self.path(name))?;
            Ok((meta.dev(), meta.ino()))
        })();
        if result.is_err() {
            let _ = self.ops.remove(&tmp);
        }
        result
    }

    fn remove_stale_temporaries(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(SEGMENT_PREFIX) && name.ends_with(TMP_SUFFIX) {
                let _ = self.ops.remove(&entry.path());
            }
        }
    }

    /// Brings the in-memory view up to date with the directory, which other
    /// instances may have changed. Called with the directory locked.
    fn refresh(&self, inner: &mut Inner) -> Result<(), BufferError> {
        let mut numbers = Vec::new();
        let entries = fs::read_dir(&self.dir).map_err(io_err("list directory", &self.dir))?;
        for entry in entries {
            let entry = entry.map_err(io_err("list directory", &self.dir))?;
            if let Some(number) = entry.file_name().to_str().and_then(parse_segment_name) {
                numbers.push(number);
            }
        }
        numbers.sort_unstable();
        let mut old = std::mem::take(&mut inner.segments).into_iter().peekable();
        let mut segments = Vec::with_capacity(numbers.len());
        for number in numbers {
            let mut cached = None;
            while let Some(seg) = old.next_if(|s| s.number <= number) {
                if seg.number == number {
                    cached = Some(seg);
                }
            }
            let path = self.path(&segment_name(number));
            let meta = match fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err("inspect segment", &path)(e)),
            };
            if !meta.is_file() {
                continue;
            }
            let id = (meta.dev(), meta.ino());
            let len = meta.len();
            let segment = match cached {
                Some(seg) if seg.id == id && seg.file_len == len && seg.valid_end == len => seg,
                Some(mut seg) if seg.id == id && len >= seg.valid_end => {
                    let scan = scan_file(&path, seg.valid_end, len, &mut seg.records)?;
                    let new_corrupt = scan.corrupt_lines.saturating_sub(seg.tail_corrupt);
                    self.note_corrupt(inner, &path, new_corrupt, scan.corrupt_bytes);
                    seg.valid_end = scan.valid_end as u64;
                    seg.file_len = len;
                    seg.tail_corrupt = tail_corrupt(&scan);
                    seg.appendable = seg.appendable && fits_positions(seg.base, len);
                    seg
                }
                _ => {
                    let header = read_range(&path, 0, (HEADER_LEN as u64).min(len))?;
                    let recovered_base = record::decode_header(&header);
                    let start = if recovered_base.is_some() {
                        HEADER_LEN as u64
                    } else {
                        0
                    };
                    let mut records = Vec::new();
                    let scan = &scan_file(&path, start, len, &mut records)?;
                    self.note_corrupt(inner, &path, scan.corrupt_lines, scan.corrupt_bytes);
                    let (base, appendable) = match recovered_base {
                        Some(base) if fits_positions(base, len) => (base, true),
                        _ => (0, false),
                    };
                    Segment {
                        number,
                        id,
                        base,
                        appendable,
                        file_len: len,
                        valid_end: scan.valid_end as u64,
                        tail_corrupt: tail_corrupt(scan),
                        records,
                    }
                }
            };
            segments.push(segment);
        }
        inner.segments = segments;
        inner.consumed = match self.read_consumed() {
            Ok(Some(bytes)) => match decode_consumed(&bytes) {
                // The newer of two intact slots; the other may be torn.
                [Some(a), Some(b)] => Some(a.max(b)),
                [Some(c), None] | [None, Some(c)] => Some(c),
                [None, None] => {
                    if bytes.iter().any(|&b| b != 0) {
                        log::warn!(
                            "sockstatlog buffer: {} is damaged; lines already sent may be sent again",
                            self.path(CONSUMED_NAME).display()
                        );
                    }
                    inner.consumed
                }
            },
            Ok(None) => None,
            Err(e) => return Err(io_err("read", &self.path(CONSUMED_NAME))(e)),
        };
        let (mut lines, mut bytes) = (0, 0);
        for seg in &inner.segments {
            for &rec in &seg.records[seg.first_after(inner.consumed)..] {
                lines += 1;
                bytes += rec.text_len();
            }
        }
        inner.stats.lines = lines;
        inner.stats.bytes = bytes;
        Ok(())
    }

    /// The first bytes of the `consumed` file (`None` if there is none).
    /// Bounded: a huge file planted there costs no memory.
    fn read_consumed(&self) -> io::Result<Option<Vec<u8>>> {
        match File::open(self.path(CONSUMED_NAME)) {
            Ok(file) => read_prefix(&file, CONSUMED_LEN).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Records `cursor` as consumed: overwrites, in place, the slot of the
    /// `consumed` file holding the older cursor, then syncs. No new block
    /// is needed once the file exists (so it works on a full disk), and a
    /// torn write damages only the older slot: the newer one still stands.
    fn write_consumed(&self, cursor: u64) -> io::Result<()> {
        let path = self.path(CONSUMED_NAME);
        let existed = path.exists();
        let file = self.ops.open(&path, OpenMode::ReadWrite)?;
        let slot = match decode_consumed(&read_prefix(&file, CONSUMED_LEN)?) {
            [Some(a), Some(b)] if b < a => 1,
            [Some(_), None] => 1,
            _ => 0,
        };
        let data = encode_consumed(cursor);
        let mut done = 0;
        while done < data.len() {
            let offset = (slot * CONSUMED_SLOT + done) as u64;
            match self.ops.write_at(&path, &file, &data[done..], offset) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.options.fsync {
            self.ops.sync(&path, &file)?;
            if !existed {
                self.ops.sync_dir(&self.dir)?;
            }
        }
        Ok(())
    }

    /// Creates the `consumed` file, both slots empty, so that recording a
    /// removal later needs no new block (the disk may be full by then).
    /// Best effort: on failure the first removal creates it.
    fn preallocate_consumed(&self) {
        let path = self.path(CONSUMED_NAME);
        if path.exists() {
            return;
        }
        let result = (|| {
            let file = self.ops.open(&path, OpenMode::ReadWrite)?;
            let zeros = [0u8; CONSUMED_LEN];
            let mut done = 0;
            while done < zeros.len() {
                match self
                    .ops
                    .write_at(&path, &file, &zeros[done..], done as u64)?
                {
                    0 => return Err(io::ErrorKind::WriteZero.into()),
                    n => done += n,
                }
            }
            if self.options.fsync {
                self.ops.sync(&path, &file)?;
                self.ops.sync_dir(&self.dir)?;
            }
            Ok::<(), io::Error>(())
        })();
        if let Err(e) = result {
            log::warn!(
                "sockstatlog buffer: could not create {} ({e}); the first removal will",
                path.display()
            );
        }
    }

    fn note_corrupt(&self, inner: &mut Inner, path: &Path, lines: u64, bytes: u64) {
        if lines > 0 {
            inner.stats.corrupt_lines_skipped += lines;
            log::warn!(
                "sockstatlog buffer: skipped {lines} damaged or incomplete records ({bytes} bytes) in {}",
                path.display()
            );
        }
    }

    /// Deletes segments none of whose lines is still held. Keeps the newest
    /// segment if it can take appends and holds nothing at all. Also deletes
    /// the segments older than the newest marker segment: an eviction cut
    /// short by a crash left them, and the marker already counts their lines.
    fn remove_consumed_segments(&self, inner: &mut Inner) -> Result<(), BufferError> {
        let consumed = inner.consumed;
        let count = inner.segments.len();
        let newest_marker_segment = inner
            .segments
            .iter()
            .filter(|s| s.base > 0)
            .map(|s| s.number)
            .max();
        let mut removed = false;
        let mut kept = Vec::with_capacity(count);
        for (i, seg) in std::mem::take(&mut inner.segments).into_iter().enumerate() {
            let evicted = newest_marker_segment.is_some_and(|m| seg.number < m);
            let holds_lines = !evicted && seg.first_after(consumed) < seg.records.len();
            let newest_empty_target = i + 1 == count && seg.appendable && seg.records.is_empty();
            if holds_lines || newest_empty_target {
                kept.push(seg);
                continue;
            }
            let path = self.path(&segment_name(seg.number));
            match self.ops.remove(&path) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    inner.segments = kept;
                    return Err(io_err("remove segment", &path)(e));
                }
            }
        }
        inner.segments = kept;
        if removed {
            self.sync_dir()?;
        }
        Ok(())
    }

    /// The number for a new segment: above every segment seen and above the
    /// segment of the consumed cursor, so cursors keep growing.
    fn next_segment_number(&self, inner: &Inner) -> Result<u32, BufferError> {
        let highest = inner
            .segments
            .iter()
            .map(|s| s.number as u64)
            .chain(inner.consumed.map(|c| c >> 32))
            .max();
        match highest {
            None => Ok(0),
            Some(h) if h < u32::MAX as u64 => Ok(h as u32 + 1),
            Some(_) => Err(BufferError::Io {
                operation: "number a new segment",
                path: self.dir.clone(),
                source: io::Error::other("segment numbers are exhausted; delete the directory"),
            }),
        }
    }

    /// Cuts a torn or damaged tail off the newest segment, so the next batch
    /// follows the last complete one.
    fn repair_newest(&self, inner: &mut Inner) -> Result<(), BufferError> {
        let Some(seg) = inner.segments.last_mut() else {
            return Ok(());
        };
        if !seg.appendable || seg.valid_end == seg.file_len {
            return Ok(());
        }
        let path = self.path(&segment_name(seg.number));
        let file = self
            .ops
            .open(&path, OpenMode::Append)
            .map_err(io_err("open segment", &path))?;
        let keep = seg.valid_end.max(HEADER_LEN as u64);
        self.ops
            .set_len(&path, &file, keep)
            .map_err(io_err("truncate segment", &path))?;
        if self.options.fsync {
            self.ops
                .sync(&path, &file)
                .map_err(io_err("sync segment", &path))?;
        }
        log::warn!(
            "sockstatlog buffer: cut {} bytes of an interrupted write off {}",
            seg.file_len - keep,
            path.display()
        );
        seg.file_len = keep;
        seg.valid_end = keep;
        seg.tail_corrupt = 0;
        Ok(())
    }

    fn read_text(&self, seg: &Segment, rec: Rec) -> Result<Option<String>, BufferError> {
        let path = self.path(&segment_name(seg.number));
        let len = record::record_len(rec.text_len() as usize) as u64;
        let bytes = read_range(&path, rec.offset as u64, rec.offset as u64 + len)?;
        Ok(record::decode_record(&bytes).map(|(_, text)| text.to_string()))
    }

    /// Appends with the directory locked: evicts to stay under the cap,
    /// then writes the batch in one `write` call and syncs it.
    fn append_locked(&self, inner: &mut Inner, lines: &[&str]) -> Result<(), BufferError> {
        if lines.is_empty() {
            return Ok(());
        }
        self.remove_consumed_segments(inner)?;
        // A newest segment that cannot take appends and holds nothing (a
        // crash while it was being created) is deleted; one that holds lines
        // is left alone and a new segment is started after it.
        if let Some(seg) = inner.segments.last() {
            if !seg.appendable && seg.records.is_empty() {
                let path = self.path(&segment_name(seg.number));
                self.ops
                    .remove(&path)
                    .map_err(io_err("remove segment", &path))?;
                inner.segments.pop();
            }
        }
        self.repair_newest(inner)?;

        let opts = &self.options;
        let rec_len = |s: &str| record::record_len(s.len()) as u64;
        let mut evict = 0usize;
        let mut skip = 0usize;
        let mut batch_bytes: u64 = lines.iter().map(|l| rec_len(l)).sum();
        loop {
            let rest = &inner.segments[evict..];
            let rest_bytes: u64 = rest.iter().map(|s| s.file_len).sum();
            let inline_marker = if evict == 0 && skip > 0 {
                MARKER_RESERVE
            } else {
                0
            };
            let marker_segment = if evict > 0 {
                HEADER_LEN as u64 + MARKER_RESERVE
            } else {
                0
            };
            let written = batch_bytes + inline_marker;
            let fits_newest = rest
                .last()
                .is_some_and(|s| s.appendable && s.file_len + written <= opts.segment_bytes);
            let new_header = if written > 0 && !fits_newest {
                HEADER_LEN as u64
            } else {
                0
            };
            if rest_bytes + marker_segment + written + new_header <= opts.cap_bytes {
                break;
            }
            if !rest.is_empty() {
                evict += 1;
            } else if skip < lines.len() {
                batch_bytes -= rec_len(lines[skip]);
                skip += 1;
            } else {
                break;
            }
        }

        let (mut dropped_lines, mut dropped_bytes) = (0u64, 0u64);
        let (mut evicted_lines, mut evicted_bytes) = (0u64, 0u64);
        for seg in &inner.segments[..evict] {
            for &rec in &seg.records[seg.first_after(inner.consumed)..] {
                let counts = if rec.is_marker() {
                    self.read_text(seg, rec)?
                        .and_then(|t| record::parse_dropped_marker(&t))
                } else {
                    None
                };
                match counts {
                    Some((l, b)) => {
                        dropped_lines += l;
                        dropped_bytes += b;
                    }
                    None => {
                        evicted_lines += 1;
                        evicted_bytes += rec.text_len();
                    }
                }
            }
        }
        for l in &lines[..skip] {
            evicted_lines += 1;
            evicted_bytes += l.len() as u64;
        }
        dropped_lines += evicted_lines;
        dropped_bytes += evicted_bytes;
        let marker = (evict > 0 || skip > 0)
            .then(|| line::dropped_marker(dropped_lines, dropped_bytes, "buffer full"));

        if evict > 0 {
            // The marker replaces the newest evicted segment atomically
            // (rename), with a base above every position that segment had,
            // so its cursor sits after the evicted lines and before the
            // remaining ones. Only then are older evicted segments deleted.
            let last = &inner.segments[evict - 1];
            let number = last.number;
            let base = (last.base as u64 + last.file_len).min(u32::MAX as u64 / 2) as u32;
            let mut data = record::encode_header(base).to_vec();
            let text = marker.as_deref().unwrap_or_default();
            record::encode_record(&mut data, KIND_MARKER | END_OF_BATCH, text);
            let name = segment_name(number);
            let id = self.replace_file(&name, &data).map_err(|e| {
                inner.stats.append_errors += 1;
                self.write_error(e, lines.len(), "write marker segment", &name)
            })?;
            // The marker is durable before any evicted segment goes: a
            // power cut in between leaves no gap without it.
            self.sync_dir()?;
            // Newest first; segments below the marker segment that a cut
            // leaves behind are deleted on the next open.
            for seg in inner.segments[..evict - 1].iter().rev() {
                let path = self.path(&segment_name(seg.number));
                match self.ops.remove(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err("remove segment", &path)(e)),
                }
            }
            self.sync_dir()?;
            let marker_segment = Segment {
                number,
                id,
                base,
                appendable: true,
                file_len: data.len() as u64,
                valid_end: data.len() as u64,
                tail_corrupt: 0,
                records: vec![Rec {
                    offset: HEADER_LEN as u32,
                    len: text.len() as u32 | MARKER_FLAG,
                }],
            };
            inner.segments.drain(..evict);
            inner.segments.insert(0, marker_segment);
            inner.stats.evicted_lines += evicted_lines;
            inner.stats.evicted_bytes += evicted_bytes;
            log::warn!(
                "sockstatlog buffer: full ({} byte cap); evicted the {evicted_lines} oldest lines ({evicted_bytes} bytes)",
                opts.cap_bytes
            );
        } else if skip > 0 {
            inner.stats.evicted_lines += evicted_lines;
            inner.stats.evicted_bytes += evicted_bytes;
        }

        // The records of this batch, in one buffer written in one call.
        let kept = &lines[skip..];
        let inline_marker = if evict == 0 { marker.as_deref() } else { None };
        let mut entries: Vec<(u8, &str)> = Vec::with_capacity(kept.len() + 1);
        if let Some(m) = inline_marker {
            entries.push((KIND_MARKER, m));
        }
        entries.extend(kept.iter().map(|l| (KIND_LINE, *l)));
        if entries.is_empty() {
            return Ok(());
        }
        let written: u64 = entries.iter().map(|(_, t)| rec_len(t)).sum();
        // The newest segment, if it has room; after an eviction that may be
        // the marker segment itself (then nothing newer remains).
        let reuse = inner
            .segments
            .last()
            .is_some_and(|s| s.appendable && s.file_len + written <= opts.segment_bytes);
        let (number, start, mut data) = if reuse {
            let seg = inner.segments.last().expect("checked above");
            (
                seg.number,
                seg.file_len,
                Vec::with_capacity(written as usize),
            )
        } else {
            let number = self.next_segment_number(inner)?;
            let mut data = Vec::with_capacity(HEADER_LEN + written as usize);
            data.extend_from_slice(&record::encode_header(0));
            (number, 0, data)
        };
        let first_record = start + data.len() as u64;
        let mut new_records = Vec::with_capacity(entries.len());
        let count = entries.len();
        for (i, (kind, text)) in entries.into_iter().enumerate() {
            let offset = start + data.len() as u64;
            let flag = if i + 1 == count { END_OF_BATCH } else { 0 };
            record::encode_record(&mut data, kind | flag, text);
            let marker_bit = if kind == KIND_MARKER { MARKER_FLAG } else { 0 };
            new_records.push(Rec {
                offset: offset as u32,
                len: text.len() as u32 | marker_bit,
            });
        }
        debug_assert_eq!(first_record, new_records[0].offset as u64);

        let name = segment_name(number);
        let path = self.path(&name);
        let mode = if reuse {
            OpenMode::Append
        } else {
            OpenMode::CreateNew
        };
        let file = self.ops.open(&path, mode).map_err(|e| {
            inner.stats.append_errors += 1;
            self.write_error(e, lines.len(), "open segment", &name)
        })?;
        let write = self.write_all(&path, &file, &data).and_then(|()| {
            if opts.fsync {
                self.ops.sync(&path, &file)
            } else {
                Ok(())
            }
        });
        if let Err(e) = write {
            inner.stats.append_errors += 1;
            // Nothing of a failed batch may surface later: cut it off (or
            // remove the new file). If that fails too, the batch's missing
            // end-of-batch record still keeps it out, and the next append
            // cuts it off.
            if reuse {
                let _ = self.ops.set_len(&path, &file, start);
                let _ = self.ops.sync(&path, &file);
            } else {
                drop(file);
                let _ = self.ops.remove(&path);
            }
            return Err(self.write_error(e, lines.len(), "write segment", &name));
        }
        let meta = file.metadata().map_err(io_err("inspect segment", &path))?;
        if !reuse {
            self.sync_dir()?;
            inner.segments.push(Segment {
                number,
                id: (meta.dev(), meta.ino()),
                base: 0,
                appendable: true,
                file_len: 0,
                valid_end: 0,
                tail_corrupt: 0,
                records: Vec::new(),
            });
        }
        let seg = inner.segments.last_mut().expect("pushed or reused");
        seg.file_len = start + data.len() as u64;
        seg.valid_end = seg.file_len;
        for rec in &new_records {
            inner.stats.lines += 1;
            inner.stats.bytes += rec.text_len();
        }
        seg.records.extend(new_records);
        Ok(())
    }

    fn write_error(
        &self,
        e: io::Error,
        lines: usize,
        operation: &'static str,
        name: &str,
    ) -> BufferError {
        if is_disk_full(&e) {
            log::warn!(
                "sockstatlog buffer: disk full in {}; {lines} lines not stored",
                self.dir.display()
            );
            BufferError::DiskFull { lines }
        } else {
            BufferError::Io {
                operation,
                path: self.path(name),
                source: e,
            }
        }
    }

    /// Takes over the Go logger's files: their complete, valid lines are
    /// appended (oldest file first), then the file is deleted. A crash in
    /// between appends them again on the next open: duplicates, no loss.
    fn migrate_legacy(&self, inner: &mut Inner) -> Result<(), BufferError> {
        let mut found: Vec<(std::time::SystemTime, &str)> = Vec::new();
        for name in LEGACY_FILES {
            if let Ok(meta) = fs::metadata(self.path(name)) {
                if meta.is_file() {
                    let mtime = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                    found.push((mtime, name));
                }
            }
        }
        // Oldest first; on equal times, log1 before log2.
        found.sort();
        for (_, name) in found {
            let path = self.path(name);
            match self.migrate_file(inner, &path) {
                Ok(()) => {
                    self.ops
                        .remove(&path)
                        .map_err(io_err("remove old log file", &path))?;
                    self.sync_dir()?;
                }
                Err(e) => {
                    log::warn!(
                        "sockstatlog buffer: could not take over {} ({e}); will retry on the next open",
                        path.display()
                    );
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn migrate_file(&self, inner: &mut Inner, path: &Path) -> Result<(), BufferError> {
        let file = File::open(path).map_err(io_err("open old log file", path))?;
        let mut reader = io::BufReader::new(file);
        let mut batch: Vec<String> = Vec::new();
        let mut batch_bytes = 0usize;
        let (mut taken, mut skipped) = (0u64, 0u64);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            // Read at most one byte more than the longest line plus newline:
            // a longer line is skipped without holding it in memory.
            let limit = line::MAX_LINE_BYTES as u64 + 2;
            let n = (&mut reader)
                .take(limit)
                .read_until(b'\n', &mut buf)
                .map_err(io_err("read old log file", path))?;
            if n == 0 {
                break;
            }
            let complete = buf.last() == Some(&b'\n');
            if !complete && n as u64 == limit {
                // Over-long line: skip the rest of it.
                skipped += 1;
                loop {
                    buf.clear();
                    let m = (&mut reader)
                        .take(limit)
                        .read_until(b'\n', &mut buf)
                        .map_err(io_err("read old log file", path))?;
                    if m == 0 || buf.last() == Some(&b'\n') {
                        break;
                    }
                }
                continue;
            }
            if !complete {
                // A torn last line: the Go logger never finished it.
                skipped += 1;
                break;
            }
            buf.pop();
            match String::from_utf8(std::mem::take(&mut buf)) {
                Ok(text) if line::validate(&text).is_ok() => {
                    batch_bytes += text.len();
                    batch.push(text);
                    taken += 1;
                }
                _ => skipped += 1,
            }
            if batch_bytes >= MIGRATION_BATCH_BYTES {
                let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
                self.append_locked(inner, &refs)?;
                batch.clear();
                batch_bytes = 0;
            }
        }
        if !batch.is_empty() {
            let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
            self.append_locked(inner, &refs)?;
        }
        if skipped > 0 {
            inner.stats.corrupt_lines_skipped += skipped;
            log::warn!(
                "sockstatlog buffer: skipped {skipped} invalid or incomplete lines in {}",
                path.display()
            );
        }
        log::info!(
            "sockstatlog buffer: took over {taken} lines from {}",
            path.display()
        );
        Ok(())
    }
}

fn fits_positions(base: u32, len: u64) -> bool {
    base as u64 + len < u32::MAX as u64
}

fn tail_corrupt(scan: &record::Scan) -> u64 {
    scan.tail_corrupt_lines
}

fn push_record(records: &mut Vec<Rec>, offset: u64, r: &record::ScannedRecord) {
    let marker = if r.kind == KIND_MARKER {
        MARKER_FLAG
    } else {
        0
    };
    records.push(Rec {
        offset: offset as u32,
        len: r.text.len() as u32 | marker,
    });
}

/// Bytes of a segment read at a time when scanning it: memory for a scan
/// stays at this much however long (or hostile) the file.
const SCAN_WINDOW: usize = 256 * 1024;

/// Scans `path[start..len]` window by window, appending the records found
/// to `records`. Past 4 GiB (positions are 32-bit) the file is ignored.
fn scan_file(
    path: &Path,
    start: u64,
    len: u64,
    records: &mut Vec<Rec>,
) -> Result<record::Scan, BufferError> {
    let file = File::open(path).map_err(io_err("open segment", path))?;
    let len = len.min(u32::MAX as u64);
    let mut scanner = record::Scanner::new(start as usize);
    let mut window = vec![0u8; SCAN_WINDOW.min(len.saturating_sub(start) as usize)];
    loop {
        let hole_end = next_data(&file, scanner.position() as u64).min(len);
        scanner.skip_zeros(hole_end as usize);
        let from = scanner.position() as u64;
        let want = (len.saturating_sub(from) as usize).min(window.len());
        let mut got = 0;
        while got < want {
            match file.read_at(&mut window[got..want], from + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err("read segment", path)(e)),
            }
        }
        // A short read: the file shrank meanwhile; scan what is there.
        let last = from + got as u64 >= len || got < want;
        scanner.feed(&window[..got], from as usize, last);
        for r in scanner.take_records() {
            push_record(records, r.offset as u64, &r);
        }
        if last {
            return Ok(scanner.finish());
        }
    }
}

/// Where the next data at or after `from` starts, skipping a hole of a
/// sparse file (which reads as zeros). `from` itself when unknown.
fn next_data(file: &File, from: u64) -> u64 {
    let Ok(offset) = libc::off_t::try_from(from) else {
        return from;
    };
    // SAFETY: lseek on a descriptor we own; reads use pread, so moving the
    // file offset changes nothing else.
    let at = unsafe { libc::lseek(file.as_raw_fd(), offset, libc::SEEK_DATA) };
    if at >= 0 {
        return (at as u64).max(from);
    }
    match io::Error::last_os_error().raw_os_error() {
        // No data after `from`: the rest is a hole.
        Some(libc::ENXIO) => u64::MAX,
        _ => from,
    }
}

fn read_range(path: &Path, from: u64, to: u64) -> Result<Vec<u8>, BufferError> {
    let file = File::open(path).map_err(io_err("open segment", path))?;
    let mut buf = vec![0u8; to.saturating_sub(from) as usize];
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], from + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err("read segment", path)(e)),
        }
    }
    buf.truncate(done);
    Ok(buf)
}

impl LogBuffer for FileBuffer {
    fn append(&self, lines: &[String]) -> Result<(), BufferError> {
        for (index, text) in lines.iter().enumerate() {
            line::validate(text).map_err(|reason| BufferError::InvalidLine { index, reason })?;
        }
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        self.with_lock(|inner| self.append_locked(inner, &refs))
    }

    fn read(
        &self,
        after: Option<Cursor>,
        max_bytes: usize,
    ) -> Result<Vec<BufferedLine>, BufferError> {
        self.with_lock(|inner| {
            let from = match (after.map(|c| c.0), inner.consumed) {
                (Some(a), Some(c)) => Some(a.max(c)),
                (a, c) => a.or(c),
            };
            let mut out = Vec::new();
            let mut bytes = 0usize;
            'segments: for seg in &inner.segments {
                let first = seg.first_after(from);
                let mut end = first;
                for &rec in &seg.records[first..] {
                    let len = rec.text_len() as usize;
                    if (!out.is_empty() || end > first) && bytes.saturating_add(len) > max_bytes {
                        break;
                    }
                    bytes += len;
                    end += 1;
                }
                if end > first {
                    let recs = &seg.records[first..end];
                    let span_start = recs[0].offset as u64;
                    let last = recs[recs.len() - 1];
                    let span_end =
                        last.offset as u64 + record::record_len(last.text_len() as usize) as u64;
                    let path = self.path(&segment_name(seg.number));
                    let data = read_range(&path, span_start, span_end)?;
                    for &rec in recs {
                        let at = (rec.offset as u64 - span_start) as usize;
                        let len = record::record_len(rec.text_len() as usize);
                        let text = data
                            .get(at..at + len)
                            .and_then(record::decode_record)
                            .map(|(_, text)| text.to_string());
                        match text {
                            Some(text) => out.push(BufferedLine {
                                cursor: Cursor(seg.cursor(rec)),
                                text,
                            }),
                            None => {
                                inner.stats.corrupt_lines_skipped += 1;
                                log::warn!(
                                    "sockstatlog buffer: a record in {} changed on disk; skipped",
                                    path.display()
                                );
                            }
                        }
                    }
                }
                if end < seg.records.len() {
                    break 'segments;
                }
            }
            Ok(out)
        })
    }

    fn last_cursor(&self) -> Result<Option<Cursor>, BufferError> {
        self.with_lock(|inner| {
            let last = inner.segments.iter().rev().find_map(|s| s.last_cursor());
            Ok(last
                .filter(|&l| inner.consumed.is_none_or(|c| l > c))
                .map(Cursor))
        })
    }

    fn remove_through(&self, through: Cursor) -> Result<(), BufferError> {
        self.with_lock(|inner| {
            // Never past the newest line: a later line must not count as
            // removed before it exists.
            let Some(last) = inner.segments.iter().rev().find_map(|s| s.last_cursor()) else {
                return Ok(());
            };
            let target = through.0.min(last);
            if inner.consumed.is_none_or(|c| target > c) {
                self.write_consumed(target)
                    .map_err(io_err("write", &self.path(CONSUMED_NAME)))?;
                inner.consumed = Some(target);
                let (mut lines, mut bytes) = (0, 0);
                for seg in &inner.segments {
                    for &rec in &seg.records[seg.first_after(inner.consumed)..] {
                        lines += 1;
                        bytes += rec.text_len();
                    }
                }
                inner.stats.lines = lines;
                inner.stats.bytes = bytes;
            }
            self.remove_consumed_segments(inner)
        })
    }

    fn stats(&self) -> BufferStats {
        // Best effort: bring `lines`/`bytes` up to date with other
        // instances; on failure, report what was last known.
        let mut inner = self.lock_inner();
        if let Ok(lock_file) = inner.lock_file.try_clone() {
            if let Ok(_lock) = DirLock::acquire(&lock_file) {
                let _ = self.refresh(&mut inner);
            }
        }
        inner.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;
    use std::io::Write;

    /// A disk that fills up after `space` more bytes: the write that crosses
    /// the limit writes what fits (a torn record), the next one fails with
    /// ENOSPC, like a real file system.
    #[derive(Debug, Default)]
    struct FillingDisk {
        space: Mutex<Option<u64>>,
    }

    impl FillingDisk {
        fn set_space(&self, space: Option<u64>) {
            *self.space.lock().unwrap() = space;
        }
    }

    impl FillingDisk {
        /// Takes `n` bytes of space, or fails like a full disk.
        fn take(&self, n: usize) -> io::Result<usize> {
            let mut space = self.space.lock().unwrap();
            match *space {
                None => Ok(n),
                Some(0) => Err(io::Error::from_raw_os_error(libc::ENOSPC)),
                Some(left) => {
                    let n = n.min(left as usize);
                    *space = Some(left - n as u64);
                    Ok(n)
                }
            }
        }
    }

    impl FileOps for FillingDisk {
        fn write(&self, _: &Path, mut file: &File, data: &[u8]) -> io::Result<usize> {
            let n = self.take(data.len())?;
            file.write(&data[..n])
        }

        fn write_at(&self, _: &Path, file: &File, data: &[u8], offset: u64) -> io::Result<usize> {
            // Overwriting bytes the file already has needs no space.
            let len = file.metadata()?.len();
            let inside = len.saturating_sub(offset).min(data.len() as u64) as usize;
            let n = if inside == data.len() {
                inside
            } else {
                inside + self.take(data.len() - inside)?
            };
            file.write_at(&data[..n], offset)
        }
    }

    fn lines(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|s| s.to_string()).collect()
    }

    fn all(buffer: &FileBuffer) -> Vec<String> {
        buffer
            .all_lines()
            .unwrap()
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    fn options() -> FileBufferOptions {
        FileBufferOptions {
            cap_bytes: 1 << 20,
            segment_bytes: 4096,
            fsync: true,
        }
    }

    #[test]
    fn a_disk_filling_up_mid_record_fails_cleanly_and_appends_resume() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Arc::new(FillingDisk::default());
        let buffer = FileBuffer::open_with_ops(dir.path(), options(), disk.clone()).unwrap();
        buffer.append(&lines(&["one", "two"])).unwrap();
        let seg = dir.path().join(segment_name(0));
        let len_before = fs::metadata(&seg).unwrap().len();
        // Room for one and a half records of the next batch.
        disk.set_space(Some(20));
        let err = buffer.append(&lines(&["three", "four"])).unwrap_err();
        assert!(matches!(err, BufferError::DiskFull { lines: 2 }), "{err:?}");
        assert_eq!(fs::metadata(&seg).unwrap().len(), len_before);
        assert_eq!(buffer.stats().append_errors, 1);
        assert_eq!(all(&buffer), ["one", "two"]);

        disk.set_space(None);
        buffer.append(&lines(&["three", "four"])).unwrap();
        assert_eq!(all(&buffer), ["one", "two", "three", "four"]);
        let reopened = FileBuffer::open(dir.path(), options()).unwrap();
        assert_eq!(all(&reopened), ["one", "two", "three", "four"]);
        assert_eq!(reopened.stats().corrupt_lines_skipped, 0);
    }

    #[test]
    fn a_disk_full_while_starting_a_segment_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Arc::new(FillingDisk::default());
        let buffer = FileBuffer::open_with_ops(dir.path(), options(), disk.clone()).unwrap();
        disk.set_space(Some(10));
        let err = buffer.append(&lines(&["first"])).unwrap_err();
        assert!(matches!(err, BufferError::DiskFull { lines: 1 }), "{err:?}");
        assert!(!dir.path().join(segment_name(0)).exists());
        assert_eq!(buffer.stats().append_errors, 1);
        disk.set_space(None);
        buffer.append(&lines(&["first"])).unwrap();
        assert_eq!(all(&buffer), ["first"]);
    }

    #[test]
    fn a_failed_truncation_still_hides_the_partial_batch() {
        // The truncation after a failed write can itself fail; the missing
        // end-of-batch record keeps the partial batch out all the same.
        let dir = tempfile::tempdir().unwrap();
        let buffer = FileBuffer::open(dir.path(), options()).unwrap();
        buffer.append(&lines(&["kept"])).unwrap();
        let mut partial = Vec::new();
        record::encode_record(&mut partial, KIND_LINE, "lost-1");
        record::encode_record(&mut partial, KIND_LINE, "lost-2");
        let seg = dir.path().join(segment_name(0));
        let mut file = OpenOptions::new().append(true).open(&seg).unwrap();
        file.write_all(&partial).unwrap();
        let reopened = FileBuffer::open(dir.path(), options()).unwrap();
        assert_eq!(all(&reopened), ["kept"]);
        assert_eq!(reopened.stats().corrupt_lines_skipped, 2);
        reopened.append(&lines(&["next"])).unwrap();
        assert_eq!(all(&reopened), ["kept", "next"]);
    }

    #[test]
    fn removal_works_on_a_full_disk_so_a_flush_never_resends_the_same_batch() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Arc::new(FillingDisk::default());
        let buffer = FileBuffer::open_with_ops(dir.path(), options(), disk.clone()).unwrap();
        buffer.append(&lines(&["a", "b", "c"])).unwrap();
        disk.set_space(Some(0));
        let sent = buffer.read(None, 1).unwrap();
        buffer.remove_through(sent[0].cursor).unwrap();
        assert_eq!(all(&buffer), ["b", "c"]);
        let sent = buffer.read(None, 1).unwrap();
        buffer.remove_through(sent[0].cursor).unwrap();
        assert_eq!(all(&buffer), ["c"]);
        let reopened = FileBuffer::open_with_ops(dir.path(), options(), disk.clone()).unwrap();
        assert_eq!(all(&reopened), ["c"]);
    }

    #[test]
    fn a_torn_slot_of_the_consumed_file_falls_back_to_the_other_one() {
        let dir = tempfile::tempdir().unwrap();
        let buffer = FileBuffer::open(dir.path(), options()).unwrap();
        buffer.append(&lines(&["a", "b", "c"])).unwrap();
        let read = buffer.read(None, 100).unwrap();
        buffer.remove_through(read[0].cursor).unwrap();
        buffer.remove_through(read[1].cursor).unwrap();
        // The second removal went to slot 1; tear it.
        let path = dir.path().join(CONSUMED_NAME);
        let mut bytes = fs::read(&path).unwrap();
        assert_eq!(bytes.len(), CONSUMED_LEN);
        bytes[CONSUMED_SLOT + 3] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        let reopened = FileBuffer::open(dir.path(), options()).unwrap();
        assert_eq!(all(&reopened), ["b", "c"]);
        // The next removal overwrites the torn slot, not the good one.
        reopened.remove_through(read[2].cursor).unwrap();
        assert!(all(&FileBuffer::open(dir.path(), options()).unwrap()).is_empty());
    }

    #[test]
    fn a_consumed_file_of_the_one_slot_format_is_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let buffer = FileBuffer::open(dir.path(), options()).unwrap();
        buffer.append(&lines(&["a", "b"])).unwrap();
        let read = buffer.read(None, 100).unwrap();
        fs::write(
            dir.path().join(CONSUMED_NAME),
            encode_consumed(read[0].cursor.0),
        )
        .unwrap();
        let reopened = FileBuffer::open(dir.path(), options()).unwrap();
        assert_eq!(all(&reopened), ["b"]);
        reopened.remove_through(read[1].cursor).unwrap();
        assert!(all(&FileBuffer::open(dir.path(), options()).unwrap()).is_empty());
    }

    #[test]
    fn a_damaged_consumed_file_means_resending_not_losing() {
        let dir = tempfile::tempdir().unwrap();
        let buffer = FileBuffer::open(dir.path(), options()).unwrap();
        buffer.append(&lines(&["a", "b"])).unwrap();
        let first = buffer.read(None, 1).unwrap();
        buffer.remove_through(first[0].cursor).unwrap();
        fs::write(dir.path().join(CONSUMED_NAME), b"garbage").unwrap();
        let reopened = FileBuffer::open(dir.path(), options()).unwrap();
        assert_eq!(all(&reopened), ["a", "b"]);
    }

    #[test]
    fn segment_names_round_trip_and_others_are_ignored() {
        assert_eq!(segment_name(0x1f), "sockstatlog.0000001f.seg");
        assert_eq!(parse_segment_name("sockstatlog.0000001f.seg"), Some(0x1f));
        assert_eq!(parse_segment_name("sockstatlog.0000001f.seg.tmp"), None);
        assert_eq!(parse_segment_name("sockstatlog.1f.seg"), None);
        assert_eq!(parse_segment_name("sockstats.log1.txt"), None);
    }

    #[test]
    fn options_are_clamped_to_workable_values() {
        let o = FileBufferOptions {
            cap_bytes: 10,
            segment_bytes: 1 << 40,
            fsync: false,
        }
        .clamped();
        assert_eq!((o.cap_bytes, o.segment_bytes), (1024, 256));
        let d = FileBufferOptions::default().clamped();
        assert_eq!(
            (d.cap_bytes, d.segment_bytes, d.fsync),
            (5 << 20, 640 << 10, true)
        );
    }
}
