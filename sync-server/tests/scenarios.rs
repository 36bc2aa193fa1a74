//! Tills and a real server process on one machine stay in step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use shopsync_core::types::StockStatus;
use shopsync_core::{CountScope, Store};

#[test]
fn enrolment_uploads_an_offline_store_and_a_new_till_downloads_it() -> R {
    let s = shop(5);
    assert_eq!(
        s.a.info().store_id,
        s.b.info().store_id,
        "the server adopted A's store id"
    );
    assert_eq!(s.b.info().store_name, "Corner Shop");
    assert_eq!(s.b.info().currency, "EUR");
    assert_eq!(stock(&s.b), 5);
    assert_same(&[&s.a, &s.b]);
    // Nothing changed: one round trip, tiny.
    let mut a = s.a;
    let r = sync(&mut a)?;
    assert_eq!(r.round_trips, 1);
    assert!(r.bytes_up + r.bytes_down < 2048, "idle sync: {r:?}");
    assert_eq!(a.sync_status()?.changes_waiting, 0);
    Ok(())
}

fn last_unit(a_first: bool) -> R {
    let mut s = shop(1);
    sell(&mut s.a, 10, 1);
    sell(&mut s.b, 11, 1);
    let (first, second) = if a_first {
        (&mut s.a, &mut s.b)
    } else {
        (&mut s.b, &mut s.a)
    };
    sync(first)?;
    sync(second)?;
    sync(first)?;
    for t in [&s.a, &s.b] {
        assert_eq!(stock(t), -1, "till {}", t.info().till_name);
        let alerts = t.negative_stock_alerts()?;
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].status, StockStatus::Negative);
        assert_eq!(t.sync_status()?.changes_waiting, 0);
    }
    assert_same(&[&s.a, &s.b]);
    Ok(())
}

#[test]
fn two_tills_sell_the_last_unit_a_syncs_first() -> R {
    last_unit(true)
}

#[test]
fn two_tills_sell_the_last_unit_b_syncs_first() -> R {
    last_unit(false)
}

#[test]
fn count_by_date_across_three_tills_syncing_at_different_times() -> R {
    let mut s = shop(20);
    let c_code = s.server.code(&s.store_id, "till");
    let mut c = enrol(&s.dir.path().join("c.db"), &s.server, &c_code, Some("C"));
    // Before the count: B sells 2 (synced), C sells 3 (not yet), A sells 1.
    sell(&mut s.b, 10, 2);
    sync(&mut s.b)?;
    sync(&mut s.a)?;
    sell(&mut c, 20, 3);
    sell(&mut s.a, 30, 1);
    assert_eq!(stock(&s.a), 17);
    // A counts 14 on the shelf at minute 60 and posts at 62.
    s.a.set_now(m(59));
    let id = s.a.count_start(CountScope::Products(vec!["P".into()]))?;
    s.a.set_now(m(60));
    s.a.count_record(&id, "P", 14)?;
    s.a.set_now(m(62));
    s.a.count_post(&id)?;
    assert_eq!(stock(&s.a), 14);
    // After the count: B sells 2 at 80; C sells 1 dated 40 (before the count,
    // its clock or its network was late) and 4 at 90.
    sell(&mut s.b, 80, 2);
    sell(&mut c, 40, 1);
    sell(&mut c, 90, 4);
    // They sync in a scattered order.
    sync(&mut s.a)?;
    sync(&mut c)?;
    sync(&mut s.b)?;
    sync(&mut s.a)?;
    sync(&mut c)?;
    // 14 counted − 2 (B at 80) − 4 (C at 90); C's 20 and 40 are inside the count.
    for t in [&s.a, &s.b, &c] {
        assert_eq!(stock(t), 8, "till {}", t.info().till_name);
    }
    assert_same(&[&s.a, &s.b, &c]);
    Ok(())
}

#[test]
fn a_till_offline_for_5000_sales_syncs_and_a_new_till_bootstraps() -> R {
    let mut s = shop(10_000);
    for i in 0..5_000 {
        sell(&mut s.b, 10 + i / 100, 1);
    }
    assert_eq!(s.b.sync_status()?.changes_waiting, 5_000);
    let r = sync(&mut s.b)?;
    assert_eq!(r.acked, 5_000);
    assert_eq!(s.b.sync_status()?.changes_waiting, 0);
    let r = sync(&mut s.a)?;
    assert_eq!(r.received_new, 5_000);
    assert_eq!(stock(&s.a), 5_000);
    let code = s.server.code(&s.store_id, "till");
    let (d, report) = shopsync_core::sync::client::enrol(
        &s.dir.path().join("d.db"),
        &s.server.url,
        &code,
        Some("D"),
        &mut |_| {},
    )?;
    assert!(!report.uploaded);
    assert_eq!(stock(&d), 5_000);
    assert_eq!(d.sales(&Default::default())?.len().min(100), 100);
    assert_same(&[&s.a, &s.b, &d]);
    // The enrolment download's page cache, checkpoints and fsyncs are put
    // back, and the WAL it grew is emptied.
    let conn = d.connection();
    let cache: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    let autocheckpoint: i64 = conn.pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0))?;
    assert_eq!((cache, autocheckpoint), (-32_000, 1_000));
    let synchronous: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0))?;
    assert_eq!(synchronous, 2, "FULL again: every sale waits for its fsync");
    // The indexes built at the end of the download are there, none pending.
    let sales_at: bool = conn
        .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'sales_at'")?
        .exists([])?;
    let pending: bool = conn
        .prepare("SELECT 1 FROM meta WHERE key = 'enrol.deferred_indexes'")?
        .exists([])?;
    assert!(sales_at && !pending);
    let wal = std::fs::metadata(s.dir.path().join("d.db-wal"))?.len();
    assert_eq!(wal, 0, "the WAL is emptied after the download");
    Ok(())
}

