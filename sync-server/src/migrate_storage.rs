//! `migrate-storage`: moves a SQLite server database into an empty
//! PostgreSQL database, every row as it is, so tills do not notice.
//!
//! Kept as they are: the epoch (a new one would make every till send its
//! whole history again, as after a restore), every store's and document's
//! key, and every change's sequence number (tills hold them as cursors).
//! SQLite numbers changes across stores, PostgreSQL per store: a store's
//! numbers are then sparse, which cursors do not mind, and its counter
//! continues from its highest.
//!
//! The copy reads the SQLite file inside one write transaction, so a server
//! still running on it cannot slip a change in between; the PostgreSQL side
//! is one transaction too. Only after PostgreSQL committed does the SQLite
//! file get its mark (a `moved_to` row and triggers that refuse every
//! write), in the transaction that held the file: a server still running
//! on it then answers writes with 503 and tills keep their changes until
//! they reach the PostgreSQL server, and no server starts on it again.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use rusqlite::types::Value;
use tokio_postgres::types::ToSql;

use crate::PgStorage;
use crate::sqlite::SqliteStorage;
use crate::storage::{StorageError, StorageResult};

/// The text a moved file's triggers abort writes with; a running server on
/// it maps it to 503 (`StorageError::Unavailable`).
pub const MOVED: &str = "this server database moved to PostgreSQL";

/// Rows, parameters and bytes per insert statement.
const BATCH_ROWS: usize = 500;
const BATCH_PARAMS: usize = 30_000;
const BATCH_BYTES: usize = 8 << 20;

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Text,
    Blob,
    /// 0/1 in SQLite, BOOLEAN in PostgreSQL.
    Bool,
}

use Kind::*;

/// Every table, parents before children, with its columns.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "stores",
        &[
            ("pk", Int),
            ("store_id", Text),
            ("name", Text),
            ("created_at", Int),
        ],
    ),
    ("server_meta", &[("key", Text), ("value", Text)]),
    // Where each store's catalog and stock events resume (numbers kept:
    // a change keeps its seq; fixed up after the copy, see `copy`).
    ("event_cursors", &[("store_pk", Int), ("upto", Int)]),
    (
        "enrol_codes",
        &[
            ("code_hash", Blob),
            ("store_pk", Int),
            ("role", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
            ("used_by", Text),
            ("till_id", Text),
        ],
    ),
    (
        "devices",
        &[
            ("device_id", Text),
            ("store_pk", Int),
            ("role", Text),
            ("till_id", Text),
            ("till_name", Text),
            ("token_hash", Blob),
            ("created_at", Int),
            ("revoked_at", Int),
            ("enrol_key", Text),
        ],
    ),
    (
        "documents",
        &[
            ("pk", Int),
            ("store_pk", Int),
            ("doc_id", Text),
            ("heads", Blob),
            ("changes", Int),
        ],
    ),
    (
        "changes",
        &[
            ("store_pk", Int),
            ("seq", Int),
            ("doc_pk", Int),
            ("hash", Blob),
            ("bytes", Blob),
            ("inflated", Int),
            ("actor", Blob),
            ("actor_seq", Int),
        ],
    ),
    (
        "customers",
        &[
            ("customer_id", Text),
            ("name", Text),
            ("email", Text),
            ("created_at", Int),
        ],
    ),
    (
        "customer_devices",
        &[
            ("device_id", Text),
            ("customer_id", Text),
            ("device_name", Text),
            ("token_hash", Blob),
            ("created_at", Int),
            ("revoked_at", Int),
        ],
    ),
    (
        "customer_link_codes",
        &[
            ("code_hash", Blob),
            ("customer_id", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
            ("used_by", Text),
        ],
    ),
    (
        "shop_listings",
        &[
            ("store_pk", Int),
            ("name", Text),
            ("published", Bool),
            ("updated_at", Int),
        ],
    ),
];

/// What was moved.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Moved {
    /// Rows per table, in copy order.
    pub tables: Vec<(String, u64)>,
    pub epoch: String,
    /// `user@host:port/db`, never the password.
    pub target: String,
}

