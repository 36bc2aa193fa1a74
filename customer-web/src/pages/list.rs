//! One shopping list: tick items while shopping, change quantities, move
//! items up and down, add free text, rename or delete the list, and send
//! it to a shop for pickup. Every control is a large button within a
//! thumb's reach; everything works offline and syncs later.

use leptos::prelude::*;
use shopsync_core::customer;
use shopsync_types::customer::{ItemWhat, ListItem, MAX_ITEM_QTY};

use crate::catalogs;
use crate::route::{self, Route};
use crate::session::{self, Ctx};

/// One edit of the open list (the document, the list's id).
type ItemEdit = Box<dyn FnOnce(&mut automerge::AutoCommit, &str) -> shopsync_core::Result<()>>;

fn item_label(item: &ListItem) -> (String, Option<String>) {
    match &item.what {
        ItemWhat::Text { text } => (text.clone(), None),
        ItemWhat::Product { store_id, sku } => {
            let name = catalogs::get(store_id)
                .and_then(|c| c.product(sku).map(|p| p.name.clone()))
                .unwrap_or_else(|| sku.clone());
            (name, Some(catalogs::shop_name(store_id)))
        }
    }
}

/// The item id and control of the focused element, if it is an item's control.
fn focused_control() -> Option<(String, String)> {
    let el = web_sys::window()?.document()?.active_element()?;
    let control = el.get_attribute("data-testid")?;
    let row = el.closest("[data-item-id]").ok()??;
    Some((row.get_attribute("data-item-id")?, control))
}

fn refocus(item: &str, control: &str) {
    let selector = format!("[data-item-id=\"{item}\"] [data-testid=\"{control}\"]");
    let el = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(&selector).ok().flatten());
    if let Some(el) =
        el.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
    {
        let _ = el.focus();
    }
}

