//! Opening the till's SQLite file: pragmas and migrations.

use std::path::Path;

use include_dir::{Dir, include_dir};
use rusqlite::Connection;
use rusqlite_migration::Migrations;

use crate::error::{CoreError, Result};

static MIGRATION_DIR: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../migrations/till");

fn migrations() -> Result<Migrations<'static>> {
    Migrations::from_directory(&MIGRATION_DIR)
        .map_err(|e| CoreError::Corrupt(format!("embedded migrations are malformed: {e}")))
}

/// The schema version `migrate` brings a till's file to (SQLite's
/// `user_version`): one per migration.
pub fn schema_version() -> i64 {
    MIGRATION_DIR.dirs().count() as i64
}

/// The page cache of a till's connection (negative: KiB).
pub(crate) const CACHE_KIB: i64 = -32_000;
/// ... while a new till downloads its store (`Store::start_enrol_download`):
/// the indexes of a large store's change log and projections.
pub(crate) const LONG_DOWNLOAD_CACHE_KIB: i64 = -256_000;

/// A till's durability (see [`open`]).
pub(crate) const SYNCHRONOUS: &str = "FULL";

/// Opens (creating if needed) a till database and brings its schema up to date.
///
/// WAL with `synchronous=FULL`: a commit returns only after the WAL is fsync'd,
/// so a sale reported as done survives a power cut.
pub fn open(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CoreError::io(format!("cannot create {}", dir.display()), e))?;
    }
    let mut conn = Connection::open(path)?;
    configure(&conn)?;
    // A customer's file (`shopsync customer --db`) must not meet the
    // till's migrations: refused plainly, before anything is written.
    if conn
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'doc_cursors'")?
        .exists([])?
    {
        return Err(CoreError::invalid(
            "db",
            format!(
                "{} is a customer's file, not a till's store: give the till's own file with --db",
                path.display()
            ),
        ));
    }
    // Before migrations: they run on the schema they were written for.
    // A failure leaves them pending for the next open: the till works
    // without them (reports are slower).
    if let Err(e) = crate::enrol_indexes::restore(&mut conn) {
        tracing::warn!("the indexes an enrolment download deferred are not back yet: {e}");
    }
    migrate(&mut conn)?;
    Ok(conn)
}

/// At most this many rounds of [`checkpoint_until_caught_up`] one after
/// another (writes keep coming).
#[doc(hidden)]
pub const CHECKPOINT_CATCH_UP_ROUNDS: u32 = 16;

/// Copies the WAL into the database file without taking any lock a writer
/// needs (PASSIVE), again while writes committed during the copy (each
/// round copies only what came meanwhile, so rounds get shorter), until a
/// round finds nothing new or after `rounds`: the next write then starts
/// the WAL over instead of making it longer. (At ~400 sales a second, with
/// one round per request the WAL started over only when a sale's commit
/// checkpointed: 7 times in 3,000 sales with a 64 MB fallback, never in
/// 10,000 with 2 GiB; with rounds until caught up, ~300 times in 3,000.)
/// A round that copies nothing more (a reader holds the rest) ends it too.
/// Returns the WAL's length in pages, -1 if another connection was
/// checkpointing (or the file is not in WAL mode). Public for the sale
/// bench's plain-SQLite baseline, which checkpoints the same way.
#[doc(hidden)]
pub fn checkpoint_until_caught_up(conn: &Connection, rounds: u32) -> rusqlite::Result<i64> {
    let (mut frames, mut was_copied) = (-1, -1);
    for _ in 0..rounds {
        let (busy, log, copied): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        // `log` is the WAL as this round found it: frames committed while
        // it copied show in the next round's.
        let nothing_new = log == frames && (copied >= log || copied == was_copied);
        (frames, was_copied) = (log, copied);
        if busy != 0 || nothing_new {
            break;
        }
    }
    Ok(frames)
}

pub fn configure(conn: &Connection) -> Result<()> {
    conn.busy_handler(Some(wait_for_lock))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", SYNCHRONOUS)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", CACHE_KIB)?;
    Ok(())
}

