//! Filling the name index from the store and keeping it current.
//!
//! Tokens always come from FTS5 itself, so the index splits and folds names
//! (case, diacritics, Unicode word rules) exactly as the full-text index
//! does: a full build reads `products_fts` through an `fts5vocab` table; a
//! catch-up runs the changed names through a scratch FTS5 table with the
//! same tokenizer. Which rows changed comes from `products_changed`
//! (migration 07), stamped by triggers in every process writing the file.

use std::sync::Once;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};

use super::index::{Builder, NameIndex, NeedsRebuild, RowData};
use crate::error::{CoreError, Result};

/// The tokenizer of `products_fts` (migrations/till/01-initial/up.sql).
/// Changing one without the other makes the index disagree with the
/// full-text table; `search_index` tests compare them.
const TOKENIZER: &str = "unicode61 remove_diacritics 2";

/// Past this many changed rows a catch-up costs more than a rebuild.
fn rebuild_after(rows: u64) -> usize {
    (rows / 8).max(2_000) as usize
}

/// An index and the last change stamp it includes.
pub(crate) struct Loaded {
    pub index: NameIndex,
    pub seen: i64,
    /// The random tag of stamp `seen` (`products_changed_marks`, migration
    /// 07): the fingerprint of the history the index has read.
    tag: Option<i64>,
}

/// The highest change stamp in the store.
fn latest(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM products_changed")?
        .query_row([], |r| r.get(0))?)
}

/// The tag of stamp `seq`, if the store still has it.
fn mark(conn: &Connection, seq: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT tag FROM products_changed_marks WHERE seq = ?1")?
        .query_row([seq], |r| r.get(0))
        .optional()?)
}

/// `current` brought up to date with the store, or built anew (then the
/// flag is true). Reads in one transaction (when the caller is not in one)
/// so rows and stamps agree.
pub(crate) fn refresh(conn: &Connection, current: Option<Loaded>) -> Result<(Loaded, bool)> {
    let tx = if conn.is_autocommit() {
        Some(conn.unchecked_transaction()?)
    } else {
        None
    };
    let latest = latest(conn)?;
    let current = match current {
        // The stamp at the cursor must be the one the index read: stamps
        // never go back in one file, and a file restored from a backup (or
        // copied over) has other tags from its cursor on, even after other
        // writers pushed the numbers past it. Else the file was replaced.
        Some(l) if l.seen <= latest && mark(conn, l.seen)? == l.tag => Some(l),
        _ => None,
    };
    let loaded = match current {
        Some(l) if l.seen == latest => Some(l),
        Some(l) => catch_up(conn, l, latest)?,
        None => None,
    };
    let (loaded, built) = match loaded {
        Some(l) => (l, false),
        None => (build(conn, latest)?, true),
    };
    if let Some(tx) = tx {
        // Read-only: ending it either way releases the snapshot.
        tx.commit()?;
    }
    Ok((loaded, built))
}

/// A text value as a string, invalid UTF-8 replaced: one row written badly
/// by another tool must not fail every search.
fn text(v: ValueRef<'_>, pk: i64) -> String {
    match v {
        ValueRef::Text(b) | ValueRef::Blob(b) => match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => {
                static WARNED: Once = Once::new();
                WARNED.call_once(|| {
                    tracing::warn!(
                        "product row {pk}: the name is not UTF-8; searching it with the bad bytes replaced"
                    );
                });
                String::from_utf8_lossy(b).into_owned()
            }
        },
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Null => String::new(),
    }
}

fn build(conn: &Connection, latest: i64) -> Result<Loaded> {
    let mut b = Builder::default();
    let mut stmt = conn.prepare_cached("SELECT pk, name, active FROM products ORDER BY pk")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let pk = r.get(0)?;
        b.row(pk, text(r.get_ref(1)?, pk), r.get(2)?)
            .map_err(not_in_order)?;
    }
    conn.execute_batch(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_products_terms
             USING fts5vocab(main, products_fts, instance);",
    )?;
    let mut stmt = conn.prepare_cached("SELECT term, doc FROM temp.search_products_terms")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let pk = r.get(1)?;
        let term = r.get_ref(0)?;
        match term.as_str() {
            Ok(t) => b.token(t, pk),
            Err(_) => b.token(&text(term, pk), pk),
        }
    }
    Ok(Loaded {
        index: b.finish(),
        seen: latest,
        tag: mark(conn, latest)?,
    })
}

fn not_in_order(_: NeedsRebuild) -> CoreError {
    CoreError::Corrupt("products are not in row order".into())
}

/// Applies the rows stamped after `l.seen`. `None` when a rebuild is
/// cheaper or the index cannot take a change in place.
fn catch_up(conn: &Connection, mut l: Loaded, latest: i64) -> Result<Option<Loaded>> {
    let changed: Vec<i64> = conn
        .prepare_cached("SELECT pk FROM products_changed WHERE seq > ?1 ORDER BY pk")?
        .query_map([l.seen], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if changed.len() > rebuild_after(l.index.live_rows()) {
        return Ok(None);
    }
    let mut tokens = tokenize(conn, &changed)?;
    let mut row = conn.prepare_cached("SELECT name, active FROM products WHERE pk = ?1")?;
    for pk in changed {
        let data = row
            .query_row([pk], |r| {
                Ok((text(r.get_ref(0)?, pk), r.get::<_, bool>(1)?))
            })
            .optional()?
            .map(|(name, active)| RowData {
                name,
                active,
                tokens: tokens.remove(&pk).unwrap_or_default(),
            });
        if l.index.set(pk, data).is_err() {
            return Ok(None);
        }
    }
    l.seen = latest;
    l.tag = mark(conn, latest)?;
    Ok(Some(l))
}

/// The tokens of these rows' current names, as `products_fts` makes them.
fn tokenize(conn: &Connection, pks: &[i64]) -> Result<std::collections::HashMap<i64, Vec<String>>> {
    conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_tokenizer
             USING fts5(name, tokenize = '{TOKENIZER}');
         CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_tokenizer_terms
             USING fts5vocab(temp, search_tokenizer, instance);
         DELETE FROM temp.search_tokenizer;"
    ))?;
    let mut put = conn.prepare_cached(
        "INSERT INTO temp.search_tokenizer (rowid, name) SELECT pk, name FROM products WHERE pk = ?1",
    )?;
    for pk in pks {
        put.execute(params![pk])?;
    }
    let mut out: std::collections::HashMap<i64, Vec<String>> = Default::default();
    // By row and position: a name's tokens in order (only counts matter to
    // bm25, but order keeps the index easy to inspect).
    let mut stmt = conn.prepare_cached(
        "SELECT doc, term FROM temp.search_tokenizer_terms ORDER BY doc, col, offset",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let pk = r.get(0)?;
        out.entry(pk).or_default().push(text(r.get_ref(1)?, pk));
    }
    drop(rows);
    conn.execute_batch("DELETE FROM temp.search_tokenizer;")?;
    Ok(out)
}
