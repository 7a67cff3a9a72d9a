//! Power-loss crash consistency: a workload runs on a real directory through
//! a recording [`FileOps`]; from the recorded operations this test rebuilds
//! every disk state a power cut could leave (under two crash models, below),
//! writes each into a directory, opens a `FileBuffer` on it and checks the
//! buffer's promises (docs/BUFFER.md, "Crash model"):
//!
//! - every acknowledged line not removed is there exactly once, in order,
//!   or was evicted, and then a marker sits at its gap, counting at least
//!   the missing lines;
//! - the batch an append was writing at the cut is there whole or absent;
//! - nothing torn, unknown or duplicated surfaces;
//! - nothing removed by an acknowledged `remove_through` comes back;
//! - the buffer then takes an append and reopens with the same lines.
//!
//! A negative control builds impossible states (an fsynced, acknowledged
//! line cut out of its segment) and requires the checker to flag each one.
//!
//! Crash models (what may be on disk after a cut at any point of the log):
//! - **ext4 data=ordered**: data of a file fsynced is durable, and so is
//!   every directory change before a directory fsync. Of the rest, what
//!   persists is a prefix of the operation log (the journal commits
//!   metadata in order; data=ordered writes a file's data before the
//!   metadata that makes it visible), whose last write may be torn.
//! - **POSIX only**: only fsync promises anything. A file's unsynced writes
//!   persist as a prefix of that file's writes, the last one maybe torn
//!   (each file independently); unsynced directory changes (create, rename,
//!   delete) persist in any subset, in any order; a rename is atomic.
//!
//! `SOCKSTATLOG_POWER_LOSS_LONG=1` runs larger workloads (more seeds, more
//! tear offsets); `SOCKSTATLOG_POWER_LOSS_OPS=1` prints each recorded
//! operation log.

use sockstatlog::buffer::{
    FileBuffer, FileBufferOptions, FileOps, LogBuffer, OpenMode, RealFileOps,
};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Seek};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

// ---------------------------------------------------------------- recording

/// One recorded event: a change to the disk or a workload step.
#[derive(Clone, Debug)]
enum Op {
    /// A name now refers to a new, empty file.
    Create(String),
    /// Bytes written at an offset.
    Write(String, u64, Vec<u8>),
    /// File cut or extended to a length.
    SetLen(String, u64),
    /// fsync/fdatasync of a file.
    Sync(String),
    Rename(String, String),
    Remove(String),
    SyncDir,
    /// The workload starts a step (index into `Workload::steps`).
    Begin(usize),
    /// The step returned (Ok or not).
    End(usize, bool),
}

#[derive(Debug)]
struct Recorder {
    dir: PathBuf,
    log: Arc<Mutex<Vec<Op>>>,
    /// Bytes of free space left (None: unlimited); writes past it fail with
    /// ENOSPC after writing what fits, like a real disk.
    space: Mutex<Option<u64>>,
}

impl Recorder {
    fn name(&self, path: &Path) -> String {
        assert_eq!(path.parent(), Some(self.dir.as_path()), "{path:?}");
        path.file_name().unwrap().to_str().unwrap().to_string()
    }

    fn push(&self, op: Op) {
        self.log.lock().unwrap().push(op);
    }

    fn room(&self, want: usize) -> io::Result<usize> {
        match *self.space.lock().unwrap() {
            None => Ok(want),
            Some(0) => Err(io::Error::from_raw_os_error(libc::ENOSPC)),
            Some(left) => Ok(want.min(left as usize)),
        }
    }

    fn used(&self, n: usize) {
        if let Some(left) = self.space.lock().unwrap().as_mut() {
            *left -= n as u64;
        }
    }
}

impl FileOps for Recorder {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<File> {
        let existed = path.exists();
        let file = RealFileOps.open(path, mode)?;
        let name = self.name(path);
        if !existed {
            self.push(Op::Create(name));
        } else if mode == OpenMode::CreateTruncate {
            self.push(Op::SetLen(name, 0));
        }
        Ok(file)
    }

