//! The Sales screen's refunds: those made on the chosen days, of sales with
//! the chosen SKU, by the chosen staff member (who made the refund, not the
//! sale), newest first, with who made and who approved each; a click opens
//! the refunded sale.

use leptos::prelude::*;
use shopsync_types::RefundListItem;

use crate::util::{local_time, money};

/// `name` turns a staff id into a name; `open` shows a sale.
#[component]
pub fn RefundsTable(
    list: RwSignal<Vec<RefundListItem>>,
    name: impl Fn(&Option<String>) -> Option<String> + Copy + Send + Sync + 'static,
    open: impl Fn(String) + Copy + Send + Sync + 'static,
    kind: fn(shopsync_types::TenderKind) -> String,
) -> impl IntoView {
    move || {
        let rows = list.get();
        if rows.is_empty() {
            return view! { <p class="muted small" data-testid="refunds-none">{tr!("sales-refunds-none")}</p> }.into_any();
        }
        view! {
            <div class="scroll refunds-list">
            <table class="list compact" data-testid="refunds-table">
                <thead><tr><th>{tr!("sales-time")}</th><th>{tr!("sales-number")}</th><th>{tr!("sales-staff")}</th><th>{tr!("sales-refund-tender")}</th><th class="num">{tr!("sales-refunded")}</th></tr></thead>
                <tbody>
                {rows.into_iter().enumerate().map(|(i, r)| {
                    let sale = r.sale_id.clone();
                    // A sale this till does not list (not synced yet, or set
                    // aside) has no detail to open.
                    let here = r.sale_number.is_some();
                    let number = r.sale_number.clone().unwrap_or_else(|| tr!("sales-refund-sale-not-here"));
                    view! {
                        <tr class:clickable=here data-testid=format!("refund-row-{i}") data-staff=r.staff_id.clone().unwrap_or_default()
                            on:click=move |_| if here { open(sale.clone()) }>
                            <td>{local_time(&r.at)}</td>
                            <td>{number}</td>
                            <td data-testid=format!("refund-staff-{i}")>{name(&r.staff_id)}{name(&r.approver_id).map(|a| view! { <div class="muted small">{tr!("sales-approved-by", name = a)}</div> })}</td>
                            <td>{kind(r.tender)}</td>
                            <td class="num" data-testid=format!("refund-amount-{i}")>{money(&r.amount)}</td>
                        </tr>
                    }
                }).collect_view()}
                </tbody>
            </table>
            </div>
        }.into_any()
    }
}
