//! Favourite shops: one root key `favourite/{store_id}` per shop, holding
//! `true`. Adding a favourite already there and removing one that is not
//! write nothing. Under concurrency the set is "add wins": a removal deletes
//! only the additions its device had seen, so a shop added on another device
//! at the same time stays.

use automerge::{AutoCommit, ROOT, ReadDoc, transaction::Transactable};

use super::{input, layout};
use crate::error::Result;

/// Adds a shop to the favourites (nothing happens if it is one already).
pub fn add(doc: &mut AutoCommit, store_id: &str) -> Result<()> {
    input::store_id("store_id", store_id)?;
    let key = layout::favourite_key(store_id);
    if doc.get(ROOT, key.as_str())?.is_none() {
        doc.put(ROOT, key, true)?;
    }
    Ok(())
}

/// Removes a shop from the favourites (nothing happens if it is not one).
pub fn remove(doc: &mut AutoCommit, store_id: &str) -> Result<()> {
    input::store_id("store_id", store_id)?;
    let key = layout::favourite_key(store_id);
    if doc.get(ROOT, key.as_str())?.is_some() {
        doc.delete(ROOT, key)?;
    }
    Ok(())
}
