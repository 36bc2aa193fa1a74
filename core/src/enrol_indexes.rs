//! Indexes a new till builds after its enrolment download, not during it
//! (issue 11, "A new till in seconds"): inserting a million sales into an
//! index costs more than sorting them into it once at the end.
//!
//! Only indexes the download never reads are deferred: the apply path's
//! lookups (record ids and their clashes, change hashes, unacknowledged
//! changes, stock levels, a count's later movements by causal stamp,
//! receipt costs, clock state) all use indexes that stay. The SQL of the
//! dropped indexes is kept in `meta` by the same transaction that drops
//! them, so a till that dies mid-download gets them back the next time its
//! file is opened ([`restore`], called before migrations run).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::{CoreError, Result};

/// Where the SQL of the dropped indexes waits to be run again.
pub(crate) const KEY_PENDING: &str = "enrol.deferred_indexes";

/// Secondary indexes of the sales and stock projections that no query of
/// the download reads: reports, the sale counter, drawer totals and
/// history use them, and none of those run until the download ends.
/// (`stock_movements_product_hlc` stays: a count applied during the
/// download sums the product's later movements through it.)
pub(crate) const DEFERRED: &[&str] = &[
    "sales_at",
    "sales_staff",
    "sales_till_seq",
    "sales_till_number",
    "sales_drawer_session",
    "stock_movements_product_at",
];

/// Drops the [`DEFERRED`] indexes, keeping their SQL (as `sqlite_schema`
/// holds it) in `meta` in the same transaction. Returns how many were
/// dropped; none if some are pending already.
pub(crate) fn defer(conn: &mut Connection) -> Result<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if pending(&tx)?.is_some() {
        return Ok(0);
    }
    let mut found: Vec<(String, String)> = Vec::new();
    {
        let mut stmt = tx.prepare(
            "SELECT name, sql FROM sqlite_schema
             WHERE type = 'index' AND tbl_name IN ('sales', 'stock_movements') AND sql IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (name, sql) = row?;
            // Only what `restore` will accept back is dropped.
            if check_entry(&name, &sql).is_ok() {
                found.push((name, sql));
            }
        }
    }
    if found.is_empty() {
        return Ok(0);
    }
    let json = serde_json::to_string(&found)
        .map_err(|e| CoreError::Corrupt(format!("cannot encode the deferred indexes: {e}")))?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
        [KEY_PENDING, json.as_str()],
    )?;
    for (name, _) in &found {
        // The name comes from `DEFERRED`, never from the file.
        tx.execute_batch(&format!("DROP INDEX {name}"))?;
    }
    tx.commit()?;
    Ok(found.len())
}

/// Creates again the indexes [`defer`] dropped, if any are pending, and
/// forgets those it created. Returns how many were created. Safe on a file
/// without a `meta` table yet (a new file, before migrations).
///
/// Each index is made under its own savepoint: one that fails (an entry
/// that passes [`check_entry`] yet cannot run) stays pending with any entry
/// this version does not know (a later version's, kept for its return),
/// and the others are kept. The sorts spill to temporary files, not memory,
/// so a big store's rebuild needs about the page cache, not the index's
/// size, in RAM.
pub(crate) fn restore(conn: &mut Connection) -> Result<usize> {
    let has_meta = conn
        .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'")?
        .exists([])?;
    // A plain read first: most opens have nothing pending and take no lock.
    if !has_meta || pending(conn)?.is_none() {
        return Ok(0);
    }
    conn.pragma_update(None, "temp_store", "FILE")?;
    let restored = restore_pending(conn);
    if let Err(e) = conn.pragma_update(None, "temp_store", "MEMORY") {
        tracing::warn!("temporary tables stay on disk for this connection: {e}");
    }
    restored
}

