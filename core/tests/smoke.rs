//! The main path end to end on a real file: init, catalog, sell, refund,
//! receive, count, bundle to a second till, verify.

mod common;

use common::{R, Till, card, cash, on_hand, standard_tax, verify_clean};
use shopsync_core::{CartLine, CountScope, NewProduct, RefundRequest, Store};

#[test]
fn a_day_at_the_till() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = Till {
        store: "Corner Shop",
        name: "T1",
        ..Till::default()
    }
    .open(dir.path())?;
    assert_eq!(s.info().currency, "EUR");
    assert_eq!(s.info().store_name, "Corner Shop");
    standard_tax(&mut s)?;
    s.add_product(NewProduct {
        sku: "MILK".into(),
        name: "Whole Milk 1L".into(),
        price: 199,
        barcodes: vec!["4000000000017".into()],
        tax_class: Some("std".into()),
        reorder_point: Some(2),
        ..NewProduct::default()
    })?;
    s.receive(
        None,
        &[shopsync_core::ReceiveLine {
            code: "MILK".into(),
            qty: 10,
            unit_cost: Some(80),
        }],
    )?;
    let receipt = s.sell(
        &[CartLine::new("4000000000017", 3)],
        &[card(500), cash(500)],
    )?;
    // 3 × 1.99 = 5.97 + 20 % = 1.19 → 7.16; paid 10.00 → change 2.84.
    assert_eq!(receipt.total.to_string(), "7.16");
    assert_eq!(receipt.change.to_string(), "2.84");
    assert_eq!(on_hand(&s, "MILK")?, 7);

    let refund = s.refund(
        &receipt.sale_id,
        RefundRequest {
            lines: vec![("MILK".into(), 1)],
            tender: None,
            restock: true,
        },
    )?;
    assert_eq!(refund.amount.to_string(), "2.39");
    assert_eq!(on_hand(&s, "MILK")?, 8);

    let count = s.count_start(CountScope::Products(vec!["MILK".into()]))?;
    s.count_record(&count, "MILK", 5)?;
    let posted = s.count_post(&count)?;
    assert_eq!(posted.lines[0].difference, Some(-3));
    assert_eq!(on_hand(&s, "MILK")?, 5);

    verify_clean(&s)?;

    let bundle = dir.path().join("store.bundle");
    s.export_bundle_to(&bundle)?;
    let mut t2 = Store::init_from_bundle(&dir.path().join("b.db"), &bundle, "T2")?;
    assert_eq!(t2.info().store_id, s.info().store_id);
    assert_eq!(on_hand(&t2, "MILK")?, 5);
    let again = t2.import_bundle_from(&bundle)?;
    assert_eq!(again.new_changes, 0);
    let (diffs, _) = shopsync_core::projection::rebuild::compare(s.connection(), t2.connection())?;
    assert!(diffs.is_empty(), "{diffs:?}");
    Ok(())
}
