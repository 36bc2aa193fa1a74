//! Reordering and purchase orders (issue 10): the reorder list and its
//! suggestions, orders received in parts on several tills, closes, bad
//! input, records from other tills (early receipts, reused ids, hostile
//! sizes), and that everything converges and rebuilds to the same rows.

mod common;

use chrono::Duration;
use common::{
    R, Till, delivered, foreign_ledger, m, on_hand, po_line, product, receive, sell_cash, send,
    supplier, t0, till_from, verify_clean,
};
use shopsync_core::records::{
    PurchaseOrderCloseRecord, PurchaseOrderLine, PurchaseOrderRecord, RECORD_SCHEMA_VERSION,
    ReceiptLine, ReceiptRecord, Record,
};
use shopsync_core::types::{ErrorCode, PurchaseOrderStatus};
use shopsync_core::validate::{MAX_LINES, Rule, check_record};
use shopsync_core::{CoreError, NewProduct, ProductEdit, Store};

/// A till id no real till has: the ledger of "another till".
const OTHER_TILL: &str = "01a00000-0000-7000-8000-000000000001";

fn with_reorder(sku: &str, point: i64, target: Option<i64>, supplier: Option<&str>) -> NewProduct {
    NewProduct {
        reorder_point: Some(point),
        reorder_target: target,
        supplier: supplier.map(str::to_string),
        cost: Some(100),
        ..product(sku, &format!("Product {sku}"), 250)
    }
}

/// Till A at the start of the test day with supplier "Acme" and products
/// P (reorder point 5, target 20) and Q (reorder point 4) from Acme, 3 of P
/// and 10 of Q in stock. Returns the till and Acme's id.
fn shop(dir: &std::path::Path) -> Result<(Store, String), CoreError> {
    let mut a = Till {
        now: m(0),
        ..Till::default()
    }
    .open(dir)?;
    let acme = supplier(&mut a, "Acme")?;
    a.add_product(with_reorder("P", 5, Some(20), Some(&acme)))?;
    a.add_product(with_reorder("Q", 4, None, Some(&acme)))?;
    receive(&mut a, "P", 3)?;
    receive(&mut a, "Q", 10)?;
    Ok((a, acme))
}

fn status(s: &Store, id: &str) -> Result<PurchaseOrderStatus, CoreError> {
    Ok(s.purchase_order(id)?.status)
}

/// (ordered, received, outstanding, over) of `sku` on order `id`.
fn line_of(s: &Store, id: &str, sku: &str) -> Result<(i64, i64, i64, i64), CoreError> {
    let o = s.purchase_order(id)?;
    let l = o
        .lines
        .iter()
        .find(|l| l.sku == sku)
        .ok_or_else(|| CoreError::not_found("line", sku))?;
    Ok((l.ordered, l.received, l.outstanding, l.over))
}

#[test]
fn the_reorder_list_groups_by_supplier_and_suggests_to_the_target_or_from_sales() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    let bolt = supplier(&mut a, "Bolt & Co")?;
    a.add_product(with_reorder("R", 2, None, None))?;
    a.add_product(with_reorder("S", 5, None, Some(&bolt)))?;
    receive(&mut a, "R", 1)?;
    receive(&mut a, "S", 50)?;
    // Q: 2 sold long ago (outside the 28 days), then 6 in the last days.
    sell_cash(&mut a, "Q", 2, 10_000)?;
    a.set_now(Some(t0() + Duration::days(40)));
    sell_cash(&mut a, "Q", 6, 10_000)?;
    let groups = a.reorder_list(None)?;
    // Acme first (by name), products without a supplier last; S is stocked.
    let ids: Vec<_> = groups.iter().map(|g| g.supplier_id.clone()).collect();
    assert_eq!(ids, vec![Some(acme.clone()), None]);
    assert_eq!(groups[0].supplier_name.as_deref(), Some("Acme"));
    let acme_lines: Vec<_> = groups[0]
        .lines
        .iter()
        .map(|l| (l.sku.as_str(), l.available, l.sold_28_days, l.suggested))
        .collect();
    // P: to its target, 20 − 3. Q: 6 sold in 28 days covers 14 days with
    // 3, but lifting it above its reorder point needs 4 − 2 + 1 = 3… and
    // 6 × 14 / 28 = 3: 3 either way.
    assert_eq!(acme_lines, vec![("P", 3, 0, 17), ("Q", 2, 6, 3)]);
    // R: no sales, no target: just above its reorder point (2 + 1 − 1).
    assert_eq!(groups[1].lines[0].sku, "R");
    assert_eq!(groups[1].lines[0].suggested, 2);
    // One supplier's list only.
    let only = a.reorder_list(Some(&acme))?;
    assert_eq!(only.len(), 1);
    assert!(matches!(
        a.reorder_list(Some("nobody")),
        Err(CoreError::NotFound { .. })
    ));

    // What is on order is not suggested again; a received part still counts
    // as received, the rest as on order.
    let po = a.create_purchase_order(&acme, &[po_line("P", 10, None)], None)?;
    let p = &a.reorder_list(Some(&acme))?[0].lines[0];
    assert_eq!((p.on_order, p.suggested), (10, 7));
    a.receive_purchase_order(&po.id, &[delivered("P", 2)], false)?;
    let p = &a.reorder_list(Some(&acme))?[0].lines[0];
    assert_eq!((p.available, p.on_order, p.suggested), (5, 8, 7));
    // A closed order is no longer on order.
    a.close_purchase_order(&po.id, Some("supplier out of stock".into()))?;
    let p = &a.reorder_list(Some(&acme))?[0].lines[0];
    assert_eq!((p.on_order, p.suggested), (0, 15));
    verify_clean(&a)
}

