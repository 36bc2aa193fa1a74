//! Customer accounts (issue 8): sign-up, link codes, a second device, `me`,
//! revocation, rate limits, and customer tokens kept off till endpoints.
//! The real server on 127.0.0.1:0, driven over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::*;
use serde_json::{Value, json};
use shopsync_core::sync::wire::{self, SyncRequest};
use shopsync_server::Storage;

fn s(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .to_string()
}

fn count(db: &Path, table: &str) -> i64 {
    db_ints(db, &format!("SELECT COUNT(*) FROM {table}"))[0]
}

fn link_code(url: &str, token: &str) -> (u16, Value) {
    post_json(url, "/v1/customers/link-code", Some(token), &json!({}))
}

fn link(url: &str, code: &str, device_name: &str) -> (u16, Value) {
    post_json(
        url,
        "/v1/customers/link",
        None,
        &json!({ "protocol": 1, "code": code, "device_name": device_name }),
    )
}

fn me(url: &str, token: &str) -> (u16, Value) {
    get_json(url, "/v1/customers/me", Some(token))
}

fn revoke(url: &str, token: &str, device_id: &str) -> (u16, Value) {
    post_json(
        url,
        &format!("/v1/customers/devices/{device_id}/revoke"),
        Some(token),
        &json!({}),
    )
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn assert_revoked(status: u16, v: &Value) {
    assert_eq!(status, 401, "{v}");
    assert_eq!(v["error"]["message"], "this device has been revoked", "{v}");
}

#[test]
fn sign_up_then_link_a_second_device_with_a_one_time_code() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server.db"));
    let url = server.url.as_str();

    let (status, phone) = post_json(
        url,
        "/v1/customers",
        None,
        &json!({ "protocol": 1, "name": "  Ana  ", "email": "ana@example.com", "device_name": "phone" }),
    );
    assert_eq!(status, 200, "{phone}");
    let customer = s(&phone, "customer_id");
    let phone_id = s(&phone, "device_id");
    let phone_tok = s(&phone, "token");
    let parsed = uuid::Uuid::parse_str(&customer)?;
    assert_eq!(parsed.get_version_num(), 7, "customer ids are UUID v7");
    assert!(
        phone_tok.starts_with(&format!("{phone_id}.")),
        "{phone_tok}"
    );
    assert_eq!(count(&server.db, "customers"), 1);

    let (status, v) = me(url, &phone_tok);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["customer_id"], customer.as_str());
    assert_eq!(v["name"], "Ana", "the name is trimmed");
    assert_eq!(v["email"], "ana@example.com");
    assert_eq!(v["devices"].as_array().unwrap().len(), 1);
    assert_eq!(v["devices"][0]["device_name"], "phone");

    // A link code: XXXX-XXXX-XXXX, valid 10 minutes, stored hashed.
    let before = now_ms();
    let (status, lc) = link_code(url, &phone_tok);
    assert_eq!(status, 200, "{lc}");
    let code = s(&lc, "code");
    assert_eq!(code.len(), 14, "{code}");
    assert_eq!(code.matches('-').count(), 2, "{code}");
    let expires = lc["expires_at"].as_i64().unwrap();
    assert!(
        expires >= before + 10 * 60_000 && expires <= now_ms() + 10 * 60_000,
        "{expires}"
    );
    let Cell::Bytes(stored) =
        db_row(&server.db, "SELECT code_hash FROM customer_link_codes").remove(0)
    else {
        panic!("code_hash is not bytes");
    };
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, code.as_bytes());

    // The second device: same customer, a device and token of its own.
    // (Case and dashes of the code do not matter.)
    let typed = code.to_lowercase().replace('-', " ");
    let (status, laptop) = link(url, &typed, "laptop");
    assert_eq!(status, 200, "{laptop}");
    assert_eq!(s(&laptop, "customer_id"), customer);
    let laptop_tok = s(&laptop, "token");
    assert_ne!(s(&laptop, "device_id"), phone_id);
    assert_ne!(laptop_tok, phone_tok);

    let (status, v) = me(url, &laptop_tok);
    assert_eq!(status, 200, "{v}");
    let names: Vec<&str> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["phone", "laptop"]);
    assert!(v["devices"][1]["created_at"].as_i64().unwrap() >= before);
    assert_eq!(v["devices"][1]["revoked"], false);

    // The code works once.
    let (status, v) = link(url, &code, "tablet");
    assert_eq!(status, 403, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("used"),
        "{v}"
    );
    let (status, v) = link(url, "AAAA-BBBB-CCCC", "tablet");
    assert_eq!(status, 403, "{v}");
    assert_eq!(count(&server.db, "customer_devices"), 2);

    // A device named nothing is "device".
    let (_, lc) = link_code(url, &laptop_tok);
    let (status, v) = post_json(
        url,
        "/v1/customers/link",
        None,
        &json!({ "protocol": 1, "code": s(&lc, "code") }),
    );
    assert_eq!(status, 200, "{v}");
    let (_, v) = me(url, &phone_tok);
    assert_eq!(v["devices"][2]["device_name"], "device");
    Ok(())
}

