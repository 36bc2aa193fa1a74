//! Modal dialogs, for keyboard and screen-reader users: while an element
//! with `aria-modal="true"` is open, Tab and Shift+Tab cycle through its
//! controls only, focus that lands outside it is brought back in, and when
//! it closes the focus returns to where it was before it opened (if that
//! control is still on screen and nothing else took the focus meanwhile).
//!
//! One watcher for the whole app instead of code in every dialog: the
//! pages only mark their dialogs (`role="dialog" aria-modal="true"` and a
//! name), and a dialog added later cannot forget the trap.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Element, HtmlElement, MutationObserver, MutationObserverInit};

/// What a Tab may land on inside a dialog.
const FOCUSABLE: &str = "button:not([disabled]), input:not([disabled]), select:not([disabled]), \
     textarea:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])";
const MODAL: &str = "[aria-modal='true']";

thread_local! {
    /// Open dialogs, oldest first, each with the control focused before it.
    static OPEN: RefCell<Vec<(Element, Option<HtmlElement>)>> = const { RefCell::new(Vec::new()) };
    /// The last control focused outside any dialog: where focus returns.
    static LAST_OUTSIDE: RefCell<Option<HtmlElement>> = const { RefCell::new(None) };
}

/// Installs the watcher; call once when the app starts.
pub fn install() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(body) = document.body() else {
        return;
    };
    let on_change = Closure::<dyn FnMut()>::new(sync_open_dialogs);
    if let Ok(observer) = MutationObserver::new(on_change.as_ref().unchecked_ref()) {
        let init = MutationObserverInit::new();
        init.set_child_list(true);
        init.set_subtree(true);
        let _ = observer.observe_with_options(&body, &init);
    }
    // Lives as long as the page: the observer calls it on every change.
    on_change.forget();

    let focus_in = window_event_listener(leptos::ev::focusin, |ev| {
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<HtmlElement>().ok()) else {
            return;
        };
        match top_dialog() {
            Some(dialog) if dialog.is_connected() && !dialog.contains(Some(&target)) => {
                // Focus escaped the open dialog (a click behind it, a
                // programmatic focus): bring it back in.
                focus_first(&dialog);
            }
            Some(_) => {}
            None => LAST_OUTSIDE.with(|l| *l.borrow_mut() = Some(target)),
        }
    });
    let tab = window_event_listener(leptos::ev::keydown, |ev| {
        if ev.key() != "Tab" {
            return;
        }
        let Some(dialog) = top_dialog() else {
            return;
        };
        let items = focusables(&dialog);
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            ev.prevent_default();
            return;
        };
        let active = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element());
        let at = |e: &HtmlElement| {
            active
                .as_ref()
                .is_some_and(|a| a == e.unchecked_ref::<Element>())
        };
        let inside = active.as_ref().is_some_and(|a| dialog.contains(Some(a)));
        if ev.shift_key() && (at(first) || !inside) {
            ev.prevent_default();
            let _ = last.focus();
        } else if !ev.shift_key() && (at(last) || !inside) {
            ev.prevent_default();
            let _ = first.focus();
        }
    });
    // The app lives as long as the window: keep both listeners.
    std::mem::forget(focus_in);
    std::mem::forget(tab);
}

/// The newest open modal dialog, if any.
fn top_dialog() -> Option<Element> {
    OPEN.with(|o| o.borrow().last().map(|(d, _)| d.clone()))
}

/// Compares the modal dialogs on screen with the ones known open: a new one
/// remembers where focus was and takes it; a closed one gives it back.
fn sync_open_dialogs() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let mut on_screen = Vec::new();
    if let Ok(list) = document.query_selector_all(MODAL) {
        for i in 0..list.length() {
            if let Some(e) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                on_screen.push(e);
            }
        }
    }
    let closed: Vec<Option<HtmlElement>> = OPEN.with(|o| {
        let mut open = o.borrow_mut();
        let mut closed = Vec::new();
        open.retain(|(d, before)| {
            let still = on_screen.contains(d);
            if !still {
                closed.push(before.clone());
            }
            still
        });
        closed
    });
    // Focus goes back to the oldest closed dialog's opener: when one
    // dialog replaces another (payment → receipt), the one that stays open
    // keeps the focus instead.
    if let Some(before) = closed.into_iter().next().flatten()
        && top_dialog().is_none()
    {
        let lost = document.active_element().is_none_or(|a| {
            document
                .body()
                .is_some_and(|b| a == *b.unchecked_ref::<Element>())
        });
        if lost && before.is_connected() {
            let _ = before.focus();
        }
    }
    for d in on_screen {
        let known = OPEN.with(|o| o.borrow().iter().any(|(e, _)| *e == d));
        if known {
            continue;
        }
        let before = top_dialog()
            .is_none()
            .then(|| LAST_OUTSIDE.with(|l| l.borrow().clone()))
            .flatten();
        let focused_inside = document
            .active_element()
            .is_some_and(|a| d.contains(Some(&a)));
        OPEN.with(|o| o.borrow_mut().push((d.clone(), before)));
        if !focused_inside {
            // The page may focus a field of its own in the next frame; until
            // then the dialog's first control has it.
            focus_first(&d);
        }
    }
}

fn focusables(dialog: &Element) -> Vec<HtmlElement> {
    let mut out = Vec::new();
    if let Ok(list) = dialog.query_selector_all(FOCUSABLE) {
        for i in 0..list.length() {
            if let Some(e) = list.item(i).and_then(|n| n.dyn_into::<HtmlElement>().ok())
                && e.offset_parent().is_some()
            {
                out.push(e);
            }
        }
    }
    out
}

/// The dialog's `data-initial-focus` control, else its first one.
fn focus_first(dialog: &Element) {
    let preferred = dialog
        .query_selector("[data-initial-focus]")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
    match preferred.or_else(|| focusables(dialog).into_iter().next()) {
        Some(e) => {
            let _ = e.focus();
        }
        None => {
            if let Some(d) = dialog.dyn_ref::<HtmlElement>() {
                let _ = d.set_attribute("tabindex", "-1");
                let _ = d.focus();
            }
        }
    }
}
