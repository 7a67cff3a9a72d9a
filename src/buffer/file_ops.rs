//! The file layer under [`FileBuffer`](super::FileBuffer): every operation
//! that changes a file or the directory goes through [`FileOps`], so that
//! tests can inject faults (a full disk) or record each operation to replay
//! the disk states a power cut could leave (`tests/buffer_power_loss.rs`).
//!
//! Reads do not go through it: they change nothing.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// How [`FileOps::open`] opens a file. Every file is created with mode 0600.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// Create a new file (fails if it exists), for appending.
    CreateNew,
    /// An existing file, for appending.
    Append,
    /// Create or truncate to zero, for writing (temporary files).
    CreateTruncate,
    /// Create if missing, keep the content, for reading and writing in place.
    ReadWrite,
}

/// The operations of [`FileBuffer`](super::FileBuffer) that change the
/// disk. Each method has the real file system's behaviour as its default,
/// so an implementation overrides only what it observes or changes.
pub trait FileOps: Send + Sync + fmt::Debug {
    /// Opens `path` as `mode` says (mode 0600 when created).
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<File> {
        let mut options = OpenOptions::new();
        options.mode(0o600);
        match mode {
            OpenMode::CreateNew => options.append(true).create_new(true),
            OpenMode::Append => options.append(true),
            OpenMode::CreateTruncate => options.write(true).create(true).truncate(true),
            OpenMode::ReadWrite => options.read(true).write(true).create(true).truncate(false),
        };
        options.open(path)
    }

    /// One `write(2)` at the file's position (its end for appending
    /// descriptors): may write fewer bytes than given.
    fn write(&self, path: &Path, file: &File, data: &[u8]) -> io::Result<usize> {
        let _ = path;
        let mut file = file;
        file.write(data)
    }

    /// One `pwrite(2)` at `offset`: may write fewer bytes than given.
    fn write_at(&self, path: &Path, file: &File, data: &[u8], offset: u64) -> io::Result<usize> {
        let _ = path;
        file.write_at(data, offset)
    }

    /// Flushes a file's data to stable storage (`F_FULLFSYNC` on Apple
    /// platforms, `fdatasync` elsewhere).
    fn sync(&self, path: &Path, file: &File) -> io::Result<()> {
        let _ = path;
        full_sync(file)
    }

    /// Cuts (or extends) a file to `len` bytes.
    fn set_len(&self, path: &Path, file: &File, len: u64) -> io::Result<()> {
        let _ = path;
        file.set_len(len)
    }

    /// Renames `from` to `to`, replacing `to` atomically.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    /// Deletes a file.
    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    /// Flushes a directory's entries (creations, renames, deletions) to
    /// stable storage.
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
}

/// The real file system: every [`FileOps`] default.
#[derive(Debug, Default)]
pub struct RealFileOps;

impl FileOps for RealFileOps {}

#[cfg(target_vendor = "apple")]
fn full_sync(file: &File) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // fsync on Apple platforms does not flush the drive's cache.
    // SAFETY: fcntl on a file descriptor we own, no pointers involved.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_FULLFSYNC) } == -1 {
        return file.sync_all();
    }
    Ok(())
}

#[cfg(not(target_vendor = "apple"))]
fn full_sync(file: &File) -> io::Result<()> {
    file.sync_data()
}
