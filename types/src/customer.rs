//! A customer's own document as the UI will see it: profile, favourite shops
//! and shopping lists (`core/src/customer/` reads these out of the
//! `customer/{id}` Automerge document). Plain data: no Automerge here.

use serde::{Deserialize, Serialize};

/// Quantities on a shopping list: whole units in `1..=MAX_ITEM_QTY`.
pub const MAX_ITEM_QTY: i64 = 10_000;

/// Names, free-text items, SKUs and e-mail addresses: at most this many bytes.
pub const MAX_TEXT_BYTES: usize = 1_000;

/// Everything in one customer's document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerView {
    pub profile: CustomerProfile,
    /// Store ids of favourite shops, sorted.
    pub favourites: Vec<String>,
    /// Shopping lists, oldest first (list ids are UUID v7).
    pub lists: Vec<ShoppingList>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerProfile {
    /// `None` until the customer sets a name.
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShoppingList {
    pub id: String,
    pub name: String,
    /// In the list's order; each item id appears once.
    pub items: Vec<ListItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListItem {
    pub id: String,
    pub what: ItemWhat,
    /// `1..=MAX_ITEM_QTY`.
    pub qty: i64,
    /// Ticked off (in the basket).
    pub checked: bool,
}

/// What an item is: a line of free text, or a product of one shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemWhat {
    Text { text: String },
    Product { store_id: String, sku: String },
}
