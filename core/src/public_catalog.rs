//! A shop's public catalog, `store/{store}/public`: what customers see of
//! its products (name, price as paid, barcode, category, availability) and
//! nothing internal. The sync server derives it from the shop's own
//! projections (the same tables a till has, filled by the same projection
//! code from the catalog, ledgers and orders) and writes it as the only
//! writer; customers' devices read it.
//!
//! Layout: root key `shop` holds the shop's name, currency and whether it
//! publishes; `product/{sku, lower case}` holds one product. Each value is a
//! JSON string, replaced whole when it changes (one writer: nothing to merge).
//!
//! The shop decides with two settings: `publish` (`true`/`false`, default
//! false) and `publish_detail` (`band`: in stock / low / out, the default;
//! `count`: the exact number available too).

use std::collections::BTreeMap;

use automerge::{AutoCommit, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable};
#[cfg(feature = "store")]
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use shopsync_types::{Availability, PublicCatalog, PublicProduct};

use crate::error::Result;
#[cfg(feature = "store")]
use crate::pricing::{TaxRule, price_line};

const SHOP: &str = "shop";
const PRODUCT: &str = "product/";

/// Available units at or below this show as "low" for products without a
/// reorder point.
pub const LOW_WITHOUT_REORDER_POINT: i64 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Shop {
    name: String,
    currency: String,
    published: bool,
}

#[cfg(feature = "store")]
fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

#[cfg(feature = "store")]
/// Whether the shop publishes, from its settings.
pub fn publishes(conn: &Connection) -> Result<bool> {
    Ok(setting(conn, "publish")?.as_deref() == Some("true"))
}

/// The band a number of available units falls in.
pub fn band(available: i64, reorder_point: Option<i64>) -> Availability {
    if available <= 0 {
        Availability::Out
    } else if available <= reorder_point.unwrap_or(LOW_WITHOUT_REORDER_POINT) {
        Availability::Low
    } else {
        Availability::InStock
    }
}

/// The public catalog as a store's projections show it now. Availability
/// counts what accepted pickup orders hold back as gone. A shop that does
/// not publish gets an empty, unpublished catalog.
#[cfg(feature = "store")]
pub fn derive(conn: &Connection, store_id: &str) -> Result<PublicCatalog> {
    let name = setting(conn, "store_name")?.unwrap_or_default();
    let currency = setting(conn, "currency")?.unwrap_or_default();
    let mut out = PublicCatalog {
        store_id: store_id.to_string(),
        name,
        currency,
        published: publishes(conn)?,
        products: Vec::new(),
    };
    if !out.published {
        return Ok(out);
    }
    let counts = setting(conn, "publish_detail")?.as_deref() == Some("count");
    let mut stmt = conn.prepare(
        "SELECT p.sku, p.name, p.price, p.barcodes, t.rate_bp, t.inclusive,
                COALESCE((SELECT c.name FROM categories c WHERE c.id = p.category), p.category),
                p.reorder_point,
                COALESCE(s.on_hand, 0) - COALESCE((
                    SELECT SUM(l.qty) FROM order_lines l
                    JOIN orders o ON o.customer_id = l.customer_id AND o.id = l.order_id
                    WHERE l.sku = p.sku AND l.unavailable = 0 AND o.status IN ('accepted', 'ready')), 0)
         FROM products p
         LEFT JOIN tax_classes t ON t.id = p.tax_class
         LEFT JOIN stock_levels s ON s.product_id = p.id
         WHERE p.active = 1
         ORDER BY lower(p.sku), p.id",
    )?;
    let mut rows = stmt.query([])?;
    let mut seen = std::collections::HashSet::new();
    while let Some(r) = rows.next()? {
        let sku: String = r.get(0)?;
        // Two products with one SKU (a catalog conflict): customers order
        // by SKU, so one is shown, the same one everywhere.
        if !seen.insert(sku.to_lowercase()) {
            continue;
        }
        let price: i64 = r.get(2)?;
        let barcodes: String = r.get(3)?;
        let rate: Option<i64> = r.get(4)?;
        let inclusive: Option<bool> = r.get(5)?;
        let tax = rate.map(|rate_bp| TaxRule {
            rate_bp: u32::try_from(rate_bp).unwrap_or(0),
            inclusive: inclusive.unwrap_or(true),
        });
        let paid = price_line(1, price, 0, tax)?.total;
        let reorder: Option<i64> = r.get(7)?;
        let available: i64 = r.get(8)?;
        out.products.push(PublicProduct {
            sku,
            name: r.get(1)?,
            price: paid,
            barcode: barcodes
                .split(',')
                .find(|b| !b.is_empty())
                .map(str::to_string),
            category: r.get(6)?,
            availability: band(available, reorder),
            count: counts.then_some(available.max(0)),
        });
    }
    Ok(out)
}

