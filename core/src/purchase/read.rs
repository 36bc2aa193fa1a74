//! Reading purchase orders from the projection: lines, what each product
//! received against the order on any till, and the derived status.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};
use shopsync_types::{
    Currency, PurchaseOrderLineView, PurchaseOrderStatus, PurchaseOrderSummary, PurchaseOrderView,
};

use crate::error::{CoreError, Result};
use crate::store::Store;

fn ms_to_utc(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// An order as this till knows it, or `None` if no till's order record
/// with that id has arrived.
pub(crate) fn order(
    conn: &Connection,
    currency: Currency,
    id: &str,
) -> Result<Option<PurchaseOrderView>> {
    let head: Option<(String, i64, String)> = conn
        .prepare_cached(
            "SELECT till_id, at, supplier_id FROM stock_records WHERE id = ?1 AND kind = 'purchase_order'",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((till_id, at, supplier_id)) = head else {
        return Ok(None);
    };
    let note: Option<String> = conn
        .prepare_cached(
            "SELECT note FROM purchase_order_records WHERE record_id = ?1 AND kind = 'order'",
        )?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten();
    let supplier_name: Option<String> = conn
        .prepare_cached("SELECT name FROM suppliers WHERE id = ?1")?
        .query_row([&supplier_id], |r| r.get(0))
        .optional()?;
    let mut received = received_by_product(conn, id)?;
    let mut lines = Vec::new();
    let mut total = 0i64;
    let ordered: Vec<(String, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT product_id, qty, unit_cost FROM purchase_order_lines WHERE order_id = ?1 ORDER BY line_no",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (product_id, qty, unit_cost) in ordered {
        let got = received.remove(&product_id).unwrap_or(0);
        // Bounded by the record rules (qty × cost ≤ MAX_AMOUNT); checked anyway.
        let line_total = unit_cost.and_then(|c| c.checked_mul(qty));
        total = total.saturating_add(line_total.unwrap_or(0));
        lines.push(line_view(
            conn, currency, product_id, qty, got, unit_cost, line_total,
        )?);
    }
    // Products received against the order without being on it.
    let mut extra: Vec<(String, i64)> = received.into_iter().collect();
    extra.sort();
    for (product_id, got) in extra {
        lines.push(line_view(conn, currency, product_id, 0, got, None, None)?);
    }
    let receipts: Vec<String> = conn
        .prepare_cached(
            "SELECT r.record_id FROM purchase_order_records r JOIN stock_records s ON s.id = r.record_id
             WHERE r.order_id = ?1 AND r.kind = 'receipt' ORDER BY s.at, r.record_id",
        )?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let close: Option<(i64, Option<String>)> = conn
        .prepare_cached(
            "SELECT s.at, r.note FROM purchase_order_records r JOIN stock_records s ON s.id = r.record_id
             WHERE r.order_id = ?1 AND r.kind = 'close' ORDER BY s.at, r.record_id LIMIT 1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let status = status_of(&lines, close.is_some());
    Ok(Some(PurchaseOrderView {
        id: id.to_string(),
        supplier_id,
        supplier_name,
        till_id,
        created_at: ms_to_utc(at),
        note,
        status,
        lines,
        total: currency.amount(total),
        receipts,
        closed_at: close.as_ref().map(|(at, _)| ms_to_utc(*at)),
        close_reason: close.and_then(|(_, reason)| reason),
    }))
}

/// Closed once any till closed it; else received when nothing ordered is
/// outstanding, partially received once any ordered product arrived (not
/// an extra one), open before.
pub(crate) fn status_of(lines: &[PurchaseOrderLineView], closed: bool) -> PurchaseOrderStatus {
    if closed {
        PurchaseOrderStatus::Closed
    } else if lines.iter().all(|l| l.outstanding == 0) {
        PurchaseOrderStatus::Received
    } else if lines.iter().any(|l| l.ordered > 0 && l.received > 0) {
        PurchaseOrderStatus::PartiallyReceived
    } else {
        PurchaseOrderStatus::Open
    }
}

/// outstanding = max(0, ordered − max(0, received)); over = max(0,
/// received − ordered). A net negative receipt (the record rules bound a
/// receipt line, they do not sign it) never makes more outstanding than was
/// ordered.
pub fn outstanding(ordered: i64, received: i64) -> (i64, i64) {
    let diff = i128::from(ordered) - i128::from(received.max(0));
    let clamp = |v: i128| i64::try_from(v.max(0)).unwrap_or(i64::MAX);
    (clamp(diff), clamp(-diff))
}

fn line_view(
    conn: &Connection,
    currency: Currency,
    product_id: String,
    ordered: i64,
    received: i64,
    unit_cost: Option<i64>,
    line_total: Option<i64>,
) -> Result<PurchaseOrderLineView> {
    let (sku, name): (String, String) = conn
        .prepare_cached("SELECT sku, name FROM products WHERE id = ?1")?
        .query_row([&product_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or_default();
    let (outstanding, over) = outstanding(ordered, received);
    Ok(PurchaseOrderLineView {
        product_id,
        sku,
        name,
        ordered,
        received,
        outstanding,
        over,
        unit_cost: unit_cost.map(|c| currency.amount(c)),
        line_total: line_total.map(|t| currency.amount(t)),
    })
}

/// Units each product received against the order, from every receipt
/// naming it (from any till, in any order of arrival).
fn received_by_product(conn: &Connection, order_id: &str) -> Result<HashMap<String, i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT m.product_id, SUM(m.delta) FROM purchase_order_records r
             JOIN stock_movements m ON m.record_id = r.record_id
             WHERE r.order_id = ?1 AND r.kind = 'receipt' GROUP BY m.product_id",
        )?
        .query_map([order_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Every order this till knows, newest first.
pub(crate) fn all_orders(conn: &Connection, currency: Currency) -> Result<Vec<PurchaseOrderView>> {
    let ids: Vec<String> = conn
        .prepare_cached(
            "SELECT id FROM stock_records WHERE kind = 'purchase_order' ORDER BY at DESC, id",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(o) = order(conn, currency, &id)? {
            out.push(o);
        }
    }
    Ok(out)
}

/// Units still expected per product on orders that expect goods: the
/// outstanding quantities of every order not closed (a received order's are
/// 0), in one query.
pub(crate) fn on_order(conn: &Connection) -> Result<HashMap<String, i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT l.product_id, SUM(MAX(0, l.qty - MAX(0, COALESCE(got.qty, 0))))
             FROM purchase_order_lines l
             JOIN stock_records o ON o.id = l.order_id AND o.kind = 'purchase_order'
             LEFT JOIN (SELECT r.order_id, m.product_id, SUM(m.delta) AS qty
                        FROM purchase_order_records r
                        JOIN stock_movements m ON m.record_id = r.record_id
                        WHERE r.kind = 'receipt' GROUP BY r.order_id, m.product_id) got
                    ON got.order_id = l.order_id AND got.product_id = l.product_id
             WHERE NOT EXISTS (SELECT 1 FROM purchase_order_records c
                               WHERE c.order_id = l.order_id AND c.kind = 'close')
             GROUP BY l.product_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

impl Store {
    /// One purchase order, with its lines, receipts and status.
    pub fn purchase_order(&self, id: &str) -> Result<PurchaseOrderView> {
        order(&self.conn, self.currency, id.trim())?
            .ok_or_else(|| CoreError::not_found("purchase order", id.trim()))
    }

    /// Purchase orders, newest first; only those of `status` if given.
    pub fn purchase_orders(
        &self,
        status: Option<PurchaseOrderStatus>,
    ) -> Result<Vec<PurchaseOrderSummary>> {
        Ok(all_orders(&self.conn, self.currency)?
            .into_iter()
            .filter(|o| status.is_none_or(|s| s == o.status))
            .map(|o| PurchaseOrderSummary {
                lines: o.lines.iter().filter(|l| l.ordered > 0).count() as u64,
                ordered: o
                    .lines
                    .iter()
                    .fold(0i64, |a, l| a.saturating_add(l.ordered)),
                outstanding: o
                    .lines
                    .iter()
                    .fold(0i64, |a, l| a.saturating_add(l.outstanding)),
                id: o.id,
                supplier_id: o.supplier_id,
                supplier_name: o.supplier_name,
                created_at: o.created_at,
                status: o.status,
                total: o.total,
            })
            .collect())
    }
}
