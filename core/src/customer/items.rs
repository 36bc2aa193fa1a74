//! Items of a shopping list: add, change the quantity, tick, edit the text,
//! remove. (Moving is in `order.rs`.)
//!
//! An item is a map under its id (a fresh UUID v7) in the list's `items`
//! map: `kind` ("text" or "product"), for text items `text` (an Automerge
//! Text, so concurrent edits of the wording merge), for products `store` and
//! `sku` (strings, fixed when the item is added), `qty` (int) and `checked`
//! (bool). Fields are independent: a tick and a concurrent quantity change
//! both survive.
//!
//! **Quantity is last-writer-wins, not a counter.** A counter would add
//! concurrent changes: two devices that both see "milk 2" and set 3 would
//! give 4, although both meant 3 (a list says how many to buy, not how many
//! were added); and concurrent decrements or increments could merge to 0 or
//! past the maximum, values no device ever accepted. With last-writer-wins
//! the merged quantity is always one that a device validated (1..=10,000),
//! and one of the concurrent values is kept. The tick is last-writer-wins
//! for the same reason.
//!
//! Removing an item deletes its map and its order entries: an edit of that
//! item made concurrently on another device is dropped with it.

use automerge::{AutoCommit, ObjType, ReadDoc, ScalarValue, transaction::Transactable};
use shopsync_types::customer::ItemWhat;

use super::{input, layout, order};
use crate::error::{CoreError, Result};

/// Adds an item at the end of a list; returns its id.
pub fn add(doc: &mut AutoCommit, list_id: &str, what: &ItemWhat, qty: i64) -> Result<String> {
    let qty = input::qty(qty)?;
    let what = match what {
        ItemWhat::Text { text } => ItemWhat::Text {
            text: input::text("text", text)?.to_string(),
        },
        ItemWhat::Product { store_id, sku } => {
            input::store_id("store_id", store_id)?;
            ItemWhat::Product {
                store_id: store_id.clone(),
                sku: input::text("sku", sku)?.to_string(),
            }
        }
    };
    let objs = layout::list(doc, list_id)?;
    let id = crate::ids::new_id();
    let item = doc.put_object(&objs.items, id.as_str(), ObjType::Map)?;
    match &what {
        ItemWhat::Text { text } => {
            doc.put(&item, layout::ITEM_KIND, layout::KIND_TEXT)?;
            let t = doc.put_object(&item, layout::ITEM_TEXT, ObjType::Text)?;
            doc.splice_text(&t, 0, 0, text)?;
        }
        ItemWhat::Product { store_id, sku } => {
            doc.put(&item, layout::ITEM_KIND, layout::KIND_PRODUCT)?;
            doc.put(&item, layout::ITEM_STORE, store_id.as_str())?;
            doc.put(&item, layout::ITEM_SKU, sku.as_str())?;
        }
    }
    doc.put(&item, layout::ITEM_QTY, qty)?;
    doc.put(&item, layout::ITEM_CHECKED, false)?;
    order::append(doc, &objs, &id)?;
    Ok(id)
}

/// Sets an item's quantity (1..=10,000).
pub fn set_qty(doc: &mut AutoCommit, list_id: &str, item_id: &str, qty: i64) -> Result<()> {
    let qty = input::qty(qty)?;
    let objs = layout::list(doc, list_id)?;
    let item = layout::item(doc, &objs, item_id)?;
    layout::put_if_changed(doc, &item, layout::ITEM_QTY, ScalarValue::Int(qty))
}

/// Ticks (`true`) or unticks an item.
pub fn set_checked(
    doc: &mut AutoCommit,
    list_id: &str,
    item_id: &str,
    checked: bool,
) -> Result<()> {
    let objs = layout::list(doc, list_id)?;
    let item = layout::item(doc, &objs, item_id)?;
    layout::put_if_changed(
        doc,
        &item,
        layout::ITEM_CHECKED,
        ScalarValue::Boolean(checked),
    )
}

/// Rewrites a free-text item's text (trimmed, 1..=1,000 bytes), as a diff
/// of its Text so a concurrent edit merges with it.
pub fn set_text(doc: &mut AutoCommit, list_id: &str, item_id: &str, text: &str) -> Result<()> {
    let text = input::text("text", text)?;
    let objs = layout::list(doc, list_id)?;
    let item = layout::item(doc, &objs, item_id)?;
    let Some(t) = layout::object(doc, &item, layout::ITEM_TEXT, ObjType::Text)? else {
        return Err(CoreError::invalid(
            "text",
            format!("item {item_id} is a product, not a line of text"),
        ));
    };
    if doc.text(&t)? != text {
        doc.update_text(&t, text)?;
    }
    Ok(())
}

/// Removes an item from a list.
pub fn remove(doc: &mut AutoCommit, list_id: &str, item_id: &str) -> Result<()> {
    let objs = layout::list(doc, list_id)?;
    layout::item(doc, &objs, item_id)?;
    doc.delete(&objs.items, item_id)?;
    order::forget(doc, &objs, item_id)
}
