//! Ledger projection: sales, refunds, stock records, movements, counts and
//! stock levels. Every function here gives the same rows whatever order the
//! records arrive in (records from several tills sync in any order). Counts
//! and movements are ordered by causal stamp (`crate::clock`), not by date.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::records::{CountLine, Record};

pub fn apply(conn: &Connection, till_id: &str, record: &Record) -> Result<()> {
    id_not_taken(conn, record.id(), till_id, record.at())?;
    apply_settled(conn, till_id, record)
}

/// [`apply`] for a record whose id `id_clash::settle` has just found free
/// (or its own): the same lookup again cost ~4% of applying a large page.
pub(crate) fn apply_settled(conn: &Connection, till_id: &str, record: &Record) -> Result<()> {
    crate::clock::observe_record(conn, record)?;
    let hlc = record.hlc();
    let (staff, approver) = record.attribution();
    match record {
        Record::Sale(s) => {
            let items: i64 = s.lines.iter().map(|l| l.qty).sum();
            let paid: i64 = s.tenders.iter().map(|t| t.amount).sum();
            let inserted = conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO sales (id, number, till_id, at, items, subtotal, discount, tax, total, paid, change, seq,
                                                  staff_id, approver_id, drawer_session)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )?
                .execute(params![s.id, s.number, till_id, s.at, items, s.subtotal, s.discount, s.tax, s.total, paid, s.change, i64::try_from(s.seq).unwrap_or(i64::MAX), staff, approver, s.drawer_session])?;
            if inserted == 0 {
                return Ok(());
            }
            let mut line_stmt = conn.prepare_cached(
                "INSERT INTO sale_lines (sale_id, line_no, product_id, sku, name, qty, unit_price, override_reason,
                                         discount, tax_class, tax_rate_bp, tax_inclusive, tax, total)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?;
            for (i, l) in s.lines.iter().enumerate() {
                line_stmt.execute(params![
                    s.id,
                    i as i64 + 1,
                    l.product_id,
                    l.sku,
                    l.name,
                    l.qty,
                    l.unit_price,
                    l.override_reason,
                    l.discount,
                    l.tax_class,
                    l.tax_rate_bp,
                    l.tax_inclusive,
                    l.tax,
                    l.total
                ])?;
            }
            let mut tender_stmt = conn.prepare_cached(
                "INSERT INTO sale_tenders (sale_id, idx, kind, amount) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (i, t) in s.tenders.iter().enumerate() {
                tender_stmt.execute(params![s.id, i as i64, t.kind.as_str(), t.amount])?;
            }
            for (i, l) in s.lines.iter().enumerate() {
                movement(conn, &s.id, i, &l.product_id, (s.at, hlc), -l.qty, "sale")?;
            }
        }
        Record::Refund(r) => {
            let inserted = conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO refunds (id, sale_id, till_id, at, amount, tax, tender, staff_id, approver_id,
                                                    drawer_session)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?
                .execute(params![
                    r.id,
                    r.sale_id,
                    till_id,
                    r.at,
                    r.amount,
                    r.tax,
                    r.tender.as_str(),
                    staff,
                    approver,
                    r.drawer_session
                ])?;
            if inserted == 0 {
                return Ok(());
            }
            let mut line_stmt = conn.prepare_cached(
                "INSERT INTO refund_lines (refund_id, sale_id, line_no, qty, amount, tax) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for l in &r.lines {
                line_stmt.execute(params![r.id, r.sale_id, l.line_no, l.qty, l.amount, l.tax])?;
            }
            if r.restock {
                for (i, l) in r.lines.iter().enumerate() {
                    movement(conn, &r.id, i, &l.product_id, (r.at, hlc), l.qty, "refund")?;
                }
            }
        }
        Record::Receipt(r) => {
            if stock_record(
                conn,
                &r.id,
                "receipt",
                till_id,
                r.at,
                r.supplier_id.as_deref(),
                None,
                (staff, approver),
            )? {
                for (i, l) in r.lines.iter().enumerate() {
                    movement(conn, &r.id, i, &l.product_id, (r.at, hlc), l.qty, "receipt")?;
                }
                crate::purchase::costs::project(conn, &r.id, hlc, &r.lines)?;
                if let Some(order) = &r.order_id {
                    crate::purchase::project::link(conn, &r.id, order, "receipt", None)?;
                }
            }
        }
        Record::Adjustment(a) => {
            if stock_record(
                conn,
                &a.id,
                "adjustment",
                till_id,
                a.at,
                None,
                Some(a.reason.as_str()),
                (staff, approver),
            )? {
                movement(
                    conn,
                    &a.id,
                    0,
                    &a.product_id,
                    (a.at, hlc),
                    a.delta,
                    a.reason.as_str(),
                )?;
            }
        }
        Record::Count(c) => {
            if stock_record(
                conn,
                &c.id,
                "count",
                till_id,
                c.at,
                None,
                None,
                (staff, approver),
            )? {
                for line in &c.lines {
                    count_line(conn, &c.id, line)?;
                }
            }
        }
        Record::DrawerOpen(_) | Record::DrawerMove(_) | Record::DrawerClose(_) => {
            crate::drawer::project::apply(conn, till_id, record)?;
        }
        // purchasing (issue 10): no stock moves until goods are received
        Record::PurchaseOrder(o) => {
            let who = (staff, approver);
            let supplier = Some(o.supplier_id.as_str());
            if stock_record(
                conn,
                &o.id,
                "purchase_order",
                till_id,
                o.at,
                supplier,
                None,
                who,
            )? {
                crate::purchase::project::order(conn, o)?;
            }
        }
        Record::PurchaseOrderClose(c) => {
            let who = (staff, approver);
            if stock_record(
                conn,
                &c.id,
                "purchase_order_close",
                till_id,
                c.at,
                None,
                None,
                who,
            )? {
                let reason = c.reason.as_deref();
                crate::purchase::project::link(conn, &c.id, &c.order_id, "close", reason)?;
            }
        }
    }
    Ok(())
}

