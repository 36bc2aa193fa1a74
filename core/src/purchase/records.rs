//! The ledger records of purchasing (issue 10): a purchase order and the
//! close of one. Like every ledger record they are immutable and appended
//! by the till that makes them; receipts of goods against an order are
//! ordinary receipt records naming it (`ReceiptRecord::order_id`).

use serde::{Deserialize, Serialize};

/// An order for goods from one supplier. Each product appears on one line
/// at most, so a receipt line names its order line by product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderRecord {
    pub id: String,
    pub at: i64,
    pub supplier_id: String,
    pub lines: Vec<PurchaseOrderLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Causal stamp (hybrid logical clock, see `crate::clock`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    /// The staff member who made the record (`staff/{id}` in the catalog).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    /// The staff member whose PIN approved it, when the maker's role may not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderLine {
    pub product_id: String,
    /// Units ordered, at least 1.
    pub qty: i64,
    /// The expected cost of one unit in minor units, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_cost: Option<i64>,
}

/// "Nothing more is expected on this order": cancels what is outstanding
/// (or marks a fully received order done). Any till may close any order;
/// two closes of one order are both kept, and the order is closed once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderCloseRecord {
    pub id: String,
    pub at: i64,
    pub order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Causal stamp (hybrid logical clock, see `crate::clock`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
}
