//! Checking an operation against the roles of who is acting.

use rusqlite::{Connection, OptionalExtension};

use super::Operator;
use super::permissions::{
    Action, DISCOUNT_LIMIT_SETTING, Limits, REFUND_LIMIT_SETTING, StaffRole, required_role,
};
use crate::error::{CoreError, Result};

/// What an authorized operation records: who made it and, when their role
/// needed one, who approved it. Both `None` on a store without staff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    pub staff_id: Option<String>,
    pub approver_id: Option<String>,
}

/// Whether the store has any active staff member (else nothing is asked).
pub(crate) fn staff_exist(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM staff WHERE active = 1 LIMIT 1")?
        .exists([])?)
}

pub(crate) fn limits(conn: &Connection) -> Result<Limits> {
    let setting = |key: &str| -> Result<Option<String>> {
        Ok(conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    };
    Ok(Limits {
        cashier_refund: setting(REFUND_LIMIT_SETTING)?
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0),
        cashier_discount_bp: setting(DISCOUNT_LIMIT_SETTING)?
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0),
    })
}

/// The role of an active staff member; an inactive or unknown id, or a
/// role this version does not know, is refused.
fn active_role(conn: &Connection, id: &str, who: &str) -> Result<StaffRole> {
    let row: Option<(String, String, bool)> = conn
        .prepare_cached("SELECT name, role, active FROM staff WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    match row {
        Some((_, role, true)) => role.parse().map_err(|_| {
            CoreError::NotPermitted(format!(
                "the {who}'s role '{role}' is not one this version knows"
            ))
        }),
        Some((name, _, false)) => Err(CoreError::NotPermitted(format!(
            "the {who} ({name}) is no longer active"
        ))),
        None => Err(CoreError::not_found("staff member", id)),
    }
}

/// Checks `actions` against the operator's role, and the approver's for
/// what that role may not do alone. A store without active staff allows
/// everything and records nobody.
pub(crate) fn authorize(
    conn: &Connection,
    actions: &[Action],
    operator: Option<&Operator>,
) -> Result<Attribution> {
    if !staff_exist(conn)? {
        return Ok(Attribution::default());
    }
    // Two devices offline can each deactivate or demote a different
    // manager, leaving active staff and no manager after the merge: then
    // staff and catalog edits are open (to a device that may write the
    // catalog, as with no staff at all), so a manager can be named again.
    if actions
        .iter()
        .all(|a| matches!(a, Action::ManageStaff | Action::EditCatalog))
        && !manager_exists(conn)?
    {
        return Ok(Attribution {
            staff_id: operator.map(|o| o.staff.clone()),
            approver_id: None,
        });
    }
    let Some(op) = operator else {
        return Err(CoreError::SignInRequired);
    };
    let role = active_role(conn, &op.staff, "staff member")?;
    let limits = limits(conn)?;
    let mut approver_used = false;
    for &action in actions {
        let needed = required_role(action, &limits);
        if role >= needed {
            continue;
        }
        let Some(approver) = &op.approver else {
            return Err(CoreError::ApprovalNeeded {
                role: needed.as_str().to_string(),
                message: format!(
                    "a {role} may not do {} alone: a {needed}{} must approve it with their PIN",
                    action.describe(),
                    if needed == StaffRole::Manager {
                        ""
                    } else {
                        " or manager"
                    }
                ),
            });
        };
        let approver_role = active_role(conn, approver, "approver")?;
        if approver_role < needed {
            return Err(CoreError::NotPermitted(format!(
                "a {approver_role} may not approve {}: it needs a {needed}",
                action.describe()
            )));
        }
        approver_used = true;
    }
    Ok(Attribution {
        staff_id: Some(op.staff.clone()),
        approver_id: approver_used.then(|| op.approver.clone()).flatten(),
    })
}

fn manager_exists(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM staff WHERE active = 1 AND lower(role) = 'manager'")?
        .exists([])?)
}
