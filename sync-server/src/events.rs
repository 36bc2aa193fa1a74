//! Events for other systems (docs/EVENTS.md): what the server derives from
//! the changes devices upload, as versioned JSON, queued in the outbox and
//! published to NATS JetStream by [`crate::publisher`].
//!
//! Sales (`sale.recorded`, one per sale, and `product.sold`, one per sale
//! line) are derived here from ledger records, and pickup orders
//! (`shopping-list.sent`, `order.status`, [`orders`]) from order records:
//! the sync transaction queues only a reference to each new change of such
//! a document, and the publisher derives its events from the stored change
//! ([`stored_change_events`]) when it publishes them. Catalog changes
//! (`catalog.updated`, [`catalog`]) need the catalog document and
//! `stock.low` ([`stock`]) the stock levels, so they are derived on the
//! server's replica of the shop ([`replica`]) after the changes are stored.

pub mod catalog;
pub mod orders;
pub mod replica;
pub mod stock;

use serde::Serialize;
use shopsync_core::change_bytes::{self, MAX_INFLATED_CHANGE_BYTES};
use shopsync_core::ids::DocId;
use shopsync_core::records::{Record, SaleRecord};
use shopsync_core::validate::MAX_OPS_PER_CHANGE;

/// The version of every event's JSON (`schema_version`): a consumer reads
/// the versions it knows; fields are only added within one version.
pub const SCHEMA_VERSION: u32 = 1;

/// The JetStream stream the server publishes into (created if missing).
pub const STREAM: &str = "SHOPSYNC";

/// Subjects of the stream: `shopsync.{store}.{kind}`.
pub const STREAM_SUBJECTS: &str = "shopsync.>";

/// One event, as published (and as queued whole in the outbox, for the
/// events derived on replicas).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
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

/// JSON bytes of events the replica holds for one page of changes before
/// queueing them (`replica.rs`): past it, the page's further catalog
/// events list no products.
pub const MAX_REQUEST_EVENT_BYTES: usize = 64 * 1024 * 1024;

/// Whether changes of `doc_id` give events when published (ledgers: sales;
/// order documents: order steps): a change of such a document new to the
/// server gets an outbox entry in the transaction that stores it.
pub fn yields_events(doc_id: &str) -> bool {
    matches!(
        DocId::parse(doc_id),
        Some(DocId::Ledger { .. } | DocId::OrderRequests { .. } | DocId::OrderStatus { .. })
    )
}

/// The events of one stored change, and why some could not be derived.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Derived {
    pub events: Vec<OutboxEvent>,
    /// Set when the change, or some of its records, could not be read: the
    /// events that could be derived are in `events`, the change goes to
    /// the dead letters with this reason.
    pub problem: Option<String>,
}

/// The events of a change the server stored, read from its bytes within
/// the bounds every uploaded change was held to. Deterministic: the same
/// change gives the same events, ids and JSON, so a change published again
/// (after a failure or a restart) gives repeats JetStream and consumers
/// drop by id.
pub fn stored_change_events(doc_id: &str, bytes: &[u8]) -> Derived {
    let Some(id) = DocId::parse(doc_id) else {
        return Derived {
            events: Vec::new(),
            problem: Some(format!("the document id {doc_id:?} does not parse")),
        };
    };
    match change_bytes::decode_change_within(bytes, MAX_INFLATED_CHANGE_BYTES, MAX_OPS_PER_CHANGE) {
        Ok((change, _)) => change_events(&id, &change),
        Err(e) => Derived {
            events: Vec::new(),
            problem: Some(format!("the change of {doc_id} does not decode: {e}")),
        },
    }
}

