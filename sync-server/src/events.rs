//! Events for other systems (docs/EVENTS.md): what the server derives from
//! the changes devices upload, as versioned JSON, queued in the outbox and
//! published to NATS JetStream by [`crate::publisher`].
//!
//! Sales (`sale.recorded`, one per sale, and `product.sold`, one per sale
//! line) are derived here from the ledger records of a sync request, and
//! pickup orders (`shopping-list.sent`, `order.status`, [`orders`]) from
//! order records, and queued in the transaction that stores them. Catalog changes
//! (`catalog.updated`, [`catalog`]) need the catalog document and
//! `stock.low` ([`stock`]) the stock levels, so they are derived on the
//! server's replica of the shop ([`replica`]) after the changes are stored.

pub mod catalog;
pub mod orders;
pub mod replica;
pub mod stock;

use std::collections::HashSet;

use serde::Serialize;
use shopsync_core::ids::DocId;
use shopsync_core::records::{Record, SaleRecord};

use crate::error::ApiError;
use crate::storage::DocBatch;
use crate::upload_budget::UploadBudget;

/// The version of every event's JSON (`schema_version`): a consumer reads
/// the versions it knows; fields are only added within one version.
pub const SCHEMA_VERSION: u32 = 1;

/// The JetStream stream the server publishes into (created if missing).
pub const STREAM: &str = "SHOPSYNC";

/// Subjects of the stream: `shopsync.{store}.{kind}`.
pub const STREAM_SUBJECTS: &str = "shopsync.>";

/// One event waiting in the outbox, and the change it comes from: it is
/// queued only if that change is new to the server (a change uploaded again
/// queues nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub change_hash: [u8; 32],
    /// Unique per event, stable across uploads: JetStream's `Nats-Msg-Id`.
    pub event_id: String,
    pub subject: String,
    /// The JSON published (see [`SaleRecorded`], [`ProductSold`]).
    pub payload: String,
}

/// `shopsync.{store}.sale.recorded`: a sale, once.
#[derive(Debug, Serialize)]
pub struct SaleRecorded<'a> {
    pub schema_version: u32,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub store_id: &'a str,
    pub till_id: &'a str,
    pub sale_id: &'a str,
    pub receipt_number: &'a str,
    /// When the till made the sale (ms since the Unix epoch, the till's clock).
    pub at: i64,
    pub lines: usize,
    /// Minor units of the store's currency.
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
    pub staff_id: Option<&'a str>,
}

/// `shopsync.{store}.product.sold`: one line of a sale.
#[derive(Debug, Serialize)]
pub struct ProductSold<'a> {
    pub schema_version: u32,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub store_id: &'a str,
    pub till_id: &'a str,
    pub sale_id: &'a str,
    /// The line's position in the sale, from 0.
    pub line: usize,
    pub product_id: &'a str,
    pub sku: &'a str,
    pub name: &'a str,
    pub qty: i64,
    /// Minor units of the store's currency.
    pub unit_price: i64,
    pub discount: i64,
    pub tax: i64,
    /// What the customer pays for the line, tax included.
    pub total: i64,
    pub at: i64,
}

/// The subject of an event kind in a store.
pub fn subject(store_id: &str, kind: &str) -> String {
    format!("shopsync.{store_id}.{kind}")
}

/// JSON bytes of events one sync request may queue (8 client batches): a
/// request past it is refused whole (413) and stores nothing, so deriving
/// never holds more than this.
pub const MAX_REQUEST_EVENT_BYTES: usize = 64 * 1024 * 1024;

/// The events of a request's ledger changes, derived once the request
/// passed validation and the quotas: each change is decoded again from its
/// bytes (within the request's budget, as it was), so only the events are
/// held, up to `MAX_REQUEST_EVENT_BYTES`. Records that do not decode are
/// skipped (validation refused those already).
/// Changes in `known` (the server has them) are skipped: they queue nothing.
pub fn derive(batch: &[DocBatch], known: &HashSet<[u8; 32]>) -> Result<Vec<OutboxEvent>, ApiError> {
    derive_within(batch, known, MAX_REQUEST_EVENT_BYTES)
}

