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
//!     received_ms INTEGER NOT NULL,                  -- Unix time in milliseconds
//!     is_event    INTEGER,                           -- 1: an event line, 0: another line
//!     event_start INTEGER,                           -- an event's t (Unix ms)
//!     event_end   INTEGER,                           -- an event's t + d
//!     entry_bytes INTEGER                            -- length of entry in bytes
//! );
//! ```
//!
//! The last four are derived from `entry` when it is stored, so the traffic
//! view can list logs and skip events outside a window without parsing
//! them. A database made before they existed gets them, filled in, when it
//! is opened.
//!
//! Each upload is appended in one transaction, so it is stored whole or not at all.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection};
use thiserror::Error;

use crate::config::Storage;
use crate::traffic::line::{self, Line};
use crate::traffic::page::LogRow;

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

/// Index for reading one window of a log (made after the event columns exist).
/// It also covers the summary of logs, so listing them reads no entry text.
const EVENT_INDEX: &str = "CREATE INDEX IF NOT EXISTS entries_by_event_end
    ON entries (collection, public_id, is_event, event_end, event_start, entry_bytes);";

/// Columns added for the traffic view (see the module documentation).
const EVENT_COLUMNS: [&str; 4] = ["is_event", "event_start", "event_end", "entry_bytes"];

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
            conn.execute_batch(SCHEMA)?;
            add_event_columns(conn)?;
            conn.execute_batch(EVENT_INDEX)
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
                "INSERT INTO entries (collection, public_id, entry, received_ms, is_event, event_start, event_end, entry_bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for entry in entries {
                let (is_event, start, end) = event_columns(entry);
                insert.execute(params![
                    collection,
                    public_id,
                    entry,
                    received_ms,
                    is_event,
                    start,
                    end,
                    entry.len() as i64
                ])?;
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

    /// Calls `f` with each entry of log `(collection, public_id)`, in arrival
    /// order, and for events their `(t, t + d)`, without holding them all in
    /// memory. With `ends = Some((from, to))`, only the events that end in
    /// `[from, to)` (found through an index) and every line that is not an
    /// event.
    pub fn for_each_entry(
        &self,
        collection: &str,
        public_id: &str,
        ends: Option<(i64, i64)>,
        mut f: impl FnMut(&str, Option<(i64, i64)>),
    ) -> Result<(), StoreError> {
        let conn = self.lock();
        let mut query = conn.prepare(if ends.is_some() {
            // Two index range scans: the events ending in the window, every other line.
            "SELECT id, entry, event_start, event_end FROM entries INDEXED BY entries_by_event_end
                 WHERE collection = ?1 AND public_id = ?2 AND is_event = 1
                   AND event_end >= ?3 AND event_end < ?4
             UNION ALL
             SELECT id, entry, event_start, event_end FROM entries INDEXED BY entries_by_event_end
                 WHERE collection = ?1 AND public_id = ?2 AND is_event = 0
             ORDER BY id"
        } else {
            "SELECT id, entry, event_start, event_end FROM entries
             WHERE collection = ?1 AND public_id = ?2 AND ?3 IS NULL AND ?4 IS NULL ORDER BY id"
        })?;
        let (from, to) = ends.unzip();
        let mut rows = query.query(params![collection, public_id, from, to])?;
        while let Some(row) = rows.next()? {
            let span = row
                .get::<_, Option<i64>>(2)?
                .zip(row.get::<_, Option<i64>>(3)?);
            f(
                row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?,
                span,
            );
        }
        Ok(())
    }

    /// A summary of every log held (or of one, with `only`), by collection
    /// and public ID. Damaged entries count as lines, not events.
    pub fn logs(&self, only: Option<(&str, &str)>) -> Result<Vec<LogRow>, StoreError> {
        let conn = self.lock();
        // Both read only the covering index entries_by_event_end.
        let mut query = conn.prepare(if only.is_some() {
            "SELECT collection, public_id, COUNT(*), SUM(entry_bytes), SUM(is_event),
                    MIN(event_start), MAX(event_end)
             FROM entries WHERE collection = ?1 AND public_id = ?2
             GROUP BY collection, public_id"
        } else {
            "SELECT collection, public_id, COUNT(*), SUM(entry_bytes), SUM(is_event),
                    MIN(event_start), MAX(event_end)
             FROM entries WHERE ?1 IS NULL AND ?2 IS NULL
             GROUP BY collection, public_id ORDER BY collection, public_id"
        })?;
        let (collection, public_id) = only.unzip();
        let rows = query.query_map(params![collection, public_id], |row| {
            let count = |i| {
                row.get::<_, Option<i64>>(i)
                    .map(|n| n.unwrap_or(0).max(0) as u64)
            };
            Ok(LogRow {
                collection: row.get(0)?,
                public_id: row.get(1)?,
                lines: count(2)?,
                bytes: count(3)?,
                events: count(4)?,
                first_ms: row.get(5)?,
                last_ms: row.get(6)?,
            })
        })?;
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

/// `(is_event, t, t + d)` of one entry.
fn event_columns(entry: &str) -> (bool, Option<i64>, Option<i64>) {
    match line::parse(entry) {
        Line::Event(event) => (true, Some(event.t), Some(event.end())),
        _ => (false, None, None),
    }
}

/// Adds the traffic view's columns to a database made without them, and
/// fills them in.
fn add_event_columns(conn: &Connection) -> rusqlite::Result<()> {
    let mut columns = conn.prepare("SELECT name FROM pragma_table_info('entries')")?;
    let names: Vec<String> = columns
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if EVENT_COLUMNS.iter().all(|c| names.iter().any(|n| n == c)) {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    for column in EVENT_COLUMNS {
        tx.execute(
            &format!("ALTER TABLE entries ADD COLUMN {column} INTEGER"),
            [],
        )?;
    }
    {
        let mut rows = tx.prepare("SELECT id, entry FROM entries")?;
        let mut update = tx.prepare(
            "UPDATE entries SET is_event = ?2, event_start = ?3, event_end = ?4, entry_bytes = ?5
             WHERE id = ?1",
        )?;
        let mut rows = rows.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let entry = row.get_ref(1)?.as_str()?;
            let (is_event, start, end) = event_columns(entry);
            update.execute(params![id, is_event, start, end, entry.len() as i64])?;
        }
    }
    tx.commit()
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
    fn the_summary_of_logs_counts_events_and_spans_them_despite_damaged_lines() {
        let store = Store::open(&Storage::Memory).unwrap();
        let lines = [
            r#"{"logtail":{"client_time":"x"},"t":2000,"d":100,"s":{"8":[1,2]}}"#,
            r#"{"t":1000,"d":50,"c":1,"s":{}}"#,
            r#"{"text":"hi"}"#,
            "not json",
        ];
        store.append("c", "p1", &strings(&lines)).unwrap();
        store
            .append("c", "p2", &strings(&[r#"{"text":"only text"}"#]))
            .unwrap();
        let expected_p1 = LogRow {
            collection: "c".into(),
            public_id: "p1".into(),
            lines: 4,
            events: 2,
            bytes: lines.iter().map(|l| l.len() as u64).sum(),
            first_ms: Some(1000),
            last_ms: Some(2100),
        };
        let logs = store.logs(None).unwrap();
        assert_eq!(logs.len(), 2);
        assert_eq!(logs[0], expected_p1);
        assert_eq!(
            (logs[1].events, logs[1].first_ms, logs[1].last_ms),
            (0, None, None)
        );
        assert_eq!(store.logs(Some(("c", "p1"))).unwrap(), vec![expected_p1]);
        let mut seen = Vec::new();
        store
            .for_each_entry("c", "p1", None, |e, span| seen.push((e.to_owned(), span)))
            .unwrap();
        let spans: Vec<_> = seen.iter().map(|(_, span)| *span).collect();
        assert_eq!(spans, [Some((2000, 2100)), Some((1000, 1050)), None, None]);
        let texts: Vec<String> = seen.into_iter().map(|(e, _)| e).collect();
        assert_eq!(texts, strings(&lines));
        let mut in_window = Vec::new();
        store
            .for_each_entry("c", "p1", Some((2000, 2101)), |e, _| {
                in_window.push(e.to_owned())
            })
            .unwrap();
        assert_eq!(in_window, strings(&[lines[0], lines[2], lines[3]]));
    }

    #[test]
    fn a_database_from_before_the_event_columns_gets_them_filled_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute(
                "INSERT INTO entries (collection, public_id, entry, received_ms) VALUES ('c', 'p', ?1, 0)",
                [r#"{"t":10,"d":5,"s":{"1":[1,1]}}"#],
            )
            .unwrap();
        }
        let store = Store::open(&Storage::Sqlite(path)).unwrap();
        let logs = store.logs(None).unwrap();
        assert_eq!(
            (logs[0].events, logs[0].first_ms, logs[0].last_ms),
            (1, Some(10), Some(15))
        );
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
