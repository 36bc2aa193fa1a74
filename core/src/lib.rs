//! ShopSync's core: the documents, the till's local store, every operation,
//! the projections and bundles. It knows nothing of Tauri or HTTP servers.

pub mod access;
pub mod bundle;
pub mod catalog;
pub mod change_bytes;
pub mod clock;
pub mod csv_io;
pub mod customer;
pub mod customer_store;
pub mod db;
pub mod demo;
pub mod docs;
pub mod error;
pub mod ids;
pub mod ops;
pub mod orders;
pub mod pricing;
pub mod projection;
pub mod public_catalog;
pub mod quarantine;
pub mod queries;
pub mod rebuild;
pub mod records;
pub mod refund_conflicts;
pub mod store;
pub mod store_file;
pub mod sync;
pub mod validate;

pub use customer_store::CustomerStore;
pub use error::{CoreError, Result};
pub use ops::*;
pub use queries::SalesFilter;
pub use records::AdjustReason;
pub use shopsync_types as types;
pub use store::{InitOptions, Store};
