//! A customer's devices: lists kept offline on two device files and merged
//! through the changes they exchange (via the real `sync_once` against an
//! in-process server), pickup orders and their rules, public catalogs, and
//! bad input leaving the file as it was.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::R;
use common::customers::*;
use shopsync_core::customer_store::CustomerSyncConfig;
use shopsync_core::orders::records::{Accept, OrderRecord, Step};
use shopsync_core::sync::client::SyncError;
use shopsync_core::sync::customer_client::{
    CustomerNotice, WatchEnd, WatchOptions, search_shops, sync_once, watch,
};
use shopsync_core::sync::customer_wire::ShopListing;
use shopsync_core::types::{
    Availability, CustomerView, ItemWhat, OrderStatus, PublicCatalog, PublicProduct,
};
use shopsync_core::{CoreError, CustomerStore};

fn text(t: &str) -> ItemWhat {
    ItemWhat::Text { text: t.into() }
}

fn product(sku: &str, name: &str, price: i64, availability: Availability) -> PublicProduct {
    PublicProduct {
        sku: sku.into(),
        name: name.into(),
        price,
        barcode: None,
        category: Some("Dairy".into()),
        availability,
        count: None,
    }
}

fn corner_shop() -> PublicCatalog {
    PublicCatalog {
        store_id: SHOP_A.into(),
        name: "Corner Shop".into(),
        currency: "EUR".into(),
        published: true,
        products: vec![
            product("MILK", "Whole milk 1L", 199, Availability::InStock),
            product("BUTTER", "Butter 250g", 349, Availability::Low),
            product("EGGS", "Free-range eggs x6", 289, Availability::Out),
        ],
    }
}

/// Everything a failed operation must leave alone: the change log and what
/// the customer sees.
fn snapshot(s: &mut CustomerStore) -> Result<(i64, CustomerView, usize), CoreError> {
    let changes: i64 = s
        .connection()
        .query_row("SELECT COUNT(*) FROM doc_changes", [], |r| r.get(0))?;
    let orders = s.orders()?.len();
    Ok((changes, s.view()?, orders))
}

#[test]
fn lists_kept_offline_on_two_devices_merge_through_exchanged_changes() -> R {
    let dir = tempfile::tempdir()?;
    let server = FakeServer::default();
    let mut a = device(dir.path(), "phone")?;
    let mut b = device(dir.path(), "tablet")?;

    let list = a.new_list("Groceries")?;
    a.add_item("Groceries", &text("milk"), 1)?;
    a.add_item("groc", &text("bread"), 2)?;
    let up = sync_once(&mut a, &server)?;
    assert_eq!(up.acked, 3, "three local changes uploaded and acknowledged");
    assert_eq!(a.changes_waiting()?, 0);

    let down = sync_once(&mut b, &server)?;
    assert_eq!(down.received_new, 3);
    assert_eq!(b.list(&list.id)?.items.len(), 2);

    // Both offline: the phone changes milk's quantity and adds eggs, the
    // tablet ticks milk, renames the list and adds apples.
    a.set_qty("Groceries", "milk", 3)?;
    a.add_item("Groceries", &text("eggs"), 6)?;
    b.set_checked("Groceries", "mi", true)?;
    b.rename_list("Groceries", "Weekly groceries")?;
    b.add_item("Weekly", &text("apples"), 4)?;
    b.move_item("Weekly", "apples", 0)?;

    sync_once(&mut a, &server)?;
    sync_once(&mut b, &server)?;
    sync_once(&mut a, &server)?;
    let la = a.list(&list.id)?;
    let lb = b.list(&list.id)?;
    assert_eq!(la, lb, "both devices show the same list");
    assert_eq!(la.name, "Weekly groceries");
    let shown: Vec<(String, i64, bool)> = la
        .items
        .iter()
        .map(|i| match &i.what {
            ItemWhat::Text { text } => (text.clone(), i.qty, i.checked),
            ItemWhat::Product { sku, .. } => (sku.clone(), i.qty, i.checked),
        })
        .collect();
    assert_eq!(shown[0], ("apples".to_string(), 4, false));
    assert!(shown.contains(&("milk".to_string(), 3, true)), "{shown:?}");
    assert!(shown.contains(&("eggs".to_string(), 6, false)), "{shown:?}");
    assert!(
        shown.contains(&("bread".to_string(), 2, false)),
        "{shown:?}"
    );
    assert_eq!(shown.len(), 4);
    assert_eq!(a.changes_waiting()?, 0);
    assert_eq!(b.changes_waiting()?, 0);
    Ok(())
}

