//! The PIN pad: big keys for touch (0–9, clear, backspace, enter) over a
//! masked field that takes the keyboard's digits, Backspace and Enter.
//! Keys go to the field only (no window listener), so typing while the
//! pad is not on screen does nothing here.

use leptos::prelude::*;

use crate::util::value;

/// Longest PIN (the core takes 4 to 8 digits).
const MAX_DIGITS: usize = 8;

fn digits_only(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_digit)
        .take(MAX_DIGITS)
        .collect()
}

#[component]
pub fn PinPad(
    /// The digits typed so far.
    pin: RwSignal<String>,
    /// Enter (the key or the button).
    on_enter: Callback<()>,
    /// The field's accessible name.
    label: String,
    /// `data-testid` prefix: `{testid}-input`, `{testid}-key-5`, …
    testid: &'static str,
    #[prop(optional)] busy: Option<RwSignal<bool>>,
) -> impl IntoView {
    let field = NodeRef::<leptos::html::Input>::new();
    let refocus = move || {
        if let Some(el) = field.get_untracked() {
            let _ = el.focus();
        }
    };
    // The pad takes the keys as soon as it shows: a keyboard-only cashier
    // (or a hardware keypad) types the PIN without first tabbing to it.
    request_animation_frame(refocus);
    let busy = busy.unwrap_or_else(|| RwSignal::new(false));
    let press = move |d: char| {
        pin.update(|p| {
            if p.len() < MAX_DIGITS {
                p.push(d);
            }
        });
        refocus();
    };
    let key = move |d: char| {
        view! {
            <button type="button" class="pin-key" data-testid=format!("{testid}-key-{d}")
                on:click=move |_| press(d)>{d.to_string()}</button>
        }
    };
    view! {
        <div class="pin-pad" data-testid=testid>
            <input node_ref=field type="password" inputmode="numeric" autocomplete="off"
                class="pin-field" maxlength=MAX_DIGITS.to_string() aria-label=label.clone()
                data-testid=format!("{testid}-input") data-initial-focus="true"
                prop:value=move || pin.get()
                on:input=move |ev| {
                    let clean = digits_only(&value(&ev));
                    // A letter typed is taken out of the field at once.
                    if let Some(el) = field.get_untracked() {
                        el.set_value(&clean);
                    }
                    pin.set(clean);
                }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" {
                        ev.prevent_default();
                        if !busy.get_untracked() {
                            on_enter.run(());
                        }
                    }
                } />
            <div class="pin-keys">
                {['1', '2', '3', '4', '5', '6', '7', '8', '9'].into_iter().map(key).collect_view()}
                <button type="button" class="pin-key" data-testid=format!("{testid}-clear")
                    aria-label=tr!("pin-clear") on:click=move |_| { pin.set(String::new()); refocus(); }>"C"</button>
                {key('0')}
                <button type="button" class="pin-key" data-testid=format!("{testid}-back")
                    aria-label=tr!("pin-backspace") on:click=move |_| { pin.update(|p| { p.pop(); }); refocus(); }>"⌫"</button>
            </div>
            <button type="button" class="big-btn primary pin-enter" data-testid=format!("{testid}-enter")
                disabled=move || busy.get() || pin.get().len() < 4
                on:click=move |_| on_enter.run(())>{tr!("pin-enter")}</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::digits_only;

    #[test]
    fn the_field_keeps_at_most_eight_digits_and_nothing_else() {
        assert_eq!(digits_only("12a3 4"), "1234");
        assert_eq!(digits_only("1234567890"), "12345678");
        assert_eq!(digits_only(""), "");
    }
}
