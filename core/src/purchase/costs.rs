//! What goods cost the shop: the latest cost received for a product.
//!
//! A receipt line may carry the unit cost on the supplier's invoice. The
//! latest one (by causal stamp, then record id: the same on every till,
//! whatever order receipts sync in) is the cost the shop works with: the
//! expected cost of the next order and the value of a counted difference.
//! It comes from the ledger, not the catalog, so a cashier receiving a
//! delivery updates it without writing the catalog, and two tills that
//! received offline agree once synced. The catalog's cost is the fallback
//! for a product never received with a cost.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::records::ReceiptLine;

/// Keeps the costs of a receipt being projected (the lines without one
/// change nothing).
pub(crate) fn project(
    conn: &Connection,
    record_id: &str,
    hlc: i64,
    lines: &[ReceiptLine],
) -> Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO receipt_costs (record_id, idx, product_id, hlc, unit_cost)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (i, l) in lines.iter().enumerate() {
        // A negative cost (no till of this version writes one; the record
        // rules bound only its size) is no cost to work with.
        if let Some(cost) = l.unit_cost.filter(|c| *c >= 0) {
            insert.execute(params![record_id, i as i64, l.product_id, hlc, cost])?;
        }
    }
    Ok(())
}

/// The latest cost received for one product, in minor units.
pub fn latest(conn: &Connection, product_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT unit_cost FROM receipt_costs WHERE product_id = ?1
             ORDER BY hlc DESC, record_id DESC, idx DESC LIMIT 1",
        )?
        .query_row([product_id], |r| r.get(0))
        .optional()?)
}

/// The latest cost received for every product received with one.
pub fn latest_all(conn: &Connection) -> Result<HashMap<String, i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT product_id, unit_cost FROM (
                 SELECT product_id, unit_cost, row_number() OVER (
                     PARTITION BY product_id ORDER BY hlc DESC, record_id DESC, idx DESC) AS n
                 FROM receipt_costs)
             WHERE n = 1",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// The cost the shop works with: the latest received, else the catalog's.
pub fn current(
    conn: &Connection,
    product_id: &str,
    catalog_cost: Option<i64>,
) -> Result<Option<i64>> {
    Ok(latest(conn, product_id)?.or(catalog_cost))
}
