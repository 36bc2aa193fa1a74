//! Hostile or broken bodies (issue 7, part 4) and idempotent enrolment:
//! bounded inflation, quotas, caps, timeouts, metrics access, till ids,
//! escaped names, plain HTTP refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use automerge::{AutoCommit, ROOT, transaction::Transactable};
use common::*;
use shopsync_core::Store;
use shopsync_core::sync::client::{self, new_till_enrol_key};
use shopsync_core::sync::wire::{self, DocChanges, SyncRequest};

/// A server started with extra `serve` flags (and no metrics token).
struct Custom {
    url: String,
    metrics_url: Option<String>,
    child: Child,
    _database: TestDb,
}

impl Drop for Custom {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hostile_server(db: &Path, extra: &[&str]) -> Custom {
    let database = TestDb::for_path(db);
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(&database.arg)
        .args(["serve", "--listen", "127.0.0.1:0", "--heartbeat-secs", "1"])
        .args(&database.serve_args)
        .args(extra)
        .env("SHOPSYNC_LOG", "warn")
        .env_remove("SHOPSYNC_METRICS_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    let metrics_url = if extra.contains(&"--metrics-listen") {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        Some(
            l.trim()
                .strip_prefix("metrics on ")
                .unwrap_or_else(|| panic!("{l:?}"))
                .to_string(),
        )
    } else {
        None
    };
    Custom {
        url,
        metrics_url,
        child,
        _database: database,
    }
}

/// Waits past the server's own request timeout (120 s, answered 408):
/// inflating the bombs below to refuse them takes over 30 s in a debug build
/// on a loaded 2-core machine (seen with the suite on PostgreSQL, whose
/// cluster shares the cores), and these tests check answers, not speed.
fn http() -> reqwest::blocking::Client {
    client::install_crypto_provider();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(150))
        .build()
        .unwrap()
}

fn post_sync(url: &str, token: &str, req: &SyncRequest) -> (u16, serde_json::Value) {
    let resp = http()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .header("content-type", wire::CONTENT_TYPE)
        .body(req.encode())
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().unwrap();
    let v = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, v)
}

fn post_enrol(url: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let resp = http()
        .post(format!("{url}/v1/enrol"))
        .json(body)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(serde_json::Value::Null))
}

fn changes_stored(db: &Path) -> i64 {
    db_ints(db, "SELECT COUNT(*) FROM changes")[0]
}

/// A valid change that is small on the wire and inflates past the limit.
fn bomb_change() -> Vec<u8> {
    let mut doc = AutoCommit::new();
    let big = shopsync_core::change_bytes::MAX_INFLATED_CHANGE_BYTES + (1 << 20);
    doc.put(ROOT, "blob", automerge::ScalarValue::Bytes(vec![0u8; big]))
        .unwrap();
    doc.commit();
    let mut change = doc.get_last_local_change().unwrap();
    change.bytes().to_vec()
}

/// Many changes that each inflate to just under the per-change limit: the
/// request's total is bounded too (it used to take the server from 18 to
/// 515 MiB and 40 s of CPU for a 5 KB body).
#[test]
fn changes_that_together_inflate_past_the_request_limit_are_refused_413() -> R {
    let s = shop(1);
    let token = s.a.sync_config()?.unwrap().token;
    let each = shopsync_core::change_bytes::MAX_INFLATED_CHANGE_BYTES - (1 << 20);
    let n = shopsync_core::sync::wire::limits::MAX_REQUEST_INFLATED_BYTES / each + 1;
    let changes: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let mut doc = AutoCommit::new();
            doc.put(
                ROOT,
                "blob",
                automerge::ScalarValue::Bytes(vec![i as u8; each]),
            )
            .unwrap();
            doc.commit();
            doc.get_last_local_change().unwrap().bytes().to_vec()
        })
        .collect();
    let wire: usize = changes.iter().map(Vec::len).sum();
    assert!(wire < 1024 * 1024, "small on the wire: {wire}");
    let before = changes_stored(&s.server.db);
    let req = SyncRequest::new(
        0,
        vec![DocChanges {
            doc_id: format!("store/{}/catalog", s.store_id),
            changes,
        }],
    );
    let (status, body) = post_sync(&s.server.url, &token, &req);
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("together"),
        "{body}"
    );
    assert_eq!(changes_stored(&s.server.db), before);
    Ok(())
}

