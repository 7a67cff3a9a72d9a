//! The worker thread: owns the poller and is the only thread that calls the
//! counter source.
//!
//! While enabled it wakes once per poll; while disabled it waits on a condition
//! variable with no timeout, so no timer runs at all. Other threads talk to it
//! through [`Control`] (under a mutex) and read its counters through atomics.
//! A blocked source blocks only this thread: `set_logging_enabled` never waits
//! for it, and `flush` and `shutdown` wait at most until their deadlines and
//! then hand queued lines to the buffer themselves.

use crate::buffer::{BufferError, LogBuffer};
use crate::clock::Clock;
use crate::poll::{next_tick, PollOutcome, PollTiming, Poller, SkipReason};
use crate::queue::{Dropped, LineQueue};
use crate::snapshot::Snapshot;
use crate::source::{CounterSource, SourceError};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How early a tick may be taken rather than waited for again.
const TICK_SLACK: Duration = Duration::from_millis(1);

/// The worker's timing settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub poll_period: Duration,
    pub batch_period: Duration,
    pub source_timeout: Duration,
}

/// What the callers ask of the worker, and what it has done.
#[derive(Debug, Default)]
pub(crate) struct Control {
    /// The state the last `set_logging_enabled` asked for.
    pub enabled: bool,
    /// Bumped by every call that changed `enabled`.
    pub generation: u64,
    /// Set once by shutdown (or by dropping the logger).
    pub stop: bool,
    /// Flush requests made, and handled.
    pub flush_requested: u64,
    pub flush_done: u64,
    /// The worker is waiting with no timeout (disabled, nothing to do).
    pub parked: bool,
    /// The worker thread has ended (or was never started).
    pub exited: bool,
}

/// Counters the worker keeps; read by `Logger::stats`.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub polls: AtomicU64,
    pub events: AtomicU64,
    pub source_errors: AtomicU64,
    pub source_too_slow: AtomicU64,
    pub missed_ticks: AtomicU64,
    pub dropped_lines: AtomicU64,
    pub dropped_bytes: AtomicU64,
    pub lines_buffered: AtomicU64,
    pub buffer_errors: AtomicU64,
    pub wakeups: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// State shared by the logger's API and its worker thread.
pub(crate) struct Shared {
    pub control: Mutex<Control>,
    /// Wakes the worker.
    pub wake: Condvar,
    /// Wakes callers waiting for the worker (flush, shutdown).
    pub done: Condvar,
    queue: Mutex<LineQueue>,
    /// Serialises "take the queue, append it to the buffer" so batches reach
    /// the buffer in order whichever thread drains.
    drain_lock: Mutex<()>,
    pub buffer: Arc<dyn LogBuffer>,
    source: Arc<dyn CounterSource>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    pub counters: Counters,
}

