//! Applying a server's page: records are projected without a savepoint
//! each, and a record the projection cannot apply sends the page back to be
//! applied record by record (quarantined, the others kept); received changes
//! are stored as they came.

mod common;

use common::{R, Till, on_hand, product, sell_cash, two_tills};
use shopsync_core::Store;
use shopsync_core::ids::DocId;
use shopsync_core::sync::Outbox;
use shopsync_core::sync::wire::{DocChanges, PROTOCOL_VERSION, SyncResponse};

/// Every change of `from`'s own ledger partitions, as a server page (raw
/// bytes, as tills send small changes).
fn ledger_page(from: &Store, cursor: u64) -> Result<SyncResponse, Box<dyn std::error::Error>> {
    let till = from.info().till_id.clone();
    let mut docs = Vec::new();
    for (id, changes) in from.export_bundle()?.docs {
        if matches!(&id, DocId::Ledger { till: t, .. } if *t == till) {
            docs.push(DocChanges {
                doc_id: id.to_string(),
                changes: changes.iter().map(|c| c.raw_bytes().to_vec()).collect(),
            });
        }
    }
    Ok(SyncResponse {
        version: PROTOCOL_VERSION,
        cursor,
        head: cursor,
        more: false,
        acked: Vec::new(),
        docs,
    })
}

fn count(s: &Store, sql: &str) -> Result<i64, Box<dyn std::error::Error>> {
    Ok(s.connection().query_row(sql, [], |r| r.get(0))?)
}

#[test]
fn a_record_the_projection_refuses_is_quarantined_and_the_rest_of_its_page_applies() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(
        dir.path(),
        Till {
            stock: vec![
                (product("MILK", "Milk", 100), 20),
                (product("BOOM", "Boom", 100), 20),
            ],
            ..Till::default()
        },
    )?;
    sell_cash(&mut a, "MILK", 1, 100)?;
    let boom = sell_cash(&mut a, "BOOM", 2, 200)?;
    sell_cash(&mut a, "MILK", 3, 300)?;
    // Till B's projection cannot take a line of BOOM (as a schema rule a
    // record could break would): every other row of that sale must go too.
    b.connection().execute_batch(
        "CREATE TRIGGER boom BEFORE INSERT ON sale_lines WHEN NEW.sku = 'BOOM'
         BEGIN SELECT RAISE(ABORT, 'BOOM is not sold here'); END;",
    )?;
    let applied = b.apply_sync_response(&Outbox::default(), ledger_page(&a, 7)?)?;
    assert!(applied.new_changes >= 3, "{applied:?}");
    assert_eq!(b.sync_cursor()?, 7);
    assert_eq!(count(&b, "SELECT COUNT(*) FROM sales")?, 2);
    assert_eq!(
        count(
            &b,
            &format!("SELECT COUNT(*) FROM sales WHERE id = '{}'", boom.sale_id)
        )?,
        0,
        "no half-projected sale"
    );
    assert_eq!(on_hand(&b, "MILK")?, 16);
    assert_eq!(on_hand(&b, "BOOM")?, 20, "no movement of the refused sale");
    let status = b.sync_status()?;
    assert_eq!(status.quarantined, 1);
    let q = &status.quarantine[0];
    assert_eq!(
        (q.record.as_str(), q.rule.as_str()),
        (boom.sale_id.as_str(), "projection")
    );
    assert!(q.reason.contains("BOOM is not sold here"), "{}", q.reason);

    // Without the rule, B projects the next page whole: the failed
    // optimistic attempt left nothing behind that stops it.
    b.connection().execute_batch("DROP TRIGGER boom")?;
    let later = sell_cash(&mut a, "BOOM", 1, 100)?;
    b.apply_sync_response(&Outbox::default(), ledger_page(&a, 8)?)?;
    assert_eq!(on_hand(&b, "BOOM")?, 19);
    assert_eq!(
        count(
            &b,
            &format!("SELECT COUNT(*) FROM sales WHERE id = '{}'", later.sale_id)
        )?,
        1
    );
    assert_eq!(b.sync_status()?.quarantined, 1, "only the refused sale");
    Ok(())
}

#[test]
fn received_changes_are_stored_as_they_came() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(
        dir.path(),
        Till {
            stock: vec![(product("MILK", "Milk", 100), 20)],
            ..Till::default()
        },
    )?;
    sell_cash(&mut a, "MILK", 1, 100)?;
    let page = ledger_page(&a, 5)?;
    let sent: Vec<Vec<u8>> = page.docs.iter().flat_map(|d| d.changes.clone()).collect();
    b.apply_sync_response(&Outbox::default(), page)?;
    // A small change arrives raw and is stored raw: deflating each received
    // change took a third of a large download.
    for bytes in &sent {
        let stored: i64 = b.connection().query_row(
            "SELECT COUNT(*) FROM doc_changes WHERE bytes = ?1",
            [bytes],
            |r| r.get(0),
        )?;
        assert_eq!(stored, 1, "a received change is stored byte for byte");
    }
    assert_eq!(on_hand(&b, "MILK")?, 19);
    Ok(())
}