type Param = Box<dyn ToSql + Sync + Send>;

/// Rows of one table read from SQLite, ready to insert.
struct Batch {
    rows: Vec<Vec<Param>>,
    /// The last rowid read: the next batch starts after it.
    last_rowid: i64,
}

/// The SQLite file, held in a write transaction for the whole copy.
struct Source {
    conn: Arc<Mutex<Connection>>,
}

/// Events not yet published (docs/EVENTS.md) are not copied (the
/// PostgreSQL outbox numbers its own rows). Refused rather than dropped.
fn unpublished_events(conn: &Connection) -> StorageResult<()> {
    let count = |table: &str| -> StorageResult<i64> {
        Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    };
    let waiting = count("event_outbox")?;
    let dead = count("event_dead_letters")? + count("event_change_dead_letters")?;
    if waiting > 0 {
        return Err(StorageError::Conflict(format!(
            "{waiting} entries (events, or changes whose events) wait in the outbox to be \
             published to NATS, and migrate-storage \
             does not copy the outbox: run the server with --nats until shopsync_events_outbox \
             is 0, then migrate (docs/EVENTS.md)"
        )));
    }
    if dead > 0 {
        return Err(StorageError::Conflict(format!(
            "{dead} dead letters are kept in event_dead_letters or event_change_dead_letters, \
             and migrate-storage \
             does not copy them: export them and delete the rows, then migrate \
             (docs/EVENTS.md, \"Dead letters\")"
        )));
    }
    Ok(())
}

fn backend<E: std::fmt::Display>(e: E) -> StorageError {
    StorageError::Backend(e.to_string())
}

impl Source {
    fn open(path: &Path) -> StorageResult<Source> {
        if !path.is_file() {
            return Err(StorageError::NotFound(format!(
                "no SQLite server database at {}",
                path.display()
            )));
        }
        // Brings an older file to this version's schema (and refuses one
        // that moved already), as starting the server on it would.
        drop(SqliteStorage::open(path)?);
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // Waits for a running server's write in progress, then keeps every
        // other writer out until the file is marked.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        unpublished_events(&conn)?;
        Ok(Source {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StorageResult<T> + Send + 'static,
    ) -> StorageResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let c = conn
                .lock()
                .map_err(|_| StorageError::Backend("source lock poisoned".into()))?;
            f(&c)
        })
        .await
        .map_err(backend)?
    }

    async fn count(&self, table: &'static str) -> StorageResult<u64> {
        self.with(move |c| {
            let n: i64 = c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
            Ok(n.max(0) as u64)
        })
        .await
    }

    /// The next rows of `table` after `after` (a rowid), bounded in rows,
    /// parameters and bytes; None when there are no more.
    async fn batch(&self, table_index: usize, after: i64) -> StorageResult<Option<Batch>> {
        self.with(move |c| {
            let (table, columns) = TABLES[table_index];
            let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
            let sql = format!(
                "SELECT rowid, {} FROM {table} WHERE rowid > ?1 ORDER BY rowid LIMIT {BATCH_ROWS}",
                names.join(", ")
            );
            let mut stmt = c.prepare(&sql)?;
            let mut rows = stmt.query([after])?;
            let mut out = Vec::new();
            let (mut bytes, mut last_rowid) = (0usize, after);
            while let Some(row) = rows.next()? {
                last_rowid = row.get(0)?;
                let mut params: Vec<Param> = Vec::with_capacity(columns.len());
                for (i, (name, kind)) in columns.iter().enumerate() {
                    let value: Value = row.get(i + 1)?;
                    bytes += match &value {
                        Value::Text(s) => s.len(),
                        Value::Blob(b) => b.len(),
                        _ => 8,
                    };
                    params.push(param(table, name, *kind, value)?);
                }
                out.push(params);
                if bytes >= BATCH_BYTES || (out.len() + 1) * columns.len() > BATCH_PARAMS {
                    break;
                }
            }
            Ok((!out.is_empty()).then_some(Batch {
                rows: out,
                last_rowid,
            }))
        })
        .await
    }

    /// Marks the file moved and ends the transaction that held it.
    async fn mark_moved_and_commit(&self, target: String) -> StorageResult<()> {
        self.with(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO server_meta (key, value) VALUES ('moved_to', ?1)",
                [&target],
            )?;
            for (table, _) in TABLES {
                for op in ["INSERT", "UPDATE", "DELETE"] {
                    let name = format!("moved_{table}_{}", op.to_lowercase());
                    c.execute_batch(&format!(
                        "CREATE TRIGGER IF NOT EXISTS {name} BEFORE {op} ON {table} \
                         BEGIN SELECT RAISE(ABORT, '{MOVED}'); END;"
                    ))?;
                }
            }
            c.execute_batch("COMMIT")?;
            Ok(())
        })
        .await
    }

    async fn rollback(&self) {
        let _ = self
            .with(|c| {
                c.execute_batch("ROLLBACK")?;
                Ok(())
            })
            .await;
    }
}

