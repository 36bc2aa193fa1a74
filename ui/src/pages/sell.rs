//! The Sell screen (the start screen): scan or search, the cart, tender,
//! the receipt. The scan field has the focus whenever no dialog is open; a
//! barcode scanner types digits then Enter, which adds the product.

mod favourites;
mod thermal;

use leptos::prelude::*;
use shopsync_types::drawer::DRAWER_SESSION_FIELD;
use shopsync_types::ipc::{
    CartLineInput, ParkInput, ParkedCart, SellInput, SettingsView, TenderInput,
};
use shopsync_types::{ErrorCode, Product, SaleDetail, SaleQuote, TenderKind};

use crate::api;
use crate::app::{Ctx, Page};
use crate::guard;
use crate::print::{Paper, px_to_mm};
use crate::util::{
    focus, input_error, input_text, local_time, minor_text, money, money_minor, parse_money, spawn,
    value,
};

#[derive(Debug, Clone, PartialEq)]
enum Mode {
    Cart,
    Pay,
    Price(usize),
    Parked(Vec<ParkedCart>),
    Receipt(Box<Receipt>),
}

#[derive(Debug, Clone, PartialEq)]
struct Receipt {
    sale: SaleDetail,
    settings: Option<SettingsView>,
}

fn kind_label(k: TenderKind) -> String {
    match k {
        TenderKind::Cash => tr!("tender-cash"),
        TenderKind::Card => tr!("tender-card"),
        TenderKind::Other => tr!("tender-other"),
    }
}

/// Quick cash amounts: the next round notes above what is due.
fn quick_cash(due: i64, decimals: u8) -> Vec<i64> {
    let unit = 10i64.pow(u32::from(decimals));
    let mut out = Vec::new();
    for note in [5, 10, 20, 50, 100] {
        let v = note * unit;
        if v > due && out.len() < 3 {
            out.push(v);
        }
    }
    let whole = (due + unit - 1) / unit * unit;
    if whole > due && !out.contains(&whole) {
        out.insert(0, whole);
    }
    out
}

