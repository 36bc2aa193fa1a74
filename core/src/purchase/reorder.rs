//! The reorder list and the low-stock alerts: products at or below their
//! reorder point by available stock (on hand less what accepted pickup
//! orders reserve), with what to order.

use std::collections::{BTreeMap, HashMap};

use shopsync_types::{LowStockAlerts, ReorderGroup, ReorderLine};

use crate::error::Result;
use crate::store::Store;

/// Sales are read over this many store days (today included)…
pub const SALES_WINDOW_DAYS: i64 = 28;
/// …and a product without a target is ordered to cover this many days.
pub const COVER_DAYS: i64 = 14;

/// What to order of a product that is at or below its reorder point:
/// up to the target when it has one (target − available), else enough for
/// [`COVER_DAYS`] at the rate of the last [`SALES_WINDOW_DAYS`] (rounded
/// up); in both cases at least enough to lift it above the reorder point
/// (a target at or below the point, e.g. after two tills edited the point
/// and the target offline, would leave it low); less what is already on
/// order, never below 0.
pub fn suggested_qty(
    available: i64,
    reorder_point: i64,
    target: Option<i64>,
    sold_in_window: i64,
    on_order: i64,
) -> i64 {
    let available = i128::from(available);
    let wanted = match target {
        Some(t) => i128::from(t) - available,
        None => {
            // Rounded up; never negative, so this is the ceiling.
            let units = i128::from(sold_in_window.max(0)) * i128::from(COVER_DAYS);
            let window = i128::from(SALES_WINDOW_DAYS);
            (units + window - 1) / window
        }
    };
    let need = wanted.max(i128::from(reorder_point) + 1 - available);
    let left = (need - i128::from(on_order.max(0))).max(0);
    i64::try_from(left).unwrap_or(i64::MAX)
}

struct Candidate {
    id: String,
    sku: String,
    name: String,
    supplier: Option<String>,
    reorder_point: i64,
    target: Option<i64>,
    cost: Option<i64>,
}

impl Store {
    /// Products at or below their reorder point by available stock, grouped
    /// by supplier (by supplier name; products without a supplier last), each
    /// with a suggested quantity. `supplier`: that supplier's group only.
    pub fn reorder_list(&self, supplier: Option<&str>) -> Result<Vec<ReorderGroup>> {
        if let Some(s) = supplier
            && !crate::ops::lookup::supplier_exists(&self.conn, s)?
        {
            return Err(crate::error::CoreError::not_found("supplier", s));
        }
        let available: HashMap<String, i64> = self
            .stock_levels(None, false)?
            .into_iter()
            .map(|s| (s.product_id, s.available))
            .collect();
        let candidates: Vec<Candidate> = self
            .conn
            .prepare(
                "SELECT id, sku, name, supplier_id, reorder_point, reorder_target, cost FROM products
                 WHERE active = 1 AND reorder_point IS NOT NULL ORDER BY sku, id",
            )?
            .query_map([], |r| {
                Ok(Candidate {
                    id: r.get(0)?,
                    sku: r.get(1)?,
                    name: r.get(2)?,
                    supplier: r.get(3)?,
                    reorder_point: r.get(4)?,
                    target: r.get(5)?,
                    cost: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let received_costs = super::costs::latest_all(&self.conn)?;
        let sold = self.sold_in_window()?;
        let on_order = super::read::on_order(&self.conn)?;
        let names: HashMap<String, String> = self
            .suppliers()?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        // Sorted by (no supplier last, supplier name, supplier id).
        let mut groups: BTreeMap<(bool, String, String), ReorderGroup> = BTreeMap::new();
        for c in candidates {
            let avail = available.get(&c.id).copied().unwrap_or(0);
            if avail > c.reorder_point || supplier.is_some_and(|s| c.supplier.as_deref() != Some(s))
            {
                continue;
            }
            let sold_28_days = sold.get(&c.id).copied().unwrap_or(0);
            let ordered = on_order.get(&c.id).copied().unwrap_or(0);
            let name = c.supplier.as_ref().and_then(|s| names.get(s)).cloned();
            let key = (
                c.supplier.is_none(),
                name.clone().unwrap_or_default(),
                c.supplier.clone().unwrap_or_default(),
            );
            let group = groups.entry(key).or_insert_with(|| ReorderGroup {
                supplier_id: c.supplier.clone(),
                supplier_name: name,
                lines: Vec::new(),
            });
            let cost = received_costs.get(&c.id).copied().or(c.cost);
            group.lines.push(ReorderLine {
                suggested: suggested_qty(avail, c.reorder_point, c.target, sold_28_days, ordered),
                product_id: c.id,
                sku: c.sku,
                name: c.name,
                available: avail,
                reorder_point: c.reorder_point,
                reorder_target: c.target,
                sold_28_days,
                on_order: ordered,
                unit_cost: cost.map(|m| self.currency.amount(m)),
            });
        }
        Ok(groups.into_values().collect())
    }

    /// Units sold per product in the last [`SALES_WINDOW_DAYS`] store days.
    fn sold_in_window(&self) -> Result<HashMap<String, i64>> {
        let first = self.today() - chrono::Days::new(SALES_WINDOW_DAYS as u64 - 1);
        let from = self.zone.day_start_ms(first);
        // Up to the end of today: sales dated later (a till whose clock ran
        // ahead) are not a rate of sale yet.
        let to = self.zone.day_end_ms(self.today());
        Ok(self
            .conn
            .prepare(
                "SELECT l.product_id, SUM(l.qty) FROM sale_lines l JOIN sales s ON s.id = l.sale_id
                 WHERE s.at >= ?1 AND s.at < ?2 GROUP BY l.product_id",
            )?
            .query_map([from, to], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Active products at or below their reorder point by available stock
    /// now: what the app polls after each sync for its badge.
    pub fn low_stock_alerts(&self) -> Result<LowStockAlerts> {
        // Filtered in SQL: the app asks every 30 s and on every change of
        // screen, and a list of every product's level would hold the store
        // (and a sale waiting for it) for a big catalog's length.
        let products = self.stock_levels_where(
            "p.active = 1 AND p.reorder_point IS NOT NULL
             AND COALESCE(s.on_hand, 0) - reserved <= p.reorder_point",
        )?;
        Ok(LowStockAlerts {
            count: products.len() as u64,
            products,
        })
    }
}
