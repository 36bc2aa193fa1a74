//! Product name search in memory (issue 13).
//!
//! The full-text query it replaces (`products_fts MATCH '"dark"* "choc"*'`
//! ranked by bm25) cost 1-10 ms on 100k products: FTS5 merges the doclists
//! of every term of a 4+ letter prefix, and bm25 counts every row of each
//! phrase before ranking. Here each typed word is a range of a sorted
//! vocabulary and a bitmap of rows, so a query costs well under a
//! millisecond, with the same matches and the same order (see `find`).
//!
//! The index is built on the first name search (not at open: opening stays
//! at ~1 ms) and caught up before every search with the rows other writers
//! changed (`load`). Queries with a non-ASCII word go to the full-text
//! table, whose tokenizer folds case and diacritics by Unicode rules this
//! module does not repeat.

mod find;
mod index;
mod load;
mod names;
mod rank;

use std::sync::Mutex;

use rusqlite::Connection;

use crate::error::Result;

/// The name index of one store connection, built on demand.
#[derive(Default)]
pub(crate) struct NameSearch {
    state: Mutex<Option<load::Loaded>>,
}

/// The lower-case prefixes of `words` when the in-memory index can serve
/// them exactly (ASCII letters and digits: FTS5 folds those by lower-casing
/// only), else `None`.
pub(crate) fn ascii_prefixes(words: &[&str]) -> Option<Vec<String>> {
    words
        .iter()
        .map(|w| {
            w.bytes()
                .all(|b| b.is_ascii_alphanumeric())
                .then(|| w.to_ascii_lowercase())
        })
        .collect()
}

impl NameSearch {
    /// Row numbers of the best `limit` products whose names have a token
    /// starting with each of `prefixes` (see `find::find`).
    pub(crate) fn find(
        &self,
        conn: &Connection,
        prefixes: &[String],
        candidates: usize,
        limit: usize,
        include_archived: bool,
    ) -> Result<Vec<i64>> {
        // A poisoned lock held no index (it is taken out while in use):
        // the next search builds one.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let loaded = load::refresh(conn, state.take())?;
        let out = find::find(&loaded.index, prefixes, candidates, limit, include_archived);
        *state = Some(loaded);
        Ok(out)
    }

    /// Builds (or catches up) the index now, so the first search does not
    /// wait for it. Returns its approximate heap size in bytes.
    pub(crate) fn prepare(&self, conn: &Connection) -> Result<usize> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let loaded = load::refresh(conn, state.take())?;
        let bytes = loaded.index.heap_bytes();
        *state = Some(loaded);
        Ok(bytes)
    }
}
#[cfg(test)]
mod tests;
