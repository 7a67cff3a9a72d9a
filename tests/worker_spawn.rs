//! A worker thread that cannot be started is reported as what it is (not as
//! a bad log directory), and no half-made logger is returned.
//!
//! The failure is real: a child process (this test binary, run again) caps
//! its address space just above what it uses, so the worker's stack cannot
//! be mapped.

#![cfg(target_os = "linux")]

use sockstatlog::{Error, Logger, MemoryBuffer, Options, PublicId, Snapshot};
use std::process::Command;
use std::sync::Arc;

const CHILD: &str = "SOCKSTATLOG_SPAWN_CHILD_DIR";
const NODE: &str = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d";

/// Bytes of address space this process has mapped.
fn mapped_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    kib * 1024
}

#[test]
#[ignore = "run by a_failed_worker_spawn_is_its_own_error"]
fn worker_spawn_child() {
    let Ok(dir) = std::env::var(CHILD) else {
        return;
    };
    let node: PublicId = NODE.parse().unwrap();
    let source = Arc::new(|| Ok(Snapshot::default()));
    let options = Options {
        buffer: Some(Arc::new(MemoryBuffer::default())),
        ..Options::default()
    };
    // Everything a logger allocates on this thread is small; the worker's
    // 256 KiB stack is not. Leave room for the former only.
    let limit = mapped_bytes() + 64 * 1024;
    let rlimit = libc::rlimit {
        rlim_cur: limit,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit with a valid pointer to an initialised struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &rlimit) }, 0);
    let result = Logger::new(&dir, node, source, options);
    let text = match result {
        Err(e @ Error::WorkerThread { .. }) => format!("WorkerThread: {e}"),
        Err(e) => format!("other error: {e}"),
        Ok(_) => "created".to_string(),
    };
    println!("RESULT {text}");
}

#[test]
fn a_failed_worker_spawn_is_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "worker_spawn_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result = stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r.to_string()))
        .unwrap_or_else(|| panic!("the child said nothing: {output:?}"));
    assert!(
        result.starts_with("WorkerThread: could not start the logger's worker thread"),
        "{result}"
    );
    assert!(result.contains("create the logger again"), "{result}");
    assert!(!result.contains("directory"), "{result}");
}
