//! Finding products and validating references, from the projections.

use rusqlite::{Connection, OptionalExtension, Row};
use shopsync_types::{Currency, Product};

use crate::error::{CoreError, Result};

pub(crate) const PRODUCT_COLUMNS: &str = "id, sku, name, price, cost, barcodes, tax_class, supplier_id, category, reorder_point, active, conflicts, reorder_target";

pub(crate) fn product_from_row(row: &Row<'_>, currency: Currency) -> rusqlite::Result<Product> {
    let barcodes: String = row.get(5)?;
    let conflicts: String = row.get(11)?;
    Ok(Product {
        id: row.get(0)?,
        sku: row.get(1)?,
        name: row.get(2)?,
        price: currency.amount(row.get(3)?),
        cost: row.get::<_, Option<i64>>(4)?.map(|c| currency.amount(c)),
        barcodes: split_list(&barcodes),
        tax_class: row.get(6)?,
        supplier: row.get(7)?,
        category: row.get(8)?,
        reorder_point: row.get(9)?,
        active: row.get(10)?,
        conflicts: split_list(&conflicts),
        sku_clash: Vec::new(),
        reorder_target: row.get(12)?,
    })
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// A product by exact SKU (case-insensitive). When a sync has left two
/// products with one SKU, the active one created first wins.
pub(crate) fn by_sku(conn: &Connection, currency: Currency, sku: &str) -> Result<Option<Product>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE sku = ?1 ORDER BY active DESC, id LIMIT 1"
        ))?
        .query_row([sku.trim()], |r| product_from_row(r, currency))
        .optional()?)
}

pub(crate) fn by_barcode(
    conn: &Connection,
    currency: Currency,
    code: &str,
) -> Result<Option<Product>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE id IN
               (SELECT product_id FROM product_barcodes WHERE barcode = ?1)
             ORDER BY active DESC, id LIMIT 1"
        ))?
        .query_row([code.trim()], |r| product_from_row(r, currency))
        .optional()?)
}

pub(crate) fn by_id(conn: &Connection, currency: Currency, id: &str) -> Result<Option<Product>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?1"
        ))?
        .query_row([id], |r| product_from_row(r, currency))
        .optional()?)
}

/// A product by SKU, else by barcode (what a scanner or a cashier types).
pub(crate) fn by_code(conn: &Connection, currency: Currency, code: &str) -> Result<Product> {
    if code.trim().is_empty() {
        return Err(CoreError::invalid(
            "sku",
            "a product SKU or barcode is required",
        ));
    }
    if let Some(p) = by_sku(conn, currency, code)? {
        return Ok(p);
    }
    by_barcode(conn, currency, code)?.ok_or_else(|| CoreError::not_found("product", code.trim()))
}

/// What a sale line needs of a product.
pub(crate) struct ForSale {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub price: i64,
    pub tax_class: Option<String>,
    pub active: bool,
    pub rule: Option<crate::pricing::TaxRule>,
}

/// A product by SKU, else by barcode, with its tax rule (`None` without a
/// tax class, or when the class is missing: the caller refuses that): one
/// query per cart line, reading only what the line needs.
pub(crate) fn for_sale(conn: &Connection, code: &str) -> Result<ForSale> {
    const BY_SKU: &str =
        "SELECT p.id, p.sku, p.name, p.price, p.tax_class, p.active, t.rate_bp, t.inclusive
         FROM products p LEFT JOIN tax_classes t ON t.id = p.tax_class
         WHERE p.sku = ?1";
    const BY_BARCODE: &str =
        "SELECT p.id, p.sku, p.name, p.price, p.tax_class, p.active, t.rate_bp, t.inclusive
         FROM products p LEFT JOIN tax_classes t ON t.id = p.tax_class
         WHERE p.id IN (SELECT product_id FROM product_barcodes WHERE barcode = ?1)";
    let code = code.trim();
    if code.is_empty() {
        return Err(CoreError::invalid(
            "sku",
            "a product SKU or barcode is required",
        ));
    }
    let read = |r: &Row<'_>| -> rusqlite::Result<ForSale> {
        let rate: Option<u32> = r.get(6)?;
        let inclusive: Option<bool> = r.get(7)?;
        Ok(ForSale {
            id: r.get(0)?,
            sku: r.get(1)?,
            name: r.get(2)?,
            price: r.get(3)?,
            tax_class: r.get(4)?,
            active: r.get(5)?,
            rule: rate.map(|rate_bp| crate::pricing::TaxRule {
                rate_bp,
                inclusive: inclusive.unwrap_or(false),
            }),
        })
    };
    // Almost always one row: the pick among several (a SKU two tills
    // created offline) is made here, sparing SQLite a sort per cart line.
    let first = |sql: &str| -> Result<Option<ForSale>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut best: Option<ForSale> = None;
        for row in stmt.query_map([code], read)? {
            let row = row?;
            let better = match &best {
                None => true,
                Some(b) => (!row.active, &row.id) < (!b.active, &b.id),
            };
            if better {
                best = Some(row);
            }
        }
        Ok(best)
    };
    match first(BY_SKU)? {
        Some(hit) => Ok(hit),
        None => first(BY_BARCODE)?.ok_or_else(|| CoreError::not_found("product", code)),
    }
}

pub(crate) fn supplier_exists(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM suppliers WHERE id = ?1")?
        .exists([id])?)
}

pub(crate) fn tax_rule(conn: &Connection, class: &str) -> Result<Option<crate::pricing::TaxRule>> {
    Ok(conn
        .prepare_cached("SELECT rate_bp, inclusive FROM tax_classes WHERE id = ?1")?
        .query_row([class], |r| {
            Ok(crate::pricing::TaxRule {
                rate_bp: r.get(0)?,
                inclusive: r.get(1)?,
            })
        })
        .optional()?)
}

/// A whole positive quantity.
pub(crate) fn positive_qty(field: &str, qty: i64) -> Result<i64> {
    if qty <= 0 {
        return Err(CoreError::invalid(
            field,
            format!("quantity must be a whole number above zero, not {qty}"),
        ));
    }
    Ok(qty)
}