/// One SQLite value as a PostgreSQL parameter of the column's kind.
fn param(table: &str, column: &str, kind: Kind, value: Value) -> StorageResult<Param> {
    let wrong = |v: &Value| {
        StorageError::Invalid(format!(
            "{table}.{column} holds {:?} where this version expects {}",
            v.data_type(),
            match kind {
                Int => "an integer",
                Text => "text",
                Blob => "bytes",
                Bool => "0 or 1",
            }
        ))
    };
    Ok(match (kind, value) {
        (Int, Value::Null) => Box::new(None::<i64>),
        (Int, Value::Integer(i)) => Box::new(Some(i)),
        (Text, Value::Null) => Box::new(None::<String>),
        (Text, Value::Text(s)) => Box::new(Some(s)),
        (Blob, Value::Null) => Box::new(None::<Vec<u8>>),
        (Blob, Value::Blob(b)) => Box::new(Some(b)),
        (Bool, Value::Integer(i)) if i == 0 || i == 1 => Box::new(i == 1),
        (_, v) => return Err(wrong(&v)),
    })
}

/// `INSERT INTO table (cols) VALUES ($1, …), (…)` for `rows` rows.
fn insert_sql(table: &str, columns: &[(&str, Kind)], rows: usize) -> String {
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", names.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push_str(&format!("${n}"));
        }
        sql.push(')');
    }
    sql
}

fn pg(e: tokio_postgres::Error) -> StorageError {
    StorageError::Backend(match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    })
}

/// Copies `from` (a SQLite server database) into the empty PostgreSQL
/// database at `to_url`, then marks `from` moved. `progress` hears each
/// table's rows as they are copied. Nothing changes on a failure: the
/// PostgreSQL transaction rolls back and the file is not marked.
pub async fn migrate(
    from: &Path,
    to_url: &str,
    progress: &mut (dyn FnMut(&str, u64, u64) + Send),
) -> StorageResult<Moved> {
    let target = PgStorage::connect(to_url).await?;
    let source = Source::open(from)?;
    let copied = copy(&source, &target, progress).await;
    match copied {
        Ok(tables) => {
            let epoch = source.with(crate::restore::epoch).await?;
            source
                .mark_moved_and_commit(format!("postgres://{}", target.target()))
                .await
                .map_err(|e| {
                    StorageError::Backend(format!(
                        "PostgreSQL holds the copy, but {} could not be marked as moved ({e}): \
                         do not start a server on it again",
                        from.display()
                    ))
                })?;
            Ok(Moved {
                tables,
                epoch,
                target: target.target().to_string(),
            })
        }
        Err(e) => {
            source.rollback().await;
            Err(e)
        }
    }
}

