//! Product categories: create, rename, archive, and the products in one.
//!
//! A category is a catalog entity (`category/{id}`: `name`, `archived`),
//! edited like suppliers. A product names its category by id; products
//! from before categories were managed may carry free text there, which
//! stays as it is until the product is given a real category.

use rusqlite::{OptionalExtension, params};
use shopsync_types::{Category, Product};

use crate::catalog::{self, CATEGORY, Field};
use crate::error::{CoreError, Result};
use crate::ids::new_id;
use crate::ops::lookup::{PRODUCT_COLUMNS, product_from_row};
use crate::store::Store;

impl Store {
    /// Every category, by name; archived ones only with `include_archived`.
    pub fn categories(&self, include_archived: bool) -> Result<Vec<Category>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT c.id, c.name, c.archived,
                        (SELECT COUNT(*) FROM products p WHERE p.category = c.id AND p.active = 1)
                 FROM categories c WHERE ?1 OR c.archived = 0 ORDER BY c.name, c.id",
            )?
            .query_map([include_archived], |r| {
                Ok(Category {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    archived: r.get(2)?,
                    products: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The category a cashier or a file names: its id, or the exact name of
    /// exactly one category (archived ones too, so a name stays usable).
    pub fn category_by_ref(&self, text: &str) -> Result<Category> {
        let text = text.trim();
        let all = self.categories(true)?;
        if let Some(c) = all.iter().find(|c| c.id == text) {
            return Ok(c.clone());
        }
        let named: Vec<&Category> = all
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case(text))
            .collect();
        match named.as_slice() {
            [c] => Ok((*c).clone()),
            [] => Err(CoreError::not_found("category", text)),
            _ => Err(CoreError::invalid(
                "category",
                format!("several categories are named '{text}': use the id"),
            )),
        }
    }

    pub fn add_category(&mut self, name: &str) -> Result<Category> {
        let name = category_name(name)?;
        if self
            .categories(true)?
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(&name))
        {
            return Err(CoreError::Conflict(format!(
                "a category named '{name}' exists already"
            )));
        }
        let id = new_id();
        self.create_categories(&[(id.clone(), name)])?;
        self.category_by_ref(&id)
    }

    /// Creates categories (a CSV import's new ones), 2,000 to a catalog
    /// change as products are: one change stays well inside the
    /// per-change operation limit the server enforces.
    pub(crate) fn create_categories(&mut self, new: &[(String, String)]) -> Result<()> {
        for chunk in new.chunks(2_000) {
            self.create_category_chunk(chunk)?;
        }
        Ok(())
    }

    fn create_category_chunk(&mut self, new: &[(String, String)]) -> Result<()> {
        self.write(|w| {
            w.catalog_edit(|doc| {
                let mut keys = Vec::with_capacity(new.len());
                for (id, name) in new {
                    let key = format!("{CATEGORY}{id}");
                    catalog::create_entity(
                        doc,
                        &key,
                        &[
                            ("name", Field::Str(name.clone())),
                            ("archived", Field::Bool(false)),
                        ],
                    )?;
                    keys.push(key);
                }
                Ok(keys)
            })
        })
    }

    pub fn rename_category(&mut self, category: &str, name: &str) -> Result<Category> {
        let c = self.category_by_ref(category)?;
        let name = category_name(name)?;
        if self
            .categories(true)?
            .iter()
            .any(|o| o.id != c.id && o.name.eq_ignore_ascii_case(&name))
        {
            return Err(CoreError::Conflict(format!(
                "a category named '{name}' exists already"
            )));
        }
        self.edit_category(&c.id, ("name", Field::Str(name)))
    }

    /// Archives a category (its products keep it; it is offered nowhere
    /// new), or brings it back.
    pub fn set_category_archived(&mut self, category: &str, archived: bool) -> Result<Category> {
        let c = self.category_by_ref(category)?;
        self.edit_category(&c.id, ("archived", Field::Bool(archived)))
    }

    fn edit_category(&mut self, id: &str, field: (&'static str, Field)) -> Result<Category> {
        let key = format!("{CATEGORY}{id}");
        self.write(|w| {
            w.catalog_edit(|doc| {
                catalog::update_entity(doc, &key, std::slice::from_ref(&field))?;
                Ok(vec![key.clone()])
            })
        })?;
        self.category_by_ref(id)
    }

    /// The products of one category by name (active ones unless
    /// `include_archived`) whose name or SKU holds `query` (any case; empty:
    /// all), at most `limit`, for browsing without a barcode. The filter is
    /// applied before the limit, so a product past the first `limit` of a
    /// big category is still found by typing.
    pub fn products_in_category(
        &self,
        category: &str,
        query: &str,
        limit: u32,
        include_archived: bool,
    ) -> Result<Vec<Product>> {
        let c = self.currency;
        let q = query.trim().to_lowercase();
        // An ASCII query is matched by SQLite (its `lower` folds ASCII only,
        // which is all such a query can match), so a big category is not
        // turned into Rust products row by row; other text is compared in
        // Rust with Unicode case folding.
        let in_sql = q.is_ascii();
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products
             WHERE category = ?1 AND (?2 OR active = 1)
               AND (?3 = '' OR instr(lower(name), ?3) > 0 OR instr(lower(sku), ?3) > 0)
             ORDER BY name, sku LIMIT ?4"
        ))?;
        let (sql_q, sql_limit) = if in_sql {
            (q.as_str(), i64::from(limit))
        } else {
            ("", -1)
        };
        let rows = stmt.query_map(params![category, include_archived, sql_q, sql_limit], |r| {
            product_from_row(r, c)
        })?;
        let mut list = Vec::new();
        for p in rows {
            if list.len() >= limit as usize {
                break;
            }
            let p = p?;
            if in_sql || p.name.to_lowercase().contains(&q) || p.sku.to_lowercase().contains(&q) {
                list.push(p);
            }
        }
        drop(stmt);
        crate::ops::catalog_fixes::fill_sku_clashes(&self.conn, &mut list)?;
        Ok(list)
    }
}

