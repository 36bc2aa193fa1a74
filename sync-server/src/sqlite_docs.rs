//! SQLite queries for following single documents (customers) and for the
//! list of shops customers can find.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};

use crate::storage::{DocPage, PAGE_INFLATED_BYTES, StorageResult, StoreRow};

pub(crate) fn document_scope(conn: &Connection, doc_id: &str) -> StorageResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT store_pk FROM documents WHERE doc_id = ?1")?
        .query_row([doc_id], |r| r.get(0))
        .optional()?)
}

pub(crate) fn document_changes_since(
    conn: &Connection,
    doc_id: &str,
    since: u64,
    exclude: &HashSet<[u8; 32]>,
    max_bytes: u64,
) -> StorageResult<DocPage> {
    let mut page = DocPage {
        cursor: since,
        ..DocPage::default()
    };
    let Some(doc_pk) = conn
        .prepare_cached("SELECT pk FROM documents WHERE doc_id = ?1")?
        .query_row([doc_id], |r| r.get::<_, i64>(0))
        .optional()?
    else {
        return Ok(page);
    };
    // Changes marked undecodable by the upgrade back-fill are never served.
    let mut stmt = conn.prepare_cached(
        "SELECT seq, hash, bytes, COALESCE(inflated, length(bytes)) FROM changes
         WHERE doc_pk = ?1 AND seq > ?2 AND (actor_seq IS NULL OR actor_seq >= 0)
         ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![doc_pk, since.min(i64::MAX as u64) as i64])?;
    let mut inflated_total = 0u64;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let hash = row.get_ref(1)?.as_blob().unwrap_or_default();
        if hash.len() == 32 {
            let mut h = [0u8; 32];
            h.copy_from_slice(hash);
            if exclude.contains(&h) {
                page.cursor = seq as u64;
                continue;
            }
        }
        let bytes = row.get_ref(2)?.as_blob().unwrap_or_default();
        let inflated = row.get::<_, i64>(3)?.max(0) as u64;
        if !page.changes.is_empty()
            && (page.bytes + bytes.len() as u64 > max_bytes
                || inflated_total + inflated > PAGE_INFLATED_BYTES)
        {
            page.more = true;
            break;
        }
        inflated_total += inflated;
        page.bytes += bytes.len() as u64;
        page.changes.push(bytes.to_vec());
        page.cursor = seq as u64;
    }
    Ok(page)
}

pub(crate) fn set_shop_listing(
    conn: &Connection,
    store_pk: i64,
    name: &str,
    published: bool,
    now_ms: i64,
) -> StorageResult<Option<bool>> {
    // One writer connection: nothing changes the row between the two.
    let before: Option<bool> = conn
        .prepare_cached("SELECT published FROM shop_listings WHERE store_pk = ?1")?
        .query_row([store_pk], |r| r.get(0))
        .optional()?;
    conn.prepare_cached(
        "INSERT INTO shop_listings (store_pk, name, published, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (store_pk) DO UPDATE SET name = excluded.name, published = excluded.published,
             updated_at = excluded.updated_at",
    )?
    .execute(params![store_pk, name, published, now_ms])?;
    Ok(before)
}

pub(crate) fn shop_published(conn: &Connection, store_pk: i64) -> StorageResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM shop_listings WHERE store_pk = ?1 AND published = 1")?
        .exists([store_pk])?)
}

pub(crate) fn stores_maybe_publishing(conn: &Connection) -> StorageResult<Vec<StoreRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.pk, s.store_id, s.name FROM stores s
         LEFT JOIN shop_listings l ON l.store_pk = s.pk
         WHERE substr(s.store_id, 1, 1) <> '~' AND COALESCE(l.published, 1) = 1
           AND EXISTS (SELECT 1 FROM changes c WHERE c.store_pk = s.pk)
         ORDER BY s.pk",
    )?;
    let rows = stmt
        .query_map([], crate::sqlite::store_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub(crate) fn published_shops(
    conn: &Connection,
    search: Option<&str>,
    limit: u32,
) -> StorageResult<Vec<StoreRow>> {
    let pattern = search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            format!(
                "%{}%",
                s.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        })
        .unwrap_or_else(|| "%".into());
    let mut stmt = conn.prepare_cached(
        "SELECT s.pk, s.store_id, l.name FROM shop_listings l JOIN stores s ON s.pk = l.store_pk
         WHERE l.published = 1 AND l.name LIKE ?1 ESCAPE '\\'
         ORDER BY l.name COLLATE NOCASE, s.store_id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![pattern, limit], crate::sqlite::store_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
