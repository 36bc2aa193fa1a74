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
use crate::util::{focus, spawn, value};

#[component]
pub fn StockPage(ctx: Ctx) -> impl IntoView {
    let tab = RwSignal::new("levels");
    view! {
        <div class="page" data-testid="page-stock">
            <div class="tabs">
                {[("levels", "Levels"), ("receive", "Receive delivery"), ("adjust", "Adjust"), ("count", "Stock count")].into_iter().map(|(k, l)| view! {
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
        seq.update_value(|s| *s += 1);
        let mine = seq.get_value();
        let req = StockQuery {
            query: query.get_untracked(),
            low_only: low_only.get_untracked(),
            limit: 300,
        };
        spawn(async move {
            let r = api::stock_levels(&req).await;
            if seq.get_value() != mine {
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
                <input type="search" class="grow" placeholder="Filter by SKU or name" data-testid="stock-search"
                    prop:value=move || query.get() on:input=move |ev| { query.set(value(&ev)); load(); } />
                <label class="inline"><input type="checkbox" data-testid="stock-low-only" prop:checked=move || low_only.get()
                    on:change=move |ev| { low_only.set(event_target_checked(&ev)); load(); } />"low and negative only"</label>
                <button class="btn" data-testid="stock-refresh" on:click=move |_| load()>"Refresh"</button>
            </div>
            <table class="list" data-testid="stock-table">
                <thead><tr><th>"SKU"</th><th>"Name"</th><th class="num">"On hand"</th><th class="num" title="Held for accepted pickup orders">"Reserved"</th><th class="num" title="On hand less reserved">"Available"</th><th class="num">"Reorder at"</th><th>"Status"</th></tr></thead>
                <tbody>
                {move || rows.get().into_iter().map(|l| {
                    let (class, status) = match l.status {
                        StockStatus::Negative => ("neg", "negative"),
                        StockStatus::Low => ("low", "low"),
                        StockStatus::Ok => ("", "ok"),
                    };
                    view! {
                        <tr class=class data-testid=format!("stock-row-{}", l.sku) data-status=status>
                            <td>{l.sku.clone()}</td><td>{l.name.clone()}</td>
                            <td class="num" data-testid=format!("stock-onhand-{}", l.sku)>{l.on_hand}</td>
                            <td class="num" data-testid=format!("stock-reserved-{}", l.sku)>{l.reserved}</td>
                            <td class="num" data-testid=format!("stock-available-{}", l.sku)>{l.available}</td>
                            <td class="num">{l.reorder_point.map(|r| r.to_string()).unwrap_or_default()}</td>
                            <td><span class=format!("badge {class}")>{status}</span></td>
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
            ctx.info("Quantity must be a whole number.");
            return;
        };
        let cost_text = Some(cost.get_untracked().trim().to_string()).filter(|s| !s.is_empty());
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
                    ctx.info(format!("Delivery of {} lines received.", req.lines.len()));
                    lines.set(Vec::new());
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    view! {
        <div class="card wide">
            <h2>"Receive a delivery"</h2>
            <label>"Supplier"
                <select data-testid="receive-supplier" on:change=move |ev| supplier.set(value(&ev))>
                    <option value="">"(none)"</option>
                    {move || suppliers.get().into_iter().map(|s| view! { <option value=s.id.clone()>{s.name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <div class="pay-row">
                <input node_ref=code_ref type="text" placeholder="Scan or type SKU / barcode" data-testid="receive-code" prop:value=move || code.get()
                    on:input=move |ev| code.set(value(&ev)) on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { add() } />
                <input type="number" min="1" class="narrow" data-testid="receive-qty" prop:value=move || qty.get() on:input=move |ev| qty.set(value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { add() } />
                <input type="text" class="narrow" placeholder="unit cost" data-testid="receive-cost" prop:value=move || cost.get() on:input=move |ev| cost.set(value(&ev)) />
                <button class="btn" data-testid="receive-add" on:click=move |_| add()>"Add line"</button>
            </div>
            <table class="list" data-testid="receive-lines">
                <thead><tr><th>"Product"</th><th class="num">"Qty"</th><th class="num">"Unit cost"</th><th></th></tr></thead>
                <tbody>
                {move || lines.get().into_iter().enumerate().map(|(i, l)| view! {
                    <tr><td>{l.code.clone()}</td><td class="num">{l.qty}</td><td class="num">{l.unit_cost.clone().unwrap_or_default()}</td>
                    <td><button class="remove" on:click=move |_| lines.update(|v| { if i < v.len() { v.remove(i); } })>"✕"</button></td></tr>
                }).collect_view()}
                </tbody>
            </table>
            <button class="btn primary" data-testid="receive-post" disabled=move || lines.with(Vec::is_empty) on:click=move |_| post()>"Post delivery"</button>
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
            ctx.info("The change is a whole number: negative removes stock, positive adds.");
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
                    ctx.info(format!(
                        "Stock of {} adjusted by {} ({}).",
                        req.code, req.delta, req.reason
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
            <h2>"Adjust stock"</h2>
            <label>"Product (SKU or barcode)"<input type="text" data-testid="adjust-code" prop:value=move || code.get() on:input=move |ev| code.set(value(&ev)) /></label>
            <label>"Change (e.g. -2)"<input type="text" data-testid="adjust-delta" prop:value=move || delta.get() on:input=move |ev| delta.set(value(&ev)) /></label>
            <label>"Reason"
                <select data-testid="adjust-reason" on:change=move |ev| reason.set(value(&ev))>
                    <option value="damaged">"damaged"</option><option value="lost">"lost"</option>
                    <option value="found">"found"</option><option value="correction">"correction"</option>
                </select>
            </label>
            <label>"Note"<input type="text" data-testid="adjust-note" prop:value=move || note.get() on:input=move |ev| note.set(value(&ev)) /></label>
            <button class="btn primary" type="submit" data-testid="adjust-post">"Adjust"</button>
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
            ctx.info("Type the counted quantity (a whole number).");
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
                    ctx.info(format!(
                        "Counted {} × {} (expected {}).",
                        line.counted.unwrap_or_default(),
                        line.sku,
                        line.expected
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
                    ctx.info("Count posted: stock now reflects the counted quantities.");
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
                <h2>"Stock count"</h2>
                <div class="pay-row">
                    <button class="btn primary" data-testid="count-start" on:click=move |_| start(true)>"Start a whole-store count"</button>
                </div>
                <div class="pay-row">
                    <input type="text" class="grow" placeholder="or count these SKUs/barcodes (comma-separated)" data-testid="count-codes"
                        prop:value=move || codes.get() on:input=move |ev| codes.set(value(&ev)) />
                    <button class="btn" data-testid="count-start-listed" on:click=move |_| start(false)>"Start"</button>
                </div>
                {move || (!open.get().is_empty()).then(|| view! {
                    <h3>"Open counts"</h3>
                    <ul>{open.get().into_iter().enumerate().map(|(i, id)| { let id2 = id.clone(); view! {
                        <li><button class="link" data-testid=format!("count-resume-{i}") on:click=move |_| resume(id2.clone())>{format!("Resume count {}", id.chars().take(8).collect::<String>())}</button></li>
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
                    <h2>{if posted { "Count posted" } else { "Counting" }} <span class="muted small">{format!(" · {} counted of {} products", counted_lines.len(), v.lines.len())}</span></h2>
                    {(!posted).then(|| view! {
                        <div class="pay-row">
                            <input node_ref=code_ref type="text" placeholder="Scan or type SKU / barcode" data-testid="count-code" prop:value=move || code.get()
                                on:input=move |ev| code.set(value(&ev)) on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default(); focus(qty_ref) } />
                            <input node_ref=qty_ref type="number" min="0" class="narrow" placeholder="counted" data-testid="count-qty" prop:value=move || counted.get()
                                on:input=move |ev| counted.set(value(&ev)) on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default(); record() } />
                            <label class="inline" title="Counted the shelf again: the line takes a new counted time. Unticked, a line already recorded is corrected and keeps its time.">
                                <input type="checkbox" data-testid="count-again" prop:checked=move || recount.get() on:change=move |ev| recount.set(event_target_checked(&ev)) />"counted again"
                            </label>
                            <button class="btn" data-testid="count-record" on:click=move |_| record()>"Record"</button>
                        </div>
                    })}
                    <table class="list" data-testid="count-lines">
                        <thead><tr><th>"SKU"</th><th>"Name"</th><th class="num">"Expected"</th><th class="num">"Counted"</th><th class="num">"Difference"</th><th class="num">"Value"</th></tr></thead>
                        <tbody>
                        {counted_lines.into_iter().map(|l| {
                            let diff = l.difference.unwrap_or_default();
                            let class = if diff < 0 { "neg" } else if diff > 0 { "low" } else { "" };
                            view! {
                                <tr class=class data-testid=format!("count-line-{}", l.sku)>
                                    <td>{l.sku.clone()}</td><td>{l.name.clone()}</td><td class="num">{l.expected}</td>
                                    <td class="num">{l.counted.unwrap_or_default()}</td>
                                    <td class="num" data-testid=format!("count-diff-{}", l.sku)>{format!("{diff:+}")}</td>
                                    <td class="num">{l.difference_value.map(|d| d.to_string()).unwrap_or_default()}</td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                    <p>"Variance value: " <strong data-testid="count-variance-value">{shopsync_types::money::format_minor(total_value, dec)}</strong></p>
                    <div class="pay-row end">
                        <button class="btn" data-testid="count-close" on:click=move |_| count.set(None)>"Close"</button>
                        {(!posted).then(|| view! { <button class="btn primary" data-testid="count-post" on:click=move |_| post()>"Post count"</button> })}
                    </div>
                    <p data-testid="count-status">{if posted { "posted" } else { "open" }}</p>
                </div>
            }.into_any()
        }
    }
    }
}
