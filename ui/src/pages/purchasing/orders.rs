//! Purchase orders: the list (status, what is outstanding) and the chosen
//! order's lines, with a delivery form (units per line prefilled with what
//! is outstanding, the unit cost on the delivery note), close and export.

use std::collections::HashMap;

use leptos::prelude::*;
use shopsync_types::purchasing::{
    PoCloseInput, PoExportInput, PoLineInput, PoListQuery, PoReceiveInput,
};
use shopsync_types::{PurchaseOrderLineView, PurchaseOrderSummary, PurchaseOrderView};

use super::{parse_units, status_label};
use crate::api;
use crate::app::Ctx;
use crate::util::{
    input_error, input_text, local_time, minor_text, money, parse_money, picker_text, spawn, value,
};

/// What the delivery form holds per product id: (units, unit cost), as typed.
type Draft = HashMap<String, (String, String)>;

/// The form prefilled: each ordered line's outstanding units, and its
/// expected cost in the language's way of writing it.
fn draft_of(o: &PurchaseOrderView) -> Draft {
    o.lines
        .iter()
        .filter(|l| l.ordered > 0)
        .map(|l| {
            let cost = l
                .unit_cost
                .map(|c| input_text(c.minor, c.decimals))
                .unwrap_or_default();
            (l.product_id.clone(), (l.outstanding.to_string(), cost))
        })
        .collect()
}

/// The delivery as the shell takes it: lines with units > 0, costs read the
/// cashier's way and sent in the plain form; the first bad field refuses all.
fn delivery(
    lines: &[PurchaseOrderLineView],
    draft: &Draft,
    decimals: u8,
) -> Result<Vec<PoLineInput>, String> {
    let mut out = Vec::new();
    for l in lines {
        let Some((qty, cost)) = draft.get(&l.product_id) else {
            continue;
        };
        let qty = parse_units(qty).map_err(|e| format!("{}: {e}", l.sku))?;
        if qty == 0 {
            continue;
        }
        let unit_cost = match cost.trim() {
            "" => None,
            t => Some(minor_text(
                parse_money(t, decimals).map_err(|e| format!("{}: {e}", l.sku))?,
                decimals,
            )),
        };
        out.push(PoLineInput {
            code: l.sku.clone(),
            qty,
            unit_cost,
        });
    }
    Ok(out)
}

