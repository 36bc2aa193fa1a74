//! The order of a list's items, and moving an item.
//!
//! A list keeps its items in a map (item id → item) and their order in a
//! separate Automerge list of item ids. A move deletes the id where it was and
//! inserts it where it goes, in the order list only: the item's own map is
//! never copied, so a tick, a quantity or a text edit made on another device
//! while the item moves lands on the same object and survives. (With the
//! items themselves in a list, a move would delete the item and insert a
//! copy, and a concurrent edit of the deleted original would be lost.)
//!
//! Two devices moving one item concurrently each delete the entry they saw
//! and each insert one: after the merge the id is in the order list twice.
//! Reads keep its first occurrence (so every replica shows the same order)
//! and skip ids whose item was removed; an item the order list lacks (not
//! written by this code) is shown at the end, by id. The next move of the
//! item deletes all of its entries.

use std::collections::{HashMap, HashSet};

use automerge::{
    AutoCommit, ObjType, ReadDoc, ScalarValueRef, ValueRef, transaction::Transactable,
};

use super::layout::{self, ListObjs};
use crate::error::{CoreError, Result};

/// The raw order list: the item id of each entry (`None`: not a string).
fn entries(doc: &AutoCommit, objs: &ListObjs) -> Vec<Option<String>> {
    doc.list_range(&objs.order, ..)
        .map(|item| match item.value {
            ValueRef::Scalar(ScalarValueRef::Str(t)) => Some(t.to_string()),
            _ => None,
        })
        .collect()
}

/// Ids of the list's items, in the order readers show them, each once, with
/// the index of the entry that places it (`None`: placed at the end because
/// the order list lacks it).
pub fn visible(doc: &AutoCommit, objs: &ListObjs) -> Vec<(Option<usize>, String)> {
    let live: HashSet<String> = doc
        .map_range(&objs.items, ..)
        .filter(|item| matches!(item.value, ValueRef::Object(ObjType::Map)))
        .map(|item| item.key.to_string())
        .collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let raw = entries(doc, objs);
    let mut out: Vec<(Option<usize>, String)> = Vec::with_capacity(live.len());
    for (i, id) in raw.iter().enumerate() {
        if let Some(id) = id
            && live.contains(id)
            && seen.insert(id)
        {
            out.push((Some(i), id.clone()));
        }
    }
    let mut missing: Vec<&String> = live
        .iter()
        .filter(|id| !seen.contains(id.as_str()))
        .collect();
    missing.sort();
    out.extend(missing.into_iter().map(|id| (None, id.clone())));
    out
}

/// Appends `item_id` to the order list.
pub fn append(doc: &mut AutoCommit, objs: &ListObjs, item_id: &str) -> Result<()> {
    let end = doc.length(&objs.order);
    doc.insert(&objs.order, end, item_id)?;
    Ok(())
}

/// Deletes every entry of `item_id` from the order list. Returns how many
/// entries before `before` were deleted.
fn delete_entries(
    doc: &mut AutoCommit,
    objs: &ListObjs,
    item_id: &str,
    before: usize,
) -> Result<usize> {
    let raw = entries(doc, objs);
    let mut shift = 0;
    for (i, id) in raw.iter().enumerate().rev() {
        if id.as_deref() == Some(item_id) {
            doc.delete(&objs.order, i)?;
            if i < before {
                shift += 1;
            }
        }
    }
    Ok(shift)
}

/// Removes `item_id` from the order list (the item itself is removed by the
/// caller).
pub fn forget(doc: &mut AutoCommit, objs: &ListObjs, item_id: &str) -> Result<()> {
    delete_entries(doc, objs, item_id, 0)?;
    Ok(())
}

/// Moves an item so that it is shown at position `to` (0-based, among the
/// items shown). Moving an item to where it is writes nothing.
pub fn move_item(doc: &mut AutoCommit, list_id: &str, item_id: &str, to: usize) -> Result<()> {
    let objs = layout::list(doc, list_id)?;
    let shown = visible(doc, &objs);
    let Some(from) = shown.iter().position(|(_, id)| id == item_id) else {
        return Err(CoreError::not_found("list item", item_id));
    };
    if to >= shown.len() {
        return Err(CoreError::invalid(
            "to",
            format!(
                "position {to} is past the end of the list ({} items)",
                shown.len()
            ),
        ));
    }
    if to == from {
        return Ok(());
    }
    // The item goes right before the entry that now places the item shown
    // at `to` once it is taken out, or at the end.
    let others: Vec<&(Option<usize>, String)> =
        shown.iter().filter(|(_, id)| id != item_id).collect();
    let anchor = others.get(to).and_then(|(i, _)| *i);
    let end = doc.length(&objs.order);
    let at = anchor.unwrap_or(end);
    let shift = delete_entries(doc, &objs, item_id, at)?;
    let at = match anchor {
        Some(a) => a - shift,
        None => doc.length(&objs.order),
    };
    doc.insert(&objs.order, at, item_id)?;
    Ok(())
}

/// How many entries each item has in the order list (for tests of the
/// dedupe: an item moved concurrently has more than one).
pub fn entry_counts(doc: &AutoCommit, list_id: &str) -> Result<HashMap<String, usize>> {
    let objs = layout::list(doc, list_id)?;
    let mut counts = HashMap::new();
    for id in entries(doc, &objs).into_iter().flatten() {
        *counts.entry(id).or_insert(0) += 1;
    }
    Ok(counts)
}
