//! The logger: the public API that wires the poller, the buffer and the
//! uploader together, and its lifecycle.

use crate::buffer::{BufferStats, FileBuffer, FileBufferOptions, LogBuffer};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::line;
use crate::logid::{PrivateId, PublicId};
use crate::queue::LineQueue;
use crate::source::CounterSource;
use crate::upload::{FlushReport, Uploader};
use crate::worker::{self, lock, Settings, Shared};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the poller asks for counters, as in the original.
pub const DEFAULT_POLL_PERIOD: Duration = Duration::from_millis(100);
/// How often queued events are handed to the log buffer. The original wrote
/// every event at once and its uploads then made new events forever; 10 s
/// batches also keep disk writes (and so battery use) low.
pub const DEFAULT_BATCH_PERIOD: Duration = Duration::from_secs(10);
/// Lines the memory queue holds at most: 100 s of events at one per poll,
/// enough to ride out ten failed batches in a row.
pub const DEFAULT_MAX_QUEUED_LINES: usize = 1_000;
/// Bytes the memory queue holds at most, to bound memory whatever the
/// number of labels.
pub const DEFAULT_MAX_QUEUED_BYTES: usize = 512 * 1024;
/// Bytes of log lines the default buffer keeps on disk at most, as the
/// original: about 12 hours of busy traffic, a small share of an app's
/// container. Past it the oldest lines give way to a marker.
pub const DEFAULT_BUFFER_CAP_BYTES: u64 = 5 * 1024 * 1024;
/// The shortest poll period accepted: faster polling only burns battery.
pub const MIN_POLL_PERIOD: Duration = Duration::from_millis(10);
/// A source call slower than this is skipped, unless
/// [`Options::source_timeout`] says otherwise (and never below one poll
/// period). A JVM garbage-collection pause or a descheduled thread on a
/// cheap, loaded phone easily takes a few hundred milliseconds, so one poll
/// period (100 ms) skipped every poll on such phones and logged nothing. A
/// call of up to 1 s still places its snapshot within ten poll periods; a
/// slower one is a stuck source, and the next good poll covers its interval.
pub const DEFAULT_SOURCE_TIMEOUT: Duration = Duration::from_secs(1);
/// The share of a flush's deadline (in percent) spent waiting for the
/// worker's last poll and drain. A healthy worker answers within one source
/// call; one stuck in a blocked source must not eat the deadline, so after
/// this share the calling thread stores the queue itself and uploads what
/// is buffered with the rest (at least three quarters) of the deadline.
pub const FLUSH_WORKER_SHARE_PERCENT: u32 = 25;
/// How often a flush (or shutdown) waiting for another flush of the same
/// logger checks whether it has finished. A wait only happens while two
/// threads flush at once, which is rare; a short poll keeps the code free
/// of a second condition variable.
const UPLOAD_TURN_POLL: Duration = Duration::from_millis(5);

