//! The event outbox on SQLite (migrations 06-outbox, 09-event-refs;
//! docs/EVENTS.md): references to new changes queued inside
//! `store_changes`' transaction, whole events by the replicas; read, and
//! deleted once published, by the publisher.

use rusqlite::{Connection, OptionalExtension, params};

use crate::events::OutboxEvent;
use crate::sqlite::hash32;
use crate::storage::{
    OUTBOX_BATCH_BYTES, OutboxBacklog, OutboxEntry, OutboxRow, StorageResult, StoreRow,
    StoredChange,
};

/// Queues a reference to the change stored as `seq` (in the caller's
/// transaction): its events are derived when published.
pub(crate) fn queue_change(
    conn: &Connection,
    store_pk: i64,
    seq: i64,
    now_ms: i64,
) -> StorageResult<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO event_outbox (store_pk, change_seq, created_ms) VALUES (?1, ?2, ?3)",
    )?;
    insert.execute(params![store_pk, seq, now_ms])?;
    Ok(())
}

/// Queues whole `events` (in the caller's transaction). An event id already
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
        .query_map([], crate::sqlite::store_row)?
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
        "SELECT o.id, o.created_ms, o.event_id, o.subject, o.payload, o.store_pk, o.change_seq,
                o.handled, d.doc_id, c.hash, c.bytes, c.inflated
         FROM event_outbox o
         LEFT JOIN changes c ON c.seq = o.change_seq
         LEFT JOIN documents d ON d.pk = c.doc_pk
         WHERE o.id > ?1 ORDER BY o.id LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![after, limit])?;
    let mut out = Vec::new();
    let mut bytes = 0u64;
    // Rows are read one by one: the changes past the bound stay unread.
    while bytes < OUTBOX_BATCH_BYTES
        && let Some(r) = rows.next()?
    {
        let seq: Option<i64> = r.get(6)?;
        let entry = match seq {
            None => {
                let payload: String = r.get(4)?;
                bytes += payload.len() as u64;
                OutboxEntry::Event(OutboxEvent {
                    event_id: r.get(2)?,
                    subject: r.get(3)?,
                    payload,
                })
            }
            Some(seq) => {
                let doc_id: Option<String> = r.get(8)?;
                let stored = match doc_id {
                    Some(doc_id) => {
                        let change: Vec<u8> = r.get(10)?;
                        // Inflated, as the publisher decodes it (NULL for
                        // changes stored before it was kept: their size).
                        let inflated: Option<i64> = r.get(11)?;
                        bytes += inflated.map_or(change.len() as u64, |n| n.max(0) as u64);
                        Some(StoredChange {
                            doc_id,
                            hash: hash32(r.get(9)?),
                            bytes: change,
                        })
                    }
                    None => None,
                };
                OutboxEntry::Change {
                    store_pk: r.get::<_, Option<i64>>(5)?.unwrap_or_default(),
                    seq,
                    handled: r.get::<_, i64>(7)?.clamp(0, i64::from(u32::MAX)) as u32,
                    stored,
                }
            }
        };
        out.push(OutboxRow {
            id: r.get(0)?,
            created_ms: r.get(1)?,
            entry,
        });
    }
    Ok(out)
}

/// Deletes published entries; `dead` (entry, reason) change entries are
/// recorded in `event_change_dead_letters` first, in the same write
/// transaction, from the entry's row: if another publisher deleted it
/// already, nothing is written. Returns how many dead letters were written.
pub(crate) fn delete(
    conn: &mut Connection,
    ids: &[i64],
    dead: &[(i64, String)],
) -> StorageResult<u64> {
    let now = chrono::Utc::now().timestamp_millis();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut written = 0u64;
    {
        let mut bury = tx.prepare_cached(
            "INSERT INTO event_change_dead_letters
               (store_pk, change_seq, doc_id, hash, error, created_ms, failed_ms)
             SELECT o.store_pk, o.change_seq, d.doc_id, c.hash, ?2, o.created_ms, ?3
             FROM event_outbox o
             LEFT JOIN changes c ON c.seq = o.change_seq
             LEFT JOIN documents d ON d.pk = c.doc_pk
             WHERE o.id = ?1 AND o.change_seq IS NOT NULL",
        )?;
        for (id, error) in dead {
            written += bury.execute(params![id, error, now])? as u64;
        }
        let mut delete = tx.prepare_cached("DELETE FROM event_outbox WHERE id = ?1")?;
        for id in ids {
            delete.execute([id])?;
        }
    }
    tx.commit()?;
    Ok(written)
}