fn product_key(sku: &str) -> String {
    format!("{PRODUCT}{}", sku.to_lowercase())
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| crate::CoreError::Corrupt(e.to_string()))
}

fn current(doc: &AutoCommit) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for key in doc.keys(ROOT) {
        if let Some((Value::Scalar(s), _)) = doc.get(ROOT, key.as_str())?
            && let ScalarValue::Str(t) = s.as_ref()
        {
            out.insert(key, t.to_string());
        }
    }
    Ok(out)
}

/// Makes the document show `catalog`, writing only what changed. Returns
/// how many keys were written or deleted (0: nothing to commit).
pub fn write(doc: &mut AutoCommit, catalog: &PublicCatalog) -> Result<usize> {
    let mut want = BTreeMap::new();
    want.insert(
        SHOP.to_string(),
        json(&Shop {
            name: catalog.name.clone(),
            currency: catalog.currency.clone(),
            published: catalog.published,
        })?,
    );
    for p in &catalog.products {
        want.insert(product_key(&p.sku), json(p)?);
    }
    let have = current(doc)?;
    let mut n = 0;
    for (key, value) in &want {
        if have.get(key) != Some(value) {
            doc.put(ROOT, key.as_str(), value.as_str())?;
            n += 1;
        }
    }
    for key in doc.keys(ROOT).collect::<Vec<_>>() {
        if !want.contains_key(&key) {
            doc.delete(ROOT, key.as_str())?;
            n += 1;
        }
    }
    Ok(n)
}

/// The catalog a public document shows (empty and unpublished if the
/// server has not written one).
pub fn read(doc: &AutoCommit, store_id: &str) -> Result<PublicCatalog> {
    let mut out = PublicCatalog {
        store_id: store_id.to_string(),
        ..PublicCatalog::default()
    };
    for (key, value) in current(doc)? {
        if key == SHOP {
            if let Ok(shop) = serde_json::from_str::<Shop>(&value) {
                out.name = shop.name;
                out.currency = shop.currency;
                out.published = shop.published;
            }
        } else if key.starts_with(PRODUCT)
            && let Ok(p) = serde_json::from_str::<PublicProduct>(&value)
        {
            out.products.push(p);
        }
    }
    out.products.sort_by_key(|p| p.sku.to_lowercase());
    Ok(out)
}

#[cfg(feature = "store")]
impl crate::Store {
    /// Derives the public catalog from this store's projections and writes
    /// what changed to `store/{store}/public` as one local change. Returns
    /// the catalog and that change (`None`: the document already showed it,
    /// or the shop never published).
    /// The sync server runs this on its own replica of each shop.
    pub fn refresh_public_catalog(&mut self) -> Result<(PublicCatalog, Option<automerge::Change>)> {
        let store_id = self.info().store_id.clone();
        let catalog = derive(self.connection(), &store_id)?;
        let doc_id = crate::ids::DocId::Public { store: store_id };
        let change = self.write(|w| {
            // A shop that never published gets no public document at all.
            if !catalog.published && w.docs.get(w.conn, &doc_id)?.doc.get(ROOT, SHOP)?.is_none() {
                return Ok(None);
            }
            let hash = w.docs.commit_local(w.conn, &doc_id, w.now, |doc| {
                write(doc, &catalog)?;
                Ok(())
            })?;
            let Some(hash) = hash else {
                return Ok(None);
            };
            let loaded = w.docs.get(w.conn, &doc_id)?;
            Ok(loaded.doc.get_change_by_hash(&hash))
        })?;
        Ok((catalog, change))
    }
}