/// Settings for a [`Logger`]. `Options::default()` is the original's
/// behaviour.
#[derive(Clone)]
pub struct Options {
    /// How often to poll the counter source.
    pub poll_period: Duration,
    /// How often queued events are handed to the log buffer.
    pub batch_period: Duration,
    /// A source call slower than this is skipped (and counted): its snapshot
    /// cannot be placed in time. `None`: [`DEFAULT_SOURCE_TIMEOUT`], or the
    /// poll period if that is longer.
    pub source_timeout: Option<Duration>,
    /// Lines the memory queue holds at most; the oldest are dropped beyond.
    pub max_queued_lines: usize,
    /// Bytes the memory queue holds at most; the oldest are dropped beyond.
    pub max_queued_bytes: usize,
    /// Bytes the default buffer keeps on disk at most.
    pub buffer_cap_bytes: u64,
    /// Where lines wait for upload. `None`: a durable [`FileBuffer`] in the
    /// log directory, capped at `buffer_cap_bytes`.
    pub buffer: Option<Arc<dyn LogBuffer>>,
    /// What `flush` uploads with. `None`: `flush` only hands queued lines to
    /// the buffer.
    pub uploader: Option<Arc<dyn Uploader>>,
    /// The clocks. Tests inject a manual one.
    pub clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            poll_period: DEFAULT_POLL_PERIOD,
            batch_period: DEFAULT_BATCH_PERIOD,
            source_timeout: None,
            max_queued_lines: DEFAULT_MAX_QUEUED_LINES,
            max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
            buffer_cap_bytes: DEFAULT_BUFFER_CAP_BYTES,
            buffer: None,
            uploader: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl Options {
    fn settings(&self) -> Result<Settings, Error> {
        if self.poll_period < MIN_POLL_PERIOD {
            return Err(Error::InvalidOption {
                name: "poll_period",
                reason: format!(
                    "{:?} is below the minimum of {:?}",
                    self.poll_period, MIN_POLL_PERIOD
                ),
            });
        }
        if self.batch_period < self.poll_period {
            return Err(Error::InvalidOption {
                name: "batch_period",
                reason: format!(
                    "{:?} is shorter than the poll period {:?}; use at least one poll period",
                    self.batch_period, self.poll_period
                ),
            });
        }
        if self.max_queued_lines == 0 || self.max_queued_bytes < line::MAX_LINE_BYTES {
            return Err(Error::InvalidOption {
                name: "max_queued_lines/max_queued_bytes",
                reason: format!(
                    "the queue must hold at least one line of {} bytes",
                    line::MAX_LINE_BYTES
                ),
            });
        }
        let source_timeout = self
            .source_timeout
            .unwrap_or(DEFAULT_SOURCE_TIMEOUT.max(self.poll_period));
        if source_timeout.is_zero() {
            return Err(Error::InvalidOption {
                name: "source_timeout",
                reason: "must be above zero".into(),
            });
        }
        Ok(Settings {
            poll_period: self.poll_period,
            batch_period: self.batch_period,
            source_timeout,
        })
    }
}

/// What the logger has done so far, for an app's debug screen and for tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoggerStats {
    /// Whether logging is enabled.
    pub logging_enabled: bool,
    /// Source calls made.
    pub polls: u64,
    /// Events written.
    pub events: u64,
    /// Polls skipped because the source failed or panicked.
    pub source_errors: u64,
    /// Polls skipped because the source was slower than the source timeout.
    pub source_too_slow: u64,
    /// Poll times that passed without a poll (slow source, late wakeup,
    /// device sleep); the next event covered them.
    pub missed_ticks: u64,
    /// Lines dropped from the full memory queue.
    pub dropped_lines: u64,
    /// Bytes of those lines.
    pub dropped_bytes: u64,
    /// Lines handed to the buffer.
    pub lines_buffered: u64,
    /// Batches the buffer could not store (kept queued and retried).
    pub buffer_errors: u64,
    /// Times the worker thread woke from a wait (a poll tick, a request, or
    /// a spurious wakeup). About one per poll while enabled, none while
    /// disabled and idle.
    pub worker_wakeups: u64,
    /// The buffer's own counters.
    pub buffer: BufferStats,
}

/// Logs how many bytes each label sends and receives.
///
/// Create it with [`Logger::new`], turn polling on with
/// [`set_logging_enabled`](Logger::set_logging_enabled), upload with
/// [`flush`](Logger::flush) and stop with [`shutdown`](Logger::shutdown).
/// All methods take `&self` and may be called from any thread.
pub struct Logger {
    shared: Arc<Shared>,
    private_id: PrivateId,
    log_id: PublicId,
    dir: PathBuf,
    uploader: Option<Arc<dyn Uploader>>,
    /// One upload of this logger at a time: a second flush waits for the
    /// first (other loggers and processes are kept out by the upload claim).
    /// Shutdown takes it too, so no upload runs after shutdown returned.
    upload_lock: Mutex<()>,
    /// The worker thread, joined by shutdown once it has exited.
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("log_id", &self.log_id)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Creates `dir` (mode 0700 where supported) if it is missing and checks that
/// it is a directory.
pub(crate) fn prepare_dir(dir: &Path) -> Result<(), Error> {
    let err = |source| Error::LogDirectory {
        path: dir.to_path_buf(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(err)?;
    if !std::fs::metadata(dir).map_err(err)?.is_dir() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a directory",
        )));
    }
    Ok(())
}

