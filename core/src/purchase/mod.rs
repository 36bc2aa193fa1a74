//! Reordering and purchase orders (issue 10). Orders are built from ledger
//! records, never edited, so they work offline and converge across tills
//! like stock does: a `purchase_order` record, receipts naming it, and
//! `purchase_order_close` records, from any till. An order's status and
//! what is outstanding are derived from whatever records a till has.

pub mod costs;
pub mod records;
pub(crate) mod validate;

mod export;
mod ops;
pub(crate) mod project;
pub mod read;
pub mod reorder;
pub(crate) mod upgrade;

pub use ops::OrderLineInput;
