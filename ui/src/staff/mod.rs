//! Staff at the till: the PIN pad (`pin_pad.rs`), the sign-in screen
//! (`sign_in.rs`), the approval dialog (`approval.rs`) and the idle lock
//! (`idle.rs`). Who is signed in lives in the shell; this keeps what it
//! last said, so any answer "sign in first" brings the PIN pad back.

pub mod approval;
pub mod idle;
pub mod pin_pad;
pub mod sign_in;

use std::cell::Cell;

use leptos::prelude::*;
use shopsync_types::ipc::StaffSession;

thread_local! {
    /// The app's sign-in state (registered by the app when it starts).
    static SESSION: Cell<Option<RwSignal<Option<StaffSession>>>> = const { Cell::new(None) };
}

/// Makes `session` the state [`signed_out`] updates.
pub fn register(session: RwSignal<Option<StaffSession>>) {
    SESSION.with(|s| s.set(Some(session)));
}

/// The shell said nobody is signed in: show the PIN pad.
pub fn signed_out() {
    if let Some(session) = SESSION.with(Cell::get) {
        session.update(lapse);
    }
}

/// `s` after the shell answered "sign in first". That answer means staff
/// exist, even when the UI last heard of none (the first staff member came
/// by sync while the app was open, or the session was never read): the PIN
/// pad must show, not an error over a screen that keeps writing.
fn lapse(s: &mut Option<StaffSession>) {
    match s.as_mut() {
        Some(s) => {
            s.signed_in = None;
            s.staff_exist = true;
        }
        None => {
            *s = Some(StaffSession {
                staff_exist: true,
                signed_in: None,
                // Locked already; the sign-in brings the shell's values.
                lock_after_minutes: 0,
                catalog_writable: true,
            })
        }
    }
}

/// Whether the PIN pad must show: staff exist and nobody is signed in.
pub fn locked(s: &Option<StaffSession>) -> bool {
    s.as_ref()
        .is_some_and(|s| s.staff_exist && s.signed_in.is_none())
}

/// Whether the one at the till may manage the store (a manager, or
/// anyone on a store without staff).
pub fn is_manager(s: &Option<StaffSession>) -> bool {
    match s {
        Some(s) if s.staff_exist => s.signed_in.as_ref().is_some_and(|w| w.role == "manager"),
        _ => true,
    }
}

/// A role's name in the cashier's language.
pub fn role_label(role: &str) -> String {
    match role {
        "cashier" => tr!("staff-role-cashier"),
        "supervisor" => tr!("staff-role-supervisor"),
        "manager" => tr!("staff-role-manager"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_required_locks_the_till_even_when_it_knew_of_no_staff() {
        let mut none_known = Some(StaffSession {
            staff_exist: false,
            signed_in: None,
            lock_after_minutes: 5,
            catalog_writable: true,
        });
        lapse(&mut none_known);
        assert!(locked(&none_known));
        let mut never_read = None;
        lapse(&mut never_read);
        assert!(locked(&never_read));
    }
}