#[test]
fn the_suggestion_formula() {
    use shopsync_core::purchase::reorder::suggested_qty;
    // (available, reorder point, target, sold in 28 days, on order)
    assert_eq!(suggested_qty(3, 5, Some(20), 100, 0), 17);
    assert_eq!(suggested_qty(-4, 5, Some(20), 0, 0), 24, "negative stock");
    assert_eq!(suggested_qty(2, 4, None, 56, 0), 28, "14 days of 2 a day");
    assert_eq!(
        suggested_qty(2, 4, None, 1, 0),
        3,
        "at least above the point"
    );
    assert_eq!(suggested_qty(2, 4, None, 57, 0), 29, "rounded up");
    assert_eq!(suggested_qty(2, 4, None, 56, 30), 0, "on order covers it");
    assert_eq!(
        suggested_qty(i64::MIN, i64::MAX, Some(i64::MAX), i64::MAX, i64::MIN),
        i64::MAX,
        "no overflow"
    );
}

#[test]
fn an_order_received_in_two_deliveries_is_received_then_closed() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    let po = a.create_purchase_order(
        &acme,
        &[po_line("P", 10, Some(150)), po_line("Q", 5, None)],
        Some("before the weekend".into()),
    )?;
    assert_eq!(po.status, PurchaseOrderStatus::Open);
    assert_eq!(po.total.minor, 10 * 150 + 5 * 100, "Q at its catalog cost");
    assert_eq!(po.note.as_deref(), Some("before the weekend"));
    assert_eq!(on_hand(&a, "P")?, 3, "ordering moves no stock");

    a.set_now(m(60));
    let after = a.receive_purchase_order(&po.id, &[delivered("P", 4)], false)?;
    assert_eq!(after.status, PurchaseOrderStatus::PartiallyReceived);
    assert_eq!(line_of(&a, &po.id, "P")?, (10, 4, 6, 0));
    assert_eq!(line_of(&a, &po.id, "Q")?, (5, 0, 5, 0));
    assert_eq!(on_hand(&a, "P")?, 7);
    assert_eq!(
        a.purchase_orders(Some(PurchaseOrderStatus::PartiallyReceived))?
            .iter()
            .map(|o| (o.id.clone(), o.outstanding))
            .collect::<Vec<_>>(),
        vec![(po.id.clone(), 11)]
    );

    // The rest of P, and 2 more Q than ordered: shown, not hidden.
    a.set_now(m(120));
    let mut q = delivered("Q", 7);
    q.unit_cost = Some(90);
    let done = a.receive_purchase_order(&po.id, &[delivered("P", 6), q], false)?;
    assert_eq!(done.status, PurchaseOrderStatus::Received);
    assert_eq!(line_of(&a, &po.id, "P")?, (10, 10, 0, 0));
    assert_eq!(line_of(&a, &po.id, "Q")?, (5, 7, 0, 2));
    assert_eq!(done.receipts.len(), 2);
    assert_eq!((on_hand(&a, "P")?, on_hand(&a, "Q")?), (13, 17));
    // Receiving keeps the catalog cost as it was (as every receipt does).
    assert_eq!(a.product("Q")?.cost.map(|c| c.minor), Some(100));

    let closed = a.close_purchase_order(&po.id, None)?;
    assert_eq!(closed.status, PurchaseOrderStatus::Closed);
    assert!(closed.closed_at.is_some());
    assert!(
        a.purchase_orders(Some(PurchaseOrderStatus::Open))?
            .is_empty()
    );
    assert_eq!(a.purchase_orders(None)?.len(), 1);
    verify_clean(&a)
}

