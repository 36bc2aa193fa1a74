//! Reordering and purchase orders (issue 10): the reorder list, the
//! low-stock badge's alerts, and purchase orders (create, list, show,
//! receive against, close, export as CSV). One-line adapters over the
//! core, acting as the signed-in staff member; creating and closing an
//! order may need a supervisor's approval (`approve_pin`), receiving not.

use shopsync_core::{CoreError, OrderLineInput, ReceiveLine, Result, Store};
use shopsync_types::ipc::{IdInput, Picked};
use shopsync_types::purchasing::{
    PoCloseInput, PoCreateInput, PoExportInput, PoLineInput, PoListQuery, PoReceiveInput,
};
use shopsync_types::{
    Currency, LowStockAlerts, PurchaseOrderSummary, PurchaseOrderView, ReorderGroup,
};
use tauri::{AppHandle, State};

use crate::convert::opt_money;
use crate::files::{Ask, pick, picked, today};
use crate::state::{AppState, CmdResult};

type S<'a> = State<'a, AppState>;

/// The lines as the core takes them: (code, qty, cost in minor units).
fn lines(c: Currency, lines: &[PoLineInput]) -> Result<Vec<(String, i64, Option<i64>)>> {
    lines
        .iter()
        .map(|l| {
            Ok((
                l.code.trim().to_string(),
                l.qty,
                opt_money(c, "cost", l.unit_cost.as_deref())?,
            ))
        })
        .collect()
}

/// What `req` orders: its lines, then (with `from_reorder`) the supplier's
/// suggestions for the products no line names, as `shopsync po create
/// --from-reorder` does.
fn order_lines(s: &Store, req: &PoCreateInput) -> Result<Vec<OrderLineInput>> {
    let mut items: Vec<OrderLineInput> = lines(s.currency(), &req.lines)?
        .into_iter()
        .map(|(code, qty, unit_cost)| OrderLineInput {
            code,
            qty,
            unit_cost,
        })
        .collect();
    if req.from_reorder {
        let given: Vec<String> = items
            .iter()
            .filter_map(|i| s.product_by_code(&i.code).ok().map(|p| p.id))
            .collect();
        for group in s.reorder_list(Some(req.supplier_id.trim()))? {
            for l in group.lines {
                if l.suggested > 0 && !given.contains(&l.product_id) {
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
                format!(
                    "nothing to reorder from supplier {}",
                    req.supplier_id.trim()
                ),
            ));
        }
    }
    Ok(items)
}

pub(crate) fn create(s: &mut Store, req: &PoCreateInput) -> Result<PurchaseOrderView> {
    let items = order_lines(s, req)?;
    s.create_purchase_order(&req.supplier_id, &items, req.note.clone())
}

pub(crate) fn receive(s: &mut Store, req: &PoReceiveInput) -> Result<PurchaseOrderView> {
    let items: Vec<ReceiveLine> = lines(s.currency(), &req.lines)?
        .into_iter()
        .map(|(code, qty, unit_cost)| ReceiveLine {
            code,
            qty,
            unit_cost,
        })
        .collect();
    s.receive_purchase_order(&req.id, &items, req.allow_extra)
}

/// Products at or below their reorder point, grouped by supplier.
#[tauri::command]
pub async fn reorder_list(state: S<'_>) -> CmdResult<Vec<ReorderGroup>> {
    state.with(|s| s.reorder_list(None)).await
}

/// The low-stock badge: products at or below their reorder point now.
#[tauri::command]
pub async fn low_stock_alerts(state: S<'_>) -> CmdResult<LowStockAlerts> {
    state.with(|s| s.low_stock_alerts()).await
}

#[tauri::command]
pub async fn po_create(
    state: S<'_>,
    req: PoCreateInput,
    approve_pin: Option<String>,
) -> CmdResult<PurchaseOrderView> {
    state
        .with_approval(approve_pin, move |s| create(s, &req))
        .await
}

#[tauri::command]
pub async fn po_list(state: S<'_>, req: PoListQuery) -> CmdResult<Vec<PurchaseOrderSummary>> {
    state.with(move |s| s.purchase_orders(req.status)).await
}

#[tauri::command]
pub async fn po_show(state: S<'_>, req: IdInput) -> CmdResult<PurchaseOrderView> {
    state.with(move |s| s.purchase_order(&req.id)).await
}

#[tauri::command]
pub async fn po_receive(
    state: S<'_>,
    req: PoReceiveInput,
    approve_pin: Option<String>,
) -> CmdResult<PurchaseOrderView> {
    state
        .with_approval(approve_pin, move |s| receive(s, &req))
        .await
}

#[tauri::command]
pub async fn po_close(
    state: S<'_>,
    req: PoCloseInput,
    approve_pin: Option<String>,
) -> CmdResult<PurchaseOrderView> {
    state
        .with_approval(approve_pin, move |s| {
            s.close_purchase_order(&req.id, req.reason)
        })
        .await
}

