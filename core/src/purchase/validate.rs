//! The record rules of purchasing, run by the server and every till with
//! the rest of `crate::validate::check_record`.

use std::collections::HashSet;

use super::records::{PurchaseOrderCloseRecord, PurchaseOrderRecord};
use crate::validate::{
    Check, MAX_AMOUNT, MAX_QTY, Rule, Violation, at, bound, id, lines, positive, text,
};

/// An order: a supplier, 1 to `MAX_LINES` lines of distinct products, each
/// of 1 to `MAX_QTY` units at a cost of 0 or more, and a line total
/// (qty × unit cost) within `MAX_AMOUNT`: so no sum over an order overflows.
pub(crate) fn order(key: &str, o: &PurchaseOrderRecord) -> Check {
    at(key, "at", o.at)?;
    id(key, "supplier id", &o.supplier_id)?;
    text(key, "note", o.note.as_deref().unwrap_or(""))?;
    lines(key, "lines", o.lines.len())?;
    if o.lines.is_empty() {
        return Err(Violation::new(key, Rule::Bounds, "an order has no lines"));
    }
    let mut seen = HashSet::new();
    for l in &o.lines {
        id(key, "product id", &l.product_id)?;
        if !seen.insert(l.product_id.as_str()) {
            return Err(Violation::new(
                key,
                Rule::DuplicateProduct,
                format!("product {} is on two lines of one order", l.product_id),
            ));
        }
        bound(key, "qty", l.qty, MAX_QTY)?;
        positive(key, "qty", l.qty)?;
        if let Some(c) = l.unit_cost {
            bound(key, "unit_cost", c, MAX_AMOUNT)?;
            if c < 0 {
                return Err(Violation::new(key, Rule::Bounds, "a unit cost is negative"));
            }
            if l.qty.checked_mul(c).is_none_or(|t| t > MAX_AMOUNT) {
                return Err(Violation::new(
                    key,
                    Rule::Bounds,
                    format!("a line total is over {MAX_AMOUNT}"),
                ));
            }
        }
    }
    Ok(())
}

pub(crate) fn close(key: &str, c: &PurchaseOrderCloseRecord) -> Check {
    at(key, "at", c.at)?;
    id(key, "order id", &c.order_id)?;
    text(key, "reason", c.reason.as_deref().unwrap_or(""))
}
