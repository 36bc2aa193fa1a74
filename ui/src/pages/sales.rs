//! Sales: history with filters, a sale in full, refunds (all or some
//! lines), the Z report of a day, and charts of sales by hour and by day.
//! Sales, refunds ([`refunds`]) and the Z report can be filtered by staff
//! member (who made the sale or the refund); an A4 invoice
//! of a sale prints through the system dialog ([`invoice`]).

mod invoice;
mod refunds;

use std::collections::HashMap;

use chrono::NaiveDate;
use leptos::prelude::*;
use shopsync_types::ipc::{RefundInput, RefundLineInput, SalesChart, SalesQuery, StaffView};
use shopsync_types::{SaleDetail, SaleSummary, TenderKind, ZReport};

use crate::api;
use crate::app::Ctx;
use crate::components::chart::BarChart;
use crate::util::{date_text, input_text, local_time, money, money_minor, spawn, today, value};

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

fn kind(k: TenderKind) -> String {
    match k {
        TenderKind::Cash => tr!("tender-kind-cash"),
        TenderKind::Card => tr!("tender-kind-card"),
        TenderKind::Other => tr!("tender-kind-other"),
    }
}

#[component]
pub fn SalesPage(ctx: Ctx) -> impl IntoView {
    let to = RwSignal::new(today().format("%Y-%m-%d").to_string());
    let from = RwSignal::new(
        (today() - chrono::Duration::days(13))
            .format("%Y-%m-%d")
            .to_string(),
    );
    let sku = RwSignal::new(String::new());
    let list = RwSignal::new(Vec::<SaleSummary>::new());
    let refund_list = RwSignal::new(Vec::<shopsync_types::RefundListItem>::new());
    let load_seq = StoredValue::new(0u64);
    let detail = RwSignal::new(None::<SaleDetail>);
    let refund_qty = RwSignal::new(Vec::<(String, i64)>::new());
    let z_date = RwSignal::new(today().format("%Y-%m-%d").to_string());
    // Whose sales the shown Z report counts (None: everyone's).
    let z_staff = RwSignal::new(None::<String>);
    let z_seq = StoredValue::new(0u64);
    let z = RwSignal::new(None::<ZReport>);
    let chart = RwSignal::new(None::<SalesChart>);
    let hour_day = RwSignal::new(String::new());
    // Staff filter: every staff member the store has had (removed ones too,
    // so their old sales stay findable); "" is everybody.
    let staff = RwSignal::new(Vec::<StaffView>::new());
    let staff_filter = RwSignal::new(String::new());
    let invoice_for = RwSignal::new(None::<SaleDetail>);
    spawn(async move {
        if let Ok(list) = api::staff_list().await {
            let _ = staff.try_set(list);
        }
    });
    let staff_name = move |id: &Option<String>| -> Option<String> {
        let id = id.as_ref()?;
        let names: HashMap<String, String> =
            staff.with_untracked(|l| l.iter().map(|m| (m.id.clone(), m.name.clone())).collect());
        Some(names.get(id).cloned().unwrap_or_else(|| id.clone()))
    };

    let load = move || {
        // Called after a refund's await too: once the screen was left its
        // state is gone, and reading it would panic.
        let (Some(from), Some(to), Some(sku), Some(by), Some(_)) = (
            from.try_get_untracked(),
            to.try_get_untracked(),
            sku.try_get_untracked(),
            staff_filter.try_get_untracked(),
            load_seq.try_get_value(),
        ) else {
            return;
        };
        let q = SalesQuery {
            from: parse_date(&from),
            to: parse_date(&to),
            sku: Some(sku).filter(|s| !s.trim().is_empty()),
            staff_id: Some(by).filter(|s| !s.is_empty()),
            limit: Some(200),
        };
        // Only the latest load's answers are shown: an older one that
        // arrives last would show another filter's lists.
        load_seq.update_value(|s| *s += 1);
        let mine = load_seq.get_value();
        let current = move || load_seq.try_get_value() == Some(mine);
        spawn(async move {
            let sales = api::sales(&q).await;
            let refunds = api::refunds(&q).await;
            if !current() {
                return;
            }
            match sales {
                Ok(l) => list.set(l),
                Err(e) => ctx.error(&e),
            }
            match refunds {
                Ok(l) => refund_list.set(l),
                Err(e) => {
                    refund_list.set(Vec::new());
                    ctx.error(&e);
                }
            }
            let (Some(f), Some(t)) = (q.from, q.to) else {
                return;
            };
            match api::sales_chart(f, t, None).await {
                Ok(c) => {
                    // A day without sales yet: chart the hours of the last day that had some.
                    let quiet = c.by_hour.iter().all(|b| b.sales == 0);
                    let last = c
                        .by_day
                        .iter()
                        .rev()
                        .find(|b| b.sales > 0)
                        .and_then(|b| parse_date(&b.label));
                    match (quiet, last) {
                        (true, Some(d)) if d != t => {
                            let c = api::sales_chart(f, t, Some(d)).await.unwrap_or(c);
                            hour_day.set(date_text(&d));
                            chart.set(Some(c));
                        }
                        _ => {
                            hour_day.set(date_text(&t));
                            chart.set(Some(c));
                        }
                    }
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    Effect::new(move |_| {
        ctx.data_version.track();
        load();
    });
    // A reprint on this till's thermal printer, when it has one.
    let has_printer = RwSignal::new(false);
    spawn(async move {
        if let Ok(p) = api::printer_settings().await {
            let _ = has_printer.try_set(p.target.is_some());
        }
    });
    let reprint = move |id: String| {
        spawn(async move {
            match api::print_receipt(&id, true).await {
                Ok(_) => ctx.info(tr!("printer-reprinted")),
                Err(e) => ctx.error(&e),
            }
        });
    };
    let open = move |id: String| {
        spawn(async move {
            match api::sale(&id).await {
                Ok(d) => {
                    refund_qty.set(d.lines.iter().map(|l| (l.sku.clone(), 0)).collect());
                    detail.set(Some(d));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let do_refund = move |all: bool| {
        let Some(d) = detail.get_untracked() else {
            return;
        };
        let lines: Vec<RefundLineInput> = if all {
            Vec::new()
        } else {
            refund_qty
                .get_untracked()
                .into_iter()
                .filter(|(_, q)| *q > 0)
                .map(|(code, qty)| RefundLineInput { code, qty })
                .collect()
        };
        if !all && lines.is_empty() {
            ctx.info(tr!("sales-refund-what"));
            return;
        }
        let req = RefundInput {
            sale_id: d.summary.sale_id.clone(),
            lines,
            tender: None,
        };
        spawn(async move {
            match api::refund(&req).await {
                Ok(r) => {
                    ctx.info(tr!(
                        "sales-refunded-msg",
                        amount = money(&r.amount),
                        tender = kind(r.tender),
                        number = d.summary.number.clone()
                    ));
                    open(req.sale_id.clone());
                    load();
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let run_z = move || {
        let Some(d) = parse_date(&z_date.get_untracked()) else {
            ctx.info(tr!("sales-pick-day"));
            return;
        };
        // The report counts the staff member chosen for the list.
        let by = Some(staff_filter.get_untracked()).filter(|s| !s.is_empty());
        let who = staff_name(&by);
        z_seq.update_value(|s| *s += 1);
        let mine = z_seq.get_value();
        spawn(async move {
            let r = api::z_report(d, by).await;
            if z_seq.try_get_value() != Some(mine) {
                return;
            }
            match r {
                Ok(r) => {
                    z_staff.set(who);
                    z.set(Some(r));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };

    let detail_view = move || {
        detail.get().map(|d| {
            let refunded_total = d.refunds.iter().map(|r| r.amount.minor).sum::<i64>();
            view! {
                <div class="card" data-testid="sale-detail" data-number=d.summary.number.clone()>
                    <h2>{tr!("sales-sale", number = d.summary.number.clone())}</h2>
                    <p class="muted">{local_time(&d.summary.at)}</p>
                    {staff_name(&d.summary.staff_id).map(|n| view! { <p class="small" data-testid="sale-staff">{tr!("sales-sold-by", name = n)}</p> })}
                    {staff_name(&d.summary.approver_id).map(|n| view! { <p class="small" data-testid="sale-approver">{tr!("sales-approved-by", name = n)}</p> })}
                    {(!d.summary.same_number.is_empty()).then(|| view! {
                        <p class="error" data-testid="sale-same-number">{tr!(
                            "sales-same-number",
                            number = d.summary.number.clone(),
                            others = d.summary.same_number.join(", ")
                        )}</p>
                    })}
                    <table class="list">
                        <thead><tr><th>{tr!("sales-item")}</th><th class="num">{tr!("sales-qty")}</th><th class="num">{tr!("sales-price")}</th><th class="num">{tr!("sales-total")}</th><th class="num">{tr!("sales-refunded")}</th><th>{tr!("sales-refund")}</th></tr></thead>
                        <tbody>
                        {d.lines.iter().enumerate().map(|(i, l)| {
                            let left = l.qty - l.refunded_qty;
                            view! {
                                <tr data-testid=format!("sale-line-{i}")>
                                    <td>{l.name.clone()}<div class="muted small">{l.sku.clone()}</div></td>
                                    <td class="num">{l.qty}</td><td class="num">{money(&l.unit_price)}</td><td class="num">{money(&l.total)}</td>
                                    <td class="num" data-testid=format!("sale-line-refunded-{i}")>{l.refunded_qty}</td>
                                    <td>{(left > 0).then(|| view! {
                                        <input type="number" min="0" max=left.to_string() class="narrow" aria-label=tr!("sales-refund-qty-label", name = l.name.clone()) data-testid=format!("refund-qty-{i}") value="0"
                                            on:input=move |ev| { let n = value(&ev).trim().parse::<i64>().unwrap_or(0); refund_qty.update(|v| if let Some(x) = v.get_mut(i) { x.1 = n }); } />
                                    })}</td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                    <div class="r-row"><span>{tr!("sales-tax")}</span><span>{money(&d.summary.tax)}</span></div>
                    <div class="r-row strong"><span>{tr!("sales-total")}</span><span data-testid="sale-total">{money(&d.summary.total)}</span></div>
                    {d.tenders.iter().map(|t| view! { <div class="r-row"><span>{kind(t.kind)}</span><span>{money(&t.amount)}</span></div> }).collect_view()}
                    <div class="r-row"><span>{tr!("sales-change")}</span><span>{money(&d.change)}</span></div>
                    <div class="r-row"><span>{tr!("sales-refunded")}</span><span data-testid="sale-refunded">{money_minor(refunded_total, d.summary.total.decimals)}</span></div>
                    {(!d.refund_conflicts.is_empty()).then(|| view! {
                        <div class="message error" data-testid="sale-refund-conflict">
                            <strong>{tr!("sales-refund-conflict")}</strong>
                            {d.refund_conflicts.iter().map(|c| view! {
                                <div>{tr!("sales-conflict-line", sku = c.sku.clone(), sold = c.sold, refunded = c.refunded, excess = money(&c.excess_amount))}</div>
                                {c.refunds.iter().map(|r| view! {
                                    <div class="small">{tr!("sales-conflict-refund", qty = r.qty, sku = c.sku.clone(), amount = money(&r.amount), till = r.till_id.clone(), refund = r.refund_id.clone(), at = local_time(&r.at))}</div>
                                }).collect_view()}
                            }).collect_view()}
                        </div>
                    })}
                    <div class="pay-row end">
                        <button class="btn" on:click=move |_| detail.set(None)>{tr!("sales-close")}</button>
                        {has_printer.get().then(|| {
                            let id = d.summary.sale_id.clone();
                            view! { <button class="btn" data-testid="sale-reprint" on:click=move |_| reprint(id.clone())>{tr!("printer-reprint")}</button> }
                        })}
                        {
                            let sale = d.clone();
                            view! { <button class="btn" data-testid="sale-invoice" on:click=move |_| invoice_for.set(Some(sale.clone()))>{tr!("invoice-button")}</button> }
                        }
                        <button class="btn" data-testid="refund-selected" on:click=move |_| do_refund(false)>{tr!("sales-refund-selected")}</button>
                        <button class="btn danger" data-testid="refund-all" on:click=move |_| do_refund(true)>{tr!("sales-refund-all")}</button>
                    </div>
                </div>
            }
        })
    };

    let z_view = move || {
        z.get().map(|r| view! {
            <div class="zreport" data-testid="z-report">
                {z_staff.get().map(|name| view! { <p class="small muted" data-testid="z-staff">{tr!("z-only-staff", name = name)}</p> })}
                <div class="r-row"><span>{tr!("z-sales")}</span><span data-testid="z-sales-count">{r.sales_count}</span></div>
                <div class="r-row"><span>{tr!("z-items-sold")}</span><span>{r.items_sold}</span></div>
                <div class="r-row"><span>{tr!("z-gross")}</span><span>{money(&r.gross_sales)}</span></div>
                <div class="r-row"><span>{tr!("z-discounts")}</span><span>{money(&r.discounts)}</span></div>
                {r.tax.iter().map(|t| view! { <div class="r-row"><span>{tr!("z-tax", class = t.tax_class.clone().unwrap_or_else(|| tr!("z-tax-none")), rate = input_text(i64::from(t.rate_bp), 2))}</span><span>{money(&t.tax)}</span></div> }).collect_view()}
                {r.tenders.iter().map(|t| view! { <div class="r-row"><span>{tr!("z-taken-by", kind = kind(t.kind))}</span><span>{money(&t.amount)}</span></div> }).collect_view()}
                <div class="r-row"><span>{tr!("z-change-given")}</span><span>{money(&r.change_given)}</span></div>
                <div class="r-row"><span>{tr!("z-refunds", count = r.refunds_count)}</span><span>{money(&r.refunds_total)}</span></div>
                <div class="r-row strong"><span>{tr!("z-net")}</span><span data-testid="z-net">{money(&r.net_sales)}</span></div>
                <div class="r-row strong"><span>{tr!("z-cash-expected")}</span><span>{money(&r.cash_expected)}</span></div>
                {(!r.over_refunded.is_empty()).then(|| view! {
                    <div class="r-row error" data-testid="z-over-refunded"><span>{tr!("z-over-refunded", count = r.over_refunded.len())}</span><span>{money(&r.over_refunded_total)}</span></div>
                    {r.staff_id.is_some().then(|| view! { <div class="small muted">{tr!("z-over-refunded-whole-day")}</div> })}
                    {r.over_refunded.iter().map(|o| view! { <div class="r-row small"><span>{tr!("z-over-line", number = o.number.clone(), qty = o.excess_qty)}</span><span>{money(&o.excess_amount)}</span></div> }).collect_view()}
                })}
            </div>
        })
    };

    view! {
        <div class="page" data-testid="page-sales">
            {move || invoice_for.get().map(|sale| view! { <invoice::InvoiceDialog sale=sale on_close=Callback::new(move |()| invoice_for.set(None)) /> })}
            <div class="toolbar">
                <label class="inline">{tr!("sales-from")}<input type="date" data-testid="sales-from" prop:value=move || from.get() on:change=move |ev| { from.set(value(&ev)); load(); } /></label>
                <label class="inline">{tr!("sales-to")}<input type="date" data-testid="sales-to" prop:value=move || to.get() on:change=move |ev| { to.set(value(&ev)); load(); } /></label>
                <input type="search" placeholder=tr!("sales-with-sku") aria-label=tr!("sales-with-sku") data-testid="sales-sku" prop:value=move || sku.get() on:input=move |ev| sku.set(value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { load() } />
                {move || (!staff.with(Vec::is_empty)).then(|| view! {
                    <label class="inline">{tr!("sales-staff")}
                        <select data-testid="sales-staff" prop:value=move || staff_filter.get()
                            on:change=move |ev| {
                                staff_filter.set(value(&ev));
                                // A Z report shown for someone else is no longer the filter's.
                                z_seq.update_value(|s| *s += 1);
                                z.set(None);
                                load();
                            }>
                            <option value="">{tr!("sales-staff-all")}</option>
                            {staff.get().into_iter().map(|m| {
                                let label = if m.active { m.name.clone() } else { tr!("sales-staff-removed", name = m.name.clone()) };
                                view! { <option value=m.id.clone()>{label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                })}
                <button class="btn" data-testid="sales-refresh" on:click=move |_| load()>{tr!("sales-show")}</button>
            </div>
            <div class="split">
                <div class="grow">
                    {move || chart.get().map(|c| view! {
                        <div class="charts">
                            <BarChart title=tr!("sales-by-hour", day = hour_day.get_untracked()) buckets=c.by_hour testid="chart-hour" label_every=3 />
                            <BarChart title=tr!("sales-by-day") buckets=c.by_day testid="chart-day" label_every=2 />
                        </div>
                    })}
                    <div class="scroll sales-list">
                    <table class="list" data-testid="sales-table">
                        <thead><tr><th>{tr!("sales-number")}</th><th>{tr!("sales-time")}</th><th>{tr!("sales-staff")}</th><th class="num">{tr!("sales-items")}</th><th class="num">{tr!("sales-total")}</th><th class="num">{tr!("sales-refunded")}</th></tr></thead>
                        <tbody>
                        {move || { staff.track(); list.get() }.into_iter().enumerate().map(|(i, s)| {
                            let id = s.sale_id.clone();
                            view! {
                                <tr class="clickable" data-testid=format!("sale-row-{i}") data-number=s.number.clone() on:click=move |_| open(id.clone())>
                                    <td>{s.number.clone()}{(!s.same_number.is_empty()).then(|| view! { <span class="error" data-testid=format!("sale-same-number-{i}") title=tr!("sales-duplicate-title")>" " {tr!("sales-duplicate")}</span> })}</td><td>{local_time(&s.at)}</td>
                                    <td data-testid=format!("sale-staff-{i}")>{staff_name(&s.staff_id)}{staff_name(&s.approver_id).map(|a| view! { <div class="muted small">{tr!("sales-approved-by", name = a)}</div> })}</td>
                                    <td class="num">{s.items}</td>
                                    <td class="num">{money(&s.total)}</td><td class="num">{(s.refunded.minor != 0).then(|| money(&s.refunded))}
                                        {s.over_refunded.then(|| view! { <span class="badge" data-testid=format!("sale-over-refunded-{i}") title=tr!("sales-over-refunded-title")>{tr!("sales-over-refunded")}</span> })}</td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                    <h2>{tr!("sales-refunds-heading")}</h2>
                    <refunds::RefundsTable list=refund_list name=staff_name open=open kind=kind />
                </div>
                <div class="side">
                    {detail_view}
                    <div class="card">
                        <h2>{tr!("z-title")}</h2>
                        <div class="pay-row">
                            <input type="date" data-testid="z-date" aria-label=tr!("z-date-label") prop:value=move || z_date.get() on:change=move |ev| z_date.set(value(&ev)) />
                            <button class="btn" data-testid="z-run" on:click=move |_| run_z()>{tr!("sales-show")}</button>
                        </div>
                        {z_view}
                    </div>
                </div>
            </div>
        </div>
    }
}
