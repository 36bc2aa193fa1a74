//! X and Z reports of drawer sessions, computed from the projections every
//! time (nothing is kept as a running number):
//!
//! expected = float + cash taken by sales (cash tendered − change)
//!          + cash in − cash out − cash refunds,
//!
//! over the sales, refunds and movements of the session's own till that
//! name the session. Over/short = counted − expected.
//!
//! Queries of one session's records write `+kind`, so SQLite looks them up
//! by the (session, till) index, never by walking the till's (till, kind)
//! index through every session's records.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use shopsync_types::{Amount, Currency};

use crate::error::{CoreError, Result};
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CashMovementView {
    pub id: String,
    pub at: DateTime<Utc>,
    /// `in` or `out`.
    pub direction: String,
    pub amount: Amount,
    pub reason: String,
    pub staff_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DenominationCount {
    pub denomination: Amount,
    pub count: i64,
    pub total: Amount,
}

/// One session: an X report while it is open, a Z report once closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrawerReport {
    pub session_id: String,
    pub till_id: String,
    pub state: SessionState,
    pub opened_at: DateTime<Utc>,
    pub opened_by: Option<String>,
    pub float: Amount,
    pub sales_count: i64,
    /// Cash tendered minus change given, over the session's sales.
    pub cash_sales: Amount,
    pub refunds_count: i64,
    pub cash_refunds: Amount,
    pub cash_in: Amount,
    pub cash_out: Amount,
    pub movements: Vec<CashMovementView>,
    /// What the drawer should hold, from every record synced so far.
    pub expected: Amount,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub counted: Option<Amount>,
    /// Counted − expected: below zero the drawer is short.
    pub over_short: Option<Amount>,
    /// What the till computed when it closed the session (differs from
    /// `expected` only if records of the session arrived after the close,
    /// e.g. from a till restored from a backup).
    pub expected_at_close: Option<Amount>,
    /// The closing count by note and coin (empty: the total was counted).
    pub denominations: Vec<DenominationCount>,
    /// Further close records of the session (a restored or copied till
    /// closed it again): the first, by causal stamp, counts.
    pub extra_closes: i64,
}

/// The sessions of one till, or of every till, that closed on a store day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrawerDayReport {
    pub date: NaiveDate,
    /// `None`: every till of the store.
    pub till_id: Option<String>,
    pub sessions: Vec<DrawerReport>,
    pub float: Amount,
    pub cash_sales: Amount,
    pub cash_refunds: Amount,
    pub cash_in: Amount,
    pub cash_out: Amount,
    pub expected: Amount,
    pub counted: Amount,
    pub over_short: Amount,
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn overflow() -> CoreError {
    CoreError::Corrupt("drawer totals are past what can be counted".into())
}

/// a + b + ... with checks: amounts come from synced records.
fn sum(parts: &[i64]) -> Result<i64> {
    let total: i128 = parts.iter().map(|&p| i128::from(p)).sum();
    i64::try_from(total).map_err(|_| overflow())
}

/// The cash parts of one session of `till_id`, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cash {
    pub float: i64,
    pub sales: i64,
    pub refunds: i64,
    pub cash_in: i64,
    pub cash_out: i64,
}

impl Cash {
    pub fn expected(&self) -> Result<i64> {
        let neg = |v: i64| v.checked_neg().ok_or_else(overflow);
        sum(&[
            self.float,
            self.sales,
            self.cash_in,
            neg(self.cash_out)?,
            neg(self.refunds)?,
        ])
    }
}

