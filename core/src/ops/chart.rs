//! Sales totals by hour of a day and by day of a range (local time), for the
//! till's charts.

use chrono::{Duration, NaiveDate};
use rusqlite::params;
use shopsync_types::ipc::{ChartBucket, SalesChart};

use crate::error::{CoreError, Result};
use crate::queries::local_day_start;
use crate::store::Store;

impl Store {
    /// Sales of `date` by hour, and of `from..=to` by day.
    pub fn sales_chart(
        &self,
        date: NaiveDate,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<SalesChart> {
        if to < from || (to - from).num_days() > 366 {
            return Err(CoreError::invalid(
                "to",
                "the day range must run forwards and span at most a year",
            ));
        }
        let c = self.currency;
        let day_end = |d: NaiveDate| d.succ_opt().map_or(i64::MAX, local_day_start);
        let mut by_hour: Vec<ChartBucket> = (0..24)
            .map(|h| ChartBucket {
                label: format!("{h:02}"),
                sales: 0,
                total: c.amount(0),
            })
            .collect();
        let mut stmt = self.conn.prepare(
            "SELECT CAST(strftime('%H', at / 1000, 'unixepoch', 'localtime') AS INTEGER), COUNT(*), SUM(total)
             FROM sales WHERE at >= ?1 AND at < ?2 GROUP BY 1",
        )?;
        let rows = stmt.query_map(params![local_day_start(date), day_end(date)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (h, n, total) = row?;
            if let Some(b) = usize::try_from(h).ok().and_then(|h| by_hour.get_mut(h)) {
                b.sales = n;
                b.total = c.amount(total);
            }
        }
        let mut by_day = Vec::new();
        let mut stmt = self.conn.prepare(
            "SELECT date(at / 1000, 'unixepoch', 'localtime'), COUNT(*), SUM(total)
             FROM sales WHERE at >= ?1 AND at < ?2 GROUP BY 1",
        )?;
        let found: Vec<(String, i64, i64)> = stmt
            .query_map(params![local_day_start(from), day_end(to)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut d = from;
        while d <= to {
            let label = d.format("%Y-%m-%d").to_string();
            let (sales, total) = found
                .iter()
                .find(|(l, _, _)| *l == label)
                .map_or((0, 0), |(_, n, t)| (*n, *t));
            by_day.push(ChartBucket {
                label,
                sales,
                total: c.amount(total),
            });
            d += Duration::days(1);
        }
        Ok(SalesChart { by_hour, by_day })
    }
}
