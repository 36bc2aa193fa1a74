//! Who may read and write what, and what the server does with bad input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use automerge::{AutoCommit, ROOT, transaction::Transactable};
use common::*;
use shopsync_core::sync::wire::{self, DocChanges, SyncRequest, SyncResponse};

struct Http {
    client: reqwest::blocking::Client,
    url: String,
}

impl Http {
    fn new(url: &str) -> Http {
        shopsync_core::sync::client::install_crypto_provider();
        Http {
            client: reqwest::blocking::Client::new(),
            url: url.to_string(),
        }
    }

    /// POST /v1/sync; returns (status, response or error JSON).
    fn sync_raw(
        &self,
        token: Option<&str>,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (u16, Result<SyncResponse, serde_json::Value>) {
        let mut rb = self.client.post(format!("{}/v1/sync", self.url));
        if !headers.iter().any(|(k, _)| *k == "content-type") {
            rb = rb.header("content-type", wire::CONTENT_TYPE);
        }
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let resp = rb.body(body).send().unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().unwrap();
        if status == 200 {
            (status, Ok(SyncResponse::decode(&bytes).unwrap()))
        } else {
            let v: serde_json::Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("error body is not JSON: {bytes:?}"));
            assert!(v["error"]["code"].is_string(), "{v}");
            assert!(v["error"]["message"].is_string(), "{v}");
            (status, Err(v))
        }
    }

    fn sync(
        &self,
        token: Option<&str>,
        req: &SyncRequest,
    ) -> (u16, Result<SyncResponse, serde_json::Value>) {
        self.sync_raw(token, req.encode(), &[])
    }
}

/// A fresh change to `doc_id` (no dependencies).
fn change(key: &str) -> Vec<u8> {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, key, "x").unwrap();
    doc.commit();
    doc.get_last_local_change().unwrap().raw_bytes().to_vec()
}

/// A valid ledger record stored under `key` (the server validates ledgers).
fn record_bytes(key: &str) -> automerge::ScalarValue {
    use shopsync_core::records::{AdjustReason, AdjustmentRecord, Record};
    let r = Record::Adjustment(AdjustmentRecord {
        hlc: None,
        staff_id: None,
        approver_id: None,
        id: key.into(),
        at: 1_780_000_000_000,
        product_id: "p".into(),
        delta: 1,
        reason: AdjustReason::Found,
        note: None,
    });
    automerge::ScalarValue::Bytes(r.encode().unwrap())
}

/// A fresh change to `doc_id` whose content passes the server's validation
/// (a record in a ledger, a setting in a catalog).
fn valid_change(doc_id: &str, key: &str) -> Vec<u8> {
    let mut doc = AutoCommit::new();
    if doc_id.contains("/ledger/") {
        doc.put(ROOT, key, record_bytes(key)).unwrap();
    } else if doc_id.ends_with("/catalog") {
        doc.put(ROOT, format!("setting/{key}"), "x").unwrap();
    } else {
        doc.put(ROOT, key, "x").unwrap();
    }
    doc.commit();
    doc.get_last_local_change().unwrap().raw_bytes().to_vec()
}

