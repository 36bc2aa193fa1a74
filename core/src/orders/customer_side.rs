//! What a customer's device writes and reads: a shopping list turned into
//! an order, a cancellation, and the state of its orders with one store.
//! Functions here edit an [`AutoCommit`] without committing (the caller
//! commits, or rolls back on an error), like `crate::customer`.

use automerge::{AutoCommit, ROOT, ReadDoc, ScalarValue, transaction::Transactable};
use shopsync_types::{ItemWhat, OrderStatus, OrderView, ShoppingList};

use super::records::{
    Cancel, MAX_ORDER_LINES, MAX_ORDER_TEXT, OrderRecord, OrderRequest, RequestLine,
};
use super::state::{fold, read_doc};
use crate::error::{CoreError, Result};

/// The order a list becomes when sent to `store_id`: its items not yet
/// ticked off, free text and products of that store (products of other
/// shops stay on the list). Returns the order and how many items were left
/// out because they belong to another shop.
pub fn request_from_list(
    list: &ShoppingList,
    store_id: &str,
    order_id: &str,
    customer_name: &str,
    note: Option<&str>,
    now: i64,
) -> Result<(OrderRequest, usize)> {
    let mut lines = Vec::new();
    let mut other_shops = 0;
    for item in list.items.iter().filter(|i| !i.checked) {
        let (sku, text) = match &item.what {
            ItemWhat::Text { text } => (None, text.clone()),
            ItemWhat::Product { store_id: s, sku } if s == store_id => {
                (Some(sku.clone()), sku.clone())
            }
            ItemWhat::Product { .. } => {
                other_shops += 1;
                continue;
            }
        };
        lines.push(RequestLine {
            line: lines.len() as u32 + 1,
            sku,
            text,
            qty: item.qty,
        });
    }
    if lines.is_empty() {
        return Err(CoreError::invalid(
            "list",
            format!(
                "list '{}' has nothing to send to this shop (every item is ticked off or belongs to another shop)",
                list.name
            ),
        ));
    }
    if lines.len() > MAX_ORDER_LINES {
        return Err(CoreError::invalid(
            "list",
            format!(
                "an order has at most {MAX_ORDER_LINES} lines; this list has {}",
                lines.len()
            ),
        ));
    }
    let name = customer_name.trim();
    let name = if name.is_empty() { "Customer" } else { name };
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.len() > MAX_ORDER_TEXT) {
        return Err(CoreError::invalid(
            "note",
            format!("a note is at most {MAX_ORDER_TEXT} bytes"),
        ));
    }
    Ok((
        OrderRequest {
            id: order_id.to_string(),
            customer_name: name.to_string(),
            list_id: Some(list.id.clone()),
            list_name: list.name.clone(),
            note: note.map(str::to_string),
            sent_at: now,
            lines,
        },
        other_shops,
    ))
}

/// Puts an order in a requests document.
pub fn put_order(doc: &mut AutoCommit, order: OrderRequest) -> Result<()> {
    put(doc, &OrderRecord::Order(order))
}

/// Cancels an order, if it may still be cancelled: until the shop marks it
/// ready. `current` is the order as this device sees it.
pub fn put_cancel(
    doc: &mut AutoCommit,
    current: &OrderView,
    reason: Option<&str>,
    now: i64,
) -> Result<()> {
    if !matches!(current.status, OrderStatus::Sent | OrderStatus::Accepted) {
        return Err(CoreError::Conflict(format!(
            "order {} is {}: an order can be cancelled only until the shop has it ready",
            current.id, current.status
        )));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.len() > MAX_ORDER_TEXT) {
        return Err(CoreError::invalid(
            "reason",
            format!("a reason is at most {MAX_ORDER_TEXT} bytes"),
        ));
    }
    put(
        doc,
        &OrderRecord::Cancel(Cancel {
            order: current.id.clone(),
            reason: reason.map(str::to_string),
            at: now,
        }),
    )
}

fn put(doc: &mut AutoCommit, record: &OrderRecord) -> Result<()> {
    super::validate::check(&record.key(), record, true)
        .map_err(|v| CoreError::invalid("order", format!("{}: {}", v.rule, v.detail)))?;
    let key = record.key();
    if doc.get(ROOT, key.as_str())?.is_some() {
        return Err(CoreError::Conflict(format!("{key} is already written")));
    }
    doc.put(ROOT, key.as_str(), ScalarValue::Bytes(record.encode()?))?;
    Ok(())
}

/// One customer's orders with one store, from the two documents, with the
/// conflicts the tills show.
pub fn orders(
    store_id: &str,
    customer_id: &str,
    requests: &AutoCommit,
    status: &AutoCommit,
) -> Vec<OrderView> {
    let mut out = fold(
        store_id,
        customer_id,
        &read_doc(requests),
        &read_doc(status),
    );
    // The same conflicts the tills show (two tills collected, or accepted
    // with different lines unavailable): the customer may have paid twice.
    let conflicts = super::state::conflicts_by_order(status);
    for o in &mut out {
        o.conflict = conflicts.get(&o.id).cloned();
    }
    out
}
