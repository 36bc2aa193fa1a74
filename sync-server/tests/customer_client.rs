//! A customer's devices through the real client (`CustomerStore`,
//! `customer_account`, `customer_client`) against the real server process:
//! sign-up and linking, lists kept offline on two devices converging through
//! the server, lists made before the account, orders to a shop's tills and
//! back, catalogs, bad input, and `watch` ending on `revoked` and on `stop`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use shopsync_core::sync::client::SyncError;
use shopsync_core::sync::customer_account;
use shopsync_core::sync::customer_client::{
    CustomerClient, WatchEnd, WatchOptions, search_shops, sync_once, watch,
};
use shopsync_core::types::{Availability, CustomerView, ItemWhat, OrderStatus};
use shopsync_core::{CoreError, CustomerStore};

/// A shop id no server knows.
const NO_SHOP: &str = "0190a0c0-0000-7000-8000-00000000b001";

fn text(t: &str) -> ItemWhat {
    ItemWhat::Text { text: t.into() }
}

/// Everything a failed operation must leave alone: the change log and what
/// the customer sees.
fn snapshot(s: &mut CustomerStore) -> (i64, CustomerView, usize) {
    let changes: i64 = s
        .connection()
        .query_row("SELECT COUNT(*) FROM doc_changes", [], |r| r.get(0))
        .unwrap();
    let orders = s.orders().unwrap().len();
    (changes, s.view().unwrap(), orders)
}

/// Syncs the device until its copy of `store`'s public catalog has products.
fn wait_for_catalog(s: &mut CustomerStore, store: &str) {
    wait_for("the public catalog", || {
        customer_sync(s).unwrap();
        let c = s.catalog(store, None).unwrap();
        c.synced && !c.catalog.products.is_empty()
    });
}

#[test]
fn two_devices_sign_up_link_and_keep_one_list_offline() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server.db"));
    let mut a = customer_signup(&server.url, &dir.path().join("phone.db"), "Ada");
    let acct = a.account()?;
    assert!(acct.signed_up);
    assert_eq!(acct.name.as_deref(), Some("Ada"));
    assert_eq!(acct.server.as_deref(), Some(server.url.as_str()));

    let mut b = customer_link(&server.url, &a, &dir.path().join("tablet.db"));
    assert_eq!(b.customer_id(), a.customer_id(), "one account");
    assert_ne!(b.account()?.device_id, acct.device_id, "two devices");
    let me = CustomerClient::for_store(&b)?.me()?;
    assert_eq!((me.name.as_str(), me.devices.len()), ("Ada", 2));
    // The profile written at sign-up reaches the linked device.
    customer_sync(&mut a)?;
    customer_sync(&mut b)?;
    assert_eq!(b.profile()?.name.as_deref(), Some("Ada"));

    let list = a.new_list("Groceries")?;
    a.add_item("Groceries", &text("milk"), 1)?;
    a.add_item("groc", &text("bread"), 2)?;
    let up = customer_sync(&mut a)?;
    assert_eq!(up.acked, 3, "three local changes uploaded and acknowledged");
    assert_eq!(a.changes_waiting()?, 0);

    let down = customer_sync(&mut b)?;
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

    customer_sync(&mut a)?;
    customer_sync(&mut b)?;
    customer_sync(&mut a)?;
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
    let mut shop = shop(3);
    publish(&mut shop);
    let url = shop.server.url.clone();
    let store = shop.store_id.clone();
    let dir = shop.dir.path().to_path_buf();
    let mut a = customer_signup(&url, &dir.join("phone.db"), "Ada");
    a.new_list("Saturday")?;
    a.add_item("Saturday", &text("flour"), 1)?;
    customer_sync(&mut a)?;

    // A new device keeps a list offline and sends an order, then links to
    // the account.
    let mut b = CustomerStore::create(&dir.join("laptop.db"))?;
    let local = b.customer_id().to_string();
    b.new_list("Party")?;
    b.add_item("Party", &text("balloons"), 10)?;
    b.send_order("Party", &store, None)?;
    assert!(matches!(
        sync_once(&mut b, &customer_client(&url)),
        Err(SyncError::NoCustomerAccount)
    ));
    let code = customer_link_code(&a);
    customer_account::link(&mut b, &customer_client(&url), &code, false)?;
    assert_ne!(local, a.customer_id());
    assert_eq!(b.customer_id(), a.customer_id());
    let old: i64 = b.connection().query_row(
        "SELECT COUNT(*) FROM documents WHERE doc_id LIKE '%' || ?1 || '%'",
        [&local],
        |r| r.get(0),
    )?;
    assert_eq!(old, 0, "nothing is left under the local id");
    assert_eq!(b.orders()?.len(), 1, "the order moved with the account");

    customer_sync(&mut b)?;
    customer_sync(&mut a)?;
    let names: Vec<String> = a.lists()?.into_iter().map(|l| l.name).collect();
    assert_eq!(names, vec!["Saturday", "Party"]);
    assert_eq!(b.lists()?.len(), 2);
    assert_eq!(a.orders()?.len(), 1, "the other device sees the order");
    sync(&mut shop.a)?;
    let at_till = shop.a.orders(false)?;
    assert_eq!(at_till.len(), 1, "the shop has the order");
    assert_eq!(at_till[0].lines[0].text, "balloons");

    // One account per device: linking again is refused, nothing changes.
    let code = customer_link_code(&a);
    let again = customer_account::link(&mut b, &customer_client(&url), &code, false);
    assert!(
        matches!(again, Err(SyncError::Core(CoreError::Conflict(_)))),
        "{again:?}"
    );
    assert_eq!(b.customer_id(), a.customer_id());
    Ok(())
}

