//! One poll's work: building the snapshot from the source's counters (in
//! place, as `CounterSource::snapshot_into` does), the delta against the
//! baseline, and the event encoding.
//!
//! Scenarios (each changing label gains 1,500 tx and 4,000 rx bytes a poll):
//! 13 labels all changing; 13 labels with 3 changing; 13 labels with none
//! changing; 64 labels all changing.
//!
//! `cargo bench -p sockstatlog-perf --bench poll` prints Criterion's
//! timings, then heap allocations per poll counted by the counting global
//! allocator of `sockstatlog_perf::alloc`.

use criterion::{criterion_group, Criterion};
use sockstatlog::poll::{PollTiming, Poller};
use sockstatlog::{Counters, Label, Snapshot};
use sockstatlog_perf::alloc;
use std::hint::black_box;
use std::time::Duration;

/// A synthetic platform: `labels` labels, the first `changing` of which move.
struct Scenario {
    name: &'static str,
    labels: u8,
    changing: u8,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "13 labels, all changing",
        labels: 13,
        changing: 13,
    },
    Scenario {
        name: "13 labels, 3 changing",
        labels: 13,
        changing: 3,
    },
    Scenario {
        name: "13 labels, none changing",
        labels: 13,
        changing: 0,
    },
    Scenario {
        name: "64 labels, all changing",
        labels: 64,
        changing: 64,
    },
];

/// State of one benchmark run: the platform's counters and the poller.
struct Run {
    counters: Vec<(Label, Counters)>,
    changing: usize,
    poller: Poller,
    snapshot: Snapshot,
    mono: Duration,
}

impl Run {
    fn new(s: &Scenario) -> Self {
        let counters = (0..s.labels)
            .map(|l| {
                (
                    Label(l),
                    Counters {
                        tx: 1_000_000,
                        rx: 2_000_000,
                    },
                )
            })
            .collect();
        let mut run = Run {
            counters,
            changing: usize::from(s.changing),
            poller: Poller::new(Duration::from_secs(1)),
            snapshot: Snapshot::default(),
            mono: Duration::ZERO,
        };
        run.poll(); // the baseline
        run
    }

    /// The platform's traffic for one poll (not part of the measured work's
    /// allocations: it happens in the platform).
    fn traffic(&mut self) {
        for (_, c) in self.counters.iter_mut().take(self.changing) {
            c.tx += 1_500;
            c.rx += 4_000;
        }
        self.mono += Duration::from_millis(100);
    }

    /// One poll's work: snapshot from the counters, delta, encoding.
    fn poll(&mut self) -> usize {
        self.snapshot
            .refill(false, self.counters.iter().copied())
            .expect("unique labels");
        let timing = PollTiming {
            wall_unix_ms: 1_700_000_000_000,
            started: self.mono,
            finished: self.mono,
        };
        match self.poller.poll(timing, Ok(&self.snapshot)) {
            sockstatlog::poll::PollOutcome::Event(line) => line.len(),
            _ => 0,
        }
    }
}

fn poll_work(c: &mut Criterion) {
    let mut group = c.benchmark_group("poll");
    for s in &SCENARIOS {
        let mut run = Run::new(s);
        group.bench_function(s.name, |b| {
            b.iter(|| {
                run.traffic();
                black_box(run.poll())
            })
        });
    }
    group.finish();
}

/// Allocations per poll, over many polls, for each scenario.
fn allocations() {
    println!("\nheap allocations per poll (counting allocator, 10,000 polls):");
    for s in &SCENARIOS {
        let mut run = Run::new(s);
        for _ in 0..100 {
            run.traffic();
            run.poll();
        }
        const POLLS: u64 = 10_000;
        let mut in_work = 0;
        for _ in 0..POLLS {
            run.traffic();
            let before = alloc::allocations() as u64;
            black_box(run.poll());
            in_work += alloc::allocations() as u64 - before;
        }
        println!("  {:<28} {:.2}", s.name, in_work as f64 / POLLS as f64);
    }
}

criterion_group!(benches, poll_work);

fn main() {
    benches();
    allocations();
    Criterion::default().configure_from_args().final_summary();
}
