//! Small helpers: money text, dates, running async work from event handlers.

use leptos::prelude::*;
use shopsync_types::ipc::PickerText;
use shopsync_types::locale::{format_money, format_number, parse_amount};
use shopsync_types::money::{Currency, format_minor};
use shopsync_types::zone::StoreZone;
use shopsync_types::{Amount, ErrorInfo};

use crate::i18n;

/// An amount as the cashier reads it: the store's currency sign and the
/// language's separators ("€1,234.50", "1.234,50 €").
pub fn money(a: &Amount) -> String {
    money_minor(a.minor, a.decimals)
}

pub fn money_minor(minor: i64, decimals: u8) -> String {
    let currency = Currency {
        decimals,
        ..i18n::currency()
    };
    if currency == Currency::NONE || currency.code == Currency::NONE.code {
        return input_text(minor, decimals);
    }
    format_money(minor, currency, i18n::locale())
}

/// The plain decimal text the core reads ("1234.50"): never shown.
pub fn minor_text(minor: i64, decimals: u8) -> String {
    format_minor(minor, decimals)
}

/// An amount to edit in a text field: the language's decimal separator, no
/// sign, no thousands separators ("1234,50").
pub fn input_text(minor: i64, decimals: u8) -> String {
    format_number(minor, decimals, i18n::locale(), false)
}

/// An amount the cashier typed, with either decimal separator the language
/// allows; the refusal is a sentence in the cashier's language.
pub fn parse_money(text: &str, decimals: u8) -> Result<i64, String> {
    parse_amount(text, decimals, i18n::locale()).map_err(|e| i18n::money_error(&e))
}

/// A refused typed value as an error the message line shows.
pub fn input_error(field: &str, message: String) -> ErrorInfo {
    ErrorInfo {
        code: shopsync_types::ErrorCode::InvalidInput,
        message,
        row: None,
        field: Some(field.into()),
    }
}

thread_local! {
    /// The open store's time zone (`StoreInfo::time_zone`), set whenever
    /// the store's info changes.
    static STORE_ZONE: std::cell::Cell<StoreZone> = const { std::cell::Cell::new(StoreZone::Machine) };
}

/// Days and times on screen follow the store's time zone from now on. A
/// zone this build does not know (set on a newer till) falls back to this
/// computer's, as the core does.
pub fn set_store_zone(name: &str) {
    STORE_ZONE.with(|z| z.set(StoreZone::parse(name).unwrap_or_default()));
}

fn store_zone() -> StoreZone {
    STORE_ZONE.with(std::cell::Cell::get)
}

/// Today in the store's time zone.
pub fn today() -> chrono::NaiveDate {
    store_zone().today()
}

/// A moment in the store's time zone, in the language's date order.
pub fn local_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    store_zone()
        .local(*t)
        .format(i18n::locale().date_time_format())
        .to_string()
}

/// A date in the language's order.
pub fn date_text(d: &chrono::NaiveDate) -> String {
    d.format(i18n::locale().date_format()).to_string()
}

/// A file picker's words in the cashier's language: its title and the name
/// of the files it offers (the shell opens it and knows the file types).
pub fn picker_text(title: String, kind: String) -> PickerText {
    PickerText {
        title,
        kind,
        all_files: tr!("picker-all-files"),
    }
}

/// The last part of a path the shell reported (a file the person picked),
/// whichever separator its system uses.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// An error as the cashier reads it: message, and the row/field when known.
pub fn describe(e: &ErrorInfo) -> String {
    let mut s = e.message.clone();
    if let Some(row) = e.row
        && !s.contains(&format!("row {row}"))
    {
        s = tr!("error-row", row = row, message = s);
    }
    s
}

pub fn spawn(f: impl std::future::Future<Output = ()> + 'static) {
    leptos::task::spawn_local(f);
}

/// Puts the keyboard focus in an input, unless it has it already: keys a
/// scanner is typing at that moment must not be selected and overwritten.
///
/// A task that ends after its screen was left calls this with a disposed
/// `NodeRef`: that does nothing (reading it would panic).
pub fn focus(r: NodeRef<leptos::html::Input>) {
    if let Some(Some(el)) = r.try_get_untracked() {
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
