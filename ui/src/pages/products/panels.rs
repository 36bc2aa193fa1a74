//! The Products screen's side panels for issue 10: categories (add,
//! rename, archive, restore) and the Sell screen's favourites grid (order,
//! remove; a product's star in the list adds it).

use leptos::prelude::*;
use shopsync_types::{Category, Favourite};

use crate::api;
use crate::app::Ctx;
use crate::util::{spawn, value};

/// A category's name as shown: archived ones say so; a product's text that
/// names no category (from before categories were managed) is shown as is.
pub fn category_label(cats: &[Category], id: &str) -> String {
    match cats.iter().find(|c| c.id == id) {
        Some(c) if c.archived => format!("{} ({})", c.name, tr!("categories-archived")),
        Some(c) => c.name.clone(),
        None => id.to_string(),
    }
}

#[component]
pub fn CategoriesPanel(
    ctx: Ctx,
    /// Every category, archived ones too.
    cats: RwSignal<Vec<Category>>,
    read_only: RwSignal<bool>,
    /// Runs after a change (the list and the selects follow it).
    changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let new_name = RwSignal::new(String::new());
    let run = move |job: std::pin::Pin<
        Box<dyn std::future::Future<Output = api::ApiResult<Category>>>,
    >| {
        spawn(async move {
            match job.await {
                Ok(c) => {
                    ctx.info(tr!("categories-saved", name = c.name.clone()));
                    changed();
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let add = move || {
        let name = new_name.get_untracked();
        new_name.set(String::new());
        run(Box::pin(api::categories::save(None, name)));
    };
    view! {
        <div class="card" data-testid="categories-panel" style:display=move || if read_only.get() { "none" } else { "" }>
            <h2>{tr!("categories-title")}</h2>
            <p class="muted small">{tr!("categories-hint")}</p>
            {move || cats.with(Vec::is_empty).then(|| view! { <p class="muted">{tr!("categories-none")}</p> })}
            {move || cats.get().into_iter().map(|c| {
                let name = RwSignal::new(c.name.clone());
                let (id, id2) = (c.id.clone(), c.id.clone());
                let archived = c.archived;
                view! {
                    <div class="cat-row" data-testid=format!("category-{}", c.name)>
                        <input type="text" aria-label=tr!("categories-name-of", name = c.name.clone()) data-testid="category-name"
                            prop:value=move || name.get() on:input=move |ev| name.set(value(&ev)) />
                        <span class="muted small">{tr!("categories-products", count = c.products)}</span>
                        <button class="btn" type="button" data-testid="category-rename"
                            on:click=move |_| run(Box::pin(api::categories::save(Some(id.clone()), name.get_untracked())))>{tr!("categories-rename")}</button>
                        <button class="btn" type="button" data-testid="category-archive"
                            on:click=move |_| run(Box::pin(api::categories::set_archived(id2.clone(), !archived)))>
                            {if archived { tr!("categories-restore") } else { tr!("categories-archive") }}
                        </button>
                    </div>
                }
            }).collect_view()}
            <form class="cat-row" on:submit=move |ev| { ev.prevent_default(); add(); }>
                <input type="text" aria-label=tr!("categories-new") placeholder=tr!("categories-new") data-testid="category-new-name"
                    prop:value=move || new_name.get() on:input=move |ev| new_name.set(value(&ev)) />
                <button class="btn primary" type="submit" data-testid="category-add">{tr!("categories-add")}</button>
            </form>
        </div>
    }
}

#[component]
pub fn FavouritesPanel(
    ctx: Ctx,
    favs: RwSignal<Vec<Favourite>>,
    read_only: RwSignal<bool>,
) -> impl IntoView {
    let apply = move |job: std::pin::Pin<
        Box<dyn std::future::Future<Output = api::ApiResult<Vec<Favourite>>>>,
    >| {
        spawn(async move {
            match job.await {
                Ok(l) => {
                    let _ = favs.try_set(l);
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    view! {
        <div class="card" data-testid="favourites-panel" style:display=move || if read_only.get() { "none" } else { "" }>
            <h2>{tr!("favourites-title")}</h2>
            <p class="muted small">{tr!("favourites-hint")}</p>
            {move || favs.with(Vec::is_empty).then(|| view! { <p class="muted">{tr!("favourites-none")}</p> })}
            {move || {
                let list = favs.get();
                let n = list.len();
                list.into_iter().enumerate().map(|(i, f)| {
                    let (a, b, c) = (f.product_id.clone(), f.product_id.clone(), f.product_id.clone());
                    let up = i as i64;
                    view! {
                        <div class="fav-row" data-testid=format!("favourite-row-{i}") data-sku=f.sku.clone()>
                            <span class="grow">{f.name.clone()}</span>
                            <button class="btn" type="button" aria-label=tr!("favourites-up", name = f.name.clone()) disabled=i == 0
                                on:click=move |_| apply(Box::pin(api::categories::move_favourite(a.clone(), up)))>"↑"</button>
                            <button class="btn" type="button" aria-label=tr!("favourites-down", name = f.name.clone()) disabled=i + 1 == n
                                on:click=move |_| apply(Box::pin(api::categories::move_favourite(b.clone(), up + 2)))>"↓"</button>
                            <button class="btn" type="button" aria-label=tr!("favourites-remove", name = f.name.clone())
                                on:click=move |_| apply(Box::pin(api::categories::remove_favourite(c.clone())))>"✕"</button>
                        </div>
                    }
                }).collect_view()
            }}
        </div>
    }
}
