//! Types shared by the core, the CLI's JSON output, the desktop shell and the
//! wasm UI. Nothing here touches SQLite, Automerge, files or the network, so the
//! crate builds for `wasm32-unknown-unknown` and both sides of the IPC boundary
//! agree on every shape.

pub mod customer;
pub mod drawer;
pub mod error;
pub mod ipc;
pub mod locale;
pub mod money;
pub mod orders;
pub mod printer;
pub mod purchasing;
pub mod quarantine;
pub mod views;
#[cfg(feature = "zone")]
pub mod zone;
// categories and favourites (issue 10)
pub mod categories;

pub use customer::{CustomerProfile, CustomerView, ItemWhat, ListItem, ShoppingList};
pub use error::{ErrorCode, ErrorInfo};
pub use locale::Locale;
pub use money::{Amount, Currency, MoneyError};
pub use orders::{
    Availability, OrderLineInput, OrderLineView, OrderStatus, OrderView, PublicCatalog,
    PublicProduct,
};
pub use printer::{PrintOutcome, PrinterSettings, PrinterSettingsEdit, ReceiptCode, ReceiptPaper};
pub use purchasing::{
    LowStockAlerts, PurchaseOrderLineView, PurchaseOrderStatus, PurchaseOrderSummary,
    PurchaseOrderView, ReorderGroup, ReorderLine,
};
pub use quarantine::QuarantinedRecord;
pub use views::*;