#[test]
fn server_killed_mid_sync_and_restarted_clients_retry_and_converge() -> R {
    let mut s = shop(100_000);
    let mut expected = 100_000;
    let mut a_sales = 0;
    for round in 0..6 {
        // Both tills sell while the server lives or dies.
        for i in 0..300 {
            sell(&mut s.a, round * 1000 + i, 1);
            sell(&mut s.b, round * 1000 + i, 1);
            a_sales += 1;
        }
        expected -= 600;
        // Kill the server while B's upload is in flight.
        let kill_after = std::time::Duration::from_millis(5 + 7 * round as u64);
        std::thread::scope(|scope| {
            let server = &mut s.server;
            let b = &mut s.b;
            let h = scope.spawn(move || {
                let _ = sync(b);
            });
            std::thread::sleep(kill_after);
            server.kill();
            h.join().unwrap();
        });
        // A tries while the server is down: a retryable failure, nothing lost.
        let err = sync(&mut s.a).unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert!(s.a.sync_status()?.last_error.is_some());
        s.server.restart();
        // Clients retry until a sync succeeds.
        for which in [0, 1, 0] {
            let t = if which == 0 { &mut s.a } else { &mut s.b };
            let mut tries = 0;
            while let Err(e) = sync(t) {
                tries += 1;
                assert!(tries < 20 && e.is_retryable(), "{e}");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
    sync(&mut s.b)?;
    for t in [&s.a, &s.b] {
        assert_eq!(stock(t), expected, "till {}", t.info().till_name);
        assert_eq!(t.sync_status()?.changes_waiting, 0);
    }
    assert_same(&[&s.a, &s.b]);
    // Nothing duplicated on the server: one row per change.
    let counts = db_ints(
        &s.server.db,
        "SELECT COUNT(*), COUNT(DISTINCT hash) FROM changes",
    );
    let (rows, distinct) = (counts[0], counts[1]);
    assert_eq!(rows, distinct);
    let local: i64 =
        s.a.connection()
            .query_row("SELECT COUNT(*) FROM doc_changes", [], |r| r.get(0))?;
    assert_eq!(rows, local, "the server holds exactly the tills' changes");
    assert_eq!(a_sales, 1800);
    Ok(())
}

#[test]
fn notices_arrive_within_a_second_and_revocation_closes_the_stream() -> R {
    use shopsync_core::sync::client::{Client, Notice};
    let mut s = shop(10);
    let cfg = s.a.sync_config()?.unwrap();
    let client = Client::new(&s.server.url, Some(&cfg.token))?;
    let mut stream = client.events(std::time::Duration::from_secs(10))?;
    sell(&mut s.b, 5, 1);
    let started = std::time::Instant::now();
    sync(&mut s.b)?;
    loop {
        match stream.next_notice()? {
            Notice::Changed(_) => break,
            Notice::Heartbeat => {}
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // A background worker on A picks the change up by itself.
    let worker = shopsync_core::sync::client::SyncWorker::spawn(
        s.a.path().to_path_buf(),
        Default::default(),
        |_| {},
    )?;
    sell(&mut s.b, 6, 1);
    sync(&mut s.b)?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while stock(&s.a) != 8 {
        assert!(std::time::Instant::now() < deadline, "worker did not sync");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(worker);
    // Revoking A ends its open stream within about a second.
    s.server.admin(&["device", "revoke", &cfg.device_id]);
    let revoked_at = std::time::Instant::now();
    while stream.next_notice().is_ok() {
        assert!(revoked_at.elapsed() < std::time::Duration::from_secs(3));
    }
    assert!(revoked_at.elapsed() < std::time::Duration::from_secs(3));
    let err = sync(&mut s.a).unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    let devices = s.server.admin(&["device", "list", "--store", &s.store_id]);
    let revoked: Vec<bool> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["revoked"].as_bool().unwrap())
        .collect();
    assert_eq!(revoked, vec![true, false]);
    let _ = Store::open(s.a.path())?;
    Ok(())
}
