//! My orders: every list sent to a shop, newest first, with the shop's
//! steps as they sync in (accepted with lines it cannot supply, ready,
//! collected, rejected) and a cancel button until the order is ready.

use leptos::prelude::*;
use shopsync_types::{OrderLineView, OrderStatus, OrderView};

use crate::catalogs;
use crate::session::{self, Ctx};

fn status_text(o: &OrderView) -> String {
    match o.status {
        OrderStatus::Sent => "sent: waiting for the shop".into(),
        OrderStatus::Accepted => {
            let missing = o.lines.iter().filter(|l| l.unavailable).count();
            if missing > 0 {
                format!("accepted: {missing} line(s) unavailable")
            } else {
                "accepted: being put together".into()
            }
        }
        OrderStatus::Ready => "ready for pickup".into(),
        OrderStatus::Collected => "collected".into(),
        OrderStatus::Rejected => "rejected by the shop".into(),
        OrderStatus::Cancelled => "cancelled".into(),
    }
}

/// A product line by the product's name in the shop's catalog (the order
/// names it by SKU); free text as written.
fn line_name(store_id: &str, l: &OrderLineView) -> String {
    l.sku
        .as_deref()
        .and_then(|sku| {
            catalogs::get(store_id).and_then(|c| c.product(sku).map(|p| p.name.clone()))
        })
        .unwrap_or_else(|| l.text.clone())
}

fn when(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(d.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let cancel = move |id: String| {
        session::edit(ctx, |d, now| d.cancel_order(&id, None, now));
    };
    let list = move || {
        ctx.rev.get();
        let mut orders = session::read(|d| d.orders()).unwrap_or_default();
        orders.reverse();
        if orders.is_empty() {
            return view! { <p class="muted" data-testid="orders-empty">"No orders yet. Open a list and send it to a shop."</p> }.into_any();
        }
        view! {
            <ul class="rows orders" data-testid="orders">
                {orders.into_iter().map(|o| {
                    let id = o.id.clone();
                    let can_cancel = matches!(o.status, OrderStatus::Sent | OrderStatus::Accepted);
                    view! {
                        <li class="card order" data-testid="order-row" data-order-id=o.id.clone() data-status=o.status.as_str()>
                            <h3>{o.list_name.clone()} " · " {catalogs::shop_name(&o.store_id)}</h3>
                            <p class=format!("status status-{}", o.status.as_str()) data-testid="order-status" role="status">{status_text(&o)}</p>
                            <p class="muted small">{format!("sent {}", when(o.sent_at))}</p>
                            {o.reason.clone().map(|r| view! { <p data-testid="order-reason">{format!("Reason: {r}")}</p> })}
                            {o.conflict.clone().map(|c| view! { <p class="warn">{c}</p> })}
                            <ul class="lines">
                                {o.lines.iter().map(|l| view! {
                                    <li data-testid="order-line" data-unavailable=l.unavailable.to_string() class:unavailable=l.unavailable>
                                        {format!("{} × {}", l.qty, line_name(&o.store_id, l))}
                                        {l.unavailable.then(|| view! { <span class="badge out">"unavailable"</span> })}
                                    </li>
                                }).collect_view()}
                            </ul>
                            {can_cancel.then(|| view! {
                                <button class="btn" data-testid="order-cancel" on:click=move |_| cancel(id.clone())>"Cancel this order"</button>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any()
    };
    view! {
        <h2>"My orders"</h2>
        {list}
    }
}
