//! A shop's catalog as it publishes it (name, price, availability), read
//! from the device's copy so it works offline; search as you type, and add
//! a product to one of your lists.

use leptos::prelude::*;
use shopsync_core::customer;
use shopsync_types::Availability;
use shopsync_types::customer::ItemWhat;
use shopsync_types::orders::price_text;

use crate::catalogs;
use crate::pages::shops::FavouriteButton;
use crate::route::Route;
use crate::session::{self, Ctx};
use crate::sync;

/// Results shown at once (the count says how many matched).
const SHOWN: usize = 100;

fn badge(a: Availability, count: Option<i64>) -> (String, &'static str) {
    let class = match a {
        Availability::InStock => "badge ok",
        Availability::Low => "badge low",
        Availability::Out => "badge out",
    };
    let text = match (a, count) {
        (Availability::Out, _) => "out of stock".to_string(),
        (_, Some(n)) => format!("{n} {}", a.as_str()),
        _ => a.as_str().to_string(),
    };
    (text, class)
}

#[component]
pub fn ShopPage(id: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = StoredValue::new(id.clone());
    // Opening a shop follows its catalog from now on.
    let newly = session::with_device(|d| {
        let new = !d.looked_at().contains(&id);
        d.look_at(&id)?;
        Ok(new)
    })
    .unwrap_or(false);
    if newly {
        session::after_change(ctx);
    }
    sync::now(ctx);

    let query = RwSignal::new(String::new());
    let target = RwSignal::new(String::new());
    let catalog = move || {
        ctx.rev.get();
        catalogs::get(&store.get_value())
    };
    let lists = move || {
        ctx.rev.get();
        session::read(|d| d.view().map(|v| v.lists).unwrap_or_default()).unwrap_or_default()
    };
    let add = move |sku: String, name: String| {
        let chosen = target.get_untracked();
        let existing = lists();
        let list_id = existing
            .iter()
            .find(|l| l.id == chosen)
            .or(existing.first())
            .map(|l| l.id.clone());
        let store_id = store.get_value();
        let done = session::edit(ctx, |d, now| {
            d.edit_own(now, |doc| {
                let list = match &list_id {
                    Some(l) => l.clone(),
                    None => customer::create_list(doc, "Shopping list")?,
                };
                customer::add_item(doc, &list, &ItemWhat::Product { store_id, sku }, 1)?;
                Ok(list)
            })
        });
        if let Some(list) = done {
            let list_name = lists()
                .into_iter()
                .find(|l| l.id == list)
                .map(|l| l.name)
                .unwrap_or_default();
            ctx.message
                .set(Some(format!("{name} added to {list_name}.")));
        }
    };

    let header = move || {
        let c = catalog();
        let name = c
            .as_ref()
            .map(|c| c.catalog.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| catalogs::shop_name(&store.get_value()));
        view! {
            <div class="toolbar">
                <a class="btn icon" href=Route::Shops.href() aria-label="Back to the shops">"←"</a>
                <h2 class="grow" data-testid="shop-title">{name}</h2>
                <FavouriteButton store_id=store.get_value() />
            </div>
        }
    };
    let results = move || {
        let Some(c) = catalog() else {
            return view! { <p class="muted" data-testid="catalog-never">"This shop's catalog has not reached this device yet. It comes with the next sync."</p> }.into_any();
        };
        if !c.catalog.published {
            return view! { <p class="muted" data-testid="catalog-unpublished">"This shop does not publish its catalog (any more)."</p> }.into_any();
        }
        let q = query.get();
        let found = c.search(&q);
        let total = found.len();
        let currency = c.catalog.currency.clone();
        view! {
            <p class="muted" data-testid="catalog-count" data-query=q.clone() role="status">
                {match total {
                    0 => "No product matches.".to_string(),
                    1 => "1 product".to_string(),
                    n if n > SHOWN => format!("{n} products, the first {SHOWN} shown"),
                    n => format!("{n} products"),
                }}
            </p>
            <ul class="rows" data-testid="catalog" aria-label="Products">
                {found.into_iter().take(SHOWN).map(|p| {
                    let (text, class) = badge(p.availability, p.count);
                    let (sku, name) = (p.sku.clone(), p.name.clone());
                    view! {
                        <li class="row product" data-testid="product-row" data-sku=p.sku.clone()>
                            <span class="grow">
                                <span class="name">{p.name.clone()}</span>
                                <span class="muted small">{format!(" {}", price_text(p.price, &currency))}</span>
                            </span>
                            <span class=class data-testid="product-availability">{text}</span>
                            <button class="btn" data-testid="product-add" aria-label=format!("Add {} to a list", p.name)
                                on:click=move |_| add(sku.clone(), name.clone())>"Add"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any()
    };

    view! {
        {header}
        <div class="inline-form" role="search">
            <label for="catalog-search" class="sr-only">"Search this shop's products"</label>
            <input id="catalog-search" type="search" placeholder="Search products" maxlength="100" data-testid="catalog-search"
                prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
        </div>
        <div class="inline-form">
            <label for="catalog-list">"Add to"</label>
            <select id="catalog-list" data-testid="catalog-list" on:change=move |ev| target.set(event_target_value(&ev))>
                {move || {
                    let all = lists();
                    if all.is_empty() {
                        return view! { <option value="">"a new list"</option> }.into_any();
                    }
                    all.into_iter().map(|l| view! { <option value=l.id.clone()>{l.name}</option> }).collect_view().into_any()
                }}
            </select>
        </div>
        {results}
    }
}
