//! Account: sign up, or link this device with a code made on another of
//! your devices; once in, make a code for your next device.

use leptos::prelude::*;
use shopsync_core::customer;

use crate::net;
use crate::route::{self, Route};
use crate::session::{self, Account, Ctx};
use crate::sync;

#[component]
pub fn AccountPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <Show when=move || ctx.account.get().is_some() fallback=move || view! { <Join /> }>
            <Signed />
        </Show>
    }
}

#[component]
fn Join() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let finish = move |token: shopsync_core::sync::customer_api::CustomerDeviceToken,
                       name: Option<String>| async move {
        let account = Account {
            customer_id: token.customer_id,
            device_id: token.device_id,
            token: token.token,
            name: name.clone(),
        };
        session::adopt(ctx, account).await?;
        if let Some(n) = name {
            let e = email.get_untracked();
            let e = Some(e.trim().to_string()).filter(|e| !e.is_empty());
            session::edit(ctx, |d, now| {
                d.edit_own(now, |doc| {
                    customer::set_name(doc, &n)?;
                    customer::set_email(doc, e.as_deref())
                })
            });
        }
        sync::start(ctx);
        route::go(&Route::Lists);
        Ok::<(), String>(())
    };
    let signup = move || {
        let n = name.get_untracked();
        let e = email.get_untracked();
        // Checked here first, with the same rules the document uses.
        let mut scratch = automerge::AutoCommit::new();
        if let Err(err) = customer::set_name(&mut scratch, &n).and_then(|_| {
            customer::set_email(&mut scratch, Some(e.trim()).filter(|e| !e.is_empty()))
        }) {
            ctx.message.set(Some(err.to_string()));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let email = Some(e.trim().to_string()).filter(|e| !e.is_empty());
            let r = match net::signup(&n, email.as_deref()).await {
                Ok(t) => finish(t, Some(n.trim().to_string())).await,
                Err(e) => Err(format!("Signing up: {e}")),
            };
            busy.set(false);
            if let Err(e) = r {
                ctx.message.set(Some(e));
            }
        });
    };
    let link = move || {
        let c = code.get_untracked();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = match net::link(&c).await {
                Ok(t) => finish(t, None).await,
                Err(e) => Err(format!("Linking: {e}")),
            };
            busy.set(false);
            if let Err(e) = r {
                ctx.message.set(Some(e));
            }
        });
    };
    view! {
        <h2>"Sign up"</h2>
        <form class="card stack" data-testid="signup-form" on:submit=move |ev| { ev.prevent_default(); signup(); }>
            <label for="signup-name">"Your name (shops see it on your orders)"</label>
            <input id="signup-name" type="text" autocomplete="name" maxlength="100" required data-testid="signup-name"
                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            <label for="signup-email">"E-mail (optional)"</label>
            <input id="signup-email" type="email" autocomplete="email" maxlength="254" data-testid="signup-email"
                prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
            <button class="btn primary wide" type="submit" data-testid="signup-submit" disabled=move || busy.get()>"Sign up"</button>
        </form>
        <h2>"Link this device"</h2>
        <form class="card stack" data-testid="link-form" on:submit=move |ev| { ev.prevent_default(); link(); }>
            <label for="link-code">"The code shown on your other device (Account → Link another device)"</label>
            <input id="link-code" type="text" autocomplete="one-time-code" placeholder="XXXX-XXXX-XXXX" maxlength="20" data-testid="link-code"
                prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev)) />
            <button class="btn primary wide" type="submit" data-testid="link-submit" disabled=move || busy.get()>"Link"</button>
        </form>
        <p class="muted small">"Lists made on this device before you sign up or link join your account."</p>
    }
}

#[component]
fn Signed() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let code = RwSignal::new(None::<String>);
    let make_code = move |_| {
        let Some(token) = ctx.token() else { return };
        leptos::task::spawn_local(async move {
            match net::link_code(&token).await {
                Ok(c) => code.set(Some(c.code)),
                Err(e) => ctx.message.set(Some(format!("Making a code: {e}"))),
            }
        });
    };
    let name = move || {
        ctx.rev.get();
        session::read(|d| d.view().ok().and_then(|v| v.profile.name))
            .flatten()
            .or_else(|| ctx.account.get().and_then(|a| a.name))
            .unwrap_or_default()
    };
    let revoked = move || ctx.sync.get().state == crate::session::SyncState::Revoked;
    let forget = move |_| {
        leptos::task::spawn_local(async move {
            if let Err(e) = session::forget_account(ctx).await {
                ctx.message.set(Some(e));
            }
        });
    };
    view! {
        <h2>"Account"</h2>
        <Show when=revoked>
            <div class="card stack" role="alert" data-testid="revoked">
                <p>"This device was removed from your account, so it no longer syncs. Your lists are still here."</p>
                <button class="btn primary" data-testid="forget-account" on:click=forget>"Forget the account here, then sign up or link again"</button>
            </div>
        </Show>
        <div class="card stack">
            <p>"Signed in as " <strong data-testid="account-name">{name}</strong></p>
            <p class="muted small" data-testid="account-id">{move || ctx.account.get().map(|a| format!("customer {}", a.customer_id)).unwrap_or_default()}</p>
        </div>
        <h2>"Link another device"</h2>
        <div class="card stack">
            <p>"Open this app on your other device, choose Link this device, and type this code within 10 minutes."</p>
            <button class="btn primary" data-testid="link-code-make" on:click=make_code>"Make a code"</button>
            {move || code.get().map(|c| view! { <p class="code" data-testid="link-code-shown" aria-live="polite">{c}</p> })}
        </div>
    }
}
