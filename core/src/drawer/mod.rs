//! Cash drawer sessions (issue 10): a till's drawer is opened with a counted
//! float, takes cash in and out (sales, refunds, pay-ins, pay-outs), and is
//! closed with a count. Everything is a ledger record of this till
//! ([`records`]); what the drawer should hold is always computed from the
//! projections ([`report`]), never kept as a running number.
//!
//! - [`denominations`]: the notes and coins of each currency;
//! - [`records`]: the three record kinds; [`rules`]: their record rules;
//! - [`project`]: their projection; [`session`]: which session is open;
//! - [`ops`]: opening, cash in/out and closing; [`report`]: X/Z reports.

pub mod denominations;
pub mod ops;
pub mod project;
pub mod records;
pub mod report;
pub mod rules;
pub mod session;

pub use ops::ClosingCount;
pub use report::{DrawerReport, SessionState};
pub use session::CashSessions;