/// Moves one event JetStream refused to `event_dead_letters` (migration
/// 07-dead-letters): an event entry is deleted, a change entry marks its
/// first `handled` events done. The dead letter is written only if the
/// entry is still there and not already past it (another publisher may
/// have moved it); returns whether it was.
pub(crate) fn dead_letter(
    conn: &mut Connection,
    entry: i64,
    handled: u32,
    event: &OutboxEvent,
    error: &str,
) -> StorageResult<bool> {
    let now = chrono::Utc::now().timestamp_millis();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let written = tx.execute(
        "INSERT INTO event_dead_letters (event_id, subject, payload, created_ms, error, failed_ms)
         SELECT ?2, ?3, ?4, created_ms, ?5, ?6 FROM event_outbox
         WHERE id = ?1 AND (change_seq IS NULL OR handled < ?7)",
        params![
            entry,
            event.event_id,
            event.subject,
            event.payload,
            error,
            now,
            handled
        ],
    )?;
    tx.execute(
        "DELETE FROM event_outbox WHERE id = ?1 AND change_seq IS NULL",
        [entry],
    )?;
    tx.execute(
        "UPDATE event_outbox SET handled = MAX(handled, ?2) WHERE id = ?1",
        params![entry, handled],
    )?;
    tx.commit()?;
    Ok(written > 0)
}

