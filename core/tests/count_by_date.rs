//! A stock count reconciles by date, not by arrival: stock = the counted
//! quantity + every movement dated after the count, wherever and whenever
//! that movement was recorded. Two tills exchange bundles; their clocks are
//! pinned with `set_now`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use shopsync_core::bundle::Bundle;
use shopsync_core::types::{StockStatus, TenderKind};
use shopsync_core::{
    CartLine, CoreError, CountScope, InitOptions, NewProduct, ReceiveLine, Store, TenderInput,
};

type R = Result<(), Box<dyn std::error::Error>>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0)
        .single()
        .unwrap_or_default()
}

/// Minutes after the start of the test day.
fn m(minutes: i64) -> Option<DateTime<Utc>> {
    Some(t0() + Duration::minutes(minutes))
}

/// Till A with product P received `stock` units, and till B made from A's bundle.
fn two_tills(dir: &tempfile::TempDir, stock: i64) -> Result<(Store, Store), CoreError> {
    let mut a = Store::init(
        &dir.path().join("a.db"),
        InitOptions {
            store_name: "Two Tills".into(),
            till_name: "A".into(),
            currency: "EUR".into(),
        },
    )?;
    a.set_now(m(0));
    a.add_product(NewProduct {
        sku: "P".into(),
        name: "Product P".into(),
        price: 100,
        reorder_point: Some(2),
        ..NewProduct::default()
    })?;
    if stock > 0 {
        a.receive(
            None,
            &[ReceiveLine {
                code: "P".into(),
                qty: stock,
                unit_cost: None,
            }],
        )?;
    }
    let bundle = dir.path().join("a.bundle");
    a.export_bundle_to(&bundle)?;
    let mut b = Store::init_from_bundle(&dir.path().join("b.db"), &bundle, "B")?;
    b.set_now(m(0));
    Ok((a, b))
}

/// Sends everything `from` has to `to`; returns how many changes were new.
fn send(from: &Store, to: &mut Store) -> Result<u64, CoreError> {
    let bundle = Bundle::decode(&from.export_bundle()?.encode()?)?;
    Ok(to.import_bundle(bundle)?.new_changes)
}

fn sell(s: &mut Store, when: i64, qty: i64) -> Result<String, CoreError> {
    s.set_now(m(when));
    Ok(s.sell(
        &[CartLine::new("P", qty)],
        &[TenderInput {
            kind: TenderKind::Cash,
            amount: 100 * qty,
        }],
    )?
    .sale_id)
}

fn stock(s: &Store) -> Result<i64, CoreError> {
    Ok(s.stock_levels(Some("P"), false)?[0].on_hand)
}

fn count(s: &mut Store, start: i64, record: i64, post: i64, counted: i64) -> R {
    s.set_now(m(start));
    let id = s.count_start(CountScope::Products(vec!["P".into()]))?;
    s.set_now(m(record));
    s.count_record(&id, "P", counted)?;
    s.set_now(m(post));
    s.count_post(&id)?;
    Ok(())
}

fn same_everywhere(a: &Store, b: &Store) -> R {
    let (diffs, _) = shopsync_core::projection::rebuild::compare(a.connection(), b.connection())?;
    assert!(diffs.is_empty(), "tills differ: {diffs:?}");
    for s in [a, b] {
        let report = s.verify(&mut |_| {})?;
        assert!(
            report.differences.is_empty(),
            "incremental != rebuild on {}: {:?}",
            s.info().till_name,
            report.differences
        );
    }
    Ok(())
}

#[test]
fn movements_from_the_other_till_count_by_their_date() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(&dir, 20)?;
    assert_eq!(stock(&b)?, 20);

    // Before the count:
    sell(&mut b, 10, 2)?; // B, synced to A before the count
    send(&b, &mut a)?;
    assert_eq!(stock(&a)?, 18);
    sell(&mut b, 20, 3)?; // B, reaches A only after the count
    sell(&mut a, 30, 1)?; // A itself
    assert_eq!(stock(&a)?, 17, "A has not seen B's second sale yet");

    // A counts at 09:00 what is really on the shelf: 20 − 2 − 3 − 1 = 14.
    // Recorded at minute 60, a sale at 61 (before posting at 62) is after it.
    a.set_now(m(59));
    let id = a.count_start(CountScope::Products(vec!["P".into()]))?;
    a.set_now(m(60));
    let line = a.count_record(&id, "P", 14)?;
    assert_eq!(line.expected, 17);
    assert_eq!(line.difference, Some(-3));
    sell(&mut a, 61, 1)?;
    a.set_now(m(62));
    a.count_post(&id)?;
    assert_eq!(stock(&a)?, 13, "14 counted − 1 sold after the count");

    // After the count:
    sell(&mut a, 70, 1)?;
    assert_eq!(stock(&a)?, 12);
    sell(&mut b, 80, 2)?; // B, after the count, not yet at A
    assert_eq!(stock(&b)?, 13, "B: 20 − 2 − 3 − 2 (it has not seen A yet)");

    // B's bundle reaches A: the sale at 20 is inside the count, the one at
    // 80 comes after it.
    assert!(send(&b, &mut a)? > 0);
    assert_eq!(stock(&a)?, 10);
    // A's bundle reaches B: the count arrives after B's own later sale.
    assert!(send(&a, &mut b)? > 0);
    assert_eq!(stock(&b)?, 10);
    let level = &b.stock_levels(Some("P"), false)?[0];
    assert_eq!(level.last_counted_at, m(60));

    // A late movement from B dated before the count (B's clock was behind,
    // or it was offline) changes nothing; one dated after it does.
    sell(&mut b, 40, 5)?;
    assert_eq!(stock(&b)?, 10, "dated before the count: already inside it");
    b.set_now(m(90));
    b.receive(
        None,
        &[ReceiveLine {
            code: "P".into(),
            qty: 6,
            unit_cost: None,
        }],
    )?;
    assert_eq!(stock(&b)?, 16);
    send(&b, &mut a)?;
    assert_eq!(stock(&a)?, 16);
    // Nothing more to exchange.
    assert_eq!(send(&a, &mut b)?, 0);
    assert_eq!(send(&b, &mut a)?, 0);
    same_everywhere(&a, &b)
}

