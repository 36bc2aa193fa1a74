//! Shops as this device knows them: by name from the last search
//! (`remember_shops`) and from the public catalogs it has synced;
//! favourites (in the customer's document); and a shop's public catalog,
//! read from the locally synced `store/{s}/public` (so it works offline).

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use shopsync_types::{PublicCatalog, PublicProduct};

use super::CustomerStore;
use super::resolve::{Candidate, pick};
use crate::customer;
use crate::error::{CoreError, Result};
use crate::ids::DocId;
use crate::public_catalog;

/// A shop this device has heard of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownShop {
    pub store_id: String,
    /// Empty if the device only knows its id.
    pub name: String,
    pub favourite: bool,
}

/// A shop's public catalog as synced to this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogView {
    /// False if this device never received the shop's public catalog: the
    /// catalog is then empty, and the next sync fetches it.
    pub synced: bool,
    /// When this device last synced it (UTC ms).
    pub synced_at: Option<i64>,
    pub catalog: PublicCatalog,
}

impl CustomerStore {
    /// Remembers shops by name (from a `GET /v1/shops` answer).
    pub fn remember_shops(&mut self, shops: &[(String, String)]) -> Result<()> {
        for (id, _) in shops {
            customer::check_store_id("store_id", id)?;
        }
        self.write(|w| {
            let mut put = w.conn.prepare_cached(
                "INSERT INTO shops (store_id, name, seen_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store_id) DO UPDATE SET name = excluded.name, seen_at = excluded.seen_at",
            )?;
            for (id, name) in shops {
                put.execute(params![id, name.trim(), w.now])?;
            }
            Ok(())
        })
    }

