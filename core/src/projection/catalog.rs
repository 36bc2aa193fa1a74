//! Catalog projection: products (with barcodes and the FTS index), suppliers,
//! tax classes, categories, settings.

use automerge::AutoCommit;
use rusqlite::{Connection, params};

use crate::catalog::{self, CATEGORY, PRODUCT, SETTING, STAFF, SUPPLIER, TAX_CLASS};
use crate::error::Result;

/// Brings the projection of one catalog root key up to date with the document.
pub fn project_key(conn: &Connection, doc: &AutoCommit, key: &str) -> Result<()> {
    if let Some(id) = key.strip_prefix(PRODUCT) {
        project_product(conn, doc, key, id)
    } else if let Some(id) = key.strip_prefix(SUPPLIER) {
        match catalog::read_entity(doc, key)? {
            Some(e) => conn
                .prepare_cached(
                    "INSERT INTO suppliers (id, name, phone, email, notes) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone,
                         email = excluded.email, notes = excluded.notes",
                )?
                .execute(params![id, e.str("name").unwrap_or_default(), e.str("phone"), e.str("email"), e.str("notes")])?,
            None => conn.execute("DELETE FROM suppliers WHERE id = ?1", [id])?,
        };
        Ok(())
    } else if let Some(id) = key.strip_prefix(TAX_CLASS) {
        match catalog::read_entity(doc, key)? {
            Some(e) => conn
                .prepare_cached(
                    "INSERT INTO tax_classes (id, name, rate_bp, inclusive) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, rate_bp = excluded.rate_bp,
                         inclusive = excluded.inclusive",
                )?
                .execute(params![
                    id,
                    e.str("name").unwrap_or_else(|| id.to_string()),
                    e.int("rate_bp").unwrap_or(0),
                    e.bool("inclusive").unwrap_or(false)
                ])?,
            None => conn.execute("DELETE FROM tax_classes WHERE id = ?1", [id])?,
        };
        Ok(())
    } else if let Some(id) = key.strip_prefix(CATEGORY) {
        match catalog::read_entity(doc, key)? {
            Some(e) => conn.execute(
                "INSERT INTO categories (id, name, archived) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, archived = excluded.archived",
                params![
                    id,
                    e.str("name").unwrap_or_default(),
                    e.bool("archived").unwrap_or(false)
                ],
            )?,
            None => conn.execute("DELETE FROM categories WHERE id = ?1", [id])?,
        };
        Ok(())
    } else if let Some(name) = key.strip_prefix(SETTING) {
        match catalog::read_setting(doc, name)? {
            Some(v) => conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![name, v],
            )?,
            None => conn.execute("DELETE FROM settings WHERE key = ?1", [name])?,
        };
        Ok(())
    } else if let Some(id) = key.strip_prefix(STAFF) {
        crate::staff::project_staff(conn, doc, key, id)
    } else {
        // A key from a newer schema: kept in the document, not projected.
        Ok(())
    }
}

fn project_product(conn: &Connection, doc: &AutoCommit, key: &str, id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM product_barcodes WHERE product_id = ?1")?
        .execute([id])?;
    let Some(e) = catalog::read_entity(doc, key)? else {
        conn.execute("DELETE FROM products WHERE id = ?1", [id])?;
        return Ok(());
    };
    let barcodes = e.str("barcodes").unwrap_or_default();
    // A grid place set on two tills at once is not a conflict to resolve
    // on the product form: the winning place is as good as the other.
    let conflicts = e
        .conflicts
        .iter()
        .filter(|f| *f != crate::ops::favourites::FIELD)
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    conn.prepare_cached(
        "INSERT INTO products (id, sku, name, price, cost, barcodes, tax_class, supplier_id, category,
                               reorder_point, active, conflicts, reorder_target, favourite_pos)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET sku = excluded.sku, name = excluded.name, price = excluded.price,
             cost = excluded.cost, barcodes = excluded.barcodes, tax_class = excluded.tax_class,
             supplier_id = excluded.supplier_id, category = excluded.category,
             reorder_point = excluded.reorder_point, active = excluded.active, conflicts = excluded.conflicts,
             reorder_target = excluded.reorder_target, favourite_pos = excluded.favourite_pos",
    )?
    .execute(params![
        id,
        e.str("sku").unwrap_or_default(),
        e.str("name").unwrap_or_default(),
        e.int("price").unwrap_or(0),
        e.int("cost"),
        barcodes,
        e.str("tax_class"),
        e.str("supplier"),
        e.str("category"),
        e.int("reorder_point"),
        e.bool("active").unwrap_or(true),
        conflicts,
        e.int("reorder_target"),
        e.int(crate::ops::favourites::FIELD),
    ])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO product_barcodes (barcode, product_id) VALUES (?1, ?2)",
    )?;
    for code in barcodes.split(',').filter(|c| !c.is_empty()) {
        insert.execute(params![code, id])?;
    }
    Ok(())
}

/// Projects every key of the catalog (used by rebuild and first load).
pub fn project_all(conn: &Connection, doc: &AutoCommit) -> Result<()> {
    for key in catalog::keys(doc) {
        project_key(conn, doc, &key)?;
    }
    Ok(())
}
