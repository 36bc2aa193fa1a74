//! Purchase order operations: create, receive a delivery against an order,
//! close. Each validates everything first and appends one ledger record,
//! or changes nothing and returns a typed error.

use std::collections::HashSet;

use shopsync_types::PurchaseOrderView;

use super::records::{PurchaseOrderCloseRecord, PurchaseOrderLine, PurchaseOrderRecord};
use crate::error::{CoreError, Result};
use crate::ids::new_id;
use crate::ops::ReceiveLine;
use crate::ops::lookup;
use crate::records::{ReceiptLine, ReceiptRecord, Record};
use crate::staff::Action;
use crate::store::Store;
use crate::validate::{MAX_AMOUNT, MAX_LINES, MAX_QTY, MAX_TEXT_LEN};

/// One line of a new order: a SKU or barcode, units, and the expected unit
/// cost in minor units (`None`: the product's catalog cost, if any).
#[derive(Debug, Clone)]
pub struct OrderLineInput {
    pub code: String,
    pub qty: i64,
    pub unit_cost: Option<i64>,
}

fn check_qty(qty: i64) -> Result<i64> {
    let qty = lookup::positive_qty("qty", qty)?;
    if qty > MAX_QTY {
        return Err(CoreError::invalid(
            "qty",
            format!("quantity {qty} is over {MAX_QTY}"),
        ));
    }
    Ok(qty)
}

fn check_cost(cost: Option<i64>) -> Result<Option<i64>> {
    if cost.is_some_and(|c| !(0..=MAX_AMOUNT).contains(&c)) {
        return Err(CoreError::invalid(
            "cost",
            format!("a unit cost must be 0 to {MAX_AMOUNT} minor units"),
        ));
    }
    Ok(cost)
}

fn check_text(field: &str, text: Option<String>) -> Result<Option<String>> {
    let text = text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    if text.as_ref().is_some_and(|t| t.len() > MAX_TEXT_LEN) {
        return Err(CoreError::invalid(
            field,
            format!("{field} is over {MAX_TEXT_LEN} bytes"),
        ));
    }
    Ok(text)
}

fn check_line_count(n: usize) -> Result<()> {
    if n == 0 {
        return Err(CoreError::invalid("lines", "give at least one line"));
    }
    if n > MAX_LINES {
        return Err(CoreError::invalid(
            "lines",
            format!("{n} lines are over the limit of {MAX_LINES}"),
        ));
    }
    Ok(())
}

impl Store {
    /// Orders goods from a supplier. Returns the new order.
    pub fn create_purchase_order(
        &mut self,
        supplier: &str,
        items: &[OrderLineInput],
        note: Option<String>,
    ) -> Result<PurchaseOrderView> {
        let supplier = supplier.trim();
        if !lookup::supplier_exists(&self.conn, supplier)? {
            return Err(CoreError::not_found("supplier", supplier));
        }
        check_line_count(items.len())?;
        let note = check_text("note", note)?;
        let mut lines = Vec::with_capacity(items.len());
        let mut seen = HashSet::new();
        for item in items {
            let product = lookup::by_code(&self.conn, self.currency, &item.code)?;
            if !product.active {
                return Err(CoreError::invalid(
                    "sku",
                    format!("product {} is archived", product.sku),
                ));
            }
            if !seen.insert(product.id.clone()) {
                return Err(CoreError::invalid(
                    "sku",
                    format!(
                        "product {} is on two lines: give one line per product",
                        product.sku
                    ),
                ));
            }
            let qty = check_qty(item.qty)?;
            let unit_cost = match item.unit_cost {
                Some(c) => Some(c),
                None => {
                    super::costs::current(&self.conn, &product.id, product.cost.map(|c| c.minor))?
                }
            };
            let unit_cost = check_cost(unit_cost)?;
            if unit_cost.is_some_and(|c| c.checked_mul(qty).is_none_or(|t| t > MAX_AMOUNT)) {
                return Err(CoreError::invalid(
                    "cost",
                    format!("the line total of {} is over {MAX_AMOUNT}", product.sku),
                ));
            }
            lines.push(PurchaseOrderLine {
                product_id: product.id,
                qty,
                unit_cost,
            });
        }
        let who = self.authorize_acting(&[Action::CreatePurchaseOrder])?;
        let id = new_id();
        let supplier_id = supplier.to_string();
        self.write(|w| {
            w.append(&Record::PurchaseOrder(PurchaseOrderRecord {
                id: id.clone(),
                at: w.now,
                supplier_id,
                lines,
                note,
                hlc: None,
                staff_id: who.staff_id,
                approver_id: who.approver_id,
            }))
        })?;
        self.purchase_order(&id)
    }

