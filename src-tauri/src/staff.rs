//! Sign-in, sign-out and the staff list: thin commands over the core's
//! staff operations (the PIN check with its pause, the manager's edits).

use shopsync_core::staff::{NewStaff, Pin, StaffMember, StaffRole};
use shopsync_core::{CoreError, Result};
use shopsync_types::ipc::{
    NewStaffInput, PinInput, SignedIn, StaffPinInput, StaffRoleInput, StaffSession, StaffView,
};
use tauri::State;

use crate::session::{self, Session};
use crate::state::{AppState, CmdResult};

type S<'a> = State<'a, AppState>;

fn view(m: StaffMember) -> StaffView {
    StaffView {
        id: m.id,
        name: m.name,
        role: m.role,
        active: m.active,
    }
}

/// A new PIN typed twice: both the same, 4 to 8 digits.
fn new_pin(pin: &str, again: &str) -> Result<Pin> {
    let parsed = Pin::parse(pin)?;
    if pin.trim() != again.trim() {
        return Err(CoreError::invalid(
            "pin_again",
            "the two PINs differ: type the same PIN twice",
        ));
    }
    Ok(parsed)
}

/// Whether staff exist, who is signed in, the idle lock. A sign-in that
/// lapsed (idle, deactivated) shows as nobody.
#[tauri::command]
pub async fn staff_session(state: S<'_>) -> CmdResult<StaffSession> {
    state
        .with_session(|s, current| {
            session::operator(s, current, false)?;
            session::view(s, current)
        })
        .await
}

/// Signs in whoever's PIN this is (the core counts wrong PINs and pauses
/// PIN checks after five); the one signed in before is signed out.
#[tauri::command]
pub async fn sign_in(state: S<'_>, req: PinInput) -> CmdResult<StaffSession> {
    state
        .with_session(move |s, current| {
            let m = s.staff_by_pin(&req.pin)?;
            tracing::info!("staff member {} signed in", m.id);
            *current = Some(Session::new(SignedIn {
                staff_id: m.id,
                name: m.name,
                role: m.role,
            }));
            session::view(s, current)
        })
        .await
}

/// Locks the till: nobody is signed in until the next PIN.
#[tauri::command]
pub async fn sign_out(state: S<'_>) -> CmdResult<StaffSession> {
    state
        .with_session(|s, current| {
            *current = None;
            session::view(s, current)
        })
        .await
}

/// Input at the till (pointer or keys, sent at most every few seconds):
/// the sign-in stays fresh. Answers whether someone is still signed in.
#[tauri::command]
pub async fn staff_touch(state: S<'_>) -> CmdResult<bool> {
    state
        .with_session(|s, current| Ok(session::operator(s, current, true)?.is_some()))
        .await
}

#[tauri::command]
pub async fn staff_list(state: S<'_>) -> CmdResult<Vec<StaffView>> {
    state
        .with(|s| Ok(s.staff()?.into_iter().map(view).collect()))
        .await
}

#[tauri::command]
pub async fn add_staff(
    state: S<'_>,
    req: NewStaffInput,
    approve_pin: Option<String>,
) -> CmdResult<StaffView> {
    state
        .with_approval(approve_pin, move |s| {
            let role: StaffRole = req.role.parse()?;
            let pin = new_pin(&req.pin, &req.pin_again)?;
            s.add_staff(NewStaff {
                name: req.name,
                role,
                pin,
            })
            .map(view)
        })
        .await
}

#[tauri::command]
pub async fn set_staff_role(
    state: S<'_>,
    req: StaffRoleInput,
    approve_pin: Option<String>,
) -> CmdResult<StaffView> {
    state
        .with_approval(approve_pin, move |s| {
            let role: StaffRole = req.role.parse()?;
            s.set_staff_role(&req.id, role).map(view)
        })
        .await
}

#[tauri::command]
pub async fn set_staff_pin(
    state: S<'_>,
    req: StaffPinInput,
    approve_pin: Option<String>,
) -> CmdResult<StaffView> {
    state
        .with_approval(approve_pin, move |s| {
            let pin = new_pin(&req.pin, &req.pin_again)?;
            s.set_staff_pin(&req.id, &pin).map(view)
        })
        .await
}

#[tauri::command]
pub async fn deactivate_staff(
    state: S<'_>,
    req: shopsync_types::ipc::IdInput,
    approve_pin: Option<String>,
) -> CmdResult<StaffView> {
    state
        .with_approval(approve_pin, move |s| s.deactivate_staff(&req.id).map(view))
        .await
}
