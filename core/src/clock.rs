//! Causal order for stock counts, and flags for tills whose clocks are wrong.
//!
//! Every ledger record, and every count line, carries a hybrid logical clock
//! stamp `hlc` (milliseconds): `max(this till's clock, highest stamp this
//! till has seen + 1)`. The "highest stamp seen" is kept in `meta` and raised
//! whenever a record is projected (written here, synced, imported from a
//! bundle or rebuilt). So a movement made on a till that had already seen a
//! count has a higher stamp than the count, whatever the clocks say; a count
//! line is stamped when the line is counted, higher than every movement its
//! till had seen then. Between a count and a movement made without knowledge
//! of each other the stamps compare the two tills' clocks. The stock
//! projection orders movements and counts by stamp; `at` stays the human
//! wall-clock date shown in reports. Records of older versions have no stamp
//! and are ordered by `at`.
//!
//! A record from another till dated more than a limit (default 10 minutes)
//! ahead of this till's clock when it arrives is flagged: one of the two
//! clocks is wrong. `sync status`, `info` and the app name that till and by
//! how much.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::records::Record;
use crate::store::Store;

/// Records dated more than this far ahead of this till's clock are flagged.
pub const DEFAULT_SKEW_LIMIT_MS: i64 = 10 * 60 * 1000;
/// A flag is shown for this long after the last record that raised it.
pub const FLAG_SHOWN_FOR_MS: i64 = 24 * 60 * 60 * 1000;

/// Stamps beyond the year 3000 are not believed: a till never raises its
/// own clock to them (a broken or hostile record must not push every till's
/// stamps to the end of time).
pub const MAX_STAMP: i64 = 32_503_680_000_000;

const KEY_SEEN: &str = "clock.hlc_seen";
const KEY_LIMIT: &str = "clock.skew_limit_ms";
/// The latest date of another till's record accepted as not ahead.
const KEY_REMOTE_AT: &str = "clock.remote_at_seen";

/// Another till's records arrived dated ahead of this till's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockFlag {
    pub till_id: String,
    /// The flag is about this till's own clock: it stamped an event while
    /// its clock was behind records it had already seen.
    #[serde(default)]
    pub own: bool,
    /// The till's name as its receipts show it, when it has sold anything.
    pub till_name: Option<String>,
    /// How far ahead of this till's clock its latest flagged record was dated.
    pub ahead_ms: i64,
    /// When (this till's clock) that record arrived.
    pub seen_at: i64,
}

impl ClockFlag {
    /// One line for people: which till, how far ahead, what it means.
    pub fn message(&self) -> String {
        if self.own {
            return format!(
                "this till's clock was {} off the server's clock, or went back behind records it had already accepted: \
                 set it right (counts are ordered by the clocks of the tills that made them)",
                human_duration(self.ahead_ms)
            );
        }
        let who = match &self.till_name {
            Some(n) => format!("till {n} ({})", self.till_id),
            None => format!("till {}", self.till_id),
        };
        format!(
            "{who} sent records dated {} ahead of this till's clock: its clock is fast, or this till's is slow",
            human_duration(self.ahead_ms)
        )
    }
}

/// "1 y 2 d", "2 h 0 min", "12 min 5 s".
pub fn human_duration(ms: i64) -> String {
    let s = ms.saturating_abs() / 1000;
    let (y, d, h, m, sec) = (
        s / 31_536_000,
        s % 31_536_000 / 86_400,
        s % 86_400 / 3600,
        s % 3600 / 60,
        s % 60,
    );
    if y > 0 {
        format!("{y} y {d} d")
    } else if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min {sec} s")
    }
}

/// The highest stamp this till has seen (None: none yet).
pub(crate) fn seen(conn: &Connection) -> Result<Option<i64>> {
    let v: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([KEY_SEEN], |r| r.get(0))
        .optional()?;
    v.map(|s| {
        s.parse()
            .map_err(|_| CoreError::Corrupt(format!("bad {KEY_SEEN} in meta: '{s}'")))
    })
    .transpose()
}

/// The stamp the next local event would take, without taking it. Never
/// past [`MAX_STAMP`]: a record stamped at the limit (valid, but hostile)
/// must not push this till's stamps out of bounds, which would make every
/// later sale fail validation.
pub(crate) fn peek(conn: &Connection, now: i64) -> Result<i64> {
    let next = match seen(conn)? {
        Some(s) => now.max(s.saturating_add(1)),
        None => now,
    };
    Ok(next.min(MAX_STAMP.max(now)))
}