fn restore_pending(conn: &mut Connection) -> Result<usize> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(json) = pending(&tx)? else {
        return Ok(0);
    };
    let list: Vec<(String, String)> = serde_json::from_str(&json).map_err(|e| {
        CoreError::Corrupt(format!("meta {KEY_PENDING} is not a list of indexes: {e}"))
    })?;
    let mut created = 0;
    let mut left: Vec<&(String, String)> = Vec::new();
    for entry in &list {
        let (name, sql) = entry;
        if let Err(e) = check_entry(name, sql) {
            // Not run, and kept: without it the till still works (its
            // reports are slower).
            tracing::warn!("{e}");
            left.push(entry);
            continue;
        }
        let exists = tx
            .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1")?
            .exists([name])?;
        if exists {
            continue;
        }
        let sp = tx.savepoint()?;
        // `execute` runs exactly one statement (more is an error).
        match sp.execute(sql, []) {
            Ok(_) => {
                sp.commit()?;
                created += 1;
            }
            Err(e) => {
                drop(sp);
                tracing::warn!(
                    "the deferred index {name} could not be created (kept pending): {e}"
                );
                left.push(entry);
            }
        }
    }
    if left.is_empty() {
        tx.execute("DELETE FROM meta WHERE key = ?1", [KEY_PENDING])?;
    } else {
        let json = serde_json::to_string(&left)
            .map_err(|e| CoreError::Corrupt(format!("cannot encode the deferred indexes: {e}")))?;
        tx.execute(
            "UPDATE meta SET value = ?2 WHERE key = ?1",
            [KEY_PENDING, json.as_str()],
        )?;
    }
    tx.commit()?;
    if created > 0 {
        tracing::info!("{created} index(es) deferred by an enrolment download created again");
    }
    Ok(created)
}

fn pending(conn: &Connection) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [KEY_PENDING],
            |r| r.get(0),
        )
        .optional()?)
}

