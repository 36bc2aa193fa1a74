//! Pickup orders and a shop's public catalog as the till, the CLI and the
//! customer see them. Plain data: the records behind them live in
//! `core/src/orders/` and `core/src/public_catalog.rs`.

use serde::{Deserialize, Serialize};

/// Where a pickup order stands. An order moves forward only:
/// sent → accepted → ready → collected; rejected (by the shop) and
/// cancelled (by the customer) end it early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Sent,
    Accepted,
    Ready,
    Collected,
    Rejected,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Sent => "sent",
            OrderStatus::Accepted => "accepted",
            OrderStatus::Ready => "ready",
            OrderStatus::Collected => "collected",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// Accepted or ready: its available lines hold stock back.
    pub fn reserves(self) -> bool {
        matches!(self, OrderStatus::Accepted | OrderStatus::Ready)
    }

    /// Collected, rejected or cancelled: nothing more happens to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Collected | OrderStatus::Rejected | OrderStatus::Cancelled
        )
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One pickup order, as both sides see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: String,
    pub store_id: String,
    pub customer_id: String,
    /// The customer's name when they sent it.
    pub customer_name: String,
    pub list_name: String,
    pub note: Option<String>,
    /// UTC milliseconds.
    pub sent_at: i64,
    pub status: OrderStatus,
    /// Why it was rejected or cancelled.
    pub reason: Option<String>,
    /// When the status last changed (UTC ms, the writer's clock).
    pub status_at: i64,
    /// The sale that collected it.
    pub sale_id: Option<String>,
    /// Two devices took the same step differently while offline (two tills
    /// collected it: two sales; or accepted it with other lines): what
    /// happened, for the shop to put right. The order shows one of them,
    /// the same on every device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<String>,
    pub lines: Vec<OrderLineView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineView {
    /// 1-based, as sent.
    pub line: u32,
    /// The shop's product, if the customer picked one.
    pub sku: Option<String>,
    pub text: String,
    pub qty: i64,
    /// Marked by the shop when it accepted the order.
    pub unavailable: bool,
    /// On a till: the product this line matched (by SKU), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// On a till, for an order that reserves: how many of this line's units
    /// the shop's available stock does not cover (an offline till sold them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shortfall: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// How much of a product a shop shows customers it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    InStock,
    Low,
    Out,
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::InStock => "in stock",
            Availability::Low => "low",
            Availability::Out => "out",
        }
    }
}

/// A shop's catalog as customers see it: never cost, supplier, reorder
/// points, sales or anything else internal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicCatalog {
    pub store_id: String,
    pub name: String,
    /// ISO 4217 code of the prices.
    pub currency: String,
    /// False once the shop stops publishing (its products are gone too).
    pub published: bool,
    /// Sorted by SKU.
    pub products: Vec<PublicProduct>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicProduct {
    pub sku: String,
    pub name: String,
    /// One unit, tax included, in minor units.
    pub price: i64,
    pub barcode: Option<String>,
    pub category: Option<String>,
    pub availability: Availability,
    /// The units available, only if the shop shows counts.
    pub count: Option<i64>,
}

/// A pickup order's line as a list's item becomes one (before it is sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineInput {
    pub sku: Option<String>,
    pub text: String,
    pub qty: i64,
}

/// The price shown to a customer, for display.
pub fn price_text(price: i64, currency: &str) -> String {
    match crate::Currency::from_code(currency) {
        Ok(c) => c.amount(price).to_string(),
        Err(_) => price.to_string(),
    }
}
