//! Several server instances on one PostgreSQL database: a device's notice
//! stream on one instance hears changes uploaded through another (also after
//! the instance's listening connection was cut), and tills syncing through a
//! round-robin proxy in front of two instances converge with nothing lost
//! when one instance is killed mid-run, and a shop made to publish through
//! one instance has its sales derived on the other. Runs only with
//! `SHOPSYNC_TEST_POSTGRES` (scripts/with-postgres.sh).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use shopsync_core::Store;
use shopsync_core::sync::client::{self, Client, Notice, Notices};

/// The listening connections of the instances on the test's database.
const LISTENERS: &str = "SELECT COUNT(*) FROM pg_stat_activity
     WHERE application_name = 'shopsync-notice-listener' AND datname = current_database()";

/// Waits until `n` instances hold a listening connection.
fn wait_for_listeners(db: &Path, n: i64) {
    wait_for("the instances listen for notices", || {
        db_ints(db, LISTENERS)[0] == n
    });
}

/// The next `changed` notice on `stream` (heartbeats come every second);
/// `real` skips the "anything may have changed" ones (head 0) an instance
/// sends when it starts listening. Fails after `within`.
fn next_change(stream: &mut Notices, within: Duration, real: bool) -> u64 {
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < within, "no notice within {within:?}");
        match stream.next_notice().unwrap() {
            Notice::Changed(h) if h > 0 || !real => return h,
            _ => {}
        }
    }
}

/// A till enrolled with `code` through `url` (it syncs there from then on).
fn enrol_at(path: &Path, url: &str, code: &str, till: Option<&str>) -> Store {
    let (s, _) = client::enrol(path, url, code, till, &mut |_| {}).unwrap();
    s
}

#[test]
fn a_notice_stream_on_one_instance_hears_uploads_through_another() {
    if skip_without_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let a_srv = Server::start_instance(&db, "a");
    let b_srv = Server::start_instance(&db, "b");
    wait_for_listeners(&db, 2);
    let (_, code) = a_srv.create_store("Corner Shop");
    let a_path = dir.path().join("a.db");
    drop(first_till(&a_path, 20));
    let mut a = enrol_at(&a_path, &a_srv.url, &code, None);
    let store_id = a.info().store_id.clone();
    let mut b = enrol_at(
        &dir.path().join("b.db"),
        &b_srv.url,
        &a_srv.code(&store_id, "till"),
        Some("B"),
    );

    // Till A follows its store on instance A; till B sells through B.
    let token = a.sync_config().unwrap().unwrap().token;
    let mut stream = Client::new(&a_srv.url, Some(&token))
        .unwrap()
        .events(Duration::from_secs(10))
        .unwrap();
    sell(&mut b, 1, 2);
    let started = Instant::now();
    let report = sync(&mut b).unwrap();
    let head = next_change(&mut stream, Duration::from_secs(3), true);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(head, report.cursor, "the notice names the store's new head");
    sync(&mut a).unwrap();
    assert_eq!(stock(&a), 18);

    // The listening connections are cut (PostgreSQL restarted, a proxy
    // dropped them): notices sent meanwhile are lost, so each instance,
    // listening again, tells every open stream to sync ("0": what changed
    // is not known).
    let cut = db_ints(
        &db,
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE application_name = 'shopsync-notice-listener' AND datname = current_database()",
    );
    assert_eq!(cut[0], 2, "both instances had a listening connection");
    let started = Instant::now();
    while next_change(&mut stream, Duration::from_secs(5), false) != 0 {
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    wait_for_listeners(&db, 2);
    // And the instances hear each other again.
    sell(&mut b, 3, 1);
    let report = sync(&mut b).unwrap();
    let started = Instant::now();
    while next_change(&mut stream, Duration::from_secs(5), true) != report.cursor {
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    sync(&mut a).unwrap();
    assert_eq!(stock(&a), 17);
    assert_same(&[&a, &b]);
}

/// A round-robin TCP proxy on 127.0.0.1 in front of `upstreams`: each
/// connection goes to the next instance, or the one after if that one
/// refuses (a load balancer's health check, in short). Counts connections
/// per instance, and those open now.
struct RoundRobin {
    url: String,
    served: Arc<Vec<AtomicU64>>,
    open: Arc<Vec<AtomicU64>>,
}

impl RoundRobin {
    fn start(upstreams: Vec<String>) -> RoundRobin {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served: Arc<Vec<AtomicU64>> =
            Arc::new(upstreams.iter().map(|_| AtomicU64::new(0)).collect());
        let open: Arc<Vec<AtomicU64>> =
            Arc::new(upstreams.iter().map(|_| AtomicU64::new(0)).collect());
        let (counts, opened) = (served.clone(), open.clone());
        // The proxy lives as long as the test process.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let upstreams = Arc::new(upstreams);
                let mut next = 0usize;
                loop {
                    let Ok((mut down, _)) = listener.accept().await else {
                        continue;
                    };
                    let first = next;
                    next += 1;
                    let (upstreams, counts, opened) =
                        (upstreams.clone(), counts.clone(), opened.clone());
                    tokio::spawn(async move {
                        for i in 0..upstreams.len() {
                            let k = (first + i) % upstreams.len();
                            if let Ok(mut up) = tokio::net::TcpStream::connect(&upstreams[k]).await
                            {
                                counts[k].fetch_add(1, Ordering::Relaxed);
                                opened[k].fetch_add(1, Ordering::SeqCst);
                                let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                                opened[k].fetch_sub(1, Ordering::SeqCst);
                                return;
                            }
                        }
                        // No instance answers: the client's connection drops.
                    });
                }
            });
        });
        RoundRobin { url, served, open }
    }

    fn served(&self, k: usize) -> u64 {
        self.served[k].load(Ordering::Relaxed)
    }

    fn open(&self, k: usize) -> u64 {
        self.open[k].load(Ordering::SeqCst)
    }
}