/// Saves that the first `handled` events of a change entry are published
/// (never moving back).
pub(crate) fn progress(conn: &Connection, entry: i64, handled: u32) -> StorageResult<()> {
    conn.execute(
        "UPDATE event_outbox SET handled = MAX(handled, ?2)
         WHERE id = ?1 AND change_seq IS NOT NULL",
        params![entry, handled],
    )?;
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

    fn event(id: &str) -> OutboxEvent {
        OutboxEvent {
            event_id: id.into(),
            subject: "shopsync.s.product.sold".into(),
            payload: format!("{{\"event_id\":\"{id}\"}}"),
        }
    }

    fn ids(rows: &[OutboxRow]) -> Vec<String> {
        rows.iter()
            .map(|r| match &r.entry {
                OutboxEntry::Event(e) => e.event_id.clone(),
                OutboxEntry::Change { stored, .. } => stored
                    .as_ref()
                    .map_or("(gone)".into(), |c| format!("change {}", c.hash[0])),
            })
            .collect()
    }

    /// References are queued with new changes of documents that give
    /// events only, in one transaction with them: a change stored again
    /// queues nothing, a refused batch nothing, a catalog change nothing.
    #[tokio::test(flavor = "multi_thread")]
    async fn references_are_queued_with_new_changes_only_and_never_without_them() {
        let dir = tempfile::tempdir().unwrap();
        let st = SqliteStorage::open(&dir.path().join("s.db")).unwrap();
        assert!(st.keeps_outbox());
        let store = st.create_store("S".into(), 0).await.unwrap();
        let ledger = |changes| DocBatch {
            doc_id: format!("store/{}/ledger/t/2026-05", store.store_id),
            changes,
        };
        let catalog = DocBatch {
            doc_id: format!("store/{}/catalog", store.store_id),
            changes: vec![change(8, vec![])],
        };
        st.store_changes_with_events(
            store.pk,
            vec![
                catalog,
                ledger(vec![change(1, vec![]), change(2, vec![[1; 32]])]),
            ],
        )
        .await
        .unwrap();
        let rows = st.outbox_batch(0, 10).await.unwrap();
        assert_eq!(ids(&rows), ["change 1", "change 2"], "the ledger's changes");
        let OutboxEntry::Change {
            stored, handled, ..
        } = &rows[0].entry
        else {
            panic!("a change entry");
        };
        assert_eq!(*handled, 0);
        assert_eq!(stored.as_ref().unwrap().bytes, [1]);
        assert!(stored.as_ref().unwrap().doc_id.contains("/ledger/"));

        // The same change again: known, so nothing is queued again; and
        // `store_changes` (no --nats) queues nothing.
        st.store_changes_with_events(store.pk, vec![ledger(vec![change(1, vec![])])])
            .await
            .unwrap();
        st.store_changes(store.pk, vec![ledger(vec![change(5, vec![])])])
            .await
            .unwrap();
        assert_eq!(st.outbox_backlog().await.unwrap().events, 2);

        // A batch refused halfway (a missing dependency after a good
        // change): neither its changes nor references are stored.
        let refused = st
            .store_changes_with_events(
                store.pk,
                vec![ledger(vec![change(3, vec![]), change(4, vec![[7; 32]])])],
            )
            .await;
        assert!(refused.is_err());
        assert_eq!(st.outbox_batch(0, 10).await.unwrap().len(), 2);

        // An event JetStream refused, of change 1: set aside, change 1's
        // first event is handled.
        assert!(
            st.outbox_dead_letter(rows[0].id, 1, event("x"), "too big".into())
                .await
                .unwrap()
        );
        // A second publisher setting the same event aside writes nothing.
        assert!(
            !st.outbox_dead_letter(rows[0].id, 1, event("x"), "too big".into())
                .await
                .unwrap()
        );
        let rows = st.outbox_batch(0, 10).await.unwrap();
        assert!(matches!(
            rows[0].entry,
            OutboxEntry::Change { handled: 1, .. }
        ));
        // Progress saved after a failure never moves back.
        st.outbox_progress(rows[1].id, 5).await.unwrap();
        st.outbox_progress(rows[1].id, 2).await.unwrap();
        let rows = st.outbox_batch(0, 10).await.unwrap();
        assert!(matches!(
            rows[1].entry,
            OutboxEntry::Change { handled: 5, .. }
        ));

        // Change 1 published, change 2 could not be derived: both leave,
        // change 2 to the dead letters with the reason.
        let gone = vec![rows[0].id, rows[1].id];
        let dead = vec![(rows[1].id, "unreadable".to_string())];
        let buried = st.outbox_delete(gone.clone(), dead.clone()).await.unwrap();
        assert_eq!(buried, 1);
        // Another publisher deleting the same entries buries nothing again.
        assert_eq!(st.outbox_delete(gone, dead).await.unwrap(), 0);
        assert!(st.outbox_batch(0, 10).await.unwrap().is_empty());
        assert_eq!(st.outbox_backlog().await.unwrap(), OutboxBacklog::default());
        let conn = Connection::open(dir.path().join("s.db")).unwrap();
        let (doc, hash, error): (String, Vec<u8>, String) = conn
            .query_row(
                "SELECT doc_id, hash, error FROM event_change_dead_letters",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert!(doc.contains("/ledger/"));
        assert_eq!((hash, error.as_str()), (vec![2; 32], "unreadable"));
        let dead: (String, String) = conn
            .query_row("SELECT event_id, error FROM event_dead_letters", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(dead, ("x".into(), "too big".into()));
    }

    /// Entries are read in id order, changes past the inflated byte bound
    /// left for the next batch; a reference whose change is gone says so.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_batch_stops_past_its_bytes_and_names_a_change_that_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let st = SqliteStorage::open(&dir.path().join("s.db")).unwrap();
        let store = st.create_store("S".into(), 0).await.unwrap();
        // Small on disk, big once inflated: the bound counts what the
        // publisher decodes.
        let big = |i: u8| NewChange {
            inflated_len: OUTBOX_BATCH_BYTES / 2 + 1,
            ..change(i, vec![])
        };
        st.store_changes_with_events(
            store.pk,
            vec![DocBatch {
                doc_id: format!("store/{}/ledger/t/2026-05", store.store_id),
                changes: vec![big(1), big(2), big(3)],
            }],
        )
        .await
        .unwrap();
        let first = st.outbox_batch(0, 10).await.unwrap();
        assert_eq!(ids(&first), ["change 1", "change 2"]);
        let next = st.outbox_batch(first[1].id, 10).await.unwrap();
        assert_eq!(ids(&next), ["change 3"]);

        let conn = Connection::open(dir.path().join("s.db")).unwrap();
        conn.execute(
            "INSERT INTO event_outbox (store_pk, change_seq, created_ms) VALUES (?1, 999, 0)",
            [store.pk],
        )
        .unwrap();
        // Half an entry (no event id, no store) is refused.
        for bad in [
            "INSERT INTO event_outbox (subject, payload, created_ms) VALUES ('s', '{}', 0)",
            "INSERT INTO event_outbox (change_seq, created_ms) VALUES (5, 0)",
            "INSERT INTO event_outbox (event_id, subject, payload, store_pk, change_seq, \
             created_ms) VALUES ('e', 's', '{}', 1, 5, 0)",
        ] {
            assert!(conn.execute(bad, []).is_err(), "{bad}");
        }
        let rows = st.outbox_batch(next[0].id, 10).await.unwrap();
        assert_eq!(ids(&rows), ["(gone)"]);

        // Whole events count by their payload.
        let fat = |id: &str| OutboxEvent {
            payload: "x".repeat(OUTBOX_BATCH_BYTES as usize / 2 + 1),
            ..event(id)
        };
        st.queue_replica_events(store.pk, 0, 1, vec![fat("p"), fat("q"), fat("r")])
            .await
            .unwrap();
        let fat_rows = st.outbox_batch(rows[0].id, 10).await.unwrap();
        assert_eq!(ids(&fat_rows), ["p", "q"]);
        assert!(matches!(
            rows[0].entry,
            OutboxEntry::Change {
                seq: 999,
                stored: None,
                ..
            }
        ));
    }

    /// A server upgraded with events waiting: they stay in the outbox as
    /// whole events, before the references queued after the upgrade, and
    /// an event id still waiting is not queued twice.
    #[tokio::test(flavor = "multi_thread")]
    async fn events_waiting_before_the_upgrade_are_kept_and_come_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut conn = Connection::open(&path).unwrap();
        rusqlite_migration::Migrations::from_directory(&crate::sqlite::MIGRATIONS)
            .unwrap()
            .to_version(&mut conn, 8)
            .unwrap();
        conn.execute(
            "INSERT INTO event_outbox (event_id, subject, payload, created_ms)
             VALUES ('old', 'shopsync.s.sale.recorded', '{}', 5)",
            [],
        )
        .unwrap();
        drop(conn);
        let st = SqliteStorage::open(&path).unwrap();
        let store = st.create_store("S".into(), 0).await.unwrap();
        st.store_changes_with_events(
            store.pk,
            vec![DocBatch {
                doc_id: format!("store/{}/ledger/t/2026-05", store.store_id),
                changes: vec![change(1, vec![])],
            }],
        )
        .await
        .unwrap();
        st.queue_replica_events(store.pk, 0, 1, vec![event("old"), event("new")])
            .await
            .unwrap();
        let rows = st.outbox_batch(0, 10).await.unwrap();
        assert_eq!(ids(&rows), ["old", "change 1", "new"]);
        assert_eq!(rows[0].created_ms, 5);
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

        st.queue_replica_events(store.pk, 2, 3, vec![event("c")])
            .await
            .unwrap();
        st.queue_replica_events(store.pk, 3, 1, vec![])
            .await
            .unwrap();
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
