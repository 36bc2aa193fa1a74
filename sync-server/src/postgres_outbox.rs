//! The event outbox on PostgreSQL (migrations V2__outbox, V3__event_refs;
//! docs/EVENTS.md): the same rules as `sqlite_outbox.rs`. References to new
//! changes are queued inside `store_changes`' transaction; published
//! entries are deleted by id, never by range (an id is taken before its
//! transaction commits, so with several writers a lower id can become
//! visible after a higher one was published).

use deadpool_postgres::GenericClient;

use crate::events::OutboxEvent;
use crate::postgres::{col, exec, opt, rows};
use crate::sqlite::hash32;
use crate::storage::{
    OUTBOX_BATCH_BYTES, OutboxBacklog, OutboxEntry, OutboxRow, StorageResult, StoredChange,
};

/// Queues references to the store's changes `seqs`, in this order, in the
/// caller's transaction.
pub(crate) async fn queue_changes<C: GenericClient>(
    tx: &C,
    store_pk: i64,
    seqs: &[i64],
) -> StorageResult<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp_millis();
    // unnest keeps the order of the array, so ids follow the changes' order.
    exec(
        tx,
        "INSERT INTO event_outbox (store_pk, change_seq, created_ms)
         SELECT $1, s.seq, $3 FROM unnest($2::bigint[]) WITH ORDINALITY AS s(seq, n)
         ORDER BY s.n",
        &[&store_pk, &seqs, &now],
    )
    .await?;
    Ok(())
}

/// Up to `limit` entries after `after`, with their changes; the rows whose
/// changes come after `OUTBOX_BATCH_BYTES` of earlier ones (inflated, as
/// the publisher decodes them) are left for the next batch (counted in the
/// query, so their bytes are not sent).
pub(crate) async fn batch<C: GenericClient>(
    c: &C,
    after: i64,
    limit: u32,
) -> StorageResult<Vec<OutboxRow>> {
    let max = i64::try_from(OUTBOX_BATCH_BYTES).unwrap_or(i64::MAX);
    rows(
        c,
        "WITH head AS (
             SELECT id, created_ms, event_id, subject, payload, store_pk, change_seq, handled
             FROM event_outbox WHERE id > $1 ORDER BY id LIMIT $2),
         page AS (
             SELECT h.*, c.doc_pk, c.hash,
                    (sum(coalesce(c.inflated, octet_length(c.bytes), 0)) OVER (ORDER BY h.id))::bigint
                      - coalesce(c.inflated, octet_length(c.bytes), 0) AS before
             FROM head h
             LEFT JOIN changes c ON c.store_pk = h.store_pk AND c.seq = h.change_seq)
         SELECT p.id, p.created_ms, p.event_id, p.subject, p.payload, p.store_pk,
                p.change_seq, p.handled, d.doc_id, p.hash, c.bytes
         FROM page p
         LEFT JOIN documents d ON d.pk = p.doc_pk
         LEFT JOIN changes c ON c.store_pk = p.store_pk AND c.seq = p.change_seq
         WHERE p.before < $3 ORDER BY p.id",
        &[&after, &i64::from(limit), &max],
    )
    .await?
    .iter()
    .map(|r| {
        let seq: Option<i64> = col(r, 6)?;
        let entry = match seq {
            None => OutboxEntry::Event(OutboxEvent {
                event_id: col(r, 2)?,
                subject: col(r, 3)?,
                payload: col(r, 4)?,
            }),
            Some(seq) => {
                let doc_id: Option<String> = col(r, 8)?;
                let hash: Option<Vec<u8>> = col(r, 9)?;
                let bytes: Option<Vec<u8>> = col(r, 10)?;
                let stored = match (doc_id, hash, bytes) {
                    (Some(doc_id), Some(hash), Some(bytes)) => Some(StoredChange {
                        doc_id,
                        hash: hash32(hash),
                        bytes,
                    }),
                    _ => None,
                };
                OutboxEntry::Change {
                    store_pk: col::<Option<i64>>(r, 5)?.unwrap_or_default(),
                    seq,
                    handled: col::<i32>(r, 7)?.max(0) as u32,
                    stored,
                }
            }
        };
        Ok(OutboxRow {
            id: col(r, 0)?,
            created_ms: col(r, 1)?,
            entry,
        })
    })
    .collect()
}

