//! The upload claim: one uploader per log directory at a time, across
//! processes.
//!
//! An app and its extension (or an Android UI process and its `:vpn`
//! process) may share one log directory. Without a claim both would read the
//! same oldest lines and upload them twice. The claim is an exclusive
//! `flock` on `upload.lock` in the directory, taken without waiting and held
//! for the length of one upload only: a crashed holder releases it with its
//! file descriptor, and no lock is held between flushes.
//!
//! `flock` locks belong to an open file description, so two claims in one
//! process (two loggers, a logger and a `LogUploader`, two threads) exclude
//! each other exactly like two processes do.

use crate::error::Error;
use std::fs::{File, OpenOptions};
use std::path::Path;

/// The lock file's name in the log directory.
pub const UPLOAD_LOCK_FILE: &str = "upload.lock";

/// A held claim; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct UploadClaim {
    _file: File,
}

impl UploadClaim {
    /// Takes the claim on `dir` without waiting: `Ok(None)` when another
    /// uploader holds it.
    pub(crate) fn try_take(dir: &Path) -> Result<Option<UploadClaim>, Error> {
        let path = dir.join(UPLOAD_LOCK_FILE);
        let err = |source| Error::UploadLock {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(err)?;
        if try_lock_exclusive(&file).map_err(err)? {
            Ok(Some(UploadClaim { _file: file }))
        } else {
            Ok(None)
        }
    }
}

#[cfg(unix)]
fn try_lock_exclusive(file: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: flock on a file descriptor we own; no pointers involved.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(err),
        }
    }
}

#[cfg(not(unix))]
fn try_lock_exclusive(_file: &File) -> std::io::Result<bool> {
    // Only Unix-like systems (Android, iOS, Linux, macOS) run the library;
    // elsewhere there is no second process to exclude.
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_is_refused_while_the_first_is_held_and_granted_after() {
        let dir = tempfile::tempdir().unwrap();
        let first = UploadClaim::try_take(dir.path()).unwrap();
        assert!(first.is_some());
        let started = std::time::Instant::now();
        assert!(UploadClaim::try_take(dir.path()).unwrap().is_none());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        drop(first);
        assert!(UploadClaim::try_take(dir.path()).unwrap().is_some());
        assert!(dir.path().join(UPLOAD_LOCK_FILE).exists());
    }

    #[test]
    fn an_unusable_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let e = UploadClaim::try_take(&missing).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("upload.lock"), "{text}");
        assert!(text.contains("write access"), "{text}");
    }
}
