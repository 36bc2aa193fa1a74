//! A customer's sync against the real server (issue 8): the public catalog
//! the server derives from a shop's tills, live availability after a sale,
//! an order's way from the customer to the tills and back, notices, and
//! every refusal (another customer's documents, a store's own documents,
//! forged statuses, bad bodies) changing nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use automerge::AutoCommit;
use common::*;
use serde_json::{Value, json};
use shopsync_core::ids::DocId;
use shopsync_core::orders::customer_side;
use shopsync_core::orders::records::{OrderRequest, RequestLine};
use shopsync_core::sync::customer_wire::{decode_change, encode_change};
use shopsync_core::types::{Availability, OrderStatus, PublicCatalog};

/// A customer's device without a local store: documents in memory and a
/// cursor for each.
struct Device {
    url: String,
    token: String,
    customer: String,
    docs: std::collections::BTreeMap<String, (AutoCommit, u64, usize)>,
}

impl Device {
    fn sign_up(url: &str, name: &str) -> Device {
        let v = sign_up(url, name, "phone");
        Device {
            url: url.into(),
            token: v["token"].as_str().unwrap().into(),
            customer: v["customer_id"].as_str().unwrap().into(),
            docs: Default::default(),
        }
    }

    fn doc(&mut self, id: &DocId) -> &mut AutoCommit {
        &mut self
            .docs
            .entry(id.to_string())
            .or_insert_with(|| (AutoCommit::new(), 0, 0))
            .0
    }

    /// One sync of `ids` (uploading what is new locally). Status and answer.
    fn sync(&mut self, ids: &[DocId]) -> (u16, Value) {
        let mut docs = Vec::new();
        for id in ids {
            let (doc, since, sent) = self
                .docs
                .entry(id.to_string())
                .or_insert_with(|| (AutoCommit::new(), 0, 0));
            let changes: Vec<String> = doc
                .get_changes(&[])
                .into_iter()
                .skip(*sent)
                .map(|mut c| encode_change(&c.bytes()))
                .collect();
            docs.push(json!({ "doc_id": id.to_string(), "since": since, "changes": changes }));
        }
        let (status, v) = post_json(
            &self.url,
            "/v1/customer/sync",
            Some(&self.token),
            &json!({ "protocol": 1, "docs": docs, "refusals": true }),
        );
        if status == 200 {
            for (id, answer) in ids.iter().zip(v["docs"].as_array().unwrap()) {
                let entry = self.docs.get_mut(&id.to_string()).unwrap();
                if answer.get("refused").is_some() {
                    // Not stored: this test device sends them again.
                    continue;
                }
                let changes: Vec<automerge::Change> = answer["changes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| {
                        automerge::Change::from_bytes(decode_change(c.as_str().unwrap()).unwrap())
                            .unwrap()
                    })
                    .collect();
                entry.0.apply_changes(changes).unwrap();
                entry.1 = answer["cursor"].as_u64().unwrap();
                entry.2 = entry.0.get_changes(&[]).len();
            }
        }
        (status, v)
    }

    fn catalog(&mut self, store: &str) -> PublicCatalog {
        let id = DocId::Public {
            store: store.into(),
        };
        assert_eq!(self.sync(std::slice::from_ref(&id)).0, 200);
        shopsync_core::public_catalog::read(self.doc(&id), store).unwrap()
    }
}