    /// Every shop this device knows: searched, favourite, ordered from or
    /// looked at; sorted by name.
    pub fn known_shops(&mut self) -> Result<Vec<KnownShop>> {
        let mut out: BTreeMap<String, KnownShop> = BTreeMap::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT store_id, name FROM shops")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, name) = row?;
                out.insert(
                    id.clone(),
                    KnownShop {
                        store_id: id,
                        name,
                        favourite: false,
                    },
                );
            }
        }
        for store in self.order_stores()? {
            out.entry(store.clone()).or_insert(KnownShop {
                store_id: store,
                name: String::new(),
                favourite: false,
            });
        }
        for fav in self.view()?.favourites {
            out.entry(fav.clone())
                .or_insert(KnownShop {
                    store_id: fav,
                    name: String::new(),
                    favourite: false,
                })
                .favourite = true;
        }
        let mut shops: Vec<KnownShop> = out.into_values().collect();
        for s in &mut shops {
            if s.name.is_empty() {
                let name = self.stored_catalog(&s.store_id)?.name;
                s.name = name;
            }
        }
        shops.sort_by(|a, b| {
            (a.name.to_lowercase(), &a.store_id).cmp(&(b.name.to_lowercase(), &b.store_id))
        });
        Ok(shops)
    }

    /// The store id `shop` names: a known shop's id or name (or a prefix of
    /// either), or else any well-formed store id.
    pub fn resolve_shop(&mut self, shop: &str) -> Result<String> {
        let shops = self.known_shops()?;
        let candidates: Vec<Candidate<'_>> = shops
            .iter()
            .map(|s| Candidate {
                id: &s.store_id,
                names: if s.name.is_empty() {
                    vec![]
                } else {
                    vec![&s.name]
                },
                label: format!("'{}' ({})", s.name, s.store_id),
            })
            .collect();
        match pick("shop", "shop", shop, &candidates) {
            Err(CoreError::NotFound { .. })
                if customer::check_store_id("shop", shop.trim()).is_ok()
                    && shop.trim().len() >= 32 =>
            {
                Ok(shop.trim().to_string())
            }
            Err(CoreError::NotFound { .. }) => Err(CoreError::invalid(
                "shop",
                format!(
                    "no shop '{}' known on this device: find it with `shopsync customer shops --search NAME` (or give its id)",
                    shop.trim()
                ),
            )),
            other => other,
        }
    }

    /// Favourite shops (their catalogs and orders are followed by sync).
    pub fn favourites(&mut self) -> Result<Vec<KnownShop>> {
        Ok(self
            .known_shops()?
            .into_iter()
            .filter(|s| s.favourite)
            .collect())
    }

    /// Adds a shop to the favourites; returns its id.
    pub fn add_favourite(&mut self, shop: &str) -> Result<String> {
        let id = self.resolve_shop(shop)?;
        self.edit_own(|doc| customer::add_favourite(doc, &id))?;
        Ok(id)
    }

    /// Removes a favourite; returns its id.
    pub fn remove_favourite(&mut self, shop: &str) -> Result<String> {
        let id = self.resolve_shop(shop)?;
        if !self.view()?.favourites.contains(&id) {
            return Err(CoreError::not_found("favourite shop", shop.trim()));
        }
        self.edit_own(|doc| customer::remove_favourite(doc, &id))?;
        Ok(id)
    }

    /// A shop's public catalog as last synced here, its products filtered
    /// by `search` (name, SKU, barcode or category containing it, ignoring
    /// case). The shop is followed by the next syncs from now on.
    pub fn catalog(&mut self, shop: &str, search: Option<&str>) -> Result<CatalogView> {
        let id = self.resolve_shop(shop)?;
        self.write(|w| {
            w.conn
                .prepare_cached(
                    "INSERT INTO shops (store_id, name, seen_at, looked_at) VALUES (?1, '', ?2, ?2)
                     ON CONFLICT (store_id) DO UPDATE SET looked_at = excluded.looked_at",
                )?
                .execute(params![id, w.now])?;
            Ok(())
        })?;
        let doc = DocId::Public { store: id.clone() };
        let synced_at: Option<i64> = self
            .conn
            .prepare_cached("SELECT synced_at FROM doc_cursors WHERE doc_id = ?1")?
            .query_row([doc.to_string()], |r| r.get(0))
            .optional()?;
        let has_changes = self
            .conn
            .prepare_cached("SELECT 1 FROM doc_changes WHERE doc_id = ?1")?
            .exists([doc.to_string()])?;
        let mut catalog = self.stored_catalog(&id)?;
        if let Some(q) = search.map(str::trim).filter(|q| !q.is_empty()) {
            let q = q.to_lowercase();
            catalog.products.retain(|p| matches(p, &q));
        }
        Ok(CatalogView {
            synced: synced_at.is_some() || has_changes,
            synced_at,
            catalog,
        })
    }

    /// The public catalog stored here (empty if never synced), without
    /// marking the shop as looked at.
    pub fn stored_catalog(&mut self, store_id: &str) -> Result<PublicCatalog> {
        let doc = DocId::Public {
            store: store_id.to_string(),
        };
        public_catalog::read(self.doc(&doc)?, store_id)
    }

    /// A product's SKU as the shop spells it, checked against the shop's
    /// catalog if this device has one (a shop never synced: as given).
    pub(crate) fn catalog_sku(&mut self, store_id: &str, sku: &str) -> Result<String> {
        let catalog = self.stored_catalog(store_id)?;
        if catalog.products.is_empty() {
            return Ok(sku.to_string());
        }
        catalog
            .products
            .iter()
            .find(|p| p.sku.eq_ignore_ascii_case(sku))
            .map(|p| p.sku.clone())
            .ok_or_else(|| {
                CoreError::not_found(
                    "product",
                    format!(
                        "{sku} in the catalog of {}",
                        if catalog.name.is_empty() {
                            store_id
                        } else {
                            &catalog.name
                        }
                    ),
                )
            })
    }

    /// Shops this device has order documents with, and shops the customer
    /// ordered from on any device.
    pub(crate) fn order_stores(&mut self) -> Result<Vec<String>> {
        let own = self.own_doc();
        let mut out = crate::customer::ordered_shops(self.doc(&own)?);
        for doc in crate::docs::document_ids(&self.conn)? {
            if let DocId::OrderRequests { store, .. } | DocId::OrderStatus { store, .. } = doc
                && !out.contains(&store)
            {
                out.push(store);
            }
        }
        Ok(out)
    }

    /// Shops whose catalog the customer looked at.
    pub(crate) fn looked_at_shops(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT store_id FROM shops WHERE looked_at IS NOT NULL ORDER BY store_id",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn matches(p: &PublicProduct, q: &str) -> bool {
    p.name.to_lowercase().contains(q)
        || p.sku.to_lowercase().contains(q)
        || p.barcode.as_deref().is_some_and(|b| b.contains(q))
        || p.category
            .as_deref()
            .is_some_and(|c| c.to_lowercase().contains(q))
}
