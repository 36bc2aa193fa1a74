//! Closing a session: the count grid (one row per note and coin, its line
//! total, the running counted total) or, for a currency without a table of
//! notes and coins, the counted total; expected and over/short shown before
//! the cashier confirms.

use leptos::prelude::*;
use shopsync_types::Amount;
use shopsync_types::drawer::{DrawerCloseInput, DrawerCountInput, DrawerSessionView};

use super::report::over_short_label;
use crate::api;
use crate::app::Ctx;
use crate::util::{input_error, minor_text, money_minor, parse_money, spawn, value};

/// Most of one note or coin the grid takes (the core's quantity limit is
/// far above any drawer).
const MAX_COUNT: i64 = 1_000_000;

/// A count typed into the grid: empty is none; else a whole number from 0.
pub fn parse_count(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return Some(0);
    }
    t.parse::<i64>()
        .ok()
        .filter(|n| (0..=MAX_COUNT).contains(n))
}

/// The grid's total in minor units, or `None` while a row holds something
/// that is not a count.
pub fn counted_minor(denominations: &[i64], counts: &[String]) -> Option<i64> {
    denominations
        .iter()
        .zip(counts)
        .try_fold(0i64, |sum, (d, text)| {
            sum.checked_add(d.checked_mul(parse_count(text)?)?)
        })
}

