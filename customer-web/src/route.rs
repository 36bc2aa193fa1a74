//! The screen shown, kept in the address's fragment (`#/lists`,
//! `#/list/ID`, `#/shops`, `#/shop/ID`, `#/orders`, `#/account`), so the
//! browser's back button and a reload stay on the same screen.

use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Lists,
    List(String),
    Shops,
    Shop(String),
    Orders,
    Account,
}

impl Route {
    pub fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        let (head, rest) = path.split_once('/').unwrap_or((path, ""));
        let id = || js_sys::decode_uri_component(rest).ok().map(String::from);
        match head {
            "list" if !rest.is_empty() => id().map_or(Route::Lists, Route::List),
            "shops" => Route::Shops,
            "shop" if !rest.is_empty() => id().map_or(Route::Shops, Route::Shop),
            "orders" => Route::Orders,
            "account" => Route::Account,
            _ => Route::Lists,
        }
    }

    pub fn href(&self) -> String {
        let enc = |s: &str| String::from(js_sys::encode_uri_component(s));
        match self {
            Route::Lists => "#/lists".into(),
            Route::List(id) => format!("#/list/{}", enc(id)),
            Route::Shops => "#/shops".into(),
            Route::Shop(id) => format!("#/shop/{}", enc(id)),
            Route::Orders => "#/orders".into(),
            Route::Account => "#/account".into(),
        }
    }
}

fn current() -> Route {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    Route::parse(&hash)
}

/// The current route, following the address.
pub fn signal() -> RwSignal<Route> {
    let route = RwSignal::new(current());
    let handle = window_event_listener(leptos::ev::hashchange, move |_| route.set(current()));
    on_cleanup(move || handle.remove());
    route
}

/// Goes to `to` (the address changes; the route follows).
pub fn go(to: &Route) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&to.href());
    }
}
