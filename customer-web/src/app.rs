//! The app shell: the header with the sync indicator, the screen of the
//! current route, the message line and the navigation at the bottom
//! (within a thumb's reach on a phone).

use leptos::prelude::*;

use crate::pages;
use crate::route::{self, Route};
use crate::session::{self, Ctx, SyncState};
use crate::sync;

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx::new();
    provide_context(ctx);
    let route = route::signal();
    leptos::task::spawn_local(async move {
        match session::boot(ctx).await {
            Ok(()) => {
                // For the benchmark (docs/PERFORMANCE.md): the first frame
                // drawn with the customer's lists.
                request_animation_frame(|| {
                    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                        let _ = p.mark("shopsync-ready");
                    }
                });
                sync::start(ctx);
            }
            Err(e) => ctx.message.set(Some(e.to_string())),
        }
    });

    let screen = move || {
        if !ctx.ready.get() {
            return view! { <p class="muted" data-testid="loading">"Opening your lists…"</p> }
                .into_any();
        }
        match route.get() {
            Route::Lists => view! { <pages::lists::ListsPage /> }.into_any(),
            Route::List(id) => view! { <pages::list::ListPage id=id /> }.into_any(),
            Route::Shops => view! { <pages::shops::ShopsPage /> }.into_any(),
            Route::Shop(id) => view! { <pages::shop::ShopPage id=id /> }.into_any(),
            Route::Orders => view! { <pages::orders::OrdersPage /> }.into_any(),
            Route::Account => view! { <pages::account::AccountPage /> }.into_any(),
        }
    };

    let nav = move |to: Route, label: &'static str, testid: &'static str| {
        let target = StoredValue::new(to.clone());
        let current = move || {
            let r = route.get();
            let t = target.get_value();
            r == t
                || matches!(
                    (&r, &t),
                    (Route::List(_), Route::Lists) | (Route::Shop(_), Route::Shops)
                )
        };
        view! {
            <a href=to.href() data-testid=testid class:active=current
                aria-current=move || if current() { "page" } else { "false" }>{label}</a>
        }
    };

    view! {
        <header class="top">
            <h1>"ShopSync"</h1>
            <SyncIndicator />
        </header>
        <main id="main" tabindex="-1">
            <p class="message" role="alert" data-testid="message" hidden=move || ctx.message.get().is_none()>
                {move || ctx.message.get().unwrap_or_default()}
                <button class="link" aria-label="Dismiss the message" on:click=move |_| ctx.message.set(None)>"✕"</button>
            </p>
            {screen}
        </main>
        <nav class="bottom" aria-label="Screens">
            {nav(Route::Lists, "Lists", "nav-lists")}
            {nav(Route::Shops, "Shops", "nav-shops")}
            {nav(Route::Orders, "Orders", "nav-orders")}
            {nav(Route::Account, "Account", "nav-account")}
        </nav>
    }
}

fn clock(ms: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

/// What the sync is doing; a button that syncs now. It never blocks an edit.
#[component]
fn SyncIndicator() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let text = move || {
        let s = ctx.sync.get();
        let waiting = if s.waiting > 0 {
            format!(" · {} to send", s.waiting)
        } else {
            String::new()
        };
        let base = match s.state {
            SyncState::Local => "On this device only".to_string(),
            SyncState::Syncing => "Syncing…".to_string(),
            SyncState::Synced => match s.last_sync {
                Some(t) => format!("Synced {}", clock(t)),
                None => "Synced".to_string(),
            },
            SyncState::Offline => "Offline · saved here".to_string(),
            SyncState::Error => "Sync problem".to_string(),
            SyncState::Revoked => "Signed out".to_string(),
        };
        format!("{base}{waiting}")
    };
    let state = move || match ctx.sync.get().state {
        SyncState::Local => "local",
        SyncState::Syncing => "syncing",
        SyncState::Synced => "synced",
        SyncState::Offline => "offline",
        SyncState::Error => "error",
        SyncState::Revoked => "revoked",
    };
    view! {
        <button class="sync" data-testid="sync-indicator" data-state=state
            title=move || ctx.sync.get().message.unwrap_or_else(|| "Sync now".into())
            aria-live="polite" on:click=move |_| sync::now(ctx)>
            <span class="dot" aria-hidden="true"></span>
            {text}
        </button>
    }
}
