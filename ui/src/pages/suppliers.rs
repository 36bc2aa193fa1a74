//! Suppliers: the vendor list.

use leptos::prelude::*;
use shopsync_types::Supplier;
use shopsync_types::ipc::{EditSupplierInput, SupplierInput};

use crate::api;
use crate::app::Ctx;
use crate::util::{spawn, value};

#[component]
pub fn SuppliersPage(ctx: Ctx) -> impl IntoView {
    let list = RwSignal::new(Vec::<Supplier>::new());
    let editing = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    // A till-role device cannot edit the catalog (the vendor list is in it).
    let read_only = RwSignal::new(false);
    let load = move || {
        spawn(async move {
            match api::suppliers().await {
                Ok(l) => list.set(l),
                Err(e) => ctx.error(&e),
            }
            if let Ok(st) = api::sync_status().await {
                read_only.set(st.catalog_read_only);
            }
        })
    };
    Effect::new(move |_| {
        ctx.data_version.track();
        load();
    });
    let reset = move || {
        editing.set(None);
        for s in [name, phone, email, notes] {
            s.set(String::new());
        }
    };
    let save = move || {
        let opt = |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
        let input = SupplierInput {
            name: name.get_untracked(),
            phone: opt(phone),
            email: opt(email),
            notes: opt(notes),
        };
        let id = editing.get_untracked();
        spawn(async move {
            let r = match id {
                Some(id) => {
                    api::edit_supplier(&EditSupplierInput {
                        id,
                        supplier: input,
                    })
                    .await
                }
                None => api::add_supplier(&input).await,
            };
            match r {
                Ok(s) => {
                    ctx.info(tr!("suppliers-saved", name = s.name.clone()));
                    reset();
                    load();
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let input = move |label: String, testid: &'static str, sig: RwSignal<String>| {
        view! {
            <label>{label}<input type="text" data-testid=testid prop:value=move || sig.get() on:input=move |ev| sig.set(value(&ev)) /></label>
        }
    };
    view! {
        <div class="page" data-testid="page-suppliers">
            <div class="split">
                <div class="grow scroll">
                    <table class="list" data-testid="suppliers-table">
                        <thead><tr><th>{tr!("suppliers-name")}</th><th>{tr!("suppliers-phone")}</th><th>{tr!("suppliers-email")}</th><th>{tr!("suppliers-notes")}</th></tr></thead>
                        <tbody>
                        {move || list.get().into_iter().enumerate().map(|(i, s)| {
                            let s2 = s.clone();
                            view! {
                                <tr class="clickable" data-testid=format!("supplier-row-{i}") on:click=move |_| {
                                    editing.set(Some(s2.id.clone()));
                                    name.set(s2.name.clone());
                                    phone.set(s2.phone.clone().unwrap_or_default());
                                    email.set(s2.email.clone().unwrap_or_default());
                                    notes.set(s2.notes.clone().unwrap_or_default());
                                }>
                                    <td>{s.name.clone()}</td><td>{s.phone.clone()}</td><td>{s.email.clone()}</td><td class="small">{s.notes.clone()}</td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <form class="card side" on:submit=move |ev| { ev.prevent_default(); save(); }>
                    <h2>{move || if editing.get().is_some() { tr!("suppliers-edit") } else { tr!("suppliers-new") }}</h2>
                    {input(tr!("suppliers-name"), "supplier-name", name)}
                    {input(tr!("suppliers-phone"), "supplier-phone", phone)}
                    {input(tr!("suppliers-email"), "supplier-email", email)}
                    {input(tr!("suppliers-notes"), "supplier-notes", notes)}
                    <div class="pay-row end">
                        <button class="btn" type="button" on:click=move |_| reset()>{tr!("suppliers-clear")}</button>
                        <button class="btn primary" type="submit" data-testid="supplier-save" disabled=move || read_only.get()>{tr!("suppliers-save")}</button>
                    </div>
                    {move || read_only.get().then(|| view! { <p class="muted small" data-testid="suppliers-read-only">{tr!("suppliers-read-only")}</p> })}
                </form>
            </div>
        </div>
    }
}
