//! One bad record must not stop a store (issue 7, part 3): a till that
//! receives records no projection can apply keeps them, quarantines them,
//! applies the good ones around them and moves its cursor on; a bundle import
//! and a rebuild do exactly the same.

mod common;

use automerge::{AutoCommit, ROOT, ScalarValue, transaction::Transactable};
use common::{R, Till, on_hand, product, sell_cash, till_from, verify_clean};
use shopsync_core::Store;
use shopsync_core::bundle::Bundle;
use shopsync_core::ids::DocId;
use shopsync_core::records::{
    AdjustReason, AdjustmentRecord, CountLine, CountRecord, ReceiptLine, ReceiptRecord, Record,
    RefundLine, RefundRecord,
};
use shopsync_core::sync::Outbox;
use shopsync_core::sync::wire::{DocChanges, PROTOCOL_VERSION, SyncResponse};
use shopsync_core::types::TenderKind;
type Rogue = Result<(DocId, Vec<Vec<u8>>), Box<dyn std::error::Error>>;

const T: i64 = 1_780_000_000_000;

/// Till A with product MILK (10 received) and one sale of 2; till B made
/// from A's bundle. Returns (A, B, MILK's id, A's sale id).
fn quarantine_two_tills(
    dir: &std::path::Path,
) -> Result<(Store, Store, String, String), Box<dyn std::error::Error>> {
    let mut a = Till {
        store: "Corner Shop",
        stock: vec![(product("MILK", "Milk", 100), 10)],
        ..Till::default()
    }
    .open(dir)?;
    let milk = a.product("MILK")?.id;
    let sale = sell_cash(&mut a, "MILK", 2, 200)?;
    let b = till_from(dir, &a, "B", None)?;
    Ok((a, b, milk, sale.sale_id))
}

fn put(doc: &mut AutoCommit, key: &str, bytes: Vec<u8>) -> Result<(), automerge::AutomergeError> {
    doc.put(ROOT, key, ScalarValue::Bytes(bytes))?;
    Ok(())
}

/// The ledger of a misbehaving till "rogue", written with automerge
/// directly (bypassing every check of the till): good records and bad ones
/// mixed in the same changes. Returns the document id and its changes.
fn quarantine_rogue_ledger(store_id: &str, milk: &str, taken_sale_id: &str) -> Rogue {
    let doc_id =
        DocId::parse(&format!("store/{store_id}/ledger/rogue/2026-05")).ok_or("bad document id")?;
    let mut doc = AutoCommit::new();
    let receipt = |id: &str, qty: i64| {
        Record::Receipt(ReceiptRecord {
            hlc: None,
            staff_id: None,
            approver_id: None,
            id: id.into(),
            at: T,
            supplier_id: None,
            lines: vec![ReceiptLine {
                product_id: milk.into(),
                qty,
                unit_cost: None,
            }],
            order_id: None,
        })
    };
    // Change 1: a good receipt of 5, then a count naming MILK twice.
    put(
        &mut doc,
        "good-receipt",
        receipt("good-receipt", 5).encode()?,
    )?;
    let line = CountLine {
        hlc: None,
        product_id: milk.into(),
        at: T,
        counted: 1,
        expected: 0,
    };
    let count = Record::Count(CountRecord {
        hlc: None,
        staff_id: None,
        approver_id: None,
        id: "bad-count".into(),
        at: T,
        started_at: T,
        lines: vec![line.clone(), line],
    });
    put(&mut doc, "bad-count", count.encode()?)?;
    doc.commit();
    // Change 2: a refund naming line 1 twice, a receipt whose quantity
    // overflows, bytes that are not a record, a record under another key.
    let refund_line = RefundLine {
        line_no: 1,
        product_id: milk.into(),
        qty: 1,
        amount: 100,
        tax: 0,
    };
    let refund = Record::Refund(RefundRecord {
        hlc: None,
        staff_id: None,
        approver_id: None,
        drawer_session: None,
        id: "bad-refund".into(),
        sale_id: taken_sale_id.into(),
        at: T,
        lines: vec![refund_line.clone(), refund_line],
        amount: 200,
        tax: 0,
        tender: TenderKind::Cash,
        restock: true,
    });
    put(&mut doc, "bad-refund", refund.encode()?)?;
    let mut huge = ReceiptRecord {
        hlc: None,
        staff_id: None,
        approver_id: None,
        id: "bad-overflow".into(),
        at: T,
        supplier_id: None,
        lines: Vec::new(),
        order_id: None,
    };
    for _ in 0..2 {
        huge.lines.push(ReceiptLine {
            product_id: milk.into(),
            qty: i64::MAX,
            unit_cost: None,
        });
    }
    put(&mut doc, "bad-overflow", Record::Receipt(huge).encode()?)?;
    put(&mut doc, "bad-garbage", vec![1, b'{', b'x'])?;
    put(&mut doc, "bad-key", receipt("other-id", 1).encode()?)?;
    doc.commit();
    // Change 3: a good adjustment of -1, and a receipt reusing the id of
    // till A's sale (it passes every rule, but the id is taken).
    let adj = Record::Adjustment(AdjustmentRecord {
        hlc: None,
        staff_id: None,
        approver_id: None,
        id: "good-adjust".into(),
        at: T,
        product_id: milk.into(),
        delta: -1,
        reason: AdjustReason::Damaged,
        note: None,
    });
    put(&mut doc, "good-adjust", adj.encode()?)?;
    put(&mut doc, taken_sale_id, receipt(taken_sale_id, 7).encode()?)?;
    doc.commit();
    let changes = doc
        .get_changes(&[])
        .into_iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    Ok((doc_id, changes))
}

