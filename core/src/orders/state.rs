//! An order's state, read from which records exist. Both sides (the till's
//! projection, the customer's device) use this one function, so they never
//! disagree about where an order stands.
//!
//! Precedence, strongest first: collected (the goods were sold: a sale
//! exists), rejected, cancelled, ready, accepted, sent. A cancellation made
//! offline while the shop marked the order ready still cancels it (the
//! customer could not know); one that arrives after the order was collected
//! changes nothing.

use std::collections::HashMap;

use automerge::{AutoCommit, ROOT, ReadDoc, ScalarValue, Value};
use shopsync_types::{OrderLineView, OrderStatus, OrderView};

use super::records::OrderRecord;

/// Every valid record in an order document (the value each key shows on
/// every replica), sorted by key. Values that do not decode are skipped:
/// they were refused on arrival and cannot be here unless the file was
/// edited by hand.
pub fn read_doc(doc: &AutoCommit) -> Vec<OrderRecord> {
    let mut out = Vec::new();
    for key in doc.keys(ROOT) {
        if let Ok(Some((Value::Scalar(s), _))) = doc.get(ROOT, key.as_str())
            && let ScalarValue::Bytes(bytes) = s.as_ref()
        {
            match OrderRecord::decode(bytes) {
                Ok(r) if r.key() == key => out.push(r),
                Ok(_) => tracing::warn!("order record {key} is stored under the wrong key"),
                Err(e) => tracing::warn!("order record {key} {e}"),
            }
        }
    }
    out
}

/// Keys of the document that hold more than one value (devices that put
/// the same step concurrently), with every record put there.
pub fn conflicting(doc: &AutoCommit) -> Vec<(String, Vec<OrderRecord>)> {
    let mut out = Vec::new();
    for key in doc.keys(ROOT) {
        let Ok(all) = doc.get_all(ROOT, key.as_str()) else {
            continue;
        };
        if all.len() < 2 {
            continue;
        }
        let records: Vec<OrderRecord> = all
            .iter()
            .filter_map(|(v, _)| match v {
                Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Bytes(b) => OrderRecord::decode(b).ok(),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        out.push((key, records));
    }
    out
}

/// What a conflict means for the shop, if it changes anything.
fn describe(records: &[OrderRecord]) -> Option<String> {
    let sales: Vec<&str> = records
        .iter()
        .filter_map(|r| match r {
            OrderRecord::Collect(c) => Some(c.sale_id.as_str()),
            _ => None,
        })
        .collect();
    if sales.len() > 1 {
        return Some(format!(
            "collected {} times, by different tills (sales {}): refund the extra sale",
            sales.len(),
            sales.join(", ")
        ));
    }
    let accepts: Vec<&Vec<u32>> = records
        .iter()
        .filter_map(|r| match r {
            OrderRecord::Accept(a) => Some(&a.unavailable),
            _ => None,
        })
        .collect();
    if accepts.len() > 1 && accepts.windows(2).any(|w| w[0] != w[1]) {
        return Some(
            "accepted by two tills with different lines unavailable: check the lines".into(),
        );
    }
    None
}

/// The conflicts of a status document, by order id.
pub fn conflicts_by_order(status: &AutoCommit) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (_, records) in conflicting(status) {
        if let (Some(first), Some(text)) = (records.first(), describe(&records)) {
            out.insert(first.order_id().to_string(), text);
        }
    }
    out
}

/// The orders of one customer at one store, oldest first.
pub fn fold(
    store_id: &str,
    customer_id: &str,
    requests: &[OrderRecord],
    status: &[OrderRecord],
) -> Vec<OrderView> {
    let mut steps: HashMap<&str, Vec<&OrderRecord>> = HashMap::new();
    for r in requests.iter().chain(status) {
        if !matches!(r, OrderRecord::Order(_)) {
            steps.entry(r.order_id()).or_default().push(r);
        }
    }
    let mut out: Vec<OrderView> = requests
        .iter()
        .filter_map(|r| match r {
            OrderRecord::Order(o) => Some(o),
            _ => None,
        })
        .map(|o| {
            let mut view = OrderView {
                id: o.id.clone(),
                store_id: store_id.to_string(),
                customer_id: customer_id.to_string(),
                customer_name: o.customer_name.clone(),
                list_name: o.list_name.clone(),
                note: o.note.clone(),
                sent_at: o.sent_at,
                status: OrderStatus::Sent,
                reason: None,
                status_at: o.sent_at,
                sale_id: None,
                conflict: None,
                lines: o
                    .lines
                    .iter()
                    .map(|l| OrderLineView {
                        line: l.line,
                        sku: l.sku.clone(),
                        text: l.text.clone(),
                        qty: l.qty,
                        unavailable: false,
                        product_id: None,
                        shortfall: 0,
                    })
                    .collect(),
            };
            let mut rank = 0;
            for step in steps.get(o.id.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                if let OrderRecord::Accept(a) = step {
                    for line in &mut view.lines {
                        line.unavailable = a.unavailable.contains(&line.line);
                    }
                }
                let (r, status, at, reason, sale) = match step {
                    OrderRecord::Accept(a) => (1, OrderStatus::Accepted, a.at, None, None),
                    OrderRecord::Ready(s) => (2, OrderStatus::Ready, s.at, None, None),
                    OrderRecord::Cancel(c) => {
                        (3, OrderStatus::Cancelled, c.at, c.reason.clone(), None)
                    }
                    OrderRecord::Reject(r) => {
                        (4, OrderStatus::Rejected, r.at, Some(r.reason.clone()), None)
                    }
                    OrderRecord::Collect(c) => (
                        5,
                        OrderStatus::Collected,
                        c.at,
                        None,
                        Some(c.sale_id.clone()),
                    ),
                    OrderRecord::Order(_) => continue,
                };
                if r > rank {
                    rank = r;
                    view.status = status;
                    view.status_at = at;
                    view.reason = reason;
                    view.sale_id = sale;
                }
            }
            view
        })
        .collect();
    out.sort_by(|a, b| (a.sent_at, &a.id).cmp(&(b.sent_at, &b.id)));
    out
}