async fn copy(
    source: &Source,
    target: &PgStorage,
    progress: &mut (dyn FnMut(&str, u64, u64) + Send),
) -> StorageResult<Vec<(String, u64)>> {
    let mut client = target.conn().await?;
    let tx = client.transaction().await.map_err(pg)?;
    // Only the rows a fresh database starts with: the customers' store and
    // the epoch, both replaced by the file's own.
    let row = tx
        .query_one(
            "SELECT (SELECT COUNT(*) FROM stores WHERE store_id <> '~customers') \
                  + (SELECT COUNT(*) FROM devices) + (SELECT COUNT(*) FROM changes) \
                  + (SELECT COUNT(*) FROM customers) + (SELECT COUNT(*) FROM enrol_codes)",
            &[],
        )
        .await
        .map_err(pg)?;
    let held: i64 = row.get(0);
    if held > 0 {
        return Err(StorageError::Conflict(format!(
            "the PostgreSQL database {} already holds stores, devices or changes: \
             migrate-storage moves into an empty database only",
            target.target()
        )));
    }
    refuse_other_connections(&tx, target).await?;
    // Nobody else reads or writes the tables until the copy commits.
    let names: Vec<&str> = TABLES.iter().map(|(t, _)| *t).collect();
    tx.batch_execute(&format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
        names.join(", ")
    ))
    .await
    .map_err(pg)?;
    tx.batch_execute("DELETE FROM shop_listings; DELETE FROM stores; DELETE FROM server_meta;")
        .await
        .map_err(pg)?;

    let mut tables = Vec::new();
    for (index, (table, columns)) in TABLES.iter().enumerate() {
        let total = source.count(table).await?;
        let (mut done, mut after) = (0u64, 0i64);
        progress(table, 0, total);
        while let Some(batch) = source.batch(index, after).await? {
            let first = after;
            after = batch.last_rowid;
            let sql = insert_sql(table, columns, batch.rows.len());
            let params: Vec<&(dyn ToSql + Sync)> = batch
                .rows
                .iter()
                .flatten()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            tx.execute(&sql, &params).await.map_err(|e| {
                StorageError::Backend(format!(
                    "{table}, the rows after rowid {first} up to {after} in the file: {}",
                    pg(e)
                ))
            })?;
            done += batch.rows.len() as u64;
            progress(table, done, total);
        }
        let row = tx
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await
            .map_err(pg)?;
        let in_target: i64 = row.get(0);
        if in_target as u64 != total || done != total {
            return Err(StorageError::Backend(format!(
                "{table}: {total} rows in the file, {done} copied, {in_target} in PostgreSQL"
            )));
        }
        tables.push((table.to_string(), total));
    }
    // Each store's counter continues from its highest number; new stores
    // and documents get keys after the copied ones.
    tx.batch_execute(
        "UPDATE stores s SET head = COALESCE((SELECT MAX(seq) FROM changes c WHERE c.store_pk = s.pk), 0); \
         SELECT setval(pg_get_serial_sequence('stores', 'pk'), COALESCE((SELECT MAX(pk) FROM stores), 0) + 1, false); \
         SELECT setval(pg_get_serial_sequence('documents', 'pk'), COALESCE((SELECT MAX(pk) FROM documents), 0) + 1, false);",
    )
    .await
    .map_err(pg)?;
    // Catalog and stock events resume where the file's did (docs/EVENTS.md;
    // cursors left from before its events were last turned off are not
    // theirs):
    // a store without a cursor where the file's events started (its
    // 'events_from_seq', a number of the file's one sequence), each cursor
    // at most the store's head (PostgreSQL numbers each store's new changes
    // after its own highest: a cursor above it would skip them).
    tx.batch_execute(
        "DELETE FROM event_cursors WHERE NOT EXISTS \
             (SELECT 1 FROM server_meta WHERE key = 'events_from_seq'); \
         INSERT INTO event_cursors (store_pk, upto) \
             SELECT s.pk, CAST(m.value AS BIGINT) FROM stores s \
             JOIN server_meta m ON m.key = 'events_from_seq' \
         ON CONFLICT (store_pk) DO NOTHING; \
         UPDATE event_cursors e SET upto = LEAST(e.upto, s.head) FROM stores s \
             WHERE s.pk = e.store_pk AND e.upto > s.head; \
         INSERT INTO server_meta (key, value) \
             SELECT 'replica_events', 'on' FROM server_meta WHERE key = 'events_from_seq' \
         ON CONFLICT (key) DO NOTHING; \
         DELETE FROM server_meta WHERE key = 'events_from_seq';",
    )
    .await
    .map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    Ok(tables)
}