fn quarantine_page(doc_id: &DocId, changes: Vec<Vec<u8>>, cursor: u64) -> SyncResponse {
    SyncResponse {
        version: PROTOCOL_VERSION,
        cursor,
        head: cursor,
        more: false,
        acked: Vec::new(),
        docs: vec![DocChanges {
            doc_id: doc_id.to_string(),
            changes,
        }],
    }
}

/// (record, rule) of every quarantined record, sorted.
fn quarantined(s: &Store) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let status = s.sync_status()?;
    let mut all: Vec<(String, String)> = s
        .verify(&mut |_| {})?
        .quarantined
        .into_iter()
        .map(|q| (q.record, q.rule))
        .collect();
    all.sort();
    assert_eq!(status.quarantined, all.len() as u64);
    assert_eq!(
        status.quarantine.len(),
        all.len().min(shopsync_core::quarantine::SHOWN)
    );
    Ok(all)
}

fn quarantine_expected(taken_sale_id: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = [
        ("bad-count", "duplicate_product"),
        ("bad-refund", "duplicate_line"),
        ("bad-overflow", "bounds"),
        ("bad-garbage", "decode"),
        ("bad-key", "key_mismatch"),
        // The rogue record reuses till A's sale id: neither counts, both
        // are set aside (found by the shop simulator: which one a till kept
        // used to depend on arrival order).
        (taken_sale_id, "id_clash"),
        (taken_sale_id, "id_clash"),
    ]
    .iter()
    .map(|(k, r)| (k.to_string(), r.to_string()))
    .collect();
    v.sort();
    v
}

#[test]
fn a_page_with_bad_records_applies_the_good_ones_and_moves_the_cursor() -> R {
    let dir = tempfile::tempdir()?;
    let (_a, mut b, milk, sale_id) = quarantine_two_tills(dir.path())?;
    assert_eq!(on_hand(&b, "MILK")?, 8);
    let (doc_id, changes) = quarantine_rogue_ledger(&b.info().store_id, &milk, &sale_id)?;

    let applied = b.apply_sync_response(
        &Outbox::default(),
        quarantine_page(&doc_id, changes.clone(), 42),
    )?;
    assert_eq!(applied.new_changes, 3, "every change is stored");
    assert_eq!(
        b.sync_cursor()?,
        42,
        "the cursor moves past the bad records"
    );
    // 10 received + 5 received − 1 damaged; A's sale of 2 is set aside with
    // the record that reused its id; nothing of the bad records.
    assert_eq!(on_hand(&b, "MILK")?, 14);
    assert_eq!(quarantined(&b)?, quarantine_expected(&sale_id));
    let status = b.sync_status()?;
    assert!(status.quarantine.iter().all(|q| (q.rule == "id_clash"
        || q.till.as_deref() == Some("rogue") && q.document == doc_id.to_string())
        && !q.reason.is_empty()));
    assert_eq!(status.view(false).quarantined, 7);
    let reused = b
        .verify(&mut |_| {})?
        .quarantined
        .into_iter()
        .find(|q| q.record == sale_id)
        .ok_or("the reused id is not quarantined")?;
    assert!(
        reused.reason.contains("more than one till"),
        "{}",
        reused.reason
    );
    // Till A's sale is set aside with the receipt that reuses its id: no
    // device can take over another till's record.
    let sales = b.sales(&shopsync_core::SalesFilter::default())?;
    assert_eq!(sales.len(), 0);

    // The same page again (the next sync): nothing new, nothing fails, the
    // quarantine does not grow.
    let again = b.apply_sync_response(&Outbox::default(), quarantine_page(&doc_id, changes, 43))?;
    assert_eq!((again.new_changes, again.known_changes), (0, 3));
    assert_eq!(b.sync_cursor()?, 43);
    assert_eq!(quarantined(&b)?, quarantine_expected(&sale_id));

    // A rebuild gives the same projections and the same quarantine, and
    // keeps when each record was first seen.
    verify_clean(&b)?;
    let seen_before = b.sync_status()?.quarantine;
    b.rebuild(&mut |_| {})?;
    assert_eq!(on_hand(&b, "MILK")?, 14);
    assert_eq!(quarantined(&b)?, quarantine_expected(&sale_id));
    assert_eq!(b.sync_status()?.quarantine, seen_before);
    Ok(())
}

