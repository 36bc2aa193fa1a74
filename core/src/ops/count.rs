//! Stock counts: start (whole store or chosen products), record counted
//! quantities, review the variance, post. A product not counted stays out
//! of the count; counted zero is a count.

use rusqlite::{Connection, OptionalExtension, params};
use shopsync_types::{CountLineView, CountStatus, CountView};

use super::lookup;
use crate::clock;
use crate::error::{CoreError, Result};
use crate::ids::new_id;
use crate::queries::stock_at;
use crate::records::{CountLine, CountRecord, Record};
use crate::store::Store;

#[derive(Debug, Clone)]
pub enum CountScope {
    WholeStore,
    Products(Vec<String>),
}

/// (product id, sku, name, unit value, counted, counted at, counted stamp)
type CountRow = (
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn session(conn: &Connection, id: &str) -> Result<(i64, bool, Option<i64>, Option<String>)> {
    conn.query_row(
        "SELECT started_at, whole_store, posted_at, record_id FROM count_sessions WHERE id = ?1",
        [id.trim()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .optional()?
    .ok_or_else(|| CoreError::not_found("count", id.trim()))
}

impl Store {
    pub fn count_start(&mut self, scope: CountScope) -> Result<String> {
        let mut product_ids = Vec::new();
        if let CountScope::Products(codes) = &scope {
            if codes.is_empty() {
                return Err(CoreError::invalid(
                    "sku",
                    "name products to count, or count the whole store",
                ));
            }
            for code in codes {
                product_ids.push(lookup::by_code(&self.conn, self.currency, code)?.id);
            }
        }
        let id = new_id();
        let now = self.now_ms();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO count_sessions (id, started_at, whole_store) VALUES (?1, ?2, ?3)",
            params![id, now, matches!(scope, CountScope::WholeStore)],
        )?;
        for pid in product_ids {
            tx.execute(
                "INSERT OR IGNORE INTO count_session_lines (count_id, product_id) VALUES (?1, ?2)",
                params![id, pid],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Records the counted quantity of one product, as of now. On a line
    /// already counted this is a correction: the quantity changes, the time
    /// it was counted does not (use [`Store::count_recount`] when the product
    /// is counted again).
    pub fn count_record(
        &mut self,
        count_id: &str,
        code: &str,
        counted: i64,
    ) -> Result<CountLineView> {
        self.count_line(count_id, code, counted, false)
    }

    /// Records the counted quantity of a product counted again: the line
    /// takes the new quantity and the time of this count.
    pub fn count_recount(
        &mut self,
        count_id: &str,
        code: &str,
        counted: i64,
    ) -> Result<CountLineView> {
        self.count_line(count_id, code, counted, true)
    }

    fn count_line(
        &mut self,
        count_id: &str,
        code: &str,
        counted: i64,
        recount: bool,
    ) -> Result<CountLineView> {
        let (_, whole, posted, _) = session(&self.conn, count_id)?;
        if posted.is_some() {
            return Err(CoreError::Conflict(format!(
                "count {} is already posted",
                count_id.trim()
            )));
        }
        if counted < 0 {
            return Err(CoreError::invalid(
                "qty",
                format!("a counted quantity cannot be negative ({counted})"),
            ));
        }
        let product = lookup::by_code(&self.conn, self.currency, code)?;
        let in_scope: bool = self
            .conn
            .prepare("SELECT 1 FROM count_session_lines WHERE count_id = ?1 AND product_id = ?2")?
            .exists(params![count_id.trim(), product.id])?;
        if !whole && !in_scope {
            return Err(CoreError::invalid(
                "sku",
                format!("'{}' is not part of this count", product.sku),
            ));
        }
        let now = self.now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // The line's causal stamp: after every movement this till has seen.
        let stamp = clock::tick(&tx, now, &self.info.till_id)?;
        tx.execute(
            "INSERT INTO count_session_lines (count_id, product_id, counted, counted_at, counted_hlc)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (count_id, product_id) DO UPDATE SET counted = excluded.counted,
                 counted_at = CASE WHEN ?6 OR counted IS NULL OR counted_at IS NULL
                                   THEN excluded.counted_at ELSE counted_at END,
                 counted_hlc = CASE WHEN ?6 OR counted IS NULL OR counted_at IS NULL
                                    THEN excluded.counted_hlc ELSE counted_hlc END",
            params![count_id.trim(), product.id, counted, now, stamp, recount],
        )?;
        tx.commit()?;
        let view = self.count_view(count_id)?;
        view.lines
            .into_iter()
            .find(|l| l.product_id == product.id)
            .ok_or_else(|| CoreError::not_found("count line", product.sku))
    }

    /// The count with expected, counted and difference for each product; a
    /// difference is valued at the latest received cost, else the catalog's
    /// cost, else the price (`crate::purchase::costs`).
    pub fn count_view(&self, count_id: &str) -> Result<CountView> {
        let (started_at, whole, posted, record_id) = session(&self.conn, count_id)?;
        let c = self.currency;
        let sql = if whole {
            "SELECT p.id, p.sku, p.name, COALESCE((SELECT rc.unit_cost FROM receipt_costs rc WHERE rc.product_id = p.id ORDER BY rc.hlc DESC, rc.record_id DESC, rc.idx DESC LIMIT 1), p.cost, p.price), l.counted, l.counted_at, l.counted_hlc
             FROM products p LEFT JOIN count_session_lines l ON l.product_id = p.id AND l.count_id = ?1
             WHERE p.active = 1 OR l.counted IS NOT NULL ORDER BY p.sku"
        } else {
            "SELECT p.id, p.sku, p.name, COALESCE((SELECT rc.unit_cost FROM receipt_costs rc WHERE rc.product_id = p.id ORDER BY rc.hlc DESC, rc.record_id DESC, rc.idx DESC LIMIT 1), p.cost, p.price), l.counted, l.counted_at, l.counted_hlc
             FROM count_session_lines l JOIN products p ON p.id = l.product_id
             WHERE l.count_id = ?1 ORDER BY p.sku"
        };
        let rows: Vec<CountRow> = self
            .conn
            .prepare(sql)?
            .query_map([count_id.trim()], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let now = self.now_ms();
        let mut lines = Vec::with_capacity(rows.len());
        let next_stamp = clock::peek(&self.conn, now)?;
        for (id, sku, name, value, counted, counted_at, counted_hlc) in rows {
            // Once posted, the count itself is in the stock history: show what
            // was expected when it was posted.
            let posted_expected: Option<i64> = match &record_id {
                Some(rid) => self
                    .conn
                    .prepare_cached("SELECT expected FROM stock_counts WHERE record_id = ?1 AND product_id = ?2")?
                    .query_row(params![rid, id], |r| r.get(0))
                    .optional()?,
                None => None,
            };
            let expected = match posted_expected {
                Some(e) => e,
                None => stock_at(&self.conn, &id, counted_hlc.unwrap_or(next_stamp))?,
            };
            let difference = counted.map(|n| n - expected);
            lines.push(CountLineView {
                product_id: id,
                sku,
                name,
                expected,
                counted,
                difference,
                difference_value: difference.map(|d| c.amount(d.saturating_mul(value))),
                counted_at: counted_at.and_then(chrono::DateTime::from_timestamp_millis),
            });
        }
        Ok(CountView {
            count_id: count_id.trim().to_string(),
            started_at: chrono::DateTime::from_timestamp_millis(started_at).unwrap_or_default(),
            status: if posted.is_some() {
                CountStatus::Posted
            } else {
                CountStatus::Open
            },
            whole_store: whole,
            lines,
        })
    }

    /// Posts the counted lines to the ledger. Stock of each counted product
    /// becomes its counted quantity plus every movement after it was counted
    /// (by causal stamp, see `crate::clock`).
    pub fn count_post(&mut self, count_id: &str) -> Result<CountView> {
        let view = self.count_view(count_id)?;
        if view.status == CountStatus::Posted {
            return Err(CoreError::Conflict(format!(
                "count {} is already posted",
                view.count_id
            )));
        }
        let stamps: std::collections::HashMap<String, i64> = self
            .conn
            .prepare(
                "SELECT product_id, counted_hlc FROM count_session_lines
                 WHERE count_id = ?1 AND counted_hlc IS NOT NULL",
            )?
            .query_map([view.count_id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let lines: Vec<CountLine> = view
            .lines
            .iter()
            .filter_map(|l| {
                Some(CountLine {
                    product_id: l.product_id.clone(),
                    at: l.counted_at?.timestamp_millis(),
                    counted: l.counted?,
                    expected: l.expected,
                    hlc: stamps.get(&l.product_id).copied(),
                })
            })
            .collect();
        if lines.is_empty() {
            return Err(CoreError::invalid("count", "nothing has been counted yet"));
        }
        let who = self.authorize_acting(&[crate::staff::Action::PostCount])?;
        let record_id = new_id();
        let started_at = view.started_at.timestamp_millis();
        let cid = view.count_id.clone();
        self.write(|w| {
            w.append(&Record::Count(CountRecord {
                id: record_id.clone(),
                at: w.now,
                started_at,
                lines,
                hlc: None,
                staff_id: who.staff_id,
                approver_id: who.approver_id,
            }))?;
            w.conn.execute(
                "UPDATE count_sessions SET posted_at = ?1, record_id = ?2 WHERE id = ?3",
                params![w.now, record_id, cid],
            )?;
            Ok(())
        })?;
        self.count_view(count_id)
    }

    pub fn open_counts(&self) -> Result<Vec<String>> {
        Ok(self
            .conn
            .prepare("SELECT id FROM count_sessions WHERE posted_at IS NULL ORDER BY started_at")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }
}
