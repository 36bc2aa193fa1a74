//! The projection of purchasing records: order lines, and which records
//! (the order, receipts, closes) belong to which order. What was received
//! is read from the receipts' stock movements, so it is never stored twice.

use rusqlite::{Connection, params};

use super::records::PurchaseOrderRecord;
use crate::error::Result;

pub(crate) fn order(conn: &Connection, o: &PurchaseOrderRecord) -> Result<()> {
    link(conn, &o.id, &o.id, "order", o.note.as_deref())?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO purchase_order_lines (order_id, line_no, product_id, qty, unit_cost)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (i, l) in o.lines.iter().enumerate() {
        insert.execute(params![
            o.id,
            i as i64 + 1,
            l.product_id,
            l.qty,
            l.unit_cost
        ])?;
    }
    Ok(())
}

/// Names the order a record belongs to. The order may not have arrived
/// yet: the row waits for it, and reads join it once it is there.
pub(crate) fn link(
    conn: &Connection,
    record_id: &str,
    order_id: &str,
    kind: &str,
    note: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO purchase_order_records (record_id, order_id, kind, note) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![record_id, order_id, kind, note])?;
    Ok(())
}
