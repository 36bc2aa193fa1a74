//! The Sell screen's favourites grid (products the shop picked, most
//! without barcodes: a click or Enter adds one as a scan would) and its
//! category filter, which narrows the product list.

use leptos::prelude::*;
use shopsync_types::{Category, Favourite, Product};

use crate::api;
use crate::app::Ctx;
use crate::util::{money, spawn, value};

/// The grid of favourite buttons; `pick` adds the product to the cart.
#[component]
pub fn FavouritesGrid(
    ctx: Ctx,
    pick: impl Fn(Product) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let list = RwSignal::new(Vec::<Favourite>::new());
    Effect::new(move |_| {
        ctx.data_version.track();
        spawn(async move {
            if let Ok(l) = api::categories::favourites().await {
                let _ = list.try_set(l);
            }
        });
    });
    let press = move |sku: String| {
        spawn(async move {
            match api::product_by_code(&sku).await {
                Ok(p) => pick(p),
                Err(e) => ctx.error(&e),
            }
        });
    };
    move || {
        let favs = list.get();
        (!favs.is_empty()).then(|| {
            view! {
                <nav class="favourites" aria-label=tr!("sell-favourites") data-testid="favourites-grid">
                    {favs.into_iter().enumerate().map(|(i, f)| {
                        let sku = f.sku.clone();
                        view! {
                            <button class="fav" type="button" data-testid=format!("favourite-{i}") data-sku=f.sku.clone()
                                on:click=move |_| press(sku.clone())>
                                <span class="fav-name">{f.name.clone()}</span>
                                <span class="fav-price">{money(&f.price)}</span>
                            </button>
                        }
                    }).collect_view()}
                </nav>
            }
        })
    }
}

/// A select of the active categories; `category` holds the chosen id
/// (empty: all) and `changed` runs after a choice.
#[component]
pub fn CategoryFilter(
    ctx: Ctx,
    category: RwSignal<String>,
    changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let list = RwSignal::new(Vec::<Category>::new());
    Effect::new(move |_| {
        ctx.data_version.track();
        spawn(async move {
            if let Ok(l) = api::categories::list(false).await {
                // The chosen category archived (here or by sync): the select
                // no longer offers it, so the products are no longer
                // narrowed to it either.
                let gone =
                    category.try_with_untracked(|c| !c.is_empty() && !l.iter().any(|x| &x.id == c));
                let _ = list.try_set(l);
                if gone == Some(true) {
                    let _ = category.try_set(String::new());
                    changed();
                }
            }
        });
    });
    move || {
        let cats = list.get();
        (!cats.is_empty()).then(|| {
            let chosen = category.get_untracked();
            view! {
                <label class="inline category-filter">{tr!("sell-category")}
                    <select data-testid="sell-category" on:change=move |ev| { category.set(value(&ev)); changed(); }>
                        <option value="" data-testid="sell-category-all" selected=chosen.is_empty()>{tr!("sell-category-all")}</option>
                        {cats.into_iter().map(|c| {
                            let sel = c.id == chosen;
                            view! { <option value=c.id.clone() data-testid=format!("sell-category-opt-{}", c.name) selected=sel>{c.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
            }
        })
    }
}