/// Why the server refused the first document of an answer, if it did.
fn refused(answer: &Value) -> String {
    answer["docs"][0]["refused"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_default()
}

fn availability(c: &PublicCatalog, sku: &str) -> Option<(Availability, Option<i64>)> {
    c.products
        .iter()
        .find(|p| p.sku == sku)
        .map(|p| (p.availability, p.count))
}

#[test]
fn a_customer_sees_the_live_catalog_and_an_order_goes_to_the_shop_and_back() {
    let mut shop = shop(10);
    let store = shop.store_id.clone();
    let mut ana = Device::sign_up(&shop.server.url, "Ana");

    // Not published yet: not listed, and the public catalog is empty.
    shop.a.set_setting("publish", "true").unwrap();
    shop.a.set_setting("publish_detail", "count").unwrap();
    sync(&mut shop.a).unwrap();
    wait_for("the shop is listed", || {
        let (s, v) = get_json(
            &shop.server.url,
            "/v1/shops?search=corner",
            Some(&ana.token),
        );
        s == 200
            && v["shops"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["store_id"] == store.as_str())
    });
    wait_for("the catalog shows P", || {
        availability(&ana.catalog(&store), "P") == Some((Availability::InStock, Some(10)))
    });
    let cat = ana.catalog(&store);
    assert_eq!(
        (cat.name.as_str(), cat.currency.as_str(), cat.published),
        ("Corner Shop", "EUR", true)
    );
    assert_eq!(cat.products[0].price, 100);

    // A sale at till B: the customer sees it within 5 s.
    sync(&mut shop.b).unwrap();
    sell(&mut shop.b, 5, 8);
    sync(&mut shop.b).unwrap();
    let took = wait_for("availability after the sale", || {
        availability(&ana.catalog(&store), "P") == Some((Availability::Low, Some(2)))
    });
    eprintln!("sale synced -> customer saw it in {took:?}");

    // Ana orders 1 P and something free-text.
    let requests = DocId::order_requests(&store, &ana.customer);
    let status = DocId::order_status(&store, &ana.customer);
    customer_side::put_order(
        ana.doc(&requests),
        OrderRequest {
            id: "order-0001".into(),
            customer_name: "Ana".into(),
            list_id: None,
            list_name: "Weekend".into(),
            note: Some("after 5pm".into()),
            sent_at: 1,
            lines: vec![
                RequestLine {
                    line: 1,
                    sku: Some("P".into()),
                    text: "P".into(),
                    qty: 1,
                },
                RequestLine {
                    line: 2,
                    sku: None,
                    text: "bread".into(),
                    qty: 1,
                },
            ],
        },
    )
    .unwrap();
    ana.doc(&requests).commit();
    assert_eq!(ana.sync(&[requests.clone(), status.clone()]).0, 200);

    sync(&mut shop.a).unwrap();
    let order = shop.a.order("order-0001").unwrap();
    assert_eq!(
        (order.status, order.customer_name.as_str()),
        (OrderStatus::Sent, "Ana")
    );
    shop.a.order_accept("order-0001", &["2".into()]).unwrap();
    sync(&mut shop.a).unwrap();
    // The reservation shows in the public catalog: 2 on hand, 1 reserved.
    wait_for("availability after the reservation", || {
        availability(&ana.catalog(&store), "P") == Some((Availability::Low, Some(1)))
    });
    assert_eq!(ana.sync(&[requests.clone(), status.clone()]).0, 200);
    let seen = customer_side::orders(
        &store,
        &ana.customer,
        &ana.docs[&requests.to_string()].0,
        &ana.docs[&status.to_string()].0,
    );
    assert_eq!(seen[0].status, OrderStatus::Accepted);
    assert!(seen[0].lines[1].unavailable);

    // Till B never saw the order arrive directly: it shows it reserved.
    sync(&mut shop.b).unwrap();
    let levels = shop.b.stock_levels(Some("P"), false).unwrap();
    assert_eq!(
        (levels[0].on_hand, levels[0].reserved, levels[0].available),
        (2, 1, 1)
    );
    shop.a.order_ready("order-0001").unwrap();
    sync(&mut shop.a).unwrap();
    sync(&mut shop.b).unwrap();
    let (done, receipt) = shop
        .b
        .order_collect(
            "order-0001",
            &[shopsync_core::TenderInput {
                kind: shopsync_core::types::TenderKind::Card,
                amount: 100,
            }],
        )
        .unwrap();
    assert_eq!(done.status, OrderStatus::Collected);
    assert_eq!(receipt.total.minor, 100);
    sync(&mut shop.b).unwrap();
    sync(&mut shop.a).unwrap();
    assert_eq!(ana.sync(&[requests.clone(), status.clone()]).0, 200);
    let seen = customer_side::orders(
        &store,
        &ana.customer,
        &ana.docs[&requests.to_string()].0,
        &ana.docs[&status.to_string()].0,
    );
    assert_eq!(seen[0].status, OrderStatus::Collected);
    for till in [&shop.a, &shop.b] {
        let l = till.stock_levels(Some("P"), false).unwrap();
        assert_eq!((l[0].on_hand, l[0].reserved), (1, 0));
    }
    let day = t0().date_naive();
    assert_eq!(shop.a.z_report(day).unwrap(), shop.b.z_report(day).unwrap());
    assert_same(&[&shop.a, &shop.b]);
}

#[test]
fn customers_are_refused_what_is_not_theirs_and_a_refusal_stores_nothing() {
    let mut shop = shop(3);
    let store = shop.store_id.clone();
    sync(&mut shop.a).unwrap();
    let mut ana = Device::sign_up(&shop.server.url, "Ana");
    let mut bob = Device::sign_up(&shop.server.url, "Bob");
    let url = shop.server.url.clone();
    let post = |token: &str, body: Value| post_json(&url, "/v1/customer/sync", Some(token), &body);

    // Reading a store's own documents, or another customer's.
    for doc in [
        DocId::catalog(&store).to_string(),
        format!("store/{store}/ledger/{}/2026-05", shop.a.info().till_id),
        format!("customer/{}", bob.customer),
        DocId::order_status(&store, &bob.customer).to_string(),
    ] {
        let (s, v) = post(
            &ana.token,
            json!({ "protocol": 1, "docs": [{ "doc_id": doc }] }),
        );
        assert_eq!(s, 403, "{doc}: {v}");
    }
    // Writing a status (the shop's) or Bob's list.
    let status = DocId::order_status(&store, &ana.customer);
    let forged = shopsync_core::orders::records::OrderRecord::Accept(
        shopsync_core::orders::records::Accept {
            order: "order-1".into(),
            till: "t".into(),
            at: 1,
            unavailable: vec![],
        },
    );
    {
        use automerge::transaction::Transactable;
        let d = ana.doc(&status);
        d.put(
            automerge::ROOT,
            "accept/order-1",
            automerge::ScalarValue::Bytes(forged.encode().unwrap()),
        )
        .unwrap();
        d.commit();
    }
    assert_eq!(ana.sync(std::slice::from_ref(&status)).0, 403);
    let bobs = DocId::Customer {
        customer: bob.customer.clone(),
    };
    {
        use automerge::transaction::Transactable;
        let d = ana.doc(&bobs);
        d.put(automerge::ROOT, "profile/name", "Mallory").unwrap();
        d.commit();
    }
    assert_eq!(ana.sync(std::slice::from_ref(&bobs)).0, 403);

    // An order to a shop that does not exist; a malformed record; bad base64.
    let nowhere = DocId::order_requests("no-such-shop", &ana.customer);
    {
        use automerge::transaction::Transactable;
        let d = ana.doc(&nowhere);
        d.put(
            automerge::ROOT,
            "order/x",
            automerge::ScalarValue::Bytes(vec![1, b'{']),
        )
        .unwrap();
        d.commit();
    }
    // Refused, that document alone, by the record rules first.
    let (s, v) = ana.sync(std::slice::from_ref(&nowhere));
    assert_eq!(s, 200, "{v}");
    let why = refused(&v);
    assert!(
        why.contains("order/x") && !why.contains("no shop"),
        "the record is checked first: {v}"
    );
    let (s, _) = post(
        &ana.token,
        json!({ "protocol": 1, "docs": [{ "doc_id": format!("customer/{}", ana.customer), "changes": ["%%%"] }] }),
    );
    assert_eq!(s, 400);
    let (s, _) = post(&ana.token, json!({ "protocol": 7, "docs": [] }));
    assert_eq!(s, 400);
    // A till's token is not a customer's.
    let till_token = shop.a.sync_config().unwrap().unwrap().token;
    let (s, _) = post(&till_token, json!({ "protocol": 1, "docs": [] }));
    assert_eq!(s, 403);

    // Nothing of that was stored: Bob still reads an empty document.
    let mine = DocId::Customer {
        customer: bob.customer.clone(),
    };
    assert_eq!(bob.sync(std::slice::from_ref(&mine)).0, 200);
    assert_eq!(
        bob.docs[&mine.to_string()].1,
        0,
        "no change was stored for Bob"
    );
    let orders = db_ints(
        &shop.dir.path().join("server.db"),
        "SELECT COUNT(*) FROM documents WHERE doc_id LIKE '%/orders/%'",
    )[0];
    assert_eq!(orders, 0);
}

/// A customer's change of 69 bytes claiming 134 million operations is
/// refused at once (422, rule `bounds`) and stores nothing.
#[test]
fn a_customers_change_claiming_134_million_operations_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server.db"));
    let mut ana = Device::sign_up(&server.url, "Ana");
    let own = DocId::Customer {
        customer: ana.customer.clone(),
    };
    let bomb = shopsync_core::change_bytes::forge::repeated_puts(&[7; 16], 1, 1 << 27);
    let started = Instant::now();
    let (s, v) = post_json(
        &server.url,
        "/v1/customer/sync",
        Some(&ana.token),
        &json!({ "protocol": 1, "refusals": true, "docs": [
            { "doc_id": own.to_string(), "changes": [encode_change(&bomb)] }
        ] }),
    );
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["error"]["rule"], "bounds", "{v}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(ana.sync(std::slice::from_ref(&own)).0, 200);
    assert_eq!(ana.docs[&own.to_string()].1, 0, "nothing was stored");
}

