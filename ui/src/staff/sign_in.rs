//! The sign-in screen: the whole window while staff exist and nobody is
//! signed in (at start, after Lock, after the idle time). The sale in
//! progress stays where it was (the Sell screen keeps its cart), and the
//! next person signed in carries on with it.

use leptos::prelude::*;

use crate::api;
use crate::app::Ctx;
use crate::guard;
use crate::staff::pin_pad::PinPad;
use crate::util::{describe, spawn};

/// Lines of the cart the Sell screen keeps (0 when empty).
fn cart_lines() -> usize {
    guard::recall(guard::CART_KEY)
        .and_then(|json| serde_json::from_str::<Vec<serde_json::Value>>(&json).ok())
        .map_or(0, |lines| lines.len())
}

#[component]
pub fn SignInScreen(ctx: Ctx) -> impl IntoView {
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let kept = cart_lines();
    // Locked while an approval was asked: that operation is not done.
    crate::staff::approval::cancel();
    let submit = Callback::new(move |()| {
        let typed = pin.get_untracked();
        if typed.len() < 4 || busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn(async move {
            match api::sign_in(&typed).await {
                Ok(session) => {
                    ctx.clear();
                    crate::staff::idle::reset();
                    ctx.staff.set(Some(session));
                }
                Err(e) => {
                    let _ = error.try_set(Some(describe(&e)));
                    let _ = pin.try_set(String::new());
                }
            }
            let _ = busy.try_set(false);
        });
    });
    view! {
        <div class="sign-in" data-testid="sign-in" role="main" aria-labelledby="sign-in-title">
            <div class="card sign-in-card">
                <h1 id="sign-in-title">{tr!("sign-in-title")}</h1>
                <p class="muted">{tr!("sign-in-hint")}</p>
                <PinPad pin=pin on_enter=submit label=tr!("sign-in-pin") testid="sign-in-pad" busy=busy />
                {move || error.get().map(|e| view! {
                    <p class="error" role="alert" data-testid="sign-in-error">{e}</p>
                })}
                {(kept > 0).then(|| view! {
                    <p class="muted small" data-testid="sign-in-cart-kept">{tr!("sign-in-cart-kept", lines = kept)}</p>
                })}
            </div>
        </div>
    }
}
