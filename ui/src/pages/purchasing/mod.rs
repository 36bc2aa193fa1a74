//! Purchasing (issue 10): the reorder list (products at or below their
//! reorder point, grouped by supplier, with editable suggested quantities
//! and "Create order" per supplier), and purchase orders (the list with
//! status and what is outstanding; an order's lines, receiving a delivery
//! against it, partial or whole, closing it, exporting it as CSV).
//!
//! Creating and closing an order may need a supervisor's PIN (the approval
//! dialog asks); receiving does not.

mod orders;
mod reorder;

use leptos::prelude::*;
use shopsync_types::PurchaseOrderStatus;

use crate::app::Ctx;

pub fn status_label(s: PurchaseOrderStatus) -> String {
    match s {
        PurchaseOrderStatus::Open => tr!("po-status-open"),
        PurchaseOrderStatus::PartiallyReceived => tr!("po-status-partially-received"),
        PurchaseOrderStatus::Received => tr!("po-status-received"),
        PurchaseOrderStatus::Closed => tr!("po-status-closed"),
    }
}

/// A whole number of units typed in a field: empty is 0; anything else
/// that is not a whole number ≥ 0 is refused (the message says which).
pub fn parse_units(text: &str) -> Result<i64, String> {
    match text.trim() {
        "" => Ok(0),
        t => t
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| tr!("po-qty-whole", text = t.to_string())),
    }
}

#[component]
pub fn PurchasingPage(ctx: Ctx) -> impl IntoView {
    let tab = RwSignal::new("reorder");
    // The order to show on the Orders tab (a new one, when just created).
    let selected = RwSignal::new(None::<String>);
    view! {
        <div class="page" data-testid="page-purchasing">
            <div class="tabs">
                {[("reorder", tr!("po-tab-reorder")), ("orders", tr!("po-tab-orders"))].into_iter().map(|(k, l)| view! {
                    <button class="tab" class:active=move || tab.get() == k data-testid=format!("po-tab-{k}") on:click=move |_| tab.set(k)>{l}</button>
                }).collect_view()}
            </div>
            {move || match tab.get() {
                "orders" => view! { <orders::Orders ctx=ctx selected=selected /> }.into_any(),
                _ => view! { <reorder::Reorder ctx=ctx on_created=Callback::new(move |id: String| { selected.set(Some(id)); tab.set("orders"); }) /> }.into_any(),
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::parse_units;

    #[test]
    fn units_are_whole_numbers_from_zero_and_empty_is_none() {
        assert_eq!(parse_units(" 12 "), Ok(12));
        assert_eq!(parse_units(""), Ok(0));
        assert!(parse_units("-1").is_err());
        assert!(parse_units("1,5").is_err());
        assert!(parse_units("two").is_err());
    }
}
