//! Reordering and purchase orders (issue 10): what the core returns to the
//! CLI and, later, the app.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Amount;
use crate::views::StockLevel;

/// Derived from an order's records: closed once any till closed it, else
/// received when nothing is outstanding, else partially received once
/// anything arrived, else open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseOrderStatus {
    Open,
    PartiallyReceived,
    Received,
    Closed,
}

impl PurchaseOrderStatus {
    pub const ALL: [PurchaseOrderStatus; 4] = [
        PurchaseOrderStatus::Open,
        PurchaseOrderStatus::PartiallyReceived,
        PurchaseOrderStatus::Received,
        PurchaseOrderStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseOrderStatus::Open => "open",
            PurchaseOrderStatus::PartiallyReceived => "partially_received",
            PurchaseOrderStatus::Received => "received",
            PurchaseOrderStatus::Closed => "closed",
        }
    }

    /// Whether more goods are expected on the order.
    pub fn expects_goods(self) -> bool {
        matches!(
            self,
            PurchaseOrderStatus::Open | PurchaseOrderStatus::PartiallyReceived
        )
    }
}

impl std::fmt::Display for PurchaseOrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One product of an order. `outstanding` = max(0, ordered − received);
/// `over` is what arrived beyond the order (shown, never hidden). A product
/// received against the order without being on it has `ordered` 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderLineView {
    pub product_id: String,
    /// Empty when the product is not in this till's catalog (yet).
    pub sku: String,
    pub name: String,
    pub ordered: i64,
    pub received: i64,
    pub outstanding: i64,
    pub over: i64,
    /// The expected cost of one unit, as ordered.
    pub unit_cost: Option<Amount>,
    /// ordered × unit cost.
    pub line_total: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderView {
    pub id: String,
    pub supplier_id: String,
    pub supplier_name: Option<String>,
    pub till_id: String,
    pub created_at: DateTime<Utc>,
    pub note: Option<String>,
    pub status: PurchaseOrderStatus,
    pub lines: Vec<PurchaseOrderLineView>,
    /// Sum of the line totals that have a cost.
    pub total: Amount,
    /// Receipts recorded against the order, on any till.
    pub receipts: Vec<String>,
    /// The first close (by time, then id), when closed.
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
}

/// An order in a list: no lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderSummary {
    pub id: String,
    pub supplier_id: String,
    pub supplier_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub status: PurchaseOrderStatus,
    pub lines: u64,
    pub ordered: i64,
    pub outstanding: i64,
    pub total: Amount,
}

/// A product at or below its reorder point, with what to order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReorderLine {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    /// On hand less what is reserved for accepted pickup orders.
    pub available: i64,
    pub reorder_point: i64,
    pub reorder_target: Option<i64>,
    /// Units sold in the last 28 store days (today included).
    pub sold_28_days: i64,
    /// Still expected on open purchase orders.
    pub on_order: i64,
    /// What to order now (see docs/DOCUMENTS.md, "Reordering"); 0 when
    /// what is on order already covers it.
    pub suggested: i64,
    pub unit_cost: Option<Amount>,
}

/// The reorder list of one supplier (`supplier_id` `None`: products
/// without a supplier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReorderGroup {
    pub supplier_id: Option<String>,
    pub supplier_name: Option<String>,
    pub lines: Vec<ReorderLine>,
}

/// Products at or below their reorder point by available stock now: what
/// the app polls after each sync for its badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LowStockAlerts {
    pub count: u64,
    pub products: Vec<StockLevel>,
}

// --- what the app sends (IPC inputs) -----------------------------------------

/// One line of an order or of a delivery against one, as typed in the app:
/// the cost is text in the store currency's plain form ("2.50"; the page
/// reads the cashier's way of writing it first), empty for none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoLineInput {
    pub code: String,
    pub qty: i64,
    #[serde(default)]
    pub unit_cost: Option<String>,
}

/// A new purchase order for one supplier: the lines given, and with
/// `from_reorder` the supplier's reorder suggestions for every product not
/// given by hand (a line given wins over the suggestion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoCreateInput {
    pub supplier_id: String,
    #[serde(default)]
    pub lines: Vec<PoLineInput>,
    #[serde(default)]
    pub from_reorder: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// Purchase orders, newest first; only those of `status` when given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoListQuery {
    #[serde(default)]
    pub status: Option<PurchaseOrderStatus>,
}

/// A delivery against an order: units (and what each cost) per product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoReceiveInput {
    pub id: String,
    pub lines: Vec<PoLineInput>,
    /// Take products that are not on the order too.
    #[serde(default)]
    pub allow_extra: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoCloseInput {
    pub id: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Export an order as CSV to a file the person picks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoExportInput {
    pub id: String,
    pub picker: crate::ipc::PickerText,
}
