//! Read-only queries over the projections.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use shopsync_types::{
    Product, RefundSummary, SaleDetail, SaleSummary, StockLevel, StockStatus, Supplier, TaxClass,
    TaxTotal, TenderKind, TenderView, ZReport,
};

use crate::error::{CoreError, Result};
use crate::ops::lookup::{self, PRODUCT_COLUMNS, product_from_row};
use crate::ops::sell::line_view;
use crate::records::SaleLine;
use crate::store::Store;

/// Stock of a product as of time `t`: the latest count at or before `t`
/// plus movements after that count and up to `t`.
/// Stock of a product as of causal stamp `stamp` (see `crate::clock`): the
/// latest count stamped at or before it plus the movements stamped after that
/// count, up to `stamp`.
pub(crate) fn stock_at(conn: &Connection, product_id: &str, stamp: i64) -> Result<i64> {
    let count: Option<(i64, i64)> = conn
        .prepare_cached(
            "SELECT hlc, counted FROM stock_counts WHERE product_id = ?1 AND hlc <= ?2
             ORDER BY hlc DESC, record_id DESC LIMIT 1",
        )?
        .query_row(params![product_id, stamp], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (from, base) = count.unwrap_or((i64::MIN, 0));
    let moved: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(delta), 0) FROM stock_movements WHERE product_id = ?1 AND hlc > ?2 AND hlc <= ?3",
        )?
        .query_row(params![product_id, from, stamp], |r| r.get(0))?;
    Ok(base + moved)
}

fn tender_kind(s: &str) -> TenderKind {
    TenderKind::from_code(s)
}

