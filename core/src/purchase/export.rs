//! A purchase order as a CSV file for the supplier (what "sending" an order
//! is in this version: the file is written, nothing is recorded). A PDF is
//! planned.

use std::path::Path;

use crate::csv_io::text_cell;
use crate::error::{CoreError, Result};
use crate::store::Store;

pub const HEADER: [&str; 6] = ["sku", "supplier", "name", "qty", "unit_cost", "line_total"];

impl Store {
    /// Writes the order's lines (what was ordered, not extra products
    /// received against it) as CSV to `path`, all or nothing. Returns the
    /// number of lines written.
    pub fn export_purchase_order_csv(&self, id: &str, path: &Path) -> Result<usize> {
        let order = self.purchase_order(id)?;
        crate::export_file::write_export(&self.path, path, |out| {
            let mut w = csv::Writer::from_writer(out);
            let csv_err = |e: csv::Error| {
                CoreError::io("cannot write CSV", std::io::Error::other(e.to_string()))
            };
            w.write_record(HEADER).map_err(csv_err)?;
            let supplier = order
                .supplier_name
                .clone()
                .unwrap_or(order.supplier_id.clone());
            let mut n = 0;
            for l in order.lines.iter().filter(|l| l.ordered > 0) {
                let money = |a: Option<shopsync_types::Amount>| a.map(|a| a.to_string());
                w.write_record([
                    text_cell(&l.sku),
                    text_cell(&supplier),
                    text_cell(&l.name),
                    l.ordered.to_string(),
                    money(l.unit_cost).unwrap_or_default(),
                    money(l.line_total).unwrap_or_default(),
                ])
                .map_err(csv_err)?;
                n += 1;
            }
            w.flush()
                .map_err(|e| CoreError::io("cannot write CSV", e))?;
            Ok(n)
        })
    }
}