#[test]
fn a_change_that_inflates_past_the_limit_is_refused_413_and_not_stored() -> R {
    let s = shop(1);
    let token = s.a.sync_config()?.unwrap().token;
    let bomb = bomb_change();
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    // Unbounded decoding accepts it: the server used to store it.
    assert!(automerge::Change::try_from(&bomb[..]).is_ok());
    let before = changes_stored(&s.server.db);
    let req = SyncRequest::new(
        0,
        vec![DocChanges {
            doc_id: format!("store/{}/catalog", s.store_id),
            changes: vec![bomb.clone()],
        }],
    );
    let (status, body) = post_sync(&s.server.url, &token, &req);
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("inflates to more than"),
        "{body}"
    );
    assert_eq!(changes_stored(&s.server.db), before);
    // The till refuses it too (a bundle or a server answer carrying it).
    let err = shopsync_core::docs::decode_change(&bomb).err().unwrap();
    assert!(err.to_string().contains("inflates to more than"), "{err}");
    Ok(())
}

/// Every change the server holds for the store (a till's pull from 0).
fn pulled(url: &str, token: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut since = 0;
    loop {
        let resp = http()
            .post(format!("{url}/v1/sync"))
            .bearer_auth(token)
            .header("content-type", wire::CONTENT_TYPE)
            .body(SyncRequest::new(since, vec![]).encode())
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let page = wire::SyncResponse::decode(&resp.bytes().unwrap()).unwrap();
        out.extend(page.docs.into_iter().flat_map(|d| d.changes));
        if !page.more {
            return out;
        }
        since = page.cursor;
    }
}

/// 69 bytes that claim 134 million operations: Automerge took 17 s of CPU
/// (a release build) to decode them. Refused from its run headers at once,
/// as a change of too many operations (422, rule `bounds`), and not stored.
#[test]
fn a_change_claiming_134_million_operations_is_refused_at_once_and_not_stored() -> R {
    use shopsync_core::change_bytes::forge;
    let s = shop(1);
    let token = s.a.sync_config()?.unwrap().token;
    let bomb = forge::repeated_puts(&[7; 16], 1, 1 << 27);
    assert!(bomb.len() < 80, "{}", bomb.len());
    let before = changes_stored(&s.server.db);
    let catalog = format!("store/{}/catalog", s.store_id);
    for change in [bomb.clone(), forge::deflated(&bomb)] {
        let req = SyncRequest::new(
            0,
            vec![DocChanges {
                doc_id: catalog.clone(),
                changes: vec![change],
            }],
        );
        let started = Instant::now();
        let (status, body) = post_sync(&s.server.url, &token, &req);
        let took = started.elapsed();
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], "invalid_record", "{body}");
        assert_eq!(body["error"]["rule"], "bounds", "{body}");
        assert_eq!(body["error"]["record"], "(change)", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("more than 100000 operations"),
            "{body}"
        );
        assert!(took < Duration::from_secs(5), "answered in {took:?}");
    }
    assert_eq!(changes_stored(&s.server.db), before);
    assert!(
        !pulled(&s.server.url, &token).contains(&bomb),
        "a later pull does not carry it"
    );
    Ok(())
}

/// Changes that each hold no more operations than a change may, but more
/// than a request may together: refused whole (413), nothing stored.
#[test]
fn changes_that_together_hold_too_many_operations_are_refused_413() -> R {
    use shopsync_core::change_bytes::forge;
    use shopsync_core::sync::wire::limits::MAX_REQUEST_OPS;
    use shopsync_core::validate::MAX_OPS_PER_CHANGE;
    let s = shop(1);
    let token = s.a.sync_config()?.unwrap().token;
    let n = MAX_REQUEST_OPS / MAX_OPS_PER_CHANGE + 1;
    let changes: Vec<Vec<u8>> = (1..=n as u64)
        .map(|seq| forge::repeated_puts(&[7; 16], seq, MAX_OPS_PER_CHANGE as u64))
        .collect();
    // Each on its own is within the bound (they differ only in seq).
    let first = shopsync_core::change_bytes::decode_change_bounded(
        &changes[0],
        shopsync_core::change_bytes::MAX_INFLATED_CHANGE_BYTES,
    )?;
    assert_eq!(first.len(), MAX_OPS_PER_CHANGE);
    let before = changes_stored(&s.server.db);
    let req = SyncRequest::new(
        0,
        vec![DocChanges {
            doc_id: format!("store/{}/catalog", s.store_id),
            changes,
        }],
    );
    let (status, body) = post_sync(&s.server.url, &token, &req);
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "too_large", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("together"), "{body}");
    assert!(
        message.contains(&format!("change {}", n - 1)),
        "the last one: {body}"
    );
    assert_eq!(changes_stored(&s.server.db), before);
    Ok(())
}

