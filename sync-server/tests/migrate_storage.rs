//! `shopsync-server migrate-storage`: a SQLite installation with two tills
//! and a customer moves into PostgreSQL; the server starts again on the same
//! address and the tills and the customer carry on without noticing (no
//! restore seen, nothing sent again, nothing lost). Runs only with
//! `SHOPSYNC_TEST_POSTGRES` (scripts/with-postgres.sh).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::*;

fn migrate(from: &std::path::Path, to: &str) -> std::process::Output {
    Command::new(BIN)
        .args(["--json", "migrate-storage", "--from"])
        .arg(from)
        .args(["--to", to])
        .env("SHOPSYNC_LOG", "warn")
        .output()
        .expect("run migrate-storage")
}

#[test]
fn a_sqlite_installation_moves_to_postgresql_and_the_tills_do_not_notice() {
    if skip_without_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let old_db = dir.path().join("server.db");
    let new_db = dir.path().join("moved");
    let to = postgres_url(&new_db).unwrap();

    // Before: a shop with two tills and a customer, on SQLite.
    let mut server = Server::start_sqlite(&old_db);
    let addr = server.addr.clone();
    let (_, code) = server.create_store("Corner Shop");
    let a_path = dir.path().join("a.db");
    drop(first_till(&a_path, 20));
    let mut a = enrol(&a_path, &server, &code, None);
    let store_id = a.info().store_id.clone();
    let b_code = server.code(&store_id, "till");
    let mut b = enrol(&dir.path().join("b.db"), &server, &b_code, Some("B"));
    sell(&mut a, 1, 2);
    sell(&mut b, 2, 3);
    sync(&mut a).unwrap();
    sync(&mut b).unwrap();
    sync(&mut a).unwrap();
    let ana = sign_up(&server.url, "Ana", "phone");
    let ana_token = ana["token"].as_str().unwrap().to_string();
    // A sale the server has not seen yet when it stops.
    sell(&mut b, 3, 1);
    server.kill();

    // Into an empty PostgreSQL database.
    let out = migrate(&old_db, &to);
    assert!(
        out.status.success(),
        "migrate-storage failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = |table: &str| {
        summary["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == table)
            .and_then(|t| t["rows"].as_u64())
            .unwrap_or_else(|| panic!("no {table} in {summary}"))
    };
    assert_eq!(rows("devices"), 2, "{summary}");
    assert_eq!(rows("customer_devices"), 1, "{summary}");
    assert!(rows("changes") > 0, "{summary}");
    assert_eq!(rows("customers"), 1, "{summary}");

    // The same address, now on PostgreSQL: the tills carry on.
    let server = Server::start_on(&new_db, &addr);
    sell(&mut a, 4, 1);
    let report = sync(&mut a).unwrap();
    assert!(!report.server_restored, "till A saw a restore: {report:?}");
    assert_eq!(report.sent_changes, 1, "till A sent again: {report:?}");
    let report = sync(&mut b).unwrap();
    assert!(!report.server_restored, "till B saw a restore: {report:?}");
    sync(&mut a).unwrap();
    assert_eq!(stock(&a), 20 - 2 - 3 - 1 - 1);
    assert_eq!(stock(&b), stock(&a));
    assert_same(&[&a, &b]);
    // The customer's device token still works.
    let (status, me) = get_json(&server.url, "/v1/customers/me", Some(&ana_token));
    assert_eq!(status, 200, "{me}");
    // A new till enrols on the new server (keys continue after the copied ones).
    let c_code = server.code(&store_id, "till");
    let mut c = enrol(&dir.path().join("c.db"), &server, &c_code, Some("C"));
    assert_eq!(stock(&c), stock(&a));
    sell(&mut c, 5, 1);
    sync(&mut c).unwrap();
    sync(&mut a).unwrap();
    assert_eq!(stock(&a), stock(&c));

    // The old file refuses to serve, and a second move finds the target taken.
    let out = Command::new(BIN)
        .arg("--db")
        .arg(&old_db)
        .args(["device", "list", "--store", &store_id])
        .env("SHOPSYNC_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("moved to postgres://"), "{err}");
    let out = migrate(&old_db, &to);
    assert!(!out.status.success());

    // A copy of the moved file is no backup: restoring it over a live
    // database is refused before the live one is touched.
    let live = dir.path().join("live.db");
    Server::start_sqlite(&live).create_store("Live Shop");
    let copy = dir.path().join("moved-copy.db");
    std::fs::copy(&old_db, &copy).unwrap();
    let out = Command::new(BIN)
        .arg("--db")
        .arg(&live)
        .arg("restore")
        .arg(&copy)
        .env("SHOPSYNC_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("moved to PostgreSQL"), "{err}");
    let again = admin_on(
        live.as_os_str(),
        &["store", "create", "--name", "Still Live"],
    );
    assert!(again["store_id"].is_string(), "{again}");
}

#[test]
fn a_move_into_a_database_that_holds_a_shop_changes_nothing() {
    if skip_without_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let old_db = dir.path().join("server.db");
    let busy_db = dir.path().join("busy");
    let to = postgres_url(&busy_db).unwrap();
    let old = Server::start_sqlite(&old_db);
    old.create_store("Old Shop");
    drop(old);
    let busy = Server::start(&busy_db);
    busy.create_store("Busy Shop");

    let out = migrate(&old_db, &to);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already holds"), "{err}");
    // Neither side changed: the old file still serves, the target has its
    // one shop.
    let stores = db_ints(
        &busy_db,
        "SELECT COUNT(*) FROM stores WHERE store_id <> '~customers'",
    );
    assert_eq!(stores, vec![1]);
    let old = Server::start_sqlite(&old_db);
    let listed = old.admin(&["store", "create", "--name", "Still Here"]);
    assert!(listed["store_id"].is_string(), "{listed}");

    // A file that does not exist is not created.
    let missing = dir.path().join("missing.db");
    let out = migrate(&missing, &to);
    assert!(!out.status.success());
    assert!(!missing.exists());
}

/// Moved while the old server still runs: it refuses the next upload (the
/// till keeps its sale), and the sale arrives once the server on
/// PostgreSQL takes the address.
#[test]
fn a_move_under_a_running_server_loses_no_sale() {
    if skip_without_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let old_db = dir.path().join("server.db");
    let new_db = dir.path().join("moved");
    let to = postgres_url(&new_db).unwrap();
    let mut old = Server::start_sqlite(&old_db);
    let addr = old.addr.clone();
    let (_, code) = old.create_store("Corner Shop");
    let a_path = dir.path().join("a.db");
    drop(first_till(&a_path, 10));
    let mut a = enrol(&a_path, &old, &code, None);

    let out = migrate(&old_db, &to);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sell(&mut a, 1, 4);
    let refused = sync(&mut a);
    assert!(
        refused.is_err(),
        "the moved file took an upload: {refused:?}"
    );
    old.kill();

    let new = Server::start_on(&new_db, &addr);
    let report = sync(&mut a).unwrap();
    assert_eq!(report.acked, 1, "{report:?}");
    let b_code = new.code(&a.info().store_id.clone(), "till");
    let b = enrol(&dir.path().join("b.db"), &new, &b_code, Some("B"));
    assert_eq!(stock(&b), 6);
}

/// A file whose server derived catalog and stock events: their cursors move
/// with it, each at most its store's head (PostgreSQL numbers a store's new
/// changes after its own highest), and a store without one starts where
/// the file's events started.
#[test]
fn catalog_and_stock_event_cursors_move_with_the_file() {
    if skip_without_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let old_db = dir.path().join("server.db");
    let new_db = dir.path().join("moved");
    let to = postgres_url(&new_db).unwrap();
    let mut server = Server::start_sqlite(&old_db);
    let (_, code) = server.create_store("Corner Shop");
    let (other_id, _) = server.create_store("Other Shop");
    let a_path = dir.path().join("a.db");
    drop(first_till(&a_path, 20));
    let mut a = enrol(&a_path, &server, &code, None);
    let store_id = a.info().store_id.clone();
    sell(&mut a, 1, 2);
    sync(&mut a).unwrap();
    server.kill();
    // The file itself (the suite's PostgreSQL is only the target here).
    let file = rusqlite::Connection::open(&old_db).unwrap();
    let (shop, head): (i64, i64) = file
        .query_row(
            "SELECT s.pk, MAX(c.seq) FROM stores s JOIN changes c ON c.store_pk = s.pk \
             WHERE s.store_id = ?1",
            [&store_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(head > 1);
    // As a server with `--nats` leaves them: events from seq 1 on, the
    // corner shop's derived up to a number past its own changes.
    file.execute_batch(&format!(
        "INSERT INTO server_meta (key, value) VALUES ('events_from_seq', '1');
         INSERT INTO event_cursors (store_pk, upto) VALUES ({shop}, {})",
        head + 50
    ))
    .unwrap();
    drop(file);
    let out = migrate(&old_db, &to);
    assert!(
        out.status.success(),
        "migrate-storage failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        db_ints(
            &new_db,
            &format!("SELECT upto FROM event_cursors WHERE store_pk = {shop}")
        ),
        vec![head],
        "at most the store's head"
    );
    let other_pk = db_ints(
        &new_db,
        &format!("SELECT pk FROM stores WHERE store_id = '{other_id}'"),
    )[0];
    assert_eq!(
        db_ints(
            &new_db,
            &format!("SELECT upto FROM event_cursors WHERE store_pk = {other_pk}")
        ),
        vec![0],
        "where the file's events started, at most its head (none)"
    );
    assert_eq!(
        db_ints(
            &new_db,
            "SELECT COUNT(*) FROM server_meta WHERE key = 'replica_events'"
        ),
        vec![1]
    );
    assert_eq!(
        db_ints(
            &new_db,
            "SELECT COUNT(*) FROM server_meta WHERE key = 'events_from_seq'"
        ),
        vec![0]
    );
}
