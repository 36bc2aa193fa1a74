//! First launch: create a store, join one from a bundle file, or open a
//! demo store in one click.

use leptos::prelude::*;
use shopsync_types::ipc::{EnrolInput, JoinInput, NewStoreInput};

use crate::api;
use crate::app::Ctx;
use crate::util::{file_name, picker_text, spawn, value};

#[component]
pub fn FirstLaunch(ctx: Ctx, db_path: RwSignal<String>) -> impl IntoView {
    let store_name = RwSignal::new(String::new());
    let till_name = RwSignal::new(tr!("setup-default-till"));
    let currency = RwSignal::new("EUR".to_string());
    let join_till = RwSignal::new(tr!("setup-default-join-till"));
    let busy = RwSignal::new(false);
    let server = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());

    let create = move || {
        let req = NewStoreInput {
            store_name: store_name.get_untracked(),
            till_name: till_name.get_untracked(),
            currency: currency.get_untracked(),
        };
        busy.set(true);
        spawn(async move {
            match api::create_store(&req).await {
                Ok(info) => {
                    ctx.info(tr!("setup-created", store = info.store_name.clone()));
                    ctx.set_info(Some(info));
                }
                Err(e) => ctx.error(&e),
            }
            busy.set(false);
        });
    };
    let join = move || {
        let req = JoinInput {
            till_name: join_till.get_untracked(),
            picker: picker_text(tr!("picker-join-bundle"), tr!("picker-bundles")),
        };
        busy.set(true);
        spawn(async move {
            match api::join_store(&req).await {
                Ok(Some(p)) => {
                    let info = p.result;
                    ctx.info(tr!(
                        "setup-joined",
                        store = info.store_name.clone(),
                        till = info.till_name.clone(),
                        file = file_name(&p.path).to_string()
                    ));
                    ctx.set_info(Some(info));
                }
                // Cancelled: the screen stays as it was.
                Ok(None) => {}
                Err(e) => ctx.error(&e),
            }
            busy.set(false);
        });
    };
    let enrol = move || {
        let req = EnrolInput {
            server: server.get_untracked(),
            code: code.get_untracked(),
            till_name: join_till.get_untracked(),
        };
        busy.set(true);
        spawn(async move {
            match api::enrol(&req).await {
                Ok(info) => {
                    ctx.info(tr!(
                        "setup-joined-server",
                        store = info.store_name.clone(),
                        server = req.server.clone()
                    ));
                    ctx.progress.set(None);
                    ctx.set_info(Some(info));
                }
                Err(e) => ctx.error(&e),
            }
            busy.set(false);
        });
    };
    let demo = move || {
        busy.set(true);
        ctx.info(tr!("setup-demo-creating"));
        spawn(async move {
            match api::create_demo_store().await {
                Ok(_) => match api::app_status().await {
                    Ok(s) => {
                        ctx.clear();
                        ctx.progress.set(None);
                        ctx.set_info(s.store);
                    }
                    Err(e) => ctx.error(&e),
                },
                Err(e) => ctx.error(&e),
            }
            busy.set(false);
        });
    };

    view! {
        <div class="first-launch" data-testid="page-first-launch">
            <h1>{tr!("setup-welcome")}</h1>
            <p class="muted">{tr!("setup-disk")} " " <code>{move || db_path.get()}</code> "."</p>
            <div class="cards">
                <form class="card" on:submit=move |ev| { ev.prevent_default(); create(); }>
                    <h2>{tr!("setup-new-store")}</h2>
                    <label>{tr!("setup-store-name")}<input type="text" data-testid="setup-store-name" prop:value=move || store_name.get() on:input=move |ev| store_name.set(value(&ev)) /></label>
                    <label>{tr!("setup-till-name")}<input type="text" data-testid="setup-till-name" prop:value=move || till_name.get() on:input=move |ev| till_name.set(value(&ev)) /></label>
                    <label>{tr!("setup-currency")}<input type="text" maxlength="3" data-testid="setup-currency" prop:value=move || currency.get() on:input=move |ev| currency.set(value(&ev)) /></label>
                    <button class="big-btn primary" type="submit" data-testid="setup-create" disabled=move || busy.get()>{tr!("setup-create")}</button>
                </form>
                <form class="card" on:submit=move |ev| { ev.prevent_default(); join(); }>
                    <h2>{tr!("setup-join-bundle")}</h2>
                    <p class="muted small">{tr!("setup-bundle-hint")}</p>
                    <label>{tr!("setup-this-till")}<input type="text" data-testid="setup-join-till" prop:value=move || join_till.get() on:input=move |ev| join_till.set(value(&ev)) /></label>
                    <button class="big-btn" type="submit" data-testid="setup-join" disabled=move || busy.get()>{tr!("setup-join")}</button>
                    <h2 class="mt">{tr!("setup-or-server")}</h2>
                    <label>{tr!("setup-server-url")}<input type="text" placeholder=tr!("setup-server-placeholder") data-testid="setup-server" prop:value=move || server.get() on:input=move |ev| server.set(value(&ev)) /></label>
                    <label>{tr!("setup-code")}<input type="text" data-testid="setup-code" prop:value=move || code.get() on:input=move |ev| code.set(value(&ev)) /></label>
                    <button class="big-btn" type="button" data-testid="setup-enrol" disabled=move || busy.get() on:click=move |_| enrol()>{tr!("setup-enrol")}</button>
                </form>
                <div class="card">
                    <h2>{tr!("setup-try")}</h2>
                    <p class="muted small">{tr!("setup-demo-hint")}</p>
                    <button class="big-btn" data-testid="setup-demo" disabled=move || busy.get() on:click=move |_| demo()>{tr!("setup-demo")}</button>
                </div>
            </div>
        </div>
    }
}
