//! IPC inputs for categories and the favourites grid (issue 10).

use serde::{Deserialize, Serialize};

/// Categories to list: archived ones too with `include_archived`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryQuery {
    #[serde(default)]
    pub include_archived: bool,
}

/// A category's new name; `id` names the category to rename (absent: a
/// new category).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryNameInput {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
}

/// Archive a category (`archived` true) or bring it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryArchiveInput {
    pub id: String,
    pub archived: bool,
}

/// The products of one category, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryProductsQuery {
    pub category: String,
    /// Text the name or SKU holds (any case); empty: every product.
    #[serde(default)]
    pub query: String,
    pub limit: u32,
    #[serde(default)]
    pub include_archived: bool,
}

/// A product (id or SKU) put on the favourites grid or moved on it: at
/// place `pos` (1 first; absent: last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FavouriteInput {
    pub product: String,
    #[serde(default)]
    pub pos: Option<i64>,
}
