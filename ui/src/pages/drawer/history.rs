//! Past drawer sessions: those opened or closed on a chosen store day,
//! this till's or (once synced) every till's; a click reads the session's
//! report anew (its Z report once closed) into the screen's report panel.

use chrono::NaiveDate;
use leptos::prelude::*;
use shopsync_types::drawer::DrawerSessionView;

use crate::api;
use crate::app::Ctx;
use crate::util::{input_error, local_time, money, spawn, today, value};

#[component]
pub fn PastSessions(ctx: Ctx, shown: RwSignal<Option<DrawerSessionView>>) -> impl IntoView {
    let day = RwSignal::new(today().format("%Y-%m-%d").to_string());
    let whole_store = RwSignal::new(false);
    let list = RwSignal::new(None::<Vec<DrawerSessionView>>);
    let run = move || {
        let Some(date) = NaiveDate::parse_from_str(day.get_untracked().trim(), "%Y-%m-%d").ok()
        else {
            return ctx.error(&input_error("date", tr!("drawer-pick-date")));
        };
        let all = whole_store.get_untracked();
        spawn(async move {
            match api::drawer::sessions(date, all).await {
                Ok(l) => {
                    let _ = list.try_set(Some(l));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    // The session's report as it is now (records synced since the list
    // was drawn count too).
    let open = move |id: String| {
        spawn(async move {
            match api::drawer::session_report(&id).await {
                Ok(r) => {
                    let _ = shown.try_set(Some(r));
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let nobody = || tr!("drawer-nobody");
    view! {
        <div class="card" data-testid="drawer-history">
            <h2>{tr!("drawer-history-heading")}</h2>
            <div class="pay-row">
                <input type="date" data-testid="drawer-history-date" aria-label=tr!("drawer-day-date")
                    prop:value=move || day.get() on:change=move |ev| day.set(value(&ev)) />
                <label class="inline"><input type="checkbox" data-testid="drawer-history-whole-store"
                    prop:checked=move || whole_store.get() on:change=move |ev| whole_store.set(event_target_checked(&ev)) />
                    {tr!("drawer-day-whole-store")}</label>
                <button class="btn" data-testid="drawer-history-run" on:click=move |_| run()>{tr!("drawer-day-show")}</button>
            </div>
            {move || list.get().map(|l| if l.is_empty() {
                view! { <p class="muted" data-testid="drawer-history-empty">{tr!("drawer-history-none")}</p> }.into_any()
            } else {
                view! {
                    <table class="list compact" data-testid="drawer-history-list">
                        <thead><tr>
                            <th>{tr!("drawer-opened")}</th><th>{tr!("drawer-closed")}</th>
                            <th class="num">{tr!("drawer-float")}</th><th class="num">{tr!("drawer-expected")}</th>
                            <th class="num">{tr!("drawer-counted")}</th><th class="num">{tr!("drawer-over-short")}</th>
                        </tr></thead>
                        <tbody>
                        {l.into_iter().enumerate().map(|(i, s)| {
                            let opened = format!("{} · {}", local_time(&s.opened_at), s.opened_by.clone().unwrap_or_else(nobody));
                            let closed = match s.closed_at {
                                Some(t) => format!("{} · {}", local_time(&t), s.closed_by.clone().unwrap_or_else(nobody)),
                                None => tr!("drawer-history-still-open"),
                            };
                            let cells = (money(&s.float), money(&s.expected), s.counted.as_ref().map(money), s.over_short.as_ref().map(money));
                            let id = s.session_id.clone();
                            view! {
                                <tr class="clickable" data-testid=format!("drawer-history-row-{i}") data-session=id.clone()
                                    on:click=move |_| open(id.clone())>
                                    <td>{opened}</td><td>{closed}</td>
                                    <td class="num">{cells.0}</td><td class="num">{cells.1}</td>
                                    <td class="num">{cells.2}</td><td class="num">{cells.3}</td>
                                </tr>
                            }
                        }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </div>
    }
}