#[test]
fn an_order_goes_to_the_tills_and_back_and_cannot_be_cancelled_once_ready() -> R {
    let mut shop = shop(10);
    let url = shop.server.url.clone();
    let store = shop.store_id.clone();
    publish(&mut shop);
    let mut a = customer_signup(&url, &shop.dir.path().join("phone.db"), "Ada");
    a.add_favourite(&store)?;
    wait_for_catalog(&mut a, &store);

    a.new_list("Groceries")?;
    a.add_item("Groceries", &text("bread"), 2)?;
    a.add_item(
        "Groceries",
        &ItemWhat::Product {
            store_id: store.clone(),
            sku: "p".into(),
        },
        3,
    )?;
    a.add_item(
        "Groceries",
        &ItemWhat::Product {
            store_id: NO_SHOP.into(),
            sku: "SOAP".into(),
        },
        1,
    )?;
    a.add_item("Groceries", &text("ticked already"), 1)?;
    a.set_checked("Groceries", "ticked", true)?;

    let sent = a.send_order("Groceries", "Corner", Some("after 5pm"))?;
    assert_eq!(sent.left_out, 1, "another shop's product stays on the list");
    assert_eq!(sent.order.status, OrderStatus::Sent);
    assert_eq!(sent.order.store_id, store);
    assert_eq!(sent.order.customer_name, "Ada");
    let lines: Vec<(Option<&str>, &str, i64)> = sent
        .order
        .lines
        .iter()
        .map(|l| (l.sku.as_deref(), l.text.as_str(), l.qty))
        .collect();
    assert_eq!(
        lines,
        vec![(None, "bread", 2), (Some("P"), "P", 3)],
        "the SKU as the shop spells it; the ticked item is left out"
    );
    customer_sync(&mut a)?;
    sync(&mut shop.a)?;
    let seen = shop.a.order(&sent.order.id)?;
    assert_eq!(
        (seen.status, seen.customer_name.as_str(), seen.lines.len()),
        (OrderStatus::Sent, "Ada", 2)
    );

    // Cancelled while only sent; a second cancel is refused; the till sees
    // the cancel.
    let prefix = &sent.order.id[..sent.order.id.len() - 4];
    let c = a.cancel_order(prefix, Some("changed my mind"))?;
    assert_eq!(c.status, OrderStatus::Cancelled);
    assert_eq!(c.reason.as_deref(), Some("changed my mind"));
    let before = snapshot(&mut a);
    assert!(matches!(
        a.cancel_order(&sent.order.id, None),
        Err(CoreError::Conflict(_))
    ));
    assert_eq!(snapshot(&mut a), before);
    customer_sync(&mut a)?;
    sync(&mut shop.a)?;
    assert_eq!(shop.a.order(&sent.order.id)?.status, OrderStatus::Cancelled);

    // A second order: till A accepts it (the third line unavailable), till
    // B reserves its goods, till A has it ready; from then on the customer
    // can no longer cancel it.
    a.set_checked("Groceries", "ticked", false)?;
    let second = a.send_order("Groceries", &store, None)?;
    let id = second.order.id.clone();
    customer_sync(&mut a)?;
    sync(&mut shop.a)?;
    shop.a.order_accept(&id, &["3".into()])?;
    sync(&mut shop.a)?;
    customer_sync(&mut a)?;
    let o = a.order(&id)?;
    assert_eq!(o.status, OrderStatus::Accepted);
    assert!(o.lines[2].unavailable);
    assert!(!o.lines[1].unavailable);
    sync(&mut shop.b)?;
    let l = shop.b.stock_levels(Some("P"), false)?;
    assert_eq!((l[0].on_hand, l[0].reserved, l[0].available), (10, 3, 7));

    shop.a.order_ready(&id)?;
    sync(&mut shop.a)?;
    customer_sync(&mut a)?;
    assert_eq!(a.order(&id)?.status, OrderStatus::Ready);
    let before = snapshot(&mut a);
    let refused = a.cancel_order(&id, None);
    assert!(
        matches!(&refused, Err(CoreError::Conflict(m)) if m.contains("ready")),
        "{refused:?}"
    );
    assert_eq!(snapshot(&mut a), before);

    let all = a.orders()?;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].status, OrderStatus::Cancelled);

    // Nothing left to send: every item ticked off.
    a.new_list("Done")?;
    a.add_item("Done", &text("tea"), 1)?;
    a.set_checked("Done", "tea", true)?;
    let before = snapshot(&mut a);
    let empty = a.send_order("Done", &store, None);
    assert!(
        matches!(&empty, Err(CoreError::Invalid { field: Some(f), .. }) if f == "list"),
        "{empty:?}"
    );
    assert_eq!(snapshot(&mut a), before);
    Ok(())
}