#[test]
fn a_bundle_with_bad_records_imports_and_quarantines_them() -> R {
    let dir = tempfile::tempdir()?;
    let (_a, mut b, milk, sale_id) = quarantine_two_tills(dir.path())?;
    let store_id = b.info().store_id.clone();
    let (doc_id, changes) = quarantine_rogue_ledger(&store_id, &milk, &sale_id)?;
    let changes = changes
        .iter()
        .map(|c| shopsync_core::docs::decode_change(c))
        .collect::<Result<Vec<_>, _>>()?;
    let bundle = Bundle {
        store_id,
        docs: vec![(doc_id, changes)],
    };
    let path = dir.path().join("rogue.bundle");
    std::fs::write(&path, bundle.encode()?)?;

    let summary = b.import_bundle_from(&path)?;
    assert_eq!(summary.new_changes, 3);
    assert_eq!(on_hand(&b, "MILK")?, 14);
    assert_eq!(quarantined(&b)?, quarantine_expected(&sale_id));
    // Importing it again changes nothing.
    let again = b.import_bundle_from(&path)?;
    assert_eq!(again.new_changes, 0);
    assert_eq!(quarantined(&b)?, quarantine_expected(&sale_id));

    // A till made from a bundle that holds the bad records gets the same.
    let c = till_from(dir.path(), &b, "C", None)?;
    assert_eq!(on_hand(&c, "MILK")?, 14);
    assert_eq!(quarantined(&c)?, quarantine_expected(&sale_id));
    let (diffs, _) = shopsync_core::projection::rebuild::compare(b.connection(), c.connection())?;
    assert!(diffs.is_empty(), "{diffs:?}");
    Ok(())
}

#[test]
fn the_validation_rules_name_the_record_and_the_rule() -> R {
    let dir = tempfile::tempdir()?;
    let (_a, b, milk, sale_id) = quarantine_two_tills(dir.path())?;
    let (doc_id, changes) = quarantine_rogue_ledger(&b.info().store_id, &milk, &sale_id)?;
    let changes = changes
        .iter()
        .map(|c| shopsync_core::docs::decode_change(c))
        .collect::<Result<Vec<_>, _>>()?;
    // The first change alone: a good receipt, then the duplicate count.
    let err = shopsync_core::validate::validate_changes(&doc_id, &changes[..1])
        .err()
        .ok_or("accepted a count with a product twice")?;
    assert_eq!(err.document, doc_id.to_string());
    assert_eq!(err.record, "bad-count");
    assert_eq!(err.rule.as_str(), "duplicate_product");
    assert!(err.to_string().contains("bad-count"), "{err}");
    // The third change passes the rules (the reused id is only known to a
    // till that holds the other record).
    shopsync_core::validate::validate_changes(&doc_id, &changes[2..])?;

    // A record put again over itself is refused, so is a nested object.
    let mut doc = AutoCommit::new();
    put(&mut doc, "r1", vec![1, b'{', b'}'])?;
    doc.commit();
    put(&mut doc, "r1", vec![1, b'[', b']'])?;
    doc.commit();
    let two = doc.get_changes(&[]);
    let err = shopsync_core::validate::validate_changes(&doc_id, &two[1..])
        .err()
        .ok_or("accepted a rewrite")?;
    assert_eq!(
        (err.record.as_str(), err.rule.as_str()),
        ("r1", "rewritten")
    );
    let mut doc = AutoCommit::new();
    doc.put_object(ROOT, "r2", automerge::ObjType::Map)?;
    doc.commit();
    let err = shopsync_core::validate::validate_changes(&doc_id, &doc.get_changes(&[]))
        .err()
        .ok_or("accepted a nested object")?;
    assert_eq!(err.rule.as_str(), "not_a_record");

    // Catalog: unknown root keys and wrongly typed fields are refused; the
    // till's own catalog passes.
    let catalog = DocId::catalog(&b.info().store_id);
    let own = shopsync_core::docs::all_changes(b.connection(), &catalog.to_string())?;
    shopsync_core::validate::validate_changes(&catalog, &own)?;
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "widget/1", "x")?;
    doc.commit();
    let err = shopsync_core::validate::validate_changes(&catalog, &doc.get_changes(&[]))
        .err()
        .ok_or("accepted an unknown key")?;
    assert_eq!(
        (err.record.as_str(), err.rule.as_str()),
        ("widget/1", "unknown_key")
    );
    let mut doc = AutoCommit::new();
    let p = doc.put_object(ROOT, "product/p1", automerge::ObjType::Map)?;
    doc.put(&p, "sku", "X")?;
    doc.put(&p, "price", "cheap")?;
    doc.commit();
    let err = shopsync_core::validate::validate_changes(&catalog, &doc.get_changes(&[]))
        .err()
        .ok_or("accepted a price that is text")?;
    assert_eq!(
        (err.record.as_str(), err.rule.as_str()),
        ("product/p1", "field_type")
    );
    Ok(())
}
