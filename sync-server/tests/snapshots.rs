//! A new till from the server's snapshot of its store (issue 11, "a new
//! till in seconds"), with a real server process on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use shopsync_core::sync::client::{self, Client};
use shopsync_core::sync::snapshot::{CURSOR_HEADER, SCHEMA_HEADER, SNAPSHOT_PATH};
use shopsync_core::{SalesFilter, Store};

/// Snapshots from 5 changes on; after the first, no refresh for an hour.
const SNAPSHOT_FLAGS: &[&str] = &["--snapshot-from", "5", "--snapshot-every-secs", "3600"];

fn start(dir: &Path, flags: &[&str]) -> Server {
    Server::start_with(&dir.join("server.db"), "127.0.0.1:0", flags)
}

fn snapshot_dir(server: &Server) -> PathBuf {
    PathBuf::from(format!("{}.snapshots", server.db.display()))
}

fn token(s: &Store) -> String {
    s.sync_config().unwrap().unwrap().token
}

fn head(s: &mut Store) -> u64 {
    sync(s).unwrap().cursor
}

/// `HEAD /v1/snapshot` as `s`: the status and the snapshot's cursor.
fn ask(server: &Server, token: Option<&str>, schema: Option<&str>) -> (u16, Option<u64>) {
    let mut req = reqwest::blocking::Client::new().head(format!("{}{SNAPSHOT_PATH}", server.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(v) = schema {
        req = req.header(SCHEMA_HEADER, v);
    }
    let resp = req.send().unwrap();
    let cursor = resp
        .headers()
        .get(CURSOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (resp.status().as_u16(), cursor)
}

fn schema() -> String {
    shopsync_core::db::schema_version().to_string()
}

/// Waits until the server's snapshot holds every change up to `head`.
fn wait_for_snapshot(server: &Server, token: &str, head: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let (200, Some(c)) = ask(server, Some(token), Some(&schema()))
            && c >= head
        {
            return c;
        }
        assert!(Instant::now() < deadline, "no snapshot of {head} changes");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A new till "C" of `store_id` enrolled at `{dir}/c.db`, with its report.
fn new_till(
    server: &Server,
    dir: &Path,
    store_id: &str,
) -> Result<(Store, client::EnrolReport), client::SyncError> {
    let code = server.code(store_id, "till");
    client::enrol(
        &dir.join("c.db"),
        &server.url,
        &code,
        Some("C"),
        &mut |_| {},
    )
}

fn sales(s: &Store) -> usize {
    s.sales(&SalesFilter::default()).unwrap().len()
}

/// A shop whose store holds enough changes for a snapshot, and it ready.
fn shop_with_snapshot(dir: &Path) -> (Server, Store, u64) {
    shop_with_snapshot_flags(dir, SNAPSHOT_FLAGS)
}

fn shop_with_snapshot_flags(dir: &Path, flags: &[&str]) -> (Server, Store, u64) {
    let server = start(dir, flags);
    let (_, code) = server.create_store("Corner Shop");
    let mut a = first_till(&dir.join("a.db"), 50);
    for i in 1..=6 {
        sell(&mut a, i, 1);
    }
    drop(a);
    let mut a = enrol(&dir.join("a.db"), &server, &code, None);
    let h = head(&mut a);
    let cursor = wait_for_snapshot(&server, &token(&a), h);
    (server, a, cursor)
}

#[test]
fn a_new_till_starts_from_the_snapshot_and_syncs_what_came_after() -> R {
    let dir = tempfile::tempdir()?;
    let (server, mut a, cursor) = shop_with_snapshot(dir.path());
    // After the snapshot: two more sales the new till must sync.
    sell(&mut a, 10, 2);
    sell(&mut a, 11, 1);
    sync(&mut a)?;
    let store_id = a.info().store_id.clone();
    let code = server.code(&store_id, "till");
    let c_path = dir.path().join("c.db");
    let (mut c, report) = client::enrol(&c_path, &server.url, &code, Some("C"), &mut |_| {})?;
    assert_eq!(
        report.snapshot_cursor,
        Some(cursor),
        "started from the snapshot"
    );
    assert!(
        report.sync.received_new >= 2,
        "the later sales came by sync"
    );
    // One download: the HEAD requests (the till's, the test's) count none.
    assert_eq!(
        metric(&server.url, "shopsync_snapshot_downloads_total"),
        1.0
    );
    assert_eq!(sales(&c), sales(&a));
    assert_eq!(stock(&c), stock(&a));
    assert_same(&[&a, &c]);
    // The till is itself, not the server's copy.
    assert_eq!(c.info().till_name, "C");
    assert_eq!(c.info().till_id, report.till_id);
    assert_eq!(c.sync_config()?.unwrap().device_id, report.device_id);
    assert!(
        c.sync_status()?.changes_waiting == 0,
        "nothing of the copy goes back"
    );
    assert!(
        !shopsync_core::sync::snapshot::download_path(&c_path).exists(),
        "the download is gone once adopted"
    );
    // It sells and syncs like any till, and its sale reaches A.
    sell(&mut c, 20, 1);
    sync(&mut c)?;
    sync(&mut a)?;
    assert_eq!(sales(&a), sales(&c));
    assert_same(&[&a, &c]);
    // Opened again, it is the same till.
    drop(c);
    let c = Store::open(&c_path)?;
    assert_eq!(c.info().till_name, "C");
    assert_eq!(sales(&c), sales(&a));
    Ok(())
}

/// The store's published files (`{store}.{cursor}.snapshot`).
fn published(server: &Server, store_id: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(snapshot_dir(server))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(store_id) && n.ends_with(".snapshot"))
        .collect();
    names.sort();
    names
}

#[test]
fn the_snapshot_follows_the_store_and_keeps_one_published_file() -> R {
    let dir = tempfile::tempdir()?;
    let flags = &["--snapshot-from", "5", "--snapshot-every-secs", "0"];
    let (server, mut a, first) = shop_with_snapshot_flags(dir.path(), flags);
    let store_id = a.info().store_id.clone();
    assert_eq!(
        published(&server, &store_id),
        [format!("{store_id}.{first}.snapshot")]
    );
    sell(&mut a, 30, 1);
    sell(&mut a, 31, 1);
    let h = head(&mut a);
    assert!(h > first);
    let second = wait_for_snapshot(&server, &token(&a), h);
    assert_eq!(second, h, "refreshed up to the store's head");
    assert_eq!(
        published(&server, &store_id),
        [format!("{store_id}.{second}.snapshot")],
        "the older file is gone"
    );
    let (c, report) = new_till(&server, dir.path(), &store_id)?;
    assert_eq!(report.snapshot_cursor, Some(second));
    assert_eq!(sales(&c), sales(&a));
    assert_same(&[&a, &c]);
    Ok(())
}

#[test]
fn a_snapshot_goes_only_to_the_stores_own_devices_and_to_tills_that_can_open_it() -> R {
    let dir = tempfile::tempdir()?;
    let (server, a, _) = shop_with_snapshot(dir.path());
    let t = token(&a);
    assert_eq!(ask(&server, None, Some(&schema())).0, 401, "no token");
    assert_eq!(ask(&server, Some("forged"), Some(&schema())).0, 401);
    assert_eq!(ask(&server, Some(&t), None).0, 400, "no schema named");
    assert_eq!(
        ask(&server, Some(&t), Some("1")).0,
        404,
        "a till older than the snapshot's schema downloads the changes"
    );
    // Another store's device gets its own store's.
    let (_, other_code) = server.create_store("Other Shop");
    let other_path = dir.path().join("other.db");
    let mut theirs_till = first_till(&other_path, 50);
    for i in 1..=6 {
        sell(&mut theirs_till, i, 1);
    }
    drop(theirs_till);
    let mut other = enrol(&other_path, &server, &other_code, None);
    let other_head = head(&mut other);
    wait_for_snapshot(&server, &token(&other), other_head);
    let theirs = dir.path().join("theirs.db");
    let got = Client::for_store(&other)?.download_snapshot(&theirs, &mut |_| {})?;
    assert!(got.is_some(), "the other store has a snapshot of its own");
    let conn = rusqlite::Connection::open(&theirs)?;
    let store: String =
        conn.query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |r| {
            r.get(0)
        })?;
    assert_eq!(store, other.info().store_id);
    assert_ne!(store, a.info().store_id);
    // A revoked device gets nothing.
    let device = a.sync_config()?.unwrap().device_id;
    server.admin(&["device", "revoke", &device]);
    assert_eq!(ask(&server, Some(&t), Some(&schema())).0, 401);
    Ok(())
}

#[test]
fn a_damaged_snapshot_changes_nothing_and_the_new_till_downloads_the_changes() -> R {
    let dir = tempfile::tempdir()?;
    let (server, a, _) = shop_with_snapshot(dir.path());
    // A byte of the published copy changes on disk after it was described.
    let store_id = a.info().store_id.clone();
    let file = snapshot_dir(&server).join(&published(&server, &store_id)[0]);
    let mut bytes = std::fs::read(&file)?;
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&file, bytes)?;
    let code = server.code(&a.info().store_id, "till");
    let c_path = dir.path().join("c.db");
    let (c, report) = client::enrol(&c_path, &server.url, &code, Some("C"), &mut |_| {})?;
    assert_eq!(
        report.snapshot_cursor, None,
        "the damaged snapshot was refused"
    );
    assert!(report.sync.received_new > 0, "the changes came instead");
    assert_eq!(sales(&c), sales(&a));
    assert_same(&[&a, &c]);
    assert!(!shopsync_core::sync::snapshot::download_path(&c_path).exists());
    Ok(())
}

#[test]
fn without_snapshots_a_new_till_downloads_the_changes() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start_with(
        &dir.path().join("server.db"),
        "127.0.0.1:0",
        &["--snapshot-from", "0"],
    );
    let (_, code) = server.create_store("Corner Shop");
    let mut a = first_till(&dir.path().join("a.db"), 50);
    for i in 1..=6 {
        sell(&mut a, i, 1);
    }
    drop(a);
    let a = enrol(&dir.path().join("a.db"), &server, &code, None);
    assert_eq!(ask(&server, Some(&token(&a)), Some(&schema())).0, 404);
    let (c, report) = new_till(&server, dir.path(), &a.info().store_id)?;
    assert_eq!(report.snapshot_cursor, None);
    assert_eq!(sales(&c), sales(&a));
    let _ = Client::for_store(&c)?;
    Ok(())
}

