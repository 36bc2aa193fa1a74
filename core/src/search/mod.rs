//! Product name search in memory (issue 13).
//!
//! The full-text query it replaces (`products_fts MATCH '"dark"* "choc"*'`
//! ranked by bm25) cost 1-10 ms on 100k products: FTS5 merges the doclists
//! of every term of a 4+ letter prefix, and bm25 counts every row of each
//! phrase before ranking. Here each typed word is a range of a sorted
//! vocabulary and a bitmap of rows, so a query costs well under a
//! millisecond, with the same matches and the same order (see `find`).
//!
//! The index is not built at open (opening stays at ~1 ms) nor for the
//! first name search, which the full-text table answers: it is built by
//! the second (`NameSearch::use_index`) or ahead by `Store::prepare_search`,
//! then caught up before every search with the rows other writers changed
//! (`load`), inside the read transaction the rows are then read in. Queries with a non-ASCII word go to the full-text
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
    state: Mutex<State>,
    /// Runs once between finding the rows and reading them (tests only:
    /// another writer steps in there).
    #[cfg(test)]
    pub(crate) after_find: Mutex<Option<Box<dyn FnMut() + Send>>>,
}

#[derive(Default)]
struct State {
    loaded: Option<load::Loaded>,
    /// Name searches asked for (`use_index`).
    searches: u64,
    /// Full builds so far.
    builds: u64,
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
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock held no index (it is taken out while in use):
        // the next search builds one.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a name search should use the index: once it exists, or from
    /// the second name search on. The first is answered by the full-text
    /// table: a one-shot command (`product list --search`) never pays for
    /// a build (~150 ms on 100k products), nor does the app's first search
    /// under its store lock; `prepare` builds it ahead.
    pub(crate) fn use_index(&self) -> bool {
        let mut state = self.state();
        state.searches += 1;
        state.loaded.is_some() || state.searches > 1
    }

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
        let mut state = self.state();
        let loaded = self.refresh(conn, &mut state)?;
        let out = find::find(&loaded.index, prefixes, candidates, limit, include_archived);
        state.loaded = Some(loaded);
        Ok(out)
    }

    fn refresh(&self, conn: &Connection, state: &mut State) -> Result<load::Loaded> {
        let (loaded, built) = load::refresh(conn, state.loaded.take())?;
        if built {
            state.builds += 1;
        }
        Ok(loaded)
    }

    /// Builds (or catches up) the index now, so no search waits for it.
    /// Returns its approximate heap size in bytes.
    pub(crate) fn prepare(&self, conn: &Connection) -> Result<usize> {
        let mut state = self.state();
        let loaded = self.refresh(conn, &mut state)?;
        let bytes = loaded.index.heap_bytes();
        state.loaded = Some(loaded);
        Ok(bytes)
    }

    /// Full builds so far (tests: which way a refresh went).
    #[cfg(test)]
    pub(crate) fn builds(&self) -> u64 {
        self.state().builds
    }

    #[cfg(test)]
    pub(crate) fn run_after_find(&self) {
        let hook = self
            .after_find
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(mut f) = hook {
            f();
        }
    }

    /// Terms in the index, and how many of them no row holds.
    #[cfg(test)]
    pub(crate) fn terms(&self) -> (usize, usize) {
        self.state()
            .loaded
            .as_ref()
            .map_or((0, 0), |l| (l.index.term_count(), l.index.dead_terms()))
    }
}
#[cfg(test)]
mod tests;
