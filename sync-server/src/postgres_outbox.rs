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

/// Up to `limit` entries after `after`, with their changes; the rows that
/// come after `OUTBOX_BATCH_BYTES` of earlier ones (changes inflated, as
/// the publisher decodes them; whole events by their payload) are left for
/// the next batch (counted in the query, so their bytes are not sent).
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
                    (sum(coalesce(c.inflated, octet_length(c.bytes), octet_length(h.payload), 0))
                       OVER (ORDER BY h.id))::bigint
                      - coalesce(c.inflated, octet_length(c.bytes), octet_length(h.payload), 0)
                      AS before
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

/// Deletes published entries; `dead` (entry, reason) change entries are
/// recorded in `event_change_dead_letters` by the same statement, from the
/// rows it deleted: of two publishers handling the same entry, only the
/// one whose delete took the row writes its dead letter. Returns how many
/// it wrote.
pub(crate) async fn delete<C: GenericClient>(
    c: &C,
    ids: &[i64],
    dead: &[(i64, String)],
) -> StorageResult<u64> {
    if dead.is_empty() {
        exec(c, "DELETE FROM event_outbox WHERE id = ANY($1)", &[&ids]).await?;
        return Ok(0);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let entries: Vec<i64> = dead.iter().map(|(id, _)| *id).collect();
    let errors: Vec<&str> = dead.iter().map(|(_, e)| e.as_str()).collect();
    exec(
        c,
        "WITH gone AS (
             DELETE FROM event_outbox WHERE id = ANY($1)
             RETURNING id, store_pk, change_seq, created_ms)
         INSERT INTO event_change_dead_letters
           (store_pk, change_seq, doc_id, hash, error, created_ms, failed_ms)
         SELECT g.store_pk, g.change_seq, d.doc_id, ch.hash, k.error, g.created_ms, $4
         FROM unnest($2::bigint[], $3::text[]) AS k(id, error)
         JOIN gone g ON g.id = k.id AND g.change_seq IS NOT NULL
         LEFT JOIN changes ch ON ch.store_pk = g.store_pk AND ch.seq = g.change_seq
         LEFT JOIN documents d ON d.pk = ch.doc_pk",
        &[&ids, &entries, &errors, &now],
    )
    .await
}

/// Moves one event JetStream refused to `event_dead_letters`: an event
/// entry is deleted, a change entry marks its first `handled` events done.
/// One statement, the dead letter written from the row it deleted or moved
/// forward, so two publishers never both write it. Returns whether this
/// call wrote it.
pub(crate) async fn dead_letter<C: GenericClient>(
    c: &C,
    entry: i64,
    handled: u32,
    event: &OutboxEvent,
    error: &str,
) -> StorageResult<bool> {
    let now = chrono::Utc::now().timestamp_millis();
    let handled = i32::try_from(handled).unwrap_or(i32::MAX);
    let written = exec(
        c,
        "WITH gone AS (
             DELETE FROM event_outbox WHERE id = $1 AND change_seq IS NULL
             RETURNING created_ms),
         moved AS (
             UPDATE event_outbox SET handled = $7
             WHERE id = $1 AND change_seq IS NOT NULL AND handled < $7
             RETURNING created_ms)
         INSERT INTO event_dead_letters (event_id, subject, payload, created_ms, error, failed_ms)
         SELECT $2, $3, $4, x.created_ms, $5, $6
         FROM (SELECT created_ms FROM gone UNION ALL SELECT created_ms FROM moved) AS x",
        &[
            &entry,
            &event.event_id,
            &event.subject,
            &event.payload,
            &error,
            &now,
            &handled,
        ],
    )
    .await?;
    Ok(written > 0)
}