#[test]
fn an_expired_link_code_is_refused() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server.db"));
    let url = server.url.as_str();
    let ana = sign_up(url, "Ana", "phone");
    let customer = s(&ana, "customer_id");
    // A code made 20 minutes ago, expired 10 minutes ago, through Storage
    // on the server's own database.
    let code = shopsync_server::admin::new_code();
    let rt = tokio::runtime::Runtime::new()?;
    match postgres_url(&server.db) {
        Some(db) => {
            let storage = rt.block_on(shopsync_server::PgStorage::connect(&db))?;
            rt.block_on(expired_link_code(
                &storage, url, &server.db, &customer, &code,
            ))
        }
        None => {
            let storage = shopsync_server::SqliteStorage::open(&server.db)?;
            rt.block_on(expired_link_code(
                &storage, url, &server.db, &customer, &code,
            ))
        }
    }
}

async fn expired_link_code<S: Storage>(
    storage: &S,
    url: &str,
    db: &Path,
    customer: &str,
    code: &str,
) -> R {
    let now = now_ms();
    storage
        .create_link_code(
            customer.to_string(),
            shopsync_server::auth::sha256(shopsync_server::api::normalise_code(code).as_bytes()),
            now - 20 * 60_000,
            now - 10 * 60_000,
        )
        .await?;
    // The blocking client in a thread of its own (this runs in a runtime).
    let (url, code) = (url.to_string(), code.to_string());
    let (status, v) = std::thread::spawn(move || link(&url, &code, "laptop"))
        .join()
        .unwrap();
    assert_eq!(status, 403, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("expired"),
        "{v}"
    );
    assert_eq!(count(db, "customer_devices"), 1);
    // The same through Storage: still unused, still refused.
    let found = storage.customer(customer.to_string()).await?.unwrap();
    assert_eq!(found.devices.len(), 1);
    Ok(())
}

