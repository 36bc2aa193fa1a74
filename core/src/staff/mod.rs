//! Staff members, their PINs and what their roles allow.
//!
//! Staff live in the catalog document as `staff/{id}` (name, role, PIN
//! hash, active), edited like every catalog entity: only from a device
//! allowed to write the catalog, by a manager. A store without active staff
//! works as before, with no PIN asked. Once one active staff member exists,
//! every ledger write and catalog edit needs an [`Operator`]: the staff
//! member signed in (found by PIN, [`crate::Store::staff_by_pin`]) and,
//! for what their role may not do alone, an approver. Records carry both
//! ids.

mod authorize;
mod backfill;
mod history;
mod lockout;
mod ops;
pub mod permissions;
pub mod pin;

use serde::Serialize;

pub use authorize::Attribution;
pub(crate) use authorize::authorize;
pub(crate) use backfill::{DUE as BACKFILL_DUE, backfill};
pub use history::RefundSummary;
pub use lockout::{LOCKOUT_MS, MAX_WRONG_PINS};
pub use ops::NewStaff;
pub(crate) use ops::project as project_staff;
pub use permissions::{Action, Limits, StaffRole};
pub use pin::Pin;

/// Who is acting at the till: the staff member signed in and, for one
/// operation their role may not do alone, the staff member who approved it.
/// Both are staff ids, found by PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub staff: String,
    pub approver: Option<String>,
}

impl Operator {
    pub fn new(staff: impl Into<String>) -> Self {
        Operator {
            staff: staff.into(),
            approver: None,
        }
    }

    pub fn approved_by(mut self, approver: impl Into<String>) -> Self {
        self.approver = Some(approver.into());
        self
    }
}

/// A staff member as listed: never the PIN hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
    /// `cashier`, `supervisor` or `manager` (another text from a newer
    /// version is shown as is and allows nothing).
    pub role: String,
    pub active: bool,
    /// Fields edited concurrently on two devices (a manager picks a value).
    pub conflicts: Vec<String>,
}
