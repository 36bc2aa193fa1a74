//! The X and Z reports of drawer sessions on screen, and on paper: on this
//! till's thermal printer when it has one, else through the system's print
//! dialog, where the print stylesheet (`static/style.css`, `.print-target`)
//! shows only the report whose Print button was pressed.

use leptos::prelude::*;
use shopsync_types::drawer::{
    DrawerDayView, DrawerPrintInput, DrawerSessionState, DrawerSessionView,
};
use shopsync_types::{Amount, ErrorCode};

use crate::api;
use crate::app::Ctx;

use crate::util::{date_text, local_time, money, spawn};

/// Which of the screen's reports the next print shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintTarget {
    Session,
    Day,
}

/// Marks `target` for printing and opens the system's print dialog once
/// the mark is drawn.
pub fn print(marked: RwSignal<Option<PrintTarget>>, target: PrintTarget) {
    marked.set(Some(target));
    request_animation_frame(|| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    });
}

/// Prints a report: on the thermal printer when this till has one
/// (`thermal`), else through the system dialog. A thermal printer that
/// fails (offline, out of paper) says so and the system dialog opens, so a
/// closing shift still gets its report on paper.
fn print_report(
    ctx: Ctx,
    thermal: RwSignal<bool>,
    marked: RwSignal<Option<PrintTarget>>,
    target: PrintTarget,
    req: DrawerPrintInput,
) {
    if !thermal.get_untracked() {
        return print(marked, target);
    }
    spawn(async move {
        match api::drawer::print_report(&req).await {
            Ok(_) => ctx.info(tr!("drawer-printed")),
            Err(e) => {
                ctx.error(&e);
                // The printer failed (not, say, a sign-in that expired
                // meanwhile): paper from the system dialog instead, while
                // the screen is still shown (its signals live).
                if e.code == ErrorCode::Printer && marked.try_get_untracked().is_some() {
                    print(marked, target);
                }
            }
        }
    });
}

/// How a difference between counted and expected reads: short (below
/// zero), over, or even; the class colours it (short in red).
pub fn over_short_label(minor: i64) -> (String, &'static str) {
    match minor.signum() {
        -1 => (tr!("drawer-short"), "short"),
        1 => (tr!("drawer-over"), "over"),
        _ => (tr!("drawer-even"), "even"),
    }
}

fn row(label: String, value: String, testid: &'static str) -> impl IntoView {
    view! { <div class="r-row"><span>{label}</span><span data-testid=testid>{value}</span></div> }
}

fn over_short_row(a: Amount, testid: &'static str) -> impl IntoView {
    let (word, class) = over_short_label(a.minor);
    view! {
        <div class=format!("r-row strong over-short {class}")>
            <span>{tr!("drawer-over-short")} " (" <span data-testid=format!("{testid}-label")>{word}</span> ")"</span>
            <span data-testid=testid data-minor=a.minor.to_string()>{money(&a)}</span>
        </div>
    }
}