#[test]
fn bad_input_changes_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    let po = a.create_purchase_order(&acme, &[po_line("P", 10, None)], None)?;
    let code = |r: Result<shopsync_core::types::PurchaseOrderView, CoreError>| match r {
        Ok(_) => None,
        Err(e) => Some(e.code()),
    };
    let bad_creates = [
        ("nobody", vec![po_line("P", 1, None)], ErrorCode::NotFound),
        (acme.as_str(), vec![], ErrorCode::InvalidInput),
        (
            acme.as_str(),
            vec![po_line("NOPE", 1, None)],
            ErrorCode::NotFound,
        ),
        (
            acme.as_str(),
            vec![po_line("P", 0, None)],
            ErrorCode::InvalidInput,
        ),
        (
            acme.as_str(),
            vec![po_line("P", -3, None)],
            ErrorCode::InvalidInput,
        ),
        (
            acme.as_str(),
            vec![po_line("P", i64::MAX, None)],
            ErrorCode::InvalidInput,
        ),
        (
            acme.as_str(),
            vec![po_line("P", 1, Some(-1))],
            ErrorCode::InvalidInput,
        ),
        (
            acme.as_str(),
            vec![po_line("P", 1_000_000_000, Some(1_000_000_000_000))],
            ErrorCode::InvalidInput,
        ),
        (
            acme.as_str(),
            vec![po_line("P", 1, None), po_line("P", 2, None)],
            ErrorCode::InvalidInput,
        ),
    ];
    for (supplier, lines, want) in bad_creates {
        let got = code(a.create_purchase_order(supplier, &lines, None));
        assert_eq!(got, Some(want), "{supplier} {lines:?}");
    }
    let bad_receipts = [
        (
            "no-such-order",
            vec![delivered("P", 1)],
            false,
            ErrorCode::NotFound,
        ),
        (po.id.as_str(), vec![], false, ErrorCode::InvalidInput),
        (
            po.id.as_str(),
            vec![delivered("P", 0)],
            false,
            ErrorCode::InvalidInput,
        ),
        (
            po.id.as_str(),
            vec![delivered("P", -1)],
            false,
            ErrorCode::InvalidInput,
        ),
        (
            po.id.as_str(),
            vec![delivered("NOPE", 1)],
            true,
            ErrorCode::NotFound,
        ),
        (
            po.id.as_str(),
            vec![delivered("Q", 1)],
            false,
            ErrorCode::InvalidInput,
        ),
    ];
    for (id, lines, extra, want) in bad_receipts {
        let got = code(a.receive_purchase_order(id, &lines, extra));
        assert_eq!(got, Some(want), "{id} {lines:?}");
    }
    assert_eq!(a.purchase_orders(None)?.len(), 1);
    assert_eq!(line_of(&a, &po.id, "P")?, (10, 0, 10, 0));
    assert_eq!((on_hand(&a, "P")?, on_hand(&a, "Q")?), (3, 10));

    // A product not on the order comes in only when allowed, as an extra line.
    a.receive_purchase_order(&po.id, &[delivered("Q", 2)], true)?;
    assert_eq!(line_of(&a, &po.id, "Q")?, (0, 2, 0, 2));
    assert_eq!(status(&a, &po.id)?, PurchaseOrderStatus::Open);

    // A closed order takes no more deliveries here, and no second close.
    a.close_purchase_order(&po.id, None)?;
    assert_eq!(
        code(a.receive_purchase_order(&po.id, &[delivered("P", 1)], false)),
        Some(ErrorCode::Conflict)
    );
    assert_eq!(
        code(a.close_purchase_order(&po.id, None)),
        Some(ErrorCode::Conflict)
    );
    assert_eq!(on_hand(&a, "P")?, 3);
    // A target below the reorder point is refused.
    let low_target = ProductEdit {
        reorder_target: Some(Some(2)),
        ..ProductEdit::default()
    };
    assert!(matches!(
        a.edit_product("P", low_target),
        Err(CoreError::Invalid { .. })
    ));
    assert_eq!(a.product("P")?.reorder_target, Some(20));
    verify_clean(&a)
}

