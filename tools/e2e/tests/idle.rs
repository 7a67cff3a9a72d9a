//! Nothing of an upload outlives its flush: the transport's runtime, and
//! the thread it starts for a DNS lookup, are gone once `flush` returns.

#![cfg(target_os = "linux")]

use sockstatlog::upload::{
    HttpRequest, HttpResponse, HttpTransport, ReqwestTransport, TransportError,
};
use sockstatlog::MemoryBuffer;
use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, Server};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Names of this process's threads, from /proc, leaving out the log
/// server's (its accept thread, "logserver ...", and the blocking-pool
/// thread of its runtime, tokio's default "tokio-rt-worker", which stays
/// for 10 s after each SQLite write).
fn threads() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .map(|task| {
            let comm = task.unwrap().path().join("comm");
            std::fs::read_to_string(comm)
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .filter(|name| !name.starts_with("logserver") && name != "tokio-rt-worker")
        .collect();
    names.sort();
    names
}

/// The default transport, noting the threads alive right after each
/// request (inside the flush).
#[derive(Default)]
struct Watching {
    inner: ReqwestTransport,
    during: Mutex<Vec<Vec<String>>>,
}

impl HttpTransport for Watching {
    fn post(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let result = self.inner.post(request, timeout);
        self.during.lock().unwrap().push(threads());
        result
    }

    fn end_of_flush(&self) {
        self.inner.end_of_flush();
    }
}

/// Waits until `cond` holds, failing the test after 20 s.
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}: threads {:?}",
            threads()
        );
        std::thread::yield_now();
    }
}

#[test]
fn no_thread_outlives_a_flush() {
    let server = Server::start(Config::in_memory()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // "localhost", so every flush resolves a name on the one thread the
    // transport's runtime starts ("sockstatlog-dns").
    let base_url = format!("http://localhost:{}", server.addr().port());
    let transport = Arc::new(Watching::default());
    let uploader = uploader(&base_url, transport.clone(), Default::default(), 256 * 1024);
    let logger = logger(dir.path(), Arc::new(MemoryBuffer::default()), uploader);
    // New threads take their names a moment after they start: until then
    // they carry their creator's name. Wait until only this thread has it.
    let own = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
    let own = own.trim().to_string();
    wait_until("every thread to take its name", || {
        let names = threads();
        names.iter().filter(|n| **n == own).count() == 1 && names.iter().any(|n| n == "sockstatlog")
    });
    let before = threads();
    assert!(!before.iter().any(|t| t.starts_with("sockstatlog-dns")));
    for round in 0..3 {
        for line in event_lines(500, 1_764_373_555_000 + round * 100_000) {
            logger.write(&line).unwrap();
        }
        let report = logger.flush(Duration::from_secs(10)).unwrap();
        assert!(report.complete, "{report:?}");
        // A joined thread can stay listed in /proc for a moment after it
        // ended; one that outlives the flush stays for good.
        wait_until("the flush's threads to be gone", || threads() == before);
    }
    let during = transport.during.lock().unwrap().clone();
    println!("threads during the flushes: {during:?}");
    assert!(
        during
            .iter()
            .any(|names| names.iter().any(|t| t.starts_with("sockstatlog-dns"))),
        "the lookup thread was never seen: is this test still testing anything?"
    );
    assert_eq!(server.entries(COLLECTION, &log_id()).len(), 1_500);
    logger.shutdown(Duration::from_secs(5)).unwrap();
}
