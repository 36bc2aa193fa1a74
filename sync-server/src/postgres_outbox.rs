//! The event outbox on PostgreSQL (migration V2__outbox; docs/EVENTS.md):
//! the same rules as `sqlite_outbox.rs`. Queued inside `store_changes`'
//! transaction; published events are deleted by id, never by range (an id
//! is taken before its transaction commits, so with several writers a
//! lower id can become visible after a higher one was published).

use std::collections::HashSet;

use deadpool_postgres::GenericClient;

use crate::events::OutboxEvent;
use crate::postgres::{col, exec, opt, rows};
use crate::sqlite::hash32;
use crate::storage::{OutboxBacklog, OutboxRow, StorageResult};

/// Queues `events` in the caller's transaction; an id already waiting is
/// not queued twice.
pub(crate) async fn queue<C: GenericClient>(tx: &C, events: &[OutboxEvent]) -> StorageResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp_millis();
    let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
    let payloads: Vec<&str> = events.iter().map(|e| e.payload.as_str()).collect();
    // unnest keeps the order of the arrays, so ids follow the events' order.
    exec(
        tx,
        "INSERT INTO event_outbox (event_id, subject, payload, created_ms)
         SELECT e.event_id, e.subject, e.payload, $4
         FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY
              AS e(event_id, subject, payload, n)
         ORDER BY e.n
         ON CONFLICT (event_id) DO NOTHING",
        &[&ids, &subjects, &payloads, &now],
    )
    .await?;
    Ok(())
}

/// The changes of `hashes` (per document id) the store already has.
pub(crate) async fn known_changes<C: GenericClient>(
    c: &C,
    store_pk: i64,
    hashes: &[(String, Vec<[u8; 32]>)],
) -> StorageResult<HashSet<[u8; 32]>> {
    let mut known = HashSet::new();
    for (doc_id, doc_hashes) in hashes {
        let list: Vec<Vec<u8>> = doc_hashes.iter().map(|h| h.to_vec()).collect();
        for r in rows(
            c,
            "SELECT c.hash FROM changes c JOIN documents d ON d.pk = c.doc_pk
             WHERE d.doc_id = $1 AND d.store_pk = $2 AND c.hash = ANY($3)",
            &[doc_id, &store_pk, &list],
        )
        .await?
        {
            known.insert(hash32(col(&r, 0)?));
        }
    }
    Ok(known)
}

pub(crate) async fn batch<C: GenericClient>(
    c: &C,
    after: i64,
    limit: u32,
) -> StorageResult<Vec<OutboxRow>> {
    rows(
        c,
        "SELECT id, event_id, subject, payload, created_ms FROM event_outbox
         WHERE id > $1 ORDER BY id LIMIT $2",
        &[&after, &i64::from(limit)],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(OutboxRow {
            id: col(r, 0)?,
            event_id: col(r, 1)?,
            subject: col(r, 2)?,
            payload: col(r, 3)?,
            created_ms: col(r, 4)?,
        })
    })
    .collect()
}

pub(crate) async fn delete<C: GenericClient>(c: &C, ids: &[i64]) -> StorageResult<()> {
    exec(c, "DELETE FROM event_outbox WHERE id = ANY($1)", &[&ids]).await?;
    Ok(())
}

/// Moves one event to `event_dead_letters`, in the caller's transaction.
pub(crate) async fn dead_letter<C: GenericClient>(
    tx: &C,
    id: i64,
    error: &str,
) -> StorageResult<()> {
    let now = chrono::Utc::now().timestamp_millis();
    exec(
        tx,
        "INSERT INTO event_dead_letters
           (id, event_id, subject, payload, created_ms, error, failed_ms)
         SELECT id, event_id, subject, payload, created_ms, $2, $3
         FROM event_outbox WHERE id = $1
         ON CONFLICT (id) DO UPDATE SET error = excluded.error, failed_ms = excluded.failed_ms",
        &[&id, &error, &now],
    )
    .await?;
    exec(tx, "DELETE FROM event_outbox WHERE id = $1", &[&id]).await?;
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