/// The session's cash, from its open record (`None` if there is none on
/// `till_id`) and the records of `till_id` naming it.
pub(crate) fn cash(conn: &Connection, till_id: &str, session: &str) -> Result<Option<Cash>> {
    let float: Option<i64> = conn
        .prepare_cached(
            "SELECT amount FROM drawer_records WHERE id = ?1 AND till_id = ?2 AND kind = 'open'",
        )?
        .query_row(params![session, till_id], |r| r.get(0))
        .optional()?;
    let Some(float) = float else {
        return Ok(None);
    };
    let q = |sql: &str| -> Result<i64> {
        Ok(conn
            .prepare_cached(sql)?
            .query_row(params![session, till_id], |r| r.get(0))?)
    };
    let tendered = q(
        "SELECT COALESCE(SUM(t.amount), 0) FROM sale_tenders t JOIN sales s ON s.id = t.sale_id
                      WHERE s.drawer_session = ?1 AND s.till_id = ?2 AND t.kind = 'cash'",
    )?;
    let change =
        q("SELECT COALESCE(SUM(change), 0) FROM sales WHERE drawer_session = ?1 AND till_id = ?2")?;
    let refunds = q("SELECT COALESCE(SUM(amount), 0) FROM refunds
                     WHERE drawer_session = ?1 AND till_id = ?2 AND tender = 'cash'")?;
    let moved = |kind: &str| -> Result<i64> {
        Ok(conn
            .prepare_cached(
                "SELECT COALESCE(SUM(amount), 0) FROM drawer_records
                 WHERE session_id = ?1 AND till_id = ?2 AND +kind = ?3",
            )?
            .query_row(params![session, till_id, kind], |r| r.get(0))?)
    };
    Ok(Some(Cash {
        float,
        sales: sum(&[tendered, change.checked_neg().ok_or_else(overflow)?])?,
        refunds,
        cash_in: moved("in")?,
        cash_out: moved("out")?,
    }))
}

struct Close {
    id: String,
    at: i64,
    counted: i64,
    expected: Option<i64>,
    staff: Option<String>,
}

/// The report of `session` of `till_id`.
pub(crate) fn session_report(
    conn: &Connection,
    c: Currency,
    till_id: &str,
    session: &str,
) -> Result<DrawerReport> {
    let cash = cash(conn, till_id, session)?
        .ok_or_else(|| CoreError::not_found("drawer session", session))?;
    let (opened_at, opened_by): (i64, Option<String>) = conn
        .prepare_cached("SELECT at, staff_id FROM drawer_records WHERE id = ?1 AND till_id = ?2")?
        .query_row(params![session, till_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let count = |sql: &str| -> Result<i64> {
        Ok(conn
            .prepare_cached(sql)?
            .query_row(params![session, till_id], |r| r.get(0))?)
    };
    let sales_count =
        count("SELECT COUNT(*) FROM sales WHERE drawer_session = ?1 AND till_id = ?2")?;
    let refunds_count =
        count("SELECT COUNT(*) FROM refunds WHERE drawer_session = ?1 AND till_id = ?2")?;
    let movements = conn
        .prepare_cached(
            "SELECT id, at, kind, amount, COALESCE(reason, ''), staff_id FROM drawer_records
             WHERE session_id = ?1 AND till_id = ?2 AND +kind IN ('in', 'out') ORDER BY hlc, id",
        )?
        .query_map(params![session, till_id], |r| {
            Ok(CashMovementView {
                id: r.get(0)?,
                at: time(r.get(1)?),
                direction: r.get(2)?,
                amount: c.amount(r.get(3)?),
                reason: r.get(4)?,
                staff_id: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let closes: Vec<Close> = conn
        .prepare_cached(
            "SELECT id, at, amount, expected, staff_id FROM drawer_records
             WHERE session_id = ?1 AND till_id = ?2 AND +kind = 'close' ORDER BY hlc, id",
        )?
        .query_map(params![session, till_id], |r| {
            Ok(Close {
                id: r.get(0)?,
                at: r.get(1)?,
                counted: r.get(2)?,
                expected: r.get(3)?,
                staff: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let expected = cash.expected()?;
    let close = closes.first();
    let denominations = match close {
        Some(cl) => conn
            .prepare_cached(
                "SELECT denomination, count FROM drawer_counts WHERE record_id = ?1
                 ORDER BY denomination DESC",
            )?
            .query_map([&cl.id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .map(|(d, n)| {
                // Both are bounded by the record rules; i128 keeps it exact.
                let total = i64::try_from(i128::from(d) * i128::from(n)).map_err(|_| overflow())?;
                Ok(DenominationCount {
                    denomination: c.amount(d),
                    count: n,
                    total: c.amount(total),
                })
            })
            .collect::<Result<_>>()?,
        None => Vec::new(),
    };
    let over_short = match close {
        Some(cl) => Some(sum(&[
            cl.counted,
            expected.checked_neg().ok_or_else(overflow)?,
        ])?),
        None => None,
    };
    Ok(DrawerReport {
        session_id: session.to_string(),
        till_id: till_id.to_string(),
        state: if close.is_some() {
            SessionState::Closed
        } else {
            SessionState::Open
        },
        opened_at: time(opened_at),
        opened_by,
        float: c.amount(cash.float),
        sales_count,
        cash_sales: c.amount(cash.sales),
        refunds_count,
        cash_refunds: c.amount(cash.refunds),
        cash_in: c.amount(cash.cash_in),
        cash_out: c.amount(cash.cash_out),
        movements,
        expected: c.amount(expected),
        closed_at: close.map(|cl| time(cl.at)),
        closed_by: close.and_then(|cl| cl.staff.clone()),
        counted: close.map(|cl| c.amount(cl.counted)),
        over_short: over_short.map(|v| c.amount(v)),
        expected_at_close: close.and_then(|cl| cl.expected).map(|v| c.amount(v)),
        denominations,
        extra_closes: i64::try_from(closes.len().saturating_sub(1)).unwrap_or(i64::MAX),
    })
}

impl Store {
    /// The X report of this till's open session, if one is open.
    pub fn drawer_status(&self) -> Result<Option<DrawerReport>> {
        match super::session::current(&self.conn, &self.info.till_id)? {
            Some(s) => Ok(Some(session_report(
                &self.conn,
                self.currency,
                &self.info.till_id,
                &s,
            )?)),
            None => Ok(None),
        }
    }

    /// The X report of this till's open session.
    pub fn drawer_x_report(&self) -> Result<DrawerReport> {
        self.drawer_status()?.ok_or(CoreError::NoDrawerSession)
    }

    /// The report of one session, of any till (X if open, Z if closed).
    pub fn drawer_session_report(&self, session: &str) -> Result<DrawerReport> {
        let session = session.trim();
        let till: Option<String> = self
            .conn
            .prepare_cached("SELECT till_id FROM drawer_records WHERE id = ?1 AND kind = 'open'")?
            .query_row([session], |r| r.get(0))
            .optional()?;
        let till = till.ok_or_else(|| CoreError::not_found("drawer session", session))?;
        session_report(&self.conn, self.currency, &till, session)
    }

    /// Every session (of `till`, or of every till) that was open at some
    /// time on the store day `date`: opened before the day ended and not
    /// closed before it began (so one that spans the day too); every
    /// session when `None`. In the order each till opened them.
    pub fn drawer_sessions(
        &self,
        date: Option<NaiveDate>,
        till: Option<&str>,
    ) -> Result<Vec<DrawerReport>> {
        let (from, to) = match date {
            Some(d) => (self.zone.day_start_ms(d), self.zone.day_end_ms(d)),
            None => (i64::MIN, i64::MAX),
        };
        let ids: Vec<(String, String)> = self
            .conn
            .prepare(
                "SELECT o.till_id, o.id FROM drawer_records o
                 WHERE o.kind = 'open' AND (?3 IS NULL OR o.till_id = ?3)
                   AND o.at < ?2
                   AND NOT EXISTS (SELECT 1 FROM drawer_records c WHERE +c.kind = 'close'
                                   AND c.session_id = o.id AND c.till_id = o.till_id
                                   AND c.at < ?1)
                 ORDER BY o.till_id, o.hlc, o.id",
            )?
            .query_map(params![from, to, till], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter()
            .map(|(t, s)| session_report(&self.conn, self.currency, t, s))
            .collect()
    }

    /// The Z report of a store day: the sessions of `till` (every till
    /// when `None`) whose close (the first, by causal stamp) is dated that
    /// day in the store's time zone, and their totals.
    pub fn drawer_day_report(
        &self,
        date: NaiveDate,
        till: Option<&str>,
    ) -> Result<DrawerDayReport> {
        let c = self.currency;
        let sessions: Vec<DrawerReport> = self
            .drawer_sessions(Some(date), till)?
            .into_iter()
            .filter(|s| s.closed_at.is_some_and(|t| self.zone.date_of(t) == date))
            .collect();
        let total = |f: &dyn Fn(&DrawerReport) -> i64| -> Result<Amount> {
            Ok(c.amount(sum(&sessions.iter().map(f).collect::<Vec<_>>())?))
        };
        Ok(DrawerDayReport {
            date,
            till_id: till.map(str::to_string),
            float: total(&|s| s.float.minor)?,
            cash_sales: total(&|s| s.cash_sales.minor)?,
            cash_refunds: total(&|s| s.cash_refunds.minor)?,
            cash_in: total(&|s| s.cash_in.minor)?,
            cash_out: total(&|s| s.cash_out.minor)?,
            expected: total(&|s| s.expected.minor)?,
            counted: total(&|s| s.counted.map_or(0, |a| a.minor))?,
            over_short: total(&|s| s.over_short.map_or(0, |a| a.minor))?,
            sessions,
        })
    }
}
