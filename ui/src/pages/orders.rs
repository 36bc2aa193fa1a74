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
use crate::util::{focus, minor_text, money, parse_money, spawn, value};

#[derive(Debug, Clone, PartialEq)]
enum Dialog {
    None,
    Reject,
    Collect(Box<SaleQuote>),
    Collected(Box<(OrderView, SaleReceipt)>),
}

fn kind_label(k: TenderKind) -> &'static str {
    match k {
        TenderKind::Cash => "Cash",
        TenderKind::Card => "Card",
        TenderKind::Other => "Other",
    }
}

fn status_label(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Sent => "new",
        OrderStatus::Accepted => "accepted",
        OrderStatus::Ready => "ready",
        OrderStatus::Collected => "collected",
        OrderStatus::Rejected => "rejected",
        OrderStatus::Cancelled => "cancelled",
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
        notes.push("unavailable".to_string());
    } else if l.sku.is_none() {
        notes.push("free text: ring it up separately".to_string());
    } else if l.product_id.is_none() {
        notes.push("not in the catalog".to_string());
    }
    if l.shortfall > 0 {
        notes.push(format!("short {}: stock does not cover it", l.shortfall));
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
        seq.update_value(|s| *s += 1);
        let mine = seq.get_value();
        let show_all = all.get_untracked();
        spawn(async move {
            let r = api::orders(show_all).await;
            if seq.get_value() != mine {
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
                        format!("Order of {} accepted.", o.customer_name)
                    } else {
                        format!(
                            "Order of {} accepted, {n} line{} marked unavailable.",
                            o.customer_name,
                            if n == 1 { "" } else { "s" }
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
                    format!("Order of {} is ready for pickup.", o.customer_name),
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
            ctx.error(&invalid(
                "reason",
                "say why the order is rejected: the customer sees it",
            ));
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
                    stepped(v, format!("Order of {} rejected.", o.customer_name));
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
                Some(a) if a > 0 => a,
                _ => {
                    ctx.error(&invalid(
                        "tender",
                        format!("'{typed}' is not an amount (like 12.30)"),
                    ));
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
                <h2 class="grow">"Pickup orders"</h2>
                <label class="inline"><input type="checkbox" data-testid="orders-show-all" prop:checked=move || all.get()
                    on:change=move |ev| all.set(event_target_checked(&ev)) />"show collected, rejected and cancelled too"</label>
                <button class="btn" data-testid="orders-refresh" title="Read the orders again" on:click=move |_| load()>"Refresh"</button>
            </div>
        }
    };

    let list_view = move || {
        let rows = list.get();
        if loaded.get() && rows.is_empty() {
            return view! {
                <p class="muted" data-testid="orders-empty">{move || if all.get() { "No orders yet." } else { "No open orders. New ones appear here when customers send their lists." }}</p>
            }.into_any();
        }
        view! {
            <table class="list" data-testid="orders-table">
                <thead><tr><th>"Customer"</th><th>"List"</th><th>"Status"</th><th class="num">"Lines"</th><th>"Sent"</th></tr></thead>
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
            return view! { <div class="card"><p class="muted">"Select an order to see its lines."</p></div> }.into_any();
        };
        let status = o.status;
        let choosing = status == OrderStatus::Sent;
        let id = o.id.clone();
        view! {
            <div class="card order-detail" data-testid="order-detail" data-order=id.clone() data-status=status.as_str()>
                <h2>{o.customer_name.clone()} " · " {o.list_name.clone()}</h2>
                <p class="muted small">"Order " <code>{id.chars().take(8).collect::<String>()}</code> " · sent " {sent_time(o.sent_at)}
                    " · " <span data-testid="order-status">{status_label(status)}</span></p>
                {o.note.clone().map(|n| view! { <p data-testid="order-note">"Note: " {n}</p> })}
                {o.conflict.clone().map(|c| view! { <p class="error" data-testid="order-conflict">"Conflict: " {c}</p> })}
                {o.reason.clone().map(|r| view! { <p data-testid="order-reason">"Reason: " {r}</p> })}
                {o.sale_id.clone().map(|s| view! { <p class="muted small" data-testid="order-sale">"Sale " <code>{s}</code></p> })}
                {choosing.then(|| view! { <p class="muted small">"Tick the lines the shop cannot supply, then Accept."</p> })}
                <table class="list" data-testid="order-lines">
                    <thead><tr>
                        {choosing.then(|| view! { <th>"Unavailable"</th> })}
                        <th class="num">"#"</th><th>"Item"</th><th>"SKU"</th><th class="num">"Qty"</th><th></th>
                    </tr></thead>
                    <tbody>
                    {o.lines.iter().map(|l| {
                        let n = l.line;
                        let note = line_note(l);
                        view! {
                            <tr class:unavailable=l.unavailable class:short={l.shortfall > 0}
                                data-testid=format!("order-line-{n}") data-unavailable=l.unavailable.to_string() data-shortfall=l.shortfall.to_string()>
                                {choosing.then(|| view! {
                                    <td><input type="checkbox" data-testid=format!("order-line-unavailable-{n}")
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
                            {move || { let n = unavailable.with(Vec::len); if n == 0 { "Accept".to_string() } else { format!("Accept, {n} unavailable") } }}
                        </button>
                    })}
                    {(status == OrderStatus::Accepted).then(|| view! {
                        <button class="big-btn primary" data-testid="order-ready" disabled=move || busy.get() on:click=move |_| ready()>"Mark ready"</button>
                    })}
                    {status.reserves().then(|| view! {
                        <button class="big-btn primary" data-testid="order-collect" disabled=move || busy.get() on:click=move |_| open_collect()>"Collect…"</button>
                    })}
                    {(!status.is_final()).then(|| view! {
                        <button class="big-btn danger" data-testid="order-reject" disabled=move || busy.get() on:click=move |_| open_reject()>"Reject…"</button>
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
                <h2 id="reject-title">"Reject the order"</h2>
                <label>"Reason (the customer sees it)"
                    <input node_ref=reason_ref type="text" data-testid="reject-reason" prop:value=move || reason.get()
                        on:input=move |ev| reason.set(value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default(); reject() } />
                </label>
                <div class="pay-row end">
                    <button class="big-btn" data-testid="reject-cancel" on:click=move |_| close()>"Back (Esc)"</button>
                    <button class="big-btn danger" data-testid="reject-confirm" disabled=move || busy.get() on:click=move |_| reject()>"Reject order"</button>
                </div>
            </div>
            </div>
        }.into_any(),
        Dialog::Collect(q) => {
            let total = q.total.minor;
            view! {
                <div class="overlay">
                <div class="dialog pay" role="dialog" aria-modal="true" aria-labelledby="collect-title" data-testid="collect-dialog">
                    <h2 id="collect-title">"Collect the order"</h2>
                    <table class="list" data-testid="collect-lines">
                        <tbody>
                        {q.lines.iter().map(|l| view! {
                            <tr><td>{l.name.clone()}</td><td class="num">{format!("{} × {}", l.qty, l.unit_price)}</td><td class="num">{money(&l.total)}</td></tr>
                        }).collect_view()}
                        </tbody>
                    </table>
                    <div class="due">"Total " <strong data-testid="collect-total">{money(&q.total)}</strong></div>
                    {move || {
                        let paid = paid_minor();
                        let left = (total - paid).max(0);
                        let change = (paid - total).max(0);
                        view! {
                            <div class="due">"Left to pay " <strong class="big" data-testid="collect-remaining">{minor_text(left, dec)}</strong></div>
                            {(change > 0).then(|| view! { <div class="due">"Change " <strong class="big" data-testid="collect-change">{minor_text(change, dec)}</strong></div> })}
                        }
                    }}
                    <ul class="tenders" data-testid="collect-tenders">
                        {move || tenders.get().into_iter().enumerate().map(|(i, (k, a))| view! {
                            <li data-testid=format!("collect-tender-{i}")>{kind_label(k)} " " {minor_text(a, dec)}
                                <button class="link" on:click=move |_| tenders.update(|t| { if i < t.len() { t.remove(i); } })>"remove"</button>
                            </li>
                        }).collect_view()}
                    </ul>
                    <div class="pay-row">
                        <button class="big-btn primary" data-testid="collect-exact-cash" disabled=move || remaining() == 0 || busy.get()
                            on:click=move |_| { let left = remaining(); tenders.update(|t| t.push((TenderKind::Cash, left))); complete(); }>
                            "Exact cash"
                        </button>
                    </div>
                    <div class="pay-row">
                        <input node_ref=tender_ref class="amount-input" type="text" inputmode="decimal"
                            placeholder=move || format!("amount (empty = {})", minor_text(remaining(), dec))
                            data-testid="collect-amount" prop:value=move || tender_text.get()
                            on:input=move |ev| tender_text.set(value(&ev))
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                if ev.key() == "Enter" {
                                    ev.prevent_default();
                                    if tender_text.get_untracked().trim().is_empty() && paid_minor() >= total_minor() { complete(); } else { add_tender(TenderKind::Cash); }
                                }
                            } />
                        <button class="big-btn" data-testid="collect-cash" on:click=move |_| add_tender(TenderKind::Cash)>"Cash"</button>
                        <button class="big-btn" data-testid="collect-card" on:click=move |_| add_tender(TenderKind::Card)>"Card"</button>
                        <button class="big-btn" data-testid="collect-other" on:click=move |_| add_tender(TenderKind::Other)>"Other"</button>
                    </div>
                    <div class="pay-row end">
                        <button class="big-btn" data-testid="collect-cancel" on:click=move |_| close()>"Back (Esc)"</button>
                        <button class="big-btn primary" data-testid="collect-complete" disabled=move || paid_minor() < total_minor() || busy.get() on:click=move |_| complete()>"Complete sale"</button>
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
                    <h2 id="collected-title">"Order collected"</h2>
                    <p>{o.customer_name.clone()} " · " {o.list_name.clone()}</p>
                    <div class="due">"Sale " <strong class="big" data-testid="collected-sale-number">{r.number.clone()}</strong></div>
                    <div class="due">"Total " <strong data-testid="collected-total">{money(&r.total)}</strong></div>
                    <div class="change-due">"Change " <strong class="huge" data-testid="collected-change">{money(&r.change)}</strong></div>
                    <div class="pay-row end">
                        <button class="big-btn primary" data-testid="collected-done" on:click=move |_| close()>"Done (Esc)"</button>
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
