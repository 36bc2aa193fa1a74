//! The event outbox on SQLite (migration 06-outbox; docs/EVENTS.md):
//! queued inside `store_changes`' transaction, read and deleted by the
//! publisher.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};

use crate::events::OutboxEvent;
use crate::storage::{OutboxBacklog, OutboxRow, StorageResult, StoreRow};

/// Events grouped by the change they come from, in their order.
pub(crate) fn by_change(events: Vec<OutboxEvent>) -> HashMap<[u8; 32], Vec<OutboxEvent>> {
    let mut out: HashMap<[u8; 32], Vec<OutboxEvent>> = HashMap::new();
    for e in events {
        out.entry(e.change_hash).or_default().push(e);
    }
    out
}

/// The changes of `hashes` (per document id) the store already has.
pub(crate) fn known_changes(
    conn: &Connection,
    store_pk: i64,
    hashes: &[(String, Vec<[u8; 32]>)],
) -> StorageResult<HashSet<[u8; 32]>> {
    let mut find_doc =
        conn.prepare_cached("SELECT pk FROM documents WHERE doc_id = ?1 AND store_pk = ?2")?;
    let mut exists =
        conn.prepare_cached("SELECT 1 FROM changes WHERE doc_pk = ?1 AND hash = ?2")?;
    let mut known = HashSet::new();
    for (doc_id, doc_hashes) in hashes {
        let Some(doc_pk) = find_doc
            .query_row(params![doc_id, store_pk], |r| r.get::<_, i64>(0))
            .optional()?
        else {
            continue;
        };
        for hash in doc_hashes {
            if exists.exists(params![doc_pk, hash.as_slice()])? {
                known.insert(*hash);
            }
        }
    }
    Ok(known)
}

/// Queues `events` (in the caller's transaction). An event id already
/// waiting is not queued twice.
pub(crate) fn queue(conn: &Connection, events: &[OutboxEvent]) -> StorageResult<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut insert = conn.prepare_cached(
        "INSERT INTO event_outbox (event_id, subject, payload, created_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (event_id) DO NOTHING",
    )?;
    for e in events {
        insert.execute(params![e.event_id, e.subject, e.payload, now])?;
    }
    Ok(())
}

/// At start: with `--nats` (`enabled`), stores without a cursor start at
/// the current head (history is not derived); without it, cursors are
/// forgotten, so a later start with `--nats` does not derive what happened
/// meanwhile.
pub(crate) fn start_replica_events(conn: &mut Connection, enabled: bool) -> StorageResult<()> {
    if enabled {
        conn.execute(
            "INSERT OR IGNORE INTO server_meta (key, value)
             SELECT 'events_from_seq', CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM changes",
            [],
        )?;
    } else {
        conn.execute_batch(
            "DELETE FROM server_meta WHERE key = 'events_from_seq'; DELETE FROM event_cursors;",
        )?;
    }
    Ok(())
}

/// The sequence number up to which a store's replica events were derived
/// (None: they are not derived).
pub(crate) fn replica_events_from(conn: &Connection, store_pk: i64) -> StorageResult<Option<u64>> {
    let upto: Option<i64> = conn.query_row(
        "SELECT COALESCE(
             (SELECT upto FROM event_cursors WHERE store_pk = ?1),
             (SELECT CAST(value AS INTEGER) FROM server_meta WHERE key = 'events_from_seq'))",
        [store_pk],
        |r| r.get(0),
    )?;
    Ok(upto.map(|u| u.max(0) as u64))
}

