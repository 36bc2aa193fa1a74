//! Pickup orders at the till: the order flow, reservations (accept, cancel,
//! collect, reject, offline oversell), the rules on order records, and the
//! public catalog a shop derives.

mod common;

use common::*;
use shopsync_core::orders::records::{Accept, OrderRecord};
use shopsync_core::types::{Availability, OrderStatus};
use tempfile::tempdir;

fn shop(
    dir: &std::path::Path,
) -> Result<(shopsync_core::Store, shopsync_core::Store), shopsync_core::CoreError> {
    two_tills(
        dir,
        Till {
            now: m(0),
            stock: vec![
                (product("MILK", "Milk", 120), 10),
                (product("BREAD", "Bread", 250), 5),
            ],
            ..Till::default()
        },
    )
}

#[test]
fn accept_reserves_and_collect_turns_the_reservation_into_the_sale() -> R {
    let dir = tempdir()?;
    let (mut a, mut b) = shop(dir.path())?;
    let mut phone = CustomerDevice::new("c1");
    phone.send(&mut a, "order-1", &[("MILK", 3), ("BREAD", 2), ("", 1)])?;
    assert_eq!(a.new_order_count()?, 1);
    assert_eq!(
        stock_of(&a, "MILK")?,
        (10, 0, 10),
        "a sent order reserves nothing"
    );

    let accepted = a.order_accept("order-1", &["BREAD".into()])?;
    assert_eq!(accepted.status, OrderStatus::Accepted);
    assert!(accepted.lines[1].unavailable && !accepted.lines[0].unavailable);
    assert_eq!(stock_of(&a, "MILK")?, (10, 3, 7));
    assert_eq!(
        stock_of(&a, "BREAD")?,
        (5, 0, 5),
        "an unavailable line reserves nothing"
    );
    assert_eq!(a.new_order_count()?, 0);

    // Till B never saw the order arrive: it learns of it with A's status.
    phone.deliver(&mut b)?;
    send(&a, &mut b)?;
    assert_eq!(
        stock_of(&b, "MILK")?,
        (10, 3, 7),
        "till B shows the reservation"
    );
    a.order_ready("order-1")?;
    send(&a, &mut b)?;
    assert_eq!(b.order("order-1")?.status, OrderStatus::Ready);

    let (collected, receipt) = b.order_collect("order-1", &[cash(1000)])?;
    assert_eq!(collected.status, OrderStatus::Collected);
    assert_eq!(collected.sale_id.as_deref(), Some(receipt.sale_id.as_str()));
    assert_eq!(
        receipt.total.minor, 360,
        "3 milk; bread unavailable; free text not sold"
    );
    assert_eq!(
        stock_of(&b, "MILK")?,
        (7, 0, 7),
        "the reservation became the sale"
    );
    send(&b, &mut a)?;
    assert_eq!(stock_of(&a, "MILK")?, (7, 0, 7));
    assert_eq!(a.order("order-1")?.status, OrderStatus::Collected);
    let day = t0().date_naive();
    assert_eq!(a.z_report(day)?, b.z_report(day)?);
    assert_eq!(a.z_report(day)?.sales_count, 1);
    verify_clean(&a)?;
    verify_clean(&b)
}

#[test]
fn cancel_and_reject_release_the_reservation() -> R {
    let dir = tempdir()?;
    let (mut a, _b) = shop(dir.path())?;
    let mut phone = CustomerDevice::new("c1");
    phone.send(&mut a, "order-1", &[("MILK", 4)])?;
    phone.send(&mut a, "order-2", &[("MILK", 2)])?;
    a.order_accept("order-1", &[])?;
    a.order_accept("order-2", &[])?;
    assert_eq!(stock_of(&a, "MILK")?, (10, 6, 4));
    phone.cancel(&mut a, "order-1")?;
    assert_eq!(a.order("order-1")?.status, OrderStatus::Cancelled);
    assert_eq!(stock_of(&a, "MILK")?, (10, 2, 8));
    let rejected = a.order_reject("order-2", "the fridge broke")?;
    assert_eq!(rejected.reason.as_deref(), Some("the fridge broke"));
    assert_eq!(stock_of(&a, "MILK")?, (10, 0, 10));
    verify_clean(&a)
}

