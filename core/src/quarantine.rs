//! Quarantine (issue 7, part 3): one bad record never stops a till.
//!
//! A change received from elsewhere is always stored. Each record in it is
//! then checked (`validate`) and projected inside its own SAVEPOINT; a record
//! that breaks a rule, or that the projection cannot apply, is rolled back to
//! that savepoint (no half-written rows), listed in the `quarantine` table,
//! and left out of the projections. The page goes on and the cursor moves.
//! A rebuild does exactly the same, so it gives the same projections and the
//! same quarantine.

use automerge::{AutoCommit, Change};
use rusqlite::{Connection, params};
use shopsync_types::QuarantinedRecord;

use crate::error::{CoreError, Result};
use crate::projection;
use crate::validate::{self, Rule, Violation};

/// How many quarantined records `sync status` and the app list.
pub const SHOWN: usize = 5;

/// How a page of ledger records is projected.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Projecting {
    /// Each record in its own savepoint: a bad one is rolled back and
    /// quarantined, the others go on.
    Careful,
    /// No savepoints: the first record the projection cannot apply fails
    /// the whole transaction with [`CoreError::ProjectCarefully`], and the
    /// caller applies the same changes again [`Projecting::Careful`]ly. A
    /// savepoint copies every page it is the first to write (~15% of a
    /// large sync's time), and almost every page holds only good records.
    /// A chunk with a bad record is applied twice (a server sending one in
    /// every chunk doubles the till's work, nothing worse).
    Optimistic,
}

/// Applies every record of one ledger change received from `till`'s ledger
/// `doc`, quarantining the ones that cannot be applied. `arrived_at`: this
/// till's clock when the change arrived (records dated far ahead of it flag
/// their till's clock); `None` when rebuilding.
pub(crate) fn apply_ledger_change(
    conn: &Connection,
    doc: &str,
    till: &str,
    change: &Change,
    arrived_at: Option<i64>,
    projecting: Projecting,
) -> Result<()> {
    for item in validate::ledger_items(change) {
        match item {
            Ok(record) => {
                let key = record.id().to_string();
                if !projection::id_clash::settle(conn, doc, till, &record)? {
                    continue;
                }
                in_savepoint(conn, doc, &key, Some(till), projecting, |c| {
                    projection::ledger::apply_settled(c, till, &record)?;
                    if let Some(now) = arrived_at {
                        crate::clock::check_remote(c, till, &record, now)?;
                    }
                    Ok(())
                })?;
            }
            Err(v) => put(conn, doc, Some(till), &v)?,
        }
    }
    Ok(())
}

/// Projects one root key of the catalog; if the projection fails, the key is
/// quarantined (and released again once a later edit projects cleanly).
pub(crate) fn project_catalog_key(
    conn: &Connection,
    doc_id: &str,
    doc: &AutoCommit,
    key: &str,
) -> Result<()> {
    let ok = in_savepoint(conn, doc_id, key, None, Projecting::Careful, |c| {
        projection::catalog::project_key(c, doc, key)
    })?;
    if ok {
        conn.prepare_cached("DELETE FROM quarantine WHERE doc_id = ?1 AND record_key = ?2")?
            .execute(params![doc_id, key])?;
    }
    Ok(())
}

/// Runs `f` in a savepoint. A fault of the record rolls it back and
/// quarantines the record (`Ok(false)`); a fault of the store (disk, lock)
/// is returned as an error. Optimistic: no savepoint, and a fault of the
/// record is [`CoreError::ProjectCarefully`].
fn in_savepoint(
    conn: &Connection,
    doc: &str,
    key: &str,
    till: Option<&str>,
    projecting: Projecting,
    f: impl FnOnce(&Connection) -> Result<()>,
) -> Result<bool> {
    if projecting == Projecting::Optimistic {
        return match f(conn) {
            Ok(()) => Ok(true),
            Err(e) if is_record_fault(&e) => {
                tracing::debug!(
                    "record {key} of {doc} does not project ({e}): applying its page again record by record"
                );
                Err(CoreError::ProjectCarefully)
            }
            Err(e) => Err(e),
        };
    }
    conn.prepare_cached("SAVEPOINT quarantine_record")?
        .execute([])?;
    match f(conn) {
        Ok(()) => {
            conn.prepare_cached("RELEASE quarantine_record")?
                .execute([])?;
            Ok(true)
        }
        Err(e) => {
            conn.prepare_cached("ROLLBACK TO quarantine_record")?
                .execute([])?;
            conn.prepare_cached("RELEASE quarantine_record")?
                .execute([])?;
            if !is_record_fault(&e) {
                return Err(e);
            }
            tracing::debug!("quarantining record {key} of {doc}: {e}");
            put(
                conn,
                doc,
                till,
                &Violation {
                    record: key.to_string(),
                    rule: Rule::Projection,
                    detail: e.to_string(),
                },
            )?;
            Ok(false)
        }
    }
}

/// Whether an error is the record's fault (quarantine it) rather than the
/// store's (stop and retry later).
fn is_record_fault(e: &CoreError) -> bool {
    use rusqlite::ErrorCode as C;
    match e {
        CoreError::Sqlite(rusqlite::Error::SqliteFailure(f, msg)) => {
            matches!(f.code, C::ConstraintViolation | C::TooBig | C::TypeMismatch)
                || msg
                    .as_deref()
                    .is_some_and(|m| m.contains("integer overflow"))
        }
        CoreError::Sqlite(
            rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::ToSqlConversionFailure(..),
        ) => true,
        CoreError::Sqlite(_) => false,
        CoreError::Invalid { .. }
        | CoreError::NotFound { .. }
        | CoreError::Conflict(_)
        | CoreError::Corrupt(_)
        | CoreError::Automerge(_) => true,
        _ => false,
    }
}

/// Lists a record in the quarantine (the first reason found is kept).
pub(crate) fn put(conn: &Connection, doc: &str, till: Option<&str>, v: &Violation) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO quarantine (doc_id, record_key, till_id, rule, reason, first_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        doc,
        v.record,
        till,
        v.rule.as_str(),
        v.detail,
        chrono::Utc::now().timestamp_millis()
    ])?;
    Ok(())
}

/// How many records are quarantined.
pub fn count(conn: &Connection) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM quarantine")?
        .query_row([], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// The quarantined records, oldest first, at most `limit`.
pub fn list(conn: &Connection, limit: usize) -> Result<Vec<QuarantinedRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT doc_id, record_key, till_id, rule, reason, first_seen FROM quarantine
         ORDER BY first_seen, doc_id, record_key LIMIT ?1",
    )?;
    let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
        Ok(QuarantinedRecord {
            document: r.get(0)?,
            record: r.get(1)?,
            till: r.get(2)?,
            rule: r.get(3)?,
            reason: r.get(4)?,
            first_seen: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Before a rebuild empties the quarantine: remember when each record was
/// first seen.
pub(crate) fn save_first_seen(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS temp.quarantine_seen;
         CREATE TEMP TABLE quarantine_seen AS SELECT doc_id, record_key, first_seen FROM quarantine;",
    )?;
    Ok(())
}

/// After a rebuild: records quarantined before keep their first-seen time.
pub(crate) fn restore_first_seen(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "UPDATE quarantine SET first_seen = s.first_seen FROM temp.quarantine_seen s
         WHERE s.doc_id = quarantine.doc_id AND s.record_key = quarantine.record_key;
         DROP TABLE temp.quarantine_seen;",
    )?;
    Ok(())
}
