//! Who is acting (staff PINs from `--pin`/`--approve-pin` or the
//! environment) and the `staff` commands.

use std::path::Path;

use shopsync_core::staff::{NewStaff, Operator, Pin, StaffMember, StaffRole};
use shopsync_core::{CoreError, Result, Store};

use crate::args::StaffCmd;
use crate::output::Output;

/// The PINs given for this run. Read from the environment when not on the
/// command line, so they need not appear in shell history.
#[derive(Default)]
pub struct Pins {
    pub pin: Option<String>,
    pub approve_pin: Option<String>,
}

impl Pins {
    pub fn new(pin: Option<String>, approve_pin: Option<String>) -> Pins {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Pins {
            pin: pin.or_else(|| env("SHOPSYNC_PIN")),
            approve_pin: approve_pin.or_else(|| env("SHOPSYNC_APPROVE_PIN")),
        }
    }
}

/// Opens the store with whoever the PINs name acting. No PIN is checked on
/// a store without staff.
pub fn open_as(db: &Path, pins: &Pins) -> Result<Store> {
    let mut store = Store::open(db)?;
    if !store.staff_exist()? {
        return Ok(store);
    }
    let Some(pin) = &pins.pin else {
        return Ok(store);
    };
    let mut op = Operator::new(store.staff_by_pin(pin)?.id);
    if let Some(approve) = &pins.approve_pin {
        op = op.approved_by(store.staff_by_pin(approve)?.id);
    }
    store.set_operator(Some(op));
    Ok(store)
}

/// The core's "sign in first", with how to on the command line.
pub fn explain(e: CoreError) -> CoreError {
    match e {
        CoreError::SignInRequired => CoreError::NotPermitted(
            "this store has staff: give your staff PIN with --pin or SHOPSYNC_PIN".into(),
        ),
        other => other,
    }
}

fn human(list: &[StaffMember]) -> String {
    if list.is_empty() {
        return "no staff: no PIN is asked on this store".into();
    }
    list.iter()
        .map(|m| {
            format!(
                "{:<24} {:<10} {:<8} {}{}\n",
                m.name,
                m.role,
                if m.active { "active" } else { "inactive" },
                m.id,
                if m.conflicts.is_empty() {
                    String::new()
                } else {
                    format!("  (conflicting edits: {})", m.conflicts.join(", "))
                }
            )
        })
        .collect()
}

fn one(m: &StaffMember) -> Result<Output> {
    Output::new(human(std::slice::from_ref(m)), m)
}

/// With staff on the store, the manager whose PIN approves acts.
fn act_as_manager(store: &mut Store, pins: &Pins) -> Result<()> {
    if !store.staff_exist()? {
        return Ok(());
    }
    let Some(approve) = &pins.approve_pin else {
        return Err(CoreError::NotPermitted(
            "staff are changed by a manager: give the manager's PIN with --approve-pin or SHOPSYNC_APPROVE_PIN".into(),
        ));
    };
    let manager = store.staff_by_pin(approve)?;
    store.set_operator(Some(Operator::new(manager.id)));
    Ok(())
}

/// The new PIN of `staff add` and `staff set-pin`: from `--pin` only,
/// never from the environment (which holds the acting member's).
fn new_pin(given: Option<&str>) -> Result<Pin> {
    Pin::parse(
        given.ok_or_else(|| {
            CoreError::invalid("pin", "give the new PIN with --pin (4 to 8 digits)")
        })?,
    )
}

pub fn run(db: &Path, cmd: StaffCmd, new: Option<&str>, pins: &Pins) -> Result<Output> {
    let mut store = Store::open(db)?;
    match cmd {
        StaffCmd::List => {
            let list = store.staff()?;
            Output::new(human(&list), &list)
        }
        StaffCmd::Add { name, role } => {
            let role = role.parse::<StaffRole>()?;
            let pin = new_pin(new)?;
            act_as_manager(&mut store, pins)?;
            one(&store.add_staff(NewStaff { name, role, pin })?)
        }
        StaffCmd::SetRole { staff, role } => {
            let role = role.parse::<StaffRole>()?;
            act_as_manager(&mut store, pins)?;
            one(&store.set_staff_role(&staff, role)?)
        }
        StaffCmd::SetPin { staff } => {
            let pin = new_pin(new)?;
            act_as_manager(&mut store, pins)?;
            one(&store.set_staff_pin(&staff, &pin)?)
        }
        StaffCmd::Deactivate { staff } => {
            act_as_manager(&mut store, pins)?;
            one(&store.deactivate_staff(&staff)?)
        }
    }
}
