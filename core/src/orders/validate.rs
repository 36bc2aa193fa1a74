//! The rules every order record obeys, checked by the server before it
//! stores a change and by a device before it commits one (as for ledgers).
//! A requests document holds only orders and cancellations, a status
//! document only the shop's steps; each record sits under its own key, is
//! put once and never edited or deleted.

use std::collections::HashSet;

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{Change, ScalarValue};

use super::records::{MAX_ORDER_LINES, MAX_ORDER_TEXT, OrderRecord};
use crate::validate::{Check, Rule, Violation, action_name, at, id};

const MAX_ITEM_QTY: i64 = shopsync_types::customer::MAX_ITEM_QTY;

fn text(record: &str, field: &str, value: &str, required: bool) -> Check {
    // Names and notes reach the shop's screens and receipts: no escape
    // sequences or other control characters (line breaks in a note are fine).
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Violation::new(
            record,
            Rule::Bounds,
            format!("{field} holds a control character"),
        ));
    }
    if required && value.trim().is_empty() {
        return Err(Violation::new(
            record,
            Rule::Bounds,
            format!("{field} is empty"),
        ));
    }
    if value.len() > MAX_ORDER_TEXT {
        return Err(Violation::new(
            record,
            Rule::Bounds,
            format!("{field} is over {MAX_ORDER_TEXT} bytes"),
        ));
    }
    Ok(())
}

/// The rules of one decoded record stored under `key`.
pub fn check(key: &str, record: &OrderRecord, requests: bool) -> Check {
    if record.by_customer() != requests {
        let doc = if requests { "requests" } else { "status" };
        return Err(Violation::new(
            key,
            Rule::NotARecord,
            format!(
                "a {} record does not belong in an order {doc} document",
                record.kind()
            ),
        ));
    }
    id(key, "order id", record.order_id())?;
    if record.key() != key {
        return Err(Violation::new(
            key,
            Rule::KeyMismatch,
            format!("the record belongs under '{}'", record.key()),
        ));
    }
    match record {
        OrderRecord::Order(o) => {
            text(key, "customer name", &o.customer_name, true)?;
            text(key, "list name", &o.list_name, false)?;
            if let Some(l) = &o.list_id {
                id(key, "list id", l)?;
            }
            if let Some(n) = &o.note {
                text(key, "note", n, false)?;
            }
            at(key, "sent_at", o.sent_at)?;
            if o.lines.is_empty() || o.lines.len() > MAX_ORDER_LINES {
                return Err(Violation::new(
                    key,
                    Rule::Bounds,
                    format!(
                        "an order has 1 to {MAX_ORDER_LINES} lines, not {}",
                        o.lines.len()
                    ),
                ));
            }
            for (i, l) in o.lines.iter().enumerate() {
                if l.line as usize != i + 1 {
                    return Err(Violation::new(
                        key,
                        Rule::DuplicateLine,
                        format!("line {} is numbered {}", i + 1, l.line),
                    ));
                }
                if let Some(sku) = &l.sku {
                    text(key, "sku", sku, true)?;
                    if sku.len() > crate::validate::MAX_ID_LEN {
                        return Err(Violation::new(key, Rule::Bounds, "a sku is over 64 bytes"));
                    }
                }
                text(key, "line text", &l.text, l.sku.is_none())?;
                if !(1..=MAX_ITEM_QTY).contains(&l.qty) {
                    return Err(Violation::new(
                        key,
                        Rule::Bounds,
                        format!(
                            "line {}: quantity {} is not 1 to {MAX_ITEM_QTY}",
                            l.line, l.qty
                        ),
                    ));
                }
            }
        }
        OrderRecord::Cancel(c) => {
            at(key, "at", c.at)?;
            if let Some(r) = &c.reason {
                text(key, "reason", r, false)?;
            }
        }
        OrderRecord::Accept(a) => {
            id(key, "till", &a.till)?;
            at(key, "at", a.at)?;
            let mut seen = HashSet::new();
            if a.unavailable.len() > MAX_ORDER_LINES {
                return Err(Violation::new(
                    key,
                    Rule::Bounds,
                    "too many unavailable lines",
                ));
            }
            for n in &a.unavailable {
                if *n == 0 || *n as usize > MAX_ORDER_LINES || !seen.insert(*n) {
                    return Err(Violation::new(
                        key,
                        Rule::DuplicateLine,
                        format!("unavailable line {n} is 0, out of range or named twice"),
                    ));
                }
            }
        }
        OrderRecord::Ready(s) => {
            id(key, "till", &s.till)?;
            at(key, "at", s.at)?;
        }
        OrderRecord::Reject(r) => {
            id(key, "till", &r.till)?;
            at(key, "at", r.at)?;
            text(key, "reason", &r.reason, true)?;
        }
        OrderRecord::Collect(c) => {
            id(key, "till", &c.till)?;
            at(key, "at", c.at)?;
            id(key, "sale id", &c.sale_id)?;
        }
    }
    Ok(())
}

