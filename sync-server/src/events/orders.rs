//! Pickup orders (`shopping-list.sent`, `order.status`): derived from the
//! order records of changes new to the server, like sales, and queued in
//! the transaction that stores them. Customers' requests come through the
//! customer sync (`crate::customer_sync`), the shop's answers through the
//! tills' sync (`crate::api`).
//!
//! No customer personal data: a customer is named by id only; the
//! customer's name, note, list name and free-text lines are left out, and
//! so are the reasons of a cancellation or a refusal (free text).

use automerge::Change;
use automerge::ScalarValue;
use automerge::legacy::{Key, ObjectId, OpType};
use serde::Serialize;
use shopsync_core::orders::records::OrderRecord;

use super::{OutboxEvent, SCHEMA_VERSION, subject, to_json};

/// `shopsync.{store}.shopping-list.sent`: a customer sent a list for pickup.
#[derive(Debug, Serialize)]
pub struct ShoppingListSent<'a> {
    pub schema_version: u32,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub store_id: &'a str,
    pub customer_id: &'a str,
    pub order_id: &'a str,
    pub list_id: Option<&'a str>,
    /// When the customer sent it (ms, the customer's device's clock).
    pub sent_at: i64,
    pub lines: Vec<ListLine<'a>>,
}

/// A line: the shop's product by SKU, or `null` for a free-text line
/// (whose text is left out).
#[derive(Debug, Serialize)]
pub struct ListLine<'a> {
    pub line: u32,
    pub sku: Option<&'a str>,
    pub qty: i64,
}

/// `shopsync.{store}.order.status`: an order's next step.
#[derive(Debug, Serialize)]
pub struct OrderStatus<'a> {
    pub schema_version: u32,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub store_id: &'a str,
    pub customer_id: &'a str,
    pub order_id: &'a str,
    /// `accepted`, `ready`, `rejected`, `collected` (by the shop) or
    /// `cancelled` (by the customer).
    pub status: &'static str,
    /// The till that took the step; `null` for `cancelled`.
    pub till_id: Option<&'a str>,
    pub at: i64,
    /// `accepted`: the line numbers the shop cannot supply.
    pub unavailable_lines: &'a [u32],
    /// `collected`: the sale it was paid with.
    pub sale_id: Option<&'a str>,
}

/// The order records a change puts, each as read (validation refused
/// records that do not decode when they were uploaded).
pub fn records(change: &Change) -> Vec<Result<OrderRecord, String>> {
    change
        .decode()
        .operations
        .iter()
        .filter_map(|op| match (&op.obj, &op.key, &op.action) {
            (ObjectId::Root, Key::Map(key), OpType::Put(ScalarValue::Bytes(b))) => {
                Some(OrderRecord::decode(b).map_err(|e| format!("record {key}: {e}")))
            }
            _ => None,
        })
        .collect()
}

/// The event of one order record. Its id names the order and the step,
/// as the record's key does: two tills putting the same step offline give
/// two events with one id and their own contents (docs/EVENTS.md,
/// `order.status`).
pub fn order_event(store_id: &str, customer_id: &str, record: &OrderRecord) -> OutboxEvent {
    let order_id = record.order_id();
    let (status, till, at, unavailable, sale): (&str, Option<&str>, i64, &[u32], Option<&str>) =
        match record {
            OrderRecord::Order(o) => {
                let event_id = format!("{store_id}/order/{customer_id}/{order_id}/sent");
                let event = ShoppingListSent {
                    schema_version: SCHEMA_VERSION,
                    event_id: event_id.clone(),
                    kind: "shopping-list.sent",
                    store_id,
                    customer_id,
                    order_id,
                    list_id: o.list_id.as_deref(),
                    sent_at: o.sent_at,
                    lines: o
                        .lines
                        .iter()
                        .map(|l| ListLine {
                            line: l.line,
                            sku: l.sku.as_deref(),
                            qty: l.qty,
                        })
                        .collect(),
                };
                return OutboxEvent {
                    subject: subject(store_id, event.kind),
                    payload: to_json(&event),
                    event_id,
                };
            }
            OrderRecord::Cancel(c) => ("cancelled", None, c.at, &[], None),
            OrderRecord::Accept(a) => ("accepted", Some(&a.till), a.at, &a.unavailable, None),
            OrderRecord::Ready(s) => ("ready", Some(&s.till), s.at, &[], None),
            OrderRecord::Reject(r) => ("rejected", Some(&r.till), r.at, &[], None),
            OrderRecord::Collect(c) => ("collected", Some(&c.till), c.at, &[], Some(&c.sale_id)),
        };
    let event_id = format!("{store_id}/order/{customer_id}/{order_id}/{status}");
    let event = OrderStatus {
        schema_version: SCHEMA_VERSION,
        event_id: event_id.clone(),
        kind: "order.status",
        store_id,
        customer_id,
        order_id,
        status,
        till_id: till,
        at,
        unavailable_lines: unavailable,
        sale_id: sale,
    };
    OutboxEvent {
        subject: subject(store_id, event.kind),
        payload: to_json(&event),
        event_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopsync_core::orders::records::{Accept, OrderRequest, RequestLine};

    #[test]
    fn a_sent_list_carries_ids_skus_and_quantities_only() {
        let order = OrderRecord::Order(OrderRequest {
            id: "o1".into(),
            customer_name: "Ana Secret".into(),
            list_id: Some("l1".into()),
            list_name: "Ana's party".into(),
            note: Some("call me on 555".into()),
            sent_at: 5,
            lines: vec![
                RequestLine {
                    line: 1,
                    sku: Some("P".into()),
                    text: "Product P".into(),
                    qty: 2,
                },
                RequestLine {
                    line: 2,
                    sku: None,
                    text: "candles for Ana".into(),
                    qty: 1,
                },
            ],
        });
        let e = order_event("s", "c", &order);
        assert_eq!(e.subject, "shopsync.s.shopping-list.sent");
        assert_eq!(e.event_id, "s/order/c/o1/sent");
        for secret in ["Ana", "555", "party", "candles"] {
            assert!(!e.payload.contains(secret), "{secret} in {}", e.payload);
        }
        let json: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
        assert_eq!(json["lines"][0]["sku"], "P");
        assert_eq!(json["lines"][1]["sku"], serde_json::Value::Null);
        assert_eq!(json["lines"][1]["qty"], 1);

        let accept = OrderRecord::Accept(Accept {
            order: "o1".into(),
            till: "t".into(),
            at: 9,
            unavailable: vec![2],
        });
        let e = order_event("s", "c", &accept);
        assert_eq!(e.event_id, "s/order/c/o1/accepted");
        let json: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
        assert_eq!(json["status"], "accepted");
        assert_eq!(json["till_id"], "t");
        assert_eq!(json["unavailable_lines"][0], 2);
    }
}
