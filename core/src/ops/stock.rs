//! Receiving deliveries and adjusting stock.

use super::lookup;
use crate::error::{CoreError, Result};
use crate::ids::new_id;
use crate::records::{AdjustReason, AdjustmentRecord, ReceiptLine, ReceiptRecord, Record};
use crate::staff::Action;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct ReceiveLine {
    pub code: String,
    pub qty: i64,
    pub unit_cost: Option<i64>,
}

impl Store {
    /// Records a delivery. Returns the receipt record id.
    pub fn receive(&mut self, supplier: Option<&str>, items: &[ReceiveLine]) -> Result<String> {
        if items.is_empty() {
            return Err(CoreError::invalid(
                "lines",
                "a delivery needs at least one line",
            ));
        }
        if let Some(s) = supplier
            && !lookup::supplier_exists(&self.conn, s)?
        {
            return Err(CoreError::not_found("supplier", s));
        }
        let mut lines = Vec::with_capacity(items.len());
        for item in items {
            let product = lookup::by_code(&self.conn, self.currency, &item.code)?;
            if item.unit_cost.is_some_and(|c| c < 0) {
                return Err(CoreError::invalid("cost", "a cost must not be negative"));
            }
            lines.push(ReceiptLine {
                product_id: product.id,
                qty: lookup::positive_qty("qty", item.qty)?,
                unit_cost: item.unit_cost,
            });
        }
        let who = self.authorize_acting(&[Action::ReceiveStock])?;
        let id = new_id();
        let supplier_id = supplier.map(str::to_string);
        self.write(|w| {
            w.append(&Record::Receipt(ReceiptRecord {
                id: id.clone(),
                at: w.now,
                supplier_id,
                lines,
                hlc: None,
                staff_id: who.staff_id,
                approver_id: who.approver_id,
                order_id: None,
            }))
        })?;
        Ok(id)
    }

    /// Adds (positive) or removes (negative) stock with a reason.
    pub fn adjust(
        &mut self,
        code: &str,
        delta: i64,
        reason: AdjustReason,
        note: Option<String>,
    ) -> Result<String> {
        if delta == 0 {
            return Err(CoreError::invalid(
                "delta",
                "an adjustment must change stock (delta is zero)",
            ));
        }
        let product = lookup::by_code(&self.conn, self.currency, code)?;
        let who = self.authorize_acting(&[Action::AdjustStock])?;
        let id = new_id();
        self.write(|w| {
            w.append(&Record::Adjustment(AdjustmentRecord {
                id: id.clone(),
                at: w.now,
                product_id: product.id,
                delta,
                reason,
                note,
                hlc: None,
                staff_id: who.staff_id,
                approver_id: who.approver_id,
            }))
        })?;
        Ok(id)
    }
}