#[test]
fn lists_made_before_the_account_join_it() -> R {
    let dir = tempfile::tempdir()?;
    let server = FakeServer::default();
    let mut a = device(dir.path(), "phone")?;
    a.new_list("Saturday")?;
    a.add_item("Saturday", &text("flour"), 1)?;
    sync_once(&mut a, &server)?;

    // A new device keeps a list offline, then links to the account.
    let mut b = CustomerStore::create(&dir.path().join("laptop.db"))?;
    let local = b.customer_id().to_string();
    b.new_list("Party")?;
    b.add_item("Party", &text("balloons"), 10)?;
    b.send_order("Party", SHOP_B, None)?;
    assert!(matches!(
        sync_once(&mut b, &server),
        Err(SyncError::NoCustomerAccount)
    ));
    b.adopt_account(
        &CustomerSyncConfig {
            server: "http://127.0.0.1:1".into(),
            customer_id: CUSTOMER.into(),
            device_id: "laptop".into(),
            token: "laptop.secret".into(),
            allow_insecure_http: false,
        },
        None,
    )?;
    assert_ne!(local, CUSTOMER);
    assert_eq!(b.customer_id(), CUSTOMER);
    let old: i64 = b.connection().query_row(
        "SELECT COUNT(*) FROM documents WHERE doc_id LIKE '%' || ?1 || '%'",
        [&local],
        |r| r.get(0),
    )?;
    assert_eq!(old, 0, "nothing is left under the local id");
    assert_eq!(b.orders()?.len(), 1, "the order moved with the account");

    sync_once(&mut b, &server)?;
    sync_once(&mut a, &server)?;
    let names: Vec<String> = a.lists()?.into_iter().map(|l| l.name).collect();
    assert_eq!(names, vec!["Saturday", "Party"]);
    assert_eq!(b.lists()?.len(), 2);
    assert_eq!(a.orders()?.len(), 1, "the other device sees the order");

    // One account per device.
    let again = b.adopt_account(
        &CustomerSyncConfig {
            server: "http://127.0.0.1:1".into(),
            customer_id: "0190a0c0-0000-7000-8000-0000000000ff".into(),
            device_id: "x".into(),
            token: "x.y".into(),
            allow_insecure_http: false,
        },
        None,
    );
    assert!(matches!(again, Err(CoreError::Conflict(_))), "{again:?}");
    assert_eq!(b.customer_id(), CUSTOMER);
    Ok(())
}

