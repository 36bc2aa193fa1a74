//! Reordering and purchase orders on the command line.

use std::fmt::Write;
use std::path::Path;

use serde_json::json;
use shopsync_core::types::{
    Currency, LowStockAlerts, PurchaseOrderStatus, PurchaseOrderSummary, PurchaseOrderView,
    ReorderGroup,
};
use shopsync_core::{CoreError, OrderLineInput, ReceiveLine, Result, Store};

use crate::output::Output;
use crate::purchase_args::{PoCmd, ReorderCmd};
use crate::staff_cmd::Pins;

/// `SKU=QTY[@COST]`. Neither a quantity nor an amount holds `=`, and a
/// quantity holds no `@`: so the SKU is everything before the last `=`, and
/// a SKU may itself contain `=` or `@` (as `product add` allows).
pub fn line(text: &str, currency: Currency) -> Result<(String, i64, Option<i64>)> {
    let Some((sku, rest)) = text.rsplit_once('=') else {
        return Err(CoreError::invalid(
            "line",
            format!("'{text}' is not SKU=QTY[@COST]"),
        ));
    };
    let (qty, cost) = match rest.split_once('@') {
        Some((q, c)) => (
            q,
            Some(
                currency
                    .parse(c)
                    .map_err(|e| CoreError::invalid("cost", format!("{text}: {e}")))?,
            ),
        ),
        None => (rest, None),
    };
    if sku.trim().is_empty() {
        return Err(CoreError::invalid(
            "sku",
            format!("'{text}' names no product"),
        ));
    }
    let qty = crate::parse::quantity(qty, "qty")?;
    Ok((sku.trim().to_string(), qty, cost))
}

pub fn reorder(store: &Store, cmd: ReorderCmd) -> Result<Output> {
    match cmd {
        ReorderCmd::List { supplier } => {
            let groups = store.reorder_list(supplier.as_deref())?;
            Output::new(reorder_text(&groups), &groups)
        }
        ReorderCmd::Alerts => {
            let alerts = store.low_stock_alerts()?;
            Output::new(alerts_text(&alerts), &alerts)
        }
    }
}

pub fn po(db: &Path, pins: &Pins, cmd: PoCmd) -> Result<Output> {
    let mut store = crate::staff_cmd::open_as(db, pins)?;
    let c = store.currency();
    match cmd {
        PoCmd::Create(a) => {
            let mut items = Vec::new();
            for text in &a.lines {
                let (code, qty, unit_cost) = line(text, c)?;
                items.push(OrderLineInput {
                    code,
                    qty,
                    unit_cost,
                });
            }
            if a.from_reorder {
                for group in store.reorder_list(Some(&a.supplier))? {
                    for l in group.lines.into_iter().filter(|l| l.suggested > 0) {
                        // A line given by hand wins over the suggestion.
                        let given = items.iter().any(|i| {
                            store
                                .product_by_code(&i.code)
                                .is_ok_and(|p| p.id == l.product_id)
                        });
                        if !given {
                            items.push(OrderLineInput {
                                code: l.sku,
                                qty: l.suggested,
                                unit_cost: None,
                            });
                        }
                    }
                }
                if items.is_empty() {
                    return Err(CoreError::invalid(
                        "from_reorder",
                        format!("nothing to reorder from supplier {}", a.supplier),
                    ));
                }
            }
            let o = store.create_purchase_order(&a.supplier, &items, a.note)?;
            Output::new(
                format!("purchase order {} created\n{}", o.id, order_text(&o)),
                &o,
            )
        }
        PoCmd::List { status } => {
            let status = status.as_deref().map(parse_status).transpose()?;
            let list = store.purchase_orders(status)?;
            Output::new(list_text(&list), &list)
        }
        PoCmd::Show { id } => {
            let o = store.purchase_order(&id)?;
            Output::new(order_text(&o), &o)
        }
        PoCmd::Receive(a) => {
            let mut items = Vec::new();
            for text in &a.lines {
                let (code, qty, unit_cost) = line(text, c)?;
                items.push(ReceiveLine {
                    code,
                    qty,
                    unit_cost,
                });
            }
            let o = store.receive_purchase_order(&a.id, &items, a.allow_extra)?;
            Output::new(format!("received against {}\n{}", o.id, order_text(&o)), &o)
        }
        PoCmd::Close { id, reason } => {
            let o = store.close_purchase_order(&id, reason)?;
            Output::new(format!("purchase order {} closed", o.id), &o)
        }
        PoCmd::Export { id, file } => {
            let n = store.export_purchase_order_csv(&id, &file)?;
            Output::new(
                format!("{n} lines written to {}", file.display()),
                &json!({ "order_id": id.trim(), "lines": n, "file": file }),
            )
        }
    }
}

