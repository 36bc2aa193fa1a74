//! The name part of `Store::search_products`: the in-memory index for
//! ASCII words, the full-text table for the rest.

use rusqlite::{OptionalExtension, params};
use shopsync_types::Product;

use crate::error::Result;
use crate::ops::lookup::{PRODUCT_COLUMNS, product_from_row};
use crate::queries::NAME_CANDIDATES;
use crate::store::Store;

impl Store {
    /// Name matches from the in-memory index (`crate::search`): the same
    /// rows in the same order as [`Self::search_names_fts`], in a fraction
    /// of the time.
    pub(crate) fn search_names_in_memory(
        &self,
        prefixes: &[String],
        limit: u32,
        include_archived: bool,
    ) -> Result<Vec<Product>> {
        let pks = self.search.find(
            &self.conn,
            prefixes,
            limit.max(NAME_CANDIDATES) as usize,
            limit as usize,
            include_archived,
        )?;
        let mut by_pk = self.conn.prepare_cached(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE pk = ?1"
        ))?;
        let mut out = Vec::with_capacity(pks.len());
        for pk in pks {
            // A row deleted by another process since the index caught up
            // is simply left out.
            if let Some(p) = by_pk
                .query_row([pk], |r| product_from_row(r, self.currency))
                .optional()?
            {
                out.push(p);
            }
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
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Builds the in-memory name index now (it is otherwise built by the
    /// first name search: ~0.3 s on 100k products), e.g. while the till is
    /// idle after opening. Returns the index's approximate heap size in bytes.
    pub fn prepare_search(&self) -> Result<usize> {
        self.search.prepare(&self.conn)
    }
}