#[test]
fn two_devices_of_one_customer_share_their_document_and_hear_of_changes() {
    let shop = shop(1);
    let mut phone = Device::sign_up(&shop.server.url, "Ana");
    let (s, v) = post_json(
        &shop.server.url,
        "/v1/customers/link-code",
        Some(&phone.token),
        &json!({}),
    );
    assert_eq!(s, 200);
    let (s, v) = post_json(
        &shop.server.url,
        "/v1/customers/link",
        None,
        &json!({ "protocol": 1, "code": v["code"], "device_name": "laptop" }),
    );
    assert_eq!(s, 200, "{v}");
    let mut laptop = Device {
        url: shop.server.url.clone(),
        token: v["token"].as_str().unwrap().into(),
        customer: v["customer_id"].as_str().unwrap().into(),
        docs: Default::default(),
    };
    assert_eq!(laptop.customer, phone.customer);
    let mine = DocId::Customer {
        customer: phone.customer.clone(),
    };

    // The laptop listens; the phone writes a list.
    let resp = json_client()
        .get(format!("{}/v1/customer/events", shop.server.url))
        .bearer_auth(&laptop.token)
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(resp).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    shopsync_core::customer::create_list(phone.doc(&mine), "Groceries").unwrap();
    phone.doc(&mine).commit();
    assert_eq!(phone.sync(std::slice::from_ref(&mine)).0, 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut heard = false;
    while Instant::now() < deadline && !heard {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            heard = line.starts_with("data:") && line.contains(&mine.to_string());
        }
    }
    assert!(
        heard,
        "the laptop heard of the change to its customer document"
    );
    assert_eq!(laptop.sync(std::slice::from_ref(&mine)).0, 200);
    let view = shopsync_core::customer::read(laptop.doc(&mine)).unwrap();
    assert_eq!(view.lists[0].name, "Groceries");
}

