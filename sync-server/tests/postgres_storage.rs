//! The PostgreSQL backend's own guarantees, on the storage API directly
//! (runs only with `SHOPSYNC_TEST_POSTGRES`: scripts/with-postgres.sh):
//! sequence numbers follow commit order with many concurrent writers,
//! the same change stored twice at once is one row, an enrolment code
//! used twice at once enrols one device, and one instance at a time derives
//! a store's replica events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use shopsync_server::PgStorage;
use shopsync_server::storage::{DocBatch, EnrolInput, NewChange, Storage, StorageError};

/// A change whose hash and bytes say which writer made it, and when.
fn change(writer: u32, n: u32) -> NewChange {
    let mut hash = [0u8; 32];
    hash[..4].copy_from_slice(&writer.to_le_bytes());
    hash[4..8].copy_from_slice(&n.to_le_bytes());
    hash[31] = 0x5a;
    NewChange {
        hash,
        deps: Vec::new(),
        bytes: format!("w{writer}-c{n}").into_bytes(),
        inflated_len: 8,
        actor: writer.to_le_bytes().to_vec(),
        actor_seq: u64::from(n) + 1,
    }
}

/// A fresh database on the test server, or None (printed) on SQLite.
fn database(dir: &tempfile::TempDir) -> Option<(TestDb, String)> {
    if skip_without_postgres() {
        return None;
    }
    let path = dir.path().join("server.db");
    let db = TestDb::for_path(&path);
    let url = postgres_url(&path).unwrap();
    Some((db, url))
}

/// Eight writers, each with its own connection pool, store 30 batches of
/// 5 changes each to one store while a reader pages through the store with
/// its cursor, as a till does. The reader ends with every change exactly
/// once, and the store's numbers run 1..=1200 without a gap.
#[test]
fn a_reader_never_skips_a_change_committed_late_by_a_concurrent_writer() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_db, url)) = database(&dir) else {
        return;
    };
    const WRITERS: u32 = 8;
    const BATCHES: u32 = 30;
    const PER_BATCH: u32 = 5;
    let total = (WRITERS * BATCHES * PER_BATCH) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let main = PgStorage::connect(&url).await.unwrap();
        let store = main.create_store("Busy".into(), 0).await.unwrap();
        let done = Arc::new(AtomicBool::new(false));

        let reader = {
            let st = main.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut cursor = 0u64;
                let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
                let mut polls = 0u32;
                loop {
                    // Read `done` before the page: a page read after the
                    // writers finished holds everything they wrote.
                    let finished = done.load(Ordering::SeqCst);
                    let page = st
                        .changes_since(store.pk, cursor, HashSet::new(), 4 * 1024)
                        .await
                        .unwrap();
                    polls += 1;
                    assert!(page.cursor >= cursor, "the cursor went back");
                    for (_, changes) in page.docs {
                        for bytes in changes {
                            *seen.entry(bytes).or_default() += 1;
                        }
                    }
                    cursor = page.cursor;
                    if finished && !page.more {
                        return (seen, cursor, polls);
                    }
                    if !page.more {
                        tokio::task::yield_now().await;
                    }
                }
            })
        };

        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let url = url.clone();
            let doc_id = format!("store/{}/ledger/w{w}", store.store_id);
            writers.push(tokio::spawn(async move {
                let st = PgStorage::connect(&url).await.unwrap();
                for b in 0..BATCHES {
                    let changes = (0..PER_BATCH)
                        .map(|i| change(w, b * PER_BATCH + i))
                        .collect();
                    let out = st
                        .store_changes(
                            store.pk,
                            vec![DocBatch {
                                doc_id: doc_id.clone(),
                                changes,
                            }],
                        )
                        .await
                        .unwrap();
                    assert_eq!(out.new_changes, u64::from(PER_BATCH));
                }
            }));
        }
        for w in writers {
            w.await.unwrap();
        }
        done.store(true, Ordering::SeqCst);
        let (seen, cursor, polls) = reader.await.unwrap();

        assert_eq!(seen.len() as u64, total, "every change reached the reader");
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).collect();
        assert!(twice.is_empty(), "changes read more than once: {twice:?}");
        assert_eq!(cursor, total, "numbers run 1..={total} without a gap");
        assert_eq!(main.head(store.pk).await.unwrap(), total);
        assert!(polls > 1, "the reader read while the writers wrote");
        let totals = main.totals().await.unwrap();
        assert_eq!(totals.changes, total);
    });
}