#[test]
fn bad_names_and_emails_are_refused_400_and_nothing_is_stored() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start_with(
        &dir.path().join("server.db"),
        "127.0.0.1:0",
        &["--signups-per-minute", "100"],
    );
    let url = server.url.as_str();
    let long_email = format!("{}@example.com", "a".repeat(250));
    let bad = [
        json!({ "protocol": 1, "name": "" }),
        json!({ "protocol": 1, "name": "   " }),
        json!({ "protocol": 1, "name": "x".repeat(101) }),
        json!({ "protocol": 1, "name": "Ana\nBen" }),
        json!({ "protocol": 1, "name": "Ana", "email": "ana.example.com" }),
        json!({ "protocol": 1, "name": "Ana", "email": "" }),
        json!({ "protocol": 1, "name": "Ana", "email": long_email }),
        json!({ "protocol": 1, "name": "Ana", "email": "a b@c.d" }),
        json!({ "protocol": 1, "name": "Ana", "device_name": "" }),
        json!({ "protocol": 1, "name": "Ana", "device_name": "d".repeat(101) }),
        json!({ "protocol": 2, "name": "Ana" }),
        json!({ "protocol": 1 }),
        json!({ "name": "Ana" }),
    ];
    for body in &bad {
        let (status, v) = post_json(url, "/v1/customers", None, body);
        assert_eq!(status, 400, "{body} -> {v}");
        assert_eq!(v["error"]["code"], "bad_request", "{v}");
    }
    // Not JSON at all: 400 in the same shape.
    let resp = json_client()
        .post(format!("{url}/v1/customers"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()?;
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value = resp.json()?;
    assert_eq!(v["error"]["code"], "bad_request", "{v}");
    // An oversized body: 413.
    let (status, _) = post_json(
        url,
        "/v1/customers",
        None,
        &json!({ "protocol": 1, "name": "Ana", "pad": "x".repeat(8 * 1024) }),
    );
    assert_eq!(status, 413);
    assert_eq!(count(&server.db, "customers"), 0);
    assert_eq!(count(&server.db, "customer_devices"), 0);

    // The limits themselves are allowed: 100 characters, 254 bytes.
    let email = format!("{}@example.com", "a".repeat(254 - 12));
    assert_eq!(email.len(), 254);
    let (status, v) = post_json(
        url,
        "/v1/customers",
        None,
        &json!({ "protocol": 1, "name": "é".repeat(100), "email": email, "device_name": "d".repeat(100) }),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(count(&server.db, "customers"), 1);
    Ok(())
}

#[test]
fn sign_ups_are_rate_limited_per_address() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start_with(
        &dir.path().join("server.db"),
        "127.0.0.1:0",
        &["--signups-per-minute", "3"],
    );
    let url = server.url.as_str();
    for i in 0..3 {
        sign_up(url, &format!("Customer {i}"), "phone");
    }
    let (status, v) = post_json(
        url,
        "/v1/customers",
        None,
        &json!({ "protocol": 1, "name": "One too many" }),
    );
    assert_eq!(status, 429, "{v}");
    assert_eq!(v["error"]["code"], "too_many_requests", "{v}");
    assert_eq!(count(&server.db, "customers"), 3);
    Ok(())
}

#[test]
fn failed_links_are_rate_limited_like_enrolment() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server.db"));
    let url = server.url.as_str();
    let ana = sign_up(url, "Ana", "phone");
    let tok = s(&ana, "token");
    let (_, lc) = link_code(url, &tok);
    let good = s(&lc, "code");
    // Guessing: 403 until the limit (10 failures a minute), then 429.
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(link(url, "AAAA-BBBB-CCCC", "thief").0);
    }
    assert_eq!(&statuses[..10], &[403; 10]);
    assert_eq!(statuses[10], 429);
    // Even a good code waits now, and is not used up.
    let (status, v) = link(url, &good, "laptop");
    assert_eq!(status, 429, "{v}");
    assert_eq!(count(&server.db, "customer_devices"), 1);
    let used = db_row(&server.db, "SELECT used_at FROM customer_link_codes").remove(0);
    assert_eq!(used, Cell::Null);
    Ok(())
}

