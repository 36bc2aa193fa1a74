//! Pickup orders from this device: a list sent to a shop, a cancellation,
//! and every order's state across shops (from the requests this device
//! wrote and the statuses the shops wrote, as last synced).

use serde::Serialize;
use shopsync_types::OrderView;

use super::CustomerStore;
use super::resolve::{Candidate, pick};
use crate::error::{CoreError, Result};
use crate::ids::{DocId, new_id};
use crate::orders::customer_side;

/// What `send_order` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentOrder {
    pub order: OrderView,
    /// Items left out because they are another shop's products.
    pub left_out: usize,
}

impl CustomerStore {
    /// Sends the list's items not yet ticked off (free text, and products
    /// of that shop) to `shop` as a pickup order. It reaches the shop with
    /// the next sync.
    pub fn send_order(&mut self, list: &str, shop: &str, note: Option<&str>) -> Result<SentOrder> {
        let list = self.list(list)?;
        let store = self.resolve_shop(shop)?;
        let name = self
            .profile()?
            .name
            .or(self.account()?.name)
            .unwrap_or_default();
        let order_id = new_id();
        let (request, left_out) =
            customer_side::request_from_list(&list, &store, &order_id, &name, note, self.now_ms())?;
        let doc = DocId::order_requests(&store, &self.customer_id);
        let own = self.own_doc();
        self.write(|w| {
            w.edit(&doc, |d| customer_side::put_order(d, request))?;
            w.edit(&own, |d| crate::customer::add_ordered_shop(d, &store))?;
            Ok(())
        })?;
        let order = self.order_by_id(&order_id)?;
        Ok(SentOrder { order, left_out })
    }

    /// Cancels an order (by id or id prefix) while the shop has not made it
    /// ready yet.
    pub fn cancel_order(&mut self, order: &str, reason: Option<&str>) -> Result<OrderView> {
        let current = self.order(order)?;
        let doc = DocId::order_requests(&current.store_id, &self.customer_id);
        let now = self.now_ms();
        self.write(|w| {
            w.edit(&doc, |d| {
                customer_side::put_cancel(d, &current, reason, now)
            })?;
            Ok(())
        })?;
        self.order_by_id(&current.id)
    }

    /// Every order with every shop, oldest first.
    pub fn orders(&mut self) -> Result<Vec<OrderView>> {
        let mut out = Vec::new();
        let customer = self.customer_id.clone();
        for store in self.order_stores()? {
            let requests = self.doc(&DocId::order_requests(&store, &customer))?.clone();
            let status = self.doc(&DocId::order_status(&store, &customer))?;
            out.extend(customer_side::orders(&store, &customer, &requests, status));
        }
        out.sort_by(|a, b| (a.sent_at, &a.id).cmp(&(b.sent_at, &b.id)));
        Ok(out)
    }

    /// One order, by id or id prefix.
    pub fn order(&mut self, order: &str) -> Result<OrderView> {
        let all = self.orders()?;
        let candidates: Vec<Candidate<'_>> = all
            .iter()
            .map(|o| Candidate {
                id: &o.id,
                names: vec![],
                label: format!("{} ('{}')", o.id, o.list_name),
            })
            .collect();
        let id = pick("order", "order", order, &candidates)?;
        self.order_by_id(&id)
    }

    fn order_by_id(&mut self, id: &str) -> Result<OrderView> {
        self.orders()?
            .into_iter()
            .find(|o| o.id == id)
            .ok_or_else(|| CoreError::not_found("order", id))
    }
}
