//! Records from another device built to hurt a till (found by an adversarial
//! review of issue 7): a stamp far in the future, a sale number near the top
//! of what SQLite counts, a refund of fewer than one unit, and a forked
//! actor in the catalog. Each is refused or set aside; the till keeps
//! selling, its stock stays right and its documents keep loading.

mod common;

use automerge::{AutoCommit, ROOT, ScalarValue, transaction::Transactable};
use common::{R, Till, m, on_hand, product, receive, sell_cash, t0};
use shopsync_core::bundle::Bundle;
use shopsync_core::ids::DocId;
use shopsync_core::records::{CountLine, CountRecord, Record, RefundLine, RefundRecord};
use shopsync_core::types::TenderKind;
use shopsync_core::{CoreError, CountScope, NewProduct, Store};

/// Till A with 40 of P.
fn hostile_records_till(dir: &std::path::Path) -> Result<Store, CoreError> {
    Till {
        now: m(0),
        stock: vec![(product("P", "P", 100), 40)],
        ..Till::default()
    }
    .open(dir)
}

/// One record in another till's ledger, as a bundle.
fn hostile_bundle(store: &Store, record: &Record) -> Result<Bundle, Box<dyn std::error::Error>> {
    let store_id = store.info().store_id.clone();
    let doc_id = DocId::parse(&format!(
        "store/{store_id}/ledger/01a00000-0000-7000-8000-000000000001/2026-05"
    ))
    .ok_or("doc id")?;
    let mut doc = AutoCommit::new();
    doc.put(ROOT, record.id(), ScalarValue::Bytes(record.encode()?))?;
    doc.commit();
    Ok(Bundle {
        store_id,
        docs: vec![(doc_id, doc.get_changes(&[]))],
    })
}

/// The till's catalog, as its id and a document holding all its changes.
fn hostile_catalog(a: &Store) -> Result<(DocId, AutoCommit), Box<dyn std::error::Error>> {
    let bundle = a.export_bundle()?;
    let (catalog, changes) = bundle
        .docs
        .into_iter()
        .find(|(d, _)| matches!(d, DocId::Catalog { .. }))
        .ok_or("no catalog")?;
    let mut base = AutoCommit::new();
    base.apply_changes(changes)?;
    Ok((catalog, base))
}

#[test]
fn a_count_stamped_in_the_far_future_is_quarantined_and_a_recount_counts() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    let pid = a.stock_levels(Some("P"), false)?[0].product_id.clone();
    let t = t0().timestamp_millis();
    let count = Record::Count(CountRecord {
        hlc: Some(i64::MAX),
        staff_id: None,
        approver_id: None,
        id: "hostile-count".into(),
        at: t,
        started_at: t,
        lines: vec![CountLine {
            hlc: Some(i64::MAX),
            product_id: pid,
            at: t,
            counted: 1000,
            expected: 0,
        }],
    });
    a.import_bundle(hostile_bundle(&a, &count)?)?;
    assert_eq!(on_hand(&a, "P")?, 40, "the hostile count changed nothing");
    assert_eq!(a.sync_status()?.quarantined, 1);
    a.set_now(m(90));
    let id = a.count_start(CountScope::Products(vec!["P".into()]))?;
    a.count_recount(&id, "P", 38)?;
    a.count_post(&id)?;
    receive(&mut a, "P", 5)?;
    assert_eq!(on_hand(&a, "P")?, 43);
    Ok(())
}

#[test]
fn a_sale_number_past_the_limit_is_quarantined_and_the_till_keeps_numbering() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    a.set_now(m(30));
    let first = sell_cash(&mut a, "P", 1, 100)?.number;
    // A copy of the till's own sale, renumbered near i64::MAX, put back into
    // its own ledger by a bundle (a tampered file, a bug).
    let bundle = a.export_bundle()?;
    let (ledger, changes) = bundle
        .docs
        .iter()
        .find(|(d, _)| matches!(d, DocId::Ledger { .. }))
        .cloned()
        .ok_or("no ledger")?;
    let mut doc = AutoCommit::new();
    doc.apply_changes(changes)?;
    let records = shopsync_core::projection::rebuild::records_in_doc(&doc)?;
    let Some(Record::Sale(mut sale)) = records.into_iter().find(|r| matches!(r, Record::Sale(_)))
    else {
        return Err("no sale".into());
    };
    sale.id = "hostile-sale".into();
    sale.seq = i64::MAX as u64;
    let heads = doc.get_heads();
    doc.put(
        ROOT,
        "hostile-sale",
        ScalarValue::Bytes(Record::Sale(sale).encode()?),
    )?;
    doc.commit();
    a.import_bundle(Bundle {
        store_id: a.info().store_id.clone(),
        docs: vec![(ledger, doc.get_changes(&heads))],
    })?;
    assert_eq!(a.sync_status()?.quarantined, 1);
    let next = sell_cash(&mut a, "P", 1, 100)?.number;
    assert_ne!(next, first);
    assert!(next.ends_with("000002"), "{next}");
    Ok(())
}

