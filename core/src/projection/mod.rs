//! Projections: SQL tables derived from the documents. They are updated in the
//! same transaction as the change that causes them, and can always be rebuilt
//! from the documents alone (`rebuild`), which must give exactly the same rows.

pub mod catalog;
pub mod id_clash;
pub mod ledger;
pub mod rebuild;