#[test]
fn a_revoked_device_gets_401_and_the_others_keep_working() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server.db"));
    let url = server.url.as_str();
    let phone = sign_up(url, "Ana", "phone");
    let phone_tok = s(&phone, "token");
    let mut devices = Vec::new();
    for name in ["laptop", "tablet"] {
        let (_, lc) = link_code(url, &phone_tok);
        let (status, v) = link(url, &s(&lc, "code"), name);
        assert_eq!(status, 200, "{v}");
        devices.push(v);
    }
    let (laptop_id, laptop_tok) = (s(&devices[0], "device_id"), s(&devices[0], "token"));
    let (tablet_id, tablet_tok) = (s(&devices[1], "device_id"), s(&devices[1], "token"));

    // The customer path: the phone revokes the laptop.
    let (status, v) = revoke(url, &phone_tok, &laptop_id);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["revoked"], true);
    let (status, v) = me(url, &laptop_tok);
    assert_revoked(status, &v);
    let (status, v) = link_code(url, &laptop_tok);
    assert_revoked(status, &v);
    let (status, v) = me(url, &phone_tok);
    assert_eq!(status, 200, "{v}");
    let revoked: Vec<bool> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["revoked"].as_bool().unwrap())
        .collect();
    assert_eq!(revoked, [false, true, false]);

    // The admin path: `device revoke` works for a customer's device.
    let out = server.admin(&["device", "revoke", &tablet_id]);
    assert_eq!(out["revoked"], true);
    let (status, v) = me(url, &tablet_tok);
    assert_revoked(status, &v);
    let (status, v) = revoke(url, &tablet_tok, &s(&phone, "device_id"));
    assert_revoked(status, &v);
    let (status, v) = me(url, &phone_tok);
    assert_eq!(status, 200, "{v}");

    // Another customer cannot revoke Ana's device (404, nothing changes),
    // nor an unknown one.
    let ben = sign_up(url, "Ben", "phone");
    let (status, v) = revoke(url, &s(&ben, "token"), &s(&phone, "device_id"));
    assert_eq!(status, 404, "{v}");
    let (status, _) = me(url, &phone_tok);
    assert_eq!(status, 200);
    let (status, _) = revoke(url, &phone_tok, "no-such-device");
    assert_eq!(status, 404);
    // A wrong secret for a good device id is refused too.
    let forged = format!("{}.{}", s(&phone, "device_id"), "A".repeat(43));
    let (status, v) = me(url, &forged);
    assert_eq!(status, 401, "{v}");
    assert_eq!(v["error"]["message"], "invalid device token");
    Ok(())
}

#[test]
fn customers_and_tills_stay_on_their_own_endpoints() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server.db"));
    let url = server.url.as_str();
    let ana = sign_up(url, "Ana", "phone");
    let ana_tok = s(&ana, "token");

    // A customer token on the till's sync: 403, pointing elsewhere.
    let resp = json_client()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(&ana_tok)
        .header("content-type", wire::CONTENT_TYPE)
        .body(SyncRequest::new(0, Vec::new()).encode())
        .send()?;
    assert_eq!(resp.status().as_u16(), 403);
    let v: Value = resp.json()?;
    assert_eq!(
        v["error"]["message"], "customer devices sync with /v1/customer/sync",
        "{v}"
    );
    // And on the till's notice stream.
    let (status, v) = get_json(url, "/v1/events", Some(&ana_tok));
    assert_eq!(status, 403, "{v}");

    // A till is not a customer: 403 on the customer endpoints.
    let (_, code) = server.create_store("Corner Shop");
    let till_path = dir.path().join("till.db");
    drop(first_till(&till_path, 1));
    let till = enrol(&till_path, &server, &code, None);
    let cfg = till.sync_config()?.unwrap();
    let (status, v) = me(url, &cfg.token);
    assert_eq!(status, 403, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a customer"),
        "{v}"
    );
    let (status, _) = link_code(url, &cfg.token);
    assert_eq!(status, 403);
    let (status, _) = revoke(url, &cfg.token, &s(&ana, "device_id"));
    assert_eq!(status, 403);
    let (status, _) = me(url, &ana_tok);
    assert_eq!(status, 200, "Ana's device was not revoked by the till");
    // The till still syncs; no token at all gets 401.
    let resp = json_client()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(&cfg.token)
        .header("content-type", wire::CONTENT_TYPE)
        .body(SyncRequest::new(0, Vec::new()).encode())
        .send()?;
    assert_eq!(resp.status().as_u16(), 200);
    let (status, _) = get_json(url, "/v1/customers/me", None);
    assert_eq!(status, 401);

    // The reserved store of customers' documents is no store to an admin.
    let out = std::process::Command::new(BIN)
        .arg("--db")
        .arg(db_arg(&server.db))
        .args(["--json", "device", "list", "--store", "~customers"])
        .output()?;
    assert!(!out.status.success(), "device list of ~customers must fail");
    let out = std::process::Command::new(BIN)
        .arg("--db")
        .arg(db_arg(&server.db))
        .args([
            "--json",
            "enrol-code",
            "create",
            "--store",
            "~customers",
            "--role",
            "till",
        ])
        .output()?;
    assert!(!out.status.success(), "no enrolment code for ~customers");
    Ok(())
}