#[test]
fn orders_are_sent_cancelled_and_refused_by_the_rules() -> R {
    let dir = tempfile::tempdir()?;
    let server = FakeServer::default();
    let mut a = device(dir.path(), "phone")?;
    server.publish(&corner_shop())?;
    a.add_favourite(SHOP_A)?;
    sync_once(&mut a, &server)?;

    a.new_list("Groceries")?;
    a.add_item("Groceries", &text("bread"), 2)?;
    a.add_item(
        "Groceries",
        &ItemWhat::Product {
            store_id: SHOP_A.into(),
            sku: "milk".into(),
        },
        3,
    )?;
    a.add_item(
        "Groceries",
        &ItemWhat::Product {
            store_id: SHOP_B.into(),
            sku: "SOAP".into(),
        },
        1,
    )?;
    a.add_item("Groceries", &text("ticked already"), 1)?;
    a.set_checked("Groceries", "ticked", true)?;

    let sent = a.send_order("Groceries", "Corner", Some("after 5pm"))?;
    assert_eq!(sent.left_out, 1, "another shop's product stays on the list");
    assert_eq!(sent.order.status, OrderStatus::Sent);
    assert_eq!(sent.order.store_id, SHOP_A);
    assert_eq!(sent.order.customer_name, "Ada");
    let lines: Vec<(Option<&str>, &str, i64)> = sent
        .order
        .lines
        .iter()
        .map(|l| (l.sku.as_deref(), l.text.as_str(), l.qty))
        .collect();
    assert_eq!(
        lines,
        vec![(None, "bread", 2), (Some("MILK"), "MILK", 3)],
        "the SKU as the shop spells it; the ticked item is left out"
    );
    sync_once(&mut a, &server)?;
    let doc = format!("store/{SHOP_A}/orders/{CUSTOMER}/requests");
    assert_eq!(server.with(|s| s.docs.get(&doc).map(Vec::len)), Some(1));

    // Cancelled while only sent; a second cancel is refused.
    let prefix = &sent.order.id[..sent.order.id.len() - 4];
    let c = a.cancel_order(prefix, Some("changed my mind"))?;
    assert_eq!(c.status, OrderStatus::Cancelled);
    assert_eq!(c.reason.as_deref(), Some("changed my mind"));
    let before = snapshot(&mut a)?;
    assert!(matches!(
        a.cancel_order(&sent.order.id, None),
        Err(CoreError::Conflict(_))
    ));
    assert_eq!(snapshot(&mut a)?, before);

    // A second order: the shop accepts it, then has it ready; from then on
    // it can no longer be cancelled.
    a.set_checked("Groceries", "ticked", false)?;
    let second = a.send_order("Groceries", SHOP_A, None)?;
    sync_once(&mut a, &server)?;
    server.shop_says(
        SHOP_A,
        &OrderRecord::Accept(Accept {
            order: second.order.id.clone(),
            till: "t1".into(),
            at: 1,
            unavailable: vec![2],
        }),
    )?;
    sync_once(&mut a, &server)?;
    let o = a.order(&second.order.id)?;
    assert_eq!(o.status, OrderStatus::Accepted);
    assert!(o.lines[1].unavailable);
    server.shop_says(
        SHOP_A,
        &OrderRecord::Ready(Step {
            order: second.order.id.clone(),
            till: "t1".into(),
            at: 2,
        }),
    )?;
    sync_once(&mut a, &server)?;
    assert_eq!(a.order(&second.order.id)?.status, OrderStatus::Ready);
    let before = snapshot(&mut a)?;
    let refused = a.cancel_order(&second.order.id, None);
    assert!(
        matches!(&refused, Err(CoreError::Conflict(m)) if m.contains("ready")),
        "{refused:?}"
    );
    assert_eq!(snapshot(&mut a)?, before);

    let all = a.orders()?;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].status, OrderStatus::Cancelled);

    // Nothing left to send: every item ticked off.
    a.new_list("Done")?;
    a.add_item("Done", &text("tea"), 1)?;
    a.set_checked("Done", "tea", true)?;
    let before = snapshot(&mut a)?;
    let empty = a.send_order("Done", SHOP_A, None);
    assert!(
        matches!(&empty, Err(CoreError::Invalid { field: Some(f), .. }) if f == "list"),
        "{empty:?}"
    );
    assert_eq!(snapshot(&mut a)?, before);
    Ok(())
}

