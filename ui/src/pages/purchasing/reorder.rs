//! The reorder list: per supplier, the products at or below their reorder
//! point with what to order (editable), and "Create order" for the group.

use std::collections::HashMap;

use leptos::prelude::*;
use shopsync_types::purchasing::{PoCreateInput, PoLineInput};
use shopsync_types::{ReorderGroup, ReorderLine};

use super::parse_units;
use crate::api;
use crate::app::Ctx;
use crate::util::{input_error, money, spawn, value};

/// The lines to order for a group: each product with the quantity typed
/// (the suggestion unless edited), products at 0 left out.
fn order_lines(
    lines: &[ReorderLine],
    qty: &HashMap<String, String>,
) -> Result<Vec<PoLineInput>, String> {
    let mut out = Vec::new();
    for l in lines {
        let n = match qty.get(&l.product_id) {
            Some(t) => parse_units(t).map_err(|e| format!("{}: {e}", l.sku))?,
            None => l.suggested,
        };
        if n > 0 {
            out.push(PoLineInput {
                code: l.sku.clone(),
                qty: n,
                unit_cost: None,
            });
        }
    }
    Ok(out)
}

#[component]
pub fn Reorder(ctx: Ctx, on_created: Callback<String>) -> impl IntoView {
    let groups = RwSignal::new(Vec::<ReorderGroup>::new());
    let loaded = RwSignal::new(false);
    // What to order per product id, as typed (the suggestion at first).
    let qty = RwSignal::new(HashMap::<String, String>::new());
    let busy = RwSignal::new(false);
    let seq = StoredValue::new(0u64);

    let load = move || {
        // Called after an await too: once the screen was left its state is
        // gone, and reading it would panic.
        if seq.try_get_value().is_none() {
            return;
        }
        seq.update_value(|s| *s += 1);
        let mine = seq.get_value();
        spawn(async move {
            let r = api::reorder_list().await;
            if seq.try_get_value() != Some(mine) {
                return;
            }
            match r {
                Ok(g) => {
                    // A quantity someone typed stays through a reload (a
                    // sync elsewhere); untouched ones follow the suggestion.
                    let before: HashMap<String, String> = groups.with_untracked(|gs| {
                        gs.iter()
                            .flat_map(|g| &g.lines)
                            .map(|l| (l.product_id.clone(), l.suggested.to_string()))
                            .collect()
                    });
                    qty.update(|q| {
                        *q = g
                            .iter()
                            .flat_map(|g| &g.lines)
                            .map(|l| {
                                let typed = q
                                    .get(&l.product_id)
                                    .filter(|t| before.get(&l.product_id) != Some(*t));
                                let v = typed.cloned().unwrap_or_else(|| l.suggested.to_string());
                                (l.product_id.clone(), v)
                            })
                            .collect();
                    });
                    groups.set(g);
                    loaded.set(true);
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    Effect::new(move |_| {
        ctx.data_version.track();
        load();
    });

    let create = move |group: ReorderGroup| {
        if busy.get_untracked() {
            return;
        }
        let Some(supplier_id) = group.supplier_id.clone() else {
            return;
        };
        let lines = match qty.with_untracked(|q| order_lines(&group.lines, q)) {
            Ok(l) if l.is_empty() => {
                ctx.error(&input_error("qty", tr!("po-nothing-to-order")));
                return;
            }
            Ok(l) => l,
            Err(e) => {
                ctx.error(&input_error("qty", e));
                return;
            }
        };
        let req = PoCreateInput {
            supplier_id,
            lines,
            from_reorder: false,
            note: None,
        };
        busy.set(true);
        spawn(async move {
            let r = api::po_create(&req).await;
            let _ = busy.try_set(false);
            match r {
                Ok(o) => {
                    ctx.info(tr!("po-created", lines = o.lines.len()));
                    // The screen may be gone (another page chosen meanwhile).
                    let _ = on_created.try_run(o.id);
                }
                Err(e) => ctx.error(&e),
            }
        });
    };

    view! {
        <div data-testid="reorder-list">
            <div class="toolbar">
                <button class="btn" data-testid="reorder-refresh" on:click=move |_| load()>{tr!("po-refresh")}</button>
            </div>
            {move || (loaded.get() && groups.with(Vec::is_empty)).then(|| view! {
                <p class="muted" data-testid="reorder-empty">{tr!("po-reorder-empty")}</p>
            })}
            {move || groups.get().into_iter().enumerate().map(|(gi, g)| {
                let name = g.supplier_name.clone().or(g.supplier_id.clone()).unwrap_or_else(|| tr!("po-no-supplier"));
                let has_supplier = g.supplier_id.is_some();
                let group = g.clone();
                view! {
                    <section class="card wide" data-testid=format!("reorder-group-{gi}") data-supplier=g.supplier_id.clone().unwrap_or_default()>
                        <h2>{name}</h2>
                        <table class="list">
                            <thead><tr>
                                <th>{tr!("stock-sku")}</th><th>{tr!("stock-name")}</th>
                                <th class="num">{tr!("stock-available")}</th><th class="num">{tr!("stock-reorder-at")}</th>
                                <th class="num">{tr!("po-on-order")}</th><th class="num">{tr!("po-sold-28")}</th>
                                <th class="num">{tr!("po-unit-cost")}</th><th class="num">{tr!("po-order-qty")}</th>
                            </tr></thead>
                            <tbody>
                            {g.lines.into_iter().map(|l| {
                                let pid = l.product_id.clone();
                                let pid_in = pid.clone();
                                view! {
                                    <tr class="low" data-testid=format!("reorder-row-{}", l.sku) data-suggested=l.suggested.to_string()>
                                        <td>{l.sku.clone()}</td><td>{l.name.clone()}</td>
                                        <td class="num" data-testid=format!("reorder-available-{}", l.sku)>{l.available}</td>
                                        <td class="num">{l.reorder_point}</td>
                                        <td class="num" data-testid=format!("reorder-on-order-{}", l.sku)>{l.on_order}</td>
                                        <td class="num">{l.sold_28_days}</td>
                                        <td class="num">{l.unit_cost.as_ref().map(money).unwrap_or_default()}</td>
                                        <td class="num">
                                            <input type="text" inputmode="numeric" class="narrow" data-testid=format!("reorder-qty-{}", l.sku)
                                                aria-label=tr!("po-order-qty-of", name = l.name.clone())
                                                prop:value=move || qty.with(|q| q.get(&pid).cloned().unwrap_or_default())
                                                on:input=move |ev| { let v = value(&ev); qty.update(|q| { q.insert(pid_in.clone(), v); }); } />
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                            </tbody>
                        </table>
                        {if has_supplier {
                            view! {
                                <button class="btn primary" data-testid=format!("reorder-create-{gi}") disabled=move || busy.get()
                                    on:click=move |_| create(group.clone())>{tr!("po-create-order")}</button>
                            }.into_any()
                        } else {
                            view! { <p class="muted">{tr!("po-no-supplier-hint")}</p> }.into_any()
                        }}
                    </section>
                }
            }).collect_view()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, suggested: i64) -> ReorderLine {
        ReorderLine {
            product_id: id.into(),
            sku: id.to_uppercase(),
            name: id.into(),
            available: 0,
            reorder_point: 2,
            reorder_target: None,
            sold_28_days: 0,
            on_order: 0,
            suggested,
            unit_cost: None,
        }
    }

    #[test]
    fn the_typed_quantity_wins_and_zero_lines_are_left_out() {
        let lines = [line("a", 3), line("b", 4), line("c", 5)];
        let typed: HashMap<String, String> =
            [("a".into(), "7".into()), ("b".into(), "0".into())].into();
        let got = order_lines(&lines, &typed).unwrap();
        let got: Vec<(&str, i64)> = got.iter().map(|l| (l.code.as_str(), l.qty)).collect();
        assert_eq!(got, [("A", 7), ("C", 5)]);
        let bad: HashMap<String, String> = [("a".into(), "x".into())].into();
        assert!(order_lines(&lines, &bad).unwrap_err().starts_with("A: "));
    }
}
