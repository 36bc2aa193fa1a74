//! Refunds as a list, filtered by day, till and staff member (sales are
//! listed by `Store::sales`, which takes a staff id too).

use rusqlite::params;
use serde::Serialize;
use shopsync_types::Amount;

use crate::error::Result;
use crate::queries::SalesFilter;
use crate::store::Store;

/// One refund as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundSummary {
    pub refund_id: String,
    pub sale_id: String,
    /// The refunded sale's receipt number; `None` while that sale has not
    /// reached this till.
    pub sale_number: Option<String>,
    pub till_id: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub amount: Amount,
    pub tender: String,
    /// Who made the refund; `None` on a store without staff.
    pub staff_id: Option<String>,
    /// Who approved it, when the maker's role needed an approval.
    pub approver_id: Option<String>,
}

impl Store {
    /// Refunds, newest first, by the same filter as sales (`sku`: refunds
    /// of a sale with a line of that SKU).
    pub fn refunds(&self, f: &SalesFilter) -> Result<Vec<RefundSummary>> {
        let from = f.from.map_or(i64::MIN, |d| self.zone.day_start_ms(d));
        let to = f.to.map_or(i64::MAX, |d| self.zone.day_end_ms(d));
        let c = self.currency;
        Ok(self
            .conn
            .prepare_cached(
                "SELECT r.id, r.sale_id, r.till_id, r.at, r.amount, r.tender, r.staff_id, r.approver_id,
                        (SELECT s.number FROM sales s WHERE s.id = r.sale_id)
                 FROM refunds r
                 WHERE r.at >= ?1 AND r.at < ?2 AND (?3 IS NULL OR r.till_id = ?3)
                   AND (?4 IS NULL OR EXISTS (SELECT 1 FROM sale_lines l WHERE l.sale_id = r.sale_id AND l.sku = ?4))
                   AND (?5 IS NULL OR r.staff_id = ?5)
                 ORDER BY r.at DESC, r.id DESC LIMIT ?6",
            )?
            .query_map(
                params![from, to, f.till_id, f.sku, f.staff_id, f.limit.unwrap_or(1000)],
                |r| {
                    Ok(RefundSummary {
                        refund_id: r.get(0)?,
                        sale_id: r.get(1)?,
                        till_id: r.get(2)?,
                        at: chrono::DateTime::from_timestamp_millis(r.get(3)?).unwrap_or_default(),
                        amount: c.amount(r.get(4)?),
                        tender: r.get(5)?,
                        staff_id: r.get(6)?,
                        approver_id: r.get(7)?,
                        sale_number: r.get(8)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<_>>()?)
    }
}