fn parse_status(text: &str) -> Result<PurchaseOrderStatus> {
    let t = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    PurchaseOrderStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == t)
        .ok_or_else(|| {
            CoreError::invalid(
                "status",
                format!(
                    "unknown status '{text}': use open, partially_received, received or closed"
                ),
            )
        })
}

fn reorder_text(groups: &[ReorderGroup]) -> String {
    let mut s = String::new();
    if groups.is_empty() {
        s.push_str("nothing to reorder\n");
    }
    for g in groups {
        let who = match (&g.supplier_name, &g.supplier_id) {
            (Some(n), Some(id)) => format!("{n} ({id})"),
            (None, Some(id)) => id.clone(),
            _ => "no supplier".into(),
        };
        let _ = writeln!(s, "{who}");
        let _ = writeln!(
            s,
            "  {:<14} {:>9} {:>7} {:>6} {:>8} {:>8} {:>9}  name",
            "sku", "available", "reorder", "target", "sold 28d", "on order", "suggested"
        );
        for l in &g.lines {
            let target = l.reorder_target.map(|t| t.to_string()).unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:<14} {:>9} {:>7} {:>6} {:>8} {:>8} {:>9}  {}",
                l.sku,
                l.available,
                l.reorder_point,
                target,
                l.sold_28_days,
                l.on_order,
                l.suggested,
                l.name
            );
        }
    }
    s
}

fn alerts_text(a: &LowStockAlerts) -> String {
    let mut s = format!("{} products at or below their reorder point\n", a.count);
    for p in &a.products {
        let _ = writeln!(
            s,
            "  {:<14} {:>9} available (reorder at {})  {}",
            p.sku,
            p.available,
            p.reorder_point.unwrap_or_default(),
            p.name
        );
    }
    s
}

fn list_text(list: &[PurchaseOrderSummary]) -> String {
    let mut s = String::new();
    if list.is_empty() {
        s.push_str("no purchase orders\n");
    }
    for o in list {
        let _ = writeln!(
            s,
            "{}  {}  {:<18} {} lines, {} outstanding of {}, total {}  {}",
            o.id,
            o.created_at.format("%Y-%m-%d"),
            o.status.as_str(),
            o.lines,
            o.outstanding,
            o.ordered,
            o.total,
            o.supplier_name.as_deref().unwrap_or(&o.supplier_id)
        );
    }
    s
}

fn order_text(o: &PurchaseOrderView) -> String {
    let mut s = format!(
        "order {}  {}\nsupplier {}\ncreated {} on till {}\n",
        o.id,
        o.status.as_str(),
        o.supplier_name.as_deref().unwrap_or(&o.supplier_id),
        o.created_at.format("%Y-%m-%d %H:%M UTC"),
        o.till_id
    );
    if let Some(n) = &o.note {
        let _ = writeln!(s, "note {n}");
    }
    let _ = writeln!(
        s,
        "  {:<14} {:>8} {:>8} {:>11} {:>5} {:>10} {:>11}  name",
        "sku", "ordered", "received", "outstanding", "over", "unit cost", "line total"
    );
    for l in &o.lines {
        let money =
            |a: Option<shopsync_core::types::Amount>| a.map(|a| a.to_string()).unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:<14} {:>8} {:>8} {:>11} {:>5} {:>10} {:>11}  {}",
            l.sku,
            l.ordered,
            l.received,
            l.outstanding,
            l.over,
            money(l.unit_cost),
            money(l.line_total),
            l.name
        );
    }
    let _ = writeln!(s, "total {}", o.total);
    if let Some(at) = o.closed_at {
        let _ = writeln!(
            s,
            "closed {}{}",
            at.format("%Y-%m-%d %H:%M UTC"),
            o.close_reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
    }
    s
}