/// Deletes published entries, in the caller's transaction; `dead` (entry,
/// reason) change entries are recorded in `event_change_dead_letters` first.
pub(crate) async fn delete<C: GenericClient>(
    tx: &C,
    ids: &[i64],
    dead: &[(i64, String)],
) -> StorageResult<()> {
    if !dead.is_empty() {
        let now = chrono::Utc::now().timestamp_millis();
        let entries: Vec<i64> = dead.iter().map(|(id, _)| *id).collect();
        let errors: Vec<&str> = dead.iter().map(|(_, e)| e.as_str()).collect();
        exec(
            tx,
            "INSERT INTO event_change_dead_letters
               (store_pk, change_seq, doc_id, hash, error, created_ms, failed_ms)
             SELECT o.store_pk, o.change_seq, d.doc_id, c.hash, k.error, o.created_ms, $3
             FROM unnest($1::bigint[], $2::text[]) AS k(id, error)
             JOIN event_outbox o ON o.id = k.id AND o.change_seq IS NOT NULL
             LEFT JOIN changes c ON c.store_pk = o.store_pk AND c.seq = o.change_seq
             LEFT JOIN documents d ON d.pk = c.doc_pk",
            &[&entries, &errors, &now],
        )
        .await?;
    }
    exec(tx, "DELETE FROM event_outbox WHERE id = ANY($1)", &[&ids]).await?;
    Ok(())
}

/// Moves one event JetStream refused to `event_dead_letters`, in the
/// caller's transaction: an event entry is deleted, a change entry marks
/// its first `handled` events done.
pub(crate) async fn dead_letter<C: GenericClient>(
    tx: &C,
    entry: i64,
    handled: u32,
    event: &OutboxEvent,
    error: &str,
) -> StorageResult<()> {
    let now = chrono::Utc::now().timestamp_millis();
    exec(
        tx,
        "INSERT INTO event_dead_letters (event_id, subject, payload, created_ms, error, failed_ms)
         SELECT $2, $3, $4, created_ms, $5, $6 FROM event_outbox WHERE id = $1",
        &[
            &entry,
            &event.event_id,
            &event.subject,
            &event.payload,
            &error,
            &now,
        ],
    )
    .await?;
    exec(
        tx,
        "DELETE FROM event_outbox WHERE id = $1 AND change_seq IS NULL",
        &[&entry],
    )
    .await?;
    let handled = i32::try_from(handled).unwrap_or(i32::MAX);
    exec(
        tx,
        "UPDATE event_outbox SET handled = GREATEST(handled, $2) WHERE id = $1",
        &[&entry, &handled],
    )
    .await?;
    Ok(())
}

/// Read on every `/metrics` scrape: the oldest row and the id range (an
/// estimate, as on SQLite).
pub(crate) async fn backlog<C: GenericClient>(c: &C) -> StorageResult<OutboxBacklog> {
    let Some(r) = opt(
        c,
        "SELECT id, created_ms, (SELECT max(id) FROM event_outbox) FROM event_outbox
         ORDER BY id LIMIT 1",
        &[],
    )
    .await?
    else {
        return Ok(OutboxBacklog::default());
    };
    let (first, oldest_ms, last): (i64, i64, i64) = (col(&r, 0)?, col(&r, 1)?, col(&r, 2)?);
    Ok(OutboxBacklog {
        events: (last - first + 1).max(0) as u64,
        oldest_ms: Some(oldest_ms),
    })
}