/// Takes a stamp for a local event of till `own`: `max(now, seen + 1)`,
/// and remembers it. A clock that has gone back, past the limit, behind the
/// date of a record from another till it accepted as not ahead of it, is
/// flagged against this till itself (found by the shop simulator: a till
/// whose clock went a year slow while offline was never flagged by anyone,
/// yet its counts were misordered). Dates, not causal stamps: a stamp can
/// be pushed ahead by a hostile or fast till without its date saying so.
pub(crate) fn tick(conn: &Connection, now: i64, own: &str) -> Result<i64> {
    if let Some(latest) = meta_i64(conn, KEY_REMOTE_AT)? {
        let behind = latest.saturating_sub(now);
        let limit = skew_limit(conn)?;
        // Unless another till is flagged, recently, as that far ahead.
        if behind > limit && !explained_by_another(conn, own, behind - limit, now)? {
            flag(conn, own, behind, now)?;
        }
    }
    let stamp = peek(conn, now)?;
    observe(conn, stamp)?;
    Ok(stamp)
}

/// Raises the highest stamp seen to `stamp` (never lowers it; stamps past
/// [`MAX_STAMP`] are ignored).
pub(crate) fn observe(conn: &Connection, stamp: i64) -> Result<()> {
    if stamp > MAX_STAMP {
        tracing::warn!("ignoring a causal stamp past the year 3000 ({stamp})");
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, CAST(?2 AS TEXT))
         ON CONFLICT (key) DO UPDATE SET value = CAST(?2 AS TEXT)
         WHERE CAST(meta.value AS INTEGER) < ?2",
    )?
    .execute(params![KEY_SEEN, stamp])?;
    Ok(())
}

/// Raises the highest stamp seen with everything a record carries.
pub(crate) fn observe_record(conn: &Connection, record: &Record) -> Result<()> {
    let mut top = record.hlc();
    if let Record::Count(c) = record {
        for line in &c.lines {
            top = top.max(line.stamp());
        }
    }
    observe(conn, top)
}

/// What is wrong with a record's causal stamps, if anything (for record
/// validation): a till stamps `at <= hlc <= MAX_STAMP`, on the record and on
/// each count line. Records without stamps (older versions) pass.
pub fn stamp_problem(record: &Record) -> Option<String> {
    let bad = |what: &str, at: i64, hlc: Option<i64>| -> Option<String> {
        let h = hlc?;
        if h < at {
            Some(format!("{what}: hlc {h} is before its date {at}"))
        } else if h > MAX_STAMP {
            Some(format!("{what}: hlc {h} is past the year 3000"))
        } else {
            None
        }
    };
    let own = if record.has_stamp() {
        Some(record.hlc())
    } else {
        None
    };
    if let Some(p) = bad("record", record.at(), own) {
        return Some(p);
    }
    if let Record::Count(c) = record {
        for (i, line) in c.lines.iter().enumerate() {
            if let Some(p) = bad(&format!("count line {}", i + 1), line.at, line.hlc) {
                return Some(p);
            }
        }
    }
    None
}

fn skew_limit(conn: &Connection) -> Result<i64> {
    let v: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([KEY_LIMIT], |r| r.get(0))
        .optional()?;
    Ok(v.and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SKEW_LIMIT_MS))
}

/// Flags `till_id` if `record`, arriving now, is dated too far ahead.
pub(crate) fn check_remote(
    conn: &Connection,
    till_id: &str,
    record: &Record,
    now: i64,
) -> Result<()> {
    let mut at = record.at();
    if let Record::Count(c) = record {
        for line in &c.lines {
            at = at.max(line.at);
        }
    }
    let ahead = at.saturating_sub(now);
    if ahead <= skew_limit(conn)? {
        // Accepted as not ahead of this till's clock: if this clock later
        // reads far before it, this clock went back (see `tick`).
        conn.prepare_cached(
            "INSERT INTO meta (key, value) VALUES (?1, CAST(?2 AS TEXT))
             ON CONFLICT (key) DO UPDATE SET value = CAST(?2 AS TEXT)
             WHERE CAST(meta.value AS INTEGER) < ?2",
        )?
        .execute(params![KEY_REMOTE_AT, at])?;
        return Ok(());
    }
    flag(conn, till_id, ahead, now)
}

/// Whether another till is flagged, within the last day, as at least
/// `ahead` ahead of this one.
fn explained_by_another(conn: &Connection, own: &str, ahead: i64, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM clock_flags WHERE till_id <> ?1 AND ahead_ms >= ?2 AND seen_at >= ?3",
        )?
        .exists(params![own, ahead, now.saturating_sub(FLAG_SHOWN_FOR_MS)])?)
}

fn meta_i64(conn: &Connection, key: &str) -> Result<Option<i64>> {
    let v: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    Ok(v.and_then(|s| s.parse().ok()))
}

/// Flags this till's own clock, off by `off` milliseconds.
pub(crate) fn flag_own(conn: &Connection, own: &str, off: i64, now: i64) -> Result<()> {
    flag(conn, own, off, now)
}

