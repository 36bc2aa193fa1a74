//! The name part of `Store::search_products`: the in-memory index for
//! ASCII words, the full-text table for the rest.

use rusqlite::params;
use shopsync_types::Product;

use crate::error::Result;
use crate::ops::lookup::{PRODUCT_COLUMNS, product_from_row};
use crate::queries::NAME_CANDIDATES;
use crate::store::Store;

impl Store {
    /// Name matches: from the in-memory index when it exists or pays
    /// (`NameSearch::use_index`), else from the full-text table.
    pub(crate) fn search_names(
        &self,
        words: &[&str],
        limit: u32,
        include_archived: bool,
    ) -> Result<Vec<Product>> {
        match crate::search::ascii_prefixes(words) {
            Some(prefixes) if self.search.use_index() => {
                // The index is a cache: if it cannot be read or built (a
                // file swapped for an older one under the process), the
                // full-text table still answers.
                self.search_names_in_memory(&prefixes, limit, include_archived)
                    .or_else(|e| {
                        tracing::warn!(
                            "product name index unusable, searching the full-text table: {e}"
                        );
                        self.search_names_fts(words, limit, include_archived)
                    })
            }
            _ => self.search_names_fts(words, limit, include_archived),
        }
    }

    /// Name matches from the in-memory index (`crate::search`): the same
    /// rows in the same order as [`Self::search_names_fts`], in a fraction
    /// of the time.
    pub(crate) fn search_names_in_memory(
        &self,
        prefixes: &[String],
        limit: u32,
        include_archived: bool,
    ) -> Result<Vec<Product>> {
        // One snapshot for the catch-up, the matching and the rows read:
        // a row another writer renamed in between would otherwise come back
        // under a name that does not match. Not when the caller already
        // holds a transaction (it is the snapshot then).
        let tx = if self.conn.is_autocommit() {
            Some(self.conn.unchecked_transaction()?)
        } else {
            None
        };
        let pks = self.search.find(
            &self.conn,
            prefixes,
            limit.max(NAME_CANDIDATES) as usize,
            limit as usize,
            include_archived,
        )?;
        #[cfg(test)]
        self.search.run_after_find();
        let mut by_pk = self.conn.prepare_cached(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE pk = ?1"
        ))?;
        let mut out = Vec::with_capacity(pks.len());
        for pk in pks {
            let row = match by_pk.query_row([pk], |r| product_from_row(r, self.currency)) {
                // Not after a catch-up in the same snapshot; left out
                // rather than failing the search.
                Err(rusqlite::Error::QueryReturnedNoRows) => continue,
                row => readable(row)?,
            };
            out.extend(row);
        }
        drop(by_pk);
        if let Some(tx) = tx {
            // Read-only: ending it either way releases the snapshot.
            tx.commit()?;
        }
        Ok(out)
    }

    /// Name matches from the full-text table: every word a prefix of a
    /// name token. Quoted, so FTS5 syntax typed by the user (`NEAR`, `*`,
    /// `-`, `:`) is only text.
    pub(crate) fn search_names_fts(
        &self,
        words: &[&str],
        limit: u32,
        include_archived: bool,
    ) -> Result<Vec<Product>> {
        let active = if include_archived {
            ""
        } else {
            "AND active = 1"
        };
        let fts: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
        let c = self.currency;
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {} FROM products p JOIN
                   (SELECT rowid AS r, rank FROM products_fts WHERE products_fts MATCH ?1 LIMIT ?3) f
                   ON p.pk = f.r
                 WHERE 1 = 1 {active} ORDER BY f.rank, p.name LIMIT ?2",
                PRODUCT_COLUMNS.split(", ").map(|col| format!("p.{col}")).collect::<Vec<_>>().join(", ")
            ))?
            .query_map(params![fts.join(" "), limit, limit.max(NAME_CANDIDATES)], |r| product_from_row(r, c))?
            .filter_map(|p| readable(p).transpose())
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Builds the in-memory name index now (it is otherwise built by the
    /// second name search: ~150 ms on 100k products; the first is answered
    /// by the full-text table), e.g. while the till is idle after opening. Returns the index's approximate heap size in bytes.
    pub fn prepare_search(&self) -> Result<usize> {
        self.search.prepare(&self.conn)
    }
}

/// A product row, or `None` (logged) when a text column is not UTF-8: a
/// row another tool wrote badly is left out, not every search failed.
fn readable(row: rusqlite::Result<Product>) -> rusqlite::Result<Option<Product>> {
    match row {
        Ok(p) => Ok(Some(p)),
        Err(
            e @ (rusqlite::Error::Utf8Error(..) | rusqlite::Error::FromSqlConversionFailure(..)),
        ) => {
            tracing::warn!("a product left out of a search: {e}");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
