//! `shopsync.{store}.catalog.updated` (the design's `vendorUpdate`): one
//! per catalog change that touched products, derived on the server's
//! replica of the shop (`crate::public_derive`), which holds the catalog
//! document an edit's operations need to name its product.

use serde::Serialize;
use shopsync_core::catalog_edits::EditedProduct;

use super::{OutboxEvent, SCHEMA_VERSION, subject, to_json};

/// Products one event lists at most: a bigger change (an import of the
/// whole catalog) lists the first ones and says how many it touched, so an
/// event stays far below NATS' default 1 MiB payload.
pub const MAX_PRODUCTS_PER_EVENT: usize = 1_000;

#[derive(Debug, Serialize)]
pub struct CatalogUpdated<'a> {
    pub schema_version: u32,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub store_id: &'a str,
    /// The catalog change (its Automerge hash, hex).
    pub change: String,
    /// Products the change touched, `products` lists the first
    /// `MAX_PRODUCTS_PER_EVENT`.
    pub products_total: usize,
    pub truncated: bool,
    pub products: Vec<ProductUpdate<'a>>,
}

/// A product as the change left it: a value is `null` when the change did
/// not put it.
#[derive(Debug, Serialize)]
pub struct ProductUpdate<'a> {
    pub product_id: &'a str,
    pub created: bool,
    pub removed: bool,
    pub sku: Option<&'a str>,
    pub name: Option<&'a str>,
    /// Minor units of the store's currency.
    pub price: Option<i64>,
    pub archived: Option<bool>,
    /// Every field the change put or deleted.
    pub fields: &'a [String],
}

/// The event of one catalog change, if it touched products, listing at
/// most `max_products` of them.
pub fn catalog_event(
    change_hash: [u8; 32],
    store_id: &str,
    edits: &[EditedProduct],
    max_products: usize,
) -> Option<OutboxEvent> {
    let max_products = max_products.min(MAX_PRODUCTS_PER_EVENT);
    if edits.is_empty() {
        return None;
    }
    let change = hex(&change_hash);
    let event_id = format!("{store_id}/catalog/{change}");
    let event = CatalogUpdated {
        schema_version: SCHEMA_VERSION,
        event_id: event_id.clone(),
        kind: "catalog.updated",
        store_id,
        change,
        products_total: edits.len(),
        truncated: edits.len() > max_products,
        products: edits
            .iter()
            .take(max_products)
            .map(|e| ProductUpdate {
                product_id: &e.product_id,
                created: e.created,
                removed: e.removed,
                sku: e.sku.as_deref(),
                name: e.name.as_deref(),
                price: e.price,
                archived: e.active.map(|a| !a),
                fields: &e.fields,
            })
            .collect(),
    };
    Some(OutboxEvent {
        change_hash,
        subject: subject(store_id, event.kind),
        payload: to_json(&event),
        event_id,
    })
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_touching_no_product_gives_no_event_and_a_big_one_is_cut() {
        assert!(catalog_event([1; 32], "s", &[], usize::MAX).is_none());
        let edits: Vec<EditedProduct> = (0..MAX_PRODUCTS_PER_EVENT + 1)
            .map(|i| EditedProduct {
                product_id: format!("p{i}"),
                active: Some(false),
                ..EditedProduct::default()
            })
            .collect();
        let e = catalog_event([1; 32], "s", &edits, usize::MAX).unwrap();
        assert_eq!(e.event_id, format!("s/catalog/{}", "01".repeat(32)));
        assert_eq!(e.subject, "shopsync.s.catalog.updated");
        let json: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
        assert_eq!(json["products_total"], MAX_PRODUCTS_PER_EVENT + 1);
        assert_eq!(json["truncated"], true);
        assert_eq!(
            json["products"].as_array().unwrap().len(),
            MAX_PRODUCTS_PER_EVENT
        );
        assert_eq!(json["products"][0]["archived"], true);
        assert_eq!(json["products"][0]["price"], serde_json::Value::Null);
        // Past the page's cap: the ids of the change and the count only.
        let bare = catalog_event([1; 32], "s", &edits[..1], 0).unwrap();
        let json: serde_json::Value = serde_json::from_str(&bare.payload).unwrap();
        assert_eq!(json["products_total"], 1);
        assert_eq!(json["truncated"], true);
        assert_eq!(json["products"].as_array().unwrap().len(), 0);
    }
}