fn order(id: &str, sku: &str, qty: i64, name: &str) -> OrderRequest {
    OrderRequest {
        id: id.into(),
        customer_name: name.into(),
        list_id: None,
        list_name: "List".into(),
        note: None,
        sent_at: 1,
        lines: vec![RequestLine {
            line: 1,
            sku: Some(sku.into()),
            text: sku.into(),
            qty,
        }],
    }
}

#[test]
fn orders_go_only_to_shops_that_publish_and_are_never_rewritten() {
    let mut shop = shop(5);
    let store = shop.store_id.clone();
    sync(&mut shop.a).unwrap();
    let mut ana = Device::sign_up(&shop.server.url, "Ana");
    let requests = DocId::order_requests(&store, &ana.customer);

    // The shop does not publish: it takes no orders.
    customer_side::put_order(ana.doc(&requests), order("order-1", "P", 1, "Ana")).unwrap();
    ana.doc(&requests).commit();
    let (s, v) = ana.sync(std::slice::from_ref(&requests));
    assert_eq!(s, 200, "{v}");
    assert!(refused(&v).contains("does not take orders"), "{v}");
    // A device that does not say it takes refusals (an older one, which
    // would drop the order as stored) gets the whole request refused.
    let changes: Vec<String> = ana
        .doc(&requests)
        .get_changes(&[])
        .into_iter()
        .map(|mut c| encode_change(&c.bytes()))
        .collect();
    let (s, v) = post_json(
        &shop.server.url,
        "/v1/customer/sync",
        Some(&ana.token),
        &json!({ "protocol": 1, "docs": [{ "doc_id": requests.to_string(), "changes": changes }] }),
    );
    assert_eq!(s, 403, "{v}");
    // No such shop; and a refused order does not hold up the customer's
    // other documents in the same request.
    let nowhere = DocId::order_requests("no-such-shop", &ana.customer);
    customer_side::put_order(ana.doc(&nowhere), order("order-9", "P", 1, "Ana")).unwrap();
    ana.doc(&nowhere).commit();
    let own = DocId::Customer {
        customer: ana.customer.clone(),
    };
    shopsync_core::customer::create_list(ana.doc(&own), "Groceries").unwrap();
    ana.doc(&own).commit();
    let (s, v) = ana.sync(&[nowhere.clone(), own.clone()]);
    assert_eq!(s, 200, "{v}");
    assert!(refused(&v).contains("there is no shop"), "{v}");
    assert!(v["docs"][1].get("refused").is_none(), "{v}");
    let mut other_device = Device {
        url: ana.url.clone(),
        token: ana.token.clone(),
        customer: ana.customer.clone(),
        docs: Default::default(),
    };
    assert_eq!(other_device.sync(std::slice::from_ref(&own)).0, 200);
    let lists = shopsync_core::customer::read(other_device.doc(&own))
        .unwrap()
        .lists;
    assert_eq!(
        lists.len(),
        1,
        "the list was stored beside the refused order"
    );
    ana.docs.remove(&nowhere.to_string());

    shop.a.set_setting("publish", "true").unwrap();
    sync(&mut shop.a).unwrap();
    wait_for("the shop publishes", || {
        let (s, v) = ana.sync(std::slice::from_ref(&requests));
        s == 200 && refused(&v).is_empty()
    });
    sync(&mut shop.a).unwrap();
    assert_eq!(shop.a.order("order-1").unwrap().lines[0].qty, 1);
    shop.a.order_accept("order-1", &[]).unwrap();
    sync(&mut shop.a).unwrap();

    // Another device (another actor, not having seen the first put) sends
    // the same order id with other lines: refused, the order unchanged.
    let mut forger = Device {
        url: ana.url.clone(),
        token: ana.token.clone(),
        customer: ana.customer.clone(),
        docs: Default::default(),
    };
    customer_side::put_order(forger.doc(&requests), order("order-1", "P", 5, "Ana")).unwrap();
    forger.doc(&requests).commit();
    let (status, v) = forger.sync(std::slice::from_ref(&requests));
    assert_eq!(status, 200, "{v}");
    assert!(refused(&v).contains("rewritten"), "{v}");
    // Names with terminal escapes never reach the shop's screens.
    let mut sneaky = order("order-2", "P", 1, "Ana\u{1b}[2J");
    sneaky.customer_name = "Ana\u{1b}[2J".into();
    let fresh = DocId::order_requests(&store, &ana.customer);
    let mut other = Device {
        url: ana.url.clone(),
        token: ana.token.clone(),
        customer: ana.customer.clone(),
        docs: Default::default(),
    };
    assert!(
        customer_side::put_order(other.doc(&fresh), sneaky).is_err(),
        "refused on the device"
    );
    sync(&mut shop.a).unwrap();
    let o = shop.a.order("order-1").unwrap();
    assert_eq!((o.lines[0].qty, o.status), (1, OrderStatus::Accepted));
    let l = shop.a.stock_levels(Some("P"), false).unwrap();
    assert_eq!(l[0].reserved, 1);
}

