//! Quarantined records (issue 7, part 3): a record received from another till
//! that breaks a validation rule or that no projection can apply is kept in
//! its document, left out of every projection, and reported here.

use serde::{Deserialize, Serialize};

/// One quarantined record, as `sync status`, `rebuild --verify` and the app
/// show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantinedRecord {
    /// The document the record is in (`store/{store}/ledger/{till}/{period}`
    /// or the catalog).
    pub document: String,
    /// The record id (ledger) or root key (catalog) it was stored under.
    pub record: String,
    /// The till whose ledger holds it, if it is a ledger record.
    #[serde(default)]
    pub till: Option<String>,
    /// The rule it breaks (a short code such as `duplicate_line`).
    pub rule: String,
    /// What is wrong, in words.
    pub reason: String,
    /// When this till first quarantined it (milliseconds since the epoch).
    pub first_seen: i64,
}