#[test]
fn bad_input_gives_a_typed_error_and_changes_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let server = FakeServer::default();
    let mut a = device(dir.path(), "phone")?;
    server.publish(&corner_shop())?;
    a.add_favourite(SHOP_A)?;
    sync_once(&mut a, &server)?;
    a.new_list("Groceries")?;
    a.new_list("Grocery run")?;
    a.add_item("Groceries", &text("milk"), 1)?;
    a.add_item("Groceries", &text("mint"), 1)?;

    let before = snapshot(&mut a)?;
    type Op = Box<dyn Fn(&mut CustomerStore) -> Result<(), CoreError>>;
    let cases: Vec<(&str, Op, &str)> = vec![
        (
            "empty list name",
            Box::new(|s| s.new_list("  ").map(drop)),
            "invalid_input",
        ),
        (
            "rename to nothing",
            Box::new(|s| s.rename_list("Groceries", "").map(drop)),
            "invalid_input",
        ),
        (
            "ambiguous list",
            Box::new(|s| s.add_item("groc", &text("x"), 1).map(drop)),
            "invalid_input",
        ),
        (
            "unknown list",
            Box::new(|s| s.delete_list("Hardware").map(drop)),
            "not_found",
        ),
        (
            "quantity 0",
            Box::new(|s| s.add_item("Groceries", &text("x"), 0).map(drop)),
            "invalid_input",
        ),
        (
            "quantity too big",
            Box::new(|s| s.set_qty("Groceries", "milk", 10_001).map(drop)),
            "invalid_input",
        ),
        (
            "ambiguous item",
            Box::new(|s| s.set_checked("Groceries", "m", true).map(drop)),
            "invalid_input",
        ),
        (
            "unknown item",
            Box::new(|s| s.remove_item("Groceries", "bread").map(drop)),
            "not_found",
        ),
        (
            "move past the end",
            Box::new(|s| s.move_item("Groceries", "milk", 2).map(drop)),
            "invalid_input",
        ),
        (
            "control characters",
            Box::new(|s| s.add_item("Groceries", &text("a\u{1b}[2J"), 1).map(drop)),
            "invalid_input",
        ),
        (
            "SKU not in the synced catalog",
            Box::new(|s| {
                s.add_item(
                    "Groceries",
                    &ItemWhat::Product {
                        store_id: SHOP_A.into(),
                        sku: "NOPE".into(),
                    },
                    1,
                )
                .map(drop)
            }),
            "not_found",
        ),
        (
            "bad store id",
            Box::new(|s| {
                s.add_item(
                    "Groceries",
                    &ItemWhat::Product {
                        store_id: "../x".into(),
                        sku: "MILK".into(),
                    },
                    1,
                )
                .map(drop)
            }),
            "invalid_input",
        ),
        (
            "unknown shop",
            Box::new(|s| s.add_favourite("Nowhere").map(drop)),
            "invalid_input",
        ),
        (
            "not a favourite",
            Box::new(|s| s.remove_favourite(SHOP_B).map(drop)),
            "not_found",
        ),
        (
            "bad e-mail",
            Box::new(|s| s.set_email(Some("not an address")).map(drop)),
            "invalid_input",
        ),
        (
            "unknown order",
            Box::new(|s| s.cancel_order("0190", None).map(drop)),
            "not_found",
        ),
        (
            "note too long",
            Box::new(|s| {
                s.send_order("Groceries", SHOP_A, Some(&"n".repeat(1001)))
                    .map(drop)
            }),
            "invalid_input",
        ),
    ];
    for (what, op, code) in cases {
        let err = op(&mut a).err();
        let got = err.as_ref().map(|e| format!("{:?}", e.code()));
        assert_eq!(
            got.as_deref().map(|g| g.to_lowercase().replace('_', "")),
            Some(code.replace('_', "")),
            "{what}: {err:?}"
        );
        assert_eq!(snapshot(&mut a)?, before, "{what} changed something");
    }
    Ok(())
}

