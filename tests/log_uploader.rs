//! The flush-only `LogUploader` and the upload claim: one uploader per log
//! directory at a time, refused at once (never waited for), held only during
//! an upload.

mod common;

use common::{wait_for, ScriptedUploader};
use sockstatlog::{LogUploader, Logger, Options, PublicId, Snapshot, DEFAULT_BUFFER_CAP_BYTES};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NODE: &str = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d";

fn node() -> PublicId {
    NODE.parse().unwrap()
}

#[test]
fn a_second_uploader_on_the_directory_is_refused_at_once_and_admitted_after_the_flush() {
    let dir = tempfile::tempdir().unwrap();
    let logger_uploads = Arc::new(ScriptedUploader::default());
    let logger = Arc::new(
        Logger::new(
            dir.path(),
            node(),
            Arc::new(|| Ok(Snapshot::default())),
            Options {
                uploader: Some(logger_uploads.clone()),
                ..Options::default()
            },
        )
        .unwrap(),
    );
    let other_uploads = Arc::new(ScriptedUploader::default());
    let other = LogUploader::open(
        dir.path(),
        node(),
        other_uploads.clone(),
        DEFAULT_BUFFER_CAP_BYTES,
    )
    .unwrap();
    assert_eq!(other.log_id(), logger.log_id());
    logger.write("first").unwrap();
    assert_eq!(other.buffer_stats().lines, 1);

    // While the logger's flush uploads, the other handle is refused at once.
    logger_uploads.hold.store(true, Ordering::SeqCst);
    let flush = {
        let logger = logger.clone();
        std::thread::spawn(move || logger.flush(Duration::from_secs(20)))
    };
    wait_for("the logger's upload to start", || {
        logger_uploads.uploading.load(Ordering::SeqCst)
    });
    let asked = Instant::now();
    let refused = other.flush(Duration::from_secs(20)).unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "refused only after {:?}",
        asked.elapsed()
    );
    assert!(refused.other_uploader_active);
    assert!(!refused.complete);
    assert_eq!(refused.lines_still_buffered, 1);
    assert_eq!(other_uploads.calls.load(Ordering::SeqCst), 0);
    logger_uploads.hold.store(false, Ordering::SeqCst);
    let done = flush.join().unwrap().unwrap();
    assert!(!done.other_uploader_active);
    assert_eq!(*logger_uploads.sent.lock().unwrap(), ["first"]);

    // The claim went with the flush: nothing is held between flushes.
    logger.write("second").unwrap();
    let report = other.flush(Duration::from_secs(5)).unwrap();
    assert!(!report.other_uploader_active);
    assert!(report.complete);
    assert_eq!(*other_uploads.sent.lock().unwrap(), ["second"]);

    // And the other way round: the logger is refused during the handle's
    // upload.
    logger.write("third").unwrap();
    other_uploads.hold.store(true, Ordering::SeqCst);
    let other = Arc::new(other);
    let flush = {
        let other = other.clone();
        std::thread::spawn(move || other.flush(Duration::from_secs(20)))
    };
    wait_for("the handle's upload to start", || {
        other_uploads.uploading.load(Ordering::SeqCst)
    });
    let refused = logger.flush(Duration::from_secs(20)).unwrap();
    assert!(refused.other_uploader_active);
    other_uploads.hold.store(false, Ordering::SeqCst);
    assert!(flush.join().unwrap().unwrap().complete);
    assert!(
        !logger
            .flush(Duration::from_secs(5))
            .unwrap()
            .other_uploader_active
    );
    logger.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_log_uploader_on_a_new_directory_creates_it_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let uploads = Arc::new(ScriptedUploader::default());
    let handle =
        LogUploader::open(dir.path().join("new"), node(), uploads.clone(), 1 << 20).unwrap();
    let report = handle.flush(Duration::from_secs(5)).unwrap();
    assert!(report.complete);
    assert_eq!(report.lines_sent, 0);
    assert_eq!(handle.buffer_stats().lines, 0);
    assert_eq!(uploads.calls.load(Ordering::SeqCst), 1);
}
