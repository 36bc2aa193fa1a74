//! Lists: every shopping list with how much is left on it, and a new one.

use leptos::prelude::*;
use shopsync_core::customer;

use crate::route::{self, Route};
use crate::session::{self, Ctx};

#[component]
pub fn ListsPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let name = RwSignal::new(String::new());
    let create = move || {
        let n = name.get_untracked();
        if let Some(id) = session::edit(ctx, |d, now| {
            d.edit_own(now, |doc| customer::create_list(doc, &n))
        }) {
            name.set(String::new());
            route::go(&Route::List(id));
        }
    };
    let lists = move || {
        ctx.rev.get();
        let view = session::read(|d| d.view())
            .and_then(|r| r.ok())
            .unwrap_or_default();
        if view.lists.is_empty() {
            return view! { <p class="muted" data-testid="lists-empty">"No lists yet: make one below."</p> }.into_any();
        }
        view! {
            <ul class="rows" data-testid="lists">
                {view.lists.into_iter().map(|l| {
                    let left = l.items.iter().filter(|i| !i.checked).count();
                    let total = l.items.len();
                    view! {
                        <li>
                            <a class="row" href=Route::List(l.id.clone()).href() data-testid="list-row" data-list-name=l.name.clone()>
                                <span class="grow">{l.name.clone()}</span>
                                <span class="muted">{format!("{left} of {total} to get")}</span>
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any()
    };
    let welcome = move || {
        ctx.account.get().is_none().then(|| view! {
            <div class="card" data-testid="welcome">
                <p>"Your lists are kept on this device and work without a network."</p>
                <p>"Sign up, or link this device to your account, to have them on your other devices and to send a list to a shop for pickup."</p>
                <a class="btn primary" href=Route::Account.href() data-testid="welcome-account">"Sign up or link"</a>
            </div>
        })
    };
    view! {
        <h2>"Shopping lists"</h2>
        {welcome}
        {lists}
        <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); create(); }>
            <label for="new-list-name" class="sr-only">"New list's name"</label>
            <input id="new-list-name" type="text" placeholder="New list, e.g. Weekly shop" maxlength="200"
                data-testid="new-list-name" prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev)) />
            <button class="btn primary" type="submit" data-testid="new-list-submit">"Add list"</button>
        </form>
    }
}