/// Every operation of changes to an order document (`requests`: a
/// customer's; otherwise the shop's status document).
pub fn changes(changes: &[Change], requests: bool) -> Check {
    for change in changes {
        for op in change.decode().operations {
            let key = match &op.key {
                Key::Map(k) => k.to_string(),
                Key::Seq(_) => "(nested)".to_string(),
            };
            if !matches!(op.obj, ObjectId::Root) {
                return Err(Violation::new(
                    "(nested)",
                    Rule::NotARecord,
                    "an order document holds only bytes values at its root",
                ));
            }
            match &op.action {
                OpType::Put(ScalarValue::Bytes(bytes)) => {
                    if !op.pred.is_empty() {
                        return Err(Violation::new(
                            key,
                            Rule::Rewritten,
                            "an order record is put over an existing one; records are never edited",
                        ));
                    }
                    let record = OrderRecord::decode(bytes).map_err(|e| {
                        Violation::new(&key, Rule::Decode, format!("the record {e}"))
                    })?;
                    check(&key, &record, requests)?;
                }
                OpType::Delete => {
                    return Err(Violation::new(
                        key,
                        Rule::NotARecord,
                        "an order record is deleted; order documents are append-only",
                    ));
                }
                other => {
                    return Err(Violation::new(
                        key,
                        Rule::NotARecord,
                        format!("an order value must be bytes, not {}", action_name(other)),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The values put under `order/` keys by `changes`, in order.
fn order_puts(changes: &[Change]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for change in changes {
        for op in change.decode().operations {
            if let (ObjectId::Root, Key::Map(k), OpType::Put(ScalarValue::Bytes(b))) =
                (&op.obj, &op.key, &op.action)
                && k.starts_with("order/")
            {
                out.push((k.to_string(), b.clone()));
            }
        }
    }
    out
}

/// An order, once sent, is never replaced: a put of `order/{id}` that is
/// concurrent with the stored one (an empty `pred`, from another actor)
/// would otherwise win on every replica and change an order the shop has
/// accepted. `stored` is every change the server holds of the requests
/// document; `new` the changes being uploaded. The same bytes again are
/// fine (a retry). Cancellations may differ (two devices cancelling at
/// once both mean "cancelled").
pub fn no_rewritten_orders(stored: &[Change], new: &[Change]) -> Check {
    let mut seen: std::collections::HashMap<String, Vec<u8>> =
        order_puts(stored).into_iter().collect();
    for (key, bytes) in order_puts(new) {
        match seen.get(&key) {
            Some(prev) if *prev != bytes => {
                return Err(Violation::new(
                    key,
                    Rule::Rewritten,
                    "this order was sent already with other content; an order is never changed (cancel it and send a new one)",
                ));
            }
            Some(_) => {}
            None => {
                seen.insert(key, bytes);
            }
        }
    }
    Ok(())
}
