//! A restored server (issue 7, part 5) and a forked actor (part 1), with a
//! real server process on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use common::*;
use shopsync_core::SalesFilter;
use shopsync_core::ids::DocId;
use shopsync_core::sync::client::{Client, SyncError};
use shopsync_core::sync::wire::{DocChanges, SyncRequest};

fn restore_sales(s: &shopsync_core::Store) -> usize {
    s.sales(&SalesFilter::default()).unwrap().len()
}

/// A till enrolled after the backup is unknown to the restored server: its
/// syncs are refused (401). It forgets the server, enrols again with a code
/// made for its till id, and its sales reach every till.
#[test]
fn a_till_enrolled_after_the_backup_forgets_the_server_and_enrols_again() -> R {
    if skip_on_postgres(
        "`backup` and `restore` copy SQLite files (PostgreSQL: pg_dump, docs/OPERATIONS.md)",
    ) {
        return Ok(());
    }
    let mut s = shop(20);
    let backup = s.dir.path().join("backup.db");
    s.server.admin(&["backup", backup.to_str().unwrap()]);
    let code = s.server.code(&s.store_id, "till");
    let c_path = s.dir.path().join("c.db");
    let mut c = enrol(&c_path, &s.server, &code, Some("C"));
    sell(&mut c, 2, 1);
    sync(&mut c)?;
    s.server.kill();
    admin(&s.server.db, &["restore", backup.to_str().unwrap()]);
    let addr = s.server.addr.clone();
    s.server = Server::start_on(&s.server.db, &addr);
    assert!(sync(&mut c).is_err(), "the restored server does not know C");
    let forgot = c.forget_sync_server()?;
    assert_eq!(forgot.as_deref(), Some(s.server.url.as_str()));
    assert!(
        c.sync_status()?.changes_waiting > 0,
        "everything goes again"
    );
    // Still a till: forgetting the server does not open the catalog.
    let edit = c.add_product(shopsync_core::NewProduct {
        sku: "AFTER".into(),
        name: "After forget".into(),
        price: 100,
        ..shopsync_core::NewProduct::default()
    });
    assert!(edit.is_err(), "a till-role device edited the catalog");
    let c_till = c.info().till_id.clone();
    drop(c);
    let code = s.server.code_for_till(&s.store_id, &c_till);
    let mut c = enrol(&c_path, &s.server, &code, None);
    sync(&mut c)?;
    sync(&mut s.a)?;
    assert_eq!(restore_sales(&s.a), 1, "C's sale reached A");
    assert_eq!(c.sync_status()?.changes_waiting, 0);
    Ok(())
}

#[test]
fn a_server_restored_from_backup_loses_no_change_and_strands_no_till() -> R {
    if skip_on_postgres(
        "`backup` and `restore` copy SQLite files (PostgreSQL: pg_dump, docs/OPERATIONS.md)",
    ) {
        return Ok(());
    }
    let mut s = shop(20);
    sell(&mut s.a, 1, 1);
    sync(&mut s.a)?;
    sync(&mut s.b)?;
    let backup = s.dir.path().join("backup.db");
    s.server.admin(&["backup", backup.to_str().unwrap()]);

    // After the backup: both tills sell and sync; the server acknowledges.
    sell(&mut s.a, 2, 1);
    sell(&mut s.a, 3, 1);
    sell(&mut s.b, 4, 1);
    sync(&mut s.a)?;
    sync(&mut s.b)?;
    sync(&mut s.a)?;
    assert_eq!(restore_sales(&s.a), 4);
    assert_eq!(s.a.sync_status()?.changes_waiting, 0);

    // The server is restored from the backup: it lost three sales.
    s.server.kill();
    let restored = admin(&s.server.db, &["restore", backup.to_str().unwrap()]);
    assert!(restored["epoch"].is_string());
    let addr = s.server.addr.clone();
    s.server = Server::start_on(&s.server.db, &addr);

    // A sells again: its new change depends on changes the server lost.
    sell(&mut s.a, 5, 1);
    let r = sync(&mut s.a)?;
    assert!(r.server_restored, "A saw the new epoch: {r:?}");
    let r = sync(&mut s.b)?;
    assert!(r.server_restored, "B saw the new epoch: {r:?}");
    sync(&mut s.a)?;
    for t in [&s.a, &s.b] {
        assert_eq!(restore_sales(t), 5, "till {}", t.info().till_name);
        assert_eq!(stock(t), 15, "till {}", t.info().till_name);
        assert_eq!(t.sync_status()?.changes_waiting, 0);
        assert_eq!(t.sync_status()?.last_error, None);
    }
    assert_same(&[&s.a, &s.b]);
    // A later sync is an ordinary one, and a new till gets everything.
    let r = sync(&mut s.a)?;
    assert!(!r.server_restored);
    assert_eq!(r.round_trips, 1);
    let code = s.server.code(&s.store_id, "till");
    let c = enrol(&s.dir.path().join("c.db"), &s.server, &code, Some("C"));
    assert_eq!(restore_sales(&c), 5);
    assert_same(&[&s.a, &s.b, &c]);
    Ok(())
}

