//! Settings → Receipt printer: this till's ESC/POS thermal printer (its
//! address, paper, the code printed for the sale number, whether the
//! drawer opens on cash), a test print and the no-sale drawer open. Local
//! to this till; without a printer the system print dialog prints.

use leptos::prelude::*;
use shopsync_types::{PrintOutcome, PrinterSettingsEdit, ReceiptCode, ReceiptPaper};

use crate::api;
use crate::app::Ctx;
use crate::util::{spawn, value};

#[component]
pub fn PrinterCard(ctx: Ctx) -> impl IntoView {
    let target = RwSignal::new(String::new());
    let paper = RwSignal::new(ReceiptPaper::default().as_str().to_string());
    let code = RwSignal::new(ReceiptCode::default().as_str().to_string());
    let kick = RwSignal::new(true);
    let busy = RwSignal::new(false);
    let show = move |p: shopsync_types::PrinterSettings| {
        target.set(p.target.unwrap_or_default());
        paper.set(p.paper.as_str().to_string());
        code.set(p.code.as_str().to_string());
        kick.set(p.kick_on_cash);
    };
    spawn(async move {
        match api::printer_settings().await {
            Ok(p) => show(p),
            Err(e) => ctx.error(&e),
        }
    });
    let save = move || {
        let t = target.get_untracked();
        let req = PrinterSettingsEdit {
            target: Some(if t.trim().is_empty() {
                "none".into()
            } else {
                t
            }),
            paper: Some(paper.get_untracked()),
            code: Some(code.get_untracked()),
            kick_on_cash: Some(kick.get_untracked()),
        };
        spawn(async move {
            match api::set_printer_settings(&req).await {
                Ok(p) => {
                    show(p);
                    ctx.info(tr!("printer-saved"));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let sent = move |r: Result<PrintOutcome, shopsync_types::ErrorInfo>, done: String| {
        match r {
            Ok(_) => ctx.info(done),
            Err(e) => ctx.error(&e),
        }
        let _ = busy.try_set(false);
    };
    let test = move || {
        busy.set(true);
        spawn(async move { sent(api::print_test_page().await, tr!("printer-test-sent")) });
    };
    let drawer = move || {
        busy.set(true);
        spawn(async move { sent(api::open_drawer().await, tr!("printer-drawer-opened")) });
    };
    view! {
        <form class="card" data-testid="printer-card" on:submit=move |ev| { ev.prevent_default(); save(); }>
            <h2>{tr!("printer-title")}</h2>
            <p class="muted small">{tr!("printer-hint")}</p>
            <label>{tr!("printer-target")}
                <input type="text" data-testid="printer-target" placeholder="tcp://192.168.1.50:9100"
                    prop:value=move || target.get() on:input=move |ev| target.set(value(&ev)) />
            </label>
            <label>{tr!("printer-paper")}
                <select data-testid="printer-paper" prop:value=move || paper.get() on:change=move |ev| paper.set(value(&ev))>
                    {ReceiptPaper::ALL.into_iter().map(|p| view! {
                        <option value=p.as_str() selected=move || paper.get() == p.as_str()>{p.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{tr!("printer-code")}
                <select data-testid="printer-code" prop:value=move || code.get() on:change=move |ev| code.set(value(&ev))>
                    <option value="barcode" selected=move || code.get() == "barcode">{tr!("printer-code-barcode")}</option>
                    <option value="qr" selected=move || code.get() == "qr">{tr!("printer-code-qr")}</option>
                    <option value="none" selected=move || code.get() == "none">{tr!("printer-code-none")}</option>
                </select>
            </label>
            <label class="inline"><input type="checkbox" data-testid="printer-kick" prop:checked=move || kick.get()
                on:change=move |ev| kick.set(event_target_checked(&ev)) />{tr!("printer-kick")}</label>
            <div class="pay-row">
                <button class="btn primary" type="submit" data-testid="printer-save">{tr!("printer-save")}</button>
                <button class="btn" type="button" data-testid="printer-test" disabled=move || busy.get() on:click=move |_| test()>{tr!("printer-test")}</button>
                <button class="btn" type="button" data-testid="printer-drawer" disabled=move || busy.get() on:click=move |_| drawer()>{tr!("printer-drawer")}</button>
            </div>
        </form>
    }
}