#[test]
fn bad_input_gives_a_typed_error_and_changes_nothing() -> R {
    let mut shop = shop(3);
    let url = shop.server.url.clone();
    let store = shop.store_id.clone();
    publish(&mut shop);
    let mut a = customer_signup(&url, &shop.dir.path().join("phone.db"), "Ada");
    a.add_favourite(&store)?;
    wait_for_catalog(&mut a, &store);
    a.new_list("Groceries")?;
    a.new_list("Grocery run")?;
    a.add_item("Groceries", &text("milk"), 1)?;
    a.add_item("Groceries", &text("mint"), 1)?;

    let before = snapshot(&mut a);
    type Op = Box<dyn Fn(&mut CustomerStore) -> Result<(), CoreError>>;
    let shop_id = store.clone();
    let shop_id2 = store.clone();
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
            Box::new(move |s| {
                s.add_item(
                    "Groceries",
                    &ItemWhat::Product {
                        store_id: shop_id.clone(),
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
                        sku: "P".into(),
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
            Box::new(|s| s.remove_favourite(NO_SHOP).map(drop)),
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
            Box::new(move |s| {
                s.send_order("Groceries", &shop_id2, Some(&"n".repeat(1001)))
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
        assert_eq!(snapshot(&mut a), before, "{what} changed something");
    }
    Ok(())
}

#[test]
fn a_catalog_never_synced_then_synced_and_read_offline() -> R {
    let mut shop = shop(10);
    let url = shop.server.url.clone();
    let store = shop.store_id.clone();
    let mut a = customer_signup(&url, &shop.dir.path().join("phone.db"), "Ada");
    let client = CustomerClient::for_store(&a)?;
    assert!(
        search_shops(&mut a, &client, Some("corner"))?.is_empty(),
        "a shop that does not publish is not listed"
    );

    publish(&mut shop);
    wait_for("the shop is listed", || {
        search_shops(&mut a, &client, Some("corner")).unwrap().len() == 1
    });
    let never = a.catalog("Corner Shop", None)?;
    assert!(!never.synced);
    assert!(never.catalog.products.is_empty());
    let followed: Vec<String> = a.followed()?.iter().map(ToString::to_string).collect();
    assert!(
        followed.contains(&format!("store/{store}/public")),
        "a shop looked at is followed: {followed:?}"
    );

    wait_for_catalog(&mut a, &store);
    let seen = a.catalog("corner", None)?;
    assert!(seen.synced);
    assert_eq!(seen.catalog.name, "Corner Shop");
    assert_eq!(seen.catalog.products.len(), 1);
    let p = a.catalog(&store, Some("produ"))?;
    assert_eq!(p.catalog.products.len(), 1);
    assert_eq!(p.catalog.products[0].availability, Availability::InStock);

    // Offline (the server is gone): still readable.
    shop.server.kill();
    assert!(customer_sync(&mut a).is_err());
    assert_eq!(
        a.catalog("Corner Shop", Some("P"))?.catalog.products[0].price,
        100
    );
    Ok(())
}

#[test]
fn watch_ends_when_stopped_and_when_the_device_is_revoked() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server.db"));
    let mut a = customer_signup(&server.url, &dir.path().join("phone.db"), "Ada");
    let mut b = customer_link(&server.url, &a, &dir.path().join("tablet.db"));
    customer_sync(&mut a)?;
    customer_sync(&mut b)?;
    let client = CustomerClient::for_store(&a)?;

    // `stop`, set after the first sync.
    let stop = Arc::new(AtomicBool::new(false));
    let opts = WatchOptions {
        every: Duration::from_secs(600),
        stop: stop.clone(),
        ..WatchOptions::default()
    };
    let mut attempts = 0;
    let end = watch(&mut a, &client, &opts, |r| {
        assert!(r.is_ok(), "{r:?}");
        attempts += 1;
        stop.store(true, Ordering::SeqCst);
    })?;
    assert_eq!((end, attempts), (WatchEnd::Stopped, 1));

    // The tablet adds a list while the phone watches: the phone syncs it
    // in; then the phone is revoked (the admin command) and watch ends.
    let device = a.account()?.device_id.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let opts = WatchOptions {
        every: Duration::from_secs(2),
        stop: stop.clone(),
        ..WatchOptions::default()
    };
    // Never hang: a watch still running after 30 s is stopped (and fails).
    let watchdog = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(30));
        watchdog.store(true, Ordering::SeqCst);
    });
    let mut revoked = false;
    let mut first = true;
    let end = watch(&mut a, &client, &opts, |r| {
        if revoked {
            return;
        }
        let report = r.as_ref().expect("syncs succeed until revoked");
        if first {
            first = false;
            b.new_list("From the tablet").unwrap();
            customer_sync(&mut b).unwrap();
        } else if report.received_new > 0 {
            let out = server.admin(&["device", "revoke", &device]);
            assert_eq!(out["revoked"], true);
            revoked = true;
        }
    })?;
    assert!(revoked, "the tablet's list never arrived");
    assert_eq!(end, WatchEnd::Revoked);
    let names: Vec<String> = a.lists()?.into_iter().map(|l| l.name).collect();
    assert_eq!(names, vec!["From the tablet"]);
    assert!(matches!(
        customer_sync(&mut a),
        Err(e) if e.is_unauthorized()
    ));
    Ok(())
}

/// The server restored from a backup taken before some of a customer's
/// changes: the device notices the new epoch, sends everything again and
/// keeps syncing (its later edits depend on changes the server lost).
#[test]
fn a_customer_device_recovers_from_a_restored_server() {
    if skip_on_postgres(
        "`backup` and `restore` copy SQLite files (PostgreSQL: pg_dump, docs/OPERATIONS.md)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("server.db"));
    let mut phone = customer_signup(&server.url, &dir.path().join("phone.db"), "Ana");
    let weekly = phone.new_list("Weekly").unwrap();
    customer_sync(&mut phone).unwrap();
    let backup = dir.path().join("backup.db");
    server.admin(&["backup", backup.to_str().unwrap()]);
    phone.add_item(&weekly.id, &text("milk"), 2).unwrap();
    let party = phone.new_list("Party").unwrap();
    let report = customer_sync(&mut phone).unwrap();
    assert!(report.acked > 0 && !report.server_restored);

    server.kill();
    admin(&server.db, &["restore", backup.to_str().unwrap()]);
    let addr = server.addr.clone();
    server = Server::start_on(&server.db, &addr);
    // An edit on top of changes the restored server never had.
    phone.add_item(&party.id, &text("balloons"), 10).unwrap();
    let report = customer_sync(&mut phone).unwrap();
    assert!(report.server_restored, "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(phone.changes_waiting().unwrap(), 0);
    // A new device sees everything: nothing was lost.
    let mut laptop = customer_link(&server.url, &phone, &dir.path().join("laptop.db"));
    customer_sync(&mut laptop).unwrap();
    let lists = laptop.lists().unwrap();
    let names: Vec<&str> = lists.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Weekly", "Party"]);
    assert_eq!(laptop.list("Party").unwrap().items.len(), 1);
    assert_eq!(laptop.list("Weekly").unwrap().items.len(), 1);
}

fn product(store: &str, sku: &str) -> ItemWhat {
    ItemWhat::Product {
        store_id: store.into(),
        sku: sku.into(),
    }
}

/// Issue 8's whole story with the engine the customer CLI runs, two
/// customer devices and two tills of one shop against one server: a list
/// kept on two devices offline converges, the customer sees the shop's
/// catalog and a sale change it within 5 s, the list goes to the shop, till
/// 1 accepts it with one line unavailable, till 2 shows the reservation,
/// till 1 has it ready and the customer sees "ready", till 2 collects and
/// takes the money, and stock and the Z report agree on both tills.
#[test]
fn the_whole_way_of_a_pickup_order() -> R {
    let mut shop = shop(10);
    shop.a.add_product(shopsync_core::NewProduct {
        sku: "Q".into(),
        name: "Product Q".into(),
        price: 250,
        ..Default::default()
    })?;
    shop.a.receive(
        None,
        &[shopsync_core::ReceiveLine {
            code: "Q".into(),
            qty: 5,
            unit_cost: None,
        }],
    )?;
    publish(&mut shop);
    sync(&mut shop.b)?;
    let url = shop.server.url.clone();
    let store = shop.store_id.clone();
    let dir = shop.dir.path().to_path_buf();
    let mut phone = customer_signup(&url, &dir.join("phone.db"), "Ana");
    let mut laptop = customer_link(&url, &phone, &dir.join("laptop.db"));

    // The shop is found by name and its catalog arrives.
    let client = CustomerClient::for_store(&phone)?;
    let found = search_shops(&mut phone, &client, Some("corner"))?;
    assert!(found.iter().any(|s| s.store_id == store), "{found:?}");
    phone.add_favourite("Corner Shop")?;
    wait_for_catalog(&mut phone, &store);
    let p = |s: &mut CustomerStore| -> Availability {
        s.catalog(&store, None)
            .unwrap()
            .catalog
            .products
            .iter()
            .find(|p| p.sku == "P")
            .unwrap()
            .availability
    };
    assert_eq!(p(&mut phone), Availability::InStock);

    // One list on two devices, edited offline on both.
    phone.new_list("Weekly")?;
    phone.add_item("Weekly", &product(&store, "P"), 2)?;
    customer_sync(&mut phone)?;
    customer_sync(&mut laptop)?;
    phone.set_qty("Weekly", "P", 1)?;
    laptop.add_item("Weekly", &product(&store, "Q"), 1)?;
    laptop.add_item("Weekly", &text("basil"), 1)?;
    for _ in 0..2 {
        customer_sync(&mut laptop)?;
        customer_sync(&mut phone)?;
    }
    assert_eq!(phone.list("Weekly")?, laptop.list("Weekly")?);
    assert_eq!(phone.list("Weekly")?.items.len(), 3);

    // A sale at till 2 leaves 2 of P: the customer sees "low" within 5 s.
    sell(&mut shop.b, 5, 8);
    sync(&mut shop.b)?;
    wait_for("the sale in the customer's catalog", || {
        customer_sync(&mut phone).unwrap();
        p(&mut phone) == Availability::Low
    });

    // The list goes to the shop; till 1 accepts it without Q.
    let sent = phone.send_order("Weekly", &store, Some("after 5pm"))?;
    customer_sync(&mut phone)?;
    sync(&mut shop.a)?;
    let at_a = shop.a.order(&sent.order.id)?;
    assert_eq!((at_a.customer_name.as_str(), at_a.lines.len()), ("Ana", 3));
    shop.a.order_accept(&sent.order.id, &["Q".into()])?;
    sync(&mut shop.a)?;
    // Till 2 shows the reservation.
    sync(&mut shop.b)?;
    let levels = shop.b.stock_levels(Some("P"), false)?;
    assert_eq!(
        (levels[0].on_hand, levels[0].reserved, levels[0].available),
        (2, 1, 1)
    );
    // Ready at till 1; the customer's other device sees it.
    shop.a.order_ready(&sent.order.id)?;
    sync(&mut shop.a)?;
    customer_sync(&mut laptop)?;
    let seen = laptop.order(&sent.order.id)?;
    assert_eq!(seen.status, OrderStatus::Ready);
    assert!(
        seen.lines
            .iter()
            .any(|l| l.sku.as_deref() == Some("Q") && l.unavailable)
    );

    // Collected and paid at till 2.
    sync(&mut shop.b)?;
    let (done, receipt) = shop.b.order_collect(
        &sent.order.id,
        &[shopsync_core::TenderInput {
            kind: shopsync_core::types::TenderKind::Cash,
            amount: 500,
        }],
    )?;
    assert_eq!(
        (done.status, receipt.total.minor, receipt.change.minor),
        (OrderStatus::Collected, 100, 400)
    );
    sync(&mut shop.b)?;
    sync(&mut shop.a)?;
    customer_sync(&mut phone)?;
    assert_eq!(phone.order(&sent.order.id)?.status, OrderStatus::Collected);
    for till in [&shop.a, &shop.b] {
        let l = till.stock_levels(Some("P"), false)?;
        assert_eq!((l[0].on_hand, l[0].reserved), (1, 0));
    }
    let day = t0().date_naive();
    assert_eq!(shop.a.z_report(day)?, shop.b.z_report(day)?);
    assert_eq!(shop.a.z_report(day)?.sales_count, 2);
    assert_same(&[&shop.a, &shop.b]);
    Ok(())
}
