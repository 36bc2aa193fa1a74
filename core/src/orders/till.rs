//! What a shop does with pickup orders at the till: list and show them,
//! accept (marking lines it cannot supply), mark ready, reject, and collect
//! (the order becomes a sale at the counter, in the same transaction as the
//! record that marks it collected).

use rusqlite::{OptionalExtension, params};
use shopsync_types::{OrderLineView, OrderStatus, OrderView, SaleReceipt};

use super::records::{Accept, Collect, MAX_ORDER_TEXT, OrderRecord, Reject, Step};
use crate::error::{CoreError, Result};
use crate::ids::DocId;
use crate::ops::{CartLine, TenderInput};
use crate::store::{Store, Writer};

fn parse_status(s: &str) -> OrderStatus {
    match s {
        "accepted" => OrderStatus::Accepted,
        "ready" => OrderStatus::Ready,
        "collected" => OrderStatus::Collected,
        "rejected" => OrderStatus::Rejected,
        "cancelled" => OrderStatus::Cancelled,
        _ => OrderStatus::Sent,
    }
}

impl Store {
    /// Orders, newest first: those still open (sent, accepted, ready), or
    /// with `all` every order.
    pub fn orders(&self, all: bool) -> Result<Vec<OrderView>> {
        let sql = if all {
            "SELECT customer_id, id FROM orders ORDER BY sent_at DESC, id DESC"
        } else {
            "SELECT customer_id, id FROM orders WHERE status IN ('sent', 'accepted', 'ready')
             ORDER BY sent_at DESC, id DESC"
        };
        let keys: Vec<(String, String)> = self
            .conn
            .prepare(sql)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        keys.iter().map(|(c, id)| self.order_of(c, id)).collect()
    }

