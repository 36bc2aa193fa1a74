//! Orders: pickup orders customers sent from their shopping lists. The open
//! ones (or all), and for the selected order its lines and the shop's
//! steps: accept (ticking the lines it cannot supply), mark ready, reject
//! with a reason, and collect (the order's available lines become a sale,
//! paid like on the Sell screen).
//!
//! The list is read when the screen opens, when a sync brought changes,
//! with the Refresh button, and after every step.

use leptos::prelude::*;
use shopsync_types::ipc::{OrderAcceptInput, OrderCollectInput, OrderRejectInput, TenderInput};
use shopsync_types::{
    ErrorCode, ErrorInfo, OrderLineView, OrderStatus, OrderView, SaleQuote, SaleReceipt, TenderKind,
};

use crate::api;
use crate::app::Ctx;
use crate::util::{focus, minor_text, money, money_minor, parse_money, spawn, value};

#[derive(Debug, Clone, PartialEq)]
enum Dialog {
    None,
    Reject,
    Collect(Box<SaleQuote>),
    Collected(Box<(OrderView, SaleReceipt)>),
}

fn kind_label(k: TenderKind) -> String {
    match k {
        TenderKind::Cash => tr!("tender-cash"),
        TenderKind::Card => tr!("tender-card"),
        TenderKind::Other => tr!("tender-other"),
    }
}

fn status_label(s: OrderStatus) -> String {
    match s {
        OrderStatus::Sent => tr!("order-status-new"),
        OrderStatus::Accepted => tr!("order-status-accepted"),
        OrderStatus::Ready => tr!("order-status-ready"),
        OrderStatus::Collected => tr!("order-status-collected"),
        OrderStatus::Rejected => tr!("order-status-rejected"),
        OrderStatus::Cancelled => tr!("order-status-cancelled"),
    }
}

fn sent_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| crate::util::local_time(&t))
        .unwrap_or_default()
}

/// What the line's marks say: unavailable, short, not sold at collection.
fn line_note(l: &OrderLineView) -> String {
    let mut notes = Vec::new();
    if l.unavailable {
        notes.push(tr!("order-note-unavailable"));
    } else if l.sku.is_none() {
        notes.push(tr!("order-note-free-text"));
    } else if l.product_id.is_none() {
        notes.push(tr!("order-note-not-in-catalog"));
    }
    if l.shortfall > 0 {
        notes.push(tr!("order-note-short", count = l.shortfall));
    }
    notes.join(" · ")
}

fn invalid(field: &str, message: impl Into<String>) -> ErrorInfo {
    ErrorInfo {
        code: ErrorCode::InvalidInput,
        message: message.into(),
        row: None,
        field: Some(field.into()),
    }
}

