//! The Sell screen's favourites grid: the products the shop picks as
//! buttons (those without barcodes, typically), in an order.
//!
//! Each favourite is its product's `favourite_pos` field in the catalog
//! (absent or null: not a favourite), so every till of the store shows the
//! same grid and concurrent edits merge like any product field, last
//! writer wins per product. The grid is ordered by that number, then name,
//! then SKU. The numbers are sparse (`GAP` apart): adding or moving a
//! favourite writes only its own number (between its new neighbours'), so
//! two tills editing the grid offline touch different products unless
//! they edit the same one; only when no number is left between two
//! neighbours is the grid renumbered. Changing it is a catalog edit.

use rusqlite::Connection;
use shopsync_types::Favourite;

use crate::catalog::{self, Field, PRODUCT};
use crate::error::{CoreError, Result};
use crate::store::Store;

/// The catalog field; not part of the product form (`catalog::PRODUCT_FIELDS`).
pub const FIELD: &str = "favourite_pos";

/// The most buttons a grid holds: enough for any counter screen, and a
/// renumbering stays a small catalog change.
pub const MAX_FAVOURITES: usize = 200;

/// The distance between neighbours' numbers when the grid is numbered
/// afresh, and after the last one when one is added at the end.
const GAP: i64 = 1024;

/// Numbers above this renumber the grid (repeated moves to the end grow
/// them); far below the server's bound on the field.
const HIGHEST: i64 = 100_000_000;

impl Store {
    /// The favourites grid in order: active products only (an archived
    /// favourite keeps its number and comes back if it is restored).
    /// `pos` is the place on the grid, 1 first.
    pub fn favourites(&self) -> Result<Vec<Favourite>> {
        let c = self.currency;
        let rows = self
            .conn
            .prepare_cached(
                "SELECT id, sku, name, price FROM products
                 WHERE favourite_pos IS NOT NULL AND active = 1
                 ORDER BY favourite_pos, name, sku, id",
            )?
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .zip(1..)
            .map(|((product_id, sku, name, price), pos)| Favourite {
                product_id,
                sku,
                name,
                price: c.amount(price),
                pos,
            })
            .collect())
    }

    /// Puts a product (id, SKU or `SKU#n`) on the grid at place `pos` (1
    /// first; past the end or `None`: last). A product already there is
    /// refused without `pos`, and moved with it.
    pub fn add_favourite(&mut self, product: &str, pos: Option<i64>) -> Result<Vec<Favourite>> {
        let p = self.product_by_ref(product)?;
        if !p.active {
            return Err(CoreError::invalid(
                "product",
                format!("{} ({}) is archived: it cannot be sold", p.name, p.sku),
            ));
        }
        if let Some(n) = pos.filter(|n| *n < 1) {
            return Err(CoreError::invalid(
                "position",
                format!("position {n} is not a place on the grid (1 is the first)"),
            ));
        }
        let mut grid = numbers(&self.conn)?;
        let present = grid.iter().position(|(id, _)| *id == p.id);
        match (present, pos) {
            (Some(_), None) => {
                return Err(CoreError::Conflict(format!(
                    "{} ({}) is a favourite already",
                    p.name, p.sku
                )));
            }
            (Some(at), Some(_)) => {
                grid.remove(at);
            }
            (None, _) if grid.len() >= MAX_FAVOURITES => {
                return Err(CoreError::invalid(
                    "favourite",
                    format!("the grid holds at most {MAX_FAVOURITES} favourites: remove one first"),
                ));
            }
            (None, _) => {}
        }
        let at = pos
            .and_then(|n| usize::try_from(n - 1).ok())
            .map_or(grid.len(), |n| n.min(grid.len()));
        let edits = place(&grid, at, &p.id);
        self.write_numbers(&edits)
    }

    /// Moves a favourite to place `pos` (1 first; past the end: last).
    pub fn move_favourite(&mut self, product: &str, pos: i64) -> Result<Vec<Favourite>> {
        let p = self.product_by_ref(product)?;
        if !numbers(&self.conn)?.iter().any(|(id, _)| *id == p.id) {
            return Err(CoreError::not_found("favourite", product.trim()));
        }
        self.add_favourite(&p.id, Some(pos))
    }

    /// Takes a product off the grid; the others keep their numbers. An
    /// archived product keeps its number (it would come back with it when
    /// restored) until it is taken off here.
    pub fn remove_favourite(&mut self, product: &str) -> Result<Vec<Favourite>> {
        let p = self.product_by_ref(product)?;
        let numbered: bool = self
            .conn
            .prepare_cached("SELECT favourite_pos IS NOT NULL FROM products WHERE id = ?1")?
            .query_row([&p.id], |r| r.get(0))
            .unwrap_or(false);
        if !numbered {
            return Err(CoreError::not_found("favourite", product.trim()));
        }
        self.write_numbers(&[(p.id, None)])
    }

    /// Sets (or with `None` clears) products' numbers in one catalog change.
    fn write_numbers(&mut self, edits: &[(String, Option<i64>)]) -> Result<Vec<Favourite>> {
        if !edits.is_empty() {
            self.write(|w| {
                w.catalog_edit(|doc| {
                    let mut keys = Vec::with_capacity(edits.len());
                    for (id, number) in edits {
                        let key = format!("{PRODUCT}{id}");
                        catalog::update_entity(doc, &key, &[(FIELD, Field::opt_int(*number))])?;
                        keys.push(key);
                    }
                    Ok(keys)
                })
            })?;
        }
        self.favourites()
    }
}

