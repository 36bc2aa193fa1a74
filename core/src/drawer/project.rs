//! Projection of the drawer's records: one `drawer_records` row each (and
//! the closing count by note and coin). Nothing is derived at insert time,
//! so any arrival order gives the same rows; which session is open and what
//! it should hold are read from these rows (`super::session`,
//! `super::report`). A move or close naming a session that does not exist
//! is kept and shows in no session.

use rusqlite::{Connection, params};

use crate::error::Result;
use crate::records::Record;

/// Meta key migration 10 sets when an older version may have left drawer
/// records unprojected.
pub(crate) const REBUILD_DUE: &str = "projection.drawer_due";

pub(crate) fn apply(conn: &Connection, till_id: &str, record: &Record) -> Result<()> {
    let hlc = record.hlc();
    let (staff, approver) = record.attribution();
    let row = match record {
        Record::DrawerOpen(o) => ("open", o.id.as_str(), o.float, None, None),
        Record::DrawerMove(m) => (
            m.direction.as_str(),
            m.session_id.as_str(),
            m.amount,
            Some(m.reason.trim()),
            None,
        ),
        Record::DrawerClose(c) => (
            "close",
            c.session_id.as_str(),
            c.counted,
            None,
            Some(c.expected),
        ),
        _ => return Ok(()),
    };
    let (kind, session, amount, reason, expected) = row;
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO drawer_records
                 (id, kind, session_id, till_id, at, hlc, amount, reason, expected, staff_id, approver_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            record.id(),
            kind,
            session,
            till_id,
            record.at(),
            hlc,
            amount,
            reason,
            expected,
            staff,
            approver
        ])?;
    if inserted > 0
        && let Record::DrawerClose(c) = record
    {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO drawer_counts (record_id, denomination, count) VALUES (?1, ?2, ?3)",
        )?;
        for (value, count) in &c.denominations {
            stmt.execute(params![c.id, value, count])?;
        }
    }
    Ok(())
}

/// Rebuilds every projection once if migration 10 asked for it (see
/// migrations/till/10-drawer-sessions).
pub(crate) fn rebuild_if_due(conn: &Connection) -> Result<()> {
    let due = conn
        .prepare("SELECT 1 FROM meta WHERE key = ?1")?
        .exists([REBUILD_DUE])?;
    if due {
        crate::projection::rebuild::rebuild(conn, &mut |_, _| {})?;
        conn.execute("DELETE FROM meta WHERE key = ?1", [REBUILD_DUE])?;
    }
    Ok(())
}
