//! The receipt on the till's thermal printer after a sale. The sale is
//! saved before this starts, and it runs on its own: the cashier can start
//! the next sale while it prints (or while an offline printer times out).
//! A failure says the sale is saved and offers a reprint.

use leptos::prelude::*;

use super::Mode;
use crate::api;
use crate::app::Ctx;
use crate::util::spawn;

#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Printing,
    Printed,
    Failed(String),
}

/// The thermal print of one sale.
#[derive(Debug, Clone, PartialEq)]
pub struct Thermal {
    pub sale_id: String,
    pub number: String,
    pub state: State,
}

/// Prints sale `sale_id`'s receipt when this till has a thermal printer
/// (else the system dialog stays the way to print). `copy` marks a reprint.
pub fn print(
    ctx: Ctx,
    mode: RwSignal<Mode>,
    thermal: RwSignal<Option<Thermal>>,
    sale_id: String,
    number: String,
    copy: bool,
) {
    spawn(async move {
        match api::printer_settings().await {
            Ok(p) if p.target.is_some() => {}
            _ => return,
        }
        let mark = |state: State| {
            let _ = thermal.try_set(Some(Thermal {
                sale_id: sale_id.clone(),
                number: number.clone(),
                state,
            }));
        };
        mark(State::Printing);
        match api::print_receipt(&sale_id, copy).await {
            Ok(_) => mark(State::Printed),
            Err(e) => {
                let text = tr!(
                    "printer-offline",
                    number = number.clone(),
                    error = e.message
                );
                // The receipt dialog shows it with a Reprint button; once
                // the cashier has moved on, the message bar does.
                let showing = mode.try_with_untracked(
                    |m| matches!(m, Mode::Receipt(r) if r.sale.summary.sale_id == sale_id),
                );
                if showing != Some(true) {
                    ctx.error(&shopsync_types::ErrorInfo {
                        code: shopsync_types::ErrorCode::Printer,
                        message: text.clone(),
                        row: None,
                        field: None,
                    });
                }
                mark(State::Failed(text));
            }
        }
    });
}

/// The thermal print's state in the receipt dialog, with Reprint after a
/// failure.
#[component]
pub fn ThermalStatus(
    ctx: Ctx,
    mode: RwSignal<Mode>,
    thermal: RwSignal<Option<Thermal>>,
    sale_id: String,
) -> impl IntoView {
    let mine = move || thermal.get().filter(|t| t.sale_id == sale_id);
    move || {
        mine().map(|t| {
            let (class, text) = match &t.state {
                State::Printing => ("muted", tr!("printer-printing")),
                State::Printed => ("muted", tr!("printer-printed")),
                State::Failed(text) => ("error", text.clone()),
            };
            let failed = matches!(t.state, State::Failed(_));
            let (id, number) = (t.sale_id.clone(), t.number.clone());
            view! {
                <div class=format!("thermal-status {class}") role="status" data-testid="thermal-status" data-state=match t.state { State::Printing => "printing", State::Printed => "printed", State::Failed(_) => "failed" }>
                    <span>{text}</span>
                    {failed.then(|| view! {
                        <button class="btn" data-testid="thermal-reprint"
                            on:click=move |_| print(ctx, mode, thermal, id.clone(), number.clone(), false)>{tr!("printer-reprint")}</button>
                    })}
                </div>
            }
        })
    }
}