impl Logger {
    /// Creates a logger that stores its buffer in `dir` and logs under the
    /// sockstat ID derived from the node's public log ID. It starts disabled.
    pub fn new(
        dir: impl AsRef<Path>,
        public_id: PublicId,
        source: Arc<dyn CounterSource>,
        options: Options,
    ) -> Result<Logger, Error> {
        crate::platform::init_diagnostics();
        let settings = options.settings()?;
        let dir = dir.as_ref().to_path_buf();
        prepare_dir(&dir)?;
        let buffer = match options.buffer {
            Some(buffer) => buffer,
            None => Arc::new(FileBuffer::open(
                &dir,
                FileBufferOptions {
                    cap_bytes: options.buffer_cap_bytes,
                    ..FileBufferOptions::default()
                },
            )?) as Arc<dyn LogBuffer>,
        };
        let queue = LineQueue::new(options.max_queued_lines, options.max_queued_bytes);
        let shared = Arc::new(Shared::new(buffer, source, options.clock, settings, queue));
        let thread =
            worker::spawn(shared.clone()).map_err(|source| Error::WorkerThread { source })?;
        let private_id = public_id.sockstat_private_id();
        let log_id = private_id.public();
        log::info!("sockstatlog: logger created for log {log_id}");
        Ok(Logger {
            shared,
            private_id,
            log_id,
            dir,
            uploader: options.uploader,
            upload_lock: Mutex::new(()),
            thread: Mutex::new(Some(thread)),
        })
    }