#[test]
fn a_refund_of_fewer_than_one_unit_from_another_till_is_quarantined() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    a.set_now(m(30));
    let sale = sell_cash(&mut a, "P", 2, 200)?;
    let pid = a.stock_levels(Some("P"), false)?[0].product_id.clone();
    let refund = Record::Refund(RefundRecord {
        hlc: None,
        staff_id: None,
        approver_id: None,
        drawer_session: None,
        id: "hostile-refund".into(),
        sale_id: sale.sale_id.clone(),
        at: t0().timestamp_millis() + 60_000,
        lines: vec![RefundLine {
            line_no: 1,
            product_id: pid,
            qty: -2,
            amount: -200,
            tax: 0,
        }],
        amount: -200,
        tax: 0,
        tender: TenderKind::Cash,
        restock: true,
    });
    a.import_bundle(hostile_bundle(&a, &refund)?)?;
    assert_eq!(a.sync_status()?.quarantined, 1);
    assert_eq!(
        on_hand(&a, "P")?,
        38,
        "two sold, nothing taken out by the refund"
    );
    Ok(())
}

/// An older version reused an actor: two catalog changes with the same actor
/// and sequence number and different content. The till stores one, refuses
/// the other, and the catalog still loads: the till sells and rebuilds.
#[test]
fn a_forked_catalog_change_is_refused_and_the_catalog_still_loads() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    let store_id = a.info().store_id.clone();
    let (catalog, mut base) = hostile_catalog(&a)?;
    let actor = automerge::ActorId::random();
    let mut forked = Vec::new();
    for name in ["first", "second"] {
        let mut doc = base.fork().with_actor(actor.clone());
        let heads = doc.get_heads();
        doc.put(ROOT, "setting/receipt_footer", name)?;
        doc.commit();
        forked.extend(doc.get_changes(&heads));
    }
    a.import_bundle(Bundle {
        store_id,
        docs: vec![(catalog, forked)],
    })?;
    assert_eq!(a.sync_status()?.refused_changes, 1);
    drop(a);
    let mut a = Store::open(&dir.path().join("a.db"))?;
    a.set_now(m(40));
    sell_cash(&mut a, "P", 1, 100)?;
    a.set_setting("receipt_footer", "Thank you")?;
    a.rebuild(&mut |_| {})?;
    assert_eq!(on_hand(&a, "P")?, 39);
    Ok(())
}

/// What the server would refuse (a name over 1,000 bytes, a tax class id
/// over 64 characters) is refused at the till, before it reaches the outbox
/// where a 422 would stop this till's sync for good; nothing changes.
#[test]
fn a_write_the_server_would_refuse_is_refused_locally_and_changes_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    let waiting = |a: &Store| -> Result<i64, Box<dyn std::error::Error>> {
        Ok(a.connection()
            .query_row("SELECT COUNT(*) FROM doc_changes", [], |r| r.get(0))?)
    };
    let before = waiting(&a)?;
    let long_name = a.add_product(NewProduct {
        sku: "LONG".into(),
        name: "é".repeat(501),
        price: 100,
        ..NewProduct::default()
    });
    assert!(long_name.is_err(), "a 1,002-byte name was accepted");
    assert!(a.product("LONG").is_err());
    let long_id = a.set_tax_class(shopsync_core::NewTaxClass {
        id: "t".repeat(68),
        name: "Too long".into(),
        rate_bp: 500,
        inclusive: true,
    });
    let err = long_id.err().ok_or("a 68-character id was accepted")?;
    assert!(
        err.to_string().contains("1 to 64"),
        "a clear message: {err}"
    );
    assert_eq!(waiting(&a)?, before, "nothing reached the change log");
    // The till still works.
    a.set_now(m(5));
    sell_cash(&mut a, "P", 1, 100)?;
    assert_eq!(on_hand(&a, "P")?, 39);
    Ok(())
}

