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
        session.update(|s| {
            if let Some(s) = s.as_mut() {
                s.signed_in = None;
            }
        });
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
