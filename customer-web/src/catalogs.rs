//! Shops' public catalogs as the screens use them: read from the device's
//! documents once per change of the document (a 5,000-product catalog is
//! not decoded again for every keystroke or every list edit), with a
//! lower-case search text per product.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use shopsync_types::{PublicCatalog, PublicProduct};

use crate::session;

pub struct Catalog {
    pub catalog: PublicCatalog,
    /// Per product: name, SKU, barcode and category in lower case.
    haystack: Vec<String>,
}

impl Catalog {
    /// Products matching every word of `query` (all for an empty one).
    pub fn search(&self, query: &str) -> Vec<&PublicProduct> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        self.catalog
            .products
            .iter()
            .zip(&self.haystack)
            .filter(|(_, h)| words.iter().all(|w| h.contains(w.as_str())))
            .map(|(p, _)| p)
            .collect()
    }

    pub fn product(&self, sku: &str) -> Option<&PublicProduct> {
        self.catalog.products.iter().find(|p| p.sku == sku)
    }
}

/// Per shop: the document's heads (as bytes) and the catalog read at them.
type Cache = HashMap<String, (Vec<u8>, Rc<Catalog>)>;

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(HashMap::new());
    /// Names from the server's shop search, for shops not synced yet.
    static NAMES: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// Notes a shop's name as the server's search gave it.
pub fn remember_name(store_id: &str, name: &str) {
    NAMES.with(|n| {
        n.borrow_mut()
            .insert(store_id.to_string(), name.to_string())
    });
}

/// A shop's catalog as last synced (`None`: never synced).
pub fn get(store_id: &str) -> Option<Rc<Catalog>> {
    let doc_id = format!("store/{store_id}/public");
    let heads = session::with_device(|d| Ok(d.heads(&doc_id)))
        .ok()
        .flatten()?;
    let key: Vec<u8> = heads.iter().flat_map(|h| h.0).collect();
    if let Some(hit) = CACHE.with(|c| {
        c.borrow()
            .get(store_id)
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }) {
        return Some(hit);
    }
    let catalog = session::read(|d| d.catalog(store_id))
        .and_then(|r| r.ok())
        .flatten()?;
    let haystack = catalog
        .products
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {}",
                p.name,
                p.sku,
                p.barcode.as_deref().unwrap_or(""),
                p.category.as_deref().unwrap_or("")
            )
            .to_lowercase()
        })
        .collect();
    let out = Rc::new(Catalog { catalog, haystack });
    CACHE.with(|c| {
        c.borrow_mut()
            .insert(store_id.to_string(), (key, out.clone()))
    });
    Some(out)
}

/// A shop's name as its catalog gives it, else its id.
pub fn shop_name(store_id: &str) -> String {
    get(store_id)
        .map(|c| c.catalog.name.clone())
        .filter(|n| !n.is_empty())
        .or_else(|| NAMES.with(|n| n.borrow().get(store_id).cloned()))
        .unwrap_or_else(|| store_id.to_string())
}