    /// Records a delivery against an order: one receipt record naming it.
    /// A product not on the order is refused unless `allow_extra`; a line
    /// without a cost takes the order's expected cost. A line's cost becomes
    /// the product's current cost (`super::costs`); the catalog's is left
    /// alone, as with every receipt.
    pub fn receive_purchase_order(
        &mut self,
        order_id: &str,
        items: &[ReceiveLine],
        allow_extra: bool,
    ) -> Result<PurchaseOrderView> {
        let order = self.purchase_order(order_id)?;
        if order.status == shopsync_types::PurchaseOrderStatus::Closed {
            return Err(CoreError::Conflict(format!(
                "purchase order {} is closed: receive the goods without the order",
                order.id
            )));
        }
        check_line_count(items.len())?;
        let mut lines = Vec::with_capacity(items.len());
        let mut seen = HashSet::new();
        for item in items {
            let product = lookup::by_code(&self.conn, self.currency, &item.code)?;
            let on_order = order
                .lines
                .iter()
                .find(|l| l.product_id == product.id && l.ordered > 0);
            if on_order.is_none() && !allow_extra {
                return Err(CoreError::invalid(
                    "sku",
                    format!(
                        "product {} is not on purchase order {} (allow extra products to receive it anyway)",
                        product.sku, order.id
                    ),
                ));
            }
            if !seen.insert(product.id.clone()) {
                return Err(CoreError::invalid(
                    "sku",
                    format!(
                        "product {} is on two lines: give one line per product",
                        product.sku
                    ),
                ));
            }
            let qty = check_qty(item.qty)?;
            let unit_cost = check_cost(
                item.unit_cost
                    .or(on_order.and_then(|l| l.unit_cost.map(|c| c.minor))),
            )?;
            lines.push(ReceiptLine {
                product_id: product.id,
                qty,
                unit_cost,
            });
        }
        let who = self.authorize_acting(&[Action::ReceiveStock])?;
        let id = new_id();
        let (supplier_id, order_id) = (Some(order.supplier_id), Some(order.id.clone()));
        self.write(|w| {
            w.append(&Record::Receipt(ReceiptRecord {
                id,
                at: w.now,
                supplier_id,
                lines,
                hlc: None,
                staff_id: who.staff_id,
                approver_id: who.approver_id,
                order_id,
            }))
        })?;
        self.purchase_order(&order.id)
    }

    /// Closes an order: nothing more is expected on it.
    pub fn close_purchase_order(
        &mut self,
        order_id: &str,
        reason: Option<String>,
    ) -> Result<PurchaseOrderView> {
        let order = self.purchase_order(order_id)?;
        if order.status == shopsync_types::PurchaseOrderStatus::Closed {
            return Err(CoreError::Conflict(format!(
                "purchase order {} is already closed",
                order.id
            )));
        }
        let reason = check_text("reason", reason)?;
        let who = self.authorize_acting(&[Action::ClosePurchaseOrder])?;
        let order_id = order.id.clone();
        self.write(|w| {
            w.append(&Record::PurchaseOrderClose(PurchaseOrderCloseRecord {
                id: new_id(),
                at: w.now,
                order_id,
                reason,
                hlc: None,
                staff_id: who.staff_id,
                approver_id: who.approver_id,
            }))
        })?;
        self.purchase_order(&order.id)
    }
}
