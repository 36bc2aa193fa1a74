//! Who is signed in on this till: kept in the shell (so a reload of the
//! page keeps it, and a restart of the app does not), never the PIN.
//!
//! Every command runs with the signed-in staff member acting
//! ([`Store::acting`]); the core refuses writes without one once the store
//! has active staff. The shell locks on its own too: past the shop's idle
//! time, or once the person was deactivated (a sync from a manager's
//! device), nobody acts any more, so a UI that failed to lock cannot write
//! under a stale sign-in.

use std::time::{Duration, Instant, SystemTime};

use shopsync_core::staff::Operator;
use shopsync_core::staff::permissions::{DEFAULT_LOCK_AFTER_MINUTES, LOCK_AFTER_SETTING};
use shopsync_core::{Result, Store};
use shopsync_types::ipc::{SignedIn, StaffSession};

/// The UI tells the shell about input at most this often (see
/// `ui/src/staff/idle.rs`); the shell's lock waits that much longer, so
/// the UI's own lock comes first and the shell's is the backstop.
pub const TOUCH_SLACK: Duration = Duration::from_secs(15);

/// The signed-in staff member and when they last did something, on both
/// clocks: the monotonic one ignores the wall clock being set back, but on
/// Linux and macOS it stops while the machine sleeps; the wall clock runs
/// on through a sleep. The sign-in lapses when either says it is idle.
#[derive(Debug, Clone)]
pub struct Session {
    pub who: SignedIn,
    pub last_active: Instant,
    pub last_active_wall: SystemTime,
}

impl Session {
    /// `who` signed in just now.
    pub fn new(who: SignedIn) -> Session {
        Session {
            who,
            last_active: Instant::now(),
            last_active_wall: SystemTime::now(),
        }
    }
}

/// Minutes without input before the till locks (0: never).
pub fn lock_after_minutes(s: &Store) -> Result<u32> {
    Ok(s.settings()?
        .into_iter()
        .find(|(k, _)| k == LOCK_AFTER_SETTING)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(DEFAULT_LOCK_AFTER_MINUTES))
}

/// Whether `session` has been idle longer than the shop allows, by
/// either clock (a wall clock set back counts as no time).
fn expired(session: &Session, minutes: u32, now: Instant, wall: SystemTime) -> bool {
    let idle = now.saturating_duration_since(session.last_active).max(
        wall.duration_since(session.last_active_wall)
            .unwrap_or_default(),
    );
    minutes > 0 && idle > Duration::from_secs(u64::from(minutes) * 60) + TOUCH_SLACK
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
    let (now, wall) = (Instant::now(), SystemTime::now());
    let member = s
        .staff_member(&current.who.staff_id)
        .ok()
        .filter(|m| m.active && m.id == current.who.staff_id);
    let Some(member) = member else {
        *session = None;
        return Ok(None);
    };
    if expired(current, lock_after_minutes(s)?, now, wall) {
        *session = None;
        return Ok(None);
    }
    // A manager may have renamed them or changed their role (here or on
    // another till, by sync): the till shows who they are now.
    current.who.name = member.name;
    current.who.role = member.role;
    if touch {
        current.last_active = now;
        current.last_active_wall = wall;
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

    fn cal() -> Session {
        Session::new(SignedIn {
            staff_id: "s1".into(),
            name: "Cal".into(),
            role: "cashier".into(),
        })
    }

    #[test]
    fn a_sign_in_lapses_after_the_idle_time_and_its_slack_never_with_zero() {
        let session = cal();
        let (start, wall) = (session.last_active, session.last_active_wall);
        let five = Duration::from_secs(300);
        assert!(!expired(&session, 5, start + five, wall + five));
        assert!(!expired(
            &session,
            5,
            start + five + TOUCH_SLACK,
            wall + five + TOUCH_SLACK
        ));
        let past = five + TOUCH_SLACK + Duration::from_secs(1);
        assert!(expired(&session, 5, start + past, wall + past));
        let day = Duration::from_secs(86_400);
        assert!(!expired(&session, 0, start + day, wall + day));
    }

    #[test]
    fn a_sign_in_lapses_over_a_sleep_and_not_when_the_wall_clock_goes_back() {
        let session = cal();
        let (start, wall) = (session.last_active, session.last_active_wall);
        // Asleep for an hour: the monotonic clock stood still (Linux,
        // macOS), the wall clock did not.
        let hour = Duration::from_secs(3_600);
        assert!(expired(&session, 5, start, wall + hour));
        // The wall clock set back an hour: idle time still counts.
        let past = Duration::from_secs(300) + TOUCH_SLACK + Duration::from_secs(1);
        assert!(expired(&session, 5, start + past, wall - hour));
        assert!(!expired(
            &session,
            5,
            start + Duration::from_secs(60),
            wall - hour
        ));
    }

    #[test]
    fn a_role_changed_by_a_manager_shows_in_the_sign_in_and_deactivation_ends_it() {
        use shopsync_core::InitOptions;
        use shopsync_core::staff::{NewStaff, Pin, StaffRole};
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::init(
            &dir.path().join("shop.db"),
            InitOptions {
                store_name: "Shop".into(),
                till_name: "Till 1".into(),
                currency: "EUR".into(),
            },
        )
        .unwrap();
        let ann = s
            .add_staff(NewStaff {
                name: "Ann".into(),
                role: StaffRole::Manager,
                pin: Pin::parse("1111").unwrap(),
            })
            .unwrap()
            .id;
        let by_ann = Some(Operator::new(ann));
        let cal = s
            .acting(by_ann.clone(), |s| {
                s.add_staff(NewStaff {
                    name: "Cal".into(),
                    role: StaffRole::Cashier,
                    pin: Pin::parse("3333").unwrap(),
                })
            })
            .unwrap();
        let mut session = Some(Session::new(SignedIn {
            staff_id: cal.id.clone(),
            name: cal.name.clone(),
            role: cal.role.clone(),
        }));
        s.acting(by_ann.clone(), |s| {
            s.set_staff_role(&cal.id, StaffRole::Supervisor)
        })
        .unwrap();
        let op = operator(&s, &mut session, false).unwrap();
        assert_eq!(op.map(|o| o.staff), Some(cal.id.clone()));
        let shown = view(&s, &session).unwrap().signed_in.unwrap();
        assert_eq!(shown.role, "supervisor");
        s.acting(by_ann, |s| s.deactivate_staff(&cal.id)).unwrap();
        assert!(operator(&s, &mut session, false).unwrap().is_none());
        assert!(session.is_none());
    }
}
