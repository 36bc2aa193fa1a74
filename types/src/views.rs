//! What queries and operations return. Amounts are [`Amount`]s (decimal strings
//! in JSON), quantities whole units, times UTC.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Amount;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreInfo {
    pub store_id: String,
    pub store_name: String,
    pub till_id: String,
    pub till_name: String,
    pub currency: String,
    /// The store's time zone (IANA name; empty: each machine's own zone).
    /// Report days follow it.
    #[serde(default)]
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub price: Amount,
    pub cost: Option<Amount>,
    pub barcodes: Vec<String>,
    pub tax_class: Option<String>,
    pub supplier: Option<String>,
    pub category: Option<String>,
    pub reorder_point: Option<i64>,
    pub active: bool,
    /// Fields edited concurrently on two devices; the shown value is one of
    /// them until a manager sets the field again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    // money: SKU clashes
    /// Ids of other products with the same SKU (created on two tills
    /// offline). Look-ups by SKU find only one of them: rename or merge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sku_clash: Vec<String>,
    /// The stock level a reorder brings the product back up to (purchasing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_target: Option<i64>,
}

/// A product category of the catalog. Archived categories stay on their
/// products but are offered nowhere new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub archived: bool,
    /// Active products in it.
    pub products: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supplier {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxClass {
    pub id: String,
    pub name: String,
    /// Rate in basis points: 2000 is 20 %.
    pub rate_bp: u32,
    /// Whether prices of this class already include the tax.
    pub inclusive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockStatus {
    Ok,
    Low,
    Negative,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub on_hand: i64,
    /// Units accepted pickup orders hold back.
    #[serde(default)]
    pub reserved: i64,
    /// On hand less reserved: what the shop can still sell or promise.
    #[serde(default)]
    pub available: i64,
    pub reorder_point: Option<i64>,
    pub status: StockStatus,
    pub last_counted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenderKind {
    Cash,
    Card,
    Other,
}

impl TenderKind {
    /// The kind a ledger's tender code names; a code from a newer version
    /// reads as `Other`.
    pub fn from_code(code: &str) -> TenderKind {
        match code {
            "cash" => TenderKind::Cash,
            "card" => TenderKind::Card,
            _ => TenderKind::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TenderKind::Cash => "cash",
            TenderKind::Card => "card",
            TenderKind::Other => "other",
        }
    }
}

/// One refund in a list (the Sales screen's refunds), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundListItem {
    pub refund_id: String,
    pub sale_id: String,
    /// The refunded sale's receipt number; `None` while that sale has not
    /// reached this till.
    pub sale_number: Option<String>,
    pub till_id: String,
    pub at: DateTime<Utc>,
    pub amount: Amount,
    pub tender: TenderKind,
    pub staff_id: Option<String>,
    pub approver_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenderView {
    pub kind: TenderKind,
    pub amount: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleSummary {
    pub sale_id: String,
    /// Human-readable receipt number: till name and sequence.
    pub number: String,
    pub till_id: String,
    pub at: DateTime<Utc>,
    pub items: i64,
    pub total: Amount,
    pub tax: Amount,
    pub refunded: Amount,
    // restore: sale numbers handed out twice.
    /// Other sales of the same till with the same number (a till restored
    /// from a backup, or a cloned disk, numbered them while it could not
    /// know of each other). Empty normally.
    #[serde(default)]
    pub same_number: Vec<String>,
    // money: refund conflicts
    /// More of a line was refunded than sold (two tills refunded the sale
    /// offline); `SaleDetail::refund_conflicts` says who refunded what.
    #[serde(default)]
    pub over_refunded: bool,
    // staff filter on the Sales screen (issue 10)
    /// Who made the sale (a staff id; `None` in records of older versions
    /// and stores without staff).
    #[serde(default)]
    pub staff_id: Option<String>,
    /// Who approved it, when the cashier's role needed an approval.
    #[serde(default)]
    pub approver_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLineView {
    pub line_no: u32,
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub qty: i64,
    pub unit_price: Amount,
    pub price_override_reason: Option<String>,
    pub discount: Amount,
    pub tax_class: Option<String>,
    pub tax_rate_bp: u32,
    pub tax: Amount,
    pub total: Amount,
    pub refunded_qty: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundSummary {
    pub refund_id: String,
    pub at: DateTime<Utc>,
    pub amount: Amount,
    pub tender: TenderKind,
    // money: refund conflicts
    /// The till that made the refund.
    #[serde(default)]
    pub till_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleDetail {
    #[serde(flatten)]
    pub summary: SaleSummary,
    pub subtotal: Amount,
    pub discount: Amount,
    pub lines: Vec<SaleLineView>,
    pub tenders: Vec<TenderView>,
    pub change: Amount,
    pub refunds: Vec<RefundSummary>,
    // money: refund conflicts
    /// Lines refunded more than sold, with every refund of each.
    #[serde(default)]
    pub refund_conflicts: Vec<RefundConflict>,
}

/// What `sell` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleReceipt {
    pub sale_id: String,
    pub number: String,
    pub total: Amount,
    pub tax: Amount,
    pub paid: Amount,
    pub change: Amount,
}

/// A cart priced without being recorded, for the till's running total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleQuote {
    pub lines: Vec<SaleLineView>,
    pub subtotal: Amount,
    pub discount: Amount,
    pub tax: Amount,
    pub total: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundReceipt {
    pub refund_id: String,
    pub sale_id: String,
    pub amount: Amount,
    pub tender: TenderKind,
    pub lines: Vec<RefundLineView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLineView {
    pub sku: String,
    pub qty: i64,
    pub amount: Amount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountStatus {
    Open,
    Posted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountLineView {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    /// Stock the till expected when the product was counted (or now, if not yet counted).
    pub expected: i64,
    /// `None` until counted; counted zero is `Some(0)`.
    pub counted: Option<i64>,
    pub difference: Option<i64>,
    /// Difference valued at cost (or price when there is no cost).
    pub difference_value: Option<Amount>,
    pub counted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountView {
    pub count_id: String,
    pub started_at: DateTime<Utc>,
    pub status: CountStatus,
    pub whole_store: bool,
    pub lines: Vec<CountLineView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxTotal {
    pub tax_class: Option<String>,
    pub rate_bp: u32,
    pub taxable: Amount,
    pub tax: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZReport {
    pub date: NaiveDate,
    pub sales_count: i64,
    pub items_sold: i64,
    pub gross_sales: Amount,
    pub discounts: Amount,
    pub tax: Vec<TaxTotal>,
    pub tenders: Vec<TenderView>,
    pub change_given: Amount,
    pub refunds_count: i64,
    pub refunds_total: Amount,
    pub refunds_by_tender: Vec<TenderView>,
    pub net_sales: Amount,
    /// Cash that should be in the drawer from the day's trade: cash taken,
    /// less change given, less cash refunded.
    pub cash_expected: Amount,
    // money: refund conflicts
    /// Sales refunded on this day whose refunds now exceed what was sold.
    #[serde(default)]
    pub over_refunded: Vec<OverRefundedSale>,
    /// What was refunded beyond the sold amounts of those sales.
    #[serde(default)]
    pub over_refunded_total: Amount,
    /// The staff member whose sales and refunds the report counts; `None`:
    /// everyone's. Over-refunded sales are the whole day's either way.
    #[serde(default)]
    pub staff_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleImportSummary {
    pub documents: u64,
    pub new_changes: u64,
    pub known_changes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub tables_compared: u64,
    pub rows_compared: u64,
    pub differences: Vec<String>,
    // -- quarantine (issue 7, part 3) --
    /// Records the rebuild left out of the projections (the same as the live
    /// store's when the two agree).
    #[serde(default)]
    pub quarantined: Vec<crate::QuarantinedRecord>,
}

/// Progress of long work (import, rebuild, demo data), for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub stage: String,
    pub done: u64,
    pub total: u64,
}

// money: refund conflicts -------------------------------------------------------

/// One refund's share of a sale line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundShare {
    pub refund_id: String,
    pub till_id: String,
    pub at: DateTime<Utc>,
    pub qty: i64,
    pub amount: Amount,
}

/// A sale line whose refunds add up to more than was sold: tills refunded
/// the same sale without seeing each other's refunds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundConflict {
    pub line_no: u32,
    pub sku: String,
    pub sold: i64,
    pub refunded: i64,
    /// Refunded beyond the line's total.
    pub excess_amount: Amount,
    pub refunds: Vec<RefundShare>,
}

/// A sale in the Z report whose refunds exceed what was sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverRefundedSale {
    pub sale_id: String,
    pub number: String,
    /// Units refunded beyond those sold, over all its lines.
    pub excess_qty: i64,
    pub excess_amount: Amount,
}

// -- favourites (issue 10) -----------------------------------------------------

/// A product on the Sell screen's favourites grid, which the shop picks
/// (products without barcodes, typically). Listed in the grid's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Favourite {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub price: Amount,
    /// Its place on the grid, 1 first.
    pub pos: i64,
}