    /// How many orders wait for the shop to look at them (status sent).
    pub fn new_order_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM orders WHERE status = 'sent'",
                [],
                |r| r.get::<_, i64>(0),
            )?
            .max(0) as u64)
    }

    /// One order by id (or an unambiguous prefix of at least 4 characters).
    pub fn order(&self, id: &str) -> Result<OrderView> {
        let (customer, id) = self.find_order(id)?;
        self.order_of(&customer, &id)
    }

    fn find_order(&self, id: &str) -> Result<(String, String)> {
        let id = id.trim();
        if id.len() < 4 {
            return Err(CoreError::invalid(
                "order",
                "give at least the first 4 characters of the order id",
            ));
        }
        // An exact id first (another order whose id merely starts with it
        // must not make it ambiguous), then a prefix.
        let exact: Vec<(String, String)> = self
            .conn
            .prepare_cached("SELECT customer_id, id FROM orders WHERE id = ?1 LIMIT 2")?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        if let [one] = exact.as_slice() {
            return Ok(one.clone());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT customer_id, id FROM orders WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2",
        )?;
        let found: Vec<(String, String)> = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(CoreError::not_found("order", id)),
            _ => Err(CoreError::invalid(
                "order",
                format!("'{id}' names more than one order: give more of its id"),
            )),
        }
    }

    fn order_of(&self, customer: &str, id: &str) -> Result<OrderView> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT customer_name, list_name, note, sent_at, status, reason, status_at, sale_id, conflict
                 FROM orders WHERE customer_id = ?1 AND id = ?2",
            )?
            .query_row(params![customer, id], |r| {
                Ok(OrderView {
                    id: id.to_string(),
                    store_id: self.info.store_id.clone(),
                    customer_id: customer.to_string(),
                    customer_name: r.get(0)?,
                    list_name: r.get(1)?,
                    note: r.get(2)?,
                    sent_at: r.get(3)?,
                    status: parse_status(&r.get::<_, String>(4)?),
                    reason: r.get(5)?,
                    status_at: r.get(6)?,
                    sale_id: r.get(7)?,
                    conflict: r.get(8)?,
                    lines: Vec::new(),
                })
            })
            .optional()?;
        let mut order = row.ok_or_else(|| CoreError::not_found("order", id))?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.line_no, l.sku, l.text, l.qty, l.unavailable,
                    (SELECT p.id FROM products p WHERE p.sku = l.sku AND p.active = 1 ORDER BY p.id LIMIT 1)
             FROM order_lines l WHERE l.customer_id = ?1 AND l.order_id = ?2 ORDER BY l.line_no",
        )?;
        order.lines = stmt
            .query_map(params![customer, id], |r| {
                Ok(OrderLineView {
                    line: r.get(0)?,
                    sku: r.get(1)?,
                    text: r.get(2)?,
                    qty: r.get(3)?,
                    unavailable: r.get(4)?,
                    product_id: r.get(5)?,
                    shortfall: 0,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        if order.status.reserves() {
            for line in &mut order.lines {
                if let (Some(pid), false) = (&line.product_id, line.unavailable) {
                    let (on_hand, reserved) = self.on_hand_and_reserved(pid)?;
                    line.shortfall = (reserved - on_hand.max(0)).clamp(0, line.qty);
                }
            }
        }
        Ok(order)
    }

    /// A product's stock on hand and the units accepted orders hold back.
    pub fn on_hand_and_reserved(&self, product_id: &str) -> Result<(i64, i64)> {
        Ok(self.conn.query_row(
            "SELECT COALESCE((SELECT on_hand FROM stock_levels WHERE product_id = ?1), 0),
                    COALESCE((SELECT SUM(l.qty) FROM order_lines l
                              JOIN orders o ON o.customer_id = l.customer_id AND o.id = l.order_id
                              JOIN products p ON p.sku = l.sku
                              WHERE p.id = ?1 AND l.unavailable = 0
                                AND o.status IN ('accepted', 'ready')), 0)",
            [product_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Accepts an order. `unavailable` names lines the shop cannot supply,
    /// each by SKU or by line number.
    pub fn order_accept(&mut self, id: &str, unavailable: &[String]) -> Result<OrderView> {
        self.authorize_acting(&[crate::staff::Action::Sell])?;
        let order = self.order(id)?;
        expect(&order, &[OrderStatus::Sent], "accepted")?;
        let mut lines = Vec::new();
        for u in unavailable {
            let u = u.trim();
            let hit = order.lines.iter().find(|l| {
                u.parse::<u32>().is_ok_and(|n| n == l.line)
                    || l.sku.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(u))
            });
            match hit {
                Some(l) if !lines.contains(&l.line) => lines.push(l.line),
                Some(_) => {}
                None => {
                    return Err(CoreError::invalid(
                        "unavailable",
                        format!("order {} has no line with SKU or number '{u}'", order.id),
                    ));
                }
            }
        }
        lines.sort_unstable();
        let till = self.info.till_id.clone();
        self.write(|w| {
            let record = OrderRecord::Accept(Accept {
                order: order.id.clone(),
                till,
                at: w.now,
                unavailable: lines,
            });
            put_status(w, &order.customer_id, &record)
        })?;
        self.order_of(&order.customer_id, &order.id)
    }

    /// Marks an accepted order ready for pickup.
    pub fn order_ready(&mut self, id: &str) -> Result<OrderView> {
        self.authorize_acting(&[crate::staff::Action::Sell])?;
        let order = self.order(id)?;
        expect(&order, &[OrderStatus::Accepted], "made ready")?;
        let till = self.info.till_id.clone();
        self.write(|w| {
            let record = OrderRecord::Ready(Step {
                order: order.id.clone(),
                till,
                at: w.now,
            });
            put_status(w, &order.customer_id, &record)
        })?;
        self.order_of(&order.customer_id, &order.id)
    }

    /// Rejects an order that is not yet collected, with a reason the
    /// customer sees.
    pub fn order_reject(&mut self, id: &str, reason: &str) -> Result<OrderView> {
        self.authorize_acting(&[crate::staff::Action::Sell])?;
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > MAX_ORDER_TEXT {
            return Err(CoreError::invalid(
                "reason",
                format!("a rejection needs a reason of 1 to {MAX_ORDER_TEXT} bytes"),
            ));
        }
        let order = self.order(id)?;
        expect(
            &order,
            &[OrderStatus::Sent, OrderStatus::Accepted, OrderStatus::Ready],
            "rejected",
        )?;
        let till = self.info.till_id.clone();
        self.write(|w| {
            let record = OrderRecord::Reject(Reject {
                order: order.id.clone(),
                till,
                at: w.now,
                reason: reason.to_string(),
            });
            put_status(w, &order.customer_id, &record)
        })?;
        self.order_of(&order.customer_id, &order.id)
    }

    /// Collects an accepted or ready order: its available lines with a
    /// product of this shop become a sale, paid with `tenders`, and the
    /// order is marked collected in the same transaction. Free-text lines
    /// are not in the sale (ring them up separately).
    pub fn order_collect(
        &mut self,
        id: &str,
        tenders: &[TenderInput],
    ) -> Result<(OrderView, SaleReceipt)> {
        let order = self.order(id)?;
        expect(
            &order,
            &[OrderStatus::Accepted, OrderStatus::Ready],
            "collected",
        )?;
        let cart = collect_cart(&order)?;
        let till = self.info.till_id.clone();
        let customer = order.customer_id.clone();
        let order_id = order.id.clone();
        let receipt = self.sell_with(&cart, tenders, |w, sale| {
            let record = OrderRecord::Collect(Collect {
                order: order_id.clone(),
                till,
                at: w.now,
                sale_id: sale.id.clone(),
            });
            put_status(w, &customer, &record)
        })?;
        Ok((self.order_of(&order.customer_id, &order.id)?, receipt))
    }

    /// What collecting the order would sell (for the till to show the
    /// total before it takes payment).
    pub fn order_cart(&self, id: &str) -> Result<Vec<CartLine>> {
        collect_cart(&self.order(id)?)
    }
}

fn collect_cart(order: &OrderView) -> Result<Vec<CartLine>> {
    let cart: Vec<CartLine> = order
        .lines
        .iter()
        .filter(|l| !l.unavailable)
        .filter_map(|l| {
            l.product_id
                .as_ref()
                .map(|_| (l.sku.clone().unwrap_or_default(), l.qty))
        })
        .map(|(sku, qty)| CartLine::new(sku, qty))
        .collect();
    if cart.is_empty() {
        return Err(CoreError::invalid(
            "order",
            format!(
                "order {} has no available line with a product of this shop to sell",
                order.id
            ),
        ));
    }
    Ok(cart)
}

fn expect(order: &OrderView, from: &[OrderStatus], to: &str) -> Result<()> {
    if from.contains(&order.status) {
        return Ok(());
    }
    Err(CoreError::Conflict(format!(
        "order {} is {}: it cannot be {to} (only an order that is {})",
        order.id,
        order.status,
        from.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" or ")
    )))
}

/// Puts one status record in this store's status document for `customer`
/// and re-projects that customer's orders, in the caller's transaction.
fn put_status(w: &mut Writer<'_>, customer: &str, record: &OrderRecord) -> Result<()> {
    let doc_id = DocId::order_status(&w.info.store_id, customer);
    let bytes = record.encode()?;
    let key = record.key();
    w.docs.commit_local(w.conn, &doc_id, w.now, |doc| {
        use automerge::transaction::Transactable;
        doc.put(
            automerge::ROOT,
            key.as_str(),
            automerge::ScalarValue::Bytes(bytes),
        )?;
        Ok(())
    })?;
    super::project::project_doc(w.conn, &doc_id)
}
