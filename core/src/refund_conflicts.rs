//! Refund conflicts: two tills refunding the same sale offline both succeed
//! (each saw the whole sale as refundable); after their ledgers merge, a line
//! may show more refunded than sold. Nothing is rewritten: the conflict is
//! computed from the projected sale and refund lines, so it appears whatever
//! order the records arrived in and survives a rebuild unchanged.

use chrono::DateTime;
use rusqlite::{Connection, params};
use shopsync_types::{Currency, OverRefundedSale, RefundConflict, RefundShare};

use crate::error::Result;

/// SQL condition: sale `s` has a line refunded more than sold.
pub(crate) const OVER_REFUNDED_SQL: &str = "EXISTS (SELECT 1 FROM sale_lines ol WHERE ol.sale_id = s.id AND ol.qty <
     (SELECT COALESCE(SUM(orl.qty), 0) FROM refund_lines orl WHERE orl.sale_id = ol.sale_id AND orl.line_no = ol.line_no))";

/// The over-refunded lines of one sale, with every refund of each line.
pub(crate) fn for_sale(
    conn: &Connection,
    currency: Currency,
    sale_id: &str,
) -> Result<Vec<RefundConflict>> {
    let lines: Vec<(u32, String, i64, i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT l.line_no, l.sku, l.qty, l.total, SUM(r.qty), SUM(r.amount)
             FROM sale_lines l JOIN refund_lines r ON r.sale_id = l.sale_id AND r.line_no = l.line_no
             WHERE l.sale_id = ?1
             GROUP BY l.line_no HAVING SUM(r.qty) > l.qty ORDER BY l.line_no",
        )?
        .query_map([sale_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(lines.len());
    for (line_no, sku, sold, total, refunded, refunded_amount) in lines {
        let refunds = conn
            .prepare_cached(
                "SELECT r.refund_id, f.till_id, f.at, r.qty, r.amount
                 FROM refund_lines r JOIN refunds f ON f.id = r.refund_id
                 WHERE r.sale_id = ?1 AND r.line_no = ?2 ORDER BY f.at, r.refund_id",
            )?
            .query_map(params![sale_id, line_no], |r| {
                Ok(RefundShare {
                    refund_id: r.get(0)?,
                    till_id: r.get(1)?,
                    at: DateTime::from_timestamp_millis(r.get(2)?).unwrap_or_default(),
                    qty: r.get(3)?,
                    amount: currency.amount(r.get(4)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        out.push(RefundConflict {
            line_no,
            sku,
            sold,
            refunded,
            excess_amount: currency.amount(refunded_amount.saturating_sub(total).max(0)),
            refunds,
        });
    }
    Ok(out)
}

/// Over-refunded sales with a refund dated in `[from, to)` (UTC ms), for the
/// Z report of that day.
pub(crate) fn in_range(
    conn: &Connection,
    currency: Currency,
    from: i64,
    to: i64,
) -> Result<Vec<OverRefundedSale>> {
    let rows: Vec<(String, String, i64, i64)> = conn
        .prepare_cached(
            "SELECT x.sale_id, s.number, SUM(x.excess_qty), SUM(x.excess_amount) FROM
               (SELECT l.sale_id, SUM(r.qty) - l.qty AS excess_qty, MAX(SUM(r.amount) - l.total, 0) AS excess_amount
                FROM sale_lines l JOIN refund_lines r ON r.sale_id = l.sale_id AND r.line_no = l.line_no
                WHERE l.sale_id IN (SELECT sale_id FROM refunds WHERE at >= ?1 AND at < ?2)
                GROUP BY l.sale_id, l.line_no HAVING SUM(r.qty) > l.qty) x
             JOIN sales s ON s.id = x.sale_id
             GROUP BY x.sale_id ORDER BY s.at, x.sale_id",
        )?
        .query_map(params![from, to], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows
        .into_iter()
        .map(
            |(sale_id, number, excess_qty, excess_amount)| OverRefundedSale {
                sale_id,
                number,
                excess_qty,
                excess_amount: currency.amount(excess_amount),
            },
        )
        .collect())
}