#[test]
fn two_tills_receive_parts_of_one_order_offline_and_agree_after_sync() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    let po = a.create_purchase_order(
        &acme,
        &[po_line("P", 10, None), po_line("Q", 4, None)],
        None,
    )?;
    let mut b = till_from(dir.path(), &a, "B", m(5))?;
    assert_eq!(b.purchase_order(&po.id)?.status, PurchaseOrderStatus::Open);

    // Offline: A takes 3 P, B takes 4 P and all of Q.
    a.set_now(m(10));
    a.receive_purchase_order(&po.id, &[delivered("P", 3)], false)?;
    b.set_now(m(11));
    b.receive_purchase_order(&po.id, &[delivered("P", 4), delivered("Q", 4)], false)?;
    assert_eq!(line_of(&a, &po.id, "P")?, (10, 3, 7, 0));
    assert_eq!(line_of(&b, &po.id, "P")?, (10, 4, 6, 0));

    send(&a, &mut b)?;
    send(&b, &mut a)?;
    for s in [&a, &b] {
        assert_eq!(line_of(s, &po.id, "P")?, (10, 7, 3, 0));
        assert_eq!(line_of(s, &po.id, "Q")?, (4, 4, 0, 0));
        assert_eq!(status(s, &po.id)?, PurchaseOrderStatus::PartiallyReceived);
        assert_eq!((on_hand(s, "P")?, on_hand(s, "Q")?), (10, 14));
        assert_eq!(s.purchase_order(&po.id)?.receipts.len(), 2);
        verify_clean(s)?;
    }

    // Both close it offline: both closes are kept, the order is closed once.
    a.set_now(m(20));
    a.close_purchase_order(&po.id, Some("rest cancelled".into()))?;
    b.set_now(m(21));
    b.close_purchase_order(&po.id, Some("also cancelled".into()))?;
    send(&a, &mut b)?;
    send(&b, &mut a)?;
    let (oa, ob) = (a.purchase_order(&po.id)?, b.purchase_order(&po.id)?);
    assert_eq!(oa, ob);
    assert_eq!(oa.status, PurchaseOrderStatus::Closed);
    assert_eq!(
        oa.close_reason.as_deref(),
        Some("rest cancelled"),
        "the first close"
    );
    for s in [&a, &b] {
        let closed = s.purchase_orders(Some(PurchaseOrderStatus::Closed))?;
        assert_eq!((closed.len(), closed[0].outstanding), (1, 3));
        verify_clean(s)?;
    }
    Ok(())
}

fn order_record(id: &str, supplier: &str, product_id: &str, qty: i64) -> Record {
    Record::PurchaseOrder(PurchaseOrderRecord {
        id: id.into(),
        at: t0().timestamp_millis() + 1_000,
        supplier_id: supplier.into(),
        lines: vec![PurchaseOrderLine {
            product_id: product_id.into(),
            qty,
            unit_cost: Some(80),
        }],
        note: None,
        hlc: None,
        staff_id: None,
        approver_id: None,
    })
}

fn receipt_record(id: &str, order: Option<&str>, product_id: &str, qty: i64) -> Record {
    Record::Receipt(ReceiptRecord {
        id: id.into(),
        at: t0().timestamp_millis() + 2_000,
        supplier_id: None,
        lines: vec![ReceiptLine {
            product_id: product_id.into(),
            qty,
            unit_cost: None,
        }],
        hlc: None,
        staff_id: None,
        approver_id: None,
        order_id: order.map(str::to_string),
    })
}

#[test]
fn a_receipt_naming_an_order_not_seen_yet_moves_stock_and_counts_when_the_order_arrives() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    let p = a.product("P")?.id;
    a.import_bundle(foreign_ledger(
        &a,
        OTHER_TILL,
        &[receipt_record("early-receipt", Some("late-order"), &p, 6)],
    )?)?;
    assert_eq!(on_hand(&a, "P")?, 9, "the stock moved");
    assert!(matches!(
        a.purchase_order("late-order"),
        Err(CoreError::NotFound { .. })
    ));
    verify_clean(&a)?;
    a.import_bundle(foreign_ledger(
        &a,
        OTHER_TILL,
        &[order_record("late-order", &acme, &p, 8)],
    )?)?;
    assert_eq!(line_of(&a, "late-order", "P")?, (8, 6, 2, 0));
    assert_eq!(on_hand(&a, "P")?, 9, "the order itself moves nothing");
    // The close of an order may also come before it; a close of an order
    // that never comes harms nothing.
    let close = Record::PurchaseOrderClose(PurchaseOrderCloseRecord {
        id: "close-of-nothing".into(),
        at: t0().timestamp_millis() + 3_000,
        order_id: "never-made".into(),
        reason: None,
        hlc: None,
        staff_id: None,
        approver_id: None,
    });
    a.import_bundle(foreign_ledger(&a, OTHER_TILL, &[close])?)?;
    assert_eq!(a.purchase_orders(None)?.len(), 1);
    assert_eq!(a.sync_status()?.quarantined, 0);
    verify_clean(&a)
}

#[test]
fn an_order_id_reused_by_another_till_with_other_content_counts_for_neither() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    let p = a.product("P")?.id;
    let po = a.create_purchase_order(&acme, &[po_line("P", 10, None)], None)?;
    a.receive_purchase_order(&po.id, &[delivered("P", 2)], false)?;
    a.import_bundle(foreign_ledger(
        &a,
        OTHER_TILL,
        &[order_record(&po.id, &acme, &p, 999)],
    )?)?;
    // Both records are set aside (projection::id_clash): no till's order
    // wins by arriving first; the delivery's stock still counts.
    assert!(a.sync_status()?.quarantined >= 2);
    assert!(a.purchase_orders(None)?.is_empty());
    assert_eq!(on_hand(&a, "P")?, 5);
    verify_clean(&a)
}

