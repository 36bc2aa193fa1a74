//! Arguments and results of the desktop app's commands and events, shared by
//! the Tauri shell (`src-tauri`) and the wasm UI (`ui`). Money typed at the
//! till travels as the decimal text the cashier typed ("12.30"); the shell
//! parses it with the store's currency so the UI never does money arithmetic
//! it could get wrong.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Amount;
use crate::views::{StoreInfo, TenderKind};

/// Where the app's store file is and what is in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppStatus {
    pub db_path: String,
    /// `None` until a store is created or joined (first launch).
    pub store: Option<StoreInfo>,
    /// A long job (import, demo, rebuild) is running.
    pub busy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStoreInput {
    pub store_name: String,
    pub till_name: String,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// Joins the store in a bundle file, which the app asks for with a file picker.
pub struct JoinInput {
    pub till_name: String,
    pub picker: PickerText,
}

/// The words on a file picker, in the cashier's language (the page has the
/// message files; the shell opens the picker and chooses the file types).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickerText {
    pub title: String,
    /// The name of the files the picker offers ("CSV files").
    pub kind: String,
    /// The name of the filter that shows every file.
    pub all_files: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchInput {
    pub query: String,
    pub limit: u32,
    #[serde(default)]
    pub include_archived: bool,
}

/// One line of the cart as the till holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLineInput {
    /// SKU or barcode.
    pub code: String,
    pub qty: i64,
    /// A typed price instead of the catalog price (decimal text).
    #[serde(default)]
    pub unit_price: Option<String>,
    #[serde(default)]
    pub override_reason: Option<String>,
    /// Line discount in basis points (1000 = 10 %).
    #[serde(default)]
    pub discount_bp: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenderInput {
    pub kind: TenderKind,
    /// Decimal text, as typed.
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SellInput {
    pub lines: Vec<CartLineInput>,
    pub tenders: Vec<TenderInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkInput {
    pub label: String,
    pub lines: Vec<CartLineInput>,
}

/// A cart put aside at the till (local to this till; survives restarts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedCart {
    pub id: String,
    pub label: String,
    pub parked_at: DateTime<Utc>,
    pub lines: Vec<CartLineInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductInput {
    pub sku: String,
    pub name: String,
    pub price: String,
    #[serde(default)]
    pub cost: Option<String>,
    #[serde(default)]
    pub barcodes: Vec<String>,
    #[serde(default)]
    pub tax_class: Option<String>,
    #[serde(default)]
    pub supplier: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub reorder_point: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditProductInput {
    /// The product's current SKU.
    pub sku: String,
    pub product: ProductInput,
}

/// What a command that asks for a file with the system's file picker did,
/// once a file was chosen: the file, and the command's own result. The
/// command answers `None` when the picker was cancelled (nothing happened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Picked<T> {
    pub path: String,
    pub result: T,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockQuery {
    /// Matches SKU or name (case-insensitive substring); empty for all.
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub low_only: bool,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiveLineInput {
    pub code: String,
    pub qty: i64,
    #[serde(default)]
    pub unit_cost: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiveInput {
    #[serde(default)]
    pub supplier: Option<String>,
    pub lines: Vec<ReceiveLineInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustInput {
    pub code: String,
    pub delta: i64,
    /// damaged, lost, found or correction.
    pub reason: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountStartInput {
    pub whole_store: bool,
    #[serde(default)]
    pub codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRecordInput {
    pub count_id: String,
    pub code: String,
    pub counted: i64,
    /// The product was counted again (a new counted time); otherwise a
    /// line already recorded is a correction and keeps its counted time.
    #[serde(default)]
    pub recount: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdInput {
    pub id: String,
}

/// Print a saved sale's receipt on the till's thermal printer: right after
/// the sale (`copy` false: the drawer opens for cash), or a reprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintReceiptInput {
    /// The sale's id or receipt number.
    pub sale: String,
    #[serde(default)]
    pub copy: bool,
}

/// A panic or other failure inside the UI, for the shell's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UiErrorInput {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SalesQuery {
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub to: Option<NaiveDate>,
    #[serde(default)]
    pub sku: Option<String>,
    /// Only sales made by this staff member.
    #[serde(default)]
    pub staff_id: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLineInput {
    pub code: String,
    pub qty: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundInput {
    pub sale_id: String,
    /// Empty refunds everything not yet refunded.
    #[serde(default)]
    pub lines: Vec<RefundLineInput>,
    #[serde(default)]
    pub tender: Option<TenderKind>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateInput {
    pub date: NaiveDate,
}

/// A day's Z report, of one staff member's sales and refunds when
/// `staff_id` is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZReportInput {
    pub date: NaiveDate,
    #[serde(default)]
    pub staff_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRangeInput {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The day of the by-hour chart (default: `to`).
    #[serde(default)]
    pub day: Option<NaiveDate>,
}

/// One bar of a sales chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartBucket {
    /// "09" for an hour, "2026-11-21" for a day.
    pub label: String,
    pub sales: i64,
    pub total: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesChart {
    /// 24 buckets, hours 00–23 of `date` (local time).
    pub by_hour: Vec<ChartBucket>,
    /// One bucket per day of the range, oldest first.
    pub by_day: Vec<ChartBucket>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierInput {
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditSupplierInput {
    pub id: String,
    pub supplier: SupplierInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxClassInput {
    pub id: String,
    pub name: String,
    /// Percent as decimal text ("20", "5.5").
    pub rate: String,
    pub inclusive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub store_name: String,
    pub till_name: String,
    pub currency: String,
    pub receipt_header: String,
    pub receipt_footer: String,
    /// The shop publishes its catalog to customers (setting `publish`).
    #[serde(default)]
    pub publish: bool,
    /// What customers see of stock: "band" (in stock / low / out, the
    /// default) or "count" (setting `publish_detail`).
    #[serde(default)]
    pub publish_detail: String,
    /// The receipt printer's paper: "58mm", "80mm" (the default) or "a4"
    /// (setting `receipt_paper`).
    #[serde(default)]
    pub receipt_paper: String,
    /// The store's time zone, an IANA name; empty: each machine's own
    /// (setting `time_zone`).
    #[serde(default)]
    pub time_zone: String,
    /// Minutes without input before the till locks (0: never; setting
    /// `lock_after_minutes`, 5 when unset). Only matters with staff.
    #[serde(default)]
    pub lock_after_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsInput {
    pub store_name: String,
    pub till_name: String,
    pub receipt_header: String,
    pub receipt_footer: String,
    #[serde(default)]
    pub publish: bool,
    /// "band" or "count"; empty leaves it as it is.
    #[serde(default)]
    pub publish_detail: String,
    /// "58mm", "80mm" or "a4"; empty leaves it as it is.
    #[serde(default)]
    pub receipt_paper: String,
    /// An IANA zone name, or empty for each machine's own zone; `None`
    /// leaves it as it is.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Minutes as typed (a whole number, 0: never lock); `None` leaves it
    /// as it is.
    #[serde(default)]
    pub lock_after_minutes: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    Online,
    Syncing,
    Offline,
    Error,
}

/// What the always-visible sync indicator shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatusView {
    pub state: SyncState,
    /// Local changes the server has not acknowledged yet.
    pub pending_changes: u64,
    #[serde(default)]
    pub last_sync: Option<DateTime<Utc>>,
    #[serde(default)]
    pub message: Option<String>,
    // -- clocks (issue 7, part 2) --
    /// One line per till whose records arrived dated too far ahead of this
    /// till's clock (which till, by how much), and per device whose changes
    /// this till holds from a bundle while the server does not.
    #[serde(default)]
    pub clock_warnings: Vec<String>,
    // -- quarantine (issue 7, part 3) --
    /// Records received from other tills that are kept but left out of the
    /// projections because they break a rule (see docs/DOCUMENTS.md).
    #[serde(default)]
    pub quarantined: u64,
    /// The first few of them, for a tooltip or a details panel.
    #[serde(default)]
    pub quarantine: Vec<crate::QuarantinedRecord>,
    // money: till-role devices do not edit the catalog
    /// This device is enrolled as a till: catalog edits are refused (the app
    /// hides its catalog controls).
    #[serde(default)]
    pub catalog_read_only: bool,
}

/// Enrol this till with a sync server (a new till downloads the store; a
/// till with a store uploads it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolInput {
    pub server: String,
    /// The one-time enrolment code from the shop's manager.
    pub code: String,
    pub till_name: String,
}

/// Event `job-progress`: progress of a long job (import, demo, rebuild).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProgress {
    pub job: String,
    pub stage: String,
    pub done: u64,
    pub total: u64,
}

/// Event name for [`JobProgress`].
pub const EVENT_JOB_PROGRESS: &str = "job-progress";
/// Event name for [`SyncStatusView`], sent by the background sync after
/// every attempt.
pub const EVENT_SYNC_STATE: &str = "sync-state";
/// Event name sent (no payload) when the data changed behind the UI's back
/// (a long job finished, a sync brought changes).
pub const EVENT_DATA_CHANGED: &str = "data-changed";

// money: merge two products sharing a SKU ------------------------------------

/// Merge `other` into `keep` (ids): `other` is archived, its barcodes and
/// stock on hand move to `keep`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeProductsInput {
    pub keep: String,
    pub other: String,
}

// pickup orders at the till ---------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrdersQuery {
    /// Every order, not only the open ones (sent, accepted, ready).
    #[serde(default)]
    pub all: bool,
}

/// Accept an order; `unavailable` names the lines the shop cannot supply
/// (by SKU or line number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAcceptInput {
    pub id: String,
    #[serde(default)]
    pub unavailable: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRejectInput {
    pub id: String,
    /// What the customer is told.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCollectInput {
    pub id: String,
    pub tenders: Vec<TenderInput>,
}

/// An order collected at the till: the order, and the sale it became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCollected {
    pub order: crate::OrderView,
    pub receipt: crate::SaleReceipt,
}

// --- Settings → About (what a desktop app owes its users) ---------------------

/// The build and where this till keeps its files: what support asks first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AboutView {
    pub name: String,
    pub version: String,
    /// The git commit it was built from (short), or "unknown".
    pub commit: String,
    /// `YYYY-MM-DD`.
    pub build_date: String,
    /// Operating system and architecture.
    pub platform: String,
    pub db_path: String,
    /// Where the log files are; `None` when they could not be set up (the
    /// log then goes to stderr only).
    pub log_dir: Option<String>,
}

/// The diagnostics block for support, and whether it reached the clipboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticsView {
    pub text: String,
    pub copied: bool,
    /// Why the clipboard refused it (the text is shown on screen anyway).
    pub copy_error: Option<String>,
}

// --- staff: sign-in, the idle lock, approvals (issue 10) -------------------------

/// Who works this till now, as the shell keeps it (never a PIN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub staff_id: String,
    pub name: String,
    /// `cashier`, `supervisor` or `manager`.
    pub role: String,
}

/// The till's sign-in state: with no active staff nobody signs in and
/// nothing is asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffSession {
    pub staff_exist: bool,
    pub signed_in: Option<SignedIn>,
    /// Minutes without input before the till locks; 0: never.
    pub lock_after_minutes: u32,
    /// This device may write the catalog (staff are edited only on one
    /// that may: a device enrolled as a till may not).
    pub catalog_writable: bool,
}

/// A PIN typed on the pad.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinInput {
    pub pin: String,
}

impl std::fmt::Debug for PinInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinInput(****)")
    }
}

/// A staff member as Settings lists them (never a PIN or its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    pub id: String,
    pub name: String,
    pub role: String,
    pub active: bool,
}

/// A new staff member: the PIN typed twice, so a slip is caught.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStaffInput {
    pub name: String,
    pub role: String,
    pub pin: String,
    pub pin_again: String,
}

impl std::fmt::Debug for NewStaffInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewStaffInput")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRoleInput {
    pub id: String,
    pub role: String,
}

/// A staff member's new PIN, typed twice.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffPinInput {
    pub id: String,
    pub pin: String,
    pub pin_again: String,
}

impl std::fmt::Debug for StaffPinInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffPinInput")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