#[test]
fn a_catalog_is_read_offline_and_says_when_it_was_never_synced() -> R {
    let dir = tempfile::tempdir()?;
    let server = FakeServer::default();
    server.with(|s| {
        s.shops = vec![
            ShopListing {
                store_id: SHOP_A.into(),
                name: "Corner Shop".into(),
            },
            ShopListing {
                store_id: SHOP_B.into(),
                name: "Bakery".into(),
            },
        ]
    });
    let mut a = device(dir.path(), "phone")?;
    let found = search_shops(&mut a, &server, Some("corner"))?;
    assert_eq!(found.len(), 1);

    let never = a.catalog("Corner Shop", None)?;
    assert!(!never.synced);
    assert!(never.catalog.products.is_empty());
    let followed: Vec<String> = a.followed()?.iter().map(ToString::to_string).collect();
    assert!(
        followed.contains(&format!("store/{SHOP_A}/public")),
        "a shop looked at is followed: {followed:?}"
    );

    server.publish(&corner_shop())?;
    sync_once(&mut a, &server)?;
    let seen = a.catalog("corner", None)?;
    assert!(seen.synced);
    assert_eq!(seen.catalog.name, "Corner Shop");
    assert_eq!(seen.catalog.products.len(), 3);
    let low = a.catalog(SHOP_A, Some("butt"))?;
    assert_eq!(low.catalog.products.len(), 1);
    assert_eq!(low.catalog.products[0].availability, Availability::Low);

    // Offline (the server refuses everything): still readable.
    server.with(|s| s.fail_with = Some(503));
    assert!(sync_once(&mut a, &server).is_err());
    assert_eq!(
        a.catalog("Corner Shop", Some("milk"))?.catalog.products[0].price,
        199
    );
    Ok(())
}

#[test]
fn a_document_that_does_not_apply_does_not_stop_the_others() -> R {
    let dir = tempfile::tempdir()?;
    let server = FakeServer::default();
    let mut a = device(dir.path(), "phone")?;
    let mut b = device(dir.path(), "tablet")?;
    a.add_favourite(SHOP_A)?;
    a.new_list("Groceries")?;
    sync_once(&mut a, &server)?;
    server.publish(&corner_shop())?;
    let public = format!("store/{SHOP_A}/public");
    server.with(|s| {
        s.garble.insert(public.clone());
        s.page = Some(1);
    });

    let r = sync_once(&mut b, &server)?;
    assert_eq!(r.failed.len(), 1, "{r:?}");
    assert_eq!(r.failed[0].doc_id, public);
    assert_eq!(b.lists()?.len(), 1, "the customer's own document arrived");
    assert!(r.round_trips > 1, "pages were asked again while `more`");
    assert!(!b.catalog(SHOP_A, None)?.synced, "its cursor did not move");

    server.with(|s| s.garble.clear());
    sync_once(&mut b, &server)?;
    assert_eq!(b.catalog(SHOP_A, None)?.catalog.products.len(), 3);
    Ok(())
}

#[test]
fn watch_syncs_on_notices_and_stops_when_revoked() -> R {
    let dir = tempfile::tempdir()?;
    let server = FakeServer::default();
    let mut a = device(dir.path(), "phone")?;
    server.with(|s| {
        s.notices = [CustomerNotice::Changed("x".into()), CustomerNotice::Revoked]
            .into_iter()
            .collect()
    });
    let opts = WatchOptions {
        every: Duration::from_secs(600),
        ..WatchOptions::default()
    };
    let mut attempts = 0;
    let end = watch(&mut a, &server, &opts, |r| {
        assert!(r.is_ok(), "{r:?}");
        attempts += 1;
    })?;
    assert_eq!(end, WatchEnd::Revoked);
    assert!(attempts >= 1);

    // A 401 from the sync itself stops it too.
    server.with(|s| s.fail_with = Some(401));
    let end = watch(&mut a, &server, &opts, |r| assert!(r.is_err()))?;
    assert_eq!(end, WatchEnd::Revoked);

    // And `stop` ends it (offline: the server answers 503).
    server.with(|s| s.fail_with = Some(503));
    let stop = Arc::new(AtomicBool::new(true));
    let end = watch(
        &mut a,
        &server,
        &WatchOptions {
            stop,
            ..opts.clone()
        },
        |_| {},
    )?;
    assert_eq!(end, WatchEnd::Stopped);
    Ok(())
}