#[test]
fn hostile_orders_are_refused_by_the_record_rules_and_never_projected() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    let p = a.product("P")?.id;
    let rule = |r: &Record| check_record(r.id(), r).err().map(|v| v.rule);
    let with = |f: &dyn Fn(&mut PurchaseOrderRecord)| {
        let mut r = order_record("hostile", &acme, &p, 5);
        if let Record::PurchaseOrder(o) = &mut r {
            f(o);
        }
        r
    };
    assert_eq!(rule(&with(&|_| {})), None, "the base record is valid");
    let many = with(&|o| {
        o.lines = (0..=MAX_LINES)
            .map(|i| PurchaseOrderLine {
                product_id: format!("p{i}"),
                qty: 1,
                unit_cost: None,
            })
            .collect();
    });
    assert_eq!(rule(&many), Some(Rule::Bounds));
    assert_eq!(rule(&with(&|o| o.lines.clear())), Some(Rule::Bounds));
    assert_eq!(
        rule(&with(&|o| o.lines[0].qty = i64::MAX)),
        Some(Rule::Bounds)
    );
    assert_eq!(
        rule(&with(&|o| o.lines[0].qty = i64::MIN)),
        Some(Rule::Bounds)
    );
    assert_eq!(rule(&with(&|o| o.lines[0].qty = 0)), Some(Rule::Bounds));
    assert_eq!(
        rule(&with(&|o| {
            o.lines[0].qty = 1_000_000_000;
            o.lines[0].unit_cost = Some(10_000_000_000_000);
        })),
        Some(Rule::Bounds),
        "a line total past the amount limit"
    );
    assert_eq!(
        rule(&with(&|o| o.lines[0].unit_cost = Some(-5))),
        Some(Rule::Bounds)
    );
    let twice = with(&|o| {
        o.id = "hostile-2".into();
        o.lines.push(o.lines[0].clone());
    });
    assert_eq!(rule(&twice), Some(Rule::DuplicateProduct));
    assert_eq!(
        rule(&with(&|o| o.supplier_id = "bad id!".into())),
        Some(Rule::BadId)
    );

    // From another till: quarantined, nothing projected, the till goes on.
    a.import_bundle(foreign_ledger(&a, OTHER_TILL, &[many, twice])?)?;
    assert_eq!(a.sync_status()?.quarantined, 2);
    assert!(a.purchase_orders(None)?.is_empty());
    let po = a.create_purchase_order(&acme, &[po_line("P", 1, None)], None)?;
    assert_eq!(po.status, PurchaseOrderStatus::Open);
    verify_clean(&a)
}

#[test]
fn an_old_receipt_without_order_fields_still_decodes_and_a_plain_one_encodes_as_before() -> R {
    let old = br#"{"kind":"receipt","id":"r1","at":5,"lines":[{"product_id":"p","qty":3}]}"#;
    let mut bytes = vec![RECORD_SCHEMA_VERSION];
    bytes.extend_from_slice(old);
    let Record::Receipt(r) = Record::decode(&bytes)? else {
        return Err("not a receipt".into());
    };
    assert_eq!((r.order_id, r.lines[0].qty), (None, 3));
    let plain = receipt_record("r2", None, "p", 1).encode()?;
    assert!(!String::from_utf8_lossy(&plain).contains("order_id"));
    let named = receipt_record("r3", Some("po"), "p", 1).encode()?;
    assert!(String::from_utf8_lossy(&named).contains(r#""order_id":"po""#));
    Ok(())
}

#[test]
fn low_stock_alerts_count_active_products_at_or_below_their_reorder_point() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, _) = shop(dir.path())?;
    let alerts = a.low_stock_alerts()?;
    // P: 3 ≤ 5. Q: 10 > 4.
    assert_eq!(alerts.count, 1);
    assert_eq!(alerts.products[0].sku, "P");
    sell_cash(&mut a, "Q", 6, 10_000)?;
    assert_eq!(a.low_stock_alerts()?.count, 2, "Q crossed its point");
    a.archive_product("P")?;
    let alerts = a.low_stock_alerts()?;
    assert_eq!((alerts.count, alerts.products[0].sku.as_str()), (1, "Q"));
    // By available stock: R has 8 on hand, 3 held by a customer's order.
    a.add_product(with_reorder("R", 5, None, None))?;
    receive(&mut a, "R", 8)?;
    assert_eq!(a.low_stock_alerts()?.count, 1, "R: 8 > 5");
    let mut phone = common::CustomerDevice::new("c1");
    phone.send(&mut a, "order-1", &[("R", 3)])?;
    a.order_accept("order-1", &[])?;
    let alerts = a.low_stock_alerts()?;
    assert_eq!(alerts.count, 2, "R: 8 - 3 reserved = 5 <= 5");
    assert_eq!(
        alerts
            .products
            .iter()
            .map(|p| (p.sku.as_str(), p.available))
            .collect::<Vec<_>>(),
        vec![("Q", 4), ("R", 5)]
    );
    Ok(())
}

