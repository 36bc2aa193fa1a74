//! Cash drawer sessions (issue 10) across the IPC boundary: what the till's
//! Drawer screen sends (money as the typed decimal text, parsed by the
//! shell with the store's currency) and the X/Z reports it shows.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Amount;

/// The `field` of an error that an open drawer session would have avoided
/// (a cash sale with `cash_sessions = required`, cash in/out or a close
/// with none open): the UI offers the way to the Drawer screen.
pub const DRAWER_SESSION_FIELD: &str = "drawer_session";

/// Open a session with the float counted into the drawer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerOpenInput {
    pub float: String,
}

/// Cash in or out of the open session's drawer; the reason is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerMoveInput {
    pub amount: String,
    pub reason: String,
}

/// How many of one note or coin were counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerCountInput {
    /// The note or coin's value as decimal text ("20.00").
    pub denomination: String,
    pub count: i64,
}

/// Close the open session: the count by note and coin, or (a currency
/// without a table of notes and coins) the counted total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerCloseInput {
    #[serde(default)]
    pub counts: Vec<DrawerCountInput>,
    #[serde(default)]
    pub counted_total: Option<String>,
}

/// A Z report of a store day: this till's sessions, or every till's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerDayInput {
    pub date: NaiveDate,
    pub whole_store: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrawerSessionState {
    Open,
    Closed,
}

/// A pay-in or pay-out of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerMovementView {
    pub at: DateTime<Utc>,
    /// `in` or `out`.
    pub direction: String,
    pub amount: Amount,
    pub reason: String,
    /// Who moved the cash (their name; `None` on a till without staff).
    pub by: Option<String>,
}

/// One line of a closing count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerCountLine {
    pub denomination: Amount,
    pub count: i64,
    pub total: Amount,
}

/// One session: its X report while open, its Z report once closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerSessionView {
    pub session_id: String,
    pub till_id: String,
    pub state: DrawerSessionState,
    pub opened_at: DateTime<Utc>,
    /// Who opened it (their name; `None` on a till without staff).
    pub opened_by: Option<String>,
    pub float: Amount,
    pub sales_count: i64,
    /// Cash tendered minus change given.
    pub cash_sales: Amount,
    pub refunds_count: i64,
    pub cash_refunds: Amount,
    pub cash_in: Amount,
    pub cash_out: Amount,
    pub movements: Vec<DrawerMovementView>,
    /// What the drawer should hold.
    pub expected: Amount,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub counted: Option<Amount>,
    /// Counted − expected: below zero the drawer is short.
    pub over_short: Option<Amount>,
    /// What the till expected when it closed, when records of the session
    /// arrived later and changed it.
    pub expected_at_close: Option<Amount>,
    pub denominations: Vec<DrawerCountLine>,
}

/// The Drawer screen's state: this till's open session, if any, and
/// whether cash sales need one (store setting `cash_sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerStatusView {
    pub session: Option<DrawerSessionView>,
    pub required: bool,
    /// The store currency's notes and coins, largest first (empty: the
    /// close form asks for the counted total).
    pub denominations: Vec<Amount>,
}

/// The Z report of a store day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerDayView {
    pub date: NaiveDate,
    /// `None`: every till of the store.
    pub till_id: Option<String>,
    pub sessions: Vec<DrawerSessionView>,
    pub float: Amount,
    pub cash_sales: Amount,
    pub cash_refunds: Amount,
    pub cash_in: Amount,
    pub cash_out: Amount,
    pub expected: Amount,
    pub counted: Amount,
    pub over_short: Amount,
}

// printing drawer reports on the thermal printer (issue 10)
/// Which drawer report to print on this till's thermal printer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DrawerPrintInput {
    /// This till's open session (its X report).
    Open,
    /// One session, of any till (X while open, Z once closed).
    Session { session_id: String },
    /// The Z report of a store day (this till's sessions or every till's).
    Day { date: NaiveDate, whole_store: bool },
}