/// Stores whose head is past their replica event cursor (none before
/// `start_replica_events` enabled them).
pub(crate) fn stores_behind_events(conn: &Connection) -> StorageResult<Vec<StoreRow>> {
    let mut stmt = conn.prepare(
        "SELECT s.pk, s.store_id, s.name FROM stores s
         WHERE (SELECT MAX(seq) FROM changes c WHERE c.store_pk = s.pk) > COALESCE(
             (SELECT upto FROM event_cursors WHERE store_pk = s.pk),
             (SELECT CAST(value AS INTEGER) FROM server_meta WHERE key = 'events_from_seq'))
         ORDER BY s.pk",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(StoreRow {
                pk: r.get(0)?,
                store_id: r.get(1)?,
                name: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Queues a store's replica events and moves its cursor to `upto`, in one
/// transaction.
pub(crate) fn queue_replica_events(
    conn: &mut Connection,
    store_pk: i64,
    upto: u64,
    events: &[OutboxEvent],
) -> StorageResult<()> {
    let tx = conn.transaction()?;
    queue(&tx, events)?;
    tx.execute(
        "INSERT INTO event_cursors (store_pk, upto) VALUES (?1, ?2)
         ON CONFLICT (store_pk) DO UPDATE SET upto = MAX(upto, excluded.upto)",
        params![store_pk, upto.min(i64::MAX as u64) as i64],
    )?;
    tx.commit()?;
    Ok(())
}

pub(crate) fn batch(conn: &Connection, after: i64, limit: u32) -> StorageResult<Vec<OutboxRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, event_id, subject, payload, created_ms FROM event_outbox
         WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![after, limit], |r| {
            Ok(OutboxRow {
                id: r.get(0)?,
                event_id: r.get(1)?,
                subject: r.get(2)?,
                payload: r.get(3)?,
                created_ms: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(crate) fn delete(conn: &mut Connection, ids: &[i64]) -> StorageResult<()> {
    let tx = conn.transaction()?;
    {
        let mut delete = tx.prepare_cached("DELETE FROM event_outbox WHERE id = ?1")?;
        for id in ids {
            delete.execute([id])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Moves one event to `event_dead_letters` (migration 07-dead-letters).
pub(crate) fn dead_letter(conn: &mut Connection, id: i64, error: &str) -> StorageResult<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT OR REPLACE INTO event_dead_letters
           (id, event_id, subject, payload, created_ms, error, failed_ms)
         SELECT id, event_id, subject, payload, created_ms, ?2, ?3
         FROM event_outbox WHERE id = ?1",
        params![id, error, now],
    )?;
    tx.execute("DELETE FROM event_outbox WHERE id = ?1", [id])?;
    tx.commit()?;
    Ok(())
}

/// Read on every `/metrics` scrape, so it touches two index entries only:
/// the oldest row, and the id range as the count (ids are consecutive
/// except where an insert was rolled back, so it is an estimate).
pub(crate) fn backlog(conn: &Connection) -> StorageResult<OutboxBacklog> {
    let oldest: Option<(i64, i64)> = conn
        .query_row(
            "SELECT id, created_ms FROM event_outbox ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((first, oldest_ms)) = oldest else {
        return Ok(OutboxBacklog::default());
    };
    let last: i64 = conn.query_row(
        "SELECT id FROM event_outbox ORDER BY id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    Ok(OutboxBacklog {
        events: (last - first + 1).max(0) as u64,
        oldest_ms: Some(oldest_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStorage;
    use crate::storage::{DocBatch, NewChange, Storage};

    fn change(i: u8, deps: Vec<[u8; 32]>) -> NewChange {
        NewChange {
            hash: [i; 32],
            deps,
            bytes: vec![i],
            inflated_len: 1,
            actor: vec![i],
            actor_seq: 1,
        }
    }

    fn event(hash: u8, id: &str) -> OutboxEvent {
        OutboxEvent {
            change_hash: [hash; 32],
            event_id: id.into(),
            subject: "shopsync.s.product.sold".into(),
            payload: format!("{{\"event_id\":\"{id}\"}}"),
        }
    }

    fn ids(rows: &[OutboxRow]) -> Vec<&str> {
        rows.iter().map(|r| r.event_id.as_str()).collect()
    }

    /// Events are queued with new changes only, in one transaction with
    /// them: a change stored again queues nothing, a refused batch nothing.
    #[tokio::test(flavor = "multi_thread")]
    async fn events_are_queued_with_new_changes_only_and_never_without_them() {
        let dir = tempfile::tempdir().unwrap();
        let st = SqliteStorage::open(&dir.path().join("s.db")).unwrap();
        assert!(st.keeps_outbox());
        let store = st.create_store("S".into(), 0).await.unwrap();
        let doc = |changes| DocBatch {
            doc_id: format!("store/{}/ledger/t/2026-05", store.store_id),
            changes,
        };
        let events = vec![event(1, "a"), event(1, "b"), event(9, "not-in-batch")];
        st.store_changes_with_events(store.pk, vec![doc(vec![change(1, vec![])])], events)
            .await
            .unwrap();
        let rows = st.outbox_batch(0, 10).await.unwrap();
        assert_eq!(ids(&rows), ["a", "b"], "only the stored change's events");

        // The same change again: known, so nothing is queued again.
        st.store_changes_with_events(
            store.pk,
            vec![doc(vec![change(1, vec![])])],
            vec![event(1, "a"), event(1, "b")],
        )
        .await
        .unwrap();
        assert_eq!(st.outbox_backlog().await.unwrap().events, 2);

        // A batch refused halfway (a missing dependency after a good
        // change): neither its changes nor its events are stored.
        let refused = st
            .store_changes_with_events(
                store.pk,
                vec![doc(vec![change(2, vec![]), change(3, vec![[7; 32]])])],
                vec![event(2, "c"), event(3, "d")],
            )
            .await;
        assert!(refused.is_err());
        assert_eq!(ids(&st.outbox_batch(0, 10).await.unwrap()), ["a", "b"]);

        // Published up to "a": "b" waits, and is the oldest.
        st.outbox_delete(vec![rows[0].id]).await.unwrap();
        let left = st.outbox_batch(0, 10).await.unwrap();
        assert_eq!(ids(&left), ["b"]);
        let backlog = st.outbox_backlog().await.unwrap();
        assert_eq!(backlog.events, 1);
        assert_eq!(backlog.oldest_ms, Some(left[0].created_ms));
    }

    /// Catalog and stock events' cursors: a store starts at the head of
    /// the server's first start with --nats, moves only forward, and is
    /// forgotten by a start without --nats; `changes_until` stops at the
    /// cursor so a rebuilt replica derives nothing below it.
    #[tokio::test(flavor = "multi_thread")]
    async fn replica_event_cursors_start_at_the_head_and_only_move_forward() {
        let dir = tempfile::tempdir().unwrap();
        let st = SqliteStorage::open(&dir.path().join("s.db")).unwrap();
        let store = st.create_store("S".into(), 0).await.unwrap();
        let doc = |changes| DocBatch {
            doc_id: format!("store/{}/ledger/t/2026-05", store.store_id),
            changes,
        };
        assert_eq!(st.replica_events_from(store.pk).await.unwrap(), None);
        let behind = |st: &SqliteStorage| {
            let st = st.clone();
            async move {
                let rows = st.stores_behind_events().await.unwrap();
                rows.into_iter().map(|r| r.pk).collect::<Vec<_>>()
            }
        };
        st.store_changes(
            store.pk,
            vec![doc(vec![change(1, vec![]), change(2, vec![])])],
        )
        .await
        .unwrap();
        st.start_replica_events(true).await.unwrap();
        let head = st.head(store.pk).await.unwrap();
        assert_eq!(head, 2);
        assert_eq!(st.replica_events_from(store.pk).await.unwrap(), Some(head));
        assert!(behind(&st).await.is_empty());
        st.store_changes(store.pk, vec![doc(vec![change(3, vec![])])])
            .await
            .unwrap();
        // A change past the cursor, not derived yet (a stop right after
        // it was stored): the store is derived at the next start.
        assert_eq!(behind(&st).await, [store.pk]);
        // A second start keeps where events start.
        st.start_replica_events(true).await.unwrap();
        assert_eq!(st.replica_events_from(store.pk).await.unwrap(), Some(2));

        st.queue_replica_events(store.pk, 3, vec![event(3, "c")])
            .await
            .unwrap();
        st.queue_replica_events(store.pk, 1, vec![]).await.unwrap();
        assert_eq!(st.replica_events_from(store.pk).await.unwrap(), Some(3));
        assert!(behind(&st).await.is_empty());
        assert_eq!(ids(&st.outbox_batch(0, 10).await.unwrap()), ["c"]);

        // A replica from nothing reads up to the cursor only, then stops.
        let page = st.changes_until(store.pk, 0, 2, 1 << 20).await.unwrap();
        assert_eq!((page.changes, page.cursor, page.more), (2, 2, false));
        let page = st.changes_until(store.pk, 2, 2, 1 << 20).await.unwrap();
        assert_eq!((page.changes, page.cursor), (0, 2));

        st.start_replica_events(false).await.unwrap();
        assert_eq!(st.replica_events_from(store.pk).await.unwrap(), None);
    }
}
