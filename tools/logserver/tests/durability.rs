//! SQLite storage: entries survive a restart with the same database file.

mod common;

use common::{get, post_json, read_path, upload_path, COLLECTION, PUBLIC_ZERO};
use sockstatlog_logserver::{Config, Server};

#[test]
fn entries_survive_a_restart_with_the_same_sqlite_file_and_new_ones_append_after_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("logserver.sqlite3");

    let first = Server::start(Config::sqlite(&db)).unwrap();
    assert_eq!(
        post_json(
            first.addr(),
            &upload_path(),
            r#"[{"run":1,"n":1},{"run":1,"n":2}]"#
        )
        .status,
        200
    );
    first.shutdown();

    let second = Server::start(Config::sqlite(&db)).unwrap();
    assert_eq!(
        second.entries(COLLECTION, PUBLIC_ZERO),
        vec![
            r#"{"run":1,"n":1}"#.to_owned(),
            r#"{"run":1,"n":2}"#.to_owned()
        ]
    );
    assert_eq!(
        post_json(second.addr(), &upload_path(), r#"[{"run":2}]"#).status,
        200
    );
    assert_eq!(
        get(second.addr(), &read_path()).body,
        r#"[{"run":1,"n":1},{"run":1,"n":2},{"run":2}]"#
    );
    // Counters are per run; stored entries are not.
    assert_eq!(second.stats().entries_stored, 1);
}

#[test]
fn a_server_dropped_without_shutdown_also_leaves_its_entries_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("logserver.sqlite3");

    {
        let server = Server::start(Config::sqlite(&db)).unwrap();
        assert_eq!(
            post_json(server.addr(), &upload_path(), r#"[{"kept":true}]"#).status,
            200
        );
    }

    let reopened = Server::start(Config::sqlite(&db)).unwrap();
    assert_eq!(
        reopened.entries(COLLECTION, PUBLIC_ZERO),
        vec![r#"{"kept":true}"#.to_owned()]
    );
}

#[test]
fn an_unopenable_database_path_fails_to_start_with_the_path_in_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("no-such-dir").join("logserver.sqlite3");

    let error = Server::start(Config::sqlite(&db)).unwrap_err();

    let message = error.to_string();
    assert!(
        message.starts_with(&format!("cannot open SQLite database {}: ", db.display())),
        "{message}"
    );
}