/// A restored copy of this till, run by an older version, forked its own
/// ledger partition (same actor and sequence number, other sale). The fork
/// arrives by bundle: it is refused, and the till keeps selling into that
/// partition (it used to fail to load it from then on).
#[test]
fn a_forked_change_to_this_tills_own_partition_is_refused_and_it_keeps_selling() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    a.set_now(m(10));
    sell_cash(&mut a, "P", 1, 100)?;
    let till = a.info().till_id.clone();
    let bundle = a.export_bundle()?;
    let (ledger, changes) = bundle
        .docs
        .iter()
        .find(|(d, _)| matches!(d, DocId::Ledger { till: t, .. } if *t == till))
        .cloned()
        .ok_or("no own ledger")?;
    let (last, earlier) = changes.split_last().ok_or("no changes")?;
    let mut doc = AutoCommit::new();
    doc.apply_changes(earlier.to_vec())?;
    let mut doc = doc.with_actor(last.actor_id().clone());
    let heads = doc.get_heads();
    let records = shopsync_core::projection::rebuild::records_in_change(last);
    let Some(Record::Sale(mut sale)) = records.into_iter().next() else {
        return Err("the last change is not a sale".into());
    };
    sale.id = "forked-sale".into();
    doc.put(
        ROOT,
        "forked-sale",
        ScalarValue::Bytes(Record::Sale(sale).encode()?),
    )?;
    doc.commit();
    let forked = doc.get_changes(&heads);
    assert_eq!(forked.len(), 1);
    assert_eq!(forked[0].seq(), last.seq(), "same actor and seq: a fork");
    // Reopened: the partition is not in memory when the fork arrives.
    drop(a);
    let mut a = Store::open(&dir.path().join("a.db"))?;
    a.import_bundle(Bundle {
        store_id: a.info().store_id.clone(),
        docs: vec![(ledger, forked)],
    })?;
    assert_eq!(a.sync_status()?.refused_changes, 1);
    drop(a);
    let mut a = Store::open(&dir.path().join("a.db"))?;
    a.set_now(m(20));
    sell_cash(&mut a, "P", 1, 100)?;
    assert_eq!(on_hand(&a, "P")?, 38);
    Ok(())
}

/// A valid record stamped at the very limit (the year 3000) does not push
/// this till's own stamps out of bounds: it keeps selling.
#[test]
fn a_record_stamped_at_the_limit_does_not_stop_the_till_selling() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    let pid = a.stock_levels(Some("P"), false)?[0].product_id.clone();
    let t = t0().timestamp_millis();
    let receipt = Record::Receipt(shopsync_core::records::ReceiptRecord {
        hlc: Some(shopsync_core::clock::MAX_STAMP),
        staff_id: None,
        approver_id: None,
        id: "stamped-at-the-limit".into(),
        at: t,
        supplier_id: None,
        lines: vec![shopsync_core::records::ReceiptLine {
            product_id: pid,
            qty: 1,
            unit_cost: None,
        }],
        order_id: None,
    });
    a.import_bundle(hostile_bundle(&a, &receipt)?)?;
    assert_eq!(a.sync_status()?.quarantined, 0, "the record is valid");
    a.set_now(m(5));
    sell_cash(&mut a, "P", 1, 100)?;
    sell_cash(&mut a, "P", 1, 100)?;
    assert_eq!(on_hand(&a, "P")?, 39);
    Ok(())
}

/// A change built on a refused (forked) change, arriving later, is refused
/// too instead of failing the whole import for ever.
#[test]
fn a_change_built_on_a_refused_one_is_refused_too() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    let store_id = a.info().store_id.clone();
    let (catalog, mut base) = hostile_catalog(&a)?;
    let actor = automerge::ActorId::random();
    let mut first = base.fork().with_actor(actor.clone());
    let h = first.get_heads();
    first.put(ROOT, "setting/receipt_footer", "first")?;
    first.commit();
    let mut second = base.fork().with_actor(actor);
    let h2 = second.get_heads();
    second.put(ROOT, "setting/receipt_footer", "second")?;
    second.commit();
    let fork = second.get_changes(&h2);
    let h3 = second.get_heads();
    second.put(ROOT, "setting/receipt_header", "on top of the fork")?;
    second.commit();
    let descendant = second.get_changes(&h3);
    let mut batch = first.get_changes(&h);
    batch.extend(fork);
    a.import_bundle(Bundle {
        store_id: store_id.clone(),
        docs: vec![(catalog.clone(), batch)],
    })?;
    assert_eq!(a.sync_status()?.refused_changes, 1);
    a.import_bundle(Bundle {
        store_id,
        docs: vec![(catalog, descendant)],
    })?;
    assert_eq!(a.sync_status()?.refused_changes, 2);
    a.set_now(m(5));
    sell_cash(&mut a, "P", 1, 100)?;
    Ok(())
}