#[component]
pub fn Orders(ctx: Ctx, selected: RwSignal<Option<String>>) -> impl IntoView {
    let list = RwSignal::new(Vec::<PurchaseOrderSummary>::new());
    let detail = RwSignal::new(None::<PurchaseOrderView>);
    let draft = RwSignal::new(Draft::new());
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let seq = StoredValue::new(0u64);
    let dec = ctx.decimals();

    // The delivery form is filled again only for another order, or when
    // deliveries changed it: a sync elsewhere must not overwrite what the
    // clerk is typing (a prefilled 6 booked where 4 arrived).
    let show = move |o: PurchaseOrderView| {
        let received =
            |v: &PurchaseOrderView| v.lines.iter().map(|l| l.received).collect::<Vec<_>>();
        let same = detail.with_untracked(|d| {
            d.as_ref()
                .is_some_and(|d| d.id == o.id && received(d) == received(&o))
        });
        if !same {
            draft.set(draft_of(&o));
        }
        detail.set(Some(o));
    };
    let load = move || {
        // Called after an await too: once the screen was left its state is
        // gone, and reading it would panic.
        if seq.try_get_value().is_none() {
            return;
        }
        seq.update_value(|s| *s += 1);
        let mine = seq.get_value();
        spawn(async move {
            let r = api::po_list(&PoListQuery { status: None }).await;
            if seq.try_get_value() != Some(mine) {
                return;
            }
            let orders = match r {
                Ok(l) => l,
                Err(e) => return ctx.error(&e),
            };
            // Keep the chosen order if listed, else the newest.
            let want = selected
                .get_untracked()
                .filter(|id| orders.iter().any(|o| &o.id == id))
                .or_else(|| orders.first().map(|o| o.id.clone()));
            list.set(orders);
            selected.set(want.clone());
            let Some(id) = want else {
                detail.set(None);
                return;
            };
            match api::po_show(&id).await {
                Ok(o) if seq.try_get_value() == Some(mine) => show(o),
                Ok(_) => {}
                Err(e) => ctx.error(&e),
            }
        });
    };
    Effect::new(move |_| {
        ctx.data_version.track();
        load();
    });
    let choose = move |id: String| {
        selected.set(Some(id));
        load();
    };
    // After a step: the order as the core now has it, the list, the badge.
    let done = move |o: PurchaseOrderView, text: String| {
        ctx.info(text);
        let _ = selected.try_set(Some(o.id.clone()));
        ctx.refresh_low_stock();
        load();
    };

    let receive = move || {
        // A second click while the first delivery is on its way would book
        // it twice.
        if busy.get_untracked() {
            return;
        }
        let Some(o) = detail.get_untracked() else {
            return;
        };
        let lines = match draft.with_untracked(|d| delivery(&o.lines, d, dec)) {
            Ok(l) if l.is_empty() => {
                return ctx.error(&input_error("qty", tr!("po-nothing-received")));
            }
            Ok(l) => l,
            Err(e) => return ctx.error(&input_error("qty", e)),
        };
        let units: i64 = lines.iter().map(|l| l.qty).sum();
        let req = PoReceiveInput {
            id: o.id,
            lines,
            allow_extra: false,
        };
        busy.set(true);
        spawn(async move {
            let r = api::po_receive(&req).await;
            if busy.try_get_untracked().is_none() {
                return;
            }
            match r {
                Ok(o) => {
                    // The form shows what is still outstanding before the
                    // button works again.
                    show(o.clone());
                    busy.set(false);
                    done(o, tr!("po-received", units = units))
                }
                Err(e) => {
                    busy.set(false);
                    ctx.error(&e);
                    // Closed or changed on another till meanwhile: show it.
                    load();
                }
            }
        });
    };
    let close = move || {
        if busy.get_untracked() {
            return;
        }
        let Some(o) = detail.get_untracked() else {
            return;
        };
        let req = PoCloseInput {
            id: o.id,
            reason: Some(reason.get_untracked()).filter(|r| !r.trim().is_empty()),
        };
        busy.set(true);
        spawn(async move {
            let r = api::po_close(&req).await;
            let _ = busy.try_set(false);
            match r {
                Ok(o) => {
                    let _ = reason.try_set(String::new());
                    done(o, tr!("po-closed"))
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let export = move || {
        if busy.get_untracked() {
            return;
        }
        let Some(o) = detail.get_untracked() else {
            return;
        };
        let req = PoExportInput {
            id: o.id,
            picker: picker_text(tr!("picker-export-po"), tr!("picker-csv-files")),
        };
        busy.set(true);
        spawn(async move {
            match api::po_export_csv(&req).await {
                Ok(Some(p)) => ctx.info(tr!("po-exported", lines = p.result, path = p.path)),
                Ok(None) => {}
                Err(e) => ctx.error(&e),
            }
            // The screen may be gone by now (the picker waits for the person).
            let _ = busy.try_set(false);
        });
    };

    let cell = move |pid: String, cost: bool| {
        let pid_in = pid.clone();
        let get = move |d: &Draft| {
            d.get(&pid)
                .map(|(q, c)| if cost { c.clone() } else { q.clone() })
                .unwrap_or_default()
        };
        let set = move |v: String| {
            draft.update(|d| {
                let e = d.entry(pid_in.clone()).or_default();
                if cost { e.1 = v } else { e.0 = v }
            })
        };
        (get, set)
    };

    view! {
        <div class="split" data-testid="po-orders">
            <div class="card">
                <div class="toolbar">
                    <button class="btn" data-testid="po-refresh" on:click=move |_| load()>{tr!("po-refresh")}</button>
                </div>
                {move || list.with(Vec::is_empty).then(|| view! { <p class="muted" data-testid="po-none">{tr!("po-none")}</p> })}
                <table class="list" data-testid="po-list">
                    <thead><tr><th>{tr!("po-date")}</th><th>{tr!("po-supplier")}</th><th>{tr!("po-status")}</th><th class="num">{tr!("po-outstanding")}</th><th class="num">{tr!("po-total")}</th></tr></thead>
                    <tbody>
                    {move || list.get().into_iter().enumerate().map(|(i, o)| {
                        let id = o.id.clone();
                        let id_sel = o.id.clone();
                        view! {
                            <tr class="clickable po-row" class:selected=move || selected.get().as_deref() == Some(id_sel.as_str())
                                data-testid=format!("po-row-{i}") data-status=o.status.as_str() on:click=move |_| choose(id.clone())>
                                <td>{local_time(&o.created_at)}</td>
                                <td>{o.supplier_name.clone().unwrap_or(o.supplier_id.clone())}</td>
                                <td>{status_label(o.status)}</td>
                                <td class="num" data-testid=format!("po-row-outstanding-{i}")>{o.outstanding}</td>
                                <td class="num">{money(&o.total)}</td>
                            </tr>
                        }
                    }).collect_view()}
                    </tbody>
                </table>
            </div>
            {move || detail.get().map(|o| {
                let open = o.status.expects_goods();
                let closed = o.status == shopsync_types::PurchaseOrderStatus::Closed;
                view! {
                    <div class="card wide" data-testid="po-detail" data-id=o.id.clone()>
                        <h2>{tr!("po-detail-title", supplier = o.supplier_name.clone().unwrap_or(o.supplier_id.clone()))}</h2>
                        <p>
                            <span class="badge" data-testid="po-status" data-status=o.status.as_str()>{status_label(o.status)}</span>
                            " " {local_time(&o.created_at)} " · " {tr!("po-receipts", count = o.receipts.len())}
                            {o.close_reason.clone().map(|r| view! { " · " {r} })}
                        </p>
                        <table class="list" data-testid="po-lines">
                            <thead><tr>
                                <th>{tr!("stock-sku")}</th><th>{tr!("stock-name")}</th>
                                <th class="num">{tr!("po-ordered")}</th><th class="num">{tr!("po-received-col")}</th><th class="num">{tr!("po-outstanding")}</th>
                                <th class="num">{tr!("po-unit-cost")}</th>
                                {open.then(|| view! { <th class="num">{tr!("po-receive-qty")}</th><th class="num">{tr!("po-receive-cost")}</th> })}
                            </tr></thead>
                            <tbody>
                            {o.lines.iter().map(|l| {
                                let (qty_get, qty_set) = cell(l.product_id.clone(), false);
                                let (cost_get, cost_set) = cell(l.product_id.clone(), true);
                                let form = open && l.ordered > 0;
                                view! {
                                    <tr data-testid=format!("po-line-{}", l.sku)>
                                        <td>{l.sku.clone()}</td><td>{l.name.clone()}</td>
                                        <td class="num" data-testid=format!("po-ordered-{}", l.sku)>{l.ordered}</td>
                                        <td class="num" data-testid=format!("po-received-{}", l.sku)>{l.received}</td>
                                        <td class="num" data-testid=format!("po-outstanding-{}", l.sku)>{l.outstanding}</td>
                                        <td class="num">{l.unit_cost.as_ref().map(money).unwrap_or_default()}</td>
                                        {form.then(|| view! {
                                            <td class="num"><input type="text" inputmode="numeric" class="narrow" data-testid=format!("po-receive-qty-{}", l.sku)
                                                aria-label=tr!("po-receive-qty-of", name = l.name.clone())
                                                prop:value=move || draft.with(&qty_get) on:input=move |ev| qty_set(value(&ev)) /></td>
                                            <td class="num"><input type="text" class="narrow" data-testid=format!("po-receive-cost-{}", l.sku)
                                                aria-label=tr!("po-receive-cost-of", name = l.name.clone())
                                                prop:value=move || draft.with(&cost_get) on:input=move |ev| cost_set(value(&ev)) /></td>
                                        })}
                                        {(open && !form).then(|| view! { <td></td><td></td> })}
                                    </tr>
                                }
                            }).collect_view()}
                            </tbody>
                            <tfoot><tr><td colspan="5">{tr!("po-total")}</td><td class="num" data-testid="po-total">{money(&o.total)}</td></tr></tfoot>
                        </table>
                        <div class="toolbar">
                            {open.then(|| view! {
                                <button class="btn primary" data-testid="po-receive" disabled=move || busy.get() on:click=move |_| receive()>{tr!("po-receive")}</button>
                            })}
                            <button class="btn" data-testid="po-export" disabled=move || busy.get() on:click=move |_| export()>{tr!("po-export")}</button>
                            {(!closed).then(|| view! {
                                <input type="text" data-testid="po-close-reason" placeholder=tr!("po-close-reason") aria-label=tr!("po-close-reason")
                                    prop:value=move || reason.get() on:input=move |ev| reason.set(value(&ev)) />
                                <button class="btn" data-testid="po-close" disabled=move || busy.get() on:click=move |_| close()>{tr!("po-close")}</button>
                            })}
                        </div>
                    </div>
                }
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopsync_types::Amount;

    fn line(id: &str, ordered: i64, outstanding: i64, cost: Option<i64>) -> PurchaseOrderLineView {
        PurchaseOrderLineView {
            product_id: id.into(),
            sku: id.to_uppercase(),
            name: id.into(),
            ordered,
            received: ordered - outstanding,
            outstanding,
            over: 0,
            unit_cost: cost.map(|minor| Amount { minor, decimals: 2 }),
            line_total: None,
        }
    }

    #[test]
    fn a_delivery_sends_the_lines_with_units_and_reads_german_costs() {
        crate::i18n::set_locale(shopsync_types::Locale::De);
        let lines = [
            line("a", 6, 6, Some(200)),
            line("b", 2, 0, None),
            line("c", 3, 3, None),
        ];
        let draft: Draft = [
            ("a".into(), ("4".into(), "1,95".into())),
            ("b".into(), ("0".into(), String::new())),
            ("c".into(), ("3".into(), String::new())),
        ]
        .into();
        let got = delivery(&lines, &draft, 2).unwrap();
        crate::i18n::set_locale(shopsync_types::Locale::En);
        let got: Vec<(&str, i64, Option<&str>)> = got
            .iter()
            .map(|l| (l.code.as_str(), l.qty, l.unit_cost.as_deref()))
            .collect();
        assert_eq!(got, [("A", 4, Some("1.95")), ("C", 3, None)]);
    }

    #[test]
    fn a_bad_field_refuses_the_whole_delivery_naming_the_product() {
        let lines = [line("a", 6, 6, None)];
        let bad_cost: Draft = [("a".into(), ("1".into(), "abc".into()))].into();
        assert!(
            delivery(&lines, &bad_cost, 2)
                .unwrap_err()
                .starts_with("A: ")
        );
        let bad_qty: Draft = [("a".into(), ("-2".into(), String::new()))].into();
        assert!(delivery(&lines, &bad_qty, 2).is_err());
    }

    #[test]
    fn the_form_starts_with_what_is_outstanding_and_the_expected_cost() {
        crate::i18n::set_locale(shopsync_types::Locale::En);
        let o = PurchaseOrderView {
            id: "o".into(),
            supplier_id: "s".into(),
            supplier_name: None,
            till_id: "t".into(),
            created_at: chrono::DateTime::default(),
            note: None,
            status: shopsync_types::PurchaseOrderStatus::PartiallyReceived,
            lines: vec![line("a", 6, 2, Some(250)), line("x", 0, 0, None)],
            total: Amount {
                minor: 0,
                decimals: 2,
            },
            receipts: vec![],
            closed_at: None,
            close_reason: None,
        };
        let d = draft_of(&o);
        assert_eq!(d.len(), 1, "extra products received are not in the form");
        assert_eq!(d.get("a"), Some(&("2".to_string(), "2.50".to_string())));
    }
}