/// Syncs until a sync succeeds; only retryable failures (an instance
/// killed mid-request) are retried.
/// Returns how many tries failed.
fn sync_retrying(s: &mut Store) -> u64 {
    let mut tries = 0;
    while let Err(e) = sync(s) {
        tries += 1;
        assert!(e.is_retryable() && tries < 100, "sync failed: {e}");
        std::thread::sleep(Duration::from_millis(50));
    }
    tries
}

fn sale_ids(s: &Store) -> BTreeSet<String> {
    let mut q = s.connection().prepare("SELECT id FROM sales").unwrap();
    q.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn tills_behind_a_round_robin_proxy_lose_nothing_when_an_instance_dies() {
    if skip_without_postgres() {
        return;
    }
    const TILLS: usize = 4;
    const ROUNDS: u64 = 30;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let a_srv = Server::start_instance(&db, "a");
    let mut b_srv = Server::start_instance(&db, "b");
    let proxy = RoundRobin::start(vec![a_srv.addr.clone(), b_srv.addr.clone()]);

    // Every till enrols and syncs through the proxy only.
    let (_, code) = a_srv.create_store("Corner Shop");
    let first = dir.path().join("t0.db");
    drop(first_till(&first, 10_000));
    let mut tills = vec![enrol_at(&first, &proxy.url, &code, None)];
    let store_id = tills[0].info().store_id.clone();
    for i in 1..TILLS {
        let code = a_srv.code(&store_id, "till");
        let path = dir.path().join(format!("t{i}.db"));
        let name = format!("T{i}");
        tills.push(enrol_at(&path, &proxy.url, &code, Some(&name)));
    }
    for t in &mut tills {
        sync_retrying(t);
    }

    // Each till sells and syncs ROUNDS times; instance B is killed when
    // half the syncs are done.
    let done = AtomicU64::new(0);
    let retried = AtomicU64::new(0);
    let sold: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = tills
            .iter_mut()
            .map(|t| {
                let (done, retried) = (&done, &retried);
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for round in 0..ROUNDS {
                        mine.push(sell(t, 10 + round as i64, 1));
                        retried.fetch_add(sync_retrying(t), Ordering::Relaxed);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    mine
                })
            })
            .collect();
        let half = TILLS as u64 * ROUNDS / 2;
        let start = Instant::now();
        while done.load(Ordering::Relaxed) < half {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "the tills stalled"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            proxy.served(1) > 0,
            "instance B served nothing before it died"
        );
        // Killed while it holds a till's connection, if one comes soon (a
        // sync cut mid-way, which the till retries).
        let waited = Instant::now();
        while proxy.open(1) == 0 && waited.elapsed() < Duration::from_secs(2) {
            std::thread::yield_now();
        }
        b_srv.kill();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let a_before_end = proxy.served(0);
    // Not asserted (the kill may fall between two requests): for the log.
    eprintln!(
        "connections: A {}, B {}; syncs retried after the kill: {}",
        proxy.served(0),
        proxy.served(1),
        retried.load(Ordering::Relaxed)
    );

    // Two more rounds each: everyone has heard of everything.
    for _ in 0..2 {
        for t in &mut tills {
            sync_retrying(t);
        }
    }
    assert!(proxy.served(0) > a_before_end, "A carried on alone");
    let all: BTreeSet<String> = sold.iter().flatten().cloned().collect();
    assert_eq!(all.len(), TILLS * ROUNDS as usize, "sale ids are unique");
    for t in &tills {
        assert_eq!(
            sale_ids(t),
            all,
            "till {} lacks sales or has extra ones",
            t.info().till_name
        );
        assert_eq!(t.sync_status().unwrap().changes_waiting, 0);
        assert_eq!(stock(t), 10_000 - (TILLS as i64) * ROUNDS as i64);
    }
    let refs: Vec<&Store> = tills.iter().collect();
    assert_same(&refs);
    // The server holds exactly the tills' changes, each once.
    let counts = db_ints(&db, "SELECT COUNT(*), COUNT(DISTINCT hash) FROM changes");
    assert_eq!(counts[0], counts[1], "a change stored twice");
    let local: i64 = tills[0]
        .connection()
        .query_row("SELECT COUNT(*) FROM doc_changes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        counts[0], local,
        "the server holds exactly the tills' changes"
    );
    // And its store's counter agrees (numbers without gaps, PROTOCOL.md).
    let head = db_ints(
        &db,
        &format!(
            "SELECT head FROM stores WHERE store_id = '{}'",
            store_id.replace('\'', "")
        ),
    );
    assert_eq!(head[0], local);
}