#[test]
fn an_offline_till_still_sells_and_the_order_shows_the_shortfall() -> R {
    let dir = tempdir()?;
    let (mut a, mut b) = shop(dir.path())?;
    let mut phone = CustomerDevice::new("c1");
    phone.send(&mut a, "order-1", &[("BREAD", 4)])?;
    a.order_accept("order-1", &[])?;
    // B is offline and sells three of the five loaves.
    sell_cash(&mut b, "BREAD", 3, 1000)?;
    send(&b, &mut a)?;
    assert_eq!(stock_of(&a, "BREAD")?, (2, 4, -2));
    let order = a.order("order-1")?;
    assert_eq!(order.lines[0].shortfall, 2, "4 promised, 2 on the shelf");
    verify_clean(&a)
}

#[test]
fn steps_out_of_order_are_refused_and_change_nothing() -> R {
    let dir = tempdir()?;
    let (mut a, _b) = shop(dir.path())?;
    let mut phone = CustomerDevice::new("c1");
    phone.send(&mut a, "order-1", &[("MILK", 1)])?;
    assert!(a.order_ready("order-1").is_err(), "not accepted yet");
    assert!(
        a.order_collect("order-1", &[cash(500)]).is_err(),
        "not accepted yet"
    );
    assert!(
        a.order_accept("order-1", &["NOPE".into()]).is_err(),
        "no such line"
    );
    assert!(
        a.order_reject("order-1", "  ").is_err(),
        "a reason is needed"
    );
    assert!(a.order("nope-nope").is_err());
    assert_eq!(a.order("order-1")?.status, OrderStatus::Sent);
    a.order_accept("order-1", &[])?;
    assert!(a.order_accept("order-1", &[]).is_err(), "accepted twice");
    let before = a.sales(&Default::default())?.len();
    assert!(
        a.order_collect("order-1", &[cash(1)]).is_err(),
        "not enough paid"
    );
    assert_eq!(a.sales(&Default::default())?.len(), before, "no sale");
    assert_eq!(
        a.order("order-1")?.status,
        OrderStatus::Accepted,
        "not collected"
    );
    phone.cancel(&mut a, "order-1")?;
    assert!(a.order_ready("order-1").is_err(), "cancelled");
    verify_clean(&a)
}

#[test]
fn a_cancel_made_offline_while_the_shop_made_it_ready_cancels_but_never_a_collection() -> R {
    let dir = tempdir()?;
    let (mut a, _b) = shop(dir.path())?;
    let mut phone = CustomerDevice::new("c1");
    phone.send(&mut a, "order-1", &[("MILK", 1)])?;
    phone.send(&mut a, "order-2", &[("MILK", 1)])?;
    a.order_accept("order-1", &[])?;
    a.order_accept("order-2", &[])?;
    // The phone saw both accepted and cancels both, offline.
    let seen1 = a.order("order-1")?;
    let seen2 = a.order("order-2")?;
    a.order_ready("order-1")?;
    a.order_collect("order-2", &[cash(500)])?;
    for seen in [&seen1, &seen2] {
        shopsync_core::orders::customer_side::put_cancel(
            &mut phone.requests,
            seen,
            None,
            a.now_ms(),
        )?;
    }
    phone.requests.commit();
    phone.deliver(&mut a)?;
    assert_eq!(a.order("order-1")?.status, OrderStatus::Cancelled);
    assert_eq!(
        a.order("order-2")?.status,
        OrderStatus::Collected,
        "the goods were sold"
    );
    assert_eq!(stock_of(&a, "MILK")?, (9, 0, 9));
    verify_clean(&a)
}

#[test]
fn a_customer_cannot_cancel_a_ready_order_on_their_device() -> R {
    let dir = tempdir()?;
    let (mut a, _b) = shop(dir.path())?;
    let mut phone = CustomerDevice::new("c1");
    phone.send(&mut a, "order-1", &[("MILK", 1)])?;
    a.order_accept("order-1", &[])?;
    a.order_ready("order-1")?;
    assert!(phone.cancel(&mut a, "order-1").is_err());
    assert_eq!(a.order("order-1")?.status, OrderStatus::Ready);
    Ok(())
}