#[component]
pub fn OrdersPage(ctx: Ctx) -> impl IntoView {
    let all = RwSignal::new(false);
    let list = RwSignal::new(Vec::<OrderView>::new());
    let loaded = RwSignal::new(false);
    let selected = RwSignal::new(None::<String>);
    let unavailable = RwSignal::new(Vec::<u32>::new());
    let dialog = RwSignal::new(Dialog::None);
    let reason = RwSignal::new(String::new());
    let tenders = RwSignal::new(Vec::<(TenderKind, i64)>::new());
    let tender_text = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let reason_ref = NodeRef::<leptos::html::Input>::new();
    let tender_ref = NodeRef::<leptos::html::Input>::new();
    let seq = StoredValue::new(0u64);
    let dec = ctx.decimals();

    Effect::new(move |_| {
        let open = !matches!(dialog.get(), Dialog::None);
        ctx.dialog_open.set(open);
    });
    on_cleanup(move || ctx.dialog_open.set(false));

    let load = move || {
        // Called after an await too: once the screen was left its state is
        // gone, and reading it would panic.
        if seq.try_get_value().is_none() {
            return;
        }
        seq.update_value(|s| *s += 1);
        let mine = seq.get_value();
        let show_all = all.get_untracked();
        spawn(async move {
            let r = api::orders(show_all).await;
            if seq.try_get_value() != Some(mine) {
                return;
            }
            match r {
                Ok(l) => {
                    // Keep the selection if the order is still listed,
                    // else select the first (newest) one.
                    let keep = selected
                        .get_untracked()
                        .filter(|id| l.iter().any(|o| &o.id == id));
                    if keep.is_none() {
                        selected.set(l.first().map(|o| o.id.clone()));
                        unavailable.set(Vec::new());
                    }
                    list.set(l);
                    loaded.set(true);
                }
                Err(e) => ctx.error(&e),
            }
            ctx.refresh_new_orders();
        });
    };
    Effect::new(move |_| {
        ctx.data_version.track();
        all.track();
        load();
    });

    let current = Memo::new(move |_| {
        let id = selected.get()?;
        list.with(|l| l.iter().find(|o| o.id == id).cloned())
    });

    // Selecting an order reads it again (its shortfalls follow the stock).
    let pick = move |id: String| {
        selected.set(Some(id.clone()));
        unavailable.set(Vec::new());
        ctx.clear();
        spawn(async move {
            match api::order(&id).await {
                Ok(o) => list.update(|l| {
                    if let Some(x) = l.iter_mut().find(|x| x.id == o.id) {
                        *x = o;
                    }
                }),
                Err(e) => ctx.error(&e),
            }
        });
    };

    // After a step: the answer replaces the order in the list at once,
    // then the list is read again (other orders may have arrived).
    let stepped = move |o: OrderView, text: String| {
        list.update(|l| {
            if let Some(x) = l.iter_mut().find(|x| x.id == o.id) {
                *x = o;
            }
        });
        unavailable.set(Vec::new());
        ctx.info(text);
        load();
    };

    let accept = move || {
        let Some(o) = current.get_untracked() else {
            return;
        };
        let lines: Vec<String> = unavailable
            .get_untracked()
            .into_iter()
            .map(|n| n.to_string())
            .collect();
        let n = lines.len();
        busy.set(true);
        spawn(async move {
            let r = api::order_accept(&OrderAcceptInput {
                id: o.id.clone(),
                unavailable: lines,
            })
            .await;
            busy.set(false);
            match r {
                Ok(v) => stepped(
                    v,
                    if n == 0 {
                        tr!("orders-accepted", customer = o.customer_name.clone())
                    } else {
                        tr!(
                            "orders-accepted-unavailable",
                            customer = o.customer_name.clone(),
                            count = n
                        )
                    },
                ),
                Err(e) => ctx.error(&e),
            }
        });
    };

    let ready = move || {
        let Some(o) = current.get_untracked() else {
            return;
        };
        busy.set(true);
        spawn(async move {
            let r = api::order_ready(&o.id).await;
            busy.set(false);
            match r {
                Ok(v) => stepped(
                    v,
                    tr!("orders-ready-msg", customer = o.customer_name.clone()),
                ),
                Err(e) => ctx.error(&e),
            }
        });
    };

    let open_reject = move || {
        reason.set(String::new());
        dialog.set(Dialog::Reject);
        request_animation_frame(move || focus(reason_ref));
    };

    let reject = move || {
        let Some(o) = current.get_untracked() else {
            return;
        };
        let why = reason.get_untracked();
        if why.trim().is_empty() {
            ctx.error(&invalid("reason", tr!("orders-reason-needed")));
            return;
        }
        busy.set(true);
        spawn(async move {
            let r = api::order_reject(&OrderRejectInput {
                id: o.id.clone(),
                reason: why,
            })
            .await;
            busy.set(false);
            match r {
                Ok(v) => {
                    dialog.set(Dialog::None);
                    stepped(
                        v,
                        tr!("orders-rejected-msg", customer = o.customer_name.clone()),
                    );
                }
                Err(e) => ctx.error(&e),
            }
        });
    };

    let open_collect = move || {
        let Some(o) = current.get_untracked() else {
            return;
        };
        spawn(async move {
            match api::order_quote(&o.id).await {
                Ok(q) => {
                    ctx.clear();
                    tenders.set(Vec::new());
                    tender_text.set(String::new());
                    dialog.set(Dialog::Collect(Box::new(q)));
                    request_animation_frame(move || focus(tender_ref));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };

    let total_minor = move || {
        dialog.with(|d| match d {
            Dialog::Collect(q) => q.total.minor,
            _ => 0,
        })
    };
    let paid_minor = move || tenders.with(|t| t.iter().map(|(_, a)| a).sum::<i64>());
    let remaining = move || (total_minor() - paid_minor()).max(0);

    let complete = move || {
        if busy.get_untracked() {
            return;
        }
        let Some(o) = current.get_untracked() else {
            return;
        };
        let tender_list: Vec<TenderInput> = tenders
            .get_untracked()
            .into_iter()
            .map(|(kind, a)| TenderInput {
                kind,
                amount: minor_text(a, dec),
            })
            .collect();
        busy.set(true);
        spawn(async move {
            let r = api::order_collect(&OrderCollectInput {
                id: o.id.clone(),
                tenders: tender_list,
            })
            .await;
            busy.set(false);
            match r {
                Ok(c) => {
                    ctx.clear();
                    tenders.set(Vec::new());
                    let order = c.order.clone();
                    list.update(|l| {
                        if let Some(x) = l.iter_mut().find(|x| x.id == order.id) {
                            *x = order;
                        }
                    });
                    dialog.set(Dialog::Collected(Box::new((c.order, c.receipt))));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };

    let add_tender = move |kind: TenderKind| {
        let typed = tender_text.get_untracked();
        let amount = if typed.trim().is_empty() {
            remaining()
        } else {
            match parse_money(&typed, dec) {
                Ok(a) if a > 0 => a,
                Ok(_) => {
                    ctx.error(&invalid("tender", tr!("sell-amount-positive")));
                    return;
                }
                Err(m) => {
                    ctx.error(&invalid("tender", m));
                    return;
                }
            }
        };
        if amount <= 0 {
            return;
        }
        ctx.clear();
        tenders.update(|t| t.push((kind, amount)));
        tender_text.set(String::new());
        focus(tender_ref);
    };

    let close = move || {
        let was_collected = matches!(dialog.get_untracked(), Dialog::Collected(_));
        dialog.set(Dialog::None);
        if was_collected {
            load();
        }
    };

    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && !matches!(dialog.get_untracked(), Dialog::None) {
            ev.prevent_default();
            close();
        }
    });
    on_cleanup(move || keys.remove());

    let toolbar = move || {
        view! {
            <div class="toolbar">
                <h2 class="grow">{tr!("orders-title")}</h2>
                <label class="inline"><input type="checkbox" data-testid="orders-show-all" prop:checked=move || all.get()
                    on:change=move |ev| all.set(event_target_checked(&ev)) />{tr!("orders-show-all")}</label>
                <button class="btn" data-testid="orders-refresh" title=tr!("orders-refresh-title") on:click=move |_| load()>{tr!("orders-refresh")}</button>
            </div>
        }
    };

    let list_view = move || {
        let rows = list.get();
        if loaded.get() && rows.is_empty() {
            return view! {
                <p class="muted" data-testid="orders-empty">{move || if all.get() { tr!("orders-none-yet") } else { tr!("orders-none-open") }}</p>
            }.into_any();
        }
        view! {
            <table class="list" data-testid="orders-table">
                <thead><tr><th>{tr!("orders-customer")}</th><th>{tr!("orders-list")}</th><th>{tr!("orders-status")}</th><th class="num">{tr!("orders-lines")}</th><th>{tr!("orders-sent")}</th></tr></thead>
                <tbody>
                {rows.into_iter().map(|o| {
                    let id = o.id.clone();
                    let id2 = o.id.clone();
                    let status = o.status;
                    view! {
                        <tr class="clickable order-row" class:selected=move || selected.get().as_deref() == Some(id2.as_str())
                            data-testid=format!("order-row-{}", o.id) data-status=status.as_str()
                            on:click=move |_| pick(id.clone())>
                            <td>{o.customer_name.clone()}</td>
                            <td>{o.list_name.clone()}</td>
                            <td><span class=format!("badge order-{}", status.as_str())>{status_label(status)}</span></td>
                            <td class="num">{o.lines.len()}</td>
                            <td>{sent_time(o.sent_at)}</td>
                        </tr>
                    }
                }).collect_view()}
                </tbody>
            </table>
        }.into_any()
    };

    let detail_view = move || {
        let Some(o) = current.get() else {
            return view! { <div class="card"><p class="muted">{tr!("orders-select")}</p></div> }
                .into_any();
        };
        let status = o.status;
        let choosing = status == OrderStatus::Sent;
        let id = o.id.clone();
        view! {
            <div class="card order-detail" data-testid="order-detail" data-order=id.clone() data-status=status.as_str()>
                <h2>{o.customer_name.clone()} " · " {o.list_name.clone()}</h2>
                <p class="muted small">{tr!("orders-order")} " " <code>{id.chars().take(8).collect::<String>()}</code> " · " {tr!("orders-sent-at")} " " {sent_time(o.sent_at)}
                    " · " <span data-testid="order-status">{status_label(status)}</span></p>
                {o.note.clone().map(|n| view! { <p data-testid="order-note">{tr!("orders-note")} " " {n}</p> })}
                {o.conflict.clone().map(|c| view! { <p class="error" data-testid="order-conflict">{tr!("orders-conflict")} " " {c}</p> })}
                {o.reason.clone().map(|r| view! { <p data-testid="order-reason">{tr!("orders-reason")} " " {r}</p> })}
                {o.sale_id.clone().map(|s| view! { <p class="muted small" data-testid="order-sale">{tr!("orders-sale")} " " <code>{s}</code></p> })}
                {choosing.then(|| view! { <p class="muted small">{tr!("orders-tick-hint")}</p> })}
                <table class="list" data-testid="order-lines">
                    <thead><tr>
                        {choosing.then(|| view! { <th>{tr!("orders-unavailable")}</th> })}
                        <th class="num">"#"</th><th>{tr!("orders-item")}</th><th>{tr!("orders-sku")}</th><th class="num">{tr!("orders-qty")}</th><th></th>
                    </tr></thead>
                    <tbody>
                    {o.lines.iter().map(|l| {
                        let n = l.line;
                        let note = line_note(l);
                        view! {
                            <tr class:unavailable=l.unavailable class:short={l.shortfall > 0}
                                data-testid=format!("order-line-{n}") data-unavailable=l.unavailable.to_string() data-shortfall=l.shortfall.to_string()>
                                {choosing.then(|| view! {
                                    <td><input type="checkbox" data-testid=format!("order-line-unavailable-{n}") aria-label=tr!("orders-unavailable")
                                        prop:checked=move || unavailable.with(|u| u.contains(&n))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            unavailable.update(|u| { u.retain(|x| *x != n); if on { u.push(n); } });
                                        } /></td>
                                })}
                                <td class="num">{n}</td>
                                <td>{l.text.clone()}</td>
                                <td>{l.sku.clone().unwrap_or_default()}</td>
                                <td class="num">{l.qty}</td>
                                <td class="small" data-testid=format!("order-line-note-{n}")>{note}</td>
                            </tr>
                        }
                    }).collect_view()}
                    </tbody>
                </table>
                <div class="pay-row">
                    {(status == OrderStatus::Sent).then(|| view! {
                        <button class="big-btn primary" data-testid="order-accept" disabled=move || busy.get() on:click=move |_| accept()>
                            {move || { let n = unavailable.with(Vec::len); if n == 0 { tr!("orders-accept") } else { tr!("orders-accept-unavailable", count = n) } }}
                        </button>
                    })}
                    {(status == OrderStatus::Accepted).then(|| view! {
                        <button class="big-btn primary" data-testid="order-ready" disabled=move || busy.get() on:click=move |_| ready()>{tr!("orders-mark-ready")}</button>
                    })}
                    {status.reserves().then(|| view! {
                        <button class="big-btn primary" data-testid="order-collect" disabled=move || busy.get() on:click=move |_| open_collect()>{tr!("orders-collect")}</button>
                    })}
                    {(!status.is_final()).then(|| view! {
                        <button class="big-btn danger" data-testid="order-reject" disabled=move || busy.get() on:click=move |_| open_reject()>{tr!("orders-reject")}</button>
                    })}
                </div>
            </div>
        }.into_any()
    };

    let dialog_view = move || {
        match dialog.get() {
        Dialog::None => ().into_any(),
        Dialog::Reject => view! {
            <div class="overlay">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="reject-title" data-testid="reject-dialog">
                <h2 id="reject-title">{tr!("reject-title")}</h2>
                <label>{tr!("reject-reason")}
                    <input node_ref=reason_ref type="text" data-testid="reject-reason" prop:value=move || reason.get()
                        on:input=move |ev| reason.set(value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default(); reject() } />
                </label>
                <div class="pay-row end">
                    <button class="big-btn" data-testid="reject-cancel" on:click=move |_| close()>{tr!("reject-back")}</button>
                    <button class="big-btn danger" data-testid="reject-confirm" disabled=move || busy.get() on:click=move |_| reject()>{tr!("reject-confirm")}</button>
                </div>
            </div>
            </div>
        }.into_any(),
        Dialog::Collect(q) => {
            let total = q.total.minor;
            view! {
                <div class="overlay">
                <div class="dialog pay" role="dialog" aria-modal="true" aria-labelledby="collect-title" data-testid="collect-dialog">
                    <h2 id="collect-title">{tr!("collect-title")}</h2>
                    <table class="list" data-testid="collect-lines">
                        <tbody>
                        {q.lines.iter().map(|l| view! {
                            <tr><td>{l.name.clone()}</td><td class="num">{format!("{} × {}", l.qty, money(&l.unit_price))}</td><td class="num">{money(&l.total)}</td></tr>
                        }).collect_view()}
                        </tbody>
                    </table>
                    <div class="due">{tr!("pay-total")} " " <strong data-testid="collect-total">{money(&q.total)}</strong></div>
                    {move || {
                        let paid = paid_minor();
                        let left = (total - paid).max(0);
                        let change = (paid - total).max(0);
                        view! {
                            <div class="due">{tr!("pay-left")} " " <strong class="big" data-testid="collect-remaining">{money_minor(left, dec)}</strong></div>
                            {(change > 0).then(|| view! { <div class="due">{tr!("pay-change")} " " <strong class="big" data-testid="collect-change">{money_minor(change, dec)}</strong></div> })}
                        }
                    }}
                    <ul class="tenders" data-testid="collect-tenders">
                        {move || tenders.get().into_iter().enumerate().map(|(i, (k, a))| view! {
                            <li data-testid=format!("collect-tender-{i}")>{kind_label(k)} " " {money_minor(a, dec)}
                                <button class="link" on:click=move |_| tenders.update(|t| { if i < t.len() { t.remove(i); } })>{tr!("pay-remove")}</button>
                            </li>
                        }).collect_view()}
                    </ul>
                    <div class="pay-row">
                        <button class="big-btn primary" data-testid="collect-exact-cash" disabled=move || remaining() == 0 || busy.get()
                            on:click=move |_| { let left = remaining(); tenders.update(|t| t.push((TenderKind::Cash, left))); complete(); }>
                            {tr!("collect-exact-cash")}
                        </button>
                    </div>
                    <div class="pay-row">
                        <input node_ref=tender_ref class="amount-input" type="text" inputmode="decimal"
                            placeholder=move || tr!("pay-amount-placeholder", amount = money_minor(remaining(), dec))
                            aria-label=tr!("pay-amount-label")
                            data-testid="collect-amount" prop:value=move || tender_text.get()
                            on:input=move |ev| tender_text.set(value(&ev))
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                if ev.key() == "Enter" {
                                    ev.prevent_default();
                                    if tender_text.get_untracked().trim().is_empty() && paid_minor() >= total_minor() { complete(); } else { add_tender(TenderKind::Cash); }
                                }
                            } />
                        <button class="big-btn" data-testid="collect-cash" on:click=move |_| add_tender(TenderKind::Cash)>{tr!("tender-cash")}</button>
                        <button class="big-btn" data-testid="collect-card" on:click=move |_| add_tender(TenderKind::Card)>{tr!("tender-card")}</button>
                        <button class="big-btn" data-testid="collect-other" on:click=move |_| add_tender(TenderKind::Other)>{tr!("tender-other")}</button>
                    </div>
                    <div class="pay-row end">
                        <button class="big-btn" data-testid="collect-cancel" on:click=move |_| close()>{tr!("pay-back")}</button>
                        <button class="big-btn primary" data-testid="collect-complete" disabled=move || paid_minor() < total_minor() || busy.get() on:click=move |_| complete()>{tr!("pay-complete")}</button>
                    </div>
                </div>
                </div>
            }.into_any()
        }
        Dialog::Collected(c) => {
            let (o, r) = *c;
            view! {
                <div class="overlay">
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="collected-title" data-testid="collected-dialog">
                    <h2 id="collected-title">{tr!("collected-title")}</h2>
                    <p>{o.customer_name.clone()} " · " {o.list_name.clone()}</p>
                    <div class="due">{tr!("receipt-sale")} " " <strong class="big" data-testid="collected-sale-number">{r.number.clone()}</strong></div>
                    <div class="due">{tr!("pay-total")} " " <strong data-testid="collected-total">{money(&r.total)}</strong></div>
                    <div class="change-due">{tr!("pay-change")} " " <strong class="huge" data-testid="collected-change">{money(&r.change)}</strong></div>
                    <div class="pay-row end">
                        <button class="big-btn primary" data-testid="collected-done" on:click=move |_| close()>{tr!("collected-done")}</button>
                    </div>
                </div>
                </div>
            }.into_any()
        }
    }
    };

    view! {
        <div class="page orders" data-testid="page-orders">
            {toolbar}
            <div class="split">
                <section class="grow">{list_view}</section>
                <section class="side wide-side">{detail_view}</section>
            </div>
            {dialog_view}
        </div>
    }
}
