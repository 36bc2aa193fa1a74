//! PostgreSQL queries for documents: storing a batch of changes under the
//! store's counter, following single documents (customers), and the list of
//! shops customers can find. The same rules as sqlite.rs / sqlite_docs.rs.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::GenericClient;

use crate::postgres::{INSERT_ROWS, big, col, cut_document_page, exec, opt, rows, store_row};
use crate::sqlite::{hash32, hex};
use crate::storage::{DocBatch, DocPage, StorageError, StorageResult, StoreRow, Stored};

/// One change to insert, numbered.
struct Insert {
    seq: i64,
    hash: Vec<u8>,
    bytes: Vec<u8>,
    inflated: i64,
    actor: Vec<u8>,
    actor_seq: i64,
}

/// Stores a validated batch in the open transaction `tx`: all of it, or an
/// error (the caller then drops the transaction, which rolls it back).
///
/// The store's row is locked first and held to the commit: writers of one
/// store run one after the other, which is what makes the numbers follow
/// commit order, and also makes the checks below (dependencies present, no
/// forked actor, which hashes are new) exact: nobody else writes this
/// store's documents meanwhile.
pub(crate) async fn store_changes_tx<C: GenericClient>(
    tx: &C,
    store_pk: i64,
    batch: Vec<DocBatch>,
    events: bool,
) -> StorageResult<Stored> {
    // events for other systems: a reference to each new change that may
    // give some, derived when published.
    let mut queued: Vec<i64> = Vec::new();
    let locked = opt(
        tx,
        "SELECT head FROM stores WHERE pk = $1 FOR UPDATE",
        &[&store_pk],
    )
    .await?
    .ok_or_else(|| StorageError::NotFound(format!("no store with key {store_pk}")))?;
    let start: i64 = col(&locked, 0)?;
    let mut head = start;
    let mut out = Stored::default();
    for doc in batch {
        let refs = events && crate::events::yields_events(&doc.doc_id);
        let (doc_pk, heads) = find_or_create_document(tx, store_pk, &doc.doc_id, &mut out).await?;
        // Which of the hashes this batch names (its changes and their
        // dependencies) the document already has: one query per document.
        let mut named: Vec<Vec<u8>> = Vec::new();
        let mut named_set: HashSet<[u8; 32]> = HashSet::new();
        for change in &doc.changes {
            for h in std::iter::once(&change.hash).chain(change.deps.iter()) {
                if named_set.insert(*h) {
                    named.push(h.to_vec());
                }
            }
        }
        let stored: HashSet<[u8; 32]> = rows(
            tx,
            "SELECT hash FROM changes WHERE doc_pk = $1 AND hash = ANY($2)",
            &[&doc_pk, &named],
        )
        .await?
        .iter()
        .map(|r| col::<Vec<u8>>(r, 0).map(hash32))
        .collect::<StorageResult<_>>()?;
        // restore: the stored changes with the same (actor, seq) as one of
        // the batch's, to refuse a fork.
        let actors: Vec<Vec<u8>> = doc.changes.iter().map(|c| c.actor.clone()).collect();
        let actor_seqs: Vec<i64> = doc.changes.iter().map(|c| big(c.actor_seq)).collect();
        let mut stored_actor_seqs: HashMap<(Vec<u8>, i64), Vec<u8>> = HashMap::new();
        for r in rows(
            tx,
            "SELECT c.actor, c.actor_seq, c.hash FROM changes c
             JOIN unnest($2::bytea[], $3::bigint[]) AS k(actor, actor_seq)
               ON c.actor = k.actor AND c.actor_seq = k.actor_seq
             WHERE c.doc_pk = $1",
            &[&doc_pk, &actors, &actor_seqs],
        )
        .await?
        {
            stored_actor_seqs.insert((col(&r, 0)?, col(&r, 1)?), col(&r, 2)?);
        }

        // A set, so each new change updates the heads in time proportional
        // to its own dependencies.
        let mut heads: HashSet<[u8; 32]> =
            heads.chunks_exact(32).map(|c| hash32(c.to_vec())).collect();
        let mut seen: HashSet<[u8; 32]> = HashSet::new();
        let mut batch_actor_seqs: HashMap<(Vec<u8>, u64), [u8; 32]> = HashMap::new();
        let mut inserts: Vec<Insert> = Vec::new();
        for change in doc.changes {
            if seen.contains(&change.hash) {
                out.known_changes += 1;
                continue;
            }
            for dep in &change.deps {
                if !seen.contains(dep) && !stored.contains(dep) {
                    return Err(StorageError::Invalid(format!(
                        "a change to {} depends on {}, which the server does not have and the request does not carry before it",
                        doc.doc_id,
                        hex(dep)
                    )));
                }
            }
            seen.insert(change.hash);
            let key = (change.actor.clone(), change.actor_seq);
            if batch_actor_seqs
                .insert(key, change.hash)
                .is_some_and(|h| h != change.hash)
            {
                return Err(crate::restore::fork_error(
                    &doc.doc_id,
                    &change.actor,
                    change.actor_seq,
                ));
            }
            if let Some(h) = stored_actor_seqs.get(&(change.actor.clone(), big(change.actor_seq)))
                && h.as_slice() != change.hash.as_slice()
            {
                return Err(crate::restore::fork_error(
                    &doc.doc_id,
                    &change.actor,
                    change.actor_seq,
                ));
            }
            if stored.contains(&change.hash) {
                out.known_changes += 1;
                continue;
            }
            for dep in &change.deps {
                heads.remove(dep);
            }
            heads.insert(change.hash);
            head += 1;
            if refs {
                queued.push(head);
            }
            inserts.push(Insert {
                seq: head,
                hash: change.hash.to_vec(),
                bytes: change.bytes,
                inflated: big(change.inflated_len),
                actor: change.actor,
                actor_seq: big(change.actor_seq),
            });
        }
        if inserts.is_empty() {
            continue;
        }
        let added = inserts.len() as i64;
        for chunk in inserts.chunks(INSERT_ROWS) {
            insert_changes(tx, store_pk, doc_pk, chunk).await?;
        }
        let mut heads: Vec<[u8; 32]> = heads.into_iter().collect();
        heads.sort_unstable();
        let flat: Vec<u8> = heads.concat();
        exec(
            tx,
            "UPDATE documents SET heads = $1, changes = changes + $2 WHERE pk = $3",
            &[&flat, &added, &doc_pk],
        )
        .await?;
        out.new_changes += added as u64;
    }
    if head != start {
        exec(
            tx,
            "UPDATE stores SET head = $1 WHERE pk = $2",
            &[&head, &store_pk],
        )
        .await?;
    }
    crate::postgres_outbox::queue_changes(tx, store_pk, &queued).await?;
    out.head = head.max(0) as u64;
    Ok(out)
}

