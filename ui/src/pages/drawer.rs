//! The Drawer screen (cash drawer sessions, issue 10): open a session with
//! a counted float, cash in and out with a reason, the X report while
//! open, close with a count by note and coin (expected and over/short
//! shown before confirming) and the session's Z report after; and the Z
//! report of a store day, for this till or the whole store; past sessions
//! of a day with their reports ([`history`]). Reports print on the till's
//! thermal printer when it has one.

mod count;
mod history;
mod report;

use chrono::NaiveDate;
use leptos::prelude::*;
use shopsync_types::drawer::{DrawerDayView, DrawerMoveInput, DrawerSessionView, DrawerStatusView};

use crate::api;
use crate::app::Ctx;
use crate::util::{input_error, local_time, minor_text, money, parse_money, spawn, today, value};
use count::CloseForm;
use history::PastSessions;
use report::{DayReport, PrintTarget, SessionReport};

/// What the session card shows below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Panel {
    Summary,
    Closing,
}

#[component]
pub fn DrawerPage(ctx: Ctx) -> impl IntoView {
    let status = RwSignal::new(None::<DrawerStatusView>);
    // The last X or Z report asked for (a Z right after closing).
    let shown = RwSignal::new(None::<DrawerSessionView>);
    let panel = RwSignal::new(Panel::Summary);
    let float_text = RwSignal::new(String::new());
    let move_amount = RwSignal::new(String::new());
    let move_reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let day = RwSignal::new(today().format("%Y-%m-%d").to_string());
    let whole_store = RwSignal::new(false);
    let day_report = RwSignal::new(None::<DrawerDayView>);
    let marked = RwSignal::new(None::<PrintTarget>);
    let dec = ctx.decimals();
    // Reports print on this till's thermal printer when it has one.
    let thermal = RwSignal::new(false);
    spawn(async move {
        if let Ok(p) = api::printer_settings().await {
            let _ = thermal.try_set(p.target.is_some());
        }
    });

    let load = move || {
        spawn(async move {
            match api::drawer::status().await {
                Ok(s) => {
                    let _ = status.try_set(Some(s));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    Effect::new(move |_| {
        ctx.data_version.track();
        load();
    });

    let open_session = move || {
        if busy.get_untracked() {
            return;
        }
        let typed = float_text.get_untracked();
        let float = match parse_money(&typed, dec) {
            Ok(v) if v >= 0 => v,
            Ok(_) => return ctx.error(&input_error("float", tr!("drawer-not-negative"))),
            Err(m) => return ctx.error(&input_error("float", m)),
        };
        busy.set(true);
        spawn(async move {
            match api::drawer::open_session(minor_text(float, dec)).await {
                Ok(_) => {
                    ctx.info(tr!("drawer-opened-done"));
                    let _ = float_text.try_set(String::new());
                    let _ = shown.try_set(None);
                    load();
                }
                Err(e) => ctx.error(&e),
            }
            let _ = busy.try_set(false);
        });
    };

    let cash_move = move |out: bool| {
        if busy.get_untracked() {
            return;
        }
        let amount = match parse_money(&move_amount.get_untracked(), dec) {
            Ok(v) if v > 0 => v,
            Ok(_) => return ctx.error(&input_error("amount", tr!("drawer-amount-positive"))),
            Err(m) => return ctx.error(&input_error("amount", m)),
        };
        let reason = move_reason.get_untracked().trim().to_string();
        if reason.is_empty() {
            return ctx.error(&input_error("reason", tr!("drawer-reason-needed")));
        }
        let req = DrawerMoveInput {
            amount: minor_text(amount, dec),
            reason,
        };
        busy.set(true);
        spawn(async move {
            let r = if out {
                api::drawer::cash_out(&req).await
            } else {
                api::drawer::cash_in(&req).await
            };
            match r {
                Ok(_) => {
                    ctx.info(if out {
                        tr!("drawer-cash-out-done")
                    } else {
                        tr!("drawer-cash-in-done")
                    });
                    let _ = move_amount.try_set(String::new());
                    let _ = move_reason.try_set(String::new());
                    load();
                }
                Err(e) => ctx.error(&e),
            }
            let _ = busy.try_set(false);
        });
    };

    let x_report = move || {
        spawn(async move {
            match api::drawer::x_report().await {
                Ok(x) => {
                    let _ = shown.try_set(Some(x));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };

    let run_day = move || {
        let Some(date) = NaiveDate::parse_from_str(day.get_untracked().trim(), "%Y-%m-%d").ok()
        else {
            return ctx.error(&input_error("date", tr!("drawer-pick-date")));
        };
        let all = whole_store.get_untracked();
        spawn(async move {
            match api::drawer::day_report(date, all).await {
                Ok(r) => {
                    let _ = day_report.try_set(Some(r));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };

    // The card (and a count in progress in its close form) is drawn again
    // only when the session changes, not on every reload after a sync.
    let session_key = Memo::new(move |_| {
        status.with(|s| {
            s.as_ref()
                .map(|s| s.session.as_ref().map(|x| x.session_id.clone()))
        })
    });

    let on_closed = Callback::new(move |z: DrawerSessionView| {
        panel.set(Panel::Summary);
        shown.set(Some(z));
        load();
    });
    let on_cancel = Callback::new(move |()| panel.set(Panel::Summary));

    let open_form = move || {
        view! {
            <div class="card" data-testid="drawer-open-form">
                <h2>{tr!("drawer-open-title")}</h2>
                <p class="muted small">{move || if status.with(|s| s.as_ref().is_some_and(|s| s.required)) { tr!("drawer-required-hint") } else { tr!("drawer-optional-hint") }}</p>
                <div class="pay-row">
                    <label class="inline">{tr!("drawer-float")}
                        <input type="text" inputmode="decimal" class="amount-input" data-testid="drawer-float"
                            prop:value=move || float_text.get() on:input=move |ev| float_text.set(value(&ev))
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { open_session() } />
                    </label>
                    <button class="big-btn primary" data-testid="drawer-open" disabled=move || busy.get() on:click=move |_| open_session()>{tr!("drawer-open")}</button>
                </div>
            </div>
        }
    };

    let session_card = move |s: DrawerSessionView, st: DrawerStatusView| {
        let nobody = tr!("drawer-nobody");
        let at_open = s.expected;
        let expected = Signal::derive(move || {
            status.with(|st| {
                st.as_ref()
                    .and_then(|st| st.session.as_ref())
                    .map(|s| s.expected)
                    .unwrap_or(at_open)
            })
        });
        view! {
            <div class="card" data-testid="drawer-session" data-session=s.session_id.clone()>
                <h2>{tr!("drawer-open-session")}</h2>
                <div class="r-row"><span>{tr!("drawer-opened")}</span>
                    <span data-testid="drawer-opened">{format!("{} · {}", local_time(&s.opened_at), s.opened_by.clone().unwrap_or(nobody))}</span></div>
                <div class="r-row"><span>{tr!("drawer-float")}</span><span data-testid="drawer-session-float">{money(&s.float)}</span></div>
                <div class="r-row strong"><span>{tr!("drawer-expected-now")}</span><span data-testid="drawer-expected">{move || status.with(|st| st.as_ref().and_then(|st| st.session.as_ref()).map(|s| money(&s.expected)).unwrap_or_default())}</span></div>
                <div class="pay-row">
                    <button class="btn" data-testid="drawer-x" on:click=move |_| x_report()>{tr!("drawer-x-report")}</button>
                    <button class="btn primary" data-testid="drawer-close-start" on:click=move |_| { ctx.clear(); shown.set(None); panel.set(Panel::Closing) }>{tr!("drawer-close")}</button>
                </div>
            </div>
            {move || match panel.get() {
                Panel::Closing => view! {
                    <CloseForm ctx=ctx denominations=st.denominations.clone() expected=expected on_closed=on_closed on_cancel=on_cancel />
                }.into_any(),
                Panel::Summary => view! {
                    <div class="card" data-testid="drawer-move-form">
                        <h2>{tr!("drawer-move-title")}</h2>
                        <div class="pay-row">
                            <input type="text" inputmode="decimal" class="amount-input" data-testid="drawer-move-amount"
                                placeholder=tr!("drawer-amount") aria-label=tr!("drawer-amount")
                                prop:value=move || move_amount.get() on:input=move |ev| move_amount.set(value(&ev)) />
                            <input type="text" class="grow" data-testid="drawer-move-reason"
                                placeholder=tr!("drawer-reason") aria-label=tr!("drawer-reason")
                                prop:value=move || move_reason.get() on:input=move |ev| move_reason.set(value(&ev)) />
                        </div>
                        <div class="pay-row">
                            <button class="btn" data-testid="drawer-cash-in" disabled=move || busy.get() on:click=move |_| cash_move(false)>{tr!("drawer-cash-in")}</button>
                            <button class="btn" data-testid="drawer-cash-out" disabled=move || busy.get() on:click=move |_| cash_move(true)>{tr!("drawer-cash-out")}</button>
                        </div>
                    </div>
                }.into_any(),
            }}
        }
    };

    view! {
        <div class="page" data-testid="page-drawer">
            <div class="split">
                <div class="grow">
                    {move || match session_key.get() {
                        None => view! { <p class="muted">{tr!("app-opening")}</p> }.into_any(),
                        Some(_) => match status.get_untracked() {
                            Some(st) => match st.session.clone() {
                                Some(s) => session_card(s, st).into_any(),
                                None => open_form().into_any(),
                            },
                            None => open_form().into_any(),
                        },
                    }}
                    {move || shown.get().map(|r| view! { <SessionReport r=r marked=marked ctx=ctx thermal=thermal /> })}
                </div>
                <div class="side">
                    <div class="card">
                        <h2>{tr!("drawer-day-heading")}</h2>
                        <div class="pay-row">
                            <input type="date" data-testid="drawer-day-date" aria-label=tr!("drawer-day-date")
                                prop:value=move || day.get() on:change=move |ev| day.set(value(&ev)) />
                            <label class="inline"><input type="checkbox" data-testid="drawer-day-whole-store"
                                prop:checked=move || whole_store.get() on:change=move |ev| whole_store.set(event_target_checked(&ev)) />
                                {tr!("drawer-day-whole-store")}</label>
                            <button class="btn" data-testid="drawer-day-run" on:click=move |_| run_day()>{tr!("drawer-day-show")}</button>
                        </div>
                        {move || day_report.get().map(|r| view! { <DayReport r=r marked=marked ctx=ctx thermal=thermal /> })}
                    </div>
                    <PastSessions ctx=ctx shown=shown />
                </div>
            </div>
        </div>
    }
}