    fn write(&self, path: &Path, file: &File, data: &[u8]) -> io::Result<usize> {
        // SAFETY: fcntl on a descriptor we own.
        let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
        let offset = if flags & libc::O_APPEND != 0 {
            file.metadata()?.len()
        } else {
            (&mut &*file).stream_position()?
        };
        let n = self.room(data.len())?;
        let n = RealFileOps.write(path, file, &data[..n])?;
        self.used(n);
        self.push(Op::Write(self.name(path), offset, data[..n].to_vec()));
        Ok(n)
    }

    fn write_at(&self, path: &Path, file: &File, data: &[u8], offset: u64) -> io::Result<usize> {
        let len = file.metadata()?.len();
        let inside = len.saturating_sub(offset).min(data.len() as u64) as usize;
        let n = if inside == data.len() {
            inside
        } else {
            inside + self.room(data.len() - inside)?
        };
        let n = RealFileOps.write_at(path, file, &data[..n], offset)?;
        self.used(n.saturating_sub(inside));
        self.push(Op::Write(self.name(path), offset, data[..n].to_vec()));
        Ok(n)
    }

    fn sync(&self, path: &Path, file: &File) -> io::Result<()> {
        RealFileOps.sync(path, file)?;
        self.push(Op::Sync(self.name(path)));
        Ok(())
    }

    fn set_len(&self, path: &Path, file: &File, len: u64) -> io::Result<()> {
        RealFileOps.set_len(path, file, len)?;
        self.push(Op::SetLen(self.name(path), len));
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        RealFileOps.rename(from, to)?;
        self.push(Op::Rename(self.name(from), self.name(to)));
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        RealFileOps.remove(path)?;
        self.push(Op::Remove(self.name(path)));
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        RealFileOps.sync_dir(dir)?;
        self.push(Op::SyncDir);
        Ok(())
    }
}

// ---------------------------------------------------------------- workloads

#[derive(Clone, Debug)]
enum Step {
    /// Appends these lines (indices into `Workload::lines`).
    Append(Vec<usize>),
    /// Removes every line up to and including this one (an upload of the
    /// oldest lines that the server accepted).
    RemoveThrough(usize),
    /// Becomes `RemoveThrough` of the k-th oldest line held when it runs.
    RemoveOldest(usize),
    /// Opens the buffer (recovery, migration).
    Open,
}

