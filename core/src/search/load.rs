//! Filling the name index from the store and keeping it current.
//!
//! Tokens always come from FTS5 itself, so the index splits and folds names
//! (case, diacritics, Unicode word rules) exactly as the full-text index
//! does: a full build reads `products_fts` through an `fts5vocab` table; a
//! catch-up runs the changed names through a scratch FTS5 table with the
//! same tokenizer. Which rows changed comes from `products_changed`
//! (migration 07), stamped by triggers in every process writing the file.

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
}

/// The highest change stamp in the store.
fn latest(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM products_changed")?
        .query_row([], |r| r.get(0))?)
}

/// `current` brought up to date with the store, or built anew. Reads in one
/// transaction (when the caller is not in one) so rows and stamps agree.
pub(crate) fn refresh(conn: &Connection, current: Option<Loaded>) -> Result<Loaded> {
    let tx = if conn.is_autocommit() {
        Some(conn.unchecked_transaction()?)
    } else {
        None
    };
    let latest = latest(conn)?;
    let loaded = match current {
        Some(l) if l.seen == latest => l,
        // Stamps never go back in one file: the file was replaced.
        Some(l) if l.seen > latest => build(conn, latest)?,
        Some(l) => match catch_up(conn, l, latest)? {
            Some(l) => l,
            None => build(conn, latest)?,
        },
        None => build(conn, latest)?,
    };
    if let Some(tx) = tx {
        // Read-only: ending it either way releases the snapshot.
        tx.commit()?;
    }
    Ok(loaded)
}

fn build(conn: &Connection, latest: i64) -> Result<Loaded> {
    let mut b = Builder::default();
    let mut stmt = conn.prepare_cached("SELECT pk, name, active FROM products ORDER BY pk")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        b.row(r.get(0)?, r.get(1)?, r.get(2)?)
            .map_err(not_in_order)?;
    }
    conn.execute_batch(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_products_terms
             USING fts5vocab(main, products_fts, instance);",
    )?;
    let mut stmt = conn.prepare_cached("SELECT term, doc FROM temp.search_products_terms")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let term = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        b.token(term, r.get(1)?);
    }
    Ok(Loaded {
        index: b.finish(),
        seen: latest,
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
            .query_row([pk], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)))
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
        out.entry(r.get(0)?).or_default().push(r.get(1)?);
    }
    drop(rows);
    conn.execute_batch("DELETE FROM temp.search_tokenizer;")?;
    Ok(out)
}
