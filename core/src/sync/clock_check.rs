//! The server's clock as a second opinion on the till's (found by the shop
//! simulator: a till whose clock was slow, with nothing newer to compare
//! against, was never flagged while its counts were misordered). Every sync
//! answer carries the server's time; a till whose clock is off it by more
//! than the clock limit flags itself, as `sync status` and the app show.

use crate::error::Result;
use crate::store::Store;

/// The response header carrying the server's clock (milliseconds).
pub const TIME_HEADER: &str = "shopsync-time";

impl Store {
    /// Flags this till's own clock if it is further from `server_ms` (the
    /// server's clock when it answered) than the clock limit.
    pub fn check_clock_against_server(&self, server_ms: i64) -> Result<()> {
        let now = self.now_ms();
        let off = server_ms.saturating_sub(now).saturating_abs();
        if off > self.clock_skew_limit_ms()? {
            crate::clock::flag_own(&self.conn, &self.info.till_id, off, now)?;
        }
        Ok(())
    }
}
