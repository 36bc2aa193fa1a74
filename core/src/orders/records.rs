//! Order records: what a customer's devices put in `store/{s}/orders/{c}/requests`
//! (an order, its cancellation) and what the shop's devices put in
//! `store/{s}/orders/{c}/status` (accepted, ready, rejected, collected).
//!
//! Like ledger records, each is one immutable bytes value under its root key
//! (`{kind}/{order id}`): a schema-version byte, then JSON. Nothing is ever
//! edited, so two devices never merge field by field; a status is a new
//! record, and the order's state is read from which records exist
//! (`state.rs`). Two tills writing the same step concurrently both put one
//! key: Automerge keeps one winner on every replica.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

pub const ORDER_SCHEMA_VERSION: u8 = 1;

/// Lines an order may have.
pub const MAX_ORDER_LINES: usize = 200;
/// Reasons, notes, names and free-text lines: at most this many bytes.
pub const MAX_ORDER_TEXT: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrderRecord {
    /// Requests document: a list sent for pickup.
    Order(OrderRequest),
    /// Requests document: the customer calls it off.
    Cancel(Cancel),
    /// Status document: the shop takes it on, some lines marked unavailable.
    Accept(Accept),
    /// Status document: packed and waiting at the counter.
    Ready(Step),
    /// Status document: the shop will not prepare it.
    Reject(Reject),
    /// Status document: paid and handed over; `sale_id` is the sale.
    Collect(Collect),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub id: String,
    pub customer_name: String,
    /// The shopping list it was sent from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_id: Option<String>,
    pub list_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub sent_at: i64,
    pub lines: Vec<RequestLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLine {
    /// 1, 2, 3, … in order.
    pub line: u32,
    /// The shop's product, or `None` for free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub text: String,
    pub qty: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancel {
    pub order: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accept {
    pub order: String,
    pub till: String,
    pub at: i64,
    /// Line numbers the shop cannot supply.
    #[serde(default)]
    pub unavailable: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub order: String,
    pub till: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    pub order: String,
    pub till: String,
    pub at: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collect {
    pub order: String,
    pub till: String,
    pub at: i64,
    pub sale_id: String,
}

impl OrderRecord {
    /// The kind, as the first part of the root key.
    pub fn kind(&self) -> &'static str {
        match self {
            OrderRecord::Order(_) => "order",
            OrderRecord::Cancel(_) => "cancel",
            OrderRecord::Accept(_) => "accept",
            OrderRecord::Ready(_) => "ready",
            OrderRecord::Reject(_) => "reject",
            OrderRecord::Collect(_) => "collect",
        }
    }

    /// The order this record is about.
    pub fn order_id(&self) -> &str {
        match self {
            OrderRecord::Order(r) => &r.id,
            OrderRecord::Cancel(r) => &r.order,
            OrderRecord::Accept(r) => &r.order,
            OrderRecord::Ready(r) => &r.order,
            OrderRecord::Reject(r) => &r.order,
            OrderRecord::Collect(r) => &r.order,
        }
    }

    /// Where it is stored: `{kind}/{order id}`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.kind(), self.order_id())
    }

    /// Written by a customer (requests document) rather than a shop.
    pub fn by_customer(&self) -> bool {
        matches!(self, OrderRecord::Order(_) | OrderRecord::Cancel(_))
    }

    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = vec![ORDER_SCHEMA_VERSION];
        serde_json::to_writer(&mut out, self)
            .map_err(|e| CoreError::Corrupt(format!("cannot encode order record: {e}")))?;
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> std::result::Result<Self, String> {
        match bytes.split_first() {
            Some((&ORDER_SCHEMA_VERSION, json)) => {
                serde_json::from_slice(json).map_err(|e| format!("does not decode: {e}"))
            }
            Some((v, _)) => Err(format!(
                "has schema version {v}; this version of ShopSync reads {ORDER_SCHEMA_VERSION}"
            )),
            None => Err("is empty".into()),
        }
    }
}