/// The file's own `meta` is run as SQL: only one statement creating an
/// index this module defers, under its own name, is accepted.
fn check_entry(name: &str, sql: &str) -> Result<()> {
    let expected = format!("CREATE INDEX {name} ON ");
    if !DEFERRED.contains(&name) || !sql.starts_with(&expected) || sql.contains(';') {
        return Err(CoreError::Corrupt(format!(
            "meta {KEY_PENDING} names an index this till does not defer: {name}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{InitOptions, Store};

    fn store(dir: &std::path::Path) -> Result<Store> {
        Store::init(
            &dir.join("t.db"),
            InitOptions {
                store_name: "S".into(),
                till_name: "A".into(),
                currency: "EUR".into(),
            },
        )
    }

    fn index_exists(c: &Connection, name: &str) -> Result<bool> {
        Ok(
            c.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1")?
                .exists([name])?,
        )
    }

    #[test]
    fn defer_drops_only_the_listed_indexes_once_and_restore_brings_them_back() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let mut conn = store(dir.path())?.conn;
        assert_eq!(defer(&mut conn)?, DEFERRED.len());
        assert_eq!(
            defer(&mut conn)?,
            0,
            "pending already: nothing more dropped"
        );
        for name in DEFERRED {
            assert!(!index_exists(&conn, name)?, "{name}");
        }
        assert!(index_exists(&conn, "stock_movements_product_hlc")?);
        assert!(index_exists(&conn, "doc_changes_unacked")?);
        assert_eq!(restore(&mut conn)?, DEFERRED.len());
        assert_eq!(restore(&mut conn)?, 0);
        for name in DEFERRED {
            assert!(index_exists(&conn, name)?, "{name}");
        }
        Ok(())
    }

    /// `meta` is run as SQL: an entry that is not one of these indexes'
    /// creation is left out, and opening the file still works.
    #[test]
    fn a_pending_entry_that_is_not_a_deferred_index_is_never_run() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let path = dir.path().join("t.db");
        let mut conn = store(dir.path())?.conn;
        defer(&mut conn)?;
        let hostile = serde_json::json!([
            [
                "sales_at",
                "CREATE INDEX sales_at ON sales (at); DROP TABLE sales"
            ],
            [
                "doc_changes_hash",
                "CREATE INDEX doc_changes_hash ON sales (id)"
            ],
            ["sales_staff", "DROP TABLE sale_lines"],
            [
                "sales_till_seq",
                "CREATE INDEX sales_till_seq ON sales (till_id, seq)"
            ],
        ]);
        conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = ?2",
            [hostile.to_string().as_str(), KEY_PENDING],
        )?;
        drop(conn);
        let s = Store::open(&path)?;
        let c = s.connection();
        assert!(index_exists(c, "sales_till_seq")?, "the good entry is run");
        assert!(!index_exists(c, "sales_at")?);
        assert!(!index_exists(c, "sales_staff")?);
        let tables: i64 = c.query_row(
            "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('sales', 'sale_lines')",
            [],
            |r| r.get(0),
        )?;
        assert_eq!(tables, 2);
        // Never run, and kept (a later version's entries come back with it).
        let left: Vec<(String, String)> =
            serde_json::from_str(&pending(c)?.unwrap_or_default()).unwrap_or_default();
        let names: Vec<&str> = left.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["sales_at", "doc_changes_hash", "sales_staff"]);
        Ok(())
    }

    /// An entry that passes the check but cannot run stays pending alone:
    /// the others are created and kept (review: one bad entry rolled back
    /// every index, at every open).
    #[test]
    fn an_index_that_cannot_be_created_stays_pending_alone() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let mut conn = store(dir.path())?.conn;
        defer(&mut conn)?;
        let json = pending(&conn)?.unwrap_or_default();
        let mut list: Vec<(String, String)> = serde_json::from_str(&json).unwrap_or_default();
        for (name, sql) in &mut list {
            if name == "sales_at" {
                *sql = "CREATE INDEX sales_at ON sales (no_such_column)".into();
            }
        }
        let broken = serde_json::to_string(&list).unwrap_or_default();
        conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = ?2",
            [broken.as_str(), KEY_PENDING],
        )?;
        assert_eq!(restore(&mut conn)?, DEFERRED.len() - 1);
        for name in DEFERRED.iter().filter(|n| **n != "sales_at") {
            assert!(index_exists(&conn, name)?, "{name}");
        }
        assert!(!index_exists(&conn, "sales_at")?);
        let left: Vec<(String, String)> =
            serde_json::from_str(&pending(&conn)?.unwrap_or_default()).unwrap_or_default();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].0, "sales_at");
        let temp_store: i64 = conn.pragma_query_value(None, "temp_store", |r| r.get(0))?;
        assert_eq!(temp_store, 2, "MEMORY again after the rebuild");
        Ok(())
    }

    /// A till that died mid-download, then updated: its pending SQL is of
    /// the schema it had, so it runs before the migrations that change
    /// those indexes (migration 14 drops `sales_staff` and makes it again).
    #[test]
    fn pending_indexes_come_back_before_the_migrations_run() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let path = dir.path().join("t.db");
        let mut conn = store(dir.path())?.conn;
        defer(&mut conn)?;
        // The file as migration 13 left it, with that schema's SQL pending.
        let json: String = pending(&conn)?.unwrap_or_default();
        let before_14 = json.replace(" WHERE staff_id IS NOT NULL", "");
        assert_ne!(json, before_14, "migration 14's form was pending");
        conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = ?2",
            [before_14.as_str(), KEY_PENDING],
        )?;
        conn.pragma_update(None, "user_version", 13)?;
        drop(conn);
        let s = Store::open(&path)?;
        let sql: String = s.connection().query_row(
            "SELECT sql FROM sqlite_schema WHERE name = 'sales_staff'",
            [],
            |r| r.get(0),
        )?;
        assert!(sql.ends_with("WHERE staff_id IS NOT NULL"), "{sql}");
        assert_eq!(pending(s.connection())?, None);
        Ok(())
    }

    /// Unreadable pending SQL does not stop the till from opening its file.
    #[test]
    fn a_store_opens_with_unreadable_pending_indexes() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let path = dir.path().join("t.db");
        let conn = store(dir.path())?.conn;
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, 'not json')",
            [KEY_PENDING],
        )?;
        drop(conn);
        let s = Store::open(&path)?;
        assert_eq!(pending(s.connection())?.as_deref(), Some("not json"));
        Ok(())
    }
}
