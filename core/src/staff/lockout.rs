//! Failed PINs on this till (local state, never synced): after
//! [`MAX_WRONG_PINS`] wrong PINs in a row, every PIN check is refused for
//! [`LOCKOUT_MS`], so a PIN cannot be guessed quickly at the counter. Kept
//! in the store file, so a restart (or the next CLI run) does not reset it.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{CoreError, Result};

/// Wrong PINs in a row before PIN checks pause.
pub const MAX_WRONG_PINS: u32 = 5;
/// How long PIN checks pause, in milliseconds.
pub const LOCKOUT_MS: i64 = 30_000;

const WRONG: &str = "staff.wrong_pins";
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

/// Refuses while PIN checks are paused.
pub(crate) fn ensure_open(conn: &Connection, now: i64) -> Result<()> {
    let until = get(conn, LOCKED_UNTIL)?;
    if now < until {
        let seconds = (until - now + 999) / 1000;
        return Err(CoreError::PinLocked(
            u64::try_from(seconds).unwrap_or(u64::MAX),
        ));
    }
    Ok(())
}

/// Counts a wrong PIN; the fifth in a row pauses PIN checks. Returns how
/// many tries are left before the pause (0: paused now).
pub(crate) fn wrong(conn: &Connection, now: i64) -> Result<u32> {
    let n = get(conn, WRONG)? + 1;
    if n >= i64::from(MAX_WRONG_PINS) {
        set(conn, WRONG, 0)?;
        set(conn, LOCKED_UNTIL, now.saturating_add(LOCKOUT_MS))?;
        return Ok(0);
    }
    set(conn, WRONG, n)?;
    Ok(MAX_WRONG_PINS - u32::try_from(n).unwrap_or(MAX_WRONG_PINS))
}

/// A right PIN ends the run of wrong ones.
pub(crate) fn right(conn: &Connection) -> Result<()> {
    set(conn, WRONG, 0)
}