/// The numbers to write so that `id` comes at index `at` of `grid` (which
/// does not hold it): its own number between its neighbours', or, with no
/// number left between them, every favourite numbered afresh.
fn place(grid: &[(String, i64)], at: usize, id: &str) -> Vec<(String, Option<i64>)> {
    let before = at
        .checked_sub(1)
        .and_then(|i| grid.get(i))
        .map_or(0, |(_, n)| *n);
    let after = grid
        .get(at)
        .map_or(before.saturating_add(2 * GAP), |(_, n)| *n);
    // In i128: numbers another device wrote may be anywhere in i64; out of
    // 0..=HIGHEST they are renumbered rather than placed between.
    let mid = (i128::from(before) + i128::from(after)) / 2;
    if before >= 0
        && mid > i128::from(before)
        && mid < i128::from(after)
        && mid <= i128::from(HIGHEST)
    {
        return vec![(id.to_string(), Some(mid as i64))];
    }
    let mut order: Vec<&(String, i64)> = grid.iter().collect();
    let own = (id.to_string(), 0);
    order.insert(at, &own);
    order
        .into_iter()
        .zip(1..)
        .filter(|((oid, n), i)| oid == id || *n != i * GAP)
        .map(|((oid, _), i)| (oid.clone(), Some(i * GAP)))
        .collect()
}

/// The active favourites' ids and numbers, in grid order.
fn numbers(conn: &Connection) -> Result<Vec<(String, i64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, favourite_pos FROM products
             WHERE favourite_pos IS NOT NULL AND active = 1
             ORDER BY favourite_pos, name, sku, id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Meta key migration 12 sets on a store that already held documents.
pub(crate) const REPROJECT_DUE: &str = "projection.favourites_due";

/// After migration 12: projects every product of the catalog once, so a
/// `favourite_pos` an older version kept without projecting it is shown.
pub(crate) fn reproject_if_due(conn: &Connection) -> Result<()> {
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
            if key.starts_with(PRODUCT) {
                crate::projection::catalog::project_key(conn, &loaded.doc, &key)?;
            }
        }
    }
    conn.execute("DELETE FROM meta WHERE key = ?1", [REPROJECT_DUE])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(numbers: &[i64]) -> Vec<(String, i64)> {
        numbers
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("p{i}"), *n))
            .collect()
    }

    #[test]
    fn a_place_between_neighbours_takes_their_middle() {
        assert_eq!(
            place(&grid(&[1024, 2048]), 1, "new"),
            vec![("new".to_string(), Some(1536))]
        );
    }

    #[test]
    fn numbers_from_another_device_at_the_ends_of_i64_are_renumbered_not_overflowed() {
        for numbers in [
            vec![i64::MIN, i64::MAX],
            vec![i64::MAX - 1, i64::MAX],
            vec![-5, 3],
            vec![HIGHEST, HIGHEST + 10],
        ] {
            for at in 0..=numbers.len() {
                let edits = place(&grid(&numbers), at, "new");
                let new = edits.iter().find(|(id, _)| id == "new");
                let n = new.and_then(|(_, n)| *n).unwrap_or(-1);
                assert!((0..=HIGHEST).contains(&n), "{numbers:?} at {at}: {edits:?}");
            }
        }
    }
}
