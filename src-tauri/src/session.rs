//! Who is signed in on this till: kept in the shell (so a reload of the
//! page keeps it, and a restart of the app does not), never the PIN.
//!
//! Every command runs with the signed-in staff member acting
//! ([`Store::acting`]); the core refuses writes without one once the store
//! has active staff. The shell locks on its own too: past the shop's idle
//! time, or once the person was deactivated (a sync from a manager's
//! device), nobody acts any more, so a UI that failed to lock cannot write
//! under a stale sign-in.

use std::time::{Duration, Instant};

use shopsync_core::staff::Operator;
use shopsync_core::staff::permissions::{DEFAULT_LOCK_AFTER_MINUTES, LOCK_AFTER_SETTING};
use shopsync_core::{Result, Store};
use shopsync_types::ipc::{SignedIn, StaffSession};

/// The UI tells the shell about input at most this often (see
/// `ui/src/staff/idle.rs`); the shell's lock waits that much longer, so
/// the UI's own lock comes first and the shell's is the backstop.
pub const TOUCH_SLACK: Duration = Duration::from_secs(15);

/// The signed-in staff member and when they last did something.
#[derive(Debug, Clone)]
pub struct Session {
    pub who: SignedIn,
    pub last_active: Instant,
}

/// Minutes without input before the till locks (0: never).
pub fn lock_after_minutes(s: &Store) -> Result<u32> {
    Ok(s.settings()?
        .into_iter()
        .find(|(k, _)| k == LOCK_AFTER_SETTING)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(DEFAULT_LOCK_AFTER_MINUTES))
}

/// Whether `session` has been idle longer than the shop allows.
fn expired(session: &Session, minutes: u32, now: Instant) -> bool {
    minutes > 0
        && now.saturating_duration_since(session.last_active)
            > Duration::from_secs(u64::from(minutes) * 60) + TOUCH_SLACK
}

/// Who acts for the next command: the signed-in staff member while their
/// sign-in holds. Clears `session` (the till is locked) when it lapsed:
/// idle too long, or the person is no longer an active staff member.
/// `touch`: the command counts as activity.
pub fn operator(s: &Store, session: &mut Option<Session>, touch: bool) -> Result<Option<Operator>> {
    let Some(current) = session.as_mut() else {
        return Ok(None);
    };
    if !s.staff_exist()? {
        // Every staff member was deactivated: nobody signs in any more.
        *session = None;
        return Ok(None);
    }
    let now = Instant::now();
    let still_active = s
        .staff_member(&current.who.staff_id)
        .is_ok_and(|m| m.active && m.id == current.who.staff_id);
    if !still_active || expired(current, lock_after_minutes(s)?, now) {
        *session = None;
        return Ok(None);
    }
    if touch {
        current.last_active = now;
    }
    Ok(Some(Operator::new(current.who.staff_id.clone())))
}

/// The session as the UI sees it.
pub fn view(s: &Store, session: &Option<Session>) -> Result<StaffSession> {
    let catalog_writable = s.sync_config()?.is_none_or(|c| c.role.as_str() != "till");
    Ok(StaffSession {
        staff_exist: s.staff_exist()?,
        signed_in: session.as_ref().map(|x| x.who.clone()),
        lock_after_minutes: lock_after_minutes(s)?,
        catalog_writable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_lapses_after_the_idle_time_and_its_slack_never_with_zero() {
        let start = Instant::now();
        let session = Session {
            who: SignedIn {
                staff_id: "s1".into(),
                name: "Cal".into(),
                role: "cashier".into(),
            },
            last_active: start,
        };
        let five = Duration::from_secs(300);
        assert!(!expired(&session, 5, start + five));
        assert!(!expired(&session, 5, start + five + TOUCH_SLACK));
        assert!(expired(
            &session,
            5,
            start + five + TOUCH_SLACK + Duration::from_secs(1)
        ));
        assert!(!expired(&session, 0, start + Duration::from_secs(86_400)));
    }
}