/// Locks a mutex, recovering the data if a panic poisoned it: every critical
/// section here leaves its data consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn new(
        buffer: Arc<dyn LogBuffer>,
        source: Arc<dyn CounterSource>,
        clock: Arc<dyn Clock>,
        settings: Settings,
        queue: LineQueue,
    ) -> Self {
        Shared {
            control: Mutex::new(Control::default()),
            wake: Condvar::new(),
            done: Condvar::new(),
            queue: Mutex::new(queue),
            drain_lock: Mutex::new(()),
            buffer,
            source,
            clock,
            settings,
            counters: Counters::default(),
        }
    }

    /// Queues a line for the next batch.
    pub fn enqueue(&self, line: String) {
        let dropped = lock(&self.queue).push(line);
        self.count_dropped(dropped);
    }

    fn count_dropped(&self, dropped: Dropped) {
        if dropped.lines > 0 {
            add(&self.counters.dropped_lines, dropped.lines);
            add(&self.counters.dropped_bytes, dropped.bytes);
            log::warn!(
                "sockstatlog: memory queue full, dropped {} oldest lines",
                dropped.lines
            );
        }
    }

    /// Hands every queued line to the buffer, in order. On failure the lines
    /// go back to the front of the queue and are retried with the next batch.
    pub fn drain(&self) -> Result<(), BufferError> {
        let _order = lock(&self.drain_lock);
        let batch = lock(&self.queue).take_batch();
        if batch.is_empty() {
            return Ok(());
        }
        match self.buffer.append(&batch) {
            Ok(()) => {
                add(&self.counters.lines_buffered, batch.len() as u64);
                Ok(())
            }
            Err(err) => {
                add(&self.counters.buffer_errors, 1);
                log::warn!("sockstatlog: could not store a batch, keeping it queued: {err}");
                let dropped = lock(&self.queue).restore(batch);
                self.count_dropped(dropped);
                Err(err)
            }
        }
    }

    /// Asks the worker to poll (if enabled) and drain now, and waits for it
    /// until `deadline`. Returns whether the worker did it in time.
    pub fn request_flush(&self, deadline: Instant) -> bool {
        let mut control = lock(&self.control);
        if control.exited {
            return false;
        }
        control.flush_requested += 1;
        let ticket = control.flush_requested;
        self.wake.notify_all();
        while control.flush_done < ticket && !control.exited {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            control = self
                .done
                .wait_timeout(control, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        control.flush_done >= ticket
    }

    /// Waits until the worker has exited or `deadline` passes.
    pub fn wait_exited(&self, deadline: Instant) -> bool {
        let mut control = lock(&self.control);
        while !control.exited {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            control = self
                .done
                .wait_timeout(control, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

/// Marks the worker as exited when its thread ends, even by a panic, so no
/// caller waits for a worker that is gone.
struct ExitGuard<'a>(&'a Shared);

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        lock(&self.0.control).exited = true;
        self.0.done.notify_all();
    }
}

/// The worker thread's state.
struct Worker<'a> {
    shared: &'a Shared,
    poller: Poller,
    /// The snapshot the source fills, reused from poll to poll.
    current: Snapshot,
    running: bool,
    next_tick: Duration,
    next_batch: Duration,
}

impl Worker<'_> {
    /// Polls the source once and queues the event, if any.
    fn poll_once(&mut self) {
        let shared = self.shared;
        let wall_unix_ms = shared.clock.wall_unix_ms();
        let started = shared.clock.monotonic();
        let current = &mut self.current;
        let result = catch_unwind(AssertUnwindSafe(|| shared.source.snapshot_into(current)))
            .unwrap_or_else(|_| Err(SourceError("the counter source panicked".into())));
        let finished = shared.clock.monotonic();
        add(&shared.counters.polls, 1);
        let timing = PollTiming {
            wall_unix_ms,
            started,
            finished,
        };
        match self.poller.poll(timing, result.map(|()| &self.current)) {
            PollOutcome::Event(line) => {
                add(&shared.counters.events, 1);
                shared.enqueue(line);
            }
            PollOutcome::Baseline | PollOutcome::NoChange => {}
            PollOutcome::Skipped(SkipReason::SourceFailed(err)) => {
                add(&shared.counters.source_errors, 1);
                log::debug!("sockstatlog: poll skipped: {err}");
            }
            PollOutcome::Skipped(SkipReason::SourceTooSlow(took)) => {
                add(&shared.counters.source_too_slow, 1);
                log::debug!("sockstatlog: poll skipped: the source took {took:?}");
            }
        }
    }

    /// Drains the queue, logging (not propagating) a failure: the lines stay
    /// queued for the next try.
    fn drain(&self) {
        let _ = self.shared.drain();
    }

    fn start_polling(&mut self) {
        self.poller.reset();
        // The grid starts when the baseline poll starts (not when it ends).
        let now = self.shared.clock.monotonic();
        self.poll_once();
        self.next_tick = now + self.shared.settings.poll_period;
        self.next_batch = now + self.shared.settings.batch_period;
    }

    fn run(&mut self) {
        let shared = self.shared;
        let settings = shared.settings;
        let mut seen_generation = 0;
        let mut seen_flush = 0;
        let mut control = lock(&shared.control);
        loop {
            control.parked = false;
            if control.generation != seen_generation || control.stop {
                let (generation, stop) = (control.generation, control.stop);
                let enable = control.enabled && !stop;
                drop(control);
                if self.running {
                    // Close the interval: nothing is lost on disable or stop.
                    self.poll_once();
                    self.drain();
                }
                if stop {
                    self.drain();
                    return;
                }
                seen_generation = generation;
                self.running = enable;
                if enable {
                    self.start_polling();
                }
                control = lock(&shared.control);
                continue;
            }
            if control.flush_requested != seen_flush {
                let ticket = control.flush_requested;
                drop(control);
                if self.running {
                    self.poll_once();
                }
                self.drain();
                control = lock(&shared.control);
                seen_flush = ticket;
                control.flush_done = ticket;
                shared.done.notify_all();
                continue;
            }
            if !self.running {
                control.parked = true;
                control = shared.wake.wait(control).unwrap_or_else(|e| e.into_inner());
                add(&shared.counters.wakeups, 1);
                continue;
            }
            let now = shared.clock.monotonic();
            // A timed wait can end a hair before the tick (the condition
            // variable's clock is not the poller's): poll then rather than
            // waking a second time for the rest.
            if now + TICK_SLACK >= self.next_tick {
                drop(control);
                self.poll_once();
                // Scheduled from the time this poll was due to start, so a
                // slow source call is followed by at most one immediate poll
                // (which then counts the missed ticks), never a burst.
                let (next, missed) = next_tick(self.next_tick, now, settings.poll_period);
                self.next_tick = next;
                add(&shared.counters.missed_ticks, missed);
                if now >= self.next_batch {
                    self.drain();
                    self.next_batch = now + settings.batch_period;
                }
                control = lock(&shared.control);
                continue;
            }
            control = shared
                .wake
                .wait_timeout(control, self.next_tick - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            add(&shared.counters.wakeups, 1);
        }
    }
}

/// Starts the worker thread.
pub(crate) fn spawn(shared: Arc<Shared>) -> std::io::Result<std::thread::JoinHandle<()>> {
    let poll_timeout = shared.settings.source_timeout;
    // A clock moved by hand wakes the worker at once. The waker holds only a
    // weak reference, so a clock outliving the logger keeps nothing alive; it
    // takes the control lock, so the wakeup cannot fall between the worker
    // reading the clock and starting to wait.
    let weak = Arc::downgrade(&shared);
    shared.clock.on_advance(Box::new(move || {
        if let Some(shared) = weak.upgrade() {
            let _control = lock(&shared.control);
            shared.wake.notify_all();
        }
    }));
    std::thread::Builder::new()
        .name("sockstatlog".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            crate::platform::on_worker_start();
            let _exit = ExitGuard(&shared);
            let mut worker = Worker {
                shared: &shared,
                poller: Poller::new(poll_timeout),
                current: Snapshot::default(),
                running: false,
                next_tick: Duration::ZERO,
                next_batch: Duration::ZERO,
            };
            worker.run();
        })
}