#[test]
fn the_export_is_a_csv_for_the_supplier() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    let po = a.create_purchase_order(
        &acme,
        &[po_line("P", 10, Some(150)), po_line("Q", 5, None)],
        None,
    )?;
    let file = dir.path().join("po.csv");
    assert_eq!(a.export_purchase_order_csv(&po.id, &file)?, 2);
    let text = std::fs::read_to_string(&file)?;
    assert_eq!(
        text,
        "sku,supplier,name,qty,unit_cost,line_total\n\
         P,Acme,Product P,10,1.50,15.00\n\
         Q,Acme,Product Q,5,1.00,5.00\n"
    );
    assert!(matches!(
        a.export_purchase_order_csv("nope", &dir.path().join("x.csv")),
        Err(CoreError::NotFound { .. })
    ));
    assert!(!dir.path().join("x.csv").exists());
    Ok(())
}

#[test]
fn a_cashier_receives_against_an_order_but_only_a_supervisor_creates_or_closes_one() -> R {
    use common::{add_staff, operator};
    use shopsync_core::staff::StaffRole;
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    add_staff(&mut a, None, "Mia", StaffRole::Manager, "9999")?;
    let boss = operator(&mut a, "9999", None)?;
    add_staff(&mut a, Some(&boss), "Cas", StaffRole::Cashier, "1111")?;
    add_staff(&mut a, Some(&boss), "Sue", StaffRole::Supervisor, "2222")?;
    let cashier = operator(&mut a, "1111", None)?;
    let supervisor = operator(&mut a, "2222", None)?;
    let lines = [po_line("P", 5, None)];
    let refused = a.acting(Some(cashier.clone()), |s| {
        s.create_purchase_order(&acme, &lines, None)
    });
    assert!(matches!(refused, Err(CoreError::ApprovalNeeded { .. })));
    let po = a.acting(Some(supervisor.clone()), |s| {
        s.create_purchase_order(&acme, &lines, None)
    })?;
    a.acting(Some(cashier.clone()), |s| {
        s.receive_purchase_order(&po.id, &[delivered("P", 1)], false)
    })?;
    let close = a.acting(Some(cashier), |s| s.close_purchase_order(&po.id, None));
    assert!(matches!(close, Err(CoreError::ApprovalNeeded { .. })));
    let closed = a.acting(Some(supervisor), |s| s.close_purchase_order(&po.id, None))?;
    assert_eq!(closed.status, PurchaseOrderStatus::Closed);
    Ok(())
}

/// The store file at `path` as a version-10 till would have left it after
/// receiving the same documents: the order records it could not decode
/// (`orders`) quarantined, nothing of purchasing projected.
fn as_left_by_version_10(path: &std::path::Path, orders: &[(&str, &str)]) -> R {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(common::UNDO_MIGRATION_11)?;
    for (doc, id) in orders {
        conn.execute(
            "INSERT INTO quarantine (doc_id, record_key, till_id, rule, reason, first_seen)
             VALUES (?1, ?2, NULL, 'decode', 'unknown variant `purchase_order`', 0)",
            [doc, id],
        )?;
    }
    conn.execute_batch("PRAGMA user_version = 10;")?;
    Ok(())
}

#[test]
fn an_upgraded_till_projects_what_it_kept_of_orders_and_targets() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    let po = a.create_purchase_order(&acme, &[po_line("P", 10, None)], None)?;
    a.receive_purchase_order(&po.id, &[delivered("P", 4)], false)?;
    let p = a.product("P")?.id;
    // A receipt from another till naming an order no till has sent yet.
    a.import_bundle(foreign_ledger(
        &a,
        OTHER_TILL,
        &[receipt_record("early", Some("later"), &p, 1)],
    )?)?;
    let b = till_from(dir.path(), &a, "B", m(5))?;
    let path = b.path().to_path_buf();
    drop(b);
    let ledger = format!(
        "store/{}/ledger/{}/2026-05",
        a.info().store_id,
        a.info().till_id
    );
    as_left_by_version_10(&path, &[(&ledger, &po.id)])?;
    let b = Store::open(&path)?;
    assert_eq!(b.sync_status()?.quarantined, 0, "the order is read now");
    assert_eq!(line_of(&b, &po.id, "P")?, (10, 4, 6, 0));
    assert_eq!(b.product("P")?.reorder_target, Some(20));
    verify_clean(&b)?;
    drop(b);

    // Without undecoded records (no order reached it), only targets and
    // the receipts' links are projected, and an order arriving later counts
    // its early receipt.
    let dir2 = tempfile::tempdir()?;
    let (mut e, acme) = shop(dir2.path())?;
    let p = e.product("P")?.id;
    e.import_bundle(foreign_ledger(
        &e,
        OTHER_TILL,
        &[receipt_record("early", Some("later"), &p, 2)],
    )?)?;
    let path = e.path().to_path_buf();
    drop(e);
    as_left_by_version_10(&path, &[])?;
    let mut e = Store::open(&path)?;
    assert_eq!(e.product("P")?.reorder_target, Some(20));
    verify_clean(&e)?;
    e.import_bundle(foreign_ledger(
        &e,
        OTHER_TILL,
        &[order_record("later", &acme, &p, 5)],
    )?)?;
    assert_eq!(line_of(&e, "later", "P")?, (5, 2, 3, 0));
    verify_clean(&e)
}