struct Workload {
    name: &'static str,
    options: FileBufferOptions,
    /// The files present before the workload (durable).
    initial: BTreeMap<String, Vec<u8>>,
    /// Every line any step appends (or migration takes over), in order.
    lines: Vec<String>,
    /// Lines taken over from the Go files: a crash during migration may
    /// take them over twice (documented), so they may appear twice.
    migrated: usize,
    steps: Vec<Step>,
    ops: Vec<Op>,
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn line_text(n: usize) -> String {
    format!("{{\"n\":{n},\"pad\":\"{}\"}}", "p".repeat(n * 7 % 23))
}

/// Runs `plan` on a fresh directory through a recorder. `plan` gets the
/// buffer and a callback to run one step, recording its start and end.
fn record(
    name: &'static str,
    options: FileBufferOptions,
    initial: BTreeMap<String, Vec<u8>>,
    migrated: Vec<String>,
    space_limit_at_step: Option<(usize, u64)>,
    steps: Vec<Step>,
    mut lines: Vec<String>,
) -> Workload {
    let mut steps = steps;
    let dir = tempfile::tempdir().unwrap();
    for (file, bytes) in &initial {
        std::fs::write(dir.path().join(file), bytes).unwrap();
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let recorder = Arc::new(Recorder {
        dir: dir.path().to_path_buf(),
        log: log.clone(),
        space: Mutex::new(None),
    });
    let migrated_count = migrated.len();
    let mut all_lines = migrated;
    all_lines.append(&mut lines);
    let mut buffer: Option<FileBuffer> = None;
    for (i, step) in steps.iter_mut().enumerate() {
        if let Some((at, space)) = space_limit_at_step {
            if i == at {
                *recorder.space.lock().unwrap() = Some(space);
            } else if i == at + 2 {
                *recorder.space.lock().unwrap() = None;
            }
        }
        if let Step::RemoveOldest(k) = *step {
            let held = buffer.as_ref().unwrap().all_lines().unwrap();
            let ids: Vec<usize> = held
                .iter()
                .filter_map(|l| all_lines.iter().position(|t| *t == l.text))
                .collect();
            let Some(&id) = ids.get(k.min(ids.len().saturating_sub(1))) else {
                continue;
            };
            *step = Step::RemoveThrough(id);
        }
        recorder.push(Op::Begin(i));
        let ok = match &*step {
            Step::Open => {
                drop(buffer.take());
                buffer = Some(
                    FileBuffer::open_with_ops(dir.path(), options.clone(), recorder.clone())
                        .unwrap(),
                );
                true
            }
            Step::Append(ids) => {
                let batch: Vec<String> = ids.iter().map(|&i| all_lines[i].clone()).collect();
                buffer.as_ref().unwrap().append(&batch).is_ok()
            }
            Step::RemoveOldest(_) => unreachable!("resolved above"),
            Step::RemoveThrough(id) => {
                let b = buffer.as_ref().unwrap();
                let held = b.all_lines().unwrap();
                match held.iter().find(|l| l.text == all_lines[*id]) {
                    Some(l) => b.remove_through(l.cursor).is_ok(),
                    None => panic!("{name}: line {id} to remove is not held"),
                }
            }
        };
        recorder.push(Op::End(i, ok));
    }
    drop(buffer);
    let ops = std::mem::take(&mut *log.lock().unwrap());
    Workload {
        name,
        options,
        initial,
        lines: all_lines,
        migrated: migrated_count,
        steps,
        ops,
    }
}

/// Appends of 1-3 lines into 256-byte segments under a 1 KiB cap (so single
/// segment evictions happen all the time), now and then a batch of 8 (which
/// evicts several segments at once), and removals of the oldest lines.
fn evictions_and_removals(seed: u64, rounds: usize) -> Workload {
    let mut rng = Rng(seed);
    let mut steps = vec![Step::Open];
    let mut next = 0usize;
    for _ in 0..rounds {
        let n = if rng.below(6) == 0 {
            8
        } else {
            1 + rng.below(3) as usize
        };
        steps.push(Step::Append((next..next + n).collect()));
        next += n;
        if rng.below(5) == 0 {
            steps.push(Step::RemoveOldest(rng.below(4) as usize));
        }
    }
    steps.push(Step::Open);
    let lines = (0..next).map(line_text).collect();
    let options = FileBufferOptions {
        cap_bytes: 1024,
        segment_bytes: 256,
        fsync: true,
    };
    record(
        "evictions and removals",
        options,
        BTreeMap::new(),
        Vec::new(),
        None,
        steps,
        lines,
    )
}

/// Taking over the Go logger's two files, then appending.
fn migration() -> Workload {
    let old: Vec<String> = (0..4).map(|i| format!("{{\"go\":{i}}}")).collect();
    let mut initial = BTreeMap::new();
    initial.insert(
        "sockstats.log1.txt".to_string(),
        format!("{}\n{}\n", old[0], old[1]).into_bytes(),
    );
    initial.insert(
        "sockstats.log2.txt".to_string(),
        format!("{}\n{}\n", old[2], old[3]).into_bytes(),
    );
    let lines = (100..104).map(line_text).collect();
    let steps = vec![
        Step::Open,
        Step::Append(vec![4, 5]),
        Step::RemoveThrough(1),
        Step::Append(vec![6, 7]),
        Step::Open,
    ];
    let options = FileBufferOptions {
        cap_bytes: 64 * 1024,
        segment_bytes: 4096,
        fsync: true,
    };
    record("migration", options, initial, old, None, steps, lines)
}

/// The disk fills up in the middle of an append (which fails), space
/// returns, appends go on.
fn disk_full() -> Workload {
    let lines = (0..8).map(line_text).collect();
    let steps = vec![
        Step::Open,
        Step::Append(vec![0, 1]),
        Step::Append(vec![2, 3]),
        Step::RemoveThrough(0),
        Step::Append(vec![4, 5]),
        Step::Append(vec![6, 7]),
        Step::Open,
    ];
    let options = FileBufferOptions {
        cap_bytes: 64 * 1024,
        segment_bytes: 4096,
        fsync: true,
    };
    // The append of lines 2, 3 runs with 30 bytes of space left.
    record(
        "disk full",
        options,
        BTreeMap::new(),
        Vec::new(),
        Some((2, 30)),
        steps,
        lines,
    )
}

// ---------------------------------------------------------------- crash states

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Model {
    Ext4Ordered,
    PosixOnly,
}

/// A change to one file's content.
#[derive(Clone, Debug)]
enum Change {
    Write(u64, Vec<u8>),
    SetLen(u64),
}

fn apply(content: &mut Vec<u8>, change: &Change, tear: Option<usize>) {
    match change {
        Change::Write(offset, data) => {
            let data = &data[..tear.unwrap_or(data.len())];
            let end = *offset as usize + data.len();
            if content.len() < end {
                content.resize(end, 0);
            }
            content[*offset as usize..end].copy_from_slice(data);
        }
        Change::SetLen(len) => content.resize(*len as usize, 0),
    }
}

/// A directory change.
#[derive(Clone, Debug)]
enum DirChange {
    Link(String, usize),
    /// A rename moves the inode it found at the time, whether or not the
    /// old name's creation persisted.
    Rename(String, String, usize),
    Unlink(String),
}

fn apply_dir(names: &mut BTreeMap<String, usize>, change: &DirChange) {
    match change {
        DirChange::Link(name, inode) => {
            names.insert(name.clone(), *inode);
        }
        DirChange::Rename(from, to, inode) => {
            names.remove(from);
            names.insert(to.clone(), *inode);
        }
        DirChange::Unlink(name) => {
            names.remove(name);
        }
    }
}

/// Pending (unsynced) work, in log order.
#[derive(Clone, Debug)]
enum Pending {
    File(usize, Change),
    Dir(DirChange),
}

#[derive(Clone, Debug, Default)]
struct Disk {
    /// Durable content of each inode.
    durable: Vec<Vec<u8>>,
    /// Durable directory.
    durable_dir: BTreeMap<String, usize>,
    /// What the running program sees.
    live_dir: BTreeMap<String, usize>,
    pending: Vec<Pending>,
}

/// A materialisable state: file name -> content.
type State = BTreeMap<String, Vec<u8>>;

fn tear_points(len: usize, long: bool) -> Vec<usize> {
    let mut points = vec![1, len / 2, len.saturating_sub(1)];
    if long {
        points.extend([len / 4, 3 * len / 4, 11, 12]);
    }
    points.retain(|&p| p > 0 && p < len);
    points.sort_unstable();
    points.dedup();
    points
}

impl Disk {
    fn step(&mut self, op: &Op) {
        match op {
            Op::Create(name) => {
                let inode = self.durable.len();
                self.durable.push(Vec::new());
                self.live_dir.insert(name.clone(), inode);
                self.pending
                    .push(Pending::Dir(DirChange::Link(name.clone(), inode)));
            }
            Op::Write(name, offset, data) => {
                let inode = self.live_dir[name];
                self.pending
                    .push(Pending::File(inode, Change::Write(*offset, data.clone())));
            }
            Op::SetLen(name, len) => {
                let inode = self.live_dir[name];
                self.pending
                    .push(Pending::File(inode, Change::SetLen(*len)));
            }
            Op::Sync(name) => {
                let inode = self.live_dir[name];
                let mut rest = Vec::new();
                for p in std::mem::take(&mut self.pending) {
                    match p {
                        Pending::File(i, change) if i == inode => {
                            apply(&mut self.durable[i], &change, None)
                        }
                        other => rest.push(other),
                    }
                }
                self.pending = rest;
            }
            Op::Rename(from, to) => {
                let inode = self.live_dir.remove(from).unwrap();
                self.live_dir.insert(to.clone(), inode);
                self.pending.push(Pending::Dir(DirChange::Rename(
                    from.clone(),
                    to.clone(),
                    inode,
                )));
            }
            Op::Remove(name) => {
                self.live_dir.remove(name);
                self.pending
                    .push(Pending::Dir(DirChange::Unlink(name.clone())));
            }
            Op::SyncDir => {
                let mut rest = Vec::new();
                for p in std::mem::take(&mut self.pending) {
                    match p {
                        Pending::Dir(change) => apply_dir(&mut self.durable_dir, &change),
                        other => rest.push(other),
                    }
                }
                self.pending = rest;
            }
            Op::Begin(_) | Op::End(..) => {}
        }
    }

    fn materialise(&self, contents: &[Vec<u8>], dir: &BTreeMap<String, usize>) -> State {
        dir.iter()
            .map(|(name, &inode)| (name.clone(), contents[inode].clone()))
            .collect()
    }

    /// Every state a cut now could leave under `model`.
    fn crash_states(&self, model: Model, long: bool, out: &mut Vec<State>) {
        match model {
            Model::Ext4Ordered => {
                // A prefix of the pending work persists; its last write may
                // be torn.
                let mut contents = self.durable.clone();
                let mut dir = self.durable_dir.clone();
                out.push(self.materialise(&contents, &dir));
                for p in &self.pending {
                    if let Pending::File(inode, change @ Change::Write(_, data)) = p {
                        for tear in tear_points(data.len(), long) {
                            let mut torn = contents.clone();
                            apply(&mut torn[*inode], change, Some(tear));
                            out.push(self.materialise(&torn, &dir));
                        }
                    }
                    match p {
                        Pending::File(inode, change) => apply(&mut contents[*inode], change, None),
                        Pending::Dir(change) => apply_dir(&mut dir, change),
                    }
                    out.push(self.materialise(&contents, &dir));
                }
            }
            Model::PosixOnly => {
                // Each file: a prefix of its own pending changes, the last
                // write maybe torn. Directory: any subset of the pending
                // changes. Files vary one at a time (others all-or-nothing),
                // which keeps the count linear in the pending writes.
                let dir_changes: Vec<&DirChange> = self
                    .pending
                    .iter()
                    .filter_map(|p| match p {
                        Pending::Dir(c) => Some(c),
                        _ => None,
                    })
                    .collect();
                let subsets: Vec<u64> = if dir_changes.len() <= 10 {
                    (0..1u64 << dir_changes.len()).collect()
                } else {
                    // Beyond 2^10: prefixes, suffixes and singletons.
                    let n = dir_changes.len();
                    let mut s: Vec<u64> = (0..=n).map(|k| (1u64 << k) - 1).collect();
                    s.extend((0..n).map(|k| 1u64 << k));
                    s.extend((0..=n).map(|k| !((1u64 << k) - 1) & ((1u64 << n) - 1)));
                    s
                };
                let mut file_variants: Vec<Vec<Vec<u8>>> = Vec::new();
                let inodes: Vec<usize> = {
                    let mut v: Vec<usize> = self
                        .pending
                        .iter()
                        .filter_map(|p| match p {
                            Pending::File(i, _) => Some(*i),
                            _ => None,
                        })
                        .collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                };
                let all_applied = |except: Option<usize>| {
                    let mut contents = self.durable.clone();
                    for p in &self.pending {
                        if let Pending::File(i, change) = p {
                            if Some(*i) != except {
                                apply(&mut contents[*i], change, None);
                            }
                        }
                    }
                    contents
                };
                file_variants.push(self.durable.clone());
                file_variants.push(all_applied(None));
                for &inode in &inodes {
                    let base = all_applied(Some(inode));
                    let mut contents = base.clone();
                    for p in &self.pending {
                        let Pending::File(i, change) = p else {
                            continue;
                        };
                        if *i != inode {
                            continue;
                        }
                        if let Change::Write(_, data) = change {
                            for tear in tear_points(data.len(), long) {
                                let mut torn = contents.clone();
                                apply(&mut torn[inode], change, Some(tear));
                                file_variants.push(torn);
                            }
                        }
                        apply(&mut contents[inode], change, None);
                        file_variants.push(contents.clone());
                    }
                }
                for mask in subsets {
                    let mut dir = self.durable_dir.clone();
                    for (k, change) in dir_changes.iter().enumerate() {
                        if mask & (1 << k) != 0 {
                            apply_dir(&mut dir, change);
                        }
                    }
                    for contents in &file_variants {
                        out.push(self.materialise(contents, &dir));
                    }
                }
            }
        }
    }
}

/// The distinct states a cut anywhere in the workload could leave, each
/// with the index in the log where the cut happened.
fn generate(workload: &Workload, model: Model, long: bool) -> Vec<(usize, State)> {
    let mut disk = Disk::default();
    for (name, bytes) in &workload.initial {
        let inode = disk.durable.len();
        disk.durable.push(bytes.clone());
        disk.durable_dir.insert(name.clone(), inode);
        disk.live_dir.insert(name.clone(), inode);
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for cut in 0..=workload.ops.len() {
        if cut > 0 {
            disk.step(&workload.ops[cut - 1]);
        }
        let mut states = Vec::new();
        disk.crash_states(model, long, &mut states);
        for state in states {
            let mut h = DefaultHasher::new();
            state.hash(&mut h);
            cut.hash(&mut h);
            if seen.insert(h.finish()) {
                out.push((cut, state));
            }
        }
    }
    out
}

// ---------------------------------------------------------------- checking

/// What may be said about one line after a cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Never appended, its append failed, or its removal was acknowledged.
    Absent,
    /// Acknowledged and not removed: there, or evicted behind a marker.
    Present,
    /// Its append or removal was under way at the cut.
    Either,
}

fn expectations(workload: &Workload, cut: usize) -> (Vec<Expect>, Option<Vec<usize>>) {
    let mut expect = vec![Expect::Absent; workload.lines.len()];
    let mut in_flight_batch = None;
    let mut begun = None;
    // The Go files' lines are durable before anything runs.
    for e in expect.iter_mut().take(workload.migrated) {
        *e = Expect::Present;
    }
    for op in &workload.ops[..cut] {
        match op {
            Op::Begin(i) => begun = Some(*i),
            Op::End(i, ok) => {
                begun = None;
                match &workload.steps[*i] {
                    Step::Append(ids) => {
                        for &id in ids {
                            expect[id] = if *ok { Expect::Present } else { Expect::Absent };
                        }
                    }
                    Step::RemoveThrough(through) => {
                        for e in expect.iter_mut().take(through + 1) {
                            if *ok {
                                *e = Expect::Absent;
                            } else if *e == Expect::Present {
                                *e = Expect::Either;
                            }
                        }
                    }
                    Step::Open | Step::RemoveOldest(_) => {}
                }
            }
            _ => {}
        }
    }
    if let Some(i) = begun {
        match &workload.steps[i] {
            Step::Append(ids) => {
                for &id in ids {
                    expect[id] = Expect::Either;
                }
                in_flight_batch = Some(ids.clone());
            }
            Step::RemoveThrough(through) => {
                for e in expect.iter_mut().take(through + 1) {
                    if *e == Expect::Present {
                        *e = Expect::Either;
                    }
                }
            }
            Step::Open | Step::RemoveOldest(_) => {}
        }
    }
    (expect, in_flight_batch)
}

fn parse_marker(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("{\"sockstatlog\":{\"dropped_lines\":")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The violations of the buffer's promises in `got` (the lines a reopened
/// buffer returns) after a cut at `cut`; empty when all hold.
fn violations(workload: &Workload, cut: usize, got: &[String]) -> Vec<String> {
    let (expect, in_flight) = expectations(workload, cut);
    let index: BTreeMap<&str, usize> = workload
        .lines
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let mut problems = Vec::new();
    // (position in `got`, line id) of known lines; markers' positions.
    let mut known: Vec<(usize, usize)> = Vec::new();
    let mut markers: Vec<(usize, u64)> = Vec::new();
    for (pos, text) in got.iter().enumerate() {
        if let Some(n) = parse_marker(text) {
            markers.push((pos, n));
        } else if let Some(&id) = index.get(text.as_str()) {
            known.push((pos, id));
        } else {
            problems.push(format!("unknown or torn line {text:?}"));
        }
    }
    let mut seen = HashSet::new();
    for &(_, id) in &known {
        if expect[id] == Expect::Absent {
            problems.push(format!(
                "line {id} is there but must not be (never acknowledged, or removed)"
            ));
        }
        if !seen.insert(id) && id >= workload.migrated {
            problems.push(format!("line {id} appears twice"));
        }
    }
    let ids: Vec<usize> = known.iter().map(|&(_, id)| id).collect();
    let in_order = ids
        .windows(2)
        .all(|w| w[0] < w[1] || (w[0] < workload.migrated && w[1] < workload.migrated));
    if !in_order {
        problems.push(format!("lines out of order: {ids:?}"));
    }
    if let Some(batch) = in_flight {
        let live: Vec<usize> = batch
            .iter()
            .copied()
            .filter(|&i| expect[i] != Expect::Absent)
            .collect();
        let present = live.iter().filter(|i| seen.contains(i)).count();
        if present != 0 && present != live.len() {
            problems.push(format!("interrupted batch {batch:?} is there in part"));
        }
    }
    // Gaps: a missing acknowledged line needs a marker between the known
    // lines around it, counting at least the missing lines of that gap.
    let mut gaps: BTreeMap<(Option<usize>, Option<usize>), u64> = BTreeMap::new();
    for id in
        (0..workload.lines.len()).filter(|&i| expect[i] == Expect::Present && !seen.contains(&i))
    {
        let prev = known.iter().rev().find(|&&(_, k)| k < id).map(|&(p, _)| p);
        let next = known.iter().find(|&&(_, k)| k > id).map(|&(p, _)| p);
        *gaps.entry((prev, next)).or_default() += 1;
    }
    for ((prev, next), missing) in gaps {
        let counted: u64 = markers
            .iter()
            .filter(|&&(p, _)| prev.is_none_or(|prev| p > prev) && next.is_none_or(|next| p < next))
            .map(|&(_, n)| n)
            .sum();
        if counted < missing {
            problems.push(format!(
                "{missing} acknowledged lines missing between positions {prev:?} and {next:?} with markers counting {counted}"
            ));
        }
    }
    problems
}

fn write_state(dir: &Path, state: &State) {
    std::fs::create_dir(dir).unwrap();
    for (name, bytes) in state {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// Opens the state, checks it, appends, reopens: the violations found.
fn check_state(workload: &Workload, cut: usize, state: &State, dir: &Path) -> Vec<String> {
    write_state(dir, state);
    let options = FileBufferOptions {
        fsync: false,
        ..workload.options.clone()
    };
    let texts = |b: &FileBuffer| -> Vec<String> {
        b.all_lines().unwrap().into_iter().map(|l| l.text).collect()
    };
    let mut problems = match FileBuffer::open(dir, options.clone()) {
        Ok(buffer) => {
            let got = texts(&buffer);
            let mut problems = violations(workload, cut, &got);
            let probe = "{\"probe\":1}".to_string();
            match buffer.append(std::slice::from_ref(&probe)) {
                Ok(()) => {
                    drop(buffer);
                    let again = texts(&FileBuffer::open(dir, options).unwrap());
                    let mut expected = got.clone();
                    expected.push(probe);
                    // A later append may evict; only the newest must match.
                    if again.last() != expected.last() || again.len() > expected.len() {
                        problems.push(format!("after an append and a reopen: {again:?}"));
                    }
                }
                Err(e) => problems.push(format!("append after recovery failed: {e}")),
            }
            problems
        }
        Err(e) => vec![format!("open failed: {e}")],
    };
    std::fs::remove_dir_all(dir).unwrap();
    problems.dedup();
    problems
}

/// Cuts one record of an acknowledged line (one not next to a marker) out
/// of its segment: a state no power cut can produce.
fn break_state(workload: &Workload, cut: usize, state: &State, scratch: &Path) -> Option<State> {
    let (expect, _) = expectations(workload, cut);
    write_state(scratch, state);
    let held = FileBuffer::open(
        scratch,
        FileBufferOptions {
            fsync: false,
            ..workload.options.clone()
        },
    )
    .ok()
    .map(|b| b.all_lines().unwrap());
    std::fs::remove_dir_all(scratch).unwrap();
    let held = held?;
    let is_marker = |i: usize| held.get(i).is_some_and(|l| parse_marker(&l.text).is_some());
    let victim = (0..held.len()).rev().find(|&i| {
        let id = workload.lines.iter().position(|t| *t == held[i].text);
        id.is_some_and(|id| id >= workload.migrated && expect[id] == Expect::Present)
            && !is_marker(i.wrapping_sub(1))
            && !is_marker(i + 1)
    })?;
    let target = &held[victim].text;
    let mut broken = state.clone();
    for (name, bytes) in broken.iter_mut() {
        if !name.ends_with(".seg") {
            continue;
        }
        let needle = format!("{target}\n");
        if let Some(at) = bytes
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
        {
            let start = at - 10;
            bytes.drain(start..at + needle.len());
            return Some(broken);
        }
    }
    None
}

struct Tally {
    states: usize,
    violating: usize,
    controls: usize,
    controls_flagged: usize,
    examples: Vec<String>,
}

fn run(workload: &Workload, model: Model, long: bool, scratch: &Path) -> Tally {
    let states = generate(workload, model, long);
    let mut tally = Tally {
        states: states.len(),
        violating: 0,
        controls: 0,
        controls_flagged: 0,
        examples: Vec::new(),
    };
    for (k, (cut, state)) in states.iter().enumerate() {
        let dir = scratch.join(format!("s{k}"));
        let problems = check_state(workload, *cut, state, &dir);
        if !problems.is_empty() {
            tally.violating += 1;
            if tally.examples.len() < 3 {
                let files: Vec<(&String, usize)> =
                    state.iter().map(|(n, b)| (n, b.len())).collect();
                tally.examples.push(format!(
                    "{} / {model:?}, cut after op {cut} ({:?}), files {files:?}: {problems:?}",
                    workload.name,
                    cut.checked_sub(1).map(|i| &workload.ops[i]),
                ));
            }
        }
        // The negative control, on every 7th state.
        if k % 7 == 0 {
            if let Some(broken) = break_state(workload, *cut, state, &dir) {
                tally.controls += 1;
                if !check_state(workload, *cut, &broken, &dir).is_empty() {
                    tally.controls_flagged += 1;
                }
            }
        }
    }
    tally
}

#[test]
fn power_cuts_anywhere_keep_every_promise_under_ext4_and_posix_ordering() {
    let long = std::env::var_os("SOCKSTATLOG_POWER_LOSS_LONG").is_some();
    let started = Instant::now();
    let mut workloads = vec![migration(), disk_full()];
    let seeds = if long { 1..9 } else { 1..2 };
    for seed in seeds {
        workloads.push(evictions_and_removals(seed, if long { 80 } else { 30 }));
    }
    let scratch = tempfile::tempdir().unwrap();
    let mut examples = Vec::new();
    let mut total = 0;
    let mut controls = (0, 0);
    for model in [Model::Ext4Ordered, Model::PosixOnly] {
        let (mut states, mut violating) = (0, 0);
        for workload in &workloads {
            let t = run(workload, model, long, scratch.path());
            if std::env::var_os("SOCKSTATLOG_POWER_LOSS_OPS").is_some() {
                for op in &workload.ops {
                    match op {
                        Op::Write(n, o, d) => eprintln!("  write {n} @{o} +{}", d.len()),
                        other => eprintln!("  {other:?}"),
                    }
                }
            }
            eprintln!(
                "{:>24} / {model:?}: {} ops, {} states, {} violating, negative control {}/{} flagged",
                workload.name,
                workload.ops.len(),
                t.states,
                t.violating,
                t.controls_flagged,
                t.controls
            );
            states += t.states;
            violating += t.violating;
            controls.0 += t.controls_flagged;
            controls.1 += t.controls;
            examples.extend(t.examples);
        }
        eprintln!("{model:?}: {states} states checked, {violating} violating");
        total += states;
    }
    eprintln!(
        "{total} states in {:.1} s; negative control: {}/{} flagged",
        started.elapsed().as_secs_f64(),
        controls.0,
        controls.1
    );
    assert!(total >= 1000, "only {total} states");
    assert!(
        controls.1 >= 20,
        "only {} negative controls built",
        controls.1
    );
    assert_eq!(
        controls.0, controls.1,
        "the checker missed an impossible state"
    );
    assert!(examples.is_empty(), "violations:\n{}", examples.join("\n"));
}