/// Meta key migration 09 sets on a store that already held documents.
pub(crate) const REPROJECT_DUE: &str = "projection.categories_due";

/// After migration 09: projects every category of the catalog once, so an
/// `archived` flag an older version kept without projecting it is shown.
pub(crate) fn reproject_if_due(conn: &rusqlite::Connection) -> Result<()> {
    let due = conn
        .prepare("SELECT 1 FROM meta WHERE key = ?1")?
        .exists([REPROJECT_DUE])?;
    if !due {
        return Ok(());
    }
    for id in crate::docs::document_ids(conn)? {
        if !matches!(id, crate::ids::DocId::Catalog { .. }) {
            continue;
        }
        let loaded = crate::docs::load(conn, &id.to_string(), None)?;
        for key in catalog::keys(&loaded.doc) {
            if key.starts_with(CATEGORY) {
                crate::projection::catalog::project_key(conn, &loaded.doc, &key)?;
            }
        }
    }
    conn.execute("DELETE FROM meta WHERE key = ?1", [REPROJECT_DUE])?;
    Ok(())
}

/// A product may keep the category text it has (free text from before
/// categories were managed, or a category archived since); any new value
/// must be a category that exists and is not archived.
pub(crate) fn check_product_category(
    conn: &rusqlite::Connection,
    category: Option<&str>,
    own_id: Option<&str>,
) -> Result<()> {
    let Some(category) = category else {
        return Ok(());
    };
    let kept = conn
        .prepare_cached("SELECT 1 FROM products WHERE id IS ?1 AND category = ?2")?
        .exists(params![own_id, category])?;
    if kept {
        return Ok(());
    }
    let archived: Option<bool> = conn
        .prepare_cached("SELECT archived FROM categories WHERE id = ?1")?
        .query_row([category], |r| r.get(0))
        .optional()?;
    match archived {
        Some(false) => Ok(()),
        Some(true) => Err(CoreError::invalid(
            "category",
            format!("category '{category}' is archived: restore it first"),
        )),
        None => Err(CoreError::not_found("category", category)),
    }
}

fn category_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::invalid(
            "name",
            "category name must not be empty",
        ));
    }
    if name.len() > 100 || name.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "name",
            "a category name is at most 100 bytes, without control characters",
        ));
    }
    Ok(name.to_string())
}