/// Once a device has used its token, its code is spent for good: whoever
/// else saw the code (shell history, a note) cannot enrol again and take the
/// device over, and the real till keeps syncing.
#[test]
fn a_used_code_cannot_take_over_a_device_that_has_synced() -> R {
    let s = shop(1);
    let code = s.server.code(&s.store_id, "till");
    let dir = tempfile::tempdir()?;
    let mut c = enrol(&dir.path().join("c.db"), &s.server, &code, Some("C"));
    sync(&mut c)?;
    let thief = serde_json::json!({
        "protocol": 1, "code": code, "till_id": new_till_enrol_key(&code),
        "till_name": "Other", "store_id": null
    });
    let (status, body) = post_enrol(&s.server.url, &thief);
    assert_ne!(status, 200, "the code was used again: {body}");
    sync(&mut c)?;
    Ok(())
}

#[test]
fn enrolment_retried_after_a_lost_answer_gets_the_same_device() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server.db"));
    let (_, code) = server.create_store("Shop");
    // A till with history adopts the store; its first answer is "lost":
    // the request went through, the till never saw the token.
    let a_path = dir.path().join("a.db");
    let a = first_till(&a_path, 1);
    let (a_store, a_till) = (a.info().store_id.clone(), a.info().till_id.clone());
    drop(a);
    let lost = serde_json::json!({
        "protocol": 1, "code": code, "till_id": a_till, "till_name": "A", "store_id": a_store
    });
    let (status, first) = post_enrol(&server.url, &lost);
    assert_eq!(status, 200, "{first}");
    // The till simply runs the same enrolment again: same device, new token.
    let a = enrol(&a_path, &server, &code, None);
    let cfg = a.sync_config()?.unwrap();
    assert_eq!(cfg.device_id, first["device_id"].as_str().unwrap());
    assert_eq!(a.info().till_id, a_till);
    let (status, _) = post_sync(
        &server.url,
        first["token"].as_str().unwrap(),
        &SyncRequest::new(0, vec![]),
    );
    assert_eq!(status, 401, "the token of the lost answer no longer works");
    assert_eq!(
        post_sync(&server.url, &cfg.token, &SyncRequest::new(0, vec![])).0,
        200
    );
    // A new till: same code and key twice, same device and till id.
    let code2 = server.code(&a_store, "till");
    let req = serde_json::json!({
        "protocol": 1, "code": code2, "till_id": new_till_enrol_key(&code2),
        "till_name": "B", "store_id": null
    });
    let (s1, r1) = post_enrol(&server.url, &req);
    let (s2, r2) = post_enrol(&server.url, &req);
    assert_eq!((s1, s2), (200, 200), "{r1} {r2}");
    assert_eq!(r1["device_id"], r2["device_id"]);
    assert_eq!(r1["till_id"], r2["till_id"]);
    assert_ne!(r1["token"], r2["token"]);
    // The same code with another key is a used code.
    let mut other = req.clone();
    other["till_id"] = "new-someone-else".into();
    let (s3, r3) = post_enrol(&server.url, &other);
    assert_eq!(s3, 403, "{r3}");
    assert!(r3["error"]["message"].as_str().unwrap().contains("used"));
    // The client path: a new till enrolled twice with one code.
    let code3 = server.code(&a_store, "till");
    let (s4, r4) = post_enrol(
        &server.url,
        &serde_json::json!({
            "protocol": 1, "code": code3, "till_id": new_till_enrol_key(&code3),
            "till_name": "C", "store_id": null
        }),
    );
    assert_eq!(s4, 200, "{r4}");
    let c = enrol(&dir.path().join("c.db"), &server, &code3, Some("C"));
    assert_eq!(
        c.sync_config()?.unwrap().device_id,
        r4["device_id"].as_str().unwrap()
    );
    assert_eq!(c.info().till_id, r4["till_id"].as_str().unwrap());
    Ok(())
}