#[component]
pub fn SellPage(ctx: Ctx) -> impl IntoView {
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let tender_ref = NodeRef::<leptos::html::Input>::new();
    let query = RwSignal::new(String::new());
    let results = RwSignal::new(Vec::<Product>::new());
    let results_for = RwSignal::new(String::new());
    let sel_result = RwSignal::new(0usize);
    let search_seq = StoredValue::new(0u64);
    // The category filter (empty: every product).
    let category = RwSignal::new(String::new());
    let cart = RwSignal::new(
        guard::recall(guard::CART_KEY)
            .and_then(|json| serde_json::from_str::<Vec<CartLineInput>>(&json).ok())
            .unwrap_or_default(),
    );
    Effect::new(move |_| {
        if let Ok(json) = cart.with(serde_json::to_string) {
            guard::remember(guard::CART_KEY, &json);
        }
    });
    let quote = RwSignal::new(None::<SaleQuote>);
    let quote_seq = StoredValue::new(0u64);
    let sel_line = RwSignal::new(None::<usize>);
    let mode = RwSignal::new(Mode::Cart);
    // The last sale's receipt on the thermal printer, if the till has one.
    let thermal = RwSignal::new(None::<thermal::Thermal>);
    let tenders = RwSignal::new(Vec::<(TenderKind, i64)>::new());
    let tender_text = RwSignal::new(String::new());
    let price_text = RwSignal::new(String::new());
    let reason_text = RwSignal::new(String::new());
    let parked_count = RwSignal::new(0usize);
    let busy = RwSignal::new(false);
    // The last cash payment was refused for want of a drawer session: the
    // payment dialog offers the way to the Drawer screen.
    let drawer_needed = RwSignal::new(false);
    let dec = ctx.decimals();

    Effect::new(move |_| {
        let open = !matches!(mode.get(), Mode::Cart);
        ctx.dialog_open.set(open);
    });
    on_cleanup(move || ctx.dialog_open.set(false));

    let load_parked = move || {
        spawn(async move {
            if let Ok(p) = api::parked_carts().await {
                parked_count.set(p.len());
            }
        })
    };
    load_parked();

    // The running total: every cart change is priced by the core.
    Effect::new(move |_| {
        let lines = cart.get();
        quote_seq.update_value(|s| *s += 1);
        let seq = quote_seq.get_value();
        if lines.is_empty() {
            quote.set(None);
            return;
        }
        spawn(async move {
            let r = api::quote(&lines).await;
            if quote_seq.try_get_value() != Some(seq) {
                return;
            }
            match r {
                Ok(q) => quote.set(Some(q)),
                Err(e) => ctx.error(&e),
            }
        });
    });

    let run_search = move |q: String| {
        search_seq.update_value(|s| *s += 1);
        let seq = search_seq.get_value();
        let cat = category.get_untracked();
        spawn(async move {
            let r = if cat.is_empty() {
                api::search_products(&q, 20, false).await
            } else {
                api::categories::products(&cat, &q, false).await
            };
            if search_seq.try_get_value() != Some(seq) {
                return;
            }
            match r {
                Ok(list) => {
                    sel_result.set(0);
                    results.set(list);
                    results_for.set(q);
                }
                Err(e) => ctx.error(&e),
            }
        });
    };

    let add_product = move |p: Product| {
        if !p.active {
            ctx.error(&shopsync_types::ErrorInfo {
                code: ErrorCode::Conflict,
                message: tr!("sell-archived", sku = p.sku.clone()),
                row: None,
                field: None,
            });
            return;
        }
        let mut idx = 0;
        cart.update(|c| {
            if let Some(i) = c
                .iter()
                .position(|l| l.code == p.sku && l.unit_price.is_none() && l.discount_bp == 0)
            {
                c[i].qty += 1;
                idx = i;
            } else {
                c.push(CartLineInput {
                    code: p.sku.clone(),
                    qty: 1,
                    unit_price: None,
                    override_reason: None,
                    discount_bp: 0,
                });
                idx = c.len() - 1;
            }
        });
        sel_line.set(Some(idx));
        ctx.clear();
        focus(search_ref);
    };
    // Empties the scan field (at once on Enter: the scanner may already be
    // typing the next code while this one is looked up).
    let clear_search = move || {
        search_seq.update_value(|s| *s += 1);
        query.set(String::new());
        results.set(Vec::new());
        results_for.set(String::new());
        // A category chosen keeps its products listed.
        if !category.get_untracked().is_empty() {
            run_search(String::new());
        }
    };

    let open_pay = move || {
        if cart.with_untracked(Vec::is_empty) {
            ctx.info(tr!("sell-cart-empty-pay"));
            return;
        }
        tenders.set(Vec::new());
        tender_text.set(String::new());
        mode.set(Mode::Pay);
        request_animation_frame(move || focus(tender_ref));
    };

    let enter = move || {
        let code = search_ref
            .get_untracked()
            .map(|el| el.value())
            .unwrap_or_else(|| query.get_untracked())
            .trim()
            .to_string();
        if code.is_empty() {
            open_pay();
            return;
        }
        let pick = (results_for.get_untracked() == code)
            .then(|| results.with_untracked(|r| r.get(sel_result.get_untracked()).cloned()))
            .flatten();
        clear_search();
        if let Some(el) = search_ref.get_untracked() {
            el.set_value("");
        }
        spawn(async move {
            match api::product_by_code(&code).await {
                Ok(p) => add_product(p),
                Err(e) if e.code == ErrorCode::NotFound => {
                    match pick {
                        Some(p) => add_product(p),
                        None => {
                            // Maybe the results for this text are still on their way.
                            match api::search_products(&code, 1, false).await {
                                Ok(mut list) if !list.is_empty() => add_product(list.remove(0)),
                                _ => {
                                    ctx.error(&e);
                                    // Give the text back to correct it, unless more was typed.
                                    if query.get_untracked().is_empty() {
                                        query.set(code.clone());
                                        run_search(code);
                                    }
                                }
                            }
                        }
                    }
                }
                Err(e) => ctx.error(&e),
            }
        });
    };

    let remove_line = move |i: usize| {
        cart.update(|c| {
            if i < c.len() {
                c.remove(i);
            }
        });
        sel_line.set(cart.with_untracked(|c| {
            if c.is_empty() {
                None
            } else {
                Some(i.min(c.len() - 1))
            }
        }));
    };

    let set_qty = move |i: usize, qty: i64| {
        if qty <= 0 {
            remove_line(i);
        } else {
            cart.update(|c| {
                if let Some(l) = c.get_mut(i) {
                    l.qty = qty;
                }
            });
        }
    };

    let park = move || {
        let lines = cart.get_untracked();
        if lines.is_empty() {
            ctx.info(tr!("sell-nothing-to-park"));
            return;
        }
        // As for a sale: while the park is in flight the kept cart is
        // cleared, so a reload (or leaving Sell) cannot bring back a cart
        // that is also parked and sell it twice. A refused park keeps it.
        guard::remember(guard::CART_KEY, "[]");
        spawn(async move {
            let r = api::park_cart(&ParkInput {
                label: String::new(),
                lines: lines.clone(),
            })
            .await;
            if r.is_err()
                && let Ok(json) = serde_json::to_string(&lines)
            {
                guard::remember(guard::CART_KEY, &json);
            }
            match r {
                Ok(p) => {
                    cart.set(Vec::new());
                    sel_line.set(None);
                    ctx.info(tr!("sell-parked", label = p.label.clone()));
                    load_parked();
                    focus(search_ref);
                }
                Err(e) => ctx.error(&e),
            }
        });
    };

    let show_parked = move || {
        spawn(async move {
            match api::parked_carts().await {
                Ok(list) => mode.set(Mode::Parked(list)),
                Err(e) => ctx.error(&e),
            }
        });
    };

    let resume = move |id: String| {
        if !cart.with_untracked(Vec::is_empty) {
            ctx.info(tr!("sell-finish-first"));
            return;
        }
        spawn(async move {
            match api::resume_parked_cart(&id).await {
                Ok(p) => {
                    cart.set(p.lines);
                    sel_line.set(Some(0));
                    mode.set(Mode::Cart);
                    load_parked();
                    ctx.info(tr!("sell-resumed", label = p.label.clone()));
                    focus(search_ref);
                }
                Err(e) => ctx.error(&e),
            }
        });
    };

    let total_minor = move || quote.with(|q| q.as_ref().map_or(0, |q| q.total.minor));
    let paid_minor = move || tenders.with(|t| t.iter().map(|(_, a)| a).sum::<i64>());
    let remaining = move || (total_minor() - paid_minor()).max(0);

    let complete = move || {
        if busy.get_untracked() {
            return;
        }
        let lines = cart.get_untracked();
        let tender_list: Vec<TenderInput> = tenders
            .get_untracked()
            .into_iter()
            .map(|(kind, a)| TenderInput {
                kind,
                amount: minor_text(a, dec),
            })
            .collect();
        busy.set(true);
        drawer_needed.set(false);
        // While the sale is in flight the kept cart is cleared: a reload now
        // must not bring back a cart that may already be a sale (it would be
        // sold twice). A refused sale keeps the cart and stores it again.
        guard::remember(guard::CART_KEY, "[]");
        spawn(async move {
            let r = api::sell(&SellInput {
                lines: lines.clone(),
                tenders: tender_list,
            })
            .await;
            if r.is_err()
                && let Ok(json) = serde_json::to_string(&lines)
            {
                guard::remember(guard::CART_KEY, &json);
            }
            match r {
                Ok(receipt) => {
                    cart.set(Vec::new());
                    sel_line.set(None);
                    tenders.set(Vec::new());
                    ctx.clear();
                    // Saved: the receipt prints on its own from here.
                    thermal::print(
                        ctx,
                        mode,
                        thermal,
                        receipt.sale_id.clone(),
                        receipt.number.clone(),
                        false,
                    );
                    let settings = api::settings().await.ok();
                    match api::sale(&receipt.sale_id).await {
                        Ok(sale) => mode.set(Mode::Receipt(Box::new(Receipt { sale, settings }))),
                        Err(e) => {
                            mode.set(Mode::Cart);
                            ctx.error(&e);
                        }
                    }
                }
                Err(e) if e.field.as_deref() == Some(DRAWER_SESSION_FIELD) => {
                    drawer_needed.set(true);
                }
                Err(e) => ctx.error(&e),
            }
            busy.set(false);
        });
    };

    let add_tender = move |kind: TenderKind, amount: Option<i64>| {
        let typed = tender_text.get_untracked();
        let amount = match amount {
            Some(a) => a,
            None if typed.trim().is_empty() => remaining(),
            None => match parse_money(&typed, dec) {
                Ok(a) if a > 0 => a,
                Ok(_) => {
                    ctx.error(&input_error("tender", tr!("sell-amount-positive")));
                    return;
                }
                Err(m) => {
                    ctx.error(&input_error("tender", m));
                    return;
                }
            },
        };
        if amount <= 0 {
            return;
        }
        ctx.clear();
        tenders.update(|t| t.push((kind, amount)));
        tender_text.set(String::new());
        focus(tender_ref);
    };

    let new_sale = move || {
        mode.set(Mode::Cart);
        ctx.clear();
        request_animation_frame(move || focus(search_ref));
    };

    let apply_price = move |i: usize| {
        let text = price_text.get_untracked();
        let reason = reason_text.get_untracked();
        let price = if text.trim().is_empty() {
            None
        } else {
            match parse_money(&text, dec) {
                Ok(p) if p >= 0 => Some(p),
                Ok(_) => {
                    ctx.error(&input_error("price", tr!("sell-negative-price")));
                    return;
                }
                Err(m) => {
                    ctx.error(&input_error("price", m));
                    return;
                }
            }
        };
        if price.is_some() && reason.trim().is_empty() {
            ctx.error(&input_error("reason", tr!("sell-reason-needed")));
            return;
        }
        cart.update(|c| {
            if let Some(l) = c.get_mut(i) {
                l.unit_price = price.map(|p| minor_text(p, dec));
                l.override_reason = price.map(|_| reason.trim().to_string());
            }
        });
        ctx.clear();
        mode.set(Mode::Cart);
        request_animation_frame(move || focus(search_ref));
    };

    let open_price = move |i: usize| {
        let current = cart.with_untracked(|c| c.get(i).cloned());
        if let Some(l) = current {
            // The kept price is the core's text ("2.50"): shown the
            // language's way ("2,50").
            let shown = l
                .unit_price
                .map(|p| {
                    shopsync_types::money::parse_minor(&p, dec)
                        .map(|m| input_text(m, dec))
                        .unwrap_or(p)
                })
                .unwrap_or_default();
            price_text.set(shown);
            reason_text.set(l.override_reason.unwrap_or_default());
            mode.set(Mode::Price(i));
        }
    };

    // Keyboard: F-keys and Esc on this screen.
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        let key = ev.key();
        match (mode.get_untracked(), key.as_str()) {
            (Mode::Cart, "F9") => {
                ev.prevent_default();
                open_pay();
            }
            (Mode::Cart, "F8") => {
                ev.prevent_default();
                park();
            }
            (Mode::Cart, "F7") => {
                ev.prevent_default();
                show_parked();
            }
            (Mode::Cart, "F4") => {
                ev.prevent_default();
                if let Some(i) = sel_line.get_untracked() {
                    open_price(i);
                }
            }
            (Mode::Cart, "Delete") if query.get_untracked().is_empty() => {
                if let Some(i) = sel_line.get_untracked() {
                    ev.prevent_default();
                    remove_line(i);
                }
            }
            (Mode::Cart, "F2" | "F3") => {
                ev.prevent_default();
                if let Some(i) = sel_line.get_untracked() {
                    let id = if key == "F2" {
                        format!("line-qty-{i}")
                    } else {
                        format!("line-discount-{i}")
                    };
                    if let Some(el) = document()
                        .query_selector(&format!("[data-testid='{id}']"))
                        .ok()
                        .flatten()
                        && let Ok(input) =
                            wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(el)
                    {
                        let _ = input.focus();
                        input.select();
                    }
                }
            }
            (Mode::Pay, "F5") => {
                ev.prevent_default();
                // Read what is due before taking the write lock: reading
                // `tenders` inside its own update panicked and left the
                // screen dead.
                let due = remaining();
                if due > 0 {
                    tenders.update(|t| t.push((TenderKind::Cash, due)));
                }
                complete();
            }
            (Mode::Pay | Mode::Price(_) | Mode::Parked(_), "Escape") => {
                ev.prevent_default();
                mode.set(Mode::Cart);
                request_animation_frame(move || focus(search_ref));
            }
            (Mode::Receipt(_), "Escape" | "Enter") => {
                ev.prevent_default();
                new_sale();
            }
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());
    request_animation_frame(move || focus(search_ref));

    let search_box = view! {
        <div class="scan">
            <input
                node_ref=search_ref
                class="scan-input"
                type="text"
                autocomplete="off"
                placeholder=tr!("sell-search")
                aria-label=tr!("sell-search")
                role="combobox"
                aria-autocomplete="list"
                aria-controls="sell-results"
                aria-expanded=move || results.with(|r| !r.is_empty()).to_string()
                aria-activedescendant=move || results.with(|r| !r.is_empty()).then(|| format!("sell-result-{}", sel_result.get()))
                data-testid="sell-search"
                prop:value=move || query.get()
                on:input=move |ev| {
                    let v = value(&ev);
                    query.set(v.clone());
                    run_search(v);
                }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    match ev.key().as_str() {
                        "Enter" => { ev.prevent_default(); enter(); }
                        "ArrowDown" => { ev.prevent_default(); let n = results.with_untracked(Vec::len); if n > 0 { sel_result.update(|s| *s = (*s + 1).min(n - 1)); } }
                        "ArrowUp" => { ev.prevent_default(); sel_result.update(|s| *s = s.saturating_sub(1)); }
                        "Escape" => { query.set(String::new()); results.set(Vec::new()); results_for.set(String::new()); }
                        _ => {}
                    }
                }
            />
        </div>
    };

    let results_view = move || {
        let list = results.get();
        let q = results_for.get();
        let count = list.len();
        view! {
            <div class="results" data-testid="search-results" data-query=q.clone() data-count=count.to_string()>
                <p class={if count > 0 { "muted sr-only" } else { "muted" }} role="status" data-testid="search-status">
                    {match (q.is_empty(), count) {
                        (true, _) => String::new(),
                        (false, 0) => tr!("sell-no-match"),
                        (false, n) => tr!("sell-found", count = n),
                    }}
                </p>
                {(count > 0).then(|| view! {
                <div role="listbox" id="sell-results" aria-label=tr!("sell-results-label")>
                {list.into_iter().enumerate().map(|(i, p)| {
                    let p2 = p.clone();
                    view! {
                        <button
                            class="result"
                            class:selected=move || sel_result.get() == i
                            role="option"
                            id=format!("sell-result-{i}")
                            tabindex="-1"
                            aria-selected=move || (sel_result.get() == i).to_string()
                            data-testid=format!("result-{i}")
                            data-sku=p.sku.clone()
                            on:click=move |_| { clear_search(); add_product(p2.clone()) }
                        >
                            <span class="r-name">{p.name.clone()}</span>
                            <span class="r-sku">{p.sku.clone()}</span>
                            <span class="r-price">{money(&p.price)}</span>
                        </button>
                    }
                }).collect_view()}
                </div>
                })}
            </div>
        }
    };

    // Enter in a line's quantity or discount (F2, F3) takes the value and
    // gives the scan field back its focus: the next scan must not land in
    // the quantity. Leaving the field fires its `change`, which applies it.
    let back_to_scan = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
            focus(search_ref);
        }
    };

    let cart_view = move || {
        let lines = cart.get();
        let q = quote.get();
        if lines.is_empty() {
            return view! { <p class="muted empty-cart" data-testid="cart-empty">{tr!("sell-cart-empty")}</p> }.into_any();
        }
        view! {
            <table class="cart" data-testid="cart">
                <thead><tr><th>{tr!("sell-item")}</th><th>{tr!("sell-qty")}</th><th>{tr!("sell-price")}</th><th>{tr!("sell-disc")}</th><th class="num">{tr!("sell-total")}</th><th></th></tr></thead>
                <tbody>
                {lines.into_iter().enumerate().map(|(i, l)| {
                    let priced = q.as_ref().and_then(|q| q.lines.get(i).cloned());
                    let name = priced.as_ref().map_or_else(|| l.code.clone(), |p| p.name.clone());
                    let unit = priced.as_ref().map(|p| money(&p.unit_price)).unwrap_or_default();
                    let total = priced.as_ref().map(|p| money(&p.total)).unwrap_or_default();
                    let overridden = l.unit_price.is_some();
                    let qty = l.qty;
                    let qty_label = tr!("sell-qty-of", name = name.clone());
                    let disc = if l.discount_bp == 0 { String::new() } else { input_text(i64::from(l.discount_bp), 2) };
                    view! {
                        <tr class="cart-line" class:selected=move || sel_line.get() == Some(i) data-testid=format!("cart-line-{i}") data-sku=l.code.clone()
                            on:click=move |_| sel_line.set(Some(i))>
                            <td>{name}<div class="muted small">{l.code.clone()}{overridden.then(|| format!(" · {}", tr!("sell-price-changed", reason = l.override_reason.clone().unwrap_or_default())))}</div></td>
                            <td class="qty">
                                <button class="step" data-testid=format!("line-minus-{i}") aria-label=tr!("sell-minus") on:click=move |_| set_qty(i, qty - 1)>"−"</button>
                                <input class="qty-input" type="number" min="1" data-testid=format!("line-qty-{i}") aria-label=qty_label prop:value=qty.to_string()
                                    on:keydown=back_to_scan
                                    on:change=move |ev| { match value(&ev).trim().parse::<i64>() { Ok(n) => set_qty(i, n), Err(_) => ctx.info(tr!("sell-qty-whole")) } } />
                                <button class="step" data-testid=format!("line-plus-{i}") aria-label=tr!("sell-plus") on:click=move |_| set_qty(i, qty + 1)>"+"</button>
                            </td>
                            <td><button class="link" data-testid=format!("line-price-{i}") title=tr!("sell-change-price-title") on:click=move |_| open_price(i)>{unit}</button></td>
                            <td><input class="disc-input" type="text" inputmode="decimal" placeholder="0" data-testid=format!("line-discount-{i}") aria-label=tr!("sell-discount-label") prop:value=disc
                                on:keydown=back_to_scan
                                on:change=move |ev| {
                                    let t = value(&ev);
                                    let bp = if t.trim().is_empty() { Some(0) } else { parse_money(&t, 2).ok() };
                                    match bp.and_then(|b| u32::try_from(b).ok()).filter(|b| *b <= 10_000) {
                                        Some(b) => cart.update(|c| if let Some(l) = c.get_mut(i) { l.discount_bp = b }),
                                        None => ctx.info(tr!("sell-discount-range")),
                                    }
                                } /></td>
                            <td class="num" data-testid=format!("line-total-{i}")>{total}</td>
                            <td><button class="remove" data-testid=format!("line-remove-{i}") title=tr!("sell-remove-title") aria-label=tr!("sell-remove-title") on:click=move |_| remove_line(i)>"✕"</button></td>
                        </tr>
                    }
                }).collect_view()}
                </tbody>
            </table>
        }.into_any()
    };

    let totals_view = move || {
        let q = quote.get();
        view! {
            <div class="totals">
                <div class="row"><span>{tr!("sell-subtotal")}</span><span data-testid="subtotal">{q.as_ref().map(|q| money(&q.subtotal)).unwrap_or_else(|| money_minor(0, dec))}</span></div>
                <div class="row"><span>{tr!("sell-discount")}</span><span data-testid="discount">{q.as_ref().map(|q| money(&q.discount)).unwrap_or_else(|| money_minor(0, dec))}</span></div>
                <div class="row"><span>{tr!("sell-tax")}</span><span data-testid="tax">{q.as_ref().map(|q| money(&q.tax)).unwrap_or_else(|| money_minor(0, dec))}</span></div>
                <div class="row grand"><span>{tr!("sell-total")}</span><span data-testid="total">{q.as_ref().map(|q| money(&q.total)).unwrap_or_else(|| money_minor(0, dec))}</span></div>
            </div>
        }
    };

    let dialog = move || {
        match mode.get() {
        Mode::Cart => ().into_any(),
        Mode::Pay => {
            let total = total_minor();
            let paid = paid_minor();
            let left = (total - paid).max(0);
            let change = (paid - total).max(0);
            let quick = quick_cash(left, dec);
            view! {
                <div class="overlay">
                <div class="dialog pay" role="dialog" aria-modal="true" aria-labelledby="pay-title" data-testid="pay-dialog">
                    <h2 id="pay-title">{tr!("pay-title")}</h2>
                    <div class="due">{tr!("pay-total")} " " <strong data-testid="pay-total">{money_minor(total, dec)}</strong></div>
                    <div class="due">{tr!("pay-left")} " " <strong class="big" data-testid="pay-remaining">{money_minor(left, dec)}</strong></div>
                    {(change > 0).then(|| view! { <div class="due">{tr!("pay-change")} " " <strong class="big" data-testid="pay-change">{money_minor(change, dec)}</strong></div> })}
                    <ul class="tenders" data-testid="tenders">
                        {tenders.get().into_iter().enumerate().map(|(i, (k, a))| view! {
                            <li data-testid=format!("tender-{i}")>{kind_label(k)} " " {money_minor(a, dec)}
                                <button class="link" data-testid=format!("tender-remove-{i}") on:click=move |_| tenders.update(|t| { if i < t.len() { t.remove(i); } })>{tr!("pay-remove")}</button>
                            </li>
                        }).collect_view()}
                    </ul>
                    <div class="pay-row">
                        <button class="big-btn primary" data-testid="pay-exact-cash" disabled=move || left == 0 title="F5"
                            on:click=move |_| { tenders.update(|t| t.push((TenderKind::Cash, left))); complete(); }>
                            {tr!("pay-exact-cash")}
                        </button>
                        {quick.into_iter().map(|v| view! {
                            <button class="big-btn" data-testid=format!("pay-quick-{}", minor_text(v, dec)) on:click=move |_| add_tender(TenderKind::Cash, Some(v))>{money_minor(v, dec)}</button>
                        }).collect_view()}
                    </div>
                    <div class="pay-row">
                        <input node_ref=tender_ref class="amount-input" type="text" inputmode="decimal" placeholder=tr!("pay-amount-placeholder", amount = money_minor(left, dec))
                            aria-label=tr!("pay-amount-label")
                            data-testid="tender-amount" prop:value=move || tender_text.get()
                            on:input=move |ev| tender_text.set(value(&ev))
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                if ev.key() == "Enter" {
                                    ev.prevent_default();
                                    if tender_text.get_untracked().trim().is_empty() && paid_minor() >= total_minor() { complete(); } else { add_tender(TenderKind::Cash, None); }
                                }
                            } />
                        <button class="big-btn" data-testid="tender-cash" on:click=move |_| add_tender(TenderKind::Cash, None)>{tr!("tender-cash")}</button>
                        <button class="big-btn" data-testid="tender-card" on:click=move |_| add_tender(TenderKind::Card, None)>{tr!("tender-card")}</button>
                        <button class="big-btn" data-testid="tender-other" on:click=move |_| add_tender(TenderKind::Other, None)>{tr!("tender-other")}</button>
                    </div>
                    {move || drawer_needed.get().then(|| view! {
                        <div class="message error" role="alert" data-testid="sell-drawer-needed">
                            <span>{tr!("sell-drawer-needed")}</span>
                            <button class="big-btn primary" data-testid="sell-open-drawer"
                                on:click=move |_| { drawer_needed.set(false); mode.set(Mode::Cart); ctx.page.set(Page::Drawer); }>
                                {tr!("sell-open-drawer")}
                            </button>
                        </div>
                    })}
                    <div class="pay-row end">
                        <button class="big-btn" data-testid="pay-cancel" on:click=move |_| { mode.set(Mode::Cart); request_animation_frame(move || focus(search_ref)); }>{tr!("pay-back")}</button>
                        <button class="big-btn primary" data-testid="pay-complete" disabled=move || paid_minor() < total_minor() || busy.get() on:click=move |_| complete()>{tr!("pay-complete")}</button>
                    </div>
                </div>
                </div>
            }.into_any()
        }
        Mode::Price(i) => view! {
            <div class="overlay">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="price-title" data-testid="price-dialog">
                <h2 id="price-title">{tr!("price-title")}</h2>
                <label>{tr!("price-unit")}
                    <input type="text" inputmode="decimal" data-testid="price-input" prop:value=move || price_text.get() on:input=move |ev| price_text.set(value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { apply_price(i) } />
                </label>
                <label>{tr!("price-reason")}
                    <input type="text" data-testid="price-reason" prop:value=move || reason_text.get() on:input=move |ev| reason_text.set(value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { apply_price(i) } />
                </label>
                <div class="pay-row end">
                    <button class="big-btn" on:click=move |_| mode.set(Mode::Cart)>{tr!("price-cancel")}</button>
                    <button class="big-btn primary" data-testid="price-apply" on:click=move |_| apply_price(i)>{tr!("price-apply")}</button>
                </div>
            </div>
            </div>
        }.into_any(),
        Mode::Parked(list) => view! {
            <div class="overlay">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="parked-title" data-testid="parked-dialog">
                <h2 id="parked-title">{tr!("parked-title")}</h2>
                {list.is_empty().then(|| view! { <p class="muted">{tr!("parked-none")}</p> })}
                <ul class="parked">
                {list.into_iter().enumerate().map(|(i, p)| {
                    let id = p.id.clone();
                    let items: i64 = p.lines.iter().map(|l| l.qty).sum();
                    view! {
                        <li>
                            <span>{p.label.clone()} " · " {tr!("parked-items", count = items)} " · " {local_time(&p.parked_at)}</span>
                            <button class="big-btn" data-testid=format!("resume-{i}") on:click=move |_| resume(id.clone())>{tr!("parked-resume")}</button>
                        </li>
                    }
                }).collect_view()}
                </ul>
                <div class="pay-row end"><button class="big-btn" on:click=move |_| mode.set(Mode::Cart)>{tr!("parked-close")}</button></div>
            </div>
            </div>
        }.into_any(),
        Mode::Receipt(r) => view! { <ReceiptView r=*r ctx=ctx mode=mode thermal=thermal on_new=move || new_sale() /> }.into_any(),
    }
    };

    view! {
        <div class="sell" data-testid="page-sell">
            <section class="left">
                {search_box}
                <favourites::CategoryFilter ctx=ctx category=category changed=move || run_search(query.get_untracked()) />
                <favourites::FavouritesGrid ctx=ctx pick=add_product />
                {results_view}
            </section>
            <section class="right">
                <div class="cart-head">
                    <h2>{tr!("sell-cart")}</h2>
                    <div class="cart-actions">
                        <button class="btn" data-testid="park-cart" title="F8" on:click=move |_| park()>{tr!("sell-park")}</button>
                        <button class="btn" data-testid="parked-open" title="F7" on:click=move |_| show_parked()>{move || tr!("sell-parked-open", count = parked_count.get())}</button>
                    </div>
                </div>
                {cart_view}
                {totals_view}
                <button class="big-btn primary pay-btn" data-testid="pay" title=tr!("sell-pay-title") on:click=move |_| open_pay()>{tr!("sell-pay")}</button>
                <p class="muted small">{tr!("sell-keys")}</p>
            </section>
            {dialog}
        </div>
    }
}