#[test]
fn order_records_in_the_wrong_document_or_malformed_are_refused() -> R {
    use automerge::{ROOT, ScalarValue, transaction::Transactable};
    use shopsync_core::ids::DocId;
    use shopsync_core::validate::validate_changes;
    let status = OrderRecord::Accept(Accept {
        order: "o1".into(),
        till: "t1".into(),
        at: 1,
        unavailable: vec![],
    });
    let put = |key: &str, value: ScalarValue| -> Vec<automerge::Change> {
        let mut doc = automerge::AutoCommit::new();
        let _ = doc.put(ROOT, key, value);
        doc.commit();
        doc.get_changes(&[])
    };
    let req = DocId::order_requests("s", "c");
    let st = DocId::order_status("s", "c");
    let bytes = ScalarValue::Bytes(status.encode()?);
    assert!(validate_changes(&st, &put("accept/o1", bytes.clone())).is_ok());
    assert!(
        validate_changes(&req, &put("accept/o1", bytes.clone())).is_err(),
        "a customer forging a status"
    );
    assert!(
        validate_changes(&st, &put("accept/o2", bytes)).is_err(),
        "key mismatch"
    );
    assert!(validate_changes(&st, &put("accept/o1", ScalarValue::Str("x".into()))).is_err());
    assert!(validate_changes(&req, &put("order/o1", ScalarValue::Bytes(vec![1, b'{']))).is_err());
    let mut bad_acc = status.clone();
    if let OrderRecord::Accept(a) = &mut bad_acc {
        a.unavailable = vec![0];
    }
    assert!(
        validate_changes(
            &st,
            &put("accept/o1", ScalarValue::Bytes(bad_acc.encode()?))
        )
        .is_err()
    );
    Ok(())
}

#[test]
fn the_public_catalog_shows_availability_after_reservations_and_nothing_internal() -> R {
    let dir = tempdir()?;
    let (mut a, _b) = shop(dir.path())?;
    let derive = |s: &shopsync_core::Store| {
        shopsync_core::public_catalog::derive(s.connection(), &s.info().store_id)
    };
    assert!(
        !derive(&a)?.published && derive(&a)?.products.is_empty(),
        "not published by default"
    );
    a.set_setting("publish", "true")?;
    assert!(a.set_setting("publish", "yes").is_err());
    let public = derive(&a)?;
    assert_eq!(public.products.len(), 2);
    let bread = public
        .products
        .iter()
        .find(|p| p.sku == "BREAD")
        .ok_or("bread")?;
    assert_eq!(
        (bread.availability, bread.count),
        (Availability::InStock, None)
    );
    let mut phone = CustomerDevice::new("c1");
    phone.send(&mut a, "order-1", &[("BREAD", 3)])?;
    a.order_accept("order-1", &[])?;
    a.set_setting("publish_detail", "count")?;
    let public = derive(&a)?;
    let bread = public
        .products
        .iter()
        .find(|p| p.sku == "BREAD")
        .ok_or("bread")?;
    assert_eq!(
        (bread.availability, bread.count),
        (Availability::Low, Some(2))
    );
    let json = serde_json::to_string(&public)?;
    assert!(!json.contains("cost") && !json.contains("supplier") && !json.contains("reorder"));

    // Written to a document and read back, the same; a second write of the
    // same catalog writes nothing.
    let mut doc = automerge::AutoCommit::new();
    assert!(shopsync_core::public_catalog::write(&mut doc, &public)? > 0);
    assert_eq!(shopsync_core::public_catalog::write(&mut doc, &public)?, 0);
    assert_eq!(
        shopsync_core::public_catalog::read(&doc, &public.store_id)?,
        public
    );
    Ok(())
}

#[test]
fn two_tills_collecting_one_order_offline_show_a_conflict() -> R {
    let dir = tempdir()?;
    let (mut a, mut b) = shop(dir.path())?;
    let mut phone = CustomerDevice::new("c1");
    phone.send(&mut a, "order-1", &[("MILK", 2)])?;
    a.order_accept("order-1", &[])?;
    phone.deliver(&mut b)?;
    send(&a, &mut b)?;
    // Both offline: each takes the money.
    let (_, sale_a) = a.order_collect("order-1", &[cash(500)])?;
    let (_, sale_b) = b.order_collect("order-1", &[cash(500)])?;
    send(&a, &mut b)?;
    send(&b, &mut a)?;
    for till in [&a, &b] {
        let o = till.order("order-1")?;
        assert_eq!(o.status, OrderStatus::Collected);
        let c = o.conflict.ok_or("the conflict is shown")?;
        assert!(
            c.contains(&sale_a.sale_id) && c.contains(&sale_b.sale_id),
            "{c}"
        );
        assert_eq!(stock_of(till, "MILK")?, (6, 0, 6), "both sales took stock");
    }
    assert_eq!(a.order("order-1")?, b.order("order-1")?);
    verify_clean(&a)?;
    verify_clean(&b)
}
