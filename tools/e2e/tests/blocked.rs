//! Something answering in the log server's place (a proxy asking for
//! credentials, a captive portal, a wrong path): the batch is kept, the
//! flush ends at once with a last_error saying what to check, and once the
//! way is clear every line reaches the real server exactly.

use sockstatlog::{MemoryBuffer, Uploader};
use sockstatlog_e2e::stub::{Answer, StubServer};
use sockstatlog_e2e::*;
use sockstatlog_logserver::{Config, Server};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn an_auth_path_or_proxy_answer_keeps_every_line_for_the_next_flush() {
    let server = Server::start(Config::in_memory()).unwrap();
    let mut expected = Vec::new();
    for (i, status) in [401u16, 403, 404, 407].into_iter().enumerate() {
        let stub = StubServer::start(vec![Answer::new(
            status,
            "<html><body>Sign in to use this Wi-Fi network</body></html>",
        )]);
        let dir = tempfile::tempdir().unwrap();
        let buffer = Arc::new(MemoryBuffer::default());
        let to_stub = uploader(
            &stub.base_url(),
            Recording::new(),
            quick_retries(),
            4 * 1024,
        );
        let logger = logger(dir.path(), buffer.clone(), to_stub);
        let lines = event_lines(200, 1_764_373_555_000 + 100_000 * i as i64);
        for line in &lines {
            logger.write(line).unwrap();
        }
        let report = logger.flush(Duration::from_secs(10)).unwrap();
        assert_eq!(
            (
                report.requests,
                report.batches_sent,
                report.batches_dropped,
                report.lines_still_buffered,
                report.complete
            ),
            (1, 0, 0, 200, false),
            "{status}: {report:?}"
        );
        let error = report.last_error.unwrap();
        assert!(
            error.starts_with(&format!(
                "the log server answered {status}: <html><body>Sign in to use this Wi-Fi \
                 network</body></html> (the batch is kept"
            )),
            "{error}"
        );
        assert_eq!(stub.paths().len(), 1);
        logger.shutdown(Duration::from_secs(5)).unwrap();
        assert_eq!(buffered(buffer.as_ref()), lines);

        // The way is clear: the real server gets every line, in order.
        let to_server = uploader(
            &server.base_url(),
            Recording::new(),
            quick_retries(),
            4 * 1024,
        );
        let report = to_server.upload(buffer.as_ref(), Instant::now() + Duration::from_secs(10));
        assert!(report.complete, "{report:?}");
        assert_eq!(report.lines_sent, 200);
        expected.extend(lines);
    }
    let stored: Vec<String> = server
        .entries(COLLECTION, &log_id())
        .iter()
        .map(|e| strip_member(e).unwrap())
        .collect();
    assert_eq!(stored, expected);
}
