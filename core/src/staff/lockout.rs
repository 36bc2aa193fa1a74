//! Failed PINs on this till (local state, never synced): after
//! [`MAX_WRONG_PINS`] wrong PINs within [`WINDOW_MS`], every PIN check is
//! refused for [`LOCKOUT_MS`], so a PIN cannot be guessed quickly at the
//! counter. A right PIN does not clear the count (else a cashier could
//! guess four times, sign in, and guess again for ever). Kept in the store
//! file, so a restart (or the next CLI run) does not reset it.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{CoreError, Result};

/// Wrong PINs within [`WINDOW_MS`] before PIN checks pause.
pub const MAX_WRONG_PINS: u32 = 5;
/// How long PIN checks pause, in milliseconds.
pub const LOCKOUT_MS: i64 = 30_000;
/// How long a wrong PIN counts against the next ones, in milliseconds.
pub const WINDOW_MS: i64 = 10 * 60_000;

const WRONG: &str = "staff.wrong_pins";
const WRONG_SINCE: &str = "staff.wrong_pins_since";
const LOCKED_UNTIL: &str = "staff.pin_locked_until";

fn get(conn: &Connection, key: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

fn set(conn: &Connection, key: &str, value: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value.to_string()])?;
    Ok(())
}

/// Refuses while PIN checks are paused. A pause reaching further ahead
/// than a pause can was set under a clock that has since gone back (or
/// forward and back): it is dropped, so a wrong clock cannot lock the till
/// for years.
pub(crate) fn ensure_open(conn: &Connection, now: i64) -> Result<()> {
    let until = get(conn, LOCKED_UNTIL)?;
    if until.saturating_sub(now) > LOCKOUT_MS {
        set(conn, LOCKED_UNTIL, 0)?;
        return Ok(());
    }
    if now < until {
        let seconds = (until - now + 999) / 1000;
        return Err(CoreError::PinLocked(
            u64::try_from(seconds).unwrap_or(u64::MAX),
        ));
    }
    Ok(())
}

/// Counts a wrong PIN; the fifth within the window pauses PIN checks.
/// Returns how many tries are left before the pause (0: paused now). The
/// count and its window are read and written in one transaction, so two
/// processes guessing at once both count.
pub(crate) fn wrong(conn: &Connection, now: i64) -> Result<u32> {
    let sp = SavePoint::new(conn)?;
    let since = get(conn, WRONG_SINCE)?;
    let stale = now.saturating_sub(since) > WINDOW_MS || since > now;
    let n = if stale { 1 } else { get(conn, WRONG)? + 1 };
    if stale {
        set(conn, WRONG_SINCE, now)?;
    }
    let left = if n >= i64::from(MAX_WRONG_PINS) {
        set(conn, WRONG, 0)?;
        set(conn, WRONG_SINCE, 0)?;
        set(conn, LOCKED_UNTIL, now.saturating_add(LOCKOUT_MS))?;
        0
    } else {
        set(conn, WRONG, n)?;
        MAX_WRONG_PINS - u32::try_from(n).unwrap_or(MAX_WRONG_PINS)
    };
    sp.commit()?;
    Ok(left)
}

/// A savepoint: works inside or outside a transaction.
struct SavePoint<'c> {
    conn: &'c Connection,
    done: bool,
}

impl<'c> SavePoint<'c> {
    fn new(conn: &'c Connection) -> Result<Self> {
        conn.execute_batch("SAVEPOINT pin_count")?;
        Ok(SavePoint { conn, done: false })
    }

    fn commit(mut self) -> Result<()> {
        self.conn.execute_batch("RELEASE pin_count")?;
        self.done = true;
        Ok(())
    }
}

impl Drop for SavePoint<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self
                .conn
                .execute_batch("ROLLBACK TO pin_count; RELEASE pin_count");
        }
    }
}