/// The server derives a shop's public catalog on its replica only when the
/// catalog can change: a shop that does not publish costs no derivation for
/// its sales, even one this process has not derived yet (a 50-till load
/// spent 15% of its CPU deriving shops it had not yet seen not publish);
/// one that publishes is derived after every sync with sales
/// (availability), and at start, before any catalog change, even with its
/// replica gone.
#[test]
fn sales_are_derived_for_the_public_catalog_only_in_shops_that_publish() {
    let mut shop = shop(10);
    let replicas = shop.dir.path().join("server.db.public");
    let derivations = |url: &str| metric(url, "shopsync_public_derivations_total");
    // Past the debounce (200 ms) and, were one due, the derivation that
    // follows a shop starting to publish (1 s).
    let settle = || std::thread::sleep(std::time::Duration::from_millis(1500));
    let url = shop.server.url.clone();
    wait_for("the enrolment's catalog is derived", || {
        derivations(&url) >= 1.0
    });

    // A new process that has not derived the shop, its replica gone.
    shop.server.kill();
    std::fs::remove_dir_all(&replicas).unwrap();
    shop.server.restart();
    let url = shop.server.url.clone();
    for minute in 1..4 {
        sell(&mut shop.a, minute, 1);
        sync(&mut shop.a).unwrap();
    }
    settle();
    assert_eq!(derivations(&url), 0.0, "a shop that does not publish");

    shop.a.set_setting("publish", "true").unwrap();
    sync(&mut shop.a).unwrap();
    // The listing starts saying it publishes: one more derivation follows
    // (another instance may have stored a sale meanwhile).
    wait_for("the catalog change is derived, then once more", || {
        derivations(&url) >= 2.0
    });
    settle();
    let published = derivations(&url);
    assert_eq!(published, 2.0, "nothing else to derive");
    sell(&mut shop.a, 5, 1);
    sync(&mut shop.a).unwrap();
    wait_for("a sale of a shop that publishes is derived", || {
        derivations(&url) > published
    });

    // A new process derives the shop that publishes at start.
    settle();
    shop.server.kill();
    std::fs::remove_dir_all(&replicas).unwrap();
    shop.server.restart();
    let url = shop.server.url.clone();
    wait_for("derived at start", || derivations(&url) >= 1.0);
    settle();
    let started = derivations(&url);
    assert_eq!(started, 1.0, "its listing said it publishes already");
    sell(&mut shop.b, 6, 1);
    sync(&mut shop.b).unwrap();
    wait_for("a sale after the restart is derived", || {
        derivations(&url) > started
    });
}

