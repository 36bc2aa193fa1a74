//! Settings: store and till names, receipt header, footer and paper, this
//! till's receipt printer (`printer.rs`), tax classes, the till's language, a bundle for a new till, maintenance
//! (rebuild the local projections), and About (`about.rs`).

mod about;
mod printer;
mod staff;

use leptos::prelude::*;
use shopsync_types::ipc::{EnrolInput, SettingsInput, TaxClassInput};
use shopsync_types::zone::StoreZone;
use shopsync_types::{Locale, TaxClass};

use crate::api;
use crate::app::Ctx;
use crate::util::{picker_text, spawn, value};

#[component]
pub fn SettingsPage(ctx: Ctx, db_path: RwSignal<String>) -> impl IntoView {
    let store_name = RwSignal::new(String::new());
    let till_name = RwSignal::new(String::new());
    let currency = RwSignal::new(String::new());
    let header = RwSignal::new(String::new());
    let footer = RwSignal::new(String::new());
    let publish = RwSignal::new(false);
    let publish_detail = RwSignal::new("band".to_string());
    let paper = RwSignal::new("80mm".to_string());
    let zone = RwSignal::new(String::new());
    let lock_after = RwSignal::new(String::new());
    let exporting = RwSignal::new(false);
    let taxes = RwSignal::new(Vec::<TaxClass>::new());
    let tax_id = RwSignal::new(String::new());
    let tax_name = RwSignal::new(String::new());
    let tax_rate = RwSignal::new(String::new());
    let tax_incl = RwSignal::new(true);
    let server = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    // A till-role device cannot edit the catalog (store settings and tax
    // classes are in it).
    let read_only = RwSignal::new(false);
    let load = move || {
        spawn(async move {
            if let Ok(st) = api::sync_status().await {
                read_only.set(st.catalog_read_only);
            }
            match api::settings().await {
                Ok(s) => {
                    store_name.set(s.store_name);
                    till_name.set(s.till_name);
                    currency.set(s.currency);
                    header.set(s.receipt_header);
                    footer.set(s.receipt_footer);
                    publish.set(s.publish);
                    publish_detail.set(s.publish_detail);
                    paper.set(s.receipt_paper);
                    zone.set(s.time_zone);
                    lock_after.set(s.lock_after_minutes.to_string());
                }
                Err(e) => ctx.error(&e),
            }
            if let Ok(t) = api::tax_classes().await {
                taxes.set(t);
            }
        })
    };
    Effect::new(move |_| {
        ctx.data_version.track();
        load();
    });
    let save = move || {
        let req = SettingsInput {
            store_name: store_name.get_untracked(),
            till_name: till_name.get_untracked(),
            receipt_header: header.get_untracked(),
            receipt_footer: footer.get_untracked(),
            publish: publish.get_untracked(),
            publish_detail: publish_detail.get_untracked(),
            receipt_paper: paper.get_untracked(),
            time_zone: Some(zone.get_untracked()),
            lock_after_minutes: Some(lock_after.get_untracked()),
        };
        spawn(async move {
            match api::save_settings(&req).await {
                Ok(()) => {
                    ctx.refresh_staff();
                    // The store's new info (its time zone) first: a screen
                    // opened right after the message already follows it.
                    if let Ok(s) = api::app_status().await {
                        ctx.set_info(s.store);
                    }
                    ctx.info(tr!("settings-saved"));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let save_tax = move || {
        let req = TaxClassInput {
            id: tax_id.get_untracked(),
            name: tax_name.get_untracked(),
            // Typed in the language's way ("7,5"), sent as the core reads it
            // ("7.50"); text that is no number goes as typed, for the core's
            // own error.
            rate: {
                let typed = tax_rate.get_untracked();
                crate::util::parse_money(&typed, 2)
                    .map(|bp| crate::util::minor_text(bp, 2))
                    .unwrap_or(typed)
            },
            inclusive: tax_incl.get_untracked(),
        };
        spawn(async move {
            match api::set_tax_class(&req).await {
                Ok(t) => {
                    ctx.info(tr!("settings-tax-saved", id = t.id.clone()));
                    for s in [tax_id, tax_name, tax_rate] {
                        s.set(String::new());
                    }
                    load();
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let export_bundle = move || {
        exporting.set(true);
        let picker = picker_text(tr!("picker-export-bundle"), tr!("picker-bundles"));
        spawn(async move {
            match api::export_bundle(&picker).await {
                Ok(Some(p)) => ctx.info(tr!(
                    "settings-bundle-written",
                    path = p.path,
                    bytes = p.result
                )),
                // Cancelled: nothing written, nothing to say.
                Ok(None) => {}
                Err(e) => ctx.error(&e),
            }
            // The screen may be gone by now (the picker waits for the person).
            let _ = exporting.try_set(false);
        });
    };
    let rebuild = move || {
        spawn(async move {
            match api::rebuild().await {
                Ok(()) => ctx.info(tr!("settings-rebuilt")),
                Err(e) => ctx.error(&e),
            }
        });
    };
    let enrol = move || {
        let req = EnrolInput {
            server: server.get_untracked(),
            code: code.get_untracked(),
            till_name: till_name.get_untracked(),
        };
        spawn(async move {
            match api::enrol(&req).await {
                Ok(info) => {
                    ctx.info(tr!(
                        "settings-connected",
                        store = info.store_name.clone(),
                        server = req.server.clone()
                    ));
                    code.set(String::new());
                    ctx.set_info(Some(info));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let text = move |label: String, testid: &'static str, sig: RwSignal<String>| {
        view! {
            <label>{label}<input type="text" data-testid=testid prop:value=move || sig.get() on:input=move |ev| sig.set(value(&ev)) /></label>
        }
    };
    view! {
        <div class="page" data-testid="page-settings">
            <div class="split">
                <form class="card" on:submit=move |ev| { ev.prevent_default(); save(); }>
                    <h2>{tr!("settings-store")}</h2>
                    {text(tr!("settings-store-name"), "settings-store-name", store_name)}
                    {text(tr!("settings-till-name"), "settings-till-name", till_name)}
                    <p class="muted small">{tr!("settings-currency")} " " {move || currency.get()} " · " {tr!("settings-store-file")} " " <code>{move || db_path.get()}</code></p>
                    <label>{tr!("settings-header")}<textarea data-testid="settings-header" prop:value=move || header.get() on:input=move |ev| header.set(value(&ev))></textarea></label>
                    <label>{tr!("settings-footer")}<textarea data-testid="settings-footer" prop:value=move || footer.get() on:input=move |ev| footer.set(value(&ev))></textarea></label>
                    <label>{tr!("settings-receipt-paper")}
                        <select data-testid="settings-receipt-paper" prop:value=move || paper.get() on:change=move |ev| paper.set(value(&ev))>
                            <option value="58mm" data-testid="settings-receipt-paper-58mm" selected=move || paper.get() == "58mm">{tr!("settings-paper-58mm")}</option>
                            <option value="80mm" data-testid="settings-receipt-paper-80mm" selected=move || paper.get() == "80mm">{tr!("settings-paper-80mm")}</option>
                            <option value="a4" data-testid="settings-receipt-paper-a4" selected=move || paper.get() == "a4">{tr!("settings-paper-a4")}</option>
                        </select>
                    </label>
                    <label>{tr!("settings-time-zone")}
                        <select data-testid="settings-time-zone" prop:value=move || zone.get() on:change=move |ev| zone.set(value(&ev))>
                            <option value="" selected=move || zone.get().is_empty()>{tr!("settings-time-zone-machine")}</option>
                            {StoreZone::pickable_names().map(|n| {
                                let label = StoreZone::parse(n).map_or_else(|_| n.to_string(), |z| format!("{n} ({})", z.offset_text(chrono::Utc::now())));
                                view! {
                                    <option value=n data-testid=format!("settings-time-zone-{n}") selected=move || zone.get() == n>{label}</option>
                                }
                            }).collect_view()}
                        </select>
                    </label>
                    <p class="muted small">{tr!("settings-time-zone-hint")}</p>
                    {move || {
                        let z = zone.get();
                        StoreZone::parse(&z).is_err().then(|| view! {
                            <p class="error small" data-testid="settings-time-zone-unknown">{tr!("settings-time-zone-unknown", zone = z)}</p>
                        })
                    }}
                    <label>{tr!("settings-lock-after")}
                        <input type="number" min="0" max="1440" step="1" data-testid="settings-lock-after"
                            disabled=move || !crate::staff::is_manager(&ctx.staff.get())
                            prop:value=move || lock_after.get() on:input=move |ev| lock_after.set(value(&ev)) />
                    </label>
                    <p class="muted small">{tr!("settings-lock-after-hint")}</p>
                    <h3>{tr!("settings-customers")}</h3>
                    <label class="inline"><input type="checkbox" data-testid="settings-publish" prop:checked=move || publish.get()
                        on:change=move |ev| publish.set(event_target_checked(&ev)) />{tr!("settings-publish")}</label>
                    <label>{tr!("settings-show-customers")}
                        <select data-testid="settings-publish-detail" prop:value=move || publish_detail.get() on:change=move |ev| publish_detail.set(value(&ev))>
                            <option value="band" data-testid="settings-publish-detail-band" selected=move || publish_detail.get() == "band">{tr!("settings-detail-band")}</option>
                            <option value="count" data-testid="settings-publish-detail-count" selected=move || publish_detail.get() == "count">{tr!("settings-detail-count")}</option>
                        </select>
                    </label>
                    <button class="btn primary" type="submit" data-testid="settings-save" disabled=move || read_only.get()>{tr!("settings-save")}</button>
                    {move || read_only.get().then(|| view! { <p class="muted small" data-testid="settings-read-only">{tr!("settings-read-only")}</p> })}
                </form>
                <staff::StaffCard ctx=ctx />
                <printer::PrinterCard ctx=ctx />
                <div class="card">
                    <h2>{tr!("settings-tax-classes")}</h2>
                    <table class="list" data-testid="tax-table">
                        <thead><tr><th>{tr!("settings-tax-id")}</th><th>{tr!("settings-tax-name")}</th><th class="num">{tr!("settings-tax-rate")}</th><th>{tr!("settings-tax-prices")}</th></tr></thead>
                        <tbody>
                        {move || taxes.get().into_iter().map(|t| {
                            let t2 = t.clone();
                            view! {
                                <tr class="clickable" on:click=move |_| { tax_id.set(t2.id.clone()); tax_name.set(t2.name.clone()); tax_rate.set(crate::util::input_text(i64::from(t2.rate_bp), 2)); tax_incl.set(t2.inclusive); }>
                                    <td>{t.id.clone()}</td><td>{t.name.clone()}</td>
                                    <td class="num">{format!("{}%", crate::util::input_text(i64::from(t.rate_bp), 2))}</td>
                                    <td>{if t.inclusive { tr!("settings-tax-include") } else { tr!("settings-tax-exclude") }}</td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                    <form on:submit=move |ev| { ev.prevent_default(); save_tax(); }>
                        {text(tr!("settings-tax-id"), "tax-id", tax_id)}
                        {text(tr!("settings-tax-name"), "tax-name", tax_name)}
                        {text(tr!("settings-tax-rate-percent"), "tax-rate", tax_rate)}
                        <label class="inline"><input type="checkbox" data-testid="tax-inclusive" prop:checked=move || tax_incl.get() on:change=move |ev| tax_incl.set(event_target_checked(&ev)) />{tr!("settings-tax-inclusive")}</label>
                        <button class="btn primary" type="submit" data-testid="tax-save" disabled=move || read_only.get()>{tr!("settings-tax-save")}</button>
                    </form>
                </div>
                <div class="card">
                    <h2>{tr!("settings-sync")}</h2>
                    <p class="muted small">{tr!("settings-sync-hint")}</p>
                    <form on:submit=move |ev| { ev.prevent_default(); enrol(); }>
                        {text(tr!("settings-server-url"), "sync-server", server)}
                        {text(tr!("settings-code"), "sync-code", code)}
                        <button class="btn primary" type="submit" data-testid="sync-enrol">{tr!("settings-connect")}</button>
                    </form>
                </div>
                <div class="card">
                    <h2>{tr!("settings-language")}</h2>
                    <p class="muted small">{tr!("settings-language-hint")}</p>
                    <label>{tr!("settings-language")}
                        <select data-testid="settings-language" aria-label=tr!("settings-language")
                            on:change=move |ev| if let Some(l) = Locale::from_tag(&value(&ev)) { ctx.choose_locale(l) }>
                            {Locale::ALL.into_iter().map(|l| view! {
                                <option value=l.tag() data-testid=format!("settings-language-{}", l.tag()) selected=ctx.locale.get_untracked() == l>{l.native_name()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </div>
                <div class="card">
                    <h2>{tr!("settings-new-till")}</h2>
                    <p class="muted small">{tr!("settings-new-till-hint")}</p>
                    <button class="btn" data-testid="bundle-export" disabled=move || exporting.get() on:click=move |_| export_bundle()>{tr!("settings-bundle-export")}</button>
                </div>
                <div class="card">
                    <h2>{tr!("settings-maintenance")}</h2>
                    <p class="muted small">{tr!("settings-rebuild-hint")}</p>
                    <button class="btn" data-testid="rebuild" on:click=move |_| rebuild()>{tr!("settings-rebuild")}</button>
                </div>
            </div>
            <about::AboutCard ctx=ctx />
        </div>
    }
}