/// The same change stored by two writers at the same time (a till retrying
/// while its first request is still running): both succeed, one row.
#[test]
fn the_same_change_stored_twice_at_once_is_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_db, url)) = database(&dir) else {
        return;
    };
    let path = dir.path().join("server.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (new, known) = rt.block_on(async move {
        let a = PgStorage::connect(&url).await.unwrap();
        let b = PgStorage::connect(&url).await.unwrap();
        let store = a.create_store("Twice".into(), 0).await.unwrap();
        let mut new = 0;
        let mut known = 0;
        for round in 0..20u32 {
            let doc_id = format!("store/{}/catalog", store.store_id);
            let batch = vec![DocBatch {
                doc_id,
                changes: vec![change(7, round)],
            }];
            let (x, y) = tokio::join!(
                a.store_changes(store.pk, batch.clone()),
                b.store_changes(store.pk, batch)
            );
            for out in [x.unwrap(), y.unwrap()] {
                new += out.new_changes;
                known += out.known_changes;
            }
        }
        (new, known)
    });
    assert_eq!(
        (new, known),
        (20, 20),
        "each change new once and known once"
    );
    let rows = db_ints(
        &path,
        "SELECT COUNT(*), COUNT(DISTINCT hash), MAX(seq) FROM changes",
    );
    assert_eq!(rows, vec![20, 20, 20]);
}

/// Ids with quotes and SQL in them are data, never SQL: stores, documents
/// and devices are looked up with parameters only.
#[test]
fn ids_with_sql_in_them_are_only_data() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_db, url)) = database(&dir) else {
        return;
    };
    let path = dir.path().join("server.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let st = PgStorage::connect(&url).await.unwrap();
        let evil = "x'; DROP TABLE changes; --".to_string();
        assert!(st.find_store(evil.clone()).await.unwrap().is_none());
        assert!(st.device(evil.clone()).await.unwrap().is_none());
        assert!(st.document_scope(evil.clone()).await.unwrap().is_none());
        let store = st.create_store(evil.clone(), 0).await.unwrap();
        assert_eq!(store.name, evil);
        let out = st
            .store_changes(
                store.pk,
                vec![DocBatch {
                    doc_id: format!("{evil}%_"),
                    changes: vec![change(1, 0)],
                }],
            )
            .await
            .unwrap();
        assert_eq!(out.new_changes, 1);
        // A prefix with LIKE's wildcards counts only itself.
        let (n, _) = st
            .count_documents(store.pk, "x'%".into(), Vec::new())
            .await
            .unwrap();
        assert_eq!(n, 0);
        let (n, new) = st
            .count_documents(
                store.pk,
                "x';".into(),
                vec![evil.clone(), format!("{evil}%_")],
            )
            .await
            .unwrap();
        assert_eq!((n, new), (1, 1));
    });
    assert_eq!(db_ints(&path, "SELECT COUNT(*) FROM changes"), vec![1]);
}

/// One enrolment code used by two devices at the same moment (two tills
/// racing, or an attacker racing the shop): one device is enrolled, the
/// other is refused as "used", and the store adopts one id only.
#[test]
fn a_code_used_twice_at_once_enrols_one_device() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_db, url)) = database(&dir) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let a = PgStorage::connect(&url).await.unwrap();
        let b = PgStorage::connect(&url).await.unwrap();
        for round in 0..10u8 {
            let store = a.create_store(format!("Race {round}"), 0).await.unwrap();
            let code_hash = [round; 32];
            a.create_enrol_code(
                store.store_id.clone(),
                shopsync_core::access::Role::Manager,
                code_hash,
                0,
                i64::MAX,
                None,
            )
            .await
            .unwrap();
            let input = |who: &str| EnrolInput {
                code_hash,
                till_id: format!("till-{who}"),
                till_name: who.into(),
                store_id: Some(format!("store-{round}-{who}")),
                device_id: format!("dev-{round}-{who}"),
                token_hash: [1; 32],
                now_ms: 1,
                assigned_till_id: format!("assigned-{who}"),
            };
            let (x, y) = tokio::join!(a.enrol(input("x")), b.enrol(input("y")));
            let (ok, refused): (Vec<_>, Vec<_>) = [x, y].into_iter().partition(|r| r.is_ok());
            assert_eq!(ok.len(), 1, "exactly one enrolment: {ok:?} {refused:?}");
            assert!(
                matches!(&refused[0], Err(StorageError::BadCode(m)) if m.contains("used")),
                "{refused:?}"
            );
            let enrolled = ok.into_iter().next().unwrap().unwrap();
            let devices = a
                .list_devices(enrolled.store.store_id.clone())
                .await
                .unwrap();
            assert_eq!(devices.len(), 1);
            assert_eq!(devices[0].device_id, enrolled.device_id);
        }
    });
}