#[component]
pub fn CloseForm(
    ctx: Ctx,
    denominations: Vec<Amount>,
    /// Follows the session: a cash move after the form opened changes it.
    expected: Signal<Amount>,
    on_closed: Callback<DrawerSessionView>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let dec = expected.with_untracked(|e| e.decimals);
    let values: Vec<i64> = denominations.iter().map(|d| d.minor).collect();
    let by_notes = !values.is_empty();
    let counts = RwSignal::new(vec![String::new(); values.len()]);
    let total_text = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let grid_values = values.clone();
    // What was counted so far; `None` while something typed is not a count.
    let counted = Signal::derive(move || {
        if by_notes {
            counts.with(|c| counted_minor(&grid_values, c))
        } else {
            let t = total_text.get();
            if t.trim().is_empty() {
                Some(0)
            } else {
                parse_money(&t, dec).ok().filter(|v| *v >= 0)
            }
        }
    });
    let expected_minor = move || expected.with(|e| e.minor);

    let confirm = move || {
        if busy.get_untracked() {
            return;
        }
        let req = if by_notes {
            let typed = counts.get_untracked();
            let mut lines = Vec::new();
            for (d, text) in values.iter().zip(&typed) {
                match parse_count(text) {
                    Some(0) => {}
                    Some(n) => lines.push(DrawerCountInput {
                        denomination: minor_text(*d, dec),
                        count: n,
                    }),
                    None => {
                        ctx.error(&input_error(
                            "count",
                            tr!("drawer-count-whole", value = money_minor(*d, dec)),
                        ));
                        return;
                    }
                }
            }
            DrawerCloseInput {
                counts: lines,
                counted_total: None,
            }
        } else {
            match parse_money(&total_text.get_untracked(), dec) {
                Ok(v) if v >= 0 => DrawerCloseInput {
                    counts: Vec::new(),
                    counted_total: Some(minor_text(v, dec)),
                },
                Ok(_) => {
                    ctx.error(&input_error("counted total", tr!("drawer-not-negative")));
                    return;
                }
                Err(m) => {
                    ctx.error(&input_error("counted total", m));
                    return;
                }
            }
        };
        busy.set(true);
        spawn(async move {
            match api::drawer::close_session(&req).await {
                Ok(z) => {
                    ctx.info(tr!("drawer-closed-done"));
                    // The screen may be gone (another page chosen meanwhile).
                    let _ = on_closed.try_run(z);
                }
                Err(e) => ctx.error(&e),
            }
            let _ = busy.try_set(false);
        });
    };

    let grid = by_notes.then(|| {
        view! {
            <table class="list compact count-grid" data-testid="drawer-count-grid">
                <thead><tr><th>{tr!("drawer-denomination")}</th><th class="num">{tr!("drawer-count")}</th><th class="num">{tr!("drawer-line-total")}</th></tr></thead>
                <tbody>
                {denominations.iter().enumerate().map(|(i, d)| {
                    let key = minor_text(d.minor, dec);
                    let v = d.minor;
                    let line = move || counts.with(|c| c.get(i).and_then(|t| parse_count(t)).and_then(|n| n.checked_mul(v)));
                    view! {
                        <tr>
                            <td>{money_minor(v, dec)}</td>
                            <td class="num"><input type="text" inputmode="numeric" class="narrow" data-testid=format!("drawer-count-{key}")
                                aria-label=tr!("drawer-count-of", value = money_minor(v, dec))
                                class:invalid=move || line().is_none()
                                prop:value=move || counts.with(|c| c.get(i).cloned().unwrap_or_default())
                                on:input=move |ev| { let t = value(&ev); counts.update(|c| if let Some(x) = c.get_mut(i) { *x = t; }); } /></td>
                            <td class="num" data-testid=format!("drawer-line-{key}")>{move || line().map(|m| money_minor(m, dec)).unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    }
                }).collect_view()}
                </tbody>
            </table>
        }
    });
    let total_input = (!by_notes).then(|| {
        view! {
            <label>{tr!("drawer-counted-total")}
                <input type="text" inputmode="decimal" class="amount-input" data-testid="drawer-counted-total"
                    prop:value=move || total_text.get() on:input=move |ev| total_text.set(value(&ev)) />
            </label>
        }
    });

    view! {
        <div class="card" data-testid="drawer-close-form">
            <h2>{tr!("drawer-close-title")}</h2>
            {grid}
            {total_input}
            <div class="totals">
                <div class="row"><span>{tr!("drawer-counted")}</span>
                    <span data-testid="drawer-counted">{move || counted.get().map(|m| money_minor(m, dec)).unwrap_or_else(|| "—".into())}</span></div>
                <div class="row"><span>{tr!("drawer-expected")}</span>
                    <span data-testid="drawer-close-expected">{move || money_minor(expected_minor(), dec)}</span></div>
                {move || counted.get().map(|c| {
                    let diff = c.saturating_sub(expected_minor());
                    let (word, class) = over_short_label(diff);
                    view! {
                        <div class=format!("row grand over-short {class}")>
                            <span>{tr!("drawer-over-short")} " (" <span data-testid="drawer-close-over-short-label">{word}</span> ")"</span>
                            <span data-testid="drawer-close-over-short" data-minor=diff.to_string()>{money_minor(diff, dec)}</span>
                        </div>
                    }
                })}
            </div>
            <div class="pay-row end">
                <button class="big-btn" data-testid="drawer-close-cancel" on:click=move |_| on_cancel.run(())>{tr!("drawer-cancel")}</button>
                <button class="big-btn primary" data-testid="drawer-close-confirm"
                    disabled=move || busy.get() || counted.get().is_none()
                    on:click=move |_| confirm()>{tr!("drawer-close-confirm")}</button>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_whole_numbers_and_empty_is_none() {
        assert_eq!(parse_count(""), Some(0));
        assert_eq!(parse_count(" 12 "), Some(12));
        assert_eq!(parse_count("-1"), None);
        assert_eq!(parse_count("1.5"), None);
        assert_eq!(parse_count("zwei"), None);
        assert_eq!(parse_count("1000001"), None);
    }

    #[test]
    fn the_grid_adds_up_each_line() {
        let notes = [2_000, 500, 200, 10];
        let typed = ["2", "", "3", "7"].map(String::from);
        assert_eq!(counted_minor(&notes, &typed), Some(4_000 + 600 + 70));
        let bad = ["2", "x", "", ""].map(String::from);
        assert_eq!(counted_minor(&notes, &bad), None);
    }
}