/// A server restored from a backup (a new epoch): the old snapshot is not
/// served; once the tills have synced again it is made anew, and a new till
/// from it has every sale.
#[test]
fn a_restored_server_makes_its_snapshot_again() -> R {
    if skip_on_postgres("`backup` and `restore` copy SQLite files") {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let flags = &["--snapshot-from", "5", "--snapshot-every-secs", "0"];
    let (mut server, mut a, _) = shop_with_snapshot_flags(dir.path(), flags);
    let backup = dir.path().join("backup.db");
    server.admin(&["backup", backup.to_str().unwrap()]);
    sell(&mut a, 40, 1);
    sync(&mut a)?;
    server.kill();
    admin(&server.db, &["restore", backup.to_str().unwrap()]);
    let addr = server.addr.clone();
    let db = server.db.clone();
    server = Server::start_with(&db, &addr, flags);
    assert_eq!(
        ask(&server, Some(&token(&a)), Some(&schema())).0,
        404,
        "the old lifetime's snapshot is not served"
    );
    // A sends what the restored server lost; the snapshot is made again.
    let h = head(&mut a);
    let cursor = wait_for_snapshot(&server, &token(&a), h);
    let (c, report) = new_till(&server, dir.path(), &a.info().store_id)?;
    assert_eq!(report.snapshot_cursor, Some(cursor));
    assert_eq!(sales(&c), sales(&a));
    assert_same(&[&a, &c]);
    Ok(())
}

/// A refresh stopped half way leaves a temporary file or a published file
/// no description names: removed when the server starts; the described
/// snapshot stays and is served.
#[test]
fn what_a_stopped_refresh_left_goes_at_the_next_start() -> R {
    let dir = tempfile::tempdir()?;
    let (mut server, a, cursor) = shop_with_snapshot(dir.path());
    let store_id = a.info().store_id.clone();
    let folder = snapshot_dir(&server);
    let tmp = folder.join(format!("{store_id}.snapshot.tmp"));
    let orphan = folder.join(format!("{store_id}.{}.snapshot", cursor + 1000));
    std::fs::write(&tmp, b"half a copy")?;
    std::fs::write(&orphan, b"never described")?;
    server.restart_with(SNAPSHOT_FLAGS);
    let deadline = Instant::now() + Duration::from_secs(30);
    while tmp.exists() || orphan.exists() {
        assert!(Instant::now() < deadline, "the leftovers stayed");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        published(&server, &store_id),
        [format!("{store_id}.{cursor}.snapshot")]
    );
    assert_eq!(
        ask(&server, Some(&token(&a)), Some(&schema())),
        (200, Some(cursor))
    );
    Ok(())
}
