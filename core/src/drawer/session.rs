//! Which drawer session is open on this till, and whether a cash payment
//! needs one (store setting `cash_sessions`).
//!
//! A session is open while no close record of its own till names it. Of
//! several open sessions (only possible after a till's disk was copied to
//! a second machine, or from a tampered device), the newest by causal
//! stamp is the current one; each can still be closed in turn.

use rusqlite::{Connection, OptionalExtension};

use crate::error::{CoreError, Result};

/// The store setting that says whether cash needs an open session.
pub const SETTING: &str = "cash_sessions";

/// `cash_sessions`: `off` (unset: sessions are optional but still count
/// the cash) or `required` (no cash sale or refund without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CashSessions {
    Off,
    Required,
}

impl CashSessions {
    pub const CHOICES: &'static [&'static str] = &["off", "required"];

    pub(crate) fn of(conn: &Connection) -> Result<Self> {
        let value: Option<String> = conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([SETTING], |r| r.get(0))
            .optional()?;
        // A value this version does not know (set by a newer one) is taken
        // as required: a shop that asked for more control than "off" never
        // gets less from an older till.
        Ok(match value.as_deref().map(str::trim) {
            None | Some("" | "off") => CashSessions::Off,
            Some(_) => CashSessions::Required,
        })
    }
}

/// The current session of `till_id`, if one is open: of the sessions
/// without a close, the newest (by causal stamp, then id).
///
/// `+c.kind` keeps SQLite off the index on (till, kind) for the close
/// looked up per session: with it, every session's look-up went through
/// every close of the till, and a sale took seconds after a few thousand
/// sessions. Each look-up is one probe of the (session, till) index.
///
/// The rows come in stamp order from the index on (till, kind, stamp), and
/// the id breaks a tie here: ordered by id too, SQLite sorted them in a
/// temporary b-tree, opened and freed on every sale (~4 % of its CPU).
pub(crate) fn current(conn: &Connection, till_id: &str) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.hlc FROM drawer_records o
         WHERE o.kind = 'open' AND o.till_id = ?1
           AND NOT EXISTS (SELECT 1 FROM drawer_records c
                           WHERE +c.kind = 'close' AND c.session_id = o.id AND c.till_id = o.till_id)
         ORDER BY o.hlc DESC",
    )?;
    let mut rows = stmt.query(rusqlite::params![till_id])?;
    let mut newest: Option<(i64, String)> = None;
    while let Some(row) = rows.next()? {
        let (id, hlc): (String, i64) = (row.get(0)?, row.get(1)?);
        match &newest {
            Some((top, _)) if hlc < *top => break,
            Some((_, best)) if id <= *best => {}
            _ => newest = Some((hlc, id)),
        }
    }
    Ok(newest.map(|(_, id)| id))
}

/// The session a sale or refund of `till_id` names: the current one, if
/// any. With `cash_sessions = required`, a payment in cash without one is
/// refused.
pub(crate) fn for_payment(conn: &Connection, till_id: &str, cash: bool) -> Result<Option<String>> {
    let session = current(conn, till_id)?;
    if session.is_none() && cash && CashSessions::of(conn)? == CashSessions::Required {
        return Err(CoreError::DrawerSessionRequired);
    }
    Ok(session)
}