/// A shop made to publish through one instance: its sales synced through
/// another are derived there for its public catalog too (that instance
/// reads the shop's listing, which the first one wrote), and a shop that
/// does not publish is not derived for its sales on either.
#[test]
fn a_shop_that_publishes_through_one_instance_is_derived_on_the_other() {
    if skip_without_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let one = Server::start_instance(&db, "one");
    let two = Server::start_instance(&db, "two");
    let (_, code) = one.create_store("Corner Shop");
    let a_path = dir.path().join("a.db");
    drop(first_till(&a_path, 20));
    let mut a = enrol_at(&a_path, &one.url, &code, None);
    let store_id = a.info().store_id.clone();
    let mut b = enrol_at(
        &dir.path().join("b.db"),
        &two.url,
        &one.code(&store_id, "till"),
        Some("B"),
    );
    let derivations = |s: &Server| metric(&s.url, "shopsync_public_derivations_total");
    let settle = || std::thread::sleep(Duration::from_millis(600));
    settle();
    let quiet = derivations(&two);
    sell(&mut b, 1, 1);
    sync(&mut b).unwrap();
    settle();
    assert_eq!(derivations(&two), quiet, "not published: no derivation");

    a.set_setting("publish", "true").unwrap();
    sync(&mut a).unwrap();
    wait_for("one derives the catalog change", || {
        common::db_ints(&db, "SELECT COUNT(*) FROM shop_listings WHERE published") == vec![1]
    });
    sell(&mut b, 2, 1);
    sync(&mut b).unwrap();
    wait_for("two derives the sale of a shop that publishes", || {
        derivations(&two) > quiet
    });
}