#[test]
fn sales_arriving_before_the_count_is_posted_elsewhere() -> R {
    // B's movements are already at A when A counts; A's count reaches B,
    // whose own movements after the count must be added on top.
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(&dir, 10)?;
    sell(&mut b, 5, 1)?;
    sell(&mut a, 6, 1)?;
    send(&b, &mut a)?;
    send(&a, &mut b)?;
    assert_eq!((stock(&a)?, stock(&b)?), (8, 8));
    count(&mut a, 10, 11, 12, 7)?; // one missing on the shelf
    assert_eq!(stock(&a)?, 7);
    sell(&mut b, 15, 2)?; // B, after the count, before it knows of it
    sell(&mut b, 9, 1)?; // B, dated before the count
    assert_eq!(stock(&b)?, 5);
    send(&a, &mut b)?;
    assert_eq!(stock(&b)?, 5, "7 counted − 2 sold at minute 15");
    send(&b, &mut a)?;
    assert_eq!(stock(&a)?, 5);
    same_everywhere(&a, &b)
}

#[test]
fn the_later_dated_count_wins_whatever_the_arrival_order() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(&dir, 10)?;
    send(&a, &mut b)?;
    // B counts later (by date) but posts first; A counts earlier, posts later.
    count(&mut b, 30, 31, 32, 6)?;
    count(&mut a, 20, 21, 40, 8)?;
    sell(&mut a, 25, 1)?; // between the two counts: inside B's count
    sell(&mut a, 35, 1)?; // after both
    assert_eq!(stock(&a)?, 6, "A alone: 8 counted − 2 sold after");
    assert_eq!(stock(&b)?, 6);
    send(&a, &mut b)?;
    assert_eq!(
        stock(&b)?,
        5,
        "B's count (minute 31) wins: 6 − 1 sold at 35"
    );
    send(&b, &mut a)?;
    assert_eq!(stock(&a)?, 5);
    let counts: i64 = a
        .connection()
        .query_row("SELECT COUNT(*) FROM stock_counts", [], |r| r.get(0))?;
    assert_eq!(counts, 2, "both counts are kept in the history");
    same_everywhere(&a, &b)
}

#[test]
fn both_tills_sell_the_last_unit_offline() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, mut b) = two_tills(&dir, 1)?;
    assert_eq!((stock(&a)?, stock(&b)?), (1, 1));
    // Both sales succeed: a till never refuses a sale for lack of stock.
    sell(&mut a, 10, 1)?;
    sell(&mut b, 11, 1)?;
    assert_eq!((stock(&a)?, stock(&b)?), (0, 0));
    assert!(a.negative_stock_alerts()?.is_empty());
    send(&a, &mut b)?;
    send(&b, &mut a)?;
    for s in [&a, &b] {
        assert_eq!(stock(s)?, -1, "on {}", s.info().till_name);
        let alerts = s.negative_stock_alerts()?;
        assert_eq!(alerts.len(), 1, "on {}", s.info().till_name);
        assert_eq!(alerts[0].sku, "P");
        assert_eq!(alerts[0].on_hand, -1);
        assert_eq!(alerts[0].status, StockStatus::Negative);
        let low = s.stock_levels(None, true)?;
        assert!(low.iter().any(|l| l.sku == "P" && l.on_hand == -1));
        // Both sales are there: nothing lost, nothing "corrected".
        assert_eq!(
            s.sales(&shopsync_core::SalesFilter::default())?.len(),
            2,
            "on {}",
            s.info().till_name
        );
    }
    same_everywhere(&a, &b)
}
