//! Catalog operations: products, suppliers, tax classes, store settings.

use rusqlite::Connection;
use shopsync_types::{Product, Supplier, TaxClass};

use super::lookup;
use crate::catalog::{self, Field, PRODUCT, SUPPLIER, TAX_CLASS};
use crate::error::{CoreError, Result};
use crate::ids::new_id;
use crate::store::Store;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub price: i64,
    pub cost: Option<i64>,
    pub barcodes: Vec<String>,
    pub tax_class: Option<String>,
    pub supplier: Option<String>,
    pub category: Option<String>,
    pub reorder_point: Option<i64>,
    /// The stock level a reorder brings the product up to; at least the
    /// reorder point when both are set.
    pub reorder_target: Option<i64>,
}

/// Fields to change; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductEdit {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub price: Option<i64>,
    pub cost: Option<Option<i64>>,
    pub barcodes: Option<Vec<String>>,
    pub tax_class: Option<Option<String>>,
    pub supplier: Option<Option<String>>,
    pub category: Option<Option<String>>,
    pub reorder_point: Option<Option<i64>>,
    pub active: Option<bool>,
    pub reorder_target: Option<Option<i64>>,
}

impl ProductEdit {
    pub fn is_empty(&self) -> bool {
        *self == ProductEdit::default()
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewSupplier {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SupplierEdit {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct NewTaxClass {
    pub id: String,
    pub name: String,
    pub rate_bp: u32,
    pub inclusive: bool,
}

/// Checks a product's fields; `own_id` is the product being edited, if any.
/// A tax class id as typed: letters, digits, `-` or `_`, at most 64 (the
/// server's id limit).
pub(crate) fn tax_class_id(raw: &str) -> Result<String> {
    let id = raw.trim().to_string();
    if id.is_empty()
        || id.len() > crate::validate::MAX_ID_LEN
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(CoreError::invalid(
            "id",
            "tax class id must be 1 to 64 letters, digits, '-' or '_'",
        ));
    }
    Ok(id)
}

pub(crate) fn validate_product(
    conn: &Connection,
    p: &NewProduct,
    own_id: Option<&str>,
) -> Result<()> {
    let sku = p.sku.trim();
    if sku.is_empty() {
        return Err(CoreError::invalid("sku", "SKU must not be empty"));
    }
    if sku.len() > 64
        || sku
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c.is_control())
    {
        return Err(CoreError::invalid(
            "sku",
            format!("SKU '{sku}' must be at most 64 characters without spaces or commas"),
        ));
    }
    if p.name.trim().is_empty() {
        return Err(CoreError::invalid("name", "name must not be empty"));
    }
    // The server's limits (validate.rs), checked before anything is written:
    // a CSV row that breaks them rejects the file, naming the row.
    if p.name.trim().len() > crate::validate::MAX_TEXT_LEN {
        return Err(CoreError::invalid(
            "name",
            format!(
                "name is {} bytes long; at most {} are allowed",
                p.name.trim().len(),
                crate::validate::MAX_TEXT_LEN
            ),
        ));
    }
    let barcodes_len: usize = p.barcodes.iter().map(|b| b.len() + 1).sum();
    if barcodes_len > crate::validate::MAX_TEXT_LEN {
        return Err(CoreError::invalid(
            "barcode",
            format!(
                "{} barcodes are too many for one product (at most {} bytes together)",
                p.barcodes.len(),
                crate::validate::MAX_TEXT_LEN
            ),
        ));
    }
    if p.price < 0 {
        return Err(CoreError::invalid("price", "price must not be negative"));
    }
    if p.cost.is_some_and(|c| c < 0) {
        return Err(CoreError::invalid("cost", "cost must not be negative"));
    }
    if p.reorder_point.is_some_and(|r| r < 0) {
        return Err(CoreError::invalid(
            "reorder_point",
            "reorder point must not be negative",
        ));
    }
    check_reorder_target(p.reorder_point, p.reorder_target)?;
    for code in &p.barcodes {
        if code.is_empty()
            || code.len() > 64
            || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(CoreError::invalid(
                "barcode",
                format!("barcode '{code}' must be letters, digits or '-' (at most 64)"),
            ));
        }
        let holder: Option<String> = conn
            .prepare_cached("SELECT product_id FROM product_barcodes WHERE barcode = ?1 AND product_id IS NOT ?2")?
            .query_row(rusqlite::params![code, own_id], |r| r.get(0))
            .ok();
        if holder.is_some() {
            return Err(CoreError::Conflict(format!(
                "barcode '{code}' is already used by another product"
            )));
        }
    }
    let taken: bool = conn
        // A product keeping the SKU it already has clashes with nothing new
        // (two tills may have created one SKU twice: see `sku_clash`).
        .prepare_cached(
            "SELECT 1 FROM products WHERE sku = ?1 AND id IS NOT ?2
               AND NOT EXISTS (SELECT 1 FROM products WHERE id IS ?2 AND sku = ?1)",
        )?
        .exists(rusqlite::params![sku, own_id])?;
    if taken {
        return Err(CoreError::Conflict(format!(
            "SKU '{sku}' is already used by another product"
        )));
    }
    if let Some(tc) = &p.tax_class
        && lookup::tax_rule(conn, tc)?.is_none()
    {
        return Err(CoreError::not_found("tax class", tc.clone()));
    }
    if let Some(s) = &p.supplier
        && !lookup::supplier_exists(conn, s)?
    {
        return Err(CoreError::not_found("supplier", s.clone()));
    }
    crate::ops::categories::check_product_category(conn, p.category.as_deref(), own_id)?;
    Ok(())
}

fn product_fields(p: &NewProduct) -> Vec<(&'static str, Field)> {
    vec![
        ("sku", Field::Str(p.sku.trim().to_string())),
        ("name", Field::Str(p.name.trim().to_string())),
        ("price", Field::Int(p.price)),
        ("cost", Field::opt_int(p.cost)),
        ("barcodes", Field::Str(p.barcodes.join(","))),
        ("tax_class", Field::opt_str(p.tax_class.clone())),
        ("supplier", Field::opt_str(p.supplier.clone())),
        ("category", Field::opt_str(p.category.clone())),
        ("reorder_point", Field::opt_int(p.reorder_point)),
        ("reorder_target", Field::opt_int(p.reorder_target)),
    ]
}

/// A target stock level is a whole number of units, not below the reorder
/// point (ordering up to less would leave the product low).
fn check_reorder_target(point: Option<i64>, target: Option<i64>) -> Result<()> {
    let Some(t) = target else { return Ok(()) };
    if !(0..=crate::validate::MAX_QTY).contains(&t) {
        return Err(CoreError::invalid(
            "reorder_target",
            format!("reorder target must be 0 to {}", crate::validate::MAX_QTY),
        ));
    }
    if let Some(rp) = point.filter(|rp| t < *rp) {
        return Err(CoreError::invalid(
            "reorder_target",
            format!("reorder target {t} is below the reorder point {rp}"),
        ));
    }
    Ok(())
}

fn apply_edit(current: &Product, edit: &ProductEdit) -> NewProduct {
    NewProduct {
        sku: edit.sku.clone().unwrap_or_else(|| current.sku.clone()),
        name: edit.name.clone().unwrap_or_else(|| current.name.clone()),
        price: edit.price.unwrap_or(current.price.minor),
        cost: edit.cost.unwrap_or(current.cost.map(|c| c.minor)),
        barcodes: edit
            .barcodes
            .clone()
            .unwrap_or_else(|| current.barcodes.clone()),
        tax_class: edit
            .tax_class
            .clone()
            .unwrap_or_else(|| current.tax_class.clone()),
        supplier: edit
            .supplier
            .clone()
            .unwrap_or_else(|| current.supplier.clone()),
        category: edit
            .category
            .clone()
            .unwrap_or_else(|| current.category.clone()),
        reorder_point: edit.reorder_point.unwrap_or(current.reorder_point),
        reorder_target: edit.reorder_target.unwrap_or(current.reorder_target),
    }
}

/// The fields of `after` that differ from `before`, as catalog fields.
fn changed_fields(
    before: &NewProduct,
    after: &NewProduct,
    active: Option<bool>,
    was_active: bool,
) -> Vec<(&'static str, Field)> {
    let old = product_fields(before);
    let mut out: Vec<(&'static str, Field)> = product_fields(after)
        .into_iter()
        .zip(old)
        .filter(|((_, new), (_, old))| new != old)
        .map(|(new, _)| new)
        .collect();
    if let Some(a) = active.filter(|a| *a != was_active) {
        out.push(("active", Field::Bool(a)));
    }
    out
}

impl Store {
    pub fn add_product(&mut self, p: NewProduct) -> Result<Product> {
        validate_product(&self.conn, &p, None)?;
        let id = new_id();
        let key = format!("{PRODUCT}{id}");
        self.write(|w| {
            w.catalog_edit(|doc| {
                let mut fields = product_fields(&p);
                fields.push(("active", Field::Bool(true)));
                catalog::create_entity(doc, &key, &fields)?;
                Ok(vec![key.clone()])
            })
        })?;
        self.product_by_id(&id)
    }

    /// Adds or updates many products (CSV import, demo data) as catalog
    /// changes of bounded size, each chunk committed in its own transaction
    /// so that another connection's writes (a sale at the till) get the
    /// database between chunks instead of waiting for the whole import.
    /// Callers validate every item first; `progress` runs between chunks,
    /// outside any transaction.
    pub(crate) fn upsert_products(
        &mut self,
        items: Vec<(Option<String>, NewProduct)>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let mut done = 0u64;
        for chunk in items.chunks(2_000) {
            self.write(|w| {
                w.catalog_edit(|doc| {
                    let mut touched = Vec::with_capacity(chunk.len());
                    for (existing, p) in chunk {
                        let key = format!("{PRODUCT}{}", existing.clone().unwrap_or_else(new_id));
                        if existing.is_some() {
                            catalog::update_entity(doc, &key, &product_fields(p))?;
                        } else {
                            let mut fields = product_fields(p);
                            fields.push(("active", Field::Bool(true)));
                            catalog::create_entity(doc, &key, &fields)?;
                        }
                        touched.push(key);
                    }
                    Ok(touched)
                })
            })?;
            done += chunk.len() as u64;
            progress(done);
        }
        Ok(())
    }

    pub fn edit_product(&mut self, sku: &str, edit: ProductEdit) -> Result<Product> {
        if edit.is_empty() {
            return Err(CoreError::invalid(
                "edit",
                "nothing to change: name at least one field",
            ));
        }
        let current = lookup::by_sku(&self.conn, self.currency, sku)?
            .ok_or_else(|| CoreError::not_found("product", sku.trim()))?;
        self.edit_product_id(&current.id, edit)
    }

    /// Edits the product with this id (see `edit_product_ref`).
    pub(crate) fn edit_product_id(&mut self, id: &str, edit: ProductEdit) -> Result<Product> {
        if edit.is_empty() {
            return Err(CoreError::invalid(
                "edit",
                "nothing to change: name at least one field",
            ));
        }
        let current = lookup::by_id(&self.conn, self.currency, id)?
            .ok_or_else(|| CoreError::not_found("product", id))?;
        let before = apply_edit(&current, &ProductEdit::default());
        let after = apply_edit(&current, &edit);
        validate_product(&self.conn, &after, Some(&current.id))?;
        let fields = changed_fields(&before, &after, edit.active, current.active);
        let fields = if fields.is_empty() && !current.conflicts.is_empty() {
            // Re-setting a conflicted field to the value shown resolves it.
            product_fields(&after)
                .into_iter()
                .filter(|(n, _)| current.conflicts.iter().any(|c| c == n))
                .collect()
        } else {
            fields
        };
        let key = format!("{PRODUCT}{}", current.id);
        if !fields.is_empty() {
            self.write(|w| {
                w.catalog_edit(|doc| {
                    catalog::update_entity(doc, &key, &fields)?;
                    Ok(vec![key.clone()])
                })
            })?;
        }
        self.product_by_id(&current.id)
    }

    /// Archived products stay in history and reports but cannot be sold.
    /// `sku` may also be a product id or `SKU#n` (see `edit_product_ref`).
    pub fn archive_product(&mut self, sku: &str) -> Result<Product> {
        self.edit_product_ref(
            sku,
            ProductEdit {
                active: Some(false),
                ..ProductEdit::default()
            },
        )
    }

    pub fn add_supplier(&mut self, s: NewSupplier) -> Result<Supplier> {
        if s.name.trim().is_empty() {
            return Err(CoreError::invalid(
                "name",
                "supplier name must not be empty",
            ));
        }
        let id = new_id();
        let key = format!("{SUPPLIER}{id}");
        self.write(|w| {
            w.catalog_edit(|doc| {
                catalog::create_entity(
                    doc,
                    &key,
                    &[
                        ("name", Field::Str(s.name.trim().to_string())),
                        ("phone", Field::opt_str(s.phone.clone())),
                        ("email", Field::opt_str(s.email.clone())),
                        ("notes", Field::opt_str(s.notes.clone())),
                    ],
                )?;
                Ok(vec![key.clone()])
            })
        })?;
        self.supplier(&id)
    }

    pub fn edit_supplier(&mut self, id: &str, e: SupplierEdit) -> Result<Supplier> {
        if !lookup::supplier_exists(&self.conn, id)? {
            return Err(CoreError::not_found("supplier", id));
        }
        let mut fields = Vec::new();
        if let Some(name) = e.name {
            if name.trim().is_empty() {
                return Err(CoreError::invalid(
                    "name",
                    "supplier name must not be empty",
                ));
            }
            fields.push(("name", Field::Str(name.trim().to_string())));
        }
        if let Some(v) = e.phone {
            fields.push(("phone", Field::opt_str(v)));
        }
        if let Some(v) = e.email {
            fields.push(("email", Field::opt_str(v)));
        }
        if let Some(v) = e.notes {
            fields.push(("notes", Field::opt_str(v)));
        }
        if fields.is_empty() {
            return Err(CoreError::invalid(
                "edit",
                "nothing to change: name at least one field",
            ));
        }
        let key = format!("{SUPPLIER}{id}");
        self.write(|w| {
            w.catalog_edit(|doc| {
                catalog::update_entity(doc, &key, &fields)?;
                Ok(vec![key.clone()])
            })
        })?;
        self.supplier(id)
    }

    /// Creates or replaces a tax class. Rates are in basis points (2000 = 20 %).
    pub fn set_tax_class(&mut self, t: NewTaxClass) -> Result<TaxClass> {
        let id = tax_class_id(&t.id)?;
        if t.rate_bp > 10_000 {
            return Err(CoreError::invalid("rate", "a tax rate cannot exceed 100 %"));
        }
        let name = if t.name.trim().is_empty() {
            id.clone()
        } else {
            t.name.trim().to_string()
        };
        let exists = lookup::tax_rule(&self.conn, &id)?.is_some();
        let fields = vec![
            ("name", Field::Str(name)),
            ("rate_bp", Field::Int(i64::from(t.rate_bp))),
            ("inclusive", Field::Bool(t.inclusive)),
        ];
        self.write_tax_class(id, exists, fields)
    }

    /// Creates tax class `id`, or sets the given fields of an existing one.
    pub(crate) fn write_tax_class(
        &mut self,
        id: String,
        exists: bool,
        fields: Vec<(&'static str, Field)>,
    ) -> Result<TaxClass> {
        let key = format!("{TAX_CLASS}{id}");
        self.write(|w| {
            w.catalog_edit(|doc| {
                if exists {
                    catalog::update_entity(doc, &key, &fields)?;
                } else {
                    catalog::create_entity(doc, &key, &fields)?;
                }
                Ok(vec![key.clone()])
            })
        })?;
        self.tax_classes()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| CoreError::not_found("tax class", id))
    }

    /// Store-wide settings replicated with the catalog: `store_name`,
    /// `receipt_header`, `receipt_footer`, and what customers see
    /// (`publish`: true/false; `publish_detail`: band/count, see
    /// `crate::public_catalog`), and the receipt printer's paper
    /// (`receipt_paper`: 58mm/80mm/a4; unset means 80mm), and the store's
    /// time zone (`time_zone`: an IANA name such as `Europe/Berlin`; empty
    /// means each machine's own zone), which report days follow, and
    /// whether cash needs an open drawer session (`cash_sessions`:
    /// off/required; unset means off, see `crate::drawer::session`).
    pub fn set_setting(&mut self, name: &str, value: &str) -> Result<()> {
        self.set_settings(&[(name, value)])
    }

    /// Several settings at once: every one is checked before any is
    /// written, and they are written in one change, so a refused value
    /// changes nothing.
    pub fn set_settings(&mut self, pairs: &[(&str, &str)]) -> Result<()> {
        for (name, value) in pairs {
            check_setting(name, value)?;
        }
        if pairs.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = pairs
            .iter()
            .map(|(name, _)| format!("{}{name}", catalog::SETTING))
            .collect();
        self.write(|w| {
            w.catalog_edit(|doc| {
                for (name, value) in pairs {
                    catalog::set_setting(doc, name, value.trim())?;
                }
                Ok(keys.clone())
            })
        })?;
        self.reload_info()
    }

    /// Renames this till (local: the till's name is part of its sale numbers).
    pub fn rename_till(&mut self, name: &str) -> Result<()> {
        self.authorize_acting(&[crate::staff::Action::EditCatalog])?;
        let name = crate::store::valid_till_name(name)?;
        self.conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'till_name'",
            [&name],
        )?;
        self.info.till_name = name;
        Ok(())
    }

    /// The language this till's screens are shown in ("en", "de"; empty
    /// when never chosen). Local like the till's name: each till at the
    /// counter may speak its own cashier's language.
    pub fn ui_language(&self) -> Result<String> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'ui_language'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_default())
    }

    /// Keeps this till's language. The UI knows which languages exist; the
    /// store only checks that the tag looks like one ("de", "pt-BR").
    pub fn set_ui_language(&mut self, tag: &str) -> Result<()> {
        let tag = tag.trim();
        let ok = (2..=12).contains(&tag.len())
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(CoreError::invalid(
                "language",
                format!("'{tag}' is not a language tag (expected one like en or de)"),
            ));
        }
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('ui_language', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [tag],
        )?;
        Ok(())
    }
}