/// One session: its X report while open, its Z report once closed.
#[component]
pub fn SessionReport(
    r: DrawerSessionView,
    marked: RwSignal<Option<PrintTarget>>,
    ctx: Ctx,
    thermal: RwSignal<bool>,
) -> impl IntoView {
    let req = DrawerPrintInput::Session {
        session_id: r.session_id.clone(),
    };
    let closed = r.state == DrawerSessionState::Closed;
    let title = if closed {
        tr!("drawer-z-title")
    } else {
        tr!("drawer-x-title")
    };
    let nobody = || tr!("drawer-nobody");
    view! {
        <div class="card drawer-report" data-testid="drawer-report" data-state=if closed { "closed" } else { "open" }
            class:print-target=move || marked.get() == Some(PrintTarget::Session)>
            <h2 data-testid="drawer-report-title">{title}</h2>
            <div class="r-row small"><span>{tr!("drawer-opened")}</span>
                <span>{format!("{} · {}", local_time(&r.opened_at), r.opened_by.clone().unwrap_or_else(nobody))}</span></div>
            {r.closed_at.map(|t| view! { <div class="r-row small"><span>{tr!("drawer-closed")}</span>
                <span>{format!("{} · {}", local_time(&t), r.closed_by.clone().unwrap_or_else(nobody))}</span></div> })}
            {row(tr!("drawer-float"), money(&r.float), "report-float")}
            {row(tr!("drawer-cash-sales", count = r.sales_count), money(&r.cash_sales), "report-cash-sales")}
            {row(tr!("drawer-cash-refunds", count = r.refunds_count), money(&r.cash_refunds), "report-cash-refunds")}
            {r.movements.iter().enumerate().map(|(i, m)| {
                let label = if m.direction == "in" { tr!("drawer-moved-in", reason = m.reason.clone()) } else { tr!("drawer-moved-out", reason = m.reason.clone()) };
                let amount = if m.direction == "in" { money(&m.amount) } else { format!("-{}", money(&m.amount)) };
                view! { <div class="r-row small"><span>{label}</span><span data-testid=format!("report-move-{i}")>{amount}</span></div> }
            }).collect_view()}
            <div class="r-row strong"><span>{tr!("drawer-expected")}</span><span data-testid="report-expected">{money(&r.expected)}</span></div>
            {(!r.denominations.is_empty()).then(|| view! {
                <table class="list compact" data-testid="report-count">
                    <tbody>
                    {r.denominations.iter().map(|d| view! {
                        <tr><td>{money(&d.denomination)}</td><td class="num">{format!("× {}", d.count)}</td><td class="num">{money(&d.total)}</td></tr>
                    }).collect_view()}
                    </tbody>
                </table>
            })}
            {r.counted.map(|c| row(tr!("drawer-counted"), money(&c), "report-counted"))}
            {r.over_short.map(|o| over_short_row(o, "report-over-short"))}
            {r.expected_at_close.map(|e| view! { <p class="small muted">{tr!("drawer-expected-at-close", amount = money(&e))}</p> })}
            <div class="pay-row end no-print">
                <button class="btn" data-testid="drawer-report-print" on:click=move |_| print_report(ctx, thermal, marked, PrintTarget::Session, req.clone())>{tr!("drawer-print")}</button>
            </div>
        </div>
    }
}

/// The Z report of a store day (this till or every till).
#[component]
pub fn DayReport(
    r: DrawerDayView,
    marked: RwSignal<Option<PrintTarget>>,
    ctx: Ctx,
    thermal: RwSignal<bool>,
) -> impl IntoView {
    let req = DrawerPrintInput::Day {
        date: r.date,
        whole_store: r.till_id.is_none(),
    };
    let whose = match &r.till_id {
        Some(_) => tr!("drawer-day-this-till"),
        None => tr!("drawer-day-whole-store"),
    };
    view! {
        <div class="drawer-report" data-testid="drawer-day-report"
            class:print-target=move || marked.get() == Some(PrintTarget::Day)>
            <h2>{tr!("drawer-day-title", date = date_text(&r.date), whose = whose)}</h2>
            {if r.sessions.is_empty() {
                view! { <p class="muted" data-testid="drawer-day-empty">{tr!("drawer-day-none")}</p> }.into_any()
            } else {
                view! {
                    <table class="list compact" data-testid="drawer-day-sessions">
                        <thead><tr><th>{tr!("drawer-closed")}</th><th class="num">{tr!("drawer-expected")}</th><th class="num">{tr!("drawer-counted")}</th><th class="num">{tr!("drawer-over-short")}</th></tr></thead>
                        <tbody>
                        {r.sessions.iter().map(|s| view! {
                            <tr>
                                <td>{s.closed_at.as_ref().map(local_time).unwrap_or_default()}</td>
                                <td class="num">{money(&s.expected)}</td>
                                <td class="num">{s.counted.as_ref().map(money).unwrap_or_default()}</td>
                                <td class="num">{s.over_short.as_ref().map(money).unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {row(tr!("drawer-float"), money(&r.float), "day-float")}
            {row(tr!("drawer-cash-sales-total"), money(&r.cash_sales), "day-cash-sales")}
            {row(tr!("drawer-cash-refunds-total"), money(&r.cash_refunds), "day-cash-refunds")}
            {row(tr!("drawer-cash-in-total"), money(&r.cash_in), "day-cash-in")}
            {row(tr!("drawer-cash-out-total"), money(&r.cash_out), "day-cash-out")}
            <div class="r-row strong"><span>{tr!("drawer-expected")}</span><span data-testid="day-expected">{money(&r.expected)}</span></div>
            {row(tr!("drawer-counted"), money(&r.counted), "day-counted")}
            {over_short_row(r.over_short, "day-over-short")}
            <div class="pay-row end no-print">
                <button class="btn" data-testid="drawer-day-print" on:click=move |_| print_report(ctx, thermal, marked, PrintTarget::Day, req.clone())>{tr!("drawer-print")}</button>
            </div>
        </div>
    }
}