/// Writes the order as CSV for the supplier to a file the person picks
/// (`po-<id>-YYYY-MM-DD.csv` suggested); answers how many lines.
#[tauri::command]
pub async fn po_export_csv(
    app: AppHandle,
    state: S<'_>,
    req: PoExportInput,
) -> CmdResult<Option<Picked<usize>>> {
    let id = req.id.trim().to_string();
    // An unknown order is said before the picker opens.
    let check = id.clone();
    state
        .with(move |s| s.purchase_order(&check).map(drop))
        .await?;
    let short: String = id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    let ask = Ask {
        text: req.picker,
        extension: "csv",
        save_as: Some(format!("po-{short}-{}.csv", today(&state).await)),
    };
    let Some(file) = pick(&app, ask).await? else {
        return Ok(None);
    };
    let target = file.clone();
    let n = state
        .with(move |s| s.export_purchase_order_csv(&id, &target))
        .await?;
    Ok(Some(picked(&file, n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopsync_core::{InitOptions, NewProduct, NewSupplier};
    use shopsync_types::PurchaseOrderStatus;

    /// A store with one supplier and COFFEE (reorder point 3, cost 2.00)
    /// down to 1 on hand; returns it and the supplier's id.
    fn shop(dir: &tempfile::TempDir) -> (Store, String) {
        let mut s = Store::init(
            &dir.path().join("till.db"),
            InitOptions {
                store_name: "Corner Shop".into(),
                till_name: "Till 1".into(),
                currency: "EUR".into(),
            },
        )
        .unwrap();
        let supplier = s
            .add_supplier(NewSupplier {
                name: "Fresh Farms".into(),
                ..NewSupplier::default()
            })
            .unwrap()
            .id;
        for (sku, point) in [("COFFEE", 3), ("TEA", 2)] {
            s.add_product(NewProduct {
                sku: sku.into(),
                name: sku.into(),
                price: 350,
                cost: Some(200),
                barcodes: vec![],
                tax_class: None,
                supplier: Some(supplier.clone()),
                category: None,
                reorder_point: Some(point),
                reorder_target: None,
            })
            .unwrap();
        }
        s.receive(
            None,
            &[ReceiveLine {
                code: "COFFEE".into(),
                qty: 1,
                unit_cost: None,
            }],
        )
        .unwrap();
        (s, supplier)
    }

    fn line(code: &str, qty: i64, cost: Option<&str>) -> PoLineInput {
        PoLineInput {
            code: code.into(),
            qty,
            unit_cost: cost.map(Into::into),
        }
    }

    #[test]
    fn an_order_from_the_reorder_list_keeps_the_lines_given_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, supplier) = shop(&dir);
        let o = create(
            &mut s,
            &PoCreateInput {
                supplier_id: supplier,
                lines: vec![line("COFFEE", 12, Some("1.75"))],
                from_reorder: true,
                note: None,
            },
        )
        .unwrap();
        let got: Vec<(&str, i64, Option<i64>)> = o
            .lines
            .iter()
            .map(|l| (l.sku.as_str(), l.ordered, l.unit_cost.map(|c| c.minor)))
            .collect();
        // COFFEE as typed; TEA (0 on hand, point 2) suggested: 3 units at
        // its catalog cost.
        assert_eq!(got, [("COFFEE", 12, Some(175)), ("TEA", 3, Some(200))]);
        assert_eq!(o.status, PurchaseOrderStatus::Open);
    }

    #[test]
    fn a_partial_delivery_leaves_the_rest_outstanding_and_a_bad_cost_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, supplier) = shop(&dir);
        let o = create(
            &mut s,
            &PoCreateInput {
                supplier_id: supplier,
                lines: vec![line("COFFEE", 6, None)],
                from_reorder: false,
                note: None,
            },
        )
        .unwrap();
        let bad = receive(
            &mut s,
            &PoReceiveInput {
                id: o.id.clone(),
                lines: vec![line("COFFEE", 2, Some("two"))],
                allow_extra: false,
            },
        );
        assert!(bad.is_err());
        assert!(s.purchase_order(&o.id).unwrap().receipts.is_empty());
        let o = receive(
            &mut s,
            &PoReceiveInput {
                id: o.id,
                lines: vec![line("COFFEE", 4, Some("1.90"))],
                allow_extra: false,
            },
        )
        .unwrap();
        assert_eq!(o.status, PurchaseOrderStatus::PartiallyReceived);
        assert_eq!((o.lines[0].received, o.lines[0].outstanding), (4, 2));
        assert_eq!(s.low_stock_alerts().unwrap().count, 1, "TEA is still low");
    }

    #[test]
    fn nothing_to_reorder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _) = shop(&dir);
        let other = s
            .add_supplier(NewSupplier {
                name: "Nobody".into(),
                ..NewSupplier::default()
            })
            .unwrap()
            .id;
        let r = create(
            &mut s,
            &PoCreateInput {
                supplier_id: other,
                lines: vec![],
                from_reorder: true,
                note: None,
            },
        );
        assert!(matches!(r, Err(CoreError::Invalid { .. })), "{r:?}");
        assert!(s.purchase_orders(None).unwrap().is_empty());
    }
}
