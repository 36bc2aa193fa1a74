//! Shops: the favourite shops (kept offline, synced like lists), and a
//! search of the shops that publish a catalog on this server.

use leptos::prelude::*;
use shopsync_core::customer;
use shopsync_core::sync::customer_wire::ShopListing;

use crate::catalogs;
use crate::net;
use crate::route::Route;
use crate::session::{self, Ctx};

/// The favourite button of one shop.
#[component]
pub fn FavouriteButton(store_id: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let id = StoredValue::new(store_id);
    let is_fav = move || {
        ctx.rev.get();
        let id = id.get_value();
        session::read(|d| {
            d.view()
                .map(|v| v.favourites.contains(&id))
                .unwrap_or(false)
        })
        .unwrap_or(false)
    };
    let toggle = move |_| {
        let store = id.get_value();
        let fav = is_fav();
        session::edit(ctx, |d, now| {
            d.edit_own(now, |doc| {
                if fav {
                    customer::remove_favourite(doc, &store)
                } else {
                    customer::add_favourite(doc, &store)
                }
            })
        });
    };
    view! {
        // A toggle: its name stays "Favourite", aria-pressed says whether it is.
        <button class="btn fav" data-testid="shop-fav" aria-pressed=move || is_fav().to_string()
            title=move || if is_fav() { "Remove from favourites" } else { "Add to favourites" }
            on:click=toggle>
            <span aria-hidden="true">{move || if is_fav() { "★ " } else { "☆ " }}</span>
            "Favourite"
        </button>
    }
}

#[component]
pub fn ShopsPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let query = RwSignal::new(String::new());
    let results = RwSignal::new(None::<Vec<ShopListing>>);
    let seq = StoredValue::new(0u32);
    let search = move || {
        let Some(token) = ctx.token() else {
            return;
        };
        seq.update_value(|s| *s += 1);
        let mine = seq.get_value();
        let q = query.get_untracked();
        leptos::task::spawn_local(async move {
            let r = net::shops(&token, &q).await;
            if seq.get_value() != mine {
                return;
            }
            match r {
                Ok(list) => {
                    for s in &list {
                        catalogs::remember_name(&s.store_id, &s.name);
                    }
                    results.set(Some(list));
                }
                Err(e) => ctx.message.set(Some(format!("Searching shops: {e}"))),
            }
        });
    };
    Effect::new(move |_| {
        if ctx.account.get().is_some() {
            search();
        }
    });

    let row = move |store_id: String, name: String| {
        let (id_attr, name_attr, href) = (
            store_id.clone(),
            name.clone(),
            Route::Shop(store_id.clone()).href(),
        );
        view! {
            <li class="row" data-testid="shop-row" data-store-id=id_attr data-shop-name=name_attr>
                <a class="grow" href=href data-testid="shop-open">{name}</a>
                <FavouriteButton store_id=store_id />
            </li>
        }
    };
    let favourites = move || {
        ctx.rev.get();
        let favs = session::read(|d| d.view().map(|v| v.favourites).unwrap_or_default())
            .unwrap_or_default();
        if favs.is_empty() {
            return view! { <p class="muted" data-testid="favourites-empty">"No favourite shops yet: search below and tap ☆."</p> }.into_any();
        }
        view! {
            <ul class="rows" data-testid="favourites">
                {favs.into_iter().map(|s| { let n = catalogs::shop_name(&s); row(s, n) }).collect_view()}
            </ul>
        }.into_any()
    };
    let found = move || {
        match results.get() {
        None => None,
        Some(list) if list.is_empty() => Some(view! { <p class="muted" data-testid="shops-none">"No shop by that name publishes its catalog here."</p> }.into_any()),
        Some(list) => Some(view! {
            <ul class="rows" data-testid="shop-results" role="list">
                {list.into_iter().map(|s| row(s.store_id, s.name)).collect_view()}
            </ul>
        }.into_any()),
    }
    };
    view! {
        <h2>"Favourite shops"</h2>
        {favourites}
        <h2>"Find a shop"</h2>
        <Show when=move || ctx.account.get().is_some()
            fallback=|| view! { <p class="muted">"Sign up or link this device (Account) to find shops."</p> }>
            <form class="inline-form" role="search" on:submit=move |ev| { ev.prevent_default(); search(); }>
                <label for="shop-search" class="sr-only">"Shop's name"</label>
                <input id="shop-search" type="search" placeholder="Shop's name" maxlength="100" data-testid="shop-search"
                    prop:value=move || query.get() on:input=move |ev| { query.set(event_target_value(&ev)); search(); } />
                <button class="btn" type="submit" data-testid="shop-search-submit">"Search"</button>
            </form>
            {found}
        </Show>
    }
}