/// A server still connected to the target would keep the epoch it read at
/// start and tell every till it had been restored: it must be stopped
/// first. The connection that migrated the schema may take a moment to go.
async fn refuse_other_connections(
    tx: &deadpool_postgres::Transaction<'_>,
    target: &PgStorage,
) -> StorageResult<()> {
    let mut others = 0i64;
    for _ in 0..30 {
        let row = tx
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                &[],
            )
            .await
            .map_err(pg)?;
        others = row.get(0);
        if others == 0 {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(StorageError::Conflict(format!(
        "{others} other connection(s) use the PostgreSQL database {}: stop every server on it first",
        target.target()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_sql_numbers_every_parameter() {
        let sql = insert_sql("t", &[("a", Int), ("b", Text)], 2);
        assert_eq!(sql, "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_refused_with_its_column() {
        let e = param("stores", "pk", Int, Value::Text("x".into()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("stores.pk") && e.contains("integer"), "{e}");
        assert!(param("shop_listings", "published", Bool, Value::Integer(2)).is_err());
        assert!(param("shop_listings", "published", Bool, Value::Integer(1)).is_ok());
        assert!(param("devices", "revoked_at", Int, Value::Null).is_ok());
    }

    #[test]
    fn every_table_of_the_sqlite_schema_is_copied() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("server.db");
        drop(SqliteStorage::open(&path).unwrap_or_else(|e| panic!("{e}")));
        let conn = Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut stmt = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .unwrap_or_else(|e| panic!("{e}"));
        for name in &names {
            // Events not yet published (docs/EVENTS.md) are not copied: a
            // file with any is refused (test below).
            if name == "event_outbox"
                || name == "event_dead_letters"
                || name == "event_change_dead_letters"
            {
                continue;
            }
            let Some((_, columns)) = TABLES.iter().find(|(t, _)| t == name) else {
                panic!("table {name} is not copied by migrate-storage");
            };
            let mut cols = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{name}')"))
                .unwrap_or_else(|e| panic!("{e}"));
            let actual: Vec<String> = cols
                .query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect())
                .unwrap_or_else(|e| panic!("{e}"));
            for c in &actual {
                assert!(
                    columns.iter().any(|(n, _)| n == c),
                    "{name}.{c} is not copied by migrate-storage"
                );
            }
        }
    }

    #[test]
    fn a_file_with_events_not_yet_published_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("server.db");
        drop(SqliteStorage::open(&path).unwrap_or_else(|e| panic!("{e}")));
        assert!(Source::open(&path).is_ok(), "an empty outbox moves");

        let conn = Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
        conn.execute(
            "INSERT INTO event_outbox (event_id, subject, payload, created_ms) \
             VALUES ('e', 'shopsync.s.sale.recorded', '{}', 0)",
            [],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let refused = Source::open(&path).err().map(|e| e.to_string());
        let e = refused.unwrap_or_default();
        assert!(
            e.contains("1 entries (events, or changes whose events) wait in the outbox")
                && e.contains("--nats"),
            "{e}"
        );

        // Dead letters are refused too; nothing was changed by refusing.
        conn.execute_batch(
            "INSERT INTO event_dead_letters (event_id, subject, payload, created_ms, error, \
             failed_ms) SELECT event_id, subject, payload, created_ms, 'too large', 0 \
             FROM event_outbox; DELETE FROM event_outbox",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let e = Source::open(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("event_dead_letters"), "{e}");
        let kept: i64 = conn
            .query_row("SELECT count(*) FROM event_dead_letters", [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(kept, 1);
    }
}
