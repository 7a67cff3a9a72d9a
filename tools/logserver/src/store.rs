//! Durable storage of entries in SQLite.
//!
//! One table, one row per entry:
//!
//! ```sql
//! CREATE TABLE entries (
//!     id          INTEGER PRIMARY KEY AUTOINCREMENT, -- arrival order
//!     collection  TEXT NOT NULL,
//!     public_id   TEXT NOT NULL,                     -- 64 lowercase hex characters
//!     entry       TEXT NOT NULL,                     -- the entry's JSON exactly as received
//!     received_ms INTEGER NOT NULL                   -- Unix time in milliseconds
//! );
//! ```
//!
//! Each upload is appended in one transaction, so it is stored whole or not at all.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection};
use thiserror::Error;

use crate::config::Storage;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    collection  TEXT NOT NULL,
    public_id   TEXT NOT NULL,
    entry       TEXT NOT NULL,
    received_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_log ON entries (collection, public_id, id);
";

/// A storage failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database file could not be opened or initialised.
    #[error("cannot open SQLite database {path}: {source}")]
    Open {
        /// The file (or ":memory:").
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A query failed.
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The entry table. Safe to share between threads; calls are serialised.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the database for `storage`.
    pub fn open(storage: &Storage) -> Result<Self, StoreError> {
        let (path, opened) = match storage {
            Storage::Memory => (PathBuf::from(":memory:"), Connection::open_in_memory()),
            Storage::Sqlite(path) => (path.clone(), Connection::open(path)),
        };
        let init = |conn: &Connection| {
            // Wait instead of failing if another process (e.g. sqlite3) holds a lock.
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.execute_batch(SCHEMA)
        };
        let conn = opened.and_then(|conn| init(&conn).map(|()| conn));
        let conn = conn.map_err(|source| StoreError::Open { path, source })?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Appends `entries` to the log `(collection, public_id)` in one transaction, stamped with
    /// the current time.
    pub fn append(
        &self,
        collection: &str,
        public_id: &str,
        entries: &[String],
    ) -> Result<(), StoreError> {
        let received_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO entries (collection, public_id, entry, received_ms) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for entry in entries {
                insert.execute(params![collection, public_id, entry, received_ms])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The entries of log `(collection, public_id)`, in arrival order, as received.
    pub fn entries(&self, collection: &str, public_id: &str) -> Result<Vec<String>, StoreError> {
        let conn = self.lock();
        let mut query = conn.prepare(
            "SELECT entry FROM entries WHERE collection = ?1 AND public_id = ?2 ORDER BY id",
        )?;
        let rows = query.query_map(params![collection, public_id], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The number of entries stored, in all logs.
    pub fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .lock()
            .query_row("SELECT COUNT(*) FROM entries", [], |row| row.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn entries_come_back_per_log_in_arrival_order() {
        let store = Store::open(&Storage::Memory).unwrap();
        store
            .append("c", "p1", &strings(&["{\"a\":1}", "{\"a\":2}"]))
            .unwrap();
        store
            .append("c", "p2", &strings(&["{\"other\":1}"]))
            .unwrap();
        store
            .append("d", "p1", &strings(&["{\"other\":2}"]))
            .unwrap();
        store.append("c", "p1", &strings(&["{\"a\":3}"])).unwrap();
        assert_eq!(
            store.entries("c", "p1").unwrap(),
            strings(&["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"])
        );
        assert_eq!(store.entries("c", "none").unwrap(), Vec::<String>::new());
        assert_eq!(store.count().unwrap(), 5);
    }

    #[test]
    fn entries_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::Sqlite(dir.path().join("log.sqlite3"));
        Store::open(&storage)
            .unwrap()
            .append("c", "p", &strings(&["{ \"kept\" : true }"]))
            .unwrap();
        assert_eq!(
            Store::open(&storage).unwrap().entries("c", "p").unwrap(),
            strings(&["{ \"kept\" : true }"])
        );
    }

    #[test]
    fn an_unopenable_path_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("log.sqlite3");
        let err = Store::open(&Storage::Sqlite(path.clone())).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("cannot open SQLite database {}", path.display())),
            "{err}"
        );
    }
}