#[test]
fn a_target_below_the_reorder_point_after_a_merge_still_suggests_an_order() {
    use shopsync_core::purchase::reorder::suggested_qty;
    // Till A raised the point to 12 (target 15 then), till B lowered the
    // target to 11 (point 10 then): each edit was valid, the merge is not.
    // A product at or below its point is low: the suggestion lifts it above.
    assert_eq!(suggested_qty(12, 12, Some(11), 0, 0), 1);
    assert_eq!(suggested_qty(8, 12, Some(11), 0, 0), 5);
    assert_eq!(
        suggested_qty(8, 12, Some(12), 0, 0),
        5,
        "a target at the point"
    );
    assert_eq!(
        suggested_qty(8, 12, Some(11), 0, 3),
        2,
        "less what is on order"
    );
}

#[test]
fn the_export_cannot_carry_a_spreadsheet_formula() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, _) = shop(dir.path())?;
    let evil = supplier(&mut a, "=cmd|' /C calc'!A0")?;
    a.add_product(NewProduct {
        supplier: Some(evil.clone()),
        ..product("F", "=HYPERLINK(\"http://x.invalid\",\"Click\")", 100)
    })?;
    a.add_product(NewProduct {
        supplier: Some(evil.clone()),
        ..product("G", "@SUM(1+1), \"quoted\"\nnext", 100)
    })?;
    let po = a.create_purchase_order(
        &evil,
        &[po_line("F", 1, Some(10)), po_line("G", 2, None)],
        None,
    )?;
    let file = dir.path().join("po.csv");
    a.export_purchase_order_csv(&po.id, &file)?;
    let text = std::fs::read_to_string(&file)?;
    for cell in text.split([',', '\n']) {
        let cell = cell.trim_start_matches('"');
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a cell a spreadsheet runs as a formula: {cell:?} in {text}"
        );
    }
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(
        text.contains("\"'@SUM(1+1), \"\"quoted\"\"\nnext\""),
        "{text}"
    );
    Ok(())
}

#[test]
fn a_negative_receipt_naming_an_order_never_makes_more_outstanding_than_ordered() -> R {
    // The record rules let a receipt line be negative (bounded, not signed);
    // a till of this version never writes one against an order, but another
    // version or a tampered file may.
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    let p = a.product("P")?.id;
    a.import_bundle(foreign_ledger(
        &a,
        OTHER_TILL,
        &[
            order_record("neg-order", &acme, &p, 8),
            receipt_record("neg-receipt", Some("neg-order"), &p, -5),
        ],
    )?)?;
    let (ordered, received, outstanding, over) = line_of(&a, "neg-order", "P")?;
    assert_eq!((ordered, received, over), (8, -5, 0));
    assert_eq!(outstanding, 8, "never more than ordered");
    let list = a.purchase_orders(None)?;
    assert_eq!(list[0].outstanding, 8);
    let p_line = a
        .reorder_list(None)?
        .into_iter()
        .flat_map(|g| g.lines)
        .find(|l| l.sku == "P")
        .ok_or("P is low")?;
    assert_eq!(p_line.on_order, 8, "the reorder list agrees");
    verify_clean(&a)
}

/// `qty` of `code` delivered at `cost` a unit.
fn delivered_at(code: &str, qty: i64, cost: i64) -> shopsync_core::ReceiveLine {
    let mut l = delivered(code, qty);
    l.unit_cost = Some(cost);
    l
}

fn reorder_cost(s: &Store, sku: &str) -> Result<Option<i64>, CoreError> {
    Ok(s.reorder_list(None)?
        .iter()
        .flat_map(|g| g.lines.iter())
        .find(|l| l.sku == sku)
        .and_then(|l| l.unit_cost.map(|c| c.minor)))
}