/// The document's key and heads, creating it for `store_pk` if new; a
/// document of another store is refused.
async fn find_or_create_document<C: GenericClient>(
    tx: &C,
    store_pk: i64,
    doc_id: &str,
    out: &mut Stored,
) -> StorageResult<(i64, Vec<u8>)> {
    let found = opt(
        tx,
        "SELECT pk, store_pk, heads FROM documents WHERE doc_id = $1",
        &[&doc_id],
    )
    .await?;
    let found = match found {
        Some(r) => Some(r),
        None => {
            // Another store may create the same id at the same time: then
            // nothing is inserted here and the row read next is theirs.
            let created = opt(
                tx,
                "INSERT INTO documents (store_pk, doc_id, heads, changes) VALUES ($1, $2, '\\x'::bytea, 0)
                 ON CONFLICT (doc_id) DO NOTHING RETURNING pk",
                &[&store_pk, &doc_id],
            )
            .await?;
            if let Some(r) = created {
                out.new_documents += 1;
                return Ok((col(&r, 0)?, Vec::new()));
            }
            opt(
                tx,
                "SELECT pk, store_pk, heads FROM documents WHERE doc_id = $1",
                &[&doc_id],
            )
            .await?
        }
    };
    let r = found.ok_or_else(|| StorageError::Backend(format!("document {doc_id} vanished")))?;
    let owner: i64 = col(&r, 1)?;
    if owner != store_pk {
        return Err(StorageError::Invalid(format!(
            "document {doc_id} belongs to another store"
        )));
    }
    Ok((col(&r, 0)?, col(&r, 2)?))
}