fn flag(conn: &Connection, till_id: &str, ahead: i64, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO clock_flags (till_id, ahead_ms, seen_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (till_id) DO UPDATE SET
             ahead_ms = CASE WHEN excluded.seen_at = clock_flags.seen_at
                             THEN max(clock_flags.ahead_ms, excluded.ahead_ms)
                             ELSE excluded.ahead_ms END,
             seen_at = excluded.seen_at",
    )?
    .execute(params![till_id, ahead, now])?;
    Ok(())
}

impl Store {
    /// Tills whose records arrived dated ahead of this till's clock, within
    /// the last day (a flag clears once that till's records stop arriving
    /// ahead for a day).
    pub fn clock_flags(&self) -> Result<Vec<ClockFlag>> {
        let since = self.now_ms().saturating_sub(FLAG_SHOWN_FOR_MS);
        let rows: Vec<(String, i64, i64)> = self
            .conn
            .prepare(
                "SELECT till_id, ahead_ms, seen_at FROM clock_flags WHERE seen_at >= ?1
                 ORDER BY ahead_ms DESC, till_id",
            )?
            .query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (till_id, ahead_ms, seen_at) in rows {
            out.push(ClockFlag {
                own: till_id == self.info.till_id,
                till_name: till_name(&self.conn, &till_id)?,
                till_id,
                ahead_ms,
                seen_at,
            });
        }
        Ok(out)
    }

    /// How far ahead of this till's clock a record may be dated before its
    /// till is flagged (default [`DEFAULT_SKEW_LIMIT_MS`]).
    pub fn clock_skew_limit_ms(&self) -> Result<i64> {
        skew_limit(&self.conn)
    }

    pub fn set_clock_skew_limit_ms(&mut self, ms: i64) -> Result<()> {
        if ms <= 0 {
            return Err(CoreError::invalid(
                "limit",
                format!("the clock limit must be positive ({ms} ms)"),
            ));
        }
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![KEY_LIMIT, ms.to_string()],
        )?;
        Ok(())
    }

    /// The highest causal stamp this till has seen (tests, diagnostics).
    pub fn clock_seen(&self) -> Result<Option<i64>> {
        seen(&self.conn)
    }
}

/// A till's name, from the number of its latest sale (`{name}-{seq}`).
fn till_name(conn: &Connection, till_id: &str) -> Result<Option<String>> {
    let number: Option<String> = conn
        .prepare_cached(
            "SELECT number FROM sales WHERE till_id = ?1 ORDER BY at DESC, id DESC LIMIT 1",
        )?
        .query_row([till_id], |r| r.get(0))
        .optional()?;
    Ok(number.and_then(|n| n.rsplit_once('-').map(|(name, _)| name.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human_duration(365 * 86_400_000 + 86_400_000), "1 y 1 d");
        assert_eq!(human_duration(2 * 3_600_000), "2 h 0 min");
        assert_eq!(human_duration(-(12 * 60_000 + 5_000)), "12 min 5 s");
    }

    #[test]
    fn stamps_past_the_year_3000_are_ignored_and_reported() -> Result<()> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT")?;
        observe(&conn, i64::MAX)?;
        assert_eq!(
            seen(&conn)?,
            None,
            "a stamp at the end of time is not believed"
        );
        assert_eq!(tick(&conn, 100, "t")?, 100);
        let adj = |at: i64, hlc: Option<i64>| {
            Record::Adjustment(crate::records::AdjustmentRecord {
                id: "a".into(),
                at,
                product_id: "p".into(),
                delta: 1,
                reason: crate::records::AdjustReason::Found,
                note: None,
                hlc,
                staff_id: None,
                approver_id: None,
            })
        };
        assert_eq!(stamp_problem(&adj(5, None)), None);
        assert_eq!(stamp_problem(&adj(5, Some(9))), None);
        assert!(stamp_problem(&adj(5, Some(4))).is_some());
        assert!(stamp_problem(&adj(5, Some(i64::MAX))).is_some());
        Ok(())
    }

    #[test]
    fn stamps_never_go_back() -> Result<()> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT")?;
        assert_eq!(tick(&conn, 100, "t")?, 100);
        assert_eq!(tick(&conn, 100, "t")?, 101, "same millisecond: one more");
        observe(&conn, 5_000)?;
        assert_eq!(
            tick(&conn, 200, "t")?,
            5_001,
            "a clock behind what was seen"
        );
        observe(&conn, 10)?;
        assert_eq!(seen(&conn)?, Some(5_001), "observing lower changes nothing");
        assert_eq!(tick(&conn, 9_000, "t")?, 9_000);
        Ok(())
    }
}