/// Saves that the first `handled` events of a change entry are published
/// (never moving back).
pub(crate) async fn progress<C: GenericClient>(
    c: &C,
    entry: i64,
    handled: u32,
) -> StorageResult<()> {
    let handled = i32::try_from(handled).unwrap_or(i32::MAX);
    exec(
        c,
        "UPDATE event_outbox SET handled = $2
         WHERE id = $1 AND change_seq IS NOT NULL AND handled < $2",
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

/// How long an instance holds a store's replica events after its last page
/// (`lease_replica_events`): longer than any one page takes to import.
const LEASE: &str = "60 seconds";

/// At the first start with `--nats` on this database (`enabled`): every
/// store gets a cursor at its head (history is not derived), and stores made
/// from then on start at 0, whichever instance starts later. Without it
/// nothing is forgotten: other instances may derive events meanwhile, and
/// a later start with `--nats` catches up.
pub(crate) async fn start_replica_events<C: GenericClient>(
    c: &C,
    enabled: bool,
) -> StorageResult<()> {
    if !enabled {
        return Ok(());
    }
    // One statement: the cursors are seeded only by the start that turns
    // events on, never again (a store made since has no row, and starts
    // at 0, even if another instance starts before it is derived).
    exec(
        c,
        "WITH first AS (
             INSERT INTO server_meta (key, value) VALUES ('replica_events', 'on')
             ON CONFLICT (key) DO NOTHING RETURNING 1)
         INSERT INTO event_cursors (store_pk, upto)
         SELECT pk, head FROM stores WHERE EXISTS (SELECT 1 FROM first)
         ON CONFLICT (store_pk) DO NOTHING",
        &[],
    )
    .await?;
    Ok(())
}

/// Up to where a store's replica events were derived (None: never turned
/// on in this database).
pub(crate) async fn replica_events_from<C: GenericClient>(
    c: &C,
    store_pk: i64,
) -> StorageResult<Option<u64>> {
    let row = opt(
        c,
        "SELECT COALESCE(
             (SELECT upto FROM event_cursors WHERE store_pk = $1),
             (SELECT 0::bigint FROM server_meta WHERE key = 'replica_events'))",
        &[&store_pk],
    )
    .await?;
    let upto: Option<i64> = match row {
        Some(r) => col(&r, 0)?,
        None => None,
    };
    Ok(upto.map(|u| u.max(0) as u64))
}

/// Stores whose head is past their cursor.
pub(crate) async fn stores_behind_events<C: GenericClient>(
    c: &C,
) -> StorageResult<Vec<crate::storage::StoreRow>> {
    let found = rows(
        c,
        "SELECT s.pk, s.store_id, s.name FROM stores s
         LEFT JOIN event_cursors e ON e.store_pk = s.pk
         WHERE EXISTS (SELECT 1 FROM server_meta WHERE key = 'replica_events')
           AND s.head > COALESCE(e.upto, 0)
         ORDER BY s.pk",
        &[],
    )
    .await?;
    found.iter().map(crate::postgres::store_row).collect()
}

/// Takes (or renews) the store's lease for `instance`: false while another
/// instance holds it.
pub(crate) async fn lease_replica_events<C: GenericClient>(
    c: &C,
    store_pk: i64,
    instance: &str,
) -> StorageResult<bool> {
    let sql = format!(
        "INSERT INTO event_cursors (store_pk, upto, leased_by, lease_until)
         VALUES ($1, 0, $2, now() + interval '{LEASE}')
         ON CONFLICT (store_pk) DO UPDATE
             SET leased_by = excluded.leased_by, lease_until = excluded.lease_until
             WHERE event_cursors.leased_by IS NULL OR event_cursors.leased_by = excluded.leased_by
                OR event_cursors.lease_until < now()"
    );
    Ok(exec(c, &sql, &[&store_pk, &instance]).await? == 1)
}

/// Gives the lease back (if this instance still holds it).
pub(crate) async fn release_replica_events<C: GenericClient>(
    c: &C,
    store_pk: i64,
    instance: &str,
) -> StorageResult<()> {
    exec(
        c,
        "UPDATE event_cursors SET leased_by = NULL, lease_until = NULL
         WHERE store_pk = $1 AND leased_by = $2",
        &[&store_pk, &instance],
    )
    .await?;
    Ok(())
}

/// Queues the events of a store's page `(from, upto]` and moves its cursor
/// from `from` to `upto`, renewing the lease, in the caller's transaction.
/// Refused (nothing queued) unless `instance` holds the lease and the
/// cursor is still at `from`: otherwise another instance derived pages
/// meanwhile (this one lost the lease, perhaps took it again), and this
/// page's events may be queued already.
pub(crate) async fn queue_replica_events<C: GenericClient>(
    tx: &C,
    store_pk: i64,
    (from, upto): (u64, u64),
    events: &[OutboxEvent],
    instance: &str,
) -> StorageResult<()> {
    let from = from.min(i64::MAX as u64) as i64;
    let upto = upto.min(i64::MAX as u64) as i64;
    let sql = format!(
        "UPDATE event_cursors SET upto = $2, lease_until = now() + interval '{LEASE}'
         WHERE store_pk = $1 AND leased_by = $3 AND upto = $4"
    );
    if exec(tx, &sql, &[&store_pk, &upto, &instance, &from]).await? != 1 {
        return Err(crate::storage::StorageError::Conflict(
            "another instance derives this store's catalog and stock events now, or did meanwhile"
                .into(),
        ));
    }
    let now = chrono::Utc::now().timestamp_millis();
    for e in events {
        exec(
            tx,
            "INSERT INTO event_outbox (event_id, subject, payload, created_ms)
             VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
            &[&e.event_id, &e.subject, &e.payload, &now],
        )
        .await?;
    }
    Ok(())
}
