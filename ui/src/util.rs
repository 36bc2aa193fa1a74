//! Small helpers: money text, dates, running async work from event handlers.

use leptos::prelude::*;
use shopsync_types::money::{format_minor, parse_minor};
use shopsync_types::{Amount, ErrorInfo};

pub fn money(a: &Amount) -> String {
    a.to_string()
}

pub fn minor_text(minor: i64, decimals: u8) -> String {
    format_minor(minor, decimals)
}

pub fn parse_money(text: &str, decimals: u8) -> Option<i64> {
    parse_minor(text, decimals).ok()
}

/// Today in local time.
pub fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

pub fn local_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// An error as the cashier reads it: message, and the row/field when known.
pub fn describe(e: &ErrorInfo) -> String {
    let mut s = e.message.clone();
    if let Some(row) = e.row
        && !s.contains(&format!("row {row}"))
    {
        s = format!("row {row}: {s}");
    }
    s
}

pub fn spawn(f: impl std::future::Future<Output = ()> + 'static) {
    leptos::task::spawn_local(f);
}

/// Puts the keyboard focus in an input, unless it has it already: keys a
/// scanner is typing at that moment must not be selected and overwritten.
pub fn focus(r: NodeRef<leptos::html::Input>) {
    if let Some(el) = r.get_untracked() {
        let focused = document().active_element().is_some_and(|a| {
            let a: &wasm_bindgen::JsValue = a.as_ref();
            let e: &wasm_bindgen::JsValue = el.as_ref();
            a == e
        });
        if !focused {
            let _ = el.focus();
        }
    }
}

/// A text value from an input event.
pub fn value(ev: &leptos::ev::Event) -> String {
    event_target_value(ev)
}
