//! One record id claimed by records of two tills (found by the shop
//! simulator: a hostile till reused an honest sale's id). Which record a
//! till kept depended on which arrived first, so tills disagreed, and a
//! rebuild (document order) disagreed with both. Now neither record counts:
//! both are set aside in the quarantine, whatever the order they arrive in,
//! and so is any later record with that id. Nothing a device uploads can
//! take over another till's record; the damage is shown, never silent.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::ids::DocId;
use crate::records::Record;
use crate::validate::{Rule, Violation};

/// The rule's name in the quarantine.
pub const RULE: &str = crate::validate::ID_CLASH_RULE;

fn reason(id: &str) -> String {
    format!(
        "record id {id} is used by records of more than one till: none of them counts until the other records are removed (revoke the device that made them)"
    )
}

/// Whether `record` (from `till`'s ledger `doc`) may be projected. If its id
/// is already set aside, or taken by another till's record, it is not: the
/// other record is taken out of the projections and both are quarantined.
pub(crate) fn settle(conn: &Connection, doc: &str, till: &str, record: &Record) -> Result<bool> {
    let id = record.id();
    let Some(store) = DocId::parse(doc).and_then(|d| d.store().map(str::to_string)) else {
        return Ok(true);
    };
    let set_aside: bool = conn
        .prepare_cached("SELECT 1 FROM quarantine WHERE record_key = ?1 AND rule = ?2")?
        .exists(params![id, RULE])?;
    let holder: Option<(String, i64)> = if set_aside {
        None
    } else {
        conn.prepare_cached(
            "SELECT till_id, at FROM sales WHERE id = ?1
             UNION ALL SELECT till_id, at FROM refunds WHERE id = ?1
             UNION ALL SELECT till_id, at FROM stock_records WHERE id = ?1
             UNION ALL SELECT till_id, at FROM drawer_records WHERE id = ?1 LIMIT 1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
    };
    let clash = match &holder {
        Some((t, a)) => t != till || *a != record.at(),
        None => set_aside,
    };
    if !clash {
        return Ok(true);
    }
    if let Some((t, a)) = holder {
        unproject(conn, id)?;
        quarantine(conn, &store, &t, a, id)?;
    }
    quarantine(conn, &store, till, record.at(), id)?;
    Ok(false)
}

/// The row is keyed by the ledger the record's own date puts it in, so the
/// same two records give the same rows in whichever order they arrive.
fn quarantine(conn: &Connection, store: &str, till: &str, at: i64, id: &str) -> Result<()> {
    let when = chrono::DateTime::from_timestamp_millis(at).unwrap_or_default();
    let doc = DocId::ledger(store, till, when, 1).to_string();
    crate::quarantine::put(
        conn,
        &doc,
        Some(till),
        &Violation {
            record: id.to_string(),
            rule: Rule::IdClash,
            detail: reason(id),
        },
    )
}

/// Takes a projected record out of every ledger table and puts the stock of
/// the products it moved back to what the remaining records say.
fn unproject(conn: &Connection, id: &str) -> Result<()> {
    let products: Vec<String> = conn
        .prepare(
            "SELECT product_id FROM stock_movements WHERE record_id = ?1
             UNION SELECT product_id FROM stock_counts WHERE record_id = ?1",
        )?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for sql in [
        "DELETE FROM sale_lines WHERE sale_id = ?1",
        "DELETE FROM sale_tenders WHERE sale_id = ?1",
        "DELETE FROM sales WHERE id = ?1",
        "DELETE FROM refund_lines WHERE refund_id = ?1",
        "DELETE FROM refunds WHERE id = ?1",
        "DELETE FROM stock_movements WHERE record_id = ?1",
        "DELETE FROM stock_counts WHERE record_id = ?1",
        "DELETE FROM stock_records WHERE id = ?1",
        "DELETE FROM drawer_counts WHERE record_id = ?1",
        "DELETE FROM drawer_records WHERE id = ?1",
        // purchasing (issue 10)
        "DELETE FROM purchase_order_lines WHERE order_id = ?1",
        "DELETE FROM purchase_order_records WHERE record_id = ?1",
    ] {
        conn.execute(sql, [id])?;
    }
    for p in products {
        recompute_level(conn, &p)?;
    }
    Ok(())
}

/// A product's stock from its records alone: its latest count (by causal
/// stamp, then record id) plus every movement stamped after it, or the sum
/// of its movements if it was never counted.
fn recompute_level(conn: &Connection, product: &str) -> Result<()> {
    let count: Option<(i64, String, i64, i64)> = conn
        .prepare(
            "SELECT hlc, record_id, counted, at FROM stock_counts WHERE product_id = ?1
             ORDER BY hlc DESC, record_id DESC LIMIT 1",
        )?
        .query_row([product], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let moved: i64 = conn
        .prepare("SELECT COUNT(*) FROM stock_movements WHERE product_id = ?1")?
        .query_row([product], |r| r.get(0))?;
    conn.execute("DELETE FROM stock_levels WHERE product_id = ?1", [product])?;
    match count {
        Some((hlc, record_id, counted, at)) => {
            let after: i64 = conn.query_row(
                "SELECT COALESCE(SUM(delta), 0) FROM stock_movements WHERE product_id = ?1 AND hlc > ?2",
                params![product, hlc],
                |r| r.get(0),
            )?;
            conn.execute(
                "INSERT INTO stock_levels (product_id, on_hand, count_at, count_record_id, count_hlc)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![product, counted + after, at, record_id, hlc],
            )?;
        }
        None if moved > 0 => {
            conn.execute(
                "INSERT INTO stock_levels (product_id, on_hand)
                 SELECT ?1, SUM(delta) FROM stock_movements WHERE product_id = ?1",
                [product],
            )?;
        }
        None => {}
    }
    Ok(())
}
