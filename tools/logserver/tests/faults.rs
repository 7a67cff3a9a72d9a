//! Fault mode: seeded, reproducible failures; faulted uploads store nothing.

mod common;

use std::time::{Duration, Instant};

use common::{
    get, is_dropped_connection, post_json, read_path, request, upload_path, COLLECTION, PUBLIC_ZERO,
};
use sockstatlog_logserver::{Config, Fault, FaultConfig, FaultPlan, Server, Stats};

fn with_faults(faults: FaultConfig) -> Config {
    Config {
        faults,
        ..Config::in_memory()
    }
}

#[test]
fn with_fail_500_at_one_every_upload_is_a_500_and_nothing_is_stored() {
    let server = Server::start(with_faults(FaultConfig {
        fail_500: 1.0,
        ..FaultConfig::default()
    }))
    .unwrap();

    for _ in 0..3 {
        let reply = post_json(server.addr(), &upload_path(), r#"[{"a":1}]"#);
        assert_eq!(reply.status, 500);
        assert_eq!(
            reply.body,
            "injected fault: 500 (fault mode is on); nothing was stored, retry later\n"
        );
    }

    assert_eq!(
        server.entries(COLLECTION, PUBLIC_ZERO),
        Vec::<String>::new()
    );
    assert_eq!(
        server.stats(),
        Stats {
            requests: 3,
            fault_500: 3,
            ..Stats::default()
        }
    );
}

#[test]
fn with_fail_429_at_one_every_upload_is_a_429_carrying_retry_after() {
    let server = Server::start(with_faults(FaultConfig {
        fail_429: 1.0,
        retry_after_secs: 7,
        ..FaultConfig::default()
    }))
    .unwrap();

    let reply = post_json(server.addr(), &upload_path(), r#"[{"a":1}]"#);

    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("7"));
    assert_eq!(
        server.entries(COLLECTION, PUBLIC_ZERO),
        Vec::<String>::new()
    );
    assert_eq!(
        server.stats(),
        Stats {
            requests: 1,
            fault_429: 1,
            ..Stats::default()
        }
    );
}

#[test]
fn retry_after_defaults_to_one_second() {
    let server = Server::start(with_faults(FaultConfig {
        fail_429: 1.0,
        ..FaultConfig::default()
    }))
    .unwrap();

    let reply = post_json(server.addr(), &upload_path(), r#"[{"a":1}]"#);

    assert_eq!(reply.header("retry-after"), Some("1"));
}

#[test]
fn with_fail_reset_at_one_every_upload_loses_its_connection_without_a_response() {
    let server = Server::start(with_faults(FaultConfig {
        fail_reset: 1.0,
        ..FaultConfig::default()
    }))
    .unwrap();

    for _ in 0..3 {
        let error = request(server.addr(), "POST", &upload_path(), &[], br#"[{"a":1}]"#)
            .expect_err("a dropped connection, not a response");
        assert!(is_dropped_connection(&error), "{error:?}");
    }

    assert_eq!(
        server.entries(COLLECTION, PUBLIC_ZERO),
        Vec::<String>::new()
    );
    assert_eq!(
        server.stats(),
        Stats {
            requests: 3,
            fault_reset: 3,
            ..Stats::default()
        }
    );
}

#[test]
fn with_slow_at_one_every_upload_waits_the_delay_then_is_stored() {
    let delay = Duration::from_millis(50);
    let server = Server::start(with_faults(FaultConfig {
        slow: 1.0,
        slow_delay: delay,
        ..FaultConfig::default()
    }))
    .unwrap();

    let started = Instant::now();
    let reply = post_json(server.addr(), &upload_path(), r#"[{"slow":1}]"#);

    assert!(started.elapsed() >= delay);
    assert_eq!(reply.status, 200);
    assert_eq!(
        server.entries(COLLECTION, PUBLIC_ZERO),
        vec![r#"{"slow":1}"#.to_owned()]
    );
    assert_eq!(
        server.stats(),
        Stats {
            requests: 1,
            accepted: 1,
            fault_slow: 1,
            entries_stored: 1,
            ..Stats::default()
        }
    );
}

#[test]
fn reads_are_never_faulted() {
    let server = Server::start(with_faults(FaultConfig {
        fail_500: 1.0,
        ..FaultConfig::default()
    }))
    .unwrap();

    assert_eq!(get(server.addr(), &read_path()).status, 200);
    assert_eq!(get(server.addr(), "/stats").status, 200);
    assert_eq!(server.stats().requests, 0);
}

/// What the client saw for one upload.
#[derive(Debug, PartialEq)]
enum Seen {
    Status(u16),
    Dropped,
}

#[test]
fn a_seeded_mix_faults_exactly_the_uploads_its_fault_plan_predicts_and_stores_only_the_others() {
    let faults = FaultConfig {
        fail_500: 0.2,
        fail_429: 0.2,
        retry_after_secs: 3,
        fail_reset: 0.2,
        slow: 0.2,
        slow_delay: Duration::from_millis(5),
        seed: 1234,
    };
    let server = Server::start(with_faults(faults.clone())).unwrap();
    let mut plan = FaultPlan::new(&faults);
    let mut expected_entries = Vec::new();
    let mut expected_stats = Stats::default();

    for n in 0..40 {
        let entry = format!(r#"{{"n":{n}}}"#);
        let outcome = request(
            server.addr(),
            "POST",
            &upload_path(),
            &[],
            format!("[{entry}]").as_bytes(),
        );
        let seen = match &outcome {
            Ok(reply) => Seen::Status(reply.status),
            Err(error) if is_dropped_connection(error) => Seen::Dropped,
            Err(error) => panic!("upload {n}: {error}"),
        };
        expected_stats.requests += 1;
        let expected = match plan.next_fault() {
            Fault::None | Fault::Slow { .. } => {
                expected_entries.push(entry);
                expected_stats.accepted += 1;
                expected_stats.entries_stored += 1;
                Seen::Status(200)
            }
            Fault::ServerError => {
                expected_stats.fault_500 += 1;
                Seen::Status(500)
            }
            Fault::TooManyRequests { retry_after_secs } => {
                assert_eq!(retry_after_secs, 3);
                let retry_after = outcome.as_ref().ok().and_then(|r| r.header("retry-after"));
                assert_eq!(retry_after, Some("3"), "upload {n}");
                expected_stats.fault_429 += 1;
                Seen::Status(429)
            }
            Fault::Reset => {
                expected_stats.fault_reset += 1;
                Seen::Dropped
            }
        };
        assert_eq!(seen, expected, "upload {n}");
    }
    // Recount the slow ones, which are also accepted.
    expected_stats.fault_slow = {
        let mut plan = FaultPlan::new(&faults);
        (0..40)
            .filter(|_| matches!(plan.next_fault(), Fault::Slow { .. }))
            .count() as u64
    };

    assert_eq!(server.entries(COLLECTION, PUBLIC_ZERO), expected_entries);
    assert_eq!(server.stats(), expected_stats);
    // The seed gives a real mix: every kind happened at least once.
    let s = server.stats();
    assert!(s.accepted > s.fault_slow && s.fault_slow > 0, "{s:?}");
    assert!(
        s.fault_500 > 0 && s.fault_429 > 0 && s.fault_reset > 0,
        "{s:?}"
    );
}

#[test]
fn the_same_seed_gives_the_same_outcomes_on_a_fresh_server() {
    let faults = FaultConfig {
        fail_500: 0.5,
        seed: 99,
        ..FaultConfig::default()
    };
    let run = || {
        let server = Server::start(with_faults(faults.clone())).unwrap();
        (0..20)
            .map(|_| post_json(server.addr(), &upload_path(), "[]").status)
            .collect::<Vec<_>>()
    };

    let first = run();

    assert_eq!(first, run());
    assert!(first.contains(&200) && first.contains(&500), "{first:?}");
}