/// At start the server derives a shop whose last derivation may not have
/// finished: one with changes but no listing, and one whose failed
/// derivation left an empty replica file; not one whose listing says it
/// does not publish.
#[test]
fn a_shop_whose_derivation_did_not_finish_is_derived_at_start() {
    let mut shop = shop(10);
    let replicas = shop.dir.path().join("server.db.public");
    let derivations = |url: &str| metric(url, "shopsync_public_derivations_total");
    wait_for("the enrolment's catalog is derived", || {
        derivations(&shop.server.url) >= 1.0
    });
    let restart = |shop: &mut Shop| {
        shop.server.kill();
        let _ = std::fs::remove_dir_all(&replicas);
        shop.server.restart();
        shop.server.url.clone()
    };

    // The listing says it does not publish: nothing to derive.
    let url = restart(&mut shop);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(
        derivations(&url),
        0.0,
        "its listing says it does not publish"
    );

    // No listing: its first derivation did not finish.
    shop.server.kill();
    db_execute(&shop.server.db, "DELETE FROM shop_listings");
    let url = restart(&mut shop);
    wait_for("the shop with no listing is derived at start", || {
        derivations(&url) >= 1.0
    });

    // A failed derivation left an empty file in its replica's place.
    let url = restart(&mut shop);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(derivations(&url), 0.0, "listed as not publishing again");
    shop.server.kill();
    let _ = std::fs::remove_dir_all(&replicas);
    std::fs::create_dir_all(&replicas).unwrap();
    std::fs::write(replicas.join(format!("{}.db", shop.store_id)), b"").unwrap();
    shop.server.restart();
    let url = shop.server.url.clone();
    wait_for(
        "the shop with an empty replica file is derived at start",
        || derivations(&url) >= 1.0,
    );
    wait_for("its replica is rebuilt", || {
        std::fs::metadata(replicas.join(format!("{}.db", shop.store_id))).is_ok_and(|m| m.len() > 0)
    });
}
