//! Keeps the webview's own accelerators away from the till, and keeps a
//! broken screen from being a dead one.
//!
//! F5 and Ctrl+R reload a webview (WebKitGTK, WebView2), Backspace and
//! Alt+Left navigate back, Ctrl+plus/minus zoom, Ctrl+P prints the page: at
//! the counter any of them loses the screen a cashier is working on. A
//! capture-phase listener cancels their default action before anything else
//! sees the key; the screens' own handlers (F5 "exact cash") still run.
//!
//! A panic leaves Leptos's reactive state half-updated, so instead of a
//! screen that ignores every key the panic hook shows what happened with a
//! Reload button; the Sell screen's cart and the current page are kept in
//! `sessionStorage` and come back after the reload.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Session storage key for the page shown and the Sell screen's cart.
pub const PAGE_KEY: &str = "shopsync.page";
pub const CART_KEY: &str = "shopsync.cart";

/// Whether a key press is a browser accelerator the till must not act on.
/// `editable`: the key was typed into a text field (Backspace edits there).
pub fn is_browser_accelerator(
    key: &str,
    ctrl: bool,
    alt: bool,
    shift: bool,
    editable: bool,
) -> bool {
    match key {
        "F5" | "BrowserRefresh" | "BrowserBack" | "BrowserForward" | "BrowserHome"
        | "BrowserSearch" | "F7" | "F12" => true,
        "Backspace" => !editable,
        "ArrowLeft" | "ArrowRight" | "Home" => alt && !ctrl && !shift,
        _ if ctrl => matches!(
            key.to_ascii_lowercase().as_str(),
            "r" | "p"
                | "s"
                | "o"
                | "n"
                | "w"
                | "t"
                | "u"
                | "g"
                | "f"
                | "j"
                | "h"
                | "+"
                | "="
                | "-"
                | "_"
                | "0"
        ),
        _ => false,
    }
}

/// Installs the accelerator guard and the panic hook, once, before mounting.
pub fn install() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_key = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(|ev: web_sys::KeyboardEvent| {
        let editable = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| {
                let tag = el.tag_name().to_ascii_lowercase();
                tag == "input" || tag == "textarea" || el.has_attribute("contenteditable")
            });
        let ctrl = ev.ctrl_key() || ev.meta_key();
        if is_browser_accelerator(&ev.key(), ctrl, ev.alt_key(), ev.shift_key(), editable) {
            ev.prevent_default();
        }
    });
    let _ = window.add_event_listener_with_callback_and_bool(
        "keydown",
        on_key.as_ref().unchecked_ref(),
        true,
    );
    // Zooming with Ctrl+wheel is the same accident with a mouse.
    let on_wheel = Closure::<dyn FnMut(web_sys::WheelEvent)>::new(|ev: web_sys::WheelEvent| {
        if ev.ctrl_key() {
            ev.prevent_default();
        }
    });
    let opts = web_sys::AddEventListenerOptions::new();
    opts.set_capture(true);
    opts.set_passive(false);
    let _ = window.add_event_listener_with_callback_and_add_event_listener_options(
        "wheel",
        on_wheel.as_ref().unchecked_ref(),
        &opts,
    );
    // Both live as long as the page.
    on_key.forget();
    on_wheel.forget();

    std::panic::set_hook(Box::new(|info| {
        let text = info.to_string();
        web_sys::console::error_1(&JsValue::from_str(&format!("till UI panic: {text}")));
        crate::api::report_ui_error(&text);
        show_panic_screen(&text);
    }));
}

/// Drawn with plain DOM calls: the reactive system cannot be trusted now.
fn show_panic_screen(text: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(body) = doc.body() else {
        return;
    };
    if doc.get_element_by_id("ui-panic").is_some() {
        return;
    }
    let Ok(overlay) = doc.create_element("div") else {
        return;
    };
    overlay.set_id("ui-panic");
    let _ = overlay.set_attribute("class", "panic-overlay");
    let _ = overlay.set_attribute("role", "alertdialog");
    let _ = overlay.set_attribute("aria-modal", "true");
    let _ = overlay.set_attribute("data-testid", "ui-panic");
    let build = || -> Option<()> {
        let card = doc.create_element("div").ok()?;
        let _ = card.set_attribute("class", "card");
        let h = doc.create_element("h2").ok()?;
        h.set_text_content(Some(&tr!("panic-title")));
        let p = doc.create_element("p").ok()?;
        p.set_text_content(Some(&tr!("panic-text")));
        let detail = doc.create_element("pre").ok()?;
        let _ = detail.set_attribute("class", "muted small");
        detail.set_text_content(Some(text));
        let button = doc.create_element("button").ok()?;
        let _ = button.set_attribute("class", "big-btn primary");
        let _ = button.set_attribute("data-testid", "ui-panic-reload");
        button.set_text_content(Some(&tr!("panic-reload")));
        let reload = Closure::<dyn FnMut()>::new(|| {
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        });
        let _ = button.add_event_listener_with_callback("click", reload.as_ref().unchecked_ref());
        reload.forget();
        card.append_child(&h).ok()?;
        card.append_child(&p).ok()?;
        card.append_child(&detail).ok()?;
        card.append_child(&button).ok()?;
        overlay.append_child(&card).ok()?;
        body.append_child(&overlay).ok()?;
        if let Ok(b) = button.dyn_into::<web_sys::HtmlElement>() {
            let _ = b.focus();
        }
        Some(())
    };
    let _ = build();
}

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// A value kept for this window's session (it survives a reload).
pub fn remember(key: &str, value: &str) {
    if let Some(s) = session() {
        let _ = s.set_item(key, value);
    }
}

pub fn recall(key: &str) -> Option<String> {
    session()?.get_item(key).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::is_browser_accelerator as acc;

    #[test]
    fn reload_navigation_and_zoom_keys_are_cancelled() {
        assert!(acc("F5", false, false, false, false));
        assert!(acc("F5", false, false, false, true));
        assert!(acc("r", true, false, false, false));
        assert!(acc("R", true, false, true, false));
        assert!(acc("p", true, false, false, true));
        assert!(acc("+", true, false, false, false));
        assert!(acc("0", true, false, false, false));
        assert!(acc("ArrowLeft", false, true, false, false));
        assert!(acc("Backspace", false, false, false, false));
    }

    #[test]
    fn keys_the_till_uses_pass() {
        assert!(!acc("Backspace", false, false, false, true));
        assert!(!acc("F9", false, false, false, false));
        assert!(!acc("F2", false, false, false, false));
        assert!(!acc("3", false, true, false, false));
        assert!(!acc("Enter", false, false, false, true));
        assert!(!acc("a", false, false, false, true));
        assert!(!acc("ArrowLeft", false, false, false, true));
        assert!(!acc("c", true, false, false, true));
        assert!(!acc("v", true, false, false, true));
    }
}