/// A CSV row over the server's text limit rejects the whole file, naming the
/// row, before anything is written (it used to commit the earlier chunks).
#[test]
fn a_csv_row_over_the_text_limit_rejects_the_file_naming_the_row() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    let mut csv = String::from("sku,name,price\n");
    for i in 0..2_500 {
        csv.push_str(&format!("S{i},Product {i},1.00\n"));
    }
    csv.push_str(&format!("LONG,{},1.00\n", "x".repeat(1_001)));
    let err = a
        .import_products_reader(csv.as_bytes(), &mut |_| {})
        .err()
        .ok_or("the file was accepted")?;
    assert!(err.to_string().contains("1001 bytes"), "{err}");
    assert!(a.product("S1").is_err(), "nothing of the file was written");
    Ok(())
}

/// A change of a few bytes that decodes to more operations than any honest
/// change holds (repeated operations compress to almost nothing) is refused
/// before its operations are decoded, for every kind of document the
/// server checks; a till's own sale passes.
#[test]
fn a_change_of_too_many_operations_is_refused_before_it_is_decoded() -> R {
    use automerge::legacy::{Key, ObjectId, Op, OpType, SortedVec};
    use shopsync_core::change_bytes::{
        ChangeBytesError, MAX_INFLATED_CHANGE_BYTES, decode_change_bounded,
    };
    use shopsync_core::validate::{MAX_OPS_PER_CHANGE, Rule, ledger_items, validate_changes};
    let op = Op {
        action: OpType::Put(ScalarValue::Null),
        obj: ObjectId::Root,
        key: Key::Map("x".into()),
        pred: SortedVec::new(),
        insert: false,
    };
    let expanded = automerge::ExpandedChange {
        operations: vec![op; MAX_OPS_PER_CHANGE + 1],
        actor_id: automerge::ActorId::random(),
        hash: None,
        seq: 1,
        start_op: std::num::NonZeroU64::MIN,
        time: 0,
        message: None,
        deps: vec![],
        extra_bytes: vec![],
        author: None,
    };
    let bytes = automerge::Change::from(expanded).raw_bytes().to_vec();
    assert!(bytes.len() < 1_000, "{} bytes", bytes.len());
    // From outside (a request, an answer, a bundle): refused from its bytes,
    // before Automerge walks its operations.
    assert_eq!(
        decode_change_bounded(&bytes, MAX_INFLATED_CHANGE_BYTES).err(),
        Some(ChangeBytesError::TooManyOps {
            limit: MAX_OPS_PER_CHANGE
        })
    );
    let err = shopsync_core::docs::decode_change(&bytes).err();
    let err = err.ok_or("the till decoded the bomb")?.to_string();
    assert!(err.contains("more than 100000 operations"), "{err}");
    // Decoded without that bound (as a till's own changes are), the checks
    // refuse it too.
    let bomb = automerge::Change::try_from(bytes.as_slice())?;
    let store = "s1";
    for doc in [
        DocId::ledger(store, "t1", t0(), 1),
        DocId::catalog(store),
        DocId::order_requests(store, "c1"),
        DocId::order_status(store, "c1"),
    ] {
        let e = validate_changes(&doc, std::slice::from_ref(&bomb)).err();
        let e = e.ok_or("the bomb was accepted")?;
        assert_eq!(e.rule, Rule::Bounds, "{doc:?}");
        assert!(e.detail.contains("operations"), "{}", e.detail);
    }
    let items = ledger_items(&bomb);
    assert_eq!(items.len(), 1);
    assert!(matches!(&items[0], Err(v) if v.rule == Rule::Bounds));

    // One record, one operation: a real sale passes.
    let dir = tempfile::tempdir()?;
    let mut s = hostile_records_till(dir.path())?;
    sell_cash(&mut s, "P", 1, 1_000)?;
    let bytes: Vec<u8> = s.connection().query_row(
        "SELECT bytes FROM doc_changes WHERE local = 1 ORDER BY seq DESC LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    let sale = automerge::Change::try_from(bytes.as_slice())?;
    assert!(ledger_items(&sale).iter().all(Result::is_ok));
    Ok(())
}

/// 69 bytes that claim 134 million operations (Automerge took 17 s of CPU
/// to decode them): a server's answer carrying it is refused whole, at once,
/// before any of its changes is applied.
#[test]
fn an_answer_carrying_a_change_of_134_million_operations_is_refused_before_anything_is_applied() -> R
{
    use shopsync_core::change_bytes::forge;
    use shopsync_core::sync::Outbox;
    use shopsync_core::sync::wire::{DocChanges, PROTOCOL_VERSION, SyncResponse};
    let dir = tempfile::tempdir()?;
    let mut s = hostile_records_till(dir.path())?;
    let store_id = s.info().store_id.clone();
    let bomb = forge::repeated_puts(&[7; 16], 1, 1 << 27);
    assert!(bomb.len() < 80, "{} bytes", bomb.len());
    // An honest change from another till, in the same page, first.
    let mut other = AutoCommit::new();
    other.put(ROOT, "honest", "change")?;
    other.commit();
    let honest = other
        .get_last_local_change()
        .ok_or("no change")?
        .raw_bytes()
        .to_vec();
    let catalog = DocId::catalog(&store_id).to_string();
    let page = SyncResponse {
        version: PROTOCOL_VERSION,
        cursor: 7,
        head: 7,
        more: false,
        acked: Vec::new(),
        docs: vec![DocChanges {
            doc_id: catalog,
            changes: vec![honest, bomb],
        }],
    };
    let stored = |s: &Store| -> rusqlite::Result<i64> {
        s.connection()
            .query_row("SELECT COUNT(*) FROM doc_changes", [], |r| r.get(0))
    };
    let before = stored(&s)?;
    let cursor = s.sync_cursor()?;
    let started = std::time::Instant::now();
    let err = s.apply_sync_response(&Outbox::default(), page).err();
    let err = err.ok_or("the page was applied")?.to_string();
    assert!(err.contains("more than 100000 operations"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stored(&s)?, before, "nothing of the page was applied");
    assert_eq!(s.sync_cursor()?, cursor, "the cursor stays");
    Ok(())
}

/// A till never sends what the server refuses: its upload page stops before
/// the request's operation budget (changes of 100,000 operations each).
#[test]
fn a_tills_upload_page_stays_within_the_request_operation_budget() -> R {
    use shopsync_core::change_bytes::forge;
    use shopsync_core::sync::wire::limits::MAX_REQUEST_OPS;
    use shopsync_core::validate::MAX_OPS_PER_CHANGE;
    let dir = tempfile::tempdir()?;
    let s = hostile_records_till(dir.path())?;
    let catalog = DocId::catalog(&s.info().store_id).to_string();
    let per_change = MAX_OPS_PER_CHANGE as u64;
    let n = MAX_REQUEST_OPS / MAX_OPS_PER_CHANGE + 2;
    // Only these wait (the till's own setup counts as sent).
    s.connection()
        .execute("UPDATE doc_changes SET acked = 1", [])?;
    for seq in 1..=n as u64 {
        let bytes = forge::repeated_puts(&[9; 16], seq, per_change);
        s.connection().execute(
            "INSERT INTO doc_changes (doc_id, hash, bytes, local, acked) VALUES (?1, ?2, ?3, 1, 0)",
            rusqlite::params![catalog, seq.to_le_bytes().to_vec(), bytes],
        )?;
    }
    let first = s.sync_outbox(usize::MAX)?;
    assert!(first.more, "the rest waits for the next request");
    assert!(first.ops <= MAX_REQUEST_OPS, "{}", first.ops);
    assert_eq!(first.ops, MAX_REQUEST_OPS, "as many as fit");
    let sent: usize = first.docs.iter().map(|d| d.changes.len()).sum();
    assert_eq!(sent, MAX_REQUEST_OPS / MAX_OPS_PER_CHANGE);
    Ok(())
}

// -- drawer sessions (issue 10) ---------------------------------------------

fn hostile_close(id: &str, session: &str, counted: i64, denominations: Vec<(i64, i64)>) -> Record {
    Record::DrawerClose(shopsync_core::records::DrawerCloseRecord {
        id: id.into(),
        session_id: session.into(),
        at: t0().timestamp_millis(),
        counted,
        denominations: denominations.into_iter().collect(),
        expected: 0,
        hlc: None,
        staff_id: None,
        approver_id: None,
    })
}

#[test]
fn drawer_records_with_absurd_counts_are_refused_without_overflow() -> R {
    use shopsync_core::validate::{Rule, decode_record};
    let huge: Vec<(i64, i64)> = (1..=65).map(|d| (d, 0)).collect();
    let cases = [
        hostile_close("c1", "d1", 0, huge),
        hostile_close("c2", "d1", i64::MAX, vec![]),
        hostile_close(
            "c3",
            "d1",
            0,
            vec![(i64::MAX, i64::MAX), (i64::MAX - 1, i64::MAX)],
        ),
        hostile_close("c4", "d1", 4, vec![(1, 1), (2, 1)]),
        hostile_close("c5", "d1", 0, vec![(-100, 1)]),
        Record::DrawerOpen(shopsync_core::records::DrawerOpenRecord {
            id: "d2".into(),
            at: t0().timestamp_millis(),
            float: i64::MIN,
            hlc: None,
            staff_id: None,
            approver_id: None,
        }),
        Record::DrawerMove(shopsync_core::records::DrawerMoveRecord {
            id: "m1".into(),
            session_id: "d1".into(),
            at: t0().timestamp_millis(),
            direction: shopsync_core::records::MoveDirection::Out,
            amount: 500,
            reason: " ".into(),
            hlc: None,
            staff_id: None,
            approver_id: None,
        }),
    ];
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    for (i, record) in cases.iter().enumerate() {
        let v = decode_record(record.id(), &record.encode()?).err();
        assert_eq!(v.map(|v| v.rule), Some(Rule::Bounds), "case {i}");
        a.import_bundle(hostile_bundle(&a, record)?)?;
    }
    assert_eq!(a.sync_status()?.quarantined, cases.len() as u64);
    let rows: i64 = a
        .connection()
        .query_row("SELECT COUNT(*) FROM drawer_records", [], |r| r.get(0))?;
    assert_eq!(rows, 0);
    a.open_drawer_session(1_000)?;
    sell_cash(&mut a, "P", 1, 100)?;
    assert_eq!(a.drawer_x_report()?.expected.minor, 1_100);
    Ok(())
}

#[test]
fn a_close_of_a_session_that_is_not_its_own_closes_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    let session = a.open_drawer_session(1_000)?.session_id;
    // Another till closes A's session, and a session that does not exist.
    a.import_bundle(hostile_bundle(
        &a,
        &hostile_close("x1", &session, 0, vec![]),
    )?)?;
    a.import_bundle(hostile_bundle(
        &a,
        &hostile_close("x2", "no-such", 5, vec![(5, 1)]),
    )?)?;
    assert_eq!(a.sync_status()?.quarantined, 0, "valid records, kept");
    assert_eq!(a.drawer_x_report()?.session_id, session);
    assert_eq!(a.drawer_sessions(None, None)?.len(), 1);
    assert!(a.drawer_session_report("no-such").is_err());
    a.set_now(m(10));
    let z = a.close_drawer_session(shopsync_core::drawer::ClosingCount::Total(1_000))?;
    assert_eq!(
        (z.extra_closes, z.over_short.map(|x| x.minor)),
        (0, Some(0))
    );
    common::verify_clean(&a)
}

#[test]
fn a_session_id_reused_by_another_till_sets_both_aside_in_any_order() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = hostile_records_till(dir.path())?;
    let session = a.open_drawer_session(1_000)?.session_id;
    let copy = Record::DrawerOpen(shopsync_core::records::DrawerOpenRecord {
        id: session.clone(),
        at: t0().timestamp_millis() + 1,
        float: 5,
        hlc: None,
        staff_id: None,
        approver_id: None,
    });
    a.import_bundle(hostile_bundle(&a, &copy)?)?;
    // Like every id clash: neither counts, visibly.
    assert_eq!(a.sync_status()?.quarantined, 2);
    assert!(a.drawer_status()?.is_none());
    assert!(a.drawer_sessions(None, None)?.is_empty());
    common::verify_clean(&a)?;
    // The till opens a new session and goes on.
    a.open_drawer_session(1_000)?;
    sell_cash(&mut a, "P", 1, 100)?;
    assert_eq!(a.drawer_x_report()?.expected.minor, 1_100);
    Ok(())
}