/// The events of one change: sales of a ledger, order records of an order
/// document; nothing for other documents.
pub fn change_events(id: &DocId, change: &automerge::Change) -> Derived {
    let mut out = Derived::default();
    let mut unread = 0usize;
    let mut first = None;
    let mut note = |what: String| {
        unread += 1;
        first.get_or_insert(what);
    };
    match id {
        DocId::Ledger { store, till, .. } => {
            for item in shopsync_core::validate::ledger_items(change) {
                match item {
                    Ok(Record::Sale(sale)) => {
                        out.events.extend(sale_events(store, till, &sale));
                    }
                    Ok(_) => {}
                    Err(v) => note(format!("record {}: {}", v.record, v.detail)),
                }
            }
        }
        DocId::OrderRequests { store, customer } | DocId::OrderStatus { store, customer } => {
            for record in orders::records(change) {
                match record {
                    Ok(r) => out.events.push(orders::order_event(store, customer, &r)),
                    Err(e) => note(e),
                }
            }
        }
        _ => {}
    }
    if let Some(first) = first {
        out.problem = Some(format!(
            "{unread} record(s) of this change of {id} could not be read (first: {first}); \
             the events of the others were published"
        ));
    }
    out
}

/// A sale's events: `sale.recorded`, then `product.sold` per line.
pub fn sale_events(store_id: &str, till_id: &str, sale: &SaleRecord) -> Vec<OutboxEvent> {
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
        let events = sale_events("store-1", "till-a", &sale());
        let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "shopsync.store-1.sale.recorded",
                "shopsync.store-1.product.sold",
                "shopsync.store-1.product.sold"
            ]
        );
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
        let a = sale_events("s", "till-a", &sale());
        let b = sale_events("s", "till-b", &sale());
        assert!(a.iter().zip(&b).all(|(x, y)| x.event_id != y.event_id));
    }

    #[test]
    fn the_same_sale_gives_the_same_event_ids() {
        let a = sale_events("s", "t", &sale());
        let b = sale_events("s", "t", &sale());
        let ids = |v: &[OutboxEvent]| v.iter().map(|e| e.event_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
    }

    /// The bytes of a ledger change putting `records` (key, bytes).
    fn ledger_change(records: &[(&str, Vec<u8>)]) -> Vec<u8> {
        use automerge::{AutoCommit, ROOT, ScalarValue, transaction::Transactable};
        let mut doc = AutoCommit::new();
        for (key, bytes) in records {
            doc.put(ROOT, *key, ScalarValue::Bytes(bytes.clone()))
                .unwrap();
        }
        doc.commit();
        doc.get_last_local_change().unwrap().raw_bytes().to_vec()
    }

    #[test]
    fn a_stored_change_gives_the_events_of_its_sales() {
        let sale = sale();
        let bytes = ledger_change(&[("s1", Record::Sale(sale.clone()).encode().unwrap())]);
        let derived = stored_change_events("store/s/ledger/t/2026-05", &bytes);
        assert_eq!(derived.problem, None);
        assert_eq!(derived.events, sale_events("s", "t", &sale));
        // Deterministic: the same change again gives the same events.
        assert_eq!(
            stored_change_events("store/s/ledger/t/2026-05", &bytes),
            derived
        );
        // A catalog change gives none, and is no problem.
        let none = stored_change_events("store/s/catalog", &bytes);
        assert_eq!(none, Derived::default());
        assert!(yields_events("store/s/ledger/t/2026-05"));
        assert!(!yields_events("store/s/catalog"));
    }

    /// A change whose events cannot all be derived (bytes that do not
    /// decode, a record that does not read) says why, with the events of
    /// the records that did read.
    #[test]
    fn a_change_that_cannot_be_read_says_why() {
        let garbage = stored_change_events("store/s/ledger/t/2026-05", b"not a change");
        assert!(garbage.events.is_empty());
        assert!(
            garbage
                .problem
                .as_deref()
                .unwrap()
                .contains("does not decode"),
            "{garbage:?}"
        );
        let bytes = ledger_change(&[
            ("bad", b"\x01{not json".to_vec()),
            ("s1", Record::Sale(sale()).encode().unwrap()),
        ]);
        let partly = stored_change_events("store/s/ledger/t/2026-05", &bytes);
        assert_eq!(partly.events.len(), 3, "the good sale's events");
        let problem = partly.problem.unwrap();
        assert!(
            problem.contains("1 record(s)") && problem.contains("bad"),
            "{problem}"
        );
        let unknown = stored_change_events("no/such/doc", &bytes);
        assert!(unknown.problem.is_some());
    }
}