pub(crate) fn derive_within(
    batch: &[DocBatch],
    known: &HashSet<[u8; 32]>,
    cap: usize,
) -> Result<Vec<OutboxEvent>, ApiError> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    let mut budget = UploadBudget::default();
    for doc in batch {
        let Some(id) = DocId::parse(&doc.doc_id) else {
            continue;
        };
        if !matches!(id, DocId::Ledger { .. } | DocId::OrderStatus { .. }) {
            continue;
        }
        for (i, c) in doc.changes.iter().enumerate() {
            if known.contains(&c.hash) {
                continue;
            }
            let change = budget.decode(&id, i, &c.bytes)?;
            for e in change_events(&id, c.hash, &change) {
                bytes += e.payload.len() + e.event_id.len() + e.subject.len();
                if bytes > cap {
                    return Err(ApiError::ChangeTooLarge(format!(
                        "this request's changes make more than {cap} bytes of events for NATS \
                         (--nats): send fewer changes per request"
                    )));
                }
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// The events of changes already decoded (a customer's order requests).
/// `bytes` is the running total of the request's event JSON, over all its
/// documents: past `MAX_REQUEST_EVENT_BYTES` the request is refused, like
/// a till's.
pub fn decoded_events<'a>(
    id: &DocId,
    changes: impl IntoIterator<Item = ([u8; 32], &'a automerge::Change)>,
    bytes: &mut usize,
) -> Result<Vec<OutboxEvent>, ApiError> {
    let mut out = Vec::new();
    for (hash, change) in changes {
        for e in change_events(id, hash, change) {
            *bytes += e.payload.len() + e.event_id.len() + e.subject.len();
            if *bytes > MAX_REQUEST_EVENT_BYTES {
                return Err(ApiError::ChangeTooLarge(format!(
                    "this request's changes make more than {MAX_REQUEST_EVENT_BYTES} bytes of \
                     events for NATS (--nats): send fewer changes per request"
                )));
            }
            out.push(e);
        }
    }
    Ok(out)
}

/// The events of one change new to the server: sales of a ledger, order
/// records of an order document; nothing for other documents.
pub fn change_events(id: &DocId, hash: [u8; 32], change: &automerge::Change) -> Vec<OutboxEvent> {
    match id {
        DocId::Ledger { store, till, .. } => shopsync_core::validate::ledger_items(change)
            .into_iter()
            .flatten()
            .filter_map(|record| match record {
                Record::Sale(sale) => Some(sale_events(hash, store, till, &sale)),
                _ => None,
            })
            .flatten()
            .collect(),
        DocId::OrderRequests { store, customer } | DocId::OrderStatus { store, customer } => {
            orders::records(change)
                .iter()
                .map(|r| orders::order_event(hash, store, customer, r))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// A sale's events: `sale.recorded`, then `product.sold` per line.
pub fn sale_events(
    change_hash: [u8; 32],
    store_id: &str,
    till_id: &str,
    sale: &SaleRecord,
) -> Vec<OutboxEvent> {
    let mut out = Vec::with_capacity(sale.lines.len() + 1);
    // The till is part of the id: record ids are unique per till only, and
    // a clash must not drop another till's sale as a duplicate.
    let event_id = format!("{store_id}/{till_id}/sale/{}", sale.id);
    let recorded = SaleRecorded {
        schema_version: SCHEMA_VERSION,
        event_id: event_id.clone(),
        kind: "sale.recorded",
        store_id,
        till_id,
        sale_id: &sale.id,
        receipt_number: &sale.number,
        at: sale.at,
        lines: sale.lines.len(),
        subtotal: sale.subtotal,
        discount: sale.discount,
        tax: sale.tax,
        total: sale.total,
        staff_id: sale.staff_id.as_deref(),
    };
    out.push(OutboxEvent {
        change_hash,
        subject: subject(store_id, recorded.kind),
        payload: to_json(&recorded),
        event_id,
    });
    for (i, line) in sale.lines.iter().enumerate() {
        let event_id = format!("{store_id}/{till_id}/sale/{}/line/{i}", sale.id);
        let sold = ProductSold {
            schema_version: SCHEMA_VERSION,
            event_id: event_id.clone(),
            kind: "product.sold",
            store_id,
            till_id,
            sale_id: &sale.id,
            line: i,
            product_id: &line.product_id,
            sku: &line.sku,
            name: &line.name,
            qty: line.qty,
            unit_price: line.unit_price,
            discount: line.discount,
            tax: line.tax,
            total: line.total,
            at: sale.at,
        };
        out.push(OutboxEvent {
            change_hash,
            subject: subject(store_id, sold.kind),
            payload: to_json(&sold),
            event_id,
        });
    }
    out
}

/// These structs hold only strings and integers: serialising cannot fail.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopsync_core::records::SaleLine;

    /// The customer sync's cap counts every document of the request: two
    /// documents each below it, together above it, are refused.
    #[test]
    fn the_cap_on_decoded_events_counts_the_whole_request() {
        use automerge::transaction::Transactable;
        use shopsync_core::orders::records::{Cancel, OrderRecord};
        let record = OrderRecord::Cancel(Cancel {
            order: "o1".into(),
            reason: None,
            at: 1,
        });
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, record.key(), record.encode().unwrap())
            .unwrap();
        doc.commit();
        let change = doc.get_last_local_change().unwrap().clone();
        let id = DocId::OrderRequests {
            store: "s".into(),
            customer: "c".into(),
        };
        let mut bytes = 0;
        let one = decoded_events(&id, [([1; 32], &change)], &mut bytes).unwrap();
        assert_eq!(one.len(), 1);
        assert!(bytes > 0);
        let size = bytes;
        // Another document of the same request, with room for one event.
        bytes = MAX_REQUEST_EVENT_BYTES - size;
        assert!(decoded_events(&id, [([2; 32], &change)], &mut bytes).is_ok());
        assert!(matches!(
            decoded_events(&id, [([3; 32], &change)], &mut bytes),
            Err(ApiError::ChangeTooLarge(_))
        ));
    }

    fn line(sku: &str, qty: i64, unit_price: i64) -> SaleLine {
        SaleLine {
            product_id: format!("id-{sku}"),
            sku: sku.into(),
            name: format!("Product {sku}"),
            qty,
            unit_price,
            override_reason: None,
            discount_bp: 0,
            discount: 0,
            tax_class: None,
            tax_rate_bp: 2000,
            tax_inclusive: true,
            tax: qty * unit_price / 6,
            total: qty * unit_price,
        }
    }

    fn sale() -> SaleRecord {
        SaleRecord {
            id: "s1".into(),
            number: "A-7".into(),
            seq: 7,
            at: 1_700_000_000_000,
            lines: vec![line("P", 2, 150), line("Q", 1, 990)],
            tenders: vec![],
            subtotal: 1290,
            discount: 0,
            tax: 215,
            total: 1290,
            change: 0,
            hlc: None,
            staff_id: Some("ana".into()),
            approver_id: None,
            drawer_session: None,
        }
    }

    #[test]
    fn a_sale_gives_one_sale_recorded_and_one_product_sold_per_line() {
        let events = sale_events([7; 32], "store-1", "till-a", &sale());
        let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "shopsync.store-1.sale.recorded",
                "shopsync.store-1.product.sold",
                "shopsync.store-1.product.sold"
            ]
        );
        assert!(events.iter().all(|e| e.change_hash == [7; 32]));
        let ids: std::collections::HashSet<&str> =
            events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids.len(), 3, "event ids are unique");

        let second: serde_json::Value = serde_json::from_str(&events[2].payload).unwrap();
        assert_eq!(second["schema_version"], SCHEMA_VERSION);
        assert_eq!(second["schema_version"], 1);
        assert_eq!(second["type"], "product.sold");
        assert_eq!(second["event_id"], "store-1/till-a/sale/s1/line/1");
        assert_eq!(second["event_id"], events[2].event_id.as_str());
        assert_eq!(second["store_id"], "store-1");
        assert_eq!(second["till_id"], "till-a");
        assert_eq!(second["sale_id"], "s1");
        assert_eq!(second["line"], 1);
        assert_eq!(second["sku"], "Q");
        assert_eq!(second["qty"], 1);
        assert_eq!(second["unit_price"], 990);
        assert_eq!(second["total"], 990);
        assert_eq!(second["at"], 1_700_000_000_000i64);

        let first: serde_json::Value = serde_json::from_str(&events[0].payload).unwrap();
        assert_eq!(first["type"], "sale.recorded");
        assert_eq!(first["receipt_number"], "A-7");
        assert_eq!(first["lines"], 2);
        assert_eq!(first["total"], 1290);
        assert_eq!(first["staff_id"], "ana");
    }

    #[test]
    fn the_same_sale_id_on_another_till_gives_other_event_ids() {
        let a = sale_events([1; 32], "s", "till-a", &sale());
        let b = sale_events([1; 32], "s", "till-b", &sale());
        assert!(a.iter().zip(&b).all(|(x, y)| x.event_id != y.event_id));
    }

    #[test]
    fn the_same_sale_gives_the_same_event_ids() {
        let a = sale_events([1; 32], "s", "t", &sale());
        let b = sale_events([2; 32], "s", "t", &sale());
        let ids = |v: &[OutboxEvent]| v.iter().map(|e| e.event_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
    }

    /// A ledger document's batch holding one change with `sale`.
    fn sale_batch(sale: &SaleRecord) -> DocBatch {
        use automerge::{AutoCommit, ROOT, ScalarValue, transaction::Transactable};
        let mut doc = AutoCommit::new();
        let bytes = Record::Sale(sale.clone()).encode().unwrap();
        doc.put(ROOT, sale.id.as_str(), ScalarValue::Bytes(bytes))
            .unwrap();
        doc.commit();
        let change = doc.get_changes(&[]).into_iter().next().unwrap().clone();
        DocBatch {
            doc_id: "store/s/ledger/t/2026-05".into(),
            changes: vec![crate::storage::NewChange {
                hash: change.hash().0,
                deps: vec![],
                inflated_len: change.raw_bytes().len() as u64,
                actor: change.actor_id().to_bytes().to_vec(),
                actor_seq: change.seq(),
                bytes: change.raw_bytes().to_vec(),
            }],
        }
    }

    #[test]
    fn a_request_past_the_event_bytes_cap_is_refused_with_413() {
        let batch = [sale_batch(&sale())];
        let none = HashSet::new();
        let events = derive_within(&batch, &none, MAX_REQUEST_EVENT_BYTES).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].event_id, "s/t/sale/s1");
        let bytes: usize = events
            .iter()
            .map(|e| e.payload.len() + e.event_id.len() + e.subject.len())
            .sum();
        assert!(derive_within(&batch, &none, bytes).is_ok(), "at the cap");
        let refused = derive_within(&batch, &none, bytes - 1).unwrap_err();
        assert!(
            matches!(&refused, ApiError::ChangeTooLarge(m) if m.contains("bytes of events")),
            "{refused:?}"
        );
        // A change the server has already derives nothing (and costs nothing).
        let known = HashSet::from([batch[0].changes[0].hash]);
        assert_eq!(derive_within(&batch, &known, 0).unwrap(), []);
    }
}