#[test]
fn the_server_assigns_till_ids_and_only_a_code_made_for_a_till_claims_its_history() -> R {
    let mut s = shop(5);
    // A new till gets its id from the server, not from what it sent.
    let code = s.server.code(&s.store_id, "till");
    let c = enrol(&s.dir.path().join("c.db"), &s.server, &code, Some("C"));
    assert_ne!(c.info().till_id, new_till_enrol_key(&code));
    assert_eq!(c.info().till_id.len(), 36);
    // A code holder cannot claim a till id that has not enrolled yet.
    let code = s.server.code(&s.store_id, "till");
    let (status, body) = post_enrol(
        &s.server.url,
        &serde_json::json!({
            "protocol": 1, "code": code, "till_id": "victim-till",
            "till_name": "X", "store_id": s.store_id
        }),
    );
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--till-id victim-till"),
        "{body}"
    );
    // An offline till of this store (joined from a bundle) sold offline.
    let bundle = s.dir.path().join("store.bundle");
    s.a.export_bundle_to(&bundle)?;
    let d_path = s.dir.path().join("d.db");
    let mut d = Store::init_from_bundle(&d_path, &bundle, "D")?;
    let d_till = d.info().till_id.clone();
    sell(&mut d, 5, 2);
    drop(d);
    // A plain code is refused (it says what to do) and is not used up.
    let plain = s.server.code(&s.store_id, "till");
    let err = client::enrol(&d_path, &s.server.url, &plain, None, &mut |_| {})
        .err()
        .unwrap();
    assert!(
        err.to_string().contains(&format!("--till-id {d_till}")),
        "{err}"
    );
    // A code made for another till is refused too.
    let bound_new = s.server.code_for_till(&s.store_id, "someone-else");
    let err = client::enrol(&d_path, &s.server.url, &bound_new, None, &mut |_| {})
        .err()
        .unwrap();
    assert!(err.to_string().contains("--till-id"), "{err}");
    // ... and a new till cannot use a code made for a till with history.
    let (status, body) = post_enrol(
        &s.server.url,
        &serde_json::json!({
            "protocol": 1, "code": bound_new, "till_id": new_till_enrol_key(&bound_new),
            "till_name": "N", "store_id": null
        }),
    );
    assert_eq!(status, 409, "{body}");
    // The code made for it works: its id and its sale are kept.
    let code = s.server.code_for_till(&s.store_id, &d_till);
    let d = enrol(&d_path, &s.server, &code, None);
    assert_eq!(d.info().till_id, d_till);
    sync(&mut s.a)?;
    assert_eq!(stock(&s.a), 3);
    Ok(())
}

#[test]
fn enrol_takes_a_small_body() -> R {
    let s = shop(1);
    let big = serde_json::json!({
        "protocol": 1, "code": "AAAA-BBBB-CCCC", "till_id": "x",
        "till_name": "y".repeat(64 * 1024), "store_id": null
    });
    let (status, body) = post_enrol(&s.server.url, &big);
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
    Ok(())
}

#[test]
fn metrics_need_a_token_or_their_own_listener() -> R {
    let dir = tempfile::tempdir()?;
    let srv = hostile_server(
        &dir.path().join("server.db"),
        &["--metrics-listen", "127.0.0.1:0"],
    );
    let public = http().get(format!("{}/metrics", srv.url)).send()?;
    assert_eq!(public.status().as_u16(), 404);
    let own = http().get(srv.metrics_url.as_ref().unwrap()).send()?;
    assert_eq!(own.status().as_u16(), 200);
    assert!(own.text()?.contains("shopsync_http_requests_total"));
    // With a token (the shared test server sets one).
    let s = shop(1);
    let url = format!("{}/metrics", s.server.url);
    assert_eq!(http().get(&url).send()?.status().as_u16(), 401);
    assert_eq!(
        http()
            .get(&url)
            .bearer_auth("wrong")
            .send()?
            .status()
            .as_u16(),
        401
    );
    let ok = http().get(&url).bearer_auth(TEST_METRICS_TOKEN).send()?;
    assert_eq!(ok.status().as_u16(), 200);
    Ok(())
}