#[test]
fn a_server_file_put_back_without_a_new_epoch_is_noticed_by_its_head() -> R {
    let mut s = shop(20);
    sell(&mut s.a, 1, 1);
    sync(&mut s.a)?;
    sync(&mut s.b)?;
    // A plain copy of the stopped server's database (its files, or a
    // PostgreSQL database made from it): same epoch.
    s.server.kill();
    let copy = s.dir.path().join("copy.db");
    copy_database(&s.server.db, &copy);
    let addr = s.server.addr.clone();
    s.server = Server::start_on(&s.server.db, &addr);
    sell(&mut s.a, 2, 1);
    sell(&mut s.a, 3, 1);
    sync(&mut s.a)?;
    sync(&mut s.b)?;
    s.server.kill();
    copy_database(&copy, &s.server.db);
    s.server = Server::start_on(&s.server.db, &addr);
    let r = sync(&mut s.b)?;
    assert!(r.server_restored, "B's cursor is past the head: {r:?}");
    let r = sync(&mut s.a)?;
    assert!(r.server_restored, "A's cursor is past the head: {r:?}");
    sync(&mut s.b)?;
    for t in [&s.a, &s.b] {
        assert_eq!(restore_sales(t), 3, "till {}", t.info().till_name);
        assert_eq!(t.sync_status()?.changes_waiting, 0);
    }
    assert_same(&[&s.a, &s.b]);
    Ok(())
}

/// Two changes by one actor with one seq and different content.
/// Two first changes of one actor with different content: each a valid
/// ledger record (the server validates records before it looks for forks).
fn restore_fork() -> (Vec<u8>, Vec<u8>) {
    let record = |delta: i64| {
        let id = shopsync_core::ids::new_id();
        let bytes =
            shopsync_core::records::Record::Adjustment(shopsync_core::records::AdjustmentRecord {
                id: id.clone(),
                at: t0().timestamp_millis(),
                product_id: shopsync_core::ids::new_id(),
                delta,
                reason: shopsync_core::records::AdjustReason::Found,
                note: None,
                hlc: None,
                staff_id: None,
                approver_id: None,
            })
            .encode()
            .unwrap();
        (id, automerge::ScalarValue::Bytes(bytes))
    };
    let actor = ActorId::random();
    let mut one = AutoCommit::new().with_actor(actor.clone());
    let (k1, v1) = record(1);
    one.put(ROOT, k1.as_str(), v1).unwrap();
    let mut two = AutoCommit::new().with_actor(actor);
    let (k2, v2) = record(2);
    two.put(ROOT, k2.as_str(), v2).unwrap();
    (
        one.get_last_local_change().unwrap().bytes().to_vec(),
        two.get_last_local_change().unwrap().bytes().to_vec(),
    )
}

#[test]
fn a_change_that_forks_an_actor_is_refused_with_409_and_not_stored() -> R {
    let mut s = shop(5);
    let doc = DocId::ledger(&s.store_id, &s.a.info().till_id, t0(), 1).to_string();
    let (one, two) = restore_fork();
    let client = Client::for_store(&s.a)?;
    let send = |bytes: Vec<u8>| {
        client.exchange(&SyncRequest::new(
            0,
            vec![DocChanges {
                doc_id: doc.clone(),
                changes: vec![bytes],
            }],
        ))
    };
    send(one.clone())?;
    send(one.clone())?; // a replay is harmless
    match send(two.clone()) {
        Err(SyncError::Refused { status, message }) => {
            assert_eq!(status, 409);
            assert!(message.contains("forked actor"), "{message}");
            assert!(message.contains(&doc), "names the document: {message}");
        }
        other => panic!("a forked actor was not refused: {other:?}"),
    }
    // In one request, too.
    let both = client.exchange(&SyncRequest::new(
        0,
        vec![DocChanges {
            doc_id: doc.clone(),
            changes: vec![one.clone(), two.clone()],
        }],
    ));
    assert!(matches!(both, Err(SyncError::Refused { status: 409, .. })));
    // Never stored: nothing anyone downloads carries it.
    let (all, _, _) = client.exchange(&SyncRequest::new(0, vec![]))?;
    let stored: Vec<&Vec<u8>> = all
        .docs
        .iter()
        .filter(|d| d.doc_id == doc)
        .flat_map(|d| d.changes.iter())
        .collect();
    assert!(stored.contains(&&one));
    assert!(!stored.contains(&&two));

    // A till whose outbox holds such a change (an older version reused its
    // actor) is told why, and keeps its sales.
    let before = restore_sales(&s.a);
    let change = shopsync_core::docs::decode_change(&two)?;
    s.a.connection().execute(
        "INSERT INTO doc_changes (doc_id, hash, bytes, local) VALUES (?1, ?2, ?3, 1)",
        rusqlite::params![doc, change.hash().0.as_slice(), two],
    )?;
    let err = sync(&mut s.a).unwrap_err();
    assert!(err.to_string().contains("forked actor"), "{err}");
    let status = s.a.sync_status()?;
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("forked actor")),
        "{status:?}"
    );
    assert!(
        status
            .view(false)
            .message
            .is_some_and(|m| m.contains("forked actor"))
    );
    assert_eq!(restore_sales(&s.a), before);
    Ok(())
}