/// One multi-row insert (arrays unnested into rows).
async fn insert_changes<C: GenericClient>(
    tx: &C,
    store_pk: i64,
    doc_pk: i64,
    rows: &[Insert],
) -> StorageResult<()> {
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let hashes: Vec<&[u8]> = rows.iter().map(|r| r.hash.as_slice()).collect();
    let bytes: Vec<&[u8]> = rows.iter().map(|r| r.bytes.as_slice()).collect();
    let inflated: Vec<i64> = rows.iter().map(|r| r.inflated).collect();
    let actors: Vec<&[u8]> = rows.iter().map(|r| r.actor.as_slice()).collect();
    let actor_seqs: Vec<i64> = rows.iter().map(|r| r.actor_seq).collect();
    exec(
        tx,
        "INSERT INTO changes (store_pk, seq, doc_pk, hash, bytes, inflated, actor, actor_seq)
         SELECT $1, k.seq, $2, k.hash, k.bytes, k.inflated, k.actor, k.actor_seq
         FROM unnest($3::bigint[], $4::bytea[], $5::bytea[], $6::bigint[], $7::bytea[], $8::bigint[])
              AS k(seq, hash, bytes, inflated, actor, actor_seq)",
        &[
            &store_pk,
            &doc_pk,
            &seqs,
            &hashes,
            &bytes,
            &inflated,
            &actors,
            &actor_seqs,
        ],
    )
    .await?;
    Ok(())
}

/// One document's changes after `since` (see `Storage::document_changes_since`).
pub(crate) async fn document_changes_since<C: GenericClient>(
    tx: &C,
    doc_id: &str,
    since: u64,
    exclude: &HashSet<[u8; 32]>,
    max_bytes: u64,
) -> StorageResult<DocPage> {
    let mut page = DocPage {
        cursor: since,
        ..DocPage::default()
    };
    let Some(row) = opt(tx, "SELECT pk FROM documents WHERE doc_id = $1", &[&doc_id]).await? else {
        return Ok(page);
    };
    let doc_pk: i64 = col(&row, 0)?;
    let cut = cut_document_page(tx, doc_pk, since, exclude, max_bytes).await?;
    page.cursor = cut.cursor;
    page.more = cut.more;
    if !cut.seqs.is_empty() {
        for r in rows(
            tx,
            "SELECT bytes FROM changes WHERE doc_pk = $1 AND seq = ANY($2) ORDER BY seq",
            &[&doc_pk, &cut.seqs],
        )
        .await?
        {
            let bytes: Vec<u8> = col(&r, 0)?;
            page.bytes += bytes.len() as u64;
            page.changes.push(bytes);
        }
    }
    Ok(page)
}

/// Stores with changes whose listing says they publish, or that have none.
pub(crate) async fn stores_maybe_publishing<C: GenericClient>(
    c: &C,
) -> StorageResult<Vec<StoreRow>> {
    rows(
        c,
        "SELECT s.pk, s.store_id, s.name FROM stores s
         LEFT JOIN shop_listings l ON l.store_pk = s.pk
         WHERE left(s.store_id, 1) <> '~' AND COALESCE(l.published, true) AND s.head > 0
         ORDER BY s.pk",
        &[],
    )
    .await?
    .iter()
    .map(store_row)
    .collect()
}

/// Shops that publish, by name (any case), those whose name contains
/// `search` if given; at most `limit`.
pub(crate) async fn published_shops<C: GenericClient>(
    c: &C,
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
    rows(
        c,
        "SELECT s.pk, s.store_id, l.name FROM shop_listings l JOIN stores s ON s.pk = l.store_pk
         WHERE l.published AND l.name ILIKE $1 ESCAPE '\\'
         ORDER BY lower(l.name), s.store_id LIMIT $2",
        &[&pattern, &i64::from(limit)],
    )
    .await?
    .iter()
    .map(store_row)
    .collect()
}

/// The reserved store row by id (used by the customers' queries too).
pub(crate) async fn store_row_by_id<C: GenericClient>(
    c: &C,
    store_id: &str,
) -> StorageResult<Option<StoreRow>> {
    opt(
        c,
        "SELECT pk, store_id, name FROM stores WHERE store_id = $1",
        &[&store_id],
    )
    .await?
    .as_ref()
    .map(store_row)
    .transpose()
}