fn write_req(doc_id: &str) -> SyncRequest {
    SyncRequest::new(
        u64::MAX,
        vec![DocChanges {
            doc_id: doc_id.to_string(),
            changes: vec![valid_change(doc_id, &format!("k{}", rand_suffix()))],
        }],
    )
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn server_state(db: &std::path::Path) -> (i64, i64, i64) {
    let v = db_ints(
        db,
        "SELECT (SELECT COUNT(*) FROM changes), (SELECT COALESCE(MAX(seq),0) FROM changes), (SELECT COUNT(*) FROM documents)",
    );
    (v[0], v[1], v[2])
}

#[test]
fn access_matrix() -> R {
    let mut s = shop(3);
    sell(&mut s.b, 1, 1);
    sync(&mut s.b)?;
    sync(&mut s.a)?;
    let store1 = s.store_id.clone();
    let a_till = s.a.info().till_id.clone();
    let b_till = s.b.info().till_id.clone();
    let a_tok = s.a.sync_config()?.unwrap().token;
    let b_tok = s.b.sync_config()?.unwrap().token;
    // A third till of store 1, revoked.
    let c_code = s.server.code(&store1, "till");
    let c = enrol(&s.dir.path().join("c.db"), &s.server, &c_code, Some("C"));
    let c_cfg = c.sync_config()?.unwrap();
    s.server.admin(&["device", "revoke", &c_cfg.device_id]);
    // A till of another store.
    let (_, x_code) = s.server.create_store("Other Shop");
    let x_path = s.dir.path().join("x.db");
    drop(first_till(&x_path, 1));
    let x = enrol(&x_path, &s.server, &x_code, None);
    let store2 = x.info().store_id.clone();
    let x_till = x.info().till_id.clone();
    let x_tok = x.sync_config()?.unwrap().token;
    let bad_tok = format!(
        "{}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        c_cfg.device_id
    );
    let bad_tok2 = format!(
        "{}.{}",
        s.a.sync_config()?.unwrap().device_id,
        "x".repeat(43)
    );

    let month = "2026-05";
    let catalog1 = format!("store/{store1}/catalog");
    let ledger_a = format!("store/{store1}/ledger/{a_till}/{month}");
    let ledger_b = format!("store/{store1}/ledger/{b_till}/{month}");
    let catalog2 = format!("store/{store2}/catalog");
    let ledger_x = format!("store/{store2}/ledger/{x_till}/{month}");

    let http = Http::new(&s.server.url);
    // (who, token, doc class, doc id, may read, may write (200), refusal status)
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Option<&str>, &str, &str, bool, bool, u16)> = vec![
        ("manager", Some(&a_tok), "catalog", &catalog1, true, true, 0),
        (
            "manager",
            Some(&a_tok),
            "own ledger",
            &ledger_a,
            true,
            true,
            0,
        ),
        (
            "manager",
            Some(&a_tok),
            "other till's ledger",
            &ledger_b,
            true,
            false,
            403,
        ),
        (
            "manager",
            Some(&a_tok),
            "other store's doc",
            &catalog2,
            false,
            false,
            403,
        ),
        ("till", Some(&b_tok), "catalog", &catalog1, true, false, 403),
        ("till", Some(&b_tok), "own ledger", &ledger_b, true, true, 0),
        (
            "till",
            Some(&b_tok),
            "other till's ledger",
            &ledger_a,
            true,
            false,
            403,
        ),
        (
            "till",
            Some(&b_tok),
            "other store's doc",
            &catalog2,
            false,
            false,
            403,
        ),
        (
            "other store",
            Some(&x_tok),
            "catalog",
            &catalog1,
            false,
            false,
            403,
        ),
        (
            "other store",
            Some(&x_tok),
            "own ledger",
            &ledger_x,
            true,
            true,
            0,
        ),
        (
            "other store",
            Some(&x_tok),
            "other till's ledger",
            &ledger_a,
            false,
            false,
            403,
        ),
        (
            "other store",
            Some(&x_tok),
            "other store's doc",
            &ledger_b,
            false,
            false,
            403,
        ),
    ];
    let mut cases = cases;
    for (who, tok) in [
        ("no token", None),
        ("bad token", Some(bad_tok.as_str())),
        ("wrong secret", Some(bad_tok2.as_str())),
        ("revoked", Some(c_cfg.token.as_str())),
    ] {
        for (class, doc) in [
            ("catalog", &catalog1),
            ("own ledger", &ledger_b),
            ("other till's ledger", &ledger_a),
            ("other store's doc", &catalog2),
        ] {
            cases.push((who, tok, class, doc, false, false, 401));
        }
    }
    for (who, tok, class, doc, read, write, refusal) in cases {
        // Read: a full download (since 0) holds the document or not.
        let (status, resp) = http.sync(tok, &SyncRequest::new(0, vec![]));
        if refusal == 401 {
            assert_eq!(status, 401, "{who} read {class}");
        } else {
            let resp = resp.unwrap();
            let has = resp.docs.iter().any(|d| d.doc_id == *doc);
            if class != "own ledger" || who != "other store" {
                assert_eq!(has, read, "{who} read {class}");
            } else {
                // Its own ledger exists once written (below); the rule is checked there.
            }
        }
        // Write: one new change to the document.
        let before = server_state(&s.server.db);
        let (status, resp) = http.sync(tok, &write_req(doc));
        if write {
            assert_eq!(status, 200, "{who} write {class}: {resp:?}");
            assert_eq!(resp.unwrap().acked.len(), 1);
            assert_eq!(server_state(&s.server.db).0, before.0 + 1);
            if read {
                let (_, resp) = http.sync(tok, &SyncRequest::new(0, vec![]));
                assert!(
                    resp.unwrap().docs.iter().any(|d| d.doc_id == *doc),
                    "{who} read {class} after writing"
                );
            }
        } else {
            assert_eq!(status, refusal, "{who} write {class}: {resp:?}");
            assert_eq!(
                server_state(&s.server.db),
                before,
                "{who} write {class} changed the database"
            );
        }
    }
    Ok(())
}