/// SQLite's own busy timeout sleeps 1, 2, 5, 10, 15, 20, 25 … ms between
/// tries: a sale behind an 8–18 ms write of the background worker (a
/// snapshot) waited 18 ms, one behind a 20 ms write 33 ms. This tries every
/// 0.1 ms for the first 20 ms of waiting, then every 5 ms, giving up after
/// 10 s as before. By elapsed time, not by tries: a sleep lasts longer than
/// asked (~0.2 ms here, ~1–16 ms on Windows).
fn wait_for_lock(tries: i32) -> bool {
    thread_local! {
        static WAITING_SINCE: std::cell::Cell<Option<std::time::Instant>> =
            const { std::cell::Cell::new(None) };
    }
    let now = std::time::Instant::now();
    let since = WAITING_SINCE.with(|w| {
        if tries == 0 || w.get().is_none() {
            w.set(Some(now));
        }
        w.get().unwrap_or(now)
    });
    match lock_retry_delay(now.duration_since(since)) {
        Some(d) => {
            std::thread::sleep(d);
            true
        }
        None => false,
    }
}

/// How long to sleep before the next try, after `waited`; `None`: give up.
fn lock_retry_delay(waited: std::time::Duration) -> Option<std::time::Duration> {
    use std::time::Duration;
    if waited < Duration::from_millis(20) {
        Some(Duration::from_micros(100))
    } else if waited < Duration::from_secs(10) {
        Some(Duration::from_millis(5))
    } else {
        None
    }
}

pub fn migrate(conn: &mut Connection) -> Result<()> {
    migrations()?.to_latest(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_retries_a_busy_lock_finely_at_first_and_gives_up_after_ten_seconds() {
        use std::time::Duration;
        let fine = Some(Duration::from_micros(100));
        assert_eq!(lock_retry_delay(Duration::ZERO), fine);
        assert_eq!(lock_retry_delay(Duration::from_millis(19)), fine);
        assert_eq!(
            lock_retry_delay(Duration::from_millis(20)),
            Some(Duration::from_millis(5))
        );
        assert_eq!(
            lock_retry_delay(Duration::from_millis(9_999)),
            Some(Duration::from_millis(5))
        );
        assert_eq!(lock_retry_delay(Duration::from_secs(10)), None);
    }

    /// Another connection holds the write lock for 50 ms: the writer waits
    /// for it (through the handler) and gets it.
    #[test]
    fn a_writer_gets_a_lock_held_briefly_elsewhere() -> Result<()> {
        let dir =
            tempfile::tempdir().map_err(|e| crate::error::CoreError::Corrupt(e.to_string()))?;
        let path = dir.path().join("t.db");
        let a = open(&path)?;
        let b = open(&path)?;
        a.execute_batch("BEGIN IMMEDIATE")?;
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || -> Result<std::time::Duration> {
            tx.send(()).ok();
            let t = std::time::Instant::now();
            b.execute_batch("BEGIN IMMEDIATE; COMMIT")?;
            Ok(t.elapsed())
        });
        rx.recv().ok();
        std::thread::sleep(std::time::Duration::from_millis(50));
        a.execute_batch("COMMIT")?;
        let waited = waiter
            .join()
            .map_err(|_| crate::error::CoreError::Corrupt("waiter panicked".into()))??;
        assert!(waited >= std::time::Duration::from_millis(40), "{waited:?}");
        Ok(())
    }

    #[test]
    fn migrations_are_valid() -> Result<()> {
        migrations()?.validate()?;
        Ok(())
    }

    #[test]
    fn the_clocks_migration_stamps_old_rows_with_their_dates() -> Result<()> {
        let mut conn = Connection::open_in_memory()?;
        migrations()?.to_version(&mut conn, 1)?;
        conn.execute_batch(
            "INSERT INTO stock_movements (record_id, idx, product_id, at, delta, kind) VALUES ('s', 0, 'p', 70, -1, 'sale');
             INSERT INTO stock_counts (record_id, product_id, at, counted, expected) VALUES ('c', 'p', 50, 3, 4);
             INSERT INTO stock_levels (product_id, on_hand, count_at, count_record_id) VALUES ('p', 2, 50, 'c');
             INSERT INTO sales (id, number, till_id, at, items, subtotal, discount, tax, total, paid, change)
                 VALUES ('s', 'A-000001', 't', 90, 1, 1, 0, 0, 1, 1, 0);",
        )?;
        migrate(&mut conn)?;
        let one = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
        assert_eq!(one("SELECT hlc FROM stock_movements")?, 70);
        assert_eq!(one("SELECT hlc FROM stock_counts")?, 50);
        assert_eq!(one("SELECT count_hlc FROM stock_levels")?, 50);
        let seen: String = conn.query_row(
            "SELECT value FROM meta WHERE key = 'clock.hlc_seen'",
            [],
            |r| r.get(0),
        )?;
        assert_eq!(seen, "90", "the highest date already projected");
        Ok(())
    }

    #[test]
    fn opens_with_wal_and_full_sync() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let conn = open(&dir.path().join("till.db"))?;
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0))?;
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2);
        Ok(())
    }
}
