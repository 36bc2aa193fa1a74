//! Stock: levels (negative red, low amber), receive a delivery, adjust with
//! a reason, and counts (start, scan/type counted quantities, review the
//! variance, post).

use leptos::prelude::*;
use shopsync_types::ipc::{
    AdjustInput, CountRecordInput, CountStartInput, ReceiveInput, ReceiveLineInput, StockQuery,
};
use shopsync_types::{CountStatus, CountView, StockLevel, StockStatus, Supplier};

use crate::api;
use crate::app::Ctx;
use crate::util::{focus, minor_text, money, money_minor, parse_money, spawn, value};

#[component]
pub fn StockPage(ctx: Ctx) -> impl IntoView {
    let tab = RwSignal::new("levels");
    view! {
        <div class="page" data-testid="page-stock">
            <div class="tabs">
                {[("levels", tr!("stock-tab-levels")), ("receive", tr!("stock-tab-receive")), ("adjust", tr!("stock-tab-adjust")), ("count", tr!("stock-tab-count"))].into_iter().map(|(k, l)| view! {
                    <button class="tab" class:active=move || tab.get() == k data-testid=format!("stock-tab-{k}") on:click=move |_| tab.set(k)>{l}</button>
                }).collect_view()}
            </div>
            {move || match tab.get() {
                "receive" => view! { <Receive ctx=ctx /> }.into_any(),
                "adjust" => view! { <Adjust ctx=ctx /> }.into_any(),
                "count" => view! { <Count ctx=ctx /> }.into_any(),
                _ => view! { <Levels ctx=ctx /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn Levels(ctx: Ctx) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let low_only = RwSignal::new(false);
    let rows = RwSignal::new(Vec::<StockLevel>::new());
    let seq = StoredValue::new(0u64);
    let load = move || {
        // Called after an await too: once the screen was left its state is
        // gone, and reading it would panic.
        if seq.try_get_value().is_none() {
            return;
        }
        seq.update_value(|s| *s += 1);
        let mine = seq.get_value();
        let req = StockQuery {
            query: query.get_untracked(),
            low_only: low_only.get_untracked(),
            limit: 300,
        };
        spawn(async move {
            let r = api::stock_levels(&req).await;
            if seq.try_get_value() != Some(mine) {
                return;
            }
            match r {
                Ok(l) => rows.set(l),
                Err(e) => ctx.error(&e),
            }
        });
    };
    Effect::new(move |_| {
        ctx.data_version.track();
        load();
    });
    view! {
        <div>
            <div class="toolbar">
                <input type="search" class="grow" placeholder=tr!("stock-filter") data-testid="stock-search"
                    prop:value=move || query.get() on:input=move |ev| { query.set(value(&ev)); load(); } />
                <label class="inline"><input type="checkbox" data-testid="stock-low-only" prop:checked=move || low_only.get()
                    on:change=move |ev| { low_only.set(event_target_checked(&ev)); load(); } />{tr!("stock-low-only")}</label>
                <button class="btn" data-testid="stock-refresh" on:click=move |_| load()>{tr!("stock-refresh")}</button>
            </div>
            <table class="list" data-testid="stock-table">
                <thead><tr><th>{tr!("stock-sku")}</th><th>{tr!("stock-name")}</th><th class="num">{tr!("stock-on-hand")}</th><th class="num" title=tr!("stock-reserved-title")>{tr!("stock-reserved")}</th><th class="num" title=tr!("stock-available-title")>{tr!("stock-available")}</th><th class="num">{tr!("stock-reorder-at")}</th><th>{tr!("stock-status")}</th></tr></thead>
                <tbody>
                {move || rows.get().into_iter().map(|l| {
                    let (class, status, shown) = match l.status {
                        StockStatus::Negative => ("neg", "negative", tr!("stock-status-negative")),
                        StockStatus::Low => ("low", "low", tr!("stock-status-low")),
                        StockStatus::Ok => ("", "ok", tr!("stock-status-ok")),
                    };
                    view! {
                        <tr class=class data-testid=format!("stock-row-{}", l.sku) data-status=status>
                            <td>{l.sku.clone()}</td><td>{l.name.clone()}</td>
                            <td class="num" data-testid=format!("stock-onhand-{}", l.sku)>{l.on_hand}</td>
                            <td class="num" data-testid=format!("stock-reserved-{}", l.sku)>{l.reserved}</td>
                            <td class="num" data-testid=format!("stock-available-{}", l.sku)>{l.available}</td>
                            <td class="num">{l.reorder_point.map(|r| r.to_string()).unwrap_or_default()}</td>
                            <td><span class=format!("badge {class}")>{shown}</span></td>
                        </tr>
                    }
                }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Receive(ctx: Ctx) -> impl IntoView {
    let suppliers = RwSignal::new(Vec::<Supplier>::new());
    let supplier = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let qty = RwSignal::new("1".to_string());
    let cost = RwSignal::new(String::new());
    let lines = RwSignal::new(Vec::<ReceiveLineInput>::new());
    let code_ref = NodeRef::<leptos::html::Input>::new();
    spawn(async move {
        if let Ok(s) = api::suppliers().await {
            suppliers.set(s);
        }
    });
    let add = move || {
        let c = code.get_untracked().trim().to_string();
        if c.is_empty() {
            return;
        }
        let Ok(q) = qty.get_untracked().trim().parse::<i64>() else {
            ctx.info(tr!("stock-qty-whole"));
            return;
        };
        // Typed the language's way, kept as the core reads it.
        let dec = ctx.decimals();
        let cost_text = match cost.get_untracked().trim() {
            "" => None,
            t => match parse_money(t, dec) {
                Ok(m) => Some(minor_text(m, dec)),
                Err(e) => {
                    ctx.info(tr!("stock-unit-cost-field", error = e));
                    return;
                }
            },
        };
        lines.update(|l| {
            l.push(ReceiveLineInput {
                code: c,
                qty: q,
                unit_cost: cost_text,
            })
        });
        code.set(String::new());
        qty.set("1".into());
        cost.set(String::new());
        focus(code_ref);
    };
    let post = move || {
        let req = ReceiveInput {
            supplier: Some(supplier.get_untracked()).filter(|s| !s.is_empty()),
            lines: lines.get_untracked(),
        };
        spawn(async move {
            match api::receive(&req).await {
                Ok(_) => {
                    ctx.info(tr!("stock-received", count = req.lines.len()));
                    lines.set(Vec::new());
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    view! {
        <div class="card wide">
            <h2>{tr!("stock-receive-title")}</h2>
            <label>{tr!("stock-supplier")}
                <select data-testid="receive-supplier" on:change=move |ev| supplier.set(value(&ev))>
                    <option value="">{tr!("stock-none")}</option>
                    {move || suppliers.get().into_iter().map(|s| view! { <option value=s.id.clone()>{s.name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <div class="pay-row">
                <input node_ref=code_ref type="text" placeholder=tr!("stock-scan") aria-label=tr!("stock-scan") data-testid="receive-code" prop:value=move || code.get()
                    on:input=move |ev| code.set(value(&ev)) on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { add() } />
                <input type="number" min="1" class="narrow" data-testid="receive-qty" aria-label=tr!("stock-qty-label") prop:value=move || qty.get() on:input=move |ev| qty.set(value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { add() } />
                <input type="text" class="narrow" placeholder=tr!("stock-unit-cost-placeholder") aria-label=tr!("stock-unit-cost") data-testid="receive-cost" prop:value=move || cost.get() on:input=move |ev| cost.set(value(&ev)) />
                <button class="btn" data-testid="receive-add" on:click=move |_| add()>{tr!("stock-add-line")}</button>
            </div>
            <table class="list" data-testid="receive-lines">
                <thead><tr><th>{tr!("stock-product")}</th><th class="num">{tr!("stock-qty")}</th><th class="num">{tr!("stock-unit-cost")}</th><th></th></tr></thead>
                <tbody>
                {move || lines.get().into_iter().enumerate().map(|(i, l)| view! {
                    <tr><td>{l.code.clone()}</td><td class="num">{l.qty}</td><td class="num">{l.unit_cost.as_deref().and_then(|c| shopsync_types::money::parse_minor(c, ctx.decimals()).ok()).map(|m| money_minor(m, ctx.decimals())).unwrap_or_default()}</td>
                    <td><button class="remove" aria-label=tr!("stock-remove-line") title=tr!("stock-remove-line") on:click=move |_| lines.update(|v| { if i < v.len() { v.remove(i); } })>"✕"</button></td></tr>
                }).collect_view()}
                </tbody>
            </table>
            <button class="btn primary" data-testid="receive-post" disabled=move || lines.with(Vec::is_empty) on:click=move |_| post()>{tr!("stock-post-delivery")}</button>
        </div>
    }
}

#[component]
fn Adjust(ctx: Ctx) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let delta = RwSignal::new(String::new());
    let reason = RwSignal::new("damaged".to_string());
    let note = RwSignal::new(String::new());
    let post = move || {
        let Ok(d) = delta.get_untracked().trim().parse::<i64>() else {
            ctx.info(tr!("stock-adjust-whole"));
            return;
        };
        let req = AdjustInput {
            code: code.get_untracked(),
            delta: d,
            reason: reason.get_untracked(),
            note: Some(note.get_untracked()).filter(|n| !n.trim().is_empty()),
        };
        spawn(async move {
            match api::adjust(&req).await {
                Ok(_) => {
                    let reason = match req.reason.as_str() {
                        "damaged" => tr!("stock-reason-damaged"),
                        "lost" => tr!("stock-reason-lost"),
                        "found" => tr!("stock-reason-found"),
                        _ => tr!("stock-reason-correction"),
                    };
                    ctx.info(tr!(
                        "stock-adjusted",
                        code = req.code.clone(),
                        delta = req.delta,
                        reason = reason
                    ));
                    code.set(String::new());
                    delta.set(String::new());
                    note.set(String::new());
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    view! {
        <form class="card" on:submit=move |ev| { ev.prevent_default(); post(); }>
            <h2>{tr!("stock-adjust-title")}</h2>
            <label>{tr!("stock-adjust-product")}<input type="text" data-testid="adjust-code" prop:value=move || code.get() on:input=move |ev| code.set(value(&ev)) /></label>
            <label>{tr!("stock-adjust-change")}<input type="text" data-testid="adjust-delta" prop:value=move || delta.get() on:input=move |ev| delta.set(value(&ev)) /></label>
            <label>{tr!("stock-reason")}
                <select data-testid="adjust-reason" on:change=move |ev| reason.set(value(&ev))>
                    <option value="damaged">{tr!("stock-reason-damaged")}</option><option value="lost">{tr!("stock-reason-lost")}</option>
                    <option value="found">{tr!("stock-reason-found")}</option><option value="correction">{tr!("stock-reason-correction")}</option>
                </select>
            </label>
            <label>{tr!("stock-note")}<input type="text" data-testid="adjust-note" prop:value=move || note.get() on:input=move |ev| note.set(value(&ev)) /></label>
            <button class="btn primary" type="submit" data-testid="adjust-post">{tr!("stock-adjust")}</button>
        </form>
    }
}

#[component]
fn Count(ctx: Ctx) -> impl IntoView {
    let open = RwSignal::new(Vec::<String>::new());
    let count = RwSignal::new(None::<CountView>);
    let codes = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let counted = RwSignal::new(String::new());
    // Counting a product again (a new counted time), not correcting it.
    let recount = RwSignal::new(false);
    let code_ref = NodeRef::<leptos::html::Input>::new();
    let qty_ref = NodeRef::<leptos::html::Input>::new();
    spawn(async move {
        if let Ok(o) = api::open_counts().await {
            open.set(o);
        }
    });
    let start = move |whole: bool| {
        let req = CountStartInput {
            whole_store: whole,
            codes: codes
                .get_untracked()
                .split([',', ' ', ';'])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
        };
        spawn(async move {
            match api::count_start(&req).await {
                Ok(v) => {
                    count.set(Some(v));
                    request_animation_frame(move || focus(code_ref));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let resume = move |id: String| {
        spawn(async move {
            match api::count_view(&id).await {
                Ok(v) => {
                    count.set(Some(v));
                    request_animation_frame(move || focus(code_ref));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let record = move || {
        let Some(id) = count.get_untracked().map(|c| c.count_id) else {
            return;
        };
        let Ok(n) = counted.get_untracked().trim().parse::<i64>() else {
            ctx.info(tr!("count-type-qty"));
            focus(qty_ref);
            return;
        };
        let sent_code = code.get_untracked();
        let sent_qty = counted.get_untracked();
        let req = CountRecordInput {
            count_id: id.clone(),
            code: sent_code.clone(),
            counted: n,
            recount: recount.get_untracked(),
        };
        // Ready for the next scan at once: a scanner that fires while this
        // line is being recorded must not lose its first digits to a
        // clear that comes after them.
        code.set(String::new());
        counted.set(String::new());
        focus(code_ref);
        spawn(async move {
            match api::count_record(&req).await {
                Ok(line) => {
                    ctx.info(tr!(
                        "count-counted-msg",
                        counted = line.counted.unwrap_or_default(),
                        sku = line.sku.clone(),
                        expected = line.expected
                    ));
                    if let Ok(v) = api::count_view(&id).await {
                        count.set(Some(v));
                    }
                    recount.set(false);
                }
                Err(e) => {
                    ctx.error(&e);
                    // Give the line back to correct, unless a new scan began.
                    if code.get_untracked().is_empty() && counted.get_untracked().is_empty() {
                        code.set(sent_code);
                        counted.set(sent_qty);
                    }
                }
            }
        });
    };
    let post = move || {
        let Some(id) = count.get_untracked().map(|c| c.count_id) else {
            return;
        };
        spawn(async move {
            match api::count_post(&id).await {
                Ok(v) => {
                    ctx.info(tr!("count-posted-msg"));
                    count.set(Some(v));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    move || {
        match count.get() {
        None => view! {
            <div class="card wide" data-testid="count-start-panel">
                <h2>{tr!("count-title")}</h2>
                <div class="pay-row">
                    <button class="btn primary" data-testid="count-start" on:click=move |_| start(true)>{tr!("count-start-whole")}</button>
                </div>
                <div class="pay-row">
                    <input type="text" class="grow" placeholder=tr!("count-codes") aria-label=tr!("count-codes") data-testid="count-codes"
                        prop:value=move || codes.get() on:input=move |ev| codes.set(value(&ev)) />
                    <button class="btn" data-testid="count-start-listed" on:click=move |_| start(false)>{tr!("count-start")}</button>
                </div>
                {move || (!open.get().is_empty()).then(|| view! {
                    <h3>{tr!("count-open")}</h3>
                    <ul>{open.get().into_iter().enumerate().map(|(i, id)| { let id2 = id.clone(); view! {
                        <li><button class="link" data-testid=format!("count-resume-{i}") on:click=move |_| resume(id2.clone())>{tr!("count-resume", id = id.chars().take(8).collect::<String>())}</button></li>
                    } }).collect_view()}</ul>
                })}
            </div>
        }.into_any(),
        Some(v) => {
            let posted = v.status == CountStatus::Posted;
            let counted_lines: Vec<_> = v.lines.iter().filter(|l| l.counted.is_some()).cloned().collect();
            let total_value: i64 = counted_lines.iter().filter_map(|l| l.difference_value.map(|d| d.minor)).sum();
            let dec = ctx.decimals();
            view! {
                <div class="card wide" data-testid="count-panel" data-status=if posted { "posted" } else { "open" }>
                    <h2>{if posted { tr!("count-posted-title") } else { tr!("count-counting") }} <span class="muted small">{format!(" · {}", tr!("count-progress", counted = counted_lines.len(), total = v.lines.len()))}</span></h2>
                    {(!posted).then(|| view! {
                        <div class="pay-row">
                            <input node_ref=code_ref type="text" placeholder=tr!("stock-scan") aria-label=tr!("stock-scan") data-testid="count-code" prop:value=move || code.get()
                                on:input=move |ev| code.set(value(&ev)) on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default(); focus(qty_ref) } />
                            <input node_ref=qty_ref type="number" min="0" class="narrow" placeholder=tr!("count-qty-placeholder") aria-label=tr!("count-counted") data-testid="count-qty" prop:value=move || counted.get()
                                on:input=move |ev| counted.set(value(&ev)) on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default(); record() } />
                            <label class="inline" title=tr!("count-again-title")>
                                <input type="checkbox" data-testid="count-again" prop:checked=move || recount.get() on:change=move |ev| recount.set(event_target_checked(&ev)) />{tr!("count-again")}
                            </label>
                            <button class="btn" data-testid="count-record" on:click=move |_| record()>{tr!("count-record")}</button>
                        </div>
                    })}
                    <table class="list" data-testid="count-lines">
                        <thead><tr><th>{tr!("stock-sku")}</th><th>{tr!("stock-name")}</th><th class="num">{tr!("count-expected")}</th><th class="num">{tr!("count-counted")}</th><th class="num">{tr!("count-difference")}</th><th class="num">{tr!("count-value")}</th></tr></thead>
                        <tbody>
                        {counted_lines.into_iter().map(|l| {
                            let diff = l.difference.unwrap_or_default();
                            let class = if diff < 0 { "neg" } else if diff > 0 { "low" } else { "" };
                            view! {
                                <tr class=class data-testid=format!("count-line-{}", l.sku)>
                                    <td>{l.sku.clone()}</td><td>{l.name.clone()}</td><td class="num">{l.expected}</td>
                                    <td class="num">{l.counted.unwrap_or_default()}</td>
                                    <td class="num" data-testid=format!("count-diff-{}", l.sku)>{format!("{diff:+}")}</td>
                                    <td class="num">{l.difference_value.map(|d| money(&d)).unwrap_or_default()}</td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                    <p>{tr!("count-variance")} " " <strong data-testid="count-variance-value">{money_minor(total_value, dec)}</strong></p>
                    <div class="pay-row end">
                        <button class="btn" data-testid="count-close" on:click=move |_| count.set(None)>{tr!("count-close")}</button>
                        {(!posted).then(|| view! { <button class="btn primary" data-testid="count-post" on:click=move |_| post()>{tr!("count-post")}</button> })}
                    </div>
                    <p data-testid="count-status">{if posted { tr!("count-status-posted") } else { tr!("count-status-open") }}</p>
                </div>
            }.into_any()
        }
    }
    }
}
