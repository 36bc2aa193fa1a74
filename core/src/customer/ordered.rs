//! Shops the customer has sent a pickup order to: one root key
//! `ordered/{store_id}` = `true` each, written with the order (in the same
//! transaction), so every device of the customer follows the order
//! documents with that shop, not only the device that sent it. Never
//! removed: an order's status matters after the shop stops being a
//! favourite.

use automerge::{AutoCommit, ROOT, ReadDoc, transaction::Transactable};

use super::input;
use crate::error::Result;

/// Root key prefix: `ordered/{store_id}`.
pub const ORDERED: &str = "ordered/";

/// Records that the customer ordered from `store_id` (nothing if known).
pub fn add(doc: &mut AutoCommit, store_id: &str) -> Result<()> {
    input::store_id("store_id", store_id)?;
    let key = format!("{ORDERED}{store_id}");
    if doc.get(ROOT, key.as_str())?.is_none() {
        doc.put(ROOT, key, true)?;
    }
    Ok(())
}

/// Every shop the customer ordered from, sorted.
pub fn list(doc: &AutoCommit) -> Vec<String> {
    doc.keys(ROOT)
        .filter_map(|k| k.strip_prefix(ORDERED).map(str::to_string))
        .collect()
}