#[test]
fn the_latest_cost_received_is_the_products_cost_on_every_till() -> R {
    use shopsync_core::purchase::costs;
    let dir = tempfile::tempdir()?;
    let (mut a, acme) = shop(dir.path())?;
    let mut b = till_from(dir.path(), &a, "B", m(5))?;
    let p = a.product("P")?.id;
    assert_eq!(
        reorder_cost(&a, "P")?,
        Some(100),
        "the catalog's cost at first"
    );

    // Offline: A receives P at 1.30, later B at 1.20 (a plain receipt and
    // one against an order: both carry a cost).
    a.set_now(m(10));
    a.receive(None, &[delivered_at("P", 1, 130)])?;
    assert_eq!(reorder_cost(&a, "P")?, Some(130));
    let po = b.create_purchase_order(&acme, &[po_line("P", 5, None)], None)?;
    assert_eq!(po.total.minor, 5 * 100);
    b.set_now(m(20));
    b.receive_purchase_order(&po.id, &[delivered_at("P", 1, 120)], false)?;
    assert_eq!(reorder_cost(&b, "P")?, Some(120));

    send(&a, &mut b)?;
    send(&b, &mut a)?;
    for s in [&a, &b] {
        assert_eq!(
            costs::latest(s.connection(), &p)?,
            Some(120),
            "B's receipt is the later one"
        );
        assert_eq!(reorder_cost(s, "P")?, Some(120));
        // A receipt without a cost changes nothing; the catalog keeps its own.
        assert_eq!(s.product("P")?.cost.map(|c| c.minor), Some(100));
        verify_clean(s)?;
    }
    a.set_now(m(30));
    a.receive(None, &[delivered("P", 1)])?;
    assert_eq!(costs::latest(a.connection(), &p)?, Some(120));
    // The next order expects the new cost.
    let next = a.create_purchase_order(&acme, &[po_line("P", 2, None)], None)?;
    assert_eq!(next.total.minor, 2 * 120);
    verify_clean(&a)
}

#[test]
fn a_till_upgraded_to_receipt_costs_reads_the_costs_of_earlier_receipts() -> R {
    use shopsync_core::purchase::costs;
    let dir = tempfile::tempdir()?;
    let (mut a, _) = shop(dir.path())?;
    let p = a.product("P")?.id;
    a.receive(None, &[delivered_at("P", 2, 140)])?;
    // Another till's receipt, stamped later than anything here.
    let Record::Receipt(mut late) = receipt_record("late", None, &p, 1) else {
        unreachable!("receipt_record makes a receipt")
    };
    late.lines[0].unit_cost = Some(150);
    late.hlc = Some(
        a.connection()
            .query_row("SELECT MAX(hlc) FROM stock_movements", [], |r| {
                r.get::<_, i64>(0)
            })?
            + 1_000_000,
    );
    a.import_bundle(foreign_ledger(&a, OTHER_TILL, &[Record::Receipt(late)])?)?;
    assert_eq!(costs::latest(a.connection(), &p)?, Some(150));
    let path = a.path().to_path_buf();
    drop(a);
    {
        // As left by version 12: no costs kept; migration 13 runs again.
        let conn = rusqlite::Connection::open(&path)?;
        conn.execute_batch(common::UNDO_MIGRATION_13)?;
        conn.execute_batch("PRAGMA user_version = 12;")?;
    }
    let a = Store::open(&path)?;
    assert_eq!(costs::latest(a.connection(), &p)?, Some(150));
    let kept: i64 = a
        .connection()
        .query_row("SELECT COUNT(*) FROM receipt_costs", [], |r| r.get(0))?;
    assert_eq!(kept, 2, "both receipts' costs, each once");
    verify_clean(&a)
}

#[test]
fn sales_dated_after_today_are_not_a_rate_of_sale() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, _) = shop(dir.path())?;
    // A till whose clock ran two days ahead sold 4 Q; the clock is put right.
    a.set_now(Some(t0() + Duration::days(2)));
    sell_cash(&mut a, "Q", 4, 10_000)?;
    a.set_now(m(60));
    sell_cash(&mut a, "Q", 3, 10_000)?;
    let q = a
        .reorder_list(None)?
        .into_iter()
        .flat_map(|g| g.lines)
        .find(|l| l.sku == "Q")
        .ok_or("Q is low: 10 - 7 = 3 <= 4")?;
    assert_eq!(q.sold_28_days, 3, "only today's 3");
    Ok(())
}

#[test]
fn a_negative_cost_from_another_till_is_no_cost() -> R {
    use shopsync_core::purchase::costs;
    let dir = tempfile::tempdir()?;
    let (mut a, _) = shop(dir.path())?;
    let p = a.product("P")?.id;
    a.receive(None, &[delivered_at("P", 1, 140)])?;
    let Record::Receipt(mut odd) = receipt_record("odd", None, &p, 1) else {
        unreachable!("receipt_record makes a receipt")
    };
    odd.lines[0].unit_cost = Some(-10_000_000_000_000);
    odd.hlc = Some(
        a.connection()
            .query_row("SELECT MAX(hlc) FROM stock_movements", [], |r| {
                r.get::<_, i64>(0)
            })?
            + 1_000_000,
    );
    a.import_bundle(foreign_ledger(&a, OTHER_TILL, &[Record::Receipt(odd)])?)?;
    assert_eq!(on_hand(&a, "P")?, 5, "the goods count");
    assert_eq!(
        costs::latest(a.connection(), &p)?,
        Some(140),
        "the cost does not"
    );
    verify_clean(&a)
}