#[test]
fn malformed_input_is_refused_whole_and_the_server_stays_up() -> R {
    let s = shop(3);
    let tok = s.a.sync_config()?.unwrap().token;
    let a_ledger = format!("store/{}/ledger/{}/2026-05", s.store_id, s.a.info().till_id);
    let http = Http::new(&s.server.url);
    let before = server_state(&s.server.db);
    let valid = write_req(&a_ledger);
    let good_body = valid.encode();

    let mut wrong_version = good_body.clone();
    wrong_version[4] = 9;
    let mut mixed = write_req(&a_ledger);
    mixed.docs[0]
        .changes
        .push(b"not an automerge change".to_vec());
    let mut forbidden_too = write_req(&a_ledger);
    // (Nobody writes the public catalog.)
    forbidden_too.docs.push(DocChanges {
        doc_id: format!("store/{}/public", s.store_id),
        changes: vec![change("sneaky")],
    });
    let mut bad_id = write_req(&a_ledger);
    bad_id.docs[0].doc_id = "store/../catalog".into();
    let mut missing_dep = {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "one", record_bytes("one")).unwrap();
        doc.commit();
        doc.put(ROOT, "two", record_bytes("two")).unwrap();
        doc.commit();
        let second = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
        SyncRequest::new(
            0,
            vec![DocChanges {
                doc_id: a_ledger.clone(),
                changes: vec![second],
            }],
        )
    };
    missing_dep.since = 0;
    let bomb = wire::gzip(&vec![0u8; 80 * 1024 * 1024]);
    let oversized = vec![7u8; wire::limits::MAX_REQUEST_BYTES + 1024];

    let cases: Vec<(&str, Vec<u8>, Vec<(&str, &str)>, u16, &str)> = vec![
        (
            "garbage",
            b"hello, server".to_vec(),
            vec![],
            400,
            "malformed",
        ),
        ("empty", vec![], vec![], 400, "malformed"),
        (
            "truncated",
            good_body[..good_body.len() - 10].to_vec(),
            vec![],
            400,
            "truncated",
        ),
        ("wrong version", wrong_version, vec![], 400, "version 9"),
        (
            "invalid change bytes",
            mixed.encode(),
            vec![],
            400,
            "does not decode",
        ),
        (
            "a document it may not write",
            forbidden_too.encode(),
            vec![],
            403,
            "may not write",
        ),
        (
            "a bad document id",
            bad_id.encode(),
            vec![],
            400,
            "not a document id",
        ),
        (
            "a missing dependency",
            missing_dep.encode(),
            vec![],
            422,
            "depends on",
        ),
        (
            "bad gzip",
            b"\x1f\x8b garbage".to_vec(),
            vec![("content-encoding", "gzip")],
            400,
            "decompress",
        ),
        (
            "zip bomb",
            bomb,
            vec![("content-encoding", "gzip")],
            413,
            "limit",
        ),
        ("oversized", oversized, vec![], 413, "limit"),
        (
            "wrong content type",
            good_body.clone(),
            vec![("content-type", "application/json")],
            415,
            "Content-Type",
        ),
    ];
    for (what, body, headers, status, needle) in cases {
        let (got, resp) = http.sync_raw(Some(&tok), body, &headers);
        assert_eq!(got, status, "{what}: {resp:?}");
        let msg = resp.unwrap_err()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            msg.contains(needle),
            "{what}: message {msg:?} lacks {needle:?}"
        );
        assert_eq!(
            server_state(&s.server.db),
            before,
            "{what} changed the database"
        );
    }
    // Bad JSON at enrolment comes back in the same error format.
    let resp = http
        .client
        .post(format!("{}/v1/enrol", s.server.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()?;
    assert_eq!(resp.status().as_u16(), 400);
    let v: serde_json::Value = resp.json()?;
    assert_eq!(v["error"]["code"], "bad_request");
    // Unknown endpoints too.
    let resp = http
        .client
        .get(format!("{}/v2/nothing", s.server.url))
        .send()?;
    assert_eq!(resp.status().as_u16(), 404);
    // Still up, and the valid request still works, twice (a replay is harmless).
    let health = http
        .client
        .get(format!("{}/healthz", s.server.url))
        .send()?;
    assert_eq!(health.status().as_u16(), 200);
    for _ in 0..2 {
        let (status, resp) = http.sync(Some(&tok), &valid);
        assert_eq!(status, 200);
        assert_eq!(resp.unwrap().acked.len(), 1);
        assert_eq!(server_state(&s.server.db).0, before.0 + 1);
    }
    let metrics = http
        .client
        .get(format!("{}/metrics", s.server.url))
        .bearer_auth(TEST_METRICS_TOKEN)
        .send()?
        .text()?;
    let stored: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("shopsync_changes_stored_total "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert_eq!(stored as i64, before.0 + 1, "{metrics}");
    assert!(metrics.contains("shopsync_sync_latency_seconds_count"));
    Ok(())
}

#[test]
fn enrolment_codes_are_single_use_expire_and_attempts_are_limited() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server.db"));
    let (store_id, code) = server.create_store("Shop");
    // A new till cannot join an empty store (there is nothing to download).
    let err = shopsync_core::sync::client::enrol(
        &dir.path().join("n.db"),
        &server.url,
        &code,
        Some("N"),
        &mut |_| {},
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("empty"), "{err}");
    // A till code cannot adopt an empty store either.
    let till_code = server.code(&store_id, "till");
    let t_path = dir.path().join("t.db");
    drop(first_till(&t_path, 1));
    let err =
        shopsync_core::sync::client::enrol(&t_path, &server.url, &till_code, None, &mut |_| {})
            .err()
            .unwrap();
    assert!(err.to_string().contains("manager code"), "{err}");
    // The manager code works once (the failed attempt above did not use it).
    let a = enrol(&t_path, &server, &code, None);
    assert_eq!(a.info().store_id.len(), 36);
    let err = shopsync_core::sync::client::enrol(
        &dir.path().join("m.db"),
        &server.url,
        &code,
        Some("M"),
        &mut |_| {},
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("used already"), "{err}");
    // An expired code.
    let v = server.admin(&[
        "enrol-code",
        "create",
        "--store",
        a.info().store_id.as_str(),
        "--role",
        "till",
        "--ttl-hours",
        "0",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let err = shopsync_core::sync::client::enrol(
        &dir.path().join("e.db"),
        &server.url,
        v["enrol_code"].as_str().unwrap(),
        Some("E"),
        &mut |_| {},
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("expired"), "{err}");
    // Guessing: after 10 failures a minute, 429 even for a good code.
    let good = server.code(a.info().store_id.as_str(), "till");
    let mut limited = false;
    for i in 0..15 {
        let e = shopsync_core::sync::client::enrol(
            &dir.path().join(format!("g{i}.db")),
            &server.url,
            "AAAA-BBBB-CCCC",
            Some("G"),
            &mut |_| {},
        )
        .err()
        .unwrap();
        if e.to_string().contains("429") {
            limited = true;
            break;
        }
    }
    assert!(limited);
    let e = shopsync_core::sync::client::enrol(
        &dir.path().join("ok.db"),
        &server.url,
        &good,
        Some("OK"),
        &mut |_| {},
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("429"), "{e}");
    Ok(())
}
