//! Catalog operations that keep money and stock right when devices disagree:
//! tax classes changed field by field, products named by id (two tills can
//! create one SKU twice offline), merging such duplicates with their stock,
//! and refusing catalog edits on a device enrolled as a till.

use rusqlite::{Connection, OptionalExtension};
use shopsync_types::{Currency, Product, TaxClass};

use super::catalog_ops::ProductEdit;
use super::lookup;
use crate::access::Role;
use crate::catalog::{self, Field, PRODUCT};
use crate::error::{CoreError, Result};
use crate::ids::new_id;
use crate::records::{AdjustReason, AdjustmentRecord, Record};
use crate::store::Store;

/// Meta key of the role the sync server gave this device (see `sync::SyncConfig`).
const KEY_ROLE: &str = "sync.role";

/// Refuses a catalog edit on a device enrolled as a till: the server accepts
/// catalog changes from managers only, so the edit would stay on this device.
pub(crate) fn ensure_catalog_writable(conn: &Connection) -> Result<()> {
    let role: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([KEY_ROLE], |r| r.get(0))
        .optional()?;
    if role.as_deref().and_then(Role::parse) == Some(Role::Till) {
        return Err(CoreError::CatalogReadOnly);
    }
    Ok(())
}

/// Fills `sku_clash` of an active product: the other active products with
/// the same SKU (case-insensitive), created on two devices that had not seen
/// each other. Look-ups by SKU find only one of them.
pub(crate) fn fill_sku_clash(conn: &Connection, p: &mut Product) -> Result<()> {
    if !p.active {
        return Ok(());
    }
    p.sku_clash = conn
        .prepare_cached(
            "SELECT id FROM products WHERE sku = ?1 AND id <> ?2 AND active = 1 ORDER BY id",
        )?
        .query_map(rusqlite::params![p.sku, p.id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(())
}

/// Up to this many products (a page of search results: the app asks for
/// 200), clashes are looked up one product at a time.
pub const CLASH_LOOKUPS_MAX: usize = 250;

/// [`fill_sku_clash`] for many products: one look-up each for a page of
/// results, one pass over the SKU index for a whole catalog (CSV export).
pub(crate) fn fill_sku_clashes(conn: &Connection, products: &mut [Product]) -> Result<()> {
    if products.len() <= CLASH_LOOKUPS_MAX {
        for p in products.iter_mut() {
            fill_sku_clash(conn, p)?;
        }
        return Ok(());
    }
    let clashing: Vec<(String, String)> = conn
        .prepare_cached(
            "SELECT lower(sku), id FROM products WHERE active = 1 AND sku IN
               (SELECT sku FROM products WHERE active = 1 GROUP BY sku HAVING COUNT(*) > 1)
             ORDER BY id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if clashing.is_empty() {
        return Ok(());
    }
    for p in products.iter_mut().filter(|p| p.active) {
        let sku = p.sku.to_ascii_lowercase();
        p.sku_clash = clashing
            .iter()
            .filter(|(s, id)| *s == sku && *id != p.id)
            .map(|(_, id)| id.clone())
            .collect();
    }
    Ok(())
}

/// A product named by id, or by SKU; `SKU#n` names the n-th (1-based, by
/// id) active product of a clashing SKU, as `product show SKU` lists them.
pub(crate) fn by_ref(conn: &Connection, currency: Currency, reference: &str) -> Result<Product> {
    let r = reference.trim();
    if let Some(p) = lookup::by_id(conn, currency, r)? {
        return Ok(p);
    }
    if let Some((sku, n)) = r.rsplit_once('#')
        && let Ok(n) = n.parse::<usize>()
    {
        let ids: Vec<String> = conn
            .prepare_cached("SELECT id FROM products WHERE sku = ?1 ORDER BY active DESC, id")?
            .query_map([sku.trim()], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        return match n.checked_sub(1).and_then(|i| ids.get(i)) {
            Some(id) => {
                lookup::by_id(conn, currency, id)?.ok_or_else(|| CoreError::not_found("product", r))
            }
            None => Err(CoreError::not_found("product", r)),
        };
    }
    lookup::by_sku(conn, currency, r)?.ok_or_else(|| CoreError::not_found("product", r))
}

/// Fields of a tax class to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TaxClassEdit {
    pub id: String,
    pub name: Option<String>,
    pub rate_bp: Option<u32>,
    pub inclusive: Option<bool>,
}

/// What `merge_products` did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MergeReport {
    pub kept: Product,
    pub archived: Product,
    /// Stock moved from the archived product to the kept one.
    pub moved_stock: i64,
}

impl Store {
    /// Creates a tax class or changes only the given fields of an existing
    /// one. A new class needs a rate; its name defaults to its id and it is
    /// inclusive unless told otherwise.
    pub fn update_tax_class(&mut self, e: TaxClassEdit) -> Result<TaxClass> {
        let id = super::catalog_ops::tax_class_id(&e.id)?;
        if e.rate_bp.is_some_and(|r| r > 10_000) {
            return Err(CoreError::invalid("rate", "a tax rate cannot exceed 100 %"));
        }
        let name = match e.name.as_deref().map(str::trim) {
            Some("") => return Err(CoreError::invalid("name", "name must not be empty")),
            other => other.map(str::to_string),
        };
        let exists = lookup::tax_rule(&self.conn, &id)?.is_some();
        let mut fields = Vec::new();
        if exists {
            if let Some(n) = name {
                fields.push(("name", Field::Str(n)));
            }
            if let Some(r) = e.rate_bp {
                fields.push(("rate_bp", Field::Int(i64::from(r))));
            }
            if let Some(i) = e.inclusive {
                fields.push(("inclusive", Field::Bool(i)));
            }
            if fields.is_empty() {
                return Err(CoreError::invalid(
                    "edit",
                    "nothing to change: give --rate, --name, --inclusive or --exclusive",
                ));
            }
        } else {
            let rate = e.rate_bp.ok_or_else(|| {
                CoreError::invalid("rate", format!("new tax class '{id}' needs a rate"))
            })?;
            fields.push(("name", Field::Str(name.unwrap_or_else(|| id.clone()))));
            fields.push(("rate_bp", Field::Int(i64::from(rate))));
            fields.push(("inclusive", Field::Bool(e.inclusive.unwrap_or(true))));
        }
        self.write_tax_class(id, exists, fields)
    }

    /// A product by id, SKU, or `SKU#n` (the n-th product sharing a SKU),
    /// with its SKU clash filled in.
    pub fn product_by_ref(&self, reference: &str) -> Result<Product> {
        let mut p = by_ref(&self.conn, self.currency, reference)?;
        fill_sku_clash(&self.conn, &mut p)?;
        Ok(p)
    }

    /// Edits the product named by id, SKU or `SKU#n`: the way to rename one
    /// of two products that share a SKU.
    pub fn edit_product_ref(&mut self, reference: &str, edit: ProductEdit) -> Result<Product> {
        let p = by_ref(&self.conn, self.currency, reference)?;
        self.edit_product_id(&p.id, edit)
    }

    /// Merges two products (typically the same SKU created on two tills):
    /// `other` is archived, its barcodes move to `keep`, and its stock on hand
    /// moves to `keep` with two `correction` adjustments in this till's
    /// ledger, so stock is kept and the move is in the history.
    pub fn merge_products(&mut self, keep: &str, other: &str) -> Result<MergeReport> {
        let kept = by_ref(&self.conn, self.currency, keep)?;
        let gone = by_ref(&self.conn, self.currency, other)?;
        if kept.id == gone.id {
            return Err(CoreError::invalid(
                "product",
                "cannot merge a product with itself",
            ));
        }
        if !kept.active {
            return Err(CoreError::invalid(
                "product",
                format!(
                    "the product to keep ({}, {}) is archived",
                    kept.sku, kept.id
                ),
            ));
        }
        let on_hand: i64 = self.conn.query_row(
            "SELECT COALESCE((SELECT on_hand FROM stock_levels WHERE product_id = ?1), 0)",
            [&gone.id],
            |r| r.get(0),
        )?;
        let mut barcodes = kept.barcodes.clone();
        for b in &gone.barcodes {
            if !barcodes.contains(b) {
                barcodes.push(b.clone());
            }
        }
        // The merged-away product's place on the favourites grid goes to
        // the kept one, unless that has a place of its own.
        let favourite = |id: &str| -> Result<Option<i64>> {
            Ok(self
                .conn
                .prepare_cached("SELECT favourite_pos FROM products WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?
                .flatten())
        };
        let star = match (favourite(&kept.id)?, favourite(&gone.id)?) {
            (None, Some(n)) => Some(n),
            _ => None,
        };
        let keep_key = format!("{PRODUCT}{}", kept.id);
        let gone_key = format!("{PRODUCT}{}", gone.id);
        let note = format!(
            "merged {} ({}) into {} ({})",
            gone.sku, gone.id, kept.sku, kept.id
        );
        self.write(|w| {
            w.catalog_edit(|doc| {
                catalog::update_entity(
                    doc,
                    &gone_key,
                    &[
                        ("barcodes", Field::Str(String::new())),
                        ("active", Field::Bool(false)),
                    ],
                )?;
                catalog::update_entity(
                    doc,
                    &keep_key,
                    &[("barcodes", Field::Str(barcodes.join(",")))],
                )?;
                if let Some(n) = star {
                    catalog::update_entity(
                        doc,
                        &keep_key,
                        &[(crate::ops::favourites::FIELD, Field::opt_int(Some(n)))],
                    )?;
                }
                Ok(vec![gone_key.clone(), keep_key.clone()])
            })?;
            if on_hand != 0 {
                for (product_id, delta) in [(&gone.id, -on_hand), (&kept.id, on_hand)] {
                    w.append(&Record::Adjustment(AdjustmentRecord {
                        hlc: None,
                        staff_id: None,
                        approver_id: None,
                        id: new_id(),
                        at: w.now,
                        product_id: product_id.clone(),
                        delta,
                        reason: AdjustReason::Correction,
                        note: Some(note.clone()),
                    }))?;
                }
            }
            Ok(())
        })?;
        Ok(MergeReport {
            kept: self.product_by_ref(&kept.id)?,
            archived: self.product_by_ref(&gone.id)?,
            moved_stock: on_hand,
        })
    }

    /// Catalog changes this device made that it may not send: edits made
    /// before it was enrolled as a till. They stay on this device only.
    pub fn unsendable_catalog_changes(&self) -> Result<u64> {
        let role: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([KEY_ROLE], |r| r.get(0))
            .optional()?;
        if role.as_deref().and_then(Role::parse) != Some(Role::Till) {
            return Ok(0);
        }
        let doc = crate::ids::DocId::catalog(&self.info().store_id).to_string();
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM doc_changes WHERE doc_id = ?1 AND acked = 0 AND local = 1",
            [doc],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }
}