fn ms_to_utc(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[derive(Debug, Clone, Default)]
pub struct SalesFilter {
    /// First day included (the store's calendar day, see `Store::zone`).
    pub from: Option<NaiveDate>,
    /// Last day included.
    pub to: Option<NaiveDate>,
    pub till_id: Option<String>,
    /// Only sales with a line of this SKU.
    pub sku: Option<String>,
    /// Only sales this staff member made (a staff id).
    pub staff_id: Option<String>,
    pub limit: Option<u32>,
}

/// A name search ranks (bm25) at most this many full-text matches, taken in
/// catalog order, instead of ranking every match: `ORDER BY rank` over all
/// matches of a short prefix ("s", "choc") in a 100k catalog costs 10-200 ms,
/// ranking 200 costs ~1 ms. The cashier sees 20 and types on to narrow.
/// The in-memory name index (`crate::search`) keeps the same rule, so both
/// paths return the same products.
pub(crate) const NAME_CANDIDATES: u32 = 200;

impl Store {
    pub fn product_by_id(&self, id: &str) -> Result<Product> {
        let mut p = lookup::by_id(&self.conn, self.currency, id)?
            .ok_or_else(|| CoreError::not_found("product", id))?;
        crate::ops::catalog_fixes::fill_sku_clash(&self.conn, &mut p)?;
        Ok(p)
    }

    pub fn product(&self, sku: &str) -> Result<Product> {
        let mut p = lookup::by_sku(&self.conn, self.currency, sku)?
            .ok_or_else(|| CoreError::not_found("product", sku.trim()))?;
        crate::ops::catalog_fixes::fill_sku_clash(&self.conn, &mut p)?;
        Ok(p)
    }

    /// A product by SKU or barcode (what a scanner sends).
    pub fn product_by_code(&self, code: &str) -> Result<Product> {
        lookup::by_code(&self.conn, self.currency, code)
    }

    /// Products matching a search: exact SKU or barcode first, then SKU and
    /// barcode prefixes, then names containing words that start with each
    /// typed word. An empty query lists products by name.
    pub fn search_products(
        &self,
        query: &str,
        limit: u32,
        include_archived: bool,
    ) -> Result<Vec<Product>> {
        let c = self.currency;
        let q = query.trim();
        let active = if include_archived {
            ""
        } else {
            "AND active = 1"
        };
        if q.is_empty() {
            let mut all: Vec<Product> = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {PRODUCT_COLUMNS} FROM products WHERE 1 = 1 {active} ORDER BY name, sku LIMIT ?1"
                ))?
                .query_map([limit], |r| product_from_row(r, c))?
                .collect::<rusqlite::Result<_>>()?;
            crate::ops::catalog_fixes::fill_sku_clashes(&self.conn, &mut all)?;
            return Ok(all);
        }
        let upper = format!("{q}\u{10FFFF}");
        let mut out: Vec<Product> = Vec::new();
        let push = |p: Product, out: &mut Vec<Product>| {
            if !out.iter().any(|x| x.id == p.id) {
                out.push(p);
            }
        };
        let by_sku = self
            .conn
            .prepare_cached(&format!(
                "SELECT {PRODUCT_COLUMNS} FROM products WHERE sku >= ?1 AND sku < ?2 {active} ORDER BY sku LIMIT ?3"
            ))?
            .query_map(params![q, upper, limit], |r| product_from_row(r, c))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let by_barcode = self
            .conn
            .prepare_cached(&format!(
                "SELECT {PRODUCT_COLUMNS} FROM products WHERE id IN
                   (SELECT product_id FROM product_barcodes WHERE barcode >= ?1 AND barcode < ?2 ORDER BY barcode LIMIT ?3)
                 {active} ORDER BY sku"
            ))?
            .query_map(params![q, upper, limit], |r| product_from_row(r, c))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let exact =
            |p: &Product| p.sku.eq_ignore_ascii_case(q) || p.barcodes.iter().any(|b| b == q);
        for p in by_sku.iter().chain(by_barcode.iter()).filter(|p| exact(p)) {
            push(p.clone(), &mut out);
        }
        for p in by_sku.into_iter().chain(by_barcode) {
            push(p, &mut out);
        }
        let words: Vec<&str> = q
            .split(|ch: char| !ch.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        if !words.is_empty() && out.len() < limit as usize {
            let by_name = self.search_names(&words, limit, include_archived)?;
            for p in by_name {
                push(p, &mut out);
            }
        }
        out.truncate(limit as usize);
        crate::ops::catalog_fixes::fill_sku_clashes(&self.conn, &mut out)?;
        Ok(out)
    }

    pub fn suppliers(&self) -> Result<Vec<Supplier>> {
        Ok(self
            .conn
            .prepare("SELECT id, name, phone, email, notes FROM suppliers ORDER BY name, id")?
            .query_map([], |r| {
                Ok(Supplier {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    phone: r.get(2)?,
                    email: r.get(3)?,
                    notes: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    pub fn supplier(&self, id: &str) -> Result<Supplier> {
        self.suppliers()?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| CoreError::not_found("supplier", id))
    }

    pub fn tax_classes(&self) -> Result<Vec<TaxClass>> {
        Ok(self
            .conn
            .prepare("SELECT id, name, rate_bp, inclusive FROM tax_classes ORDER BY id")?
            .query_map([], |r| {
                Ok(TaxClass {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    rate_bp: r.get(2)?,
                    inclusive: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    pub fn settings(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .conn
            .prepare("SELECT key, value FROM settings ORDER BY key")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Stock levels of active products (and archived ones still holding stock).
    pub fn stock_levels(&self, sku: Option<&str>, low_only: bool) -> Result<Vec<StockLevel>> {
        let product_filter = match sku {
            Some(s) => {
                let p = self.product(s)?;
                format!("p.id = '{}'", p.id.replace('\'', "''"))
            }
            None => "(p.active = 1 OR COALESCE(s.on_hand, 0) <> 0)".to_string(),
        };
        let low = if low_only {
            "AND (COALESCE(s.on_hand, 0) < 0 OR (p.reorder_point IS NOT NULL AND COALESCE(s.on_hand, 0) <= p.reorder_point))"
        } else {
            ""
        };
        self.stock_levels_where(&format!("{product_filter} {low}"))
    }

    /// Stock levels of the products `filter` (SQL over `p`, the product, `s`,
    /// its stock level, and `reserved`, the units customers' accepted
    /// orders hold) selects.
    pub(crate) fn stock_levels_where(&self, filter: &str) -> Result<Vec<StockLevel>> {
        let sql = format!(
            "SELECT p.id, p.sku, p.name, COALESCE(s.on_hand, 0), p.reorder_point, s.count_at,
                    COALESCE((SELECT SUM(l.qty) FROM order_lines l
                              JOIN orders o ON o.customer_id = l.customer_id AND o.id = l.order_id
                              WHERE l.sku = p.sku AND l.unavailable = 0
                                AND o.status IN ('accepted', 'ready')), 0) AS reserved
             FROM products p LEFT JOIN stock_levels s ON s.product_id = p.id
             WHERE {filter} ORDER BY p.sku"
        );
        Ok(self
            .conn
            .prepare(&sql)?
            .query_map([], |r| {
                let on_hand: i64 = r.get(3)?;
                let reorder: Option<i64> = r.get(4)?;
                let reserved: i64 = r.get(6)?;
                let status = if on_hand < 0 {
                    StockStatus::Negative
                } else if reorder.is_some_and(|rp| on_hand <= rp) {
                    StockStatus::Low
                } else {
                    StockStatus::Ok
                };
                Ok(StockLevel {
                    product_id: r.get(0)?,
                    sku: r.get(1)?,
                    name: r.get(2)?,
                    on_hand,
                    reserved,
                    available: on_hand - reserved,
                    reorder_point: reorder,
                    status,
                    last_counted_at: r.get::<_, Option<i64>>(5)?.map(ms_to_utc),
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Products whose stock is below zero: two tills sold the last unit.
    pub fn negative_stock_alerts(&self) -> Result<Vec<StockLevel>> {
        Ok(self
            .stock_levels(None, true)?
            .into_iter()
            .filter(|s| s.status == StockStatus::Negative)
            .collect())
    }

    pub fn sales(&self, f: &SalesFilter) -> Result<Vec<SaleSummary>> {
        let from = f.from.map_or(i64::MIN, |d| self.zone.day_start_ms(d));
        let to = f.to.map_or(i64::MAX, |d| self.zone.day_end_ms(d));
        let sql = "SELECT s.id, s.number, s.till_id, s.at, s.items, s.total, s.tax,
                          COALESCE((SELECT SUM(amount) FROM refunds r WHERE r.sale_id = s.id), 0),
                          (SELECT group_concat(d.id) FROM sales d
                           WHERE d.till_id = s.till_id AND d.number = s.number AND d.id <> s.id),
                          {over},
                          s.staff_id, s.approver_id
                   FROM sales s
                   WHERE s.at >= ?1 AND s.at < ?2 AND (?3 IS NULL OR s.till_id = ?3)
                     AND (?4 IS NULL OR EXISTS (SELECT 1 FROM sale_lines l WHERE l.sale_id = s.id AND l.sku = ?4))
                     AND (?6 IS NULL OR s.staff_id = ?6)
                   ORDER BY s.at DESC, s.id DESC LIMIT ?5";
        let sql = sql.replace("{over}", crate::refund_conflicts::OVER_REFUNDED_SQL);
        let c = self.currency;
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_map(
                params![
                    from,
                    to,
                    f.till_id,
                    f.sku,
                    f.limit.unwrap_or(1000),
                    f.staff_id
                ],
                |r| {
                    Ok(SaleSummary {
                        sale_id: r.get(0)?,
                        number: r.get(1)?,
                        till_id: r.get(2)?,
                        at: ms_to_utc(r.get(3)?),
                        items: r.get(4)?,
                        total: c.amount(r.get(5)?),
                        tax: c.amount(r.get(6)?),
                        refunded: c.amount(r.get(7)?),
                        same_number: id_list(r.get(8)?),
                        over_refunded: r.get(9)?,
                        staff_id: r.get(10)?,
                        approver_id: r.get(11)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<_>>()?)
    }

    pub fn sale(&self, sale_id: &str) -> Result<SaleDetail> {
        let c = self.currency;
        let id = sale_id.trim();
        let head: Option<(SaleSummary, i64, i64, i64)> = self
            .conn
            .query_row(
                "SELECT s.id, s.number, s.till_id, s.at, s.items, s.total, s.tax,
                        COALESCE((SELECT SUM(amount) FROM refunds r WHERE r.sale_id = s.id), 0),
                        s.subtotal, s.discount, s.change,
                        (SELECT group_concat(d.id) FROM sales d
                         WHERE d.till_id = s.till_id AND d.number = s.number AND d.id <> s.id),
                        s.staff_id, s.approver_id
                 FROM sales s WHERE s.id = ?1",
                [id],
                |r| {
                    Ok((
                        SaleSummary {
                            sale_id: r.get(0)?,
                            number: r.get(1)?,
                            till_id: r.get(2)?,
                            at: ms_to_utc(r.get(3)?),
                            items: r.get(4)?,
                            total: c.amount(r.get(5)?),
                            tax: c.amount(r.get(6)?),
                            refunded: c.amount(r.get(7)?),
                            same_number: id_list(r.get(11)?),
                            over_refunded: false,
                            staff_id: r.get(12)?,
                            approver_id: r.get(13)?,
                        },
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                    ))
                },
            )
            .optional()?;
        let (summary, subtotal, discount, change) =
            head.ok_or_else(|| CoreError::not_found("sale", id))?;
        let lines = self
            .conn
            .prepare(
                "SELECT l.product_id, l.sku, l.name, l.qty, l.unit_price, l.override_reason, l.discount, l.tax_class,
                        l.tax_rate_bp, l.tax_inclusive, l.tax, l.total,
                        COALESCE((SELECT SUM(r.qty) FROM refund_lines r WHERE r.sale_id = l.sale_id AND r.line_no = l.line_no), 0)
                 FROM sale_lines l WHERE l.sale_id = ?1 ORDER BY l.line_no",
            )?
            .query_map([id], |r| {
                Ok((
                    SaleLine {
                        product_id: r.get(0)?,
                        sku: r.get(1)?,
                        name: r.get(2)?,
                        qty: r.get(3)?,
                        unit_price: r.get(4)?,
                        override_reason: r.get(5)?,
                        discount_bp: 0,
                        discount: r.get(6)?,
                        tax_class: r.get(7)?,
                        tax_rate_bp: r.get(8)?,
                        tax_inclusive: r.get(9)?,
                        tax: r.get(10)?,
                        total: r.get(11)?,
                    },
                    r.get::<_, i64>(12)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .iter()
            .enumerate()
            .map(|(i, (l, refunded))| line_view(c, i, l, *refunded))
            .collect();
        let tenders = self
            .conn
            .prepare("SELECT kind, amount FROM sale_tenders WHERE sale_id = ?1 ORDER BY idx")?
            .query_map([id], |r| {
                Ok(TenderView {
                    kind: tender_kind(&r.get::<_, String>(0)?),
                    amount: c.amount(r.get(1)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let refunds = self
            .conn
            .prepare(
                "SELECT id, at, amount, tender, till_id FROM refunds WHERE sale_id = ?1 ORDER BY at, id",
            )?
            .query_map([id], |r| {
                Ok(RefundSummary {
                    refund_id: r.get(0)?,
                    at: ms_to_utc(r.get(1)?),
                    amount: c.amount(r.get(2)?),
                    tender: tender_kind(&r.get::<_, String>(3)?),
                    till_id: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let refund_conflicts = crate::refund_conflicts::for_sale(&self.conn, c, id)?;
        let mut summary = summary;
        summary.over_refunded = !refund_conflicts.is_empty();
        Ok(SaleDetail {
            summary,
            subtotal: c.amount(subtotal),
            discount: c.amount(discount),
            lines,
            tenders,
            change: c.amount(change),
            refunds,
            refund_conflicts,
        })
    }

    /// The day's totals (all tills) for one of the store's calendar days
    /// (in the store's time zone, whatever the machine's).
    pub fn z_report(&self, date: NaiveDate) -> Result<ZReport> {
        self.z_report_for(date, None)
    }

    /// The day's totals, of one staff member's sales and refunds when
    /// `staff_id` is given (records made before the store had staff have
    /// none and count only in the whole day's report). Over-refunded sales
    /// are listed as in the whole day's report: the refunds that together
    /// exceed a sale may be different people's.
    pub fn z_report_for(&self, date: NaiveDate, staff_id: Option<&str>) -> Result<ZReport> {
        let c = self.currency;
        let from = self.zone.day_start_ms(date);
        let to = self.zone.day_end_ms(date);
        let range = params![from, to, staff_id];
        let (count, items, gross, discounts, totals, change): (i64, i64, i64, i64, i64, i64) = self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(items), 0), COALESCE(SUM(subtotal), 0), COALESCE(SUM(discount), 0),
                    COALESCE(SUM(total), 0), COALESCE(SUM(change), 0)
             FROM sales WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR staff_id = ?3)",
            range,
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )?;
        let tax = self
            .conn
            .prepare(
                "SELECT l.tax_class, l.tax_rate_bp, SUM(l.total - l.tax), SUM(l.tax)
                 FROM sale_lines l JOIN sales s ON s.id = l.sale_id
                 WHERE s.at >= ?1 AND s.at < ?2 AND (?3 IS NULL OR s.staff_id = ?3) GROUP BY l.tax_class, l.tax_rate_bp ORDER BY l.tax_rate_bp, l.tax_class",
            )?
            .query_map(range, |r| {
                Ok(TaxTotal { tax_class: r.get(0)?, rate_bp: r.get(1)?, taxable: c.amount(r.get(2)?), tax: c.amount(r.get(3)?) })
            })?
            .collect::<rusqlite::Result<_>>()?;
        // One row per kind: codes a newer version wrote ("voucher") join
        // "other" instead of showing a second "other" row.
        let by_kind = |sql: &str| -> Result<Vec<TenderView>> {
            let mut out: Vec<TenderView> = Vec::new();
            let mut rows = self.conn.prepare(sql)?;
            let rows = rows.query_map(range, |r| {
                Ok((tender_kind(&r.get::<_, String>(0)?), r.get::<_, i64>(1)?))
            })?;
            for row in rows {
                let (kind, minor) = row?;
                match out.iter_mut().find(|t| t.kind == kind) {
                    Some(t) => t.amount = c.amount(t.amount.minor.saturating_add(minor)),
                    None => out.push(TenderView {
                        kind,
                        amount: c.amount(minor),
                    }),
                }
            }
            Ok(out)
        };
        let tenders = by_kind(
            "SELECT t.kind, SUM(t.amount) FROM sale_tenders t JOIN sales s ON s.id = t.sale_id
             WHERE s.at >= ?1 AND s.at < ?2 AND (?3 IS NULL OR s.staff_id = ?3) GROUP BY t.kind ORDER BY t.kind",
        )?;
        let refunds_by_tender = by_kind(
            "SELECT tender, SUM(amount) FROM refunds WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR staff_id = ?3) GROUP BY tender ORDER BY tender",
        )?;
        let (refunds_count, refunds_total): (i64, i64) = self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM refunds WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR staff_id = ?3)",
            range,
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let sum_kind = |v: &[TenderView]| {
            v.iter()
                .filter(|t| t.kind == TenderKind::Cash)
                .map(|t| t.amount.minor)
                .sum::<i64>()
        };
        let cash_expected = sum_kind(&tenders) - change - sum_kind(&refunds_by_tender);
        let over_refunded = crate::refund_conflicts::in_range(&self.conn, c, from, to)?;
        let over_refunded_total = over_refunded.iter().map(|o| o.excess_amount.minor).sum();
        Ok(ZReport {
            date,
            sales_count: count,
            items_sold: items,
            gross_sales: c.amount(gross),
            discounts: c.amount(discounts),
            tax,
            tenders,
            change_given: c.amount(change),
            refunds_count,
            refunds_total: c.amount(refunds_total),
            refunds_by_tender,
            net_sales: c.amount(totals - refunds_total),
            cash_expected: c.amount(cash_expected),
            over_refunded,
            over_refunded_total: c.amount(over_refunded_total),
            staff_id: staff_id.map(str::to_string),
        })
    }
}

/// restore: a comma-separated list of ids from `group_concat`, sorted.
fn id_list(ids: Option<String>) -> Vec<String> {
    let mut out: Vec<String> = ids
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    out.sort();
    out
}
