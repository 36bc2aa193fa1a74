//! Settings → Staff: the list, and for a manager on a device that may
//! write the catalog: add (PIN typed twice), change role, new PIN,
//! deactivate. Elsewhere it says who edits staff, and where.

use leptos::prelude::*;
use shopsync_types::ipc::{NewStaffInput, StaffPinInput, StaffRoleInput, StaffView};

use crate::api;
use crate::app::Ctx;
use crate::staff::{is_manager, role_label};
use crate::util::{spawn, value};

const ROLES: [&str; 3] = ["cashier", "supervisor", "manager"];

fn role_options(selected: String) -> impl IntoView {
    ROLES
        .into_iter()
        .map(move |r| {
            view! { <option value=r selected=selected == r>{role_label(r)}</option> }
        })
        .collect_view()
}

#[component]
pub fn StaffCard(ctx: Ctx) -> impl IntoView {
    let list = RwSignal::new(Vec::<StaffView>::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new("cashier".to_string());
    let pin = RwSignal::new(String::new());
    let pin_again = RwSignal::new(String::new());
    // The member whose new PIN is being typed.
    let resetting = RwSignal::new(None::<String>);
    let load = move || {
        spawn(async move {
            match api::staff_list().await {
                Ok(l) => {
                    let _ = list.try_set(l);
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    Effect::new(move |_| {
        ctx.data_version.track();
        load();
    });
    let session = move || ctx.staff.get();
    let writable = move || session().is_none_or(|s| s.catalog_writable);
    let may_edit = move || writable() && is_manager(&session());
    let done = move |text: String| {
        ctx.info(text);
        pin.set(String::new());
        pin_again.set(String::new());
        resetting.set(None);
        load();
        ctx.refresh_staff();
    };
    let add = move || {
        let req = NewStaffInput {
            name: name.get_untracked(),
            role: role.get_untracked(),
            pin: pin.get_untracked(),
            pin_again: pin_again.get_untracked(),
        };
        spawn(async move {
            match api::add_staff(&req).await {
                Ok(m) => {
                    name.set(String::new());
                    done(tr!("staff-added", name = m.name));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let set_role = move |id: String, new_role: String| {
        spawn(async move {
            match api::set_staff_role(&StaffRoleInput { id, role: new_role }).await {
                Ok(m) => done(tr!(
                    "staff-role-changed",
                    name = m.name,
                    role = role_label(&m.role)
                )),
                Err(e) => {
                    ctx.error(&e);
                    load();
                }
            }
        });
    };
    let set_pin = move |id: String| {
        let req = StaffPinInput {
            id,
            pin: pin.get_untracked(),
            pin_again: pin_again.get_untracked(),
        };
        spawn(async move {
            match api::set_staff_pin(&req).await {
                Ok(m) => done(tr!("staff-pin-changed", name = m.name)),
                Err(e) => ctx.error(&e),
            }
        });
    };
    let deactivate = move |id: String| {
        spawn(async move {
            match api::deactivate_staff(&id).await {
                Ok(m) => done(tr!("staff-deactivated", name = m.name)),
                Err(e) => ctx.error(&e),
            }
        });
    };
    let pin_field = |label: String, testid: &'static str, sig: RwSignal<String>| {
        view! {
            <label>{label}<input type="password" inputmode="numeric" autocomplete="new-password" data-testid=testid
                prop:value=move || sig.get() on:input=move |ev| sig.set(value(&ev)) /></label>
        }
    };
    view! {
        <div class="card" data-testid="staff-card">
            <h2>{tr!("staff-title")}</h2>
            {move || (!writable()).then(|| view! {
                <p class="muted small" data-testid="staff-till-device">{tr!("staff-till-device")}</p>
            })}
            {move || (writable() && !is_manager(&session())).then(|| view! {
                <p class="muted small" data-testid="staff-managers-only">{tr!("staff-managers-only")}</p>
            })}
            <table class="list" data-testid="staff-table">
                <thead><tr><th>{tr!("staff-name")}</th><th>{tr!("staff-role")}</th><th>{tr!("staff-state")}</th><th></th></tr></thead>
                <tbody>
                {move || list.get().into_iter().map(|m| {
                    let id_role = m.id.clone();
                    let id_pin = m.id.clone();
                    let id_off = m.id.clone();
                    let id_show = m.id.clone();
                    let current = m.role.clone();
                    view! {
                        <tr data-testid="staff-row" data-name=m.name.clone() data-active=m.active.to_string()>
                            <td>{m.name.clone()}</td>
                            <td>
                                <select aria-label=tr!("staff-role") data-testid="staff-row-role" disabled=move || !may_edit() || !m.active
                                    on:change=move |ev| set_role(id_role.clone(), value(&ev))>
                                    {role_options(current.clone())}
                                </select>
                            </td>
                            <td>{if m.active { tr!("staff-active") } else { tr!("staff-inactive") }}</td>
                            <td>
                                {(m.active).then(|| view! {
                                    <button class="btn" data-testid="staff-row-pin" disabled=move || !may_edit()
                                        on:click=move |_| resetting.set(Some(id_pin.clone()))>{tr!("staff-reset-pin")}</button>
                                    <button class="btn danger" data-testid="staff-row-deactivate" disabled=move || !may_edit()
                                        on:click=move |_| deactivate(id_off.clone())>{tr!("staff-deactivate")}</button>
                                })}
                                {move || (resetting.get().as_deref() == Some(id_show.as_str())).then(|| {
                                    let id = id_show.clone();
                                    view! {
                                        <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); set_pin(id.clone()); }>
                                            {pin_field(tr!("staff-pin"), "staff-new-pin", pin)}
                                            {pin_field(tr!("staff-pin-again"), "staff-new-pin-again", pin_again)}
                                            <button class="btn primary" type="submit" data-testid="staff-new-pin-save">{tr!("staff-save-pin")}</button>
                                        </form>
                                    }
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
                </tbody>
            </table>
            {move || list.with(Vec::is_empty).then(|| view! { <p class="muted small">{tr!("staff-none")}</p> })}
            {move || may_edit().then(|| view! {
                <form on:submit=move |ev| { ev.prevent_default(); add(); }>
                    <h3>{tr!("staff-add-title")}</h3>
                    <label>{tr!("staff-name")}<input type="text" data-testid="staff-add-name" prop:value=move || name.get() on:input=move |ev| name.set(value(&ev)) /></label>
                    <label>{tr!("staff-role")}
                        <select data-testid="staff-add-role" on:change=move |ev| role.set(value(&ev))>
                            {role_options(role.get_untracked())}
                        </select>
                    </label>
                    {move || resetting.get().is_none().then(|| view! {
                        {pin_field(tr!("staff-pin"), "staff-add-pin", pin)}
                        {pin_field(tr!("staff-pin-again"), "staff-add-pin-again", pin_again)}
                    })}
                    <button class="btn primary" type="submit" data-testid="staff-add">{tr!("staff-add")}</button>
                </form>
            })}
        </div>
    }
}
