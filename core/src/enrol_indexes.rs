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
/// forgets them, in one transaction. Returns how many were created. Safe on
/// a file without a `meta` table yet (a new file, before migrations).
pub(crate) fn restore(conn: &mut Connection) -> Result<usize> {
    let has_meta = conn
        .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'")?
        .exists([])?;
    if !has_meta {
        return Ok(0);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(json) = pending(&tx)? else {
        return Ok(0);
    };
    let list: Vec<(String, String)> = serde_json::from_str(&json).map_err(|e| {
        CoreError::Corrupt(format!("meta {KEY_PENDING} is not a list of indexes: {e}"))
    })?;
    let mut created = 0;
    for (name, sql) in &list {
        if let Err(e) = check_entry(name, sql) {
            // Left out rather than refusing to open: without it the till
            // still works (its reports are slower), and nothing else is run.
            tracing::warn!("{e}");
            continue;
        }
        let exists = tx
            .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1")?
            .exists([name])?;
        if !exists {
            // `execute` runs exactly one statement (more is an error).
            tx.execute(sql, [])?;
            created += 1;
        }
    }
    tx.execute("DELETE FROM meta WHERE key = ?1", [KEY_PENDING])?;
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
        assert_eq!(pending(c)?, None);
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
