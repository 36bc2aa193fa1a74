//! Events for other systems (docs/EVENTS.md): a real server with `--nats`
//! and a real nats-server with JetStream. A till sells; a JetStream consumer
//! gets the sales' events with the right fields. NATS stops; the till sells
//! on and syncs (syncs never wait for NATS); NATS starts again on the same
//! port and store, and every event arrives, each id exactly once after
//! de-duplication by id, in the order the sales were made.
//! Runs only with `SHOPSYNC_TEST_NATS` (scripts/with-nats.sh).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer};
use common::nats::{NatsServer, skip_without_nats};
use common::*;
use futures_util::StreamExt;

/// One event as a consumer sees it: its subject and JSON.
type Received = (String, serde_json::Value);

/// The kinds of a sale's events.
const SALES: &[&str] = &["sale.recorded", "product.sold"];

/// Reads the store's events of `kinds` from the stream's start until `want`
/// distinct event ids arrived (30 s at most); returns every such message,
/// repeats too.
async fn read_events(url: String, store: String, kinds: &[&str], want: usize) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = async_nats::connect(&url).await.unwrap();
    let js = jetstream::new(client);
    // The server's publisher creates the stream when it first connects.
    let stream = loop {
        match js.get_stream("SHOPSYNC").await {
            Ok(s) => break s,
            Err(e) => {
                assert!(Instant::now() < deadline, "no stream SHOPSYNC: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            filter_subject: format!("shopsync.{store}.>"),
            deliver_policy: consumer::DeliverPolicy::All,
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut out = Vec::new();
    let mut ids = HashSet::new();
    while ids.len() < want {
        assert!(
            Instant::now() < deadline,
            "only {} of {want} events arrived within 30 s: {out:?}",
            ids.len()
        );
        let mut batch = consumer
            .fetch()
            .max_messages(100)
            .expires(Duration::from_millis(500))
            .messages()
            .await
            .unwrap();
        while let Some(message) = batch.next().await {
            let message = message.unwrap();
            let event: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
            if !kinds.contains(&event["type"].as_str().unwrap()) {
                continue;
            }
            ids.insert(event["event_id"].as_str().unwrap().to_string());
            out.push((message.subject.to_string(), event));
        }
    }
    out
}

/// Till A of a new store "Corner Shop" on `server` (20 in stock), enrolled.
fn corner_shop_till(server: &Server, dir: &std::path::Path) -> shopsync_core::Store {
    let (_, code) = server.create_store("Corner Shop");
    let a_path = dir.join("a.db");
    drop(first_till(&a_path, 20));
    enrol(&a_path, server, &code, None)
}

/// The events one after the other with repeats dropped (a consumer's
/// de-duplication by event id), asserting each one's id is its header's.
fn dedup(events: &[Received]) -> Vec<Received> {
    let mut seen = HashSet::new();
    events
        .iter()
        .filter(|(_, e)| seen.insert(e["event_id"].as_str().unwrap().to_string()))
        .cloned()
        .collect()
}

/// The ids a sale's events have, in publishing order (one line each here).
fn sale_ids(store: &str, till: &str, sale_id: &str) -> [String; 2] {
    [
        format!("{store}/{till}/sale/{sale_id}"),
        format!("{store}/{till}/sale/{sale_id}/line/0"),
    ]
}

fn readyz(url: &str) -> String {
    let resp = json_client().get(format!("{url}/readyz")).send().unwrap();
    assert_eq!(resp.status(), 200, "/readyz answers ready");
    resp.text().unwrap()
}

#[test]
fn sales_reach_jetstream_once_per_id_across_a_nats_outage() {
    if skip_without_nats() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut nats = NatsServer::start();
    let server = Server::start_sqlite_with(&dir.path().join("server.db"), &["--nats", &nats.url()]);
    let mut a = corner_shop_till(&server, dir.path());
    let store = a.info().store_id.clone();
    let till = a.info().till_id.clone();

    // Two sales, one sync: their events arrive with the right fields.
    let mut sales = vec![sell(&mut a, 1, 2), sell(&mut a, 2, 1)];
    sync(&mut a).unwrap();
    let first = common::block_on(read_events(nats.url(), store.clone(), SALES, 4));
    let first = dedup(&first);
    let ids: Vec<&str> = first
        .iter()
        .map(|(_, e)| e["event_id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = sales
        .iter()
        .flat_map(|s| sale_ids(&store, &till, s))
        .collect();
    assert_eq!(ids, expected, "the sales' events, in order");
    let (subject, sold) = &first[1];
    assert_eq!(subject, &format!("shopsync.{store}.product.sold"));
    assert_eq!(sold["schema_version"], 1);
    assert_eq!(sold["type"], "product.sold");
    assert_eq!(sold["store_id"], store.as_str());
    assert_eq!(sold["till_id"], till.as_str());
    assert_eq!(sold["sale_id"], sales[0].as_str());
    assert_eq!(sold["sku"], "P");
    assert_eq!(sold["qty"], 2);
    assert_eq!(sold["unit_price"], 100);
    assert_eq!(sold["total"], 200);
    let (subject, recorded) = &first[2];
    assert_eq!(subject, &format!("shopsync.{store}.sale.recorded"));
    assert_eq!(recorded["sale_id"], sales[1].as_str());
    assert_eq!(recorded["total"], 100);
    // The catalog's event (product P made) is derived a moment later.
    common::block_on(read_events(
        nats.url(),
        store.clone(),
        &["catalog.updated"],
        1,
    ));
    wait_for("the outbox is empty once published", || {
        metric(&server.url, "shopsync_events_outbox") == 0.0
    });
    assert!(readyz(&server.url).contains("nats: connected"));

    // NATS stops: the till sells and syncs on; the events wait.
    nats.stop();
    for minute in 3..6 {
        sales.push(sell(&mut a, minute, 1));
        sync(&mut a).expect("a sync succeeds while NATS is down");
    }
    assert_eq!(
        metric(&server.url, "shopsync_events_outbox"),
        3.0,
        "three sales' changes wait in the outbox"
    );
    wait_for("/readyz tells NATS is not connected", || {
        readyz(&server.url).contains("nats: not connected")
    });

    // NATS is back on the same port and store: everything arrives, each
    // event id once after de-duplication, in the order of the sales.
    nats.start_again();
    let all = common::block_on(read_events(nats.url(), store.clone(), SALES, 10));
    let unique = dedup(&all);
    let ids: Vec<&str> = unique
        .iter()
        .map(|(_, e)| e["event_id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = sales
        .iter()
        .flat_map(|s| sale_ids(&store, &till, s))
        .collect();
    assert_eq!(ids, expected, "every event once, in order");
    assert!(
        all.len() >= unique.len(),
        "at least once: repeats are allowed, losses are not"
    );
    wait_for("the outbox drains after NATS is back", || {
        metric(&server.url, "shopsync_events_outbox") == 0.0
    });
    assert!(metric(&server.url, "shopsync_events_published_total") >= 10.0);
}

/// On PostgreSQL (`--db postgres://…`) sales' events are queued in the
/// transaction that stores the sales and published as on SQLite: in order,
/// each id once, across a NATS outage; the catalog's too (derived on the
/// replica, as on SQLite). Runs with both scripts/with-postgres.sh
/// and scripts/with-nats.sh.
#[test]
fn on_postgresql_sales_reach_jetstream_once_per_id_across_a_nats_outage() {
    if skip_without_postgres() || skip_without_nats() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut nats = NatsServer::start();
    let server = Server::start_with(
        &dir.path().join("server"),
        "127.0.0.1:0",
        &["--nats", &nats.url()],
    );
    let mut a = corner_shop_till(&server, dir.path());
    let store = a.info().store_id.clone();
    let till = a.info().till_id.clone();
    let mut sales = vec![sell(&mut a, 1, 2), sell(&mut a, 2, 1)];
    sync(&mut a).unwrap();
    let ids_of = |events: &[Received]| -> Vec<String> {
        dedup(events)
            .iter()
            .map(|(_, e)| e["event_id"].as_str().unwrap().to_string())
            .collect()
    };
    let first = common::block_on(read_events(nats.url(), store.clone(), SALES, 4));
    let expected: Vec<String> = sales
        .iter()
        .flat_map(|s| sale_ids(&store, &till, s))
        .collect();
    assert_eq!(ids_of(&first), expected, "the sales' events, in order");
    assert_eq!(first[1].1["qty"], 2);
    // The catalog's event (product P made) is derived on the replica a
    // moment later, as on SQLite.
    common::block_on(read_events(
        nats.url(),
        store.clone(),
        &["catalog.updated"],
        1,
    ));
    wait_for("the outbox is empty once published", || {
        metric(&server.url, "shopsync_events_outbox") == 0.0
    });

    nats.stop();
    for minute in 3..5 {
        sales.push(sell(&mut a, minute, 1));
        sync(&mut a).expect("a sync succeeds while NATS is down");
    }
    assert_eq!(
        metric(&server.url, "shopsync_events_outbox"),
        2.0,
        "two sales' changes wait in the outbox"
    );
    nats.start_again();
    let all = common::block_on(read_events(nats.url(), store.clone(), SALES, 8));
    let expected: Vec<String> = sales
        .iter()
        .flat_map(|s| sale_ids(&store, &till, s))
        .collect();
    assert_eq!(ids_of(&all), expected, "every event once, in order");
    wait_for("the outbox drains after NATS is back", || {
        metric(&server.url, "shopsync_events_outbox") == 0.0
    });
}

#[test]
fn a_nats_url_that_is_not_one_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .arg("--db")
        .arg(dir.path().join("server.db"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--nats",
            "http://example.invalid",
        ])
        .env("SHOPSYNC_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the server must not start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--nats is not a NATS server URL"),
        "a clear refusal: {err}"
    );
}

/// An event JetStream refuses for good (here: every event is over the
/// stream's `max_msg_size`) is tried a few times, then set aside in
/// `event_dead_letters` with the refusal, so the outbox drains; the
/// documented replay publishes it once the stream accepts it.
#[test]
fn an_event_jetstream_refuses_goes_to_the_dead_letters_and_can_be_replayed() {
    if skip_without_nats() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start();
    let create = |max_message_size: i32| {
        let url = nats.url();
        common::block_on(async move {
            let js = jetstream::new(async_nats::connect(&url).await.unwrap());
            let config = jetstream::stream::Config {
                name: "SHOPSYNC".into(),
                subjects: vec!["shopsync.>".into()],
                max_message_size,
                ..Default::default()
            };
            if js.get_stream("SHOPSYNC").await.is_ok() {
                js.update_stream(config).await.unwrap();
            } else {
                js.create_stream(config).await.unwrap();
            }
        });
    };
    create(16);
    let db = dir.path().join("server.db");
    let server = Server::start_sqlite_with(&db, &["--nats", &nats.url()]);
    let mut a = corner_shop_till(&server, dir.path());
    let store = a.info().store_id.clone();
    let till = a.info().till_id.clone();
    let sale = sell(&mut a, 1, 2);
    sync(&mut a).unwrap();

    // The sale's two events and the catalog's (product P made).
    wait_for("the three events are set aside", || {
        metric(&server.url, "shopsync_events_dead_letters_total") == 3.0
    });
    assert_eq!(metric(&server.url, "shopsync_events_outbox"), 0.0);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let dead: Vec<(String, String)> = conn
        .prepare(
            "SELECT event_id, error FROM event_dead_letters
             WHERE subject NOT LIKE '%.catalog.updated' ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let ids: Vec<&str> = dead.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, sale_ids(&store, &till, &sale));
    assert!(
        dead.iter().all(|(_, e)| e.contains("maximum")),
        "the refusal is kept: {dead:?}"
    );

    // The stream takes them now: the replay of docs/EVENTS.md.
    create(-1);
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         INSERT OR IGNORE INTO event_outbox (event_id, subject, payload, created_ms)
           SELECT event_id, subject, payload, created_ms FROM event_dead_letters ORDER BY id;
         DELETE FROM event_dead_letters; COMMIT;",
    )
    .unwrap();
    let events = common::block_on(read_events(nats.url(), store.clone(), SALES, 2));
    let ids: Vec<String> = dedup(&events)
        .iter()
        .map(|(_, e)| e["event_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, sale_ids(&store, &till, &sale));
}

/// A change whose events cannot be derived when it is published (here: a
/// reference to a change that is not in the database, and one to a change
/// whose bytes do not decode, both put into the database behind the
/// server's back) is set aside in `event_change_dead_letters` with the
/// reason, and the sale synced after it is published. On either backend.
#[test]
fn a_change_whose_events_cannot_be_derived_is_set_aside_and_later_events_flow() {
    if skip_without_nats() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start();
    let db = dir.path().join("server");
    let server = Server::start_with(&db, "127.0.0.1:0", &["--nats", &nats.url()]);
    let mut a = corner_shop_till(&server, dir.path());
    let store = a.info().store_id.clone();
    let till = a.info().till_id.clone();
    let first = sell(&mut a, 1, 1);
    sync(&mut a).unwrap();
    common::block_on(read_events(nats.url(), store.clone(), SALES, 2));

    // A store no till syncs, holding a ledger change that does not decode,
    // and references to a change that does not exist and to that one.
    let ghost = "store/ghost/ledger/t/2026-01";
    let sql = if on_postgres() {
        format!(
            r"BEGIN;
              INSERT INTO stores (store_id, name, created_at, head) VALUES ('ghost', 'ghost', 0, 1);
              INSERT INTO documents (store_pk, doc_id, heads, changes)
                SELECT pk, '{ghost}', '\x'::bytea, 1 FROM stores WHERE store_id = 'ghost';
              INSERT INTO changes (store_pk, seq, doc_pk, hash, bytes, inflated, actor, actor_seq)
                SELECT store_pk, 1, pk, decode(repeat('00', 32), 'hex'), '\x00010203'::bytea, 4,
                       '\x01'::bytea, 1
                FROM documents WHERE doc_id = '{ghost}';
              INSERT INTO event_outbox (store_pk, change_seq, created_ms)
                SELECT pk, 999999, 0 FROM stores WHERE store_id = 'ghost';
              INSERT INTO event_outbox (store_pk, change_seq, created_ms)
                SELECT pk, 1, 0 FROM stores WHERE store_id = 'ghost';
              COMMIT;"
        )
    } else {
        format!(
            "BEGIN IMMEDIATE;
             INSERT INTO stores (store_id, name, created_at) VALUES ('ghost', 'ghost', 0);
             INSERT INTO documents (store_pk, doc_id, heads, changes)
               SELECT pk, '{ghost}', x'', 1 FROM stores WHERE store_id = 'ghost';
             INSERT INTO changes (store_pk, doc_pk, hash, bytes, inflated, actor, actor_seq)
               SELECT store_pk, pk, zeroblob(32), x'00010203', 4, x'01', 1 FROM documents
               WHERE doc_id = '{ghost}';
             INSERT INTO event_outbox (store_pk, change_seq, created_ms)
               SELECT store_pk, 999999, 0 FROM changes ORDER BY seq DESC LIMIT 1;
             INSERT INTO event_outbox (store_pk, change_seq, created_ms)
               SELECT store_pk, seq, 0 FROM changes ORDER BY seq DESC LIMIT 1;
             COMMIT;"
        )
    };
    db_execute(&db, &sql);

    // A sale after them still reaches the stream.
    let second = sell(&mut a, 2, 1);
    sync(&mut a).unwrap();
    let events = common::block_on(read_events(nats.url(), store.clone(), SALES, 4));
    let ids: Vec<String> = dedup(&events)
        .iter()
        .map(|(_, e)| e["event_id"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|s| sale_ids(&store, &till, s))
        .collect();
    assert_eq!(ids, expected);
    wait_for("the outbox drains", || {
        metric(&server.url, "shopsync_events_outbox") == 0.0
    });
    let count = |filter: &str| {
        db_ints(
            &db,
            &format!("SELECT count(*) FROM event_change_dead_letters WHERE {filter}"),
        )[0]
    };
    assert_eq!(count("true"), 2);
    assert_eq!(
        count("doc_id IS NULL AND change_seq = 999999 AND error LIKE '%not in the database%'"),
        1,
        "the missing change, with the reason"
    );
    assert_eq!(
        count(&format!(
            "doc_id = '{ghost}' AND error LIKE '%does not decode%' AND length(hash) = 32"
        )),
        1,
        "the change that does not decode, named, with the reason"
    );
    assert!(metric(&server.url, "shopsync_events_dead_letters_total") >= 2.0);
}

/// The kinds of catalog events.
const CATALOG: &[&str] = &["catalog.updated"];

/// Catalog edits made on a till reach JetStream as `catalog.updated`, one
/// per catalog change that touched products, with the values it put, in
/// the order they were stored; a replica rebuilt from nothing (its folder
/// deleted, the server restarted) queues no shop history again.
#[test]
fn catalog_changes_reach_jetstream_once_each_in_order() {
    if skip_without_nats() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start();
    let db = dir.path().join("server.db");
    // SQLite, or PostgreSQL under scripts/with-postgres.sh.
    let mut server = Server::start_with(&db, "127.0.0.1:0", &["--nats", &nats.url()]);
    let mut a = corner_shop_till(&server, dir.path());
    let store = a.info().store_id.clone();
    sync(&mut a).unwrap();
    let p = a.product("P").unwrap().id;

    a.edit_product(
        "P",
        shopsync_core::ops::catalog_ops::ProductEdit {
            price: Some(250),
            name: Some("Product P, bigger".into()),
            ..Default::default()
        },
    )
    .unwrap();
    sync(&mut a).unwrap();
    let q = a
        .add_product(shopsync_core::ops::catalog_ops::NewProduct {
            sku: "Q".into(),
            name: "Product Q".into(),
            price: 990,
            ..Default::default()
        })
        .unwrap()
        .id;
    a.archive_product("Q").unwrap();
    sync(&mut a).unwrap();

    let all = common::block_on(read_events(nats.url(), store.clone(), CATALOG, 4));
    assert_eq!(dedup(&all).len(), all.len(), "one message per event id");
    for (subject, e) in &all {
        assert_eq!(subject, &format!("shopsync.{store}.catalog.updated"));
        assert_eq!(e["schema_version"], 1);
        assert_eq!(e["store_id"], store.as_str());
        assert_eq!(
            e["event_id"],
            format!("{store}/catalog/{}", e["change"].as_str().unwrap())
        );
        assert_eq!(e["truncated"], false);
    }
    let products = |i: usize| all[i].1["products"].as_array().unwrap().clone();
    // In order: P made (first_till), P edited, Q made, Q archived.
    assert_eq!(products(0)[0]["product_id"], p.as_str());
    assert_eq!(products(0)[0]["created"], true);
    assert_eq!(products(0)[0]["price"], 100);
    let edited = &products(1)[0];
    assert_eq!(edited["product_id"], p.as_str());
    assert_eq!(edited["created"], false);
    assert_eq!(edited["price"], 250);
    assert_eq!(edited["name"], "Product P, bigger");
    assert_eq!(edited["archived"], serde_json::Value::Null);
    assert_eq!(products(1).len(), 1);
    assert_eq!(products(2)[0]["product_id"], q.as_str());
    assert_eq!(products(2)[0]["created"], true);
    assert_eq!(products(2)[0]["sku"], "Q");
    assert_eq!(products(3)[0]["product_id"], q.as_str());
    assert_eq!(products(3)[0]["archived"], true);
    assert_eq!(products(3)[0]["price"], serde_json::Value::Null);

    // The replica rebuilt from the feed derives nothing it derived before.
    wait_for("the outbox is empty", || {
        metric(&server.url, "shopsync_events_outbox") == 0.0
    });
    let published = metric(&server.url, "shopsync_events_published_total");
    if on_postgres() {
        // Not killed mid-pass: its lease on the store's events would hold
        // the restarted server off for a minute.
        wait_for("the deriver gave its lease back", || {
            db_ints(
                &db,
                "SELECT COUNT(*) FROM event_cursors WHERE leased_by IS NOT NULL",
            ) == vec![0]
        });
    }
    server.kill();
    std::fs::remove_dir_all(dir.path().join("server.db.public")).unwrap();
    server.restart_with(&["--nats", &nats.url()]);
    a.edit_product(
        "Q",
        shopsync_core::ops::catalog_ops::ProductEdit {
            price: Some(999),
            ..Default::default()
        },
    )
    .unwrap();
    sync(&mut a).unwrap();
    let all = common::block_on(read_events(nats.url(), store.clone(), CATALOG, 5));
    assert_eq!(all.len(), 5, "the history is not published again: {all:?}");
    assert_eq!(all[4].1["products"][0]["price"], 999);
    assert!(published >= 4.0);
    // JetStream would drop repeats of old ids within its window: count
    // what this server process published instead.
    wait_for("the outbox is empty again", || {
        metric(&server.url, "shopsync_events_outbox") == 0.0
    });
    assert_eq!(
        metric(&server.url, "shopsync_events_published_total"),
        1.0,
        "only the new edit's event is published after the rebuild"
    );
}

/// A product's available stock crossing its reorder point (P: 2) because of
/// sales gives one `stock.low`; staying below gives none; crossing again
/// after a delivery gives another.
#[test]
fn a_product_crossing_its_reorder_point_gives_one_stock_low_per_crossing() {
    if skip_without_nats() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start();
    // SQLite, or PostgreSQL under scripts/with-postgres.sh.
    let server = Server::start_with(
        &dir.path().join("server.db"),
        "127.0.0.1:0",
        &["--nats", &nats.url()],
    );
    let mut a = corner_shop_till(&server, dir.path());
    let store = a.info().store_id.clone();
    let p = a.product("P").unwrap().id;
    // Crossings are seen between two derivations on the replica: let each
    // sync's changes be derived before the next.
    let step = |a: &mut shopsync_core::Store| {
        sync(a).unwrap();
        let stored = metric(&server.url, "shopsync_changes");
        wait_for("every change's replica events are queued", || {
            metric(&server.url, "shopsync_events_replica_changes_total") >= stored
        });
    };
    step(&mut a);
    sell(&mut a, 1, 10);
    step(&mut a); // 10 left: above 2
    sell(&mut a, 2, 8);
    step(&mut a); // 2 left: crossed
    sell(&mut a, 3, 1);
    step(&mut a); // 1 left: already below, no event
    a.receive(
        None,
        &[shopsync_core::ops::stock::ReceiveLine {
            code: "P".into(),
            qty: 10,
            unit_cost: None,
        }],
    )
    .unwrap();
    step(&mut a); // 11
    sell(&mut a, 4, 9);
    step(&mut a); // 2 again: crossed again

    let all = common::block_on(read_events(nats.url(), store.clone(), &["stock.low"], 2));
    assert_eq!(dedup(&all).len(), all.len(), "one message per event id");
    assert_eq!(all.len(), 2, "{all:?}");
    for (subject, e) in &all {
        assert_eq!(subject, &format!("shopsync.{store}.stock.low"));
        assert_eq!(e["schema_version"], 1);
        assert_eq!(e["store_id"], store.as_str());
        assert_eq!(e["product_id"], p.as_str());
        assert_eq!(e["sku"], "P");
        assert_eq!(e["reorder_point"], 2);
        assert_eq!(e["available"], 2);
        assert_eq!(e["on_hand"], 2);
        assert_eq!(e["reserved"], 0);
    }
    assert_eq!(all[0].1["previous_available"], 10);
    assert_eq!(all[1].1["previous_available"], 11);
    assert!(
        all[0].1["seq"].as_u64().unwrap() < all[1].1["seq"].as_u64().unwrap(),
        "in the order the server stored them"
    );
    // Nothing more is on its way: no crossing was left out or repeated.
    wait_for("the outbox is empty", || {
        metric(&server.url, "shopsync_events_outbox") == 0.0
    });
    let again = common::block_on(read_events(nats.url(), store, &["stock.low"], 2));
    assert_eq!(again.len(), 2);
}

/// A customer sends a list to the shop (`shopping-list.sent`), the shop
/// accepts, readies and hands it over (`order.status` each), then a second
/// order is cancelled by the customer: every event once, in order, naming
/// the customer by id only.
#[test]
fn orders_give_shopping_list_sent_and_order_status_without_personal_data() {
    use shopsync_core::types::{ItemWhat, OrderStatus};
    if skip_without_nats() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start();
    let server = Server::start_sqlite_with(&dir.path().join("server.db"), &["--nats", &nats.url()]);
    let mut shop = shop_on(dir, server, 10);
    let store = shop.store_id.clone();
    // Published (the server learns it as it derives the public catalog,
    // which the customer waits for below). Not `publish`: it reads the
    // database of the suite's backend, and this server is on SQLite.
    shop.a.set_setting("publish", "true").unwrap();
    sync(&mut shop.a).unwrap();
    let url = shop.server.url.clone();
    let mut ada = customer_signup(&url, &shop.dir.path().join("phone.db"), "Ada Lovelace");
    let customer = ada.customer_id().to_string();
    ada.add_favourite(&store).unwrap();
    wait_for("the public catalog", || {
        customer_sync(&mut ada).unwrap();
        let c = ada.catalog(&store, None).unwrap();
        c.synced && !c.catalog.products.is_empty()
    });
    ada.new_list("Ada's party").unwrap();
    let p = ItemWhat::Product {
        store_id: store.clone(),
        sku: "P".into(),
    };
    ada.add_item("Ada's party", &p, 3).unwrap();
    let secret = ItemWhat::Text {
        text: "candles for Ada".into(),
    };
    ada.add_item("Ada's party", &secret, 1).unwrap();
    let first = ada
        .send_order("Ada's party", &store, Some("call 555-0100"))
        .unwrap()
        .order
        .id;
    customer_sync(&mut ada).unwrap();
    sync(&mut shop.a).unwrap();
    shop.a.order_accept(&first, &["2".into()]).unwrap();
    sync(&mut shop.a).unwrap();
    shop.a.order_ready(&first).unwrap();
    sync(&mut shop.a).unwrap();
    let (done, _) = shop
        .a
        .order_collect(
            &first,
            &[shopsync_core::TenderInput {
                kind: shopsync_core::types::TenderKind::Card,
                amount: 300,
            }],
        )
        .unwrap();
    assert_eq!(done.status, OrderStatus::Collected);
    sync(&mut shop.a).unwrap();
    let second = ada
        .send_order("Ada's party", &store, None)
        .unwrap()
        .order
        .id;
    ada.cancel_order(&second, Some("Ada is ill")).unwrap();
    customer_sync(&mut ada).unwrap();

    let kinds = &["shopping-list.sent", "order.status"];
    let all = common::block_on(read_events(nats.url(), store.clone(), kinds, 6));
    assert_eq!(dedup(&all).len(), all.len(), "one message per event id");
    let got: Vec<(String, String)> = all
        .iter()
        .map(|(subject, e)| {
            assert_eq!(e["schema_version"], 1);
            assert_eq!(e["store_id"], store.as_str());
            assert_eq!(e["customer_id"], customer.as_str());
            let text = e.to_string();
            // The note whole: a bare "555" turns up in random ids.
            for private in ["Ada", "Lovelace", "call 555", "party", "candles", "is ill"] {
                assert!(!text.contains(private), "{private} in {text}");
            }
            let what = e["status"].as_str().unwrap_or("sent").to_string();
            (
                subject.clone(),
                format!("{}/{what}", e["order_id"].as_str().unwrap()),
            )
        })
        .collect();
    let status = format!("shopsync.{store}.order.status");
    assert_eq!(
        got,
        [
            (
                format!("shopsync.{store}.shopping-list.sent"),
                format!("{first}/sent")
            ),
            (status.clone(), format!("{first}/accepted")),
            (status.clone(), format!("{first}/ready")),
            (status.clone(), format!("{first}/collected")),
            (
                format!("shopsync.{store}.shopping-list.sent"),
                format!("{second}/sent")
            ),
            (status.clone(), format!("{second}/cancelled")),
        ]
    );
    let sent = &all[0].1;
    assert_eq!(
        sent["event_id"],
        format!("{store}/order/{customer}/{first}/sent")
    );
    assert_eq!(sent["lines"][0]["sku"], "P");
    assert_eq!(sent["lines"][0]["qty"], 3);
    assert_eq!(sent["lines"][1]["sku"], serde_json::Value::Null);
    assert_eq!(sent["lines"][1]["qty"], 1);
    let accepted = &all[1].1;
    assert_eq!(accepted["till_id"], shop.a.info().till_id.as_str());
    assert_eq!(accepted["unavailable_lines"][0], 2);
    assert!(all[3].1["sale_id"].is_string());
    assert_eq!(all[5].1["till_id"], serde_json::Value::Null);
}

/// Two instances on one PostgreSQL database, each with `--nats` and
/// replicas of its own, tills syncing through either: one instance at a
/// time derives a store's catalog events (its lease on them), so every
/// change is derived once in all, not once per instance.
#[test]
fn on_postgresql_two_instances_derive_each_change_once() {
    if skip_without_postgres() || skip_without_nats() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start();
    let db = dir.path().join("server.db");
    let one = Server::start_instance_with(&db, "one", &["--nats", &nats.url()]);
    let two = Server::start_instance_with(&db, "two", &["--nats", &nats.url()]);
    let (_, code) = one.create_store("Corner Shop");
    let a_path = dir.path().join("a.db");
    drop(first_till(&a_path, 20));
    let mut a = enrol(&a_path, &one, &code, None);
    let store = a.info().store_id.clone();
    // A manager's till (it edits the catalog too), syncing through two.
    let mut b = enrol(
        &dir.path().join("b.db"),
        &two,
        &one.code(&store, "manager"),
        Some("B"),
    );
    let price = |till: &mut shopsync_core::Store, sku: &str, cents: i64| {
        till.edit_product(
            sku,
            shopsync_core::ops::catalog_ops::ProductEdit {
                price: Some(cents),
                ..Default::default()
            },
        )
        .unwrap();
        sync(till).unwrap();
    };
    // Edits through both instances, close together: each instance's
    // deriver wakes for the store while the other may be deriving it.
    for i in 0..6 {
        price(&mut a, "P", 200 + i);
        sync(&mut b).unwrap();
        price(&mut b, "P", 300 + i);
        sync(&mut a).unwrap();
    }
    // The product's creation and the twelve edits.
    let all = common::block_on(read_events(nats.url(), store.clone(), CATALOG, 13));
    assert_eq!(dedup(&all).len(), 13, "{all:?}");
    let outboxes_empty = || {
        metric(&one.url, "shopsync_events_outbox") == 0.0
            && metric(&two.url, "shopsync_events_outbox") == 0.0
    };
    wait_for("both outboxes are empty", outboxes_empty);
    // Past the derivers' debounce and retry: nothing more is queued.
    std::thread::sleep(Duration::from_secs(2));
    wait_for("both outboxes are empty again", outboxes_empty);
    // Each instance counts the changes whose events it derived and queued
    // (two publishers may both send one queued event, which JetStream drops
    // as a repeat: what matters is that each change was derived once).
    let derived = metric(&one.url, "shopsync_events_replica_changes_total")
        + metric(&two.url, "shopsync_events_replica_changes_total");
    assert_eq!(
        derived,
        metric(&one.url, "shopsync_changes"),
        "every change of the store derived once, by one instance or the other"
    );
}