#[component]
pub fn ListPage(id: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let list_id = StoredValue::new(id);
    let current = move || {
        ctx.rev.get();
        let id = list_id.get_value();
        session::read(|d| d.view())
            .and_then(|r| r.ok())
            .and_then(|v| v.lists.into_iter().find(|l| l.id == id))
    };
    let new_text = RwSignal::new(String::new());
    let renaming = RwSignal::new(None::<String>);
    let note = RwSignal::new(String::new());
    let shop = RwSignal::new(String::new());

    let add = move || {
        let text = new_text.get_untracked();
        let id = list_id.get_value();
        if session::edit(ctx, |d, now| {
            d.edit_own(now, |doc| {
                customer::add_item(doc, &id, &ItemWhat::Text { text }, 1)
            })
        })
        .is_some()
        {
            new_text.set(String::new());
        }
    };
    let op = move |f: ItemEdit| {
        let id = list_id.get_value();
        // The rows are drawn again: keyboard focus goes back to the same
        // control of the same item.
        let focused = focused_control();
        session::edit(ctx, |d, now| d.edit_own(now, |doc| f(doc, &id)));
        if let Some((item, control)) = focused {
            request_animation_frame(move || refocus(&item, &control));
        }
    };

    let items = move || {
        let Some(list) = current() else {
            return view! { <p class="muted" data-testid="list-missing">"This list is gone (deleted on another device?)."</p> }.into_any();
        };
        let n = list.items.len();
        view! {
            <ul class="rows items" data-testid="items" aria-label=format!("Items of {}", list.name)>
                {list.items.into_iter().enumerate().map(|(i, item)| {
                    let (label, shop_label) = item_label(&item);
                    let (a, b, c, d, e, f) = (item.id.clone(), item.id.clone(), item.id.clone(), item.id.clone(), item.id.clone(), item.id.clone());
                    let qty = item.qty;
                    let checked = item.checked;
                    let check_label = format!("Got {label}");
                    view! {
                        <li class="item" class:done=checked data-testid="item-row" data-item=label.clone() data-item-id=item.id.clone() data-checked=checked.to_string()>
                            <input type="checkbox" class="tick" data-testid="item-check" prop:checked=checked aria-label=check_label
                                on:change=move |ev| { let v = event_target_checked(&ev); let a = a.clone(); op(Box::new(move |doc, l| customer::set_checked(doc, l, &a, v))) } />
                            <span class="grow label">
                                <span data-testid="item-text">{label.clone()}</span>
                                {shop_label.map(|s| view! { <span class="muted small">{format!(" · {s}")}</span> })}
                            </span>
                            <span class="qty">
                                <button class="btn icon" data-testid="item-dec" aria-label=format!("One less {label}") disabled={qty <= 1}
                                    on:click=move |_| { let b = b.clone(); op(Box::new(move |doc, l| customer::set_qty(doc, l, &b, qty - 1))) }>"−"</button>
                                <span data-testid="item-qty" aria-label="quantity">{qty}</span>
                                <button class="btn icon" data-testid="item-inc" aria-label=format!("One more {label}") disabled={qty >= MAX_ITEM_QTY}
                                    on:click=move |_| { let c = c.clone(); op(Box::new(move |doc, l| customer::set_qty(doc, l, &c, qty + 1))) }>"+"</button>
                            </span>
                            <span class="moves">
                                <button class="btn icon" data-testid="item-up" aria-label=format!("Move {label} up") disabled={i == 0}
                                    on:click=move |_| { let d = d.clone(); op(Box::new(move |doc, l| customer::move_item(doc, l, &d, i.saturating_sub(1)))) }>"↑"</button>
                                <button class="btn icon" data-testid="item-down" aria-label=format!("Move {label} down") disabled={i + 1 >= n}
                                    on:click=move |_| { let e = e.clone(); op(Box::new(move |doc, l| customer::move_item(doc, l, &e, i + 1))) }>"↓"</button>
                                <button class="btn icon" data-testid="item-remove" aria-label=format!("Remove {label}")
                                    on:click=move |_| { let f = f.clone(); op(Box::new(move |doc, l| customer::remove_item(doc, l, &f))) }>"✕"</button>
                            </span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any()
    };

    // Shops the list can go to: favourites, and the shops of its products.
    let shops = move || {
        ctx.rev.get();
        let mut out: Vec<String> =
            session::read(|d| d.view().map(|v| v.favourites).unwrap_or_default())
                .unwrap_or_default();
        if let Some(l) = current() {
            for i in l.items {
                if let ItemWhat::Product { store_id, .. } = i.what
                    && !out.contains(&store_id)
                {
                    out.push(store_id);
                }
            }
        }
        out
    };
    let send = move || {
        if ctx.account.get_untracked().is_none() {
            ctx.message.set(Some(
                "Sign up or link this device first: a shop needs to know who the order is from."
                    .into(),
            ));
            return;
        }
        let chosen = shop.get_untracked();
        let store = if chosen.is_empty() {
            shops().into_iter().next().unwrap_or_default()
        } else {
            chosen
        };
        if store.is_empty() {
            ctx.message.set(Some(
                "Pick a shop first: favourite one on the Shops screen.".into(),
            ));
            return;
        }
        let name = session::read(|d| d.view().ok().and_then(|v| v.profile.name))
            .flatten()
            .or_else(|| ctx.account.get_untracked().and_then(|a| a.name))
            .unwrap_or_else(|| "Customer".into());
        let text = note.get_untracked();
        let note_opt = Some(text.trim())
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        let id = list_id.get_value();
        if let Some((_, left_out)) = session::edit(ctx, |d, now| {
            d.send_order(&id, &store, &name, note_opt.as_deref(), now)
        }) {
            note.set(String::new());
            if left_out > 0 {
                ctx.message.set(Some(format!(
                    "Sent. {left_out} item(s) of other shops stayed on the list."
                )));
            }
            route::go(&Route::Orders);
        }
    };
    let rename = move || {
        if let Some(n) = renaming.get_untracked() {
            let id = list_id.get_value();
            if session::edit(ctx, |d, now| {
                d.edit_own(now, |doc| customer::rename_list(doc, &id, &n))
            })
            .is_some()
            {
                renaming.set(None);
            }
        }
    };
    let delete = move || {
        let confirmed = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message("Delete this list on all your devices?")
                    .ok()
            })
            .unwrap_or(false);
        if !confirmed {
            return;
        }
        let id = list_id.get_value();
        if session::edit(ctx, |d, now| {
            d.edit_own(now, |doc| customer::delete_list(doc, &id))
        })
        .is_some()
        {
            route::go(&Route::Lists);
        }
    };

    let title = move || {
        let name = current().map(|l| l.name).unwrap_or_default();
        match renaming.get() {
            None => view! {
                <div class="toolbar">
                    <a class="btn icon" href=Route::Lists.href() aria-label="Back to the lists">"←"</a>
                    <h2 class="grow" data-testid="list-title">{name.clone()}</h2>
                    <button class="btn" data-testid="list-rename" on:click=move |_| renaming.set(Some(name.clone()))>"Rename"</button>
                </div>
            }.into_any(),
            Some(_) => view! {
                <form class="toolbar" on:submit=move |ev| { ev.prevent_default(); rename(); }>
                    <label for="list-name" class="sr-only">"The list's name"</label>
                    <input id="list-name" class="grow" type="text" maxlength="200" data-testid="list-name-input"
                        prop:value=move || renaming.get().unwrap_or_default()
                        on:input=move |ev| renaming.set(Some(event_target_value(&ev))) />
                    <button class="btn primary" type="submit" data-testid="list-rename-save">"Save"</button>
                    <button class="btn" type="button" on:click=move |_| renaming.set(None)>"Cancel"</button>
                </form>
            }.into_any(),
        }
    };

    view! {
        {title}
        {items}
        <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); add(); }>
            <label for="item-text" class="sr-only">"Add an item"</label>
            <input id="item-text" type="text" placeholder="Add an item, e.g. Milk" maxlength="1000"
                data-testid="item-new-text" prop:value=move || new_text.get()
                on:input=move |ev| new_text.set(event_target_value(&ev)) />
            <button class="btn primary" type="submit" data-testid="item-add">"Add"</button>
        </form>
        <p class="muted small">"Products from a shop's catalog: open the shop on the Shops screen and tap Add."</p>
        <section class="card stack" aria-labelledby="send-title">
            <h3 id="send-title">"Send for pickup"</h3>
            <label for="send-shop">"Shop"</label>
            <select id="send-shop" data-testid="send-shop" on:change=move |ev| shop.set(event_target_value(&ev))>
                {move || shops().is_empty().then(|| view! { <option value="">"No favourite shop yet (Shops screen)"</option> })}
                {move || shops().into_iter().map(|s| {
                    let name = catalogs::shop_name(&s);
                    let selected = shop.get_untracked() == s;
                    view! { <option value=s.clone() selected=selected>{name}</option> }
                }).collect_view()}
            </select>
            <label for="send-note">"Note for the shop (optional)"</label>
            <input id="send-note" type="text" maxlength="500" data-testid="send-note" prop:value=move || note.get()
                on:input=move |ev| note.set(event_target_value(&ev)) />
            <button class="btn primary wide" data-testid="send-submit" on:click=move |_| send()>"Send the list"</button>
            <p class="muted small">"Items you ticked off stay home; the shop gets the rest."</p>
        </section>
        <button class="btn danger" data-testid="list-delete" on:click=move |_| delete()>"Delete this list"</button>
    }
}
