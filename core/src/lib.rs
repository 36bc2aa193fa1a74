//! ShopSync's core: the documents, the till's local store, every operation,
//! the projections and bundles. It knows nothing of Tauri or HTTP servers.

// Without the `store` feature (see Cargo.toml) only the documents and their
// rules are built: what the customer's web app shares with the rest.
pub mod access;
#[cfg(feature = "store")]
pub mod bundle;
#[cfg(feature = "store")]
pub mod catalog;
#[cfg(feature = "store")]
pub mod catalog_edits;
#[cfg(feature = "store")]
pub mod change_bytes;
#[cfg(feature = "store")]
pub mod clock;
#[cfg(feature = "store")]
pub mod csv_io;
pub mod customer;
pub mod customer_device;
#[cfg(feature = "store")]
pub mod customer_store;
#[cfg(feature = "store")]
pub mod db;
#[cfg(feature = "store")]
pub mod demo;
#[cfg(feature = "store")]
pub mod docs;
#[cfg(feature = "store")]
pub mod drawer;
#[cfg(feature = "store")]
mod enrol_indexes;
pub mod error;
#[cfg(feature = "store")]
mod export_file;
pub mod ids;
mod ledger_tip;
#[cfg(feature = "store")]
pub mod ops;
pub mod orders;
#[cfg(feature = "store")]
pub mod pricing;
#[cfg(feature = "store")]
pub mod projection;
pub mod public_catalog;
/// Reordering and purchase orders (issue 10).
#[cfg(feature = "store")]
pub mod purchase;
#[cfg(feature = "store")]
pub mod quarantine;
#[cfg(feature = "store")]
pub mod queries;
#[cfg(feature = "store")]
pub mod rebuild;
#[cfg(feature = "store")]
pub mod receipt;
#[cfg(feature = "store")]
pub mod records;
#[cfg(feature = "store")]
pub mod refund_conflicts;
#[cfg(feature = "store")]
mod search;
#[cfg(feature = "store")]
pub mod staff;
#[cfg(feature = "store")]
pub mod store;
#[cfg(feature = "store")]
pub mod store_file;

/// Snapshots and WAL checkpoints on threads of their own.
#[cfg(feature = "store")]
mod snapshot_worker;
#[cfg(feature = "store")]
pub mod sync;
/// The customer's wire format alone (the web app's share of `sync`).
#[cfg(not(feature = "store"))]
pub mod sync {
    #[path = "customer_api.rs"]
    pub mod customer_api;
    #[path = "customer_wire.rs"]
    pub mod customer_wire;
    #[path = "wire.rs"]
    pub mod wire;
}
#[cfg(feature = "store")]
pub mod validate;
/// The rules' vocabulary alone (the web app checks its order records).
#[cfg(not(feature = "store"))]
pub mod validate {
    #[path = "rules.rs"]
    mod rules;
    pub use rules::*;
}

#[cfg(feature = "store")]
pub use customer_store::CustomerStore;
pub use error::{CoreError, Result};
#[cfg(feature = "store")]
pub use ops::*;
#[cfg(feature = "store")]
pub use purchase::OrderLineInput;
#[cfg(feature = "store")]
pub use queries::SalesFilter;
#[cfg(feature = "store")]
pub use records::AdjustReason;
pub use shopsync_types as types;
#[cfg(feature = "store")]
pub use store::{InitOptions, Snapshots, Store};