    fn check_open(&self) -> Result<std::sync::MutexGuard<'_, crate::worker::Control>, Error> {
        let control = lock(&self.shared.control);
        if control.stop {
            return Err(Error::ShutDown);
        }
        Ok(control)
    }

    /// Turns polling on or off. Returns at once: the worker takes a baseline
    /// when enabled, and when disabled closes the interval with a last poll
    /// and hands every queued event to the buffer. Calls from any number of
    /// threads leave exactly the state of the last call.
    pub fn set_logging_enabled(&self, enabled: bool) -> Result<(), Error> {
        let mut control = self.check_open()?;
        if control.enabled != enabled {
            control.enabled = enabled;
            control.generation += 1;
            self.shared.wake.notify_all();
        }
        Ok(())
    }

    /// Whether logging is enabled.
    pub fn is_logging_enabled(&self) -> bool {
        let control = lock(&self.shared.control);
        control.enabled && !control.stop
    }

    /// Adds a line of the app's own to the log (one line, at most 64 KiB, no
    /// line breaks). It is stored with the next batch of events, or at once
    /// while logging is disabled.
    ///
    /// `Ok` means the line was accepted: it is queued and will be stored (a
    /// buffer that fails, for example with the disk full, only delays it: it
    /// stays queued and is retried with the next batch, flush or shutdown;
    /// only the bounded queue overflowing can drop it, oldest first and with
    /// a marker). `Err` means it was not accepted and nothing of it is kept,
    /// so retrying never duplicates it.
    pub fn write(&self, text: &str) -> Result<(), Error> {
        let text = text.strip_suffix('\n').unwrap_or(text);
        line::validate(text)?;
        let text = text.to_string();
        let enabled = {
            let control = self.check_open()?;
            // Queued under the control lock: the worker reads `stop` under it
            // before its last drain, so that drain comes after every line
            // accepted here.
            self.shared.enqueue(text);
            control.enabled
        };
        if !enabled {
            // A failure is counted and logged; the line stays queued.
            let _ = self.shared.drain();
        }
        Ok(())
    }

    /// The public ID of the log this logger writes to (the sockstat ID
    /// derived from the node's public ID). Keeps working after shutdown.
    pub fn log_id(&self) -> PublicId {
        self.log_id
    }

    /// The private ID this logger uploads with. Keep it out of logs.
    pub fn private_id(&self) -> &PrivateId {
        &self.private_id
    }

    /// Hands every queued event (after a last poll, if enabled) to the buffer
    /// and uploads what the buffer holds, all within `deadline`.
    ///
    /// The worker gets [`FLUSH_WORKER_SHARE_PERCENT`] of the deadline for its
    /// last poll; if it is stuck in the source, this thread stores the queue
    /// and uploads anyway. A second flush of this logger waits for the
    /// first; if another logger, [`LogUploader`](crate::LogUploader) or
    /// process is uploading from the same directory, the flush returns at
    /// once with [`FlushReport::other_uploader_active`] set.
    pub fn flush(&self, deadline: Duration) -> Result<FlushReport, Error> {
        let started = Instant::now();
        let until = started + deadline;
        drop(self.check_open()?);
        let worker_share = deadline * FLUSH_WORKER_SHARE_PERCENT / 100;
        if !self.shared.request_flush(started + worker_share) {
            // The worker is busy in a slow source call: store the queue here.
            // A failing buffer is counted and the lines stay queued, as when
            // the worker drains; what is buffered is uploaded all the same
            // (which, on a full disk, frees space).
            let _ = self.shared.drain();
        }
        let Some(uploader) = &self.uploader else {
            let lines = self.shared.buffer.stats().lines;
            return Ok(FlushReport {
                lines_still_buffered: lines,
                complete: lines == 0,
                ..FlushReport::default()
            });
        };
        let _one_upload = self.upload_turn(until, "flush", deadline)?;
        // Shutdown takes the upload turn after setting `stop`: checked here,
        // no upload starts once shutdown has gone past it.
        drop(self.check_open()?);
        crate::log_uploader::upload_claimed(
            &self.dir,
            uploader.as_ref(),
            self.shared.buffer.as_ref(),
            until,
        )
    }

    /// Waits until no other flush of this logger is uploading, at most until
    /// `until`.
    fn upload_turn(
        &self,
        until: Instant,
        operation: &'static str,
        deadline: Duration,
    ) -> Result<std::sync::MutexGuard<'_, ()>, Error> {
        loop {
            match self.upload_lock.try_lock() {
                Ok(guard) => return Ok(guard),
                // Uploads run under catch_unwind; recover anyway.
                Err(std::sync::TryLockError::Poisoned(e)) => return Ok(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
            if Instant::now() >= until {
                return Err(Error::FlushInProgress {
                    operation,
                    deadline_ms: deadline.as_millis() as u64,
                });
            }
            std::thread::sleep(UPLOAD_TURN_POLL);
        }
    }

    /// Stops logging for good: a last poll, every queued line handed to the
    /// buffer, and the worker thread ended, within `deadline`. Idempotent;
    /// afterwards every other call returns [`Error::ShutDown`]. Lines still in
    /// the buffer wait for the next logger's flush.
    ///
    /// When it returns `Ok`, every line `write` accepted is in the buffer and
    /// no upload of this logger is running: a flush uploading at that moment
    /// is waited for (within `deadline`), and none starts afterwards.
    pub fn shutdown(&self, deadline: Duration) -> Result<(), Error> {
        let until = Instant::now() + deadline;
        {
            let mut control = lock(&self.shared.control);
            if !control.stop {
                control.stop = true;
                self.shared.wake.notify_all();
            }
        }
        if self.shared.wait_exited(until) {
            if let Some(thread) = lock(&self.thread).take() {
                // It has exited (or is returning): joining takes no time.
                let _ = thread.join();
            }
            // What the worker's last drain could not store (a failing buffer).
            self.shared.drain()?;
            drop(self.upload_turn(until, "shutdown", deadline)?);
            return Ok(());
        }
        // The worker is stuck in the source: store what is queued ourselves.
        self.shared.drain()?;
        Err(Error::DeadlineExceeded {
            operation: "shutdown",
            deadline_ms: deadline.as_millis() as u64,
        })
    }

    /// The logger's counters.
    pub fn stats(&self) -> LoggerStats {
        let c = &self.shared.counters;
        let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        LoggerStats {
            logging_enabled: self.is_logging_enabled(),
            polls: get(&c.polls),
            events: get(&c.events),
            source_errors: get(&c.source_errors),
            source_too_slow: get(&c.source_too_slow),
            missed_ticks: get(&c.missed_ticks),
            dropped_lines: get(&c.dropped_lines),
            dropped_bytes: get(&c.dropped_bytes),
            lines_buffered: get(&c.lines_buffered),
            buffer_errors: get(&c.buffer_errors),
            worker_wakeups: get(&c.wakeups),
            buffer: self.shared.buffer.stats(),
        }
    }

    /// Whether the worker thread is waiting with no timer at all (it is
    /// disabled and has nothing to do). For tests and diagnostics.
    pub fn is_worker_parked(&self) -> bool {
        lock(&self.shared.control).parked
    }

    /// The buffer this logger writes to (read-only use: debugging, tests).
    pub fn buffer(&self) -> &Arc<dyn LogBuffer> {
        &self.shared.buffer
    }
}

impl Drop for Logger {
    /// Stops the worker without waiting: it closes the interval, stores the
    /// queue and ends on its own.
    fn drop(&mut self) {
        let mut control = lock(&self.shared.control);
        control.stop = true;
        self.shared.wake.notify_all();
    }
}