#[test]
fn notice_streams_are_capped_per_device() -> R {
    let s = shop(1);
    let token = s.a.sync_config()?.unwrap().token;
    let open = || {
        http()
            .get(format!("{}/v1/events", s.server.url))
            .bearer_auth(&token)
            .send()
            .unwrap()
    };
    let mut streams: Vec<_> = (0..4).map(|_| open()).collect();
    assert!(streams.iter().all(|r| r.status().as_u16() == 200));
    let fifth = open();
    assert_eq!(fifth.status().as_u16(), 429);
    assert!(fifth.text()?.contains("notice streams"));
    // Another device is not affected.
    let b_token = s.b.sync_config()?.unwrap().token;
    let b = http()
        .get(format!("{}/v1/events", s.server.url))
        .bearer_auth(&b_token)
        .send()?;
    assert_eq!(b.status().as_u16(), 200);
    // A closed stream frees its slot (noticed at the next heartbeat).
    drop(streams.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let again = open();
        if again.status().as_u16() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the slot was never freed");
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

#[test]
fn uploads_past_a_quota_get_429() -> R {
    let dir = tempfile::tempdir()?;
    // Bytes per day.
    let srv = hostile_server(
        &dir.path().join("bytes.db"),
        &["--quota-bytes-per-day", "100"],
    );
    let v = admin(
        &dir.path().join("bytes.db"),
        &["store", "create", "--name", "S"],
    );
    let a_path = dir.path().join("a.db");
    drop(first_till(&a_path, 1));
    let err = client::enrol(
        &a_path,
        &srv.url,
        v["enrol_code"].as_str().unwrap(),
        None,
        &mut |_| {},
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("429"), "{err}");
    assert!(
        err.to_string().contains("quota of 100 bytes a day"),
        "{err}"
    );
    assert_eq!(changes_stored(&dir.path().join("bytes.db")), 0);
    // Ledger documents per device.
    let db = dir.path().join("docs.db");
    let srv = hostile_server(&db, &["--quota-documents", "2"]);
    let v = admin(&db, &["store", "create", "--name", "S"]);
    let b_path = dir.path().join("b.db");
    drop(first_till(&b_path, 1));
    let mut b = client::enrol(
        &b_path,
        &srv.url,
        v["enrol_code"].as_str().unwrap(),
        None,
        &mut |_| {},
    )?
    .0;
    let stored = changes_stored(&db);
    // Two more months: three ledger partitions, over the quota of two.
    sell(&mut b, 60 * 24 * 31, 1);
    b.set_now(m(60 * 24 * 62));
    sell(&mut b, 60 * 24 * 62, 1);
    let err = sync(&mut b).err().unwrap();
    assert!(err.to_string().contains("429"), "{err}");
    assert!(err.to_string().contains("ledger documents"), "{err}");
    assert_eq!(changes_stored(&db), stored);
    Ok(())
}

#[test]
fn a_stalled_request_is_answered_408() -> R {
    let dir = tempfile::tempdir()?;
    let srv = hostile_server(
        &dir.path().join("server.db"),
        &["--request-timeout-secs", "1"],
    );
    let addr = srv.url.trim_start_matches("http://");
    let mut tcp = std::net::TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(15)))?;
    // Promise a body, send one byte of it, then stall.
    tcp.write_all(
        b"POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )?;
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let n = tcp.read(&mut buf)?;
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 408"), "{head:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    Ok(())
}

#[test]
fn device_names_are_shown_escaped() -> R {
    let s = shop(1);
    let code = s.server.code(&s.store_id, "till");
    let (status, body) = post_enrol(
        &s.server.url,
        &serde_json::json!({
            "protocol": 1, "code": code, "till_id": "k1",
            "till_name": "Evil\u{1b}]0;pwned\u{7}\u{1b}[2J", "store_id": null
        }),
    );
    // Enrolment refuses control characters in a name now…
    assert_eq!(status, 400, "{body}");
    // …and a name stored before that (an older server) is shown escaped.
    db_execute(
        &s.server.db,
        &format!(
            "UPDATE devices SET till_name = 'Evil\u{1b}]0;pwned\u{7}\u{1b}[2J' \
             WHERE store_pk = (SELECT pk FROM stores WHERE store_id = '{}')",
            s.store_id
        ),
    );
    let out = Command::new(BIN)
        .arg("--db")
        .arg(db_arg(&s.server.db))
        .args(["device", "list", "--store", &s.store_id])
        .env("SHOPSYNC_LOG", "warn")
        .output()?;
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout)?;
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("Evil\\u{1b}]0;pwned\\u{7}"), "{text}");
    Ok(())
}

#[test]
fn a_till_refuses_plain_http_to_another_machine() -> R {
    let dir = tempfile::tempdir()?;
    // Nothing listens there: the refusal comes before any connection.
    let err = client::enrol(
        &dir.path().join("t.db"),
        "http://192.0.2.10:8787",
        "AAAA-BBBB-CCCC",
        Some("T"),
        &mut |_| {},
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("--allow-insecure-http"), "{err}");
    assert!(!dir.path().join("t.db").exists());
    // Loopback is fine (every other test), and an explicit allowance is
    // remembered for the till's later syncs.
    let s = shop(1);
    let code = s.server.code(&s.store_id, "till");
    let (c, _) = client::enrol_with(
        &s.dir.path().join("c.db"),
        &s.server.url,
        &code,
        Some("C"),
        true,
        &mut |_| {},
    )?;
    assert!(c.sync_allows_insecure_http()?);
    assert!(!s.a.sync_allows_insecure_http()?);
    Ok(())
}
