//! `shopsync.{store}.catalog.updated` (the design's `vendorUpdate`): one
//! per catalog change that touched products, derived on the server's
//! replica of the shop (`crate::public_derive`), which holds the catalog
//! document an edit's operations need to name its product.

use serde::Serialize;
use shopsync_core::catalog_edits::EditedProduct;

use super::{OutboxEvent, SCHEMA_VERSION, subject, to_json};

/// Products one event lists at most: a bigger change (an import of the
/// whole catalog) lists the first ones and says how many it touched.
pub const MAX_PRODUCTS_PER_EVENT: usize = 1_000;

/// JSON bytes of the products one event lists at most: 1,000 products
/// with names and SKUs of 1,000 bytes would pass NATS' default 1 MiB
/// payload (and JetStream would refuse the event for good), so the list
/// stops before the products reach a quarter of it.
pub const MAX_PRODUCTS_JSON_BYTES: usize = 256 * 1024;

#[derive(Debug, Serialize)]
pub struct CatalogUpdated<'a> {
    pub schema_version: u32,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub store_id: &'a str,
    /// The catalog change (its Automerge hash, hex).
    pub change: String,
    /// Products the change touched; `products` lists the first ones, at
    /// most `MAX_PRODUCTS_PER_EVENT` and `MAX_PRODUCTS_JSON_BYTES` of them
    /// (`truncated` when it lists fewer).
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
    /// The fields the change put or deleted, the first
    /// `catalog_edits::MAX_FIELDS` of them (`fields_truncated` past that).
    pub fields: &'a [String],
    pub fields_truncated: bool,
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
    let mut products = Vec::new();
    let mut bytes = 0usize;
    for e in edits.iter().take(max_products) {
        let p = ProductUpdate {
            product_id: &e.product_id,
            created: e.created,
            removed: e.removed,
            sku: e.sku.as_deref(),
            name: e.name.as_deref(),
            price: e.price,
            archived: e.active.map(|a| !a),
            fields: &e.fields,
            fields_truncated: e.fields_truncated,
        };
        // Its JSON and a comma.
        bytes += to_json(&p).len() + 1;
        if bytes > MAX_PRODUCTS_JSON_BYTES {
            break;
        }
        products.push(p);
    }
    let event = CatalogUpdated {
        schema_version: SCHEMA_VERSION,
        event_id: event_id.clone(),
        kind: "catalog.updated",
        store_id,
        change,
        products_total: edits.len(),
        truncated: products.len() < edits.len(),
        products,
    };
    Some(OutboxEvent {
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

    #[test]
    fn long_names_and_many_fields_keep_an_event_far_below_nats_payload() {
        let long = "n".repeat(1_000);
        let fields: Vec<String> = (0..shopsync_core::catalog_edits::MAX_FIELDS)
            .map(|i| format!("{i}{long}"))
            .collect();
        let edits: Vec<EditedProduct> = (0..MAX_PRODUCTS_PER_EVENT)
            .map(|i| EditedProduct {
                product_id: format!("{i}{long}"),
                name: Some(long.clone()),
                sku: Some(long.clone()),
                fields: fields.clone(),
                fields_truncated: true,
                ..EditedProduct::default()
            })
            .collect();
        let e = catalog_event([1; 32], "s", &edits, usize::MAX).unwrap();
        assert!(e.payload.len() <= MAX_PRODUCTS_JSON_BYTES + 1024);
        let json: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
        let listed = json["products"].as_array().unwrap();
        assert!(!listed.is_empty() && listed.len() < MAX_PRODUCTS_PER_EVENT);
        assert_eq!(json["truncated"], true);
        assert_eq!(json["products_total"], MAX_PRODUCTS_PER_EVENT);
        assert_eq!(listed[0]["name"], long.as_str());
        assert_eq!(listed[0]["fields_truncated"], true);

        // One product bigger than the cap on its own: listed not at all.
        let huge = [EditedProduct {
            product_id: "p".into(),
            name: Some("x".repeat(MAX_PRODUCTS_JSON_BYTES)),
            ..EditedProduct::default()
        }];
        let e = catalog_event([1; 32], "s", &huge, usize::MAX).unwrap();
        let json: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
        assert_eq!(json["products"].as_array().unwrap().len(), 0);
        assert_eq!(json["truncated"], true);

        // A small change is listed whole.
        let e = catalog_event([1; 32], "s", &edits[..2], usize::MAX).unwrap();
        let json: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
        assert_eq!(json["products"].as_array().unwrap().len(), 2);
        assert_eq!(json["truncated"], false);
    }
}