#[component]
fn ReceiptView(
    r: Receipt,
    ctx: Ctx,
    mode: RwSignal<Mode>,
    thermal: RwSignal<Option<thermal::Thermal>>,
    on_new: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let s = r.sale;
    let sale_id = s.summary.sale_id.clone();
    let settings = r.settings;
    let store = ctx
        .info
        .get_untracked()
        .map(|i| (i.store_name, i.till_name))
        .unwrap_or_default();
    let header = settings
        .as_ref()
        .map(|x| x.receipt_header.clone())
        .unwrap_or_default();
    let footer = settings
        .as_ref()
        .map(|x| x.receipt_footer.clone())
        .unwrap_or_default();
    let change = s.change;
    let paper = Paper::from_setting(
        settings
            .as_ref()
            .map(|x| x.receipt_paper.as_str())
            .unwrap_or_default(),
    );
    // The receipt's length once laid out (at its paper's width): a roll's
    // printed page is that long.
    let receipt_ref = NodeRef::<leptos::html::Div>::new();
    let length_mm = RwSignal::new(None::<f64>);
    Effect::new(move |_| {
        if let Some(el) = receipt_ref.get() {
            length_mm.set(Some(px_to_mm(f64::from(el.offset_height()))));
        }
    });
    view! {
        <div class="overlay">
        <style data-testid="receipt-page-css">{move || paper.page_css(length_mm.get())}</style>
        <div class="dialog receipt-dialog" role="dialog" aria-modal="true" aria-labelledby="receipt-title" data-testid="receipt-dialog">
            <div class="change-due" id="receipt-title">{tr!("receipt-change")} " " <strong class="huge" data-testid="change-due">{money(&change)}</strong></div>
            <div class=format!("receipt {}", paper.class()) data-testid="receipt" node_ref=receipt_ref>
                <div class="r-center strong">{store.0}</div>
                {(!header.is_empty()).then(|| view! { <div class="r-center pre">{header}</div> })}
                <div>{local_time(&s.summary.at)} " · " {store.1}</div>
                <div>{tr!("receipt-sale")} " " <span data-testid="receipt-number">{s.summary.number.clone()}</span></div>
                <hr />
                {s.lines.iter().map(|l| view! {
                    <div class="r-line">
                        <div>{l.name.clone()}</div>
                        <div class="r-row"><span>{format!("{} × {}", l.qty, money(&l.unit_price))}</span><span>{money(&l.total)}</span></div>
                        {(l.discount.minor != 0).then(|| view! { <div class="r-row small"><span>{tr!("receipt-discount")}</span><span>{money(&shopsync_types::Amount { minor: -l.discount.minor, ..l.discount })}</span></div> })}
                        {l.price_override_reason.clone().map(|r| view! { <div class="small">{tr!("receipt-price-changed")} " " {r}</div> })}
                    </div>
                }).collect_view()}
                <hr />
                <div class="r-row"><span>{tr!("receipt-subtotal")}</span><span>{money(&s.subtotal)}</span></div>
                {(s.discount.minor != 0).then(|| view! { <div class="r-row"><span>{tr!("receipt-discounts")}</span><span>{money(&shopsync_types::Amount { minor: -s.discount.minor, ..s.discount })}</span></div> })}
                <div class="r-row"><span>{tr!("receipt-tax")}</span><span data-testid="receipt-tax">{money(&s.summary.tax)}</span></div>
                <div class="r-row strong"><span>{tr!("receipt-total")}</span><span data-testid="receipt-total">{money(&s.summary.total)}</span></div>
                {s.tenders.iter().map(|t| view! { <div class="r-row"><span>{kind_label(t.kind)}</span><span>{money(&t.amount)}</span></div> }).collect_view()}
                <div class="r-row strong"><span>{tr!("receipt-change")}</span><span>{money(&change)}</span></div>
                {(!footer.is_empty()).then(|| view! { <hr /><div class="r-center pre">{footer}</div> })}
            </div>
            <div class="no-print"><thermal::ThermalStatus ctx=ctx mode=mode thermal=thermal sale_id=sale_id /></div>
            <div class="pay-row end no-print">
                <button class="big-btn" data-testid="receipt-print" on:click=move |_| { if let Some(w) = web_sys::window() { let _ = w.print(); } }>{tr!("receipt-print")}</button>
                <button class="big-btn primary" data-testid="new-sale" data-initial-focus="" on:click=move |_| on_new()>{tr!("receipt-new-sale")}</button>
            </div>
        </div>
        </div>
    }
}
