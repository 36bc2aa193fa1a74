//! The drawer's ledger records (see docs/DOCUMENTS.md, "Drawer sessions").
//! Like every ledger record they carry `at`, `hlc` and who made them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// "This till's drawer was opened with `float` counted in it." The record's
/// `id` is the session's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerOpenRecord {
    pub id: String,
    pub at: i64,
    /// The counted float, minor units.
    pub float: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
}

/// Cash put into (`in`) or taken out of (`out`) the drawer, not for a sale
/// or refund: a bank drop, a supplier paid from the till.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveDirection {
    In,
    Out,
}

impl MoveDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            MoveDirection::In => "in",
            MoveDirection::Out => "out",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerMoveRecord {
    pub id: String,
    pub session_id: String,
    pub at: i64,
    pub direction: MoveDirection,
    /// Minor units, more than 0.
    pub amount: i64,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
}

/// "Session `session_id` was closed with `counted` in the drawer."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerCloseRecord {
    pub id: String,
    pub session_id: String,
    pub at: i64,
    /// The counted total, minor units.
    pub counted: i64,
    /// The count by note and coin: denomination (minor units) → how many.
    /// Empty when the total was counted directly.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub denominations: BTreeMap<i64, i64>,
    /// What the till computed the drawer should hold when it was closed
    /// (for the audit trail; reports compute it again from the records).
    pub expected: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
}
