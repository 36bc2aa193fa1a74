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
            if DEFERRED.contains(&name.as_str()) {
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

/// The file's own `meta` is run as SQL: only an index this module defers,
/// created under its own name, is accepted.
fn check_entry(name: &str, sql: &str) -> Result<()> {
    let expected = format!("CREATE INDEX {name} ON ");
    if !DEFERRED.contains(&name) || !sql.starts_with(&expected) {
        return Err(CoreError::Corrupt(format!(
            "meta {KEY_PENDING} names an index this till does not defer: {name}"
        )));
    }
    Ok(())
}
