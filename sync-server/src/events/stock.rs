//! `shopsync.{store}.stock.low`: a product whose available stock went from
//! above its reorder point to at or below it because of the stock
//! movements (sales, refunds, receipts, counts, …) of a page of the shop's
//! feed, read on the server's replica: its `stock_levels` projection is
//! the one every till keeps, before and after the page is imported.

use serde::Serialize;
use shopsync_core::Store;

use super::{OutboxEvent, SCHEMA_VERSION, subject, to_json};
use crate::public_derive::DeriveError;

#[derive(Debug, Serialize)]
pub struct StockLow<'a> {
    pub schema_version: u32,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub store_id: &'a str,
    pub product_id: &'a str,
    pub sku: &'a str,
    pub name: &'a str,
    pub reorder_point: i64,
    /// On hand less what customers' accepted orders hold.
    pub available: i64,
    pub previous_available: i64,
    pub on_hand: i64,
    pub reserved: i64,
    /// The server's sequence number of the last change of the page that
    /// crossed it.
    pub seq: u64,
}

fn core(e: rusqlite::Error) -> DeriveError {
    DeriveError::Core(e.into())
}

/// Before a page with ledger changes is imported: every product's stock on
/// hand, kept in a temporary table of the replica's connection (not in
/// memory).
pub fn before(replica: &Store) -> Result<(), DeriveError> {
    replica
        .connection()
        .execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS events_stock_before (
                 product_id TEXT PRIMARY KEY, on_hand INTEGER NOT NULL);
             DELETE FROM temp.events_stock_before;
             INSERT INTO temp.events_stock_before SELECT product_id, on_hand FROM stock_levels;",
        )
        .map_err(core)
}

/// After the page is imported: a `stock.low` per active product with a
/// reorder point whose stock on hand went down across it (with the units
/// orders hold, as now, on both sides) from above its reorder point to at
/// or below it. `seq` is the page's last sequence number.
pub fn crossings(
    replica: &Store,
    store_id: &str,
    seq: u64,
) -> Result<Vec<OutboxEvent>, DeriveError> {
    let mut stmt = replica
        .connection()
        .prepare(
            "SELECT p.id, p.sku, p.name, p.reorder_point, COALESCE(b.on_hand, 0), s.on_hand,
                    COALESCE((SELECT SUM(l.qty) FROM order_lines l
                              JOIN orders o ON o.customer_id = l.customer_id AND o.id = l.order_id
                              WHERE l.sku = p.sku AND l.unavailable = 0
                                AND o.status IN ('accepted', 'ready')), 0)
             FROM stock_levels s
             JOIN products p ON p.id = s.product_id
             LEFT JOIN temp.events_stock_before b ON b.product_id = s.product_id
             WHERE p.reorder_point IS NOT NULL AND p.active = 1
               AND s.on_hand < COALESCE(b.on_hand, 0)
             ORDER BY p.sku, p.id",
        )
        .map_err(core)?;
    let mut rows = stmt.query([]).map_err(core)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(core)? {
        let (id, sku, name): (String, String, String) = (
            r.get(0).map_err(core)?,
            r.get(1).map_err(core)?,
            r.get(2).map_err(core)?,
        );
        let reorder_point: i64 = r.get(3).map_err(core)?;
        let before: i64 = r.get(4).map_err(core)?;
        let on_hand: i64 = r.get(5).map_err(core)?;
        let reserved: i64 = r.get(6).map_err(core)?;
        let (previous, available) = (before - reserved, on_hand - reserved);
        if !(previous > reorder_point && available <= reorder_point) {
            continue;
        }
        let event_id = format!("{store_id}/stock.low/{id}/{seq}");
        let event = StockLow {
            schema_version: SCHEMA_VERSION,
            event_id: event_id.clone(),
            kind: "stock.low",
            store_id,
            product_id: &id,
            sku: &sku,
            name: &name,
            reorder_point,
            available,
            previous_available: previous,
            on_hand,
            reserved,
            seq,
        };
        out.push(OutboxEvent {
            subject: subject(store_id, event.kind),
            payload: to_json(&event),
            event_id,
        });
    }
    Ok(out)
}