/// Whether `value` may be stored as setting `name` (see
/// [`Store::set_setting`]).
fn check_setting(name: &str, value: &str) -> Result<()> {
    /// The receipt printer's paper: the till's print stylesheet has a
    /// page size and receipt width for each.
    const RECEIPT_PAPERS: &[&str] = &["58mm", "80mm", "a4"];
    const ALLOWED: &[&str] = &[
        "store_name",
        "receipt_header",
        "receipt_footer",
        "publish",
        "publish_detail",
        "receipt_paper",
        crate::staff::permissions::REFUND_LIMIT_SETTING,
        crate::staff::permissions::DISCOUNT_LIMIT_SETTING,
        crate::staff::permissions::LOCK_AFTER_SETTING,
        "time_zone",
        crate::drawer::session::SETTING,
    ];
    if !ALLOWED.contains(&name) {
        return Err(CoreError::invalid(
            "setting",
            format!("unknown setting '{name}'; settable: {}", ALLOWED.join(", ")),
        ));
    }
    let choices: &[&str] = match name {
        "publish" => &["true", "false"],
        "publish_detail" => &["band", "count"],
        "receipt_paper" => RECEIPT_PAPERS,
        crate::drawer::session::SETTING => crate::drawer::CashSessions::CHOICES,
        _ => &[],
    };
    if !choices.is_empty() && !choices.contains(&value.trim()) {
        return Err(CoreError::invalid(
            name,
            format!("{name} is one of: {}", choices.join(", ")),
        ));
    }
    if name == "time_zone" {
        shopsync_types::zone::StoreZone::parse(value)
            .map_err(|e| CoreError::invalid("time_zone", e.to_string()))?;
    }
    // The cashiers' limits (crate::staff::permissions): whole numbers.
    let max = match name {
        crate::staff::permissions::REFUND_LIMIT_SETTING => Some(crate::validate::MAX_AMOUNT),
        crate::staff::permissions::DISCOUNT_LIMIT_SETTING => Some(10_000),
        crate::staff::permissions::LOCK_AFTER_SETTING => {
            Some(crate::staff::permissions::MAX_LOCK_AFTER_MINUTES)
        }
        _ => None,
    };
    if let Some(max) = max
        && !value
            .trim()
            .parse::<i64>()
            .is_ok_and(|v| (0..=max).contains(&v))
    {
        return Err(CoreError::invalid(
            name,
            format!("{name} is a whole number from 0 to {max}"),
        ));
    }
    if name == "store_name" && value.trim().is_empty() {
        return Err(CoreError::invalid(
            "store_name",
            "store name must not be empty",
        ));
    }
    if value.trim().len() > crate::validate::MAX_TEXT_LEN {
        return Err(CoreError::invalid(
            name,
            format!(
                "{name} is {} bytes long; at most {} are allowed",
                value.trim().len(),
                crate::validate::MAX_TEXT_LEN
            ),
        ));
    }
    Ok(())
}