/// A record id already projected must be the same record seen again (same
/// till, same time), not another record, of any kind, reusing the id: that
/// one is refused, and the caller quarantines it (issue 7, part 3).
fn id_not_taken(conn: &Connection, id: &str, till_id: &str, at: i64) -> Result<()> {
    let existing: Option<(String, i64)> = conn
        .prepare_cached(
            "SELECT till_id, at FROM sales WHERE id = ?1
             UNION ALL SELECT till_id, at FROM refunds WHERE id = ?1
             UNION ALL SELECT till_id, at FROM stock_records WHERE id = ?1
             UNION ALL SELECT till_id, at FROM drawer_records WHERE id = ?1 LIMIT 1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match existing {
        Some((t, a)) if t != till_id || a != at => Err(crate::error::CoreError::Conflict(format!(
            "record id {id} is already used by another record (of till {t})"
        ))),
        _ => Ok(()),
    }
}

#[allow(clippy::too_many_arguments)]
fn stock_record(
    conn: &Connection,
    id: &str,
    kind: &str,
    till_id: &str,
    at: i64,
    supplier: Option<&str>,
    reason: Option<&str>,
    (staff, approver): (Option<&str>, Option<&str>),
) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO stock_records (id, kind, till_id, at, supplier_id, reason, staff_id, approver_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![id, kind, till_id, at, supplier, reason, staff, approver])?;
    Ok(n > 0)
}

/// Records a movement and, unless the product's latest count already covers
/// it (the count's causal stamp is at or after the movement's), adds it to the
/// product's stock level. `when` is (date, causal stamp).
fn movement(
    conn: &Connection,
    record_id: &str,
    idx: usize,
    product_id: &str,
    when: (i64, i64),
    delta: i64,
    kind: &str,
) -> Result<()> {
    let (at, hlc) = when;
    conn.prepare_cached(
        "INSERT INTO stock_movements (record_id, idx, product_id, at, delta, kind, hlc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![record_id, idx as i64, product_id, at, delta, kind, hlc])?;
    conn.prepare_cached(
        "INSERT INTO stock_levels (product_id, on_hand) VALUES (?1, ?2)
         ON CONFLICT (product_id) DO UPDATE SET on_hand = on_hand + excluded.on_hand
         WHERE count_hlc IS NULL OR ?3 > count_hlc",
    )?
    .execute(params![product_id, delta, hlc])?;
    Ok(())
}

/// A count line says "stock when this line was counted was `counted`". If it
/// is the latest count of the product (by causal stamp, then record id),
/// stock becomes the counted quantity plus every movement stamped after it.
fn count_line(conn: &Connection, record_id: &str, line: &CountLine) -> Result<()> {
    let hlc = line.stamp();
    conn.prepare_cached(
        "INSERT INTO stock_counts (record_id, product_id, at, counted, expected, hlc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![record_id, line.product_id, line.at, line.counted, line.expected, hlc])?;
    let current: Option<(Option<i64>, Option<String>)> = conn
        .prepare_cached(
            "SELECT count_hlc, count_record_id FROM stock_levels WHERE product_id = ?1",
        )?
        .query_row([&line.product_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let newer = match &current {
        Some((Some(h), Some(rid))) => (hlc, record_id) > (*h, rid.as_str()),
        _ => true,
    };
    if !newer {
        return Ok(());
    }
    let after: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(delta), 0) FROM stock_movements WHERE product_id = ?1 AND hlc > ?2",
        )?
        .query_row(params![line.product_id, hlc], |r| r.get(0))?;
    conn.prepare_cached(
        "INSERT INTO stock_levels (product_id, on_hand, count_at, count_record_id, count_hlc) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (product_id) DO UPDATE SET on_hand = excluded.on_hand, count_at = excluded.count_at,
             count_record_id = excluded.count_record_id, count_hlc = excluded.count_hlc",
    )?
    .execute(params![line.product_id, line.counted + after, line.at, record_id, hlc])?;
    Ok(())
}
