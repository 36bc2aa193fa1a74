//! Sales totals by hour of a day and by day of a range, for the
//! till's charts, in the store's time zone.

use chrono::{NaiveDate, Timelike};
use rusqlite::params;
use shopsync_types::ipc::{ChartBucket, SalesChart};

use crate::error::{CoreError, Result};
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
        let zone = self.zone;
        // Buckets are the store's hours and days (its time zone), computed
        // here rather than with SQLite's 'localtime', which is the machine's.
        let mut by_hour: Vec<ChartBucket> = (0..24)
            .map(|h| ChartBucket {
                label: format!("{h:02}"),
                sales: 0,
                total: c.amount(0),
            })
            .collect();
        let mut hour_totals = [(0i64, 0i64); 24];
        let mut stmt = self
            .conn
            .prepare_cached("SELECT at, total FROM sales WHERE at >= ?1 AND at < ?2")?;
        let rows = stmt.query_map(
            params![zone.day_start_ms(date), zone.day_end_ms(date)],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )?;
        for row in rows {
            let (at, total) = row?;
            let Some(t) = chrono::DateTime::from_timestamp_millis(at) else {
                continue;
            };
            // A 25-hour day's repeated hour adds to the one bucket.
            let hour = zone.local(t).hour() as usize;
            if let Some((n, sum)) = hour_totals.get_mut(hour) {
                *n += 1;
                *sum = sum.checked_add(total).ok_or_else(|| {
                    CoreError::Corrupt(format!("the sales of {date} {hour:02}:00 overflow a total"))
                })?;
            }
        }
        for (bucket, (n, sum)) in by_hour.iter_mut().zip(hour_totals) {
            bucket.sales = n;
            bucket.total = c.amount(sum);
        }
        let mut by_day = Vec::new();
        let mut day_stmt = self.conn.prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(total), 0) FROM sales WHERE at >= ?1 AND at < ?2",
        )?;
        let mut day = Some(from);
        while let Some(d) = day.filter(|d| *d <= to) {
            let (sales, total): (i64, i64) = day_stmt
                .query_row(params![zone.day_start_ms(d), zone.day_end_ms(d)], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            by_day.push(ChartBucket {
                label: d.format("%Y-%m-%d").to_string(),
                sales,
                total: c.amount(total),
            });
            day = d.succ_opt();
        }
        Ok(SalesChart { by_hour, by_day })
    }
}