/// Two instances (two `PgStorage`, as two server processes) and one
/// store's catalog and stock events: one at a time holds the lease on
/// deriving them; the other can neither take it nor queue a page until it
/// is given back or has expired, and the cursor only moves forward.
#[test]
fn one_instance_at_a_time_derives_a_stores_replica_events() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_db, url)) = database(&dir) else {
        return;
    };
    let path = dir.path().join("server.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url2 = url.clone();
    let (a, b, store) = rt.block_on(async move {
        let a = PgStorage::connect(&url).await.unwrap();
        let b = PgStorage::connect(&url2).await.unwrap();
        a.start_replica_events(true).await.unwrap();
        let store = a.create_store("Leased".into(), 0).await.unwrap();
        (a, b, store)
    });
    let event = |id: &str| shopsync_server::events::OutboxEvent {
        event_id: id.into(),
        subject: "shopsync.s.catalog.updated".into(),
        payload: "{}".into(),
    };
    rt.block_on(async {
        // Made after events were turned on: its history is derived, even
        // if another instance starts (with `--nats`) before it is.
        let doc_id = format!("store/{}/catalog", store.store_id);
        let batch = vec![DocBatch {
            doc_id,
            changes: vec![change(1, 0), change(1, 1)],
        }];
        a.store_changes(store.pk, batch).await.unwrap();
        b.start_replica_events(true).await.unwrap();
        assert_eq!(a.replica_events_from(store.pk).await.unwrap(), Some(0));
        assert!(a.lease_replica_events(store.pk).await.unwrap());
        assert!(a.lease_replica_events(store.pk).await.unwrap(), "renewed");
        assert!(!b.lease_replica_events(store.pk).await.unwrap());
        let refused = b
            .queue_replica_events(store.pk, 0, 5, vec![event("b")])
            .await
            .unwrap_err();
        assert!(matches!(refused, StorageError::Conflict(_)), "{refused}");
        a.queue_replica_events(store.pk, 0, 5, vec![event("a")])
            .await
            .unwrap();
        assert_eq!(b.replica_events_from(store.pk).await.unwrap(), Some(5));
        // The same page again (a pass that read the cursor before): refused.
        assert!(
            a.queue_replica_events(store.pk, 0, 5, vec![event("a2")])
                .await
                .is_err()
        );
        // Given back: the other instance takes it, the first cannot queue.
        a.release_replica_events(store.pk).await.unwrap();
        assert!(b.lease_replica_events(store.pk).await.unwrap());
        assert!(!a.lease_replica_events(store.pk).await.unwrap());
        assert!(
            a.queue_replica_events(store.pk, 5, 9, vec![])
                .await
                .is_err()
        );
        b.queue_replica_events(store.pk, 5, 9, vec![])
            .await
            .unwrap();
    });
    // The second instance stops holding it: the lease expires.
    db_execute(
        &path,
        "UPDATE event_cursors SET lease_until = now() - interval '1 second'",
    );
    rt.block_on(async {
        assert!(a.lease_replica_events(store.pk).await.unwrap());
        // Lost and taken again: a page from the cursor it knew is refused,
        // one from the cursor as it is now is queued.
        assert!(
            a.queue_replica_events(store.pk, 5, 12, vec![event("a3")])
                .await
                .is_err()
        );
        a.queue_replica_events(store.pk, 9, 12, vec![event("a4")])
            .await
            .unwrap();
        assert_eq!(b.replica_events_from(store.pk).await.unwrap(), Some(12));
    });
    let queued = db_ints(
        &path,
        "SELECT COUNT(*) FROM event_outbox WHERE event_id IN ('a', 'a4')",
    );
    assert_eq!(queued, vec![2]);
    let all = db_ints(
        &path,
        "SELECT COUNT(*) FROM event_outbox WHERE event_id IS NOT NULL",
    );
    assert_eq!(all, vec![2], "only the refused pages' events are missing");
}
