//! The customer's web app, served at `/` by the real server process: with
//! the placeholder page (no app built) or with `customer-web/dist`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::{self, HeaderMap};
use shopsync_server::web_app::{CONTENT_SECURITY_POLICY, embedded_files};

fn start(extra: &[&str]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(&dir.path().join("server.db"), "127.0.0.1:0", extra);
    (dir, server)
}

fn get(server: &Server, path: &str, headers: &[(header::HeaderName, &str)]) -> Response {
    let mut rb = json_client().get(format!("{}{path}", server.url));
    for (name, value) in headers {
        rb = rb.header(name, *value);
    }
    rb.send().unwrap()
}

fn header(h: &HeaderMap, name: header::HeaderName) -> &str {
    h.get(&name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name} in {h:?}"))
}

/// The app's own files, beyond the index (the placeholder is alone).
fn app_built() -> bool {
    embedded_files()
        .iter()
        .any(|(name, _)| *name != "index.html")
}

fn expected_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        Some("png") => "image/png",
        other => panic!("no expected Content-Type for {name} ({other:?})"),
    }
}

fn assert_app_headers(h: &HeaderMap) {
    assert_eq!(
        header(h, header::CONTENT_SECURITY_POLICY),
        CONTENT_SECURITY_POLICY
    );
    assert_eq!(header(h, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(header(h, header::REFERRER_POLICY), "no-referrer");
    assert_eq!(header(h, header::CACHE_CONTROL), "no-cache");
    let etag = header(h, header::ETAG);
    assert!(etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'));
}

#[test]
fn the_index_is_html_with_the_security_headers() {
    let (_dir, server) = start(&[]);
    let resp = get(&server, "/", &[]);
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(header(&h, header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_app_headers(&h);
    assert!(h.get(header::CONTENT_ENCODING).is_none());
    let body = resp.text().unwrap();
    assert!(body.starts_with("<!doctype html>") || body.starts_with("<!DOCTYPE html>"));
    let placeholder = body.contains("The customer app was not built into this server");
    assert_eq!(placeholder, !app_built(), "{body}");
    // The same file by name.
    assert_eq!(get(&server, "/index.html", &[]).text().unwrap(), body);
    // HEAD: the headers of GET, no body.
    let head = json_client()
        .head(format!("{}/", server.url))
        .send()
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        header(head.headers(), header::ETAG),
        header(&h, header::ETAG)
    );
    assert!(head.bytes().unwrap().is_empty());
}

#[test]
fn every_embedded_file_has_its_content_type() {
    let (_dir, server) = start(&[]);
    let files = embedded_files();
    assert!(files.iter().any(|(name, _)| *name == "index.html"));
    for (name, _) in files {
        let resp = get(&server, &format!("/{name}"), &[]);
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
        assert_eq!(
            header(resp.headers(), header::CONTENT_TYPE),
            expected_type(name),
            "{name}"
        );
        assert_app_headers(resp.headers());
        assert!(!resp.bytes().unwrap().is_empty(), "{name}");
    }
}

#[test]
fn gzip_is_sent_when_accepted_and_unpacks_to_the_file() {
    let (_dir, server) = start(&[]);
    let gzipped: Vec<&str> = embedded_files()
        .into_iter()
        .filter_map(|(name, gz)| gz.then_some(name))
        .collect();
    if !app_built() {
        // The placeholder page is under 1 KiB: no twin, so never gzip.
        assert!(gzipped.is_empty(), "{gzipped:?}");
        let resp = get(&server, "/", &[(header::ACCEPT_ENCODING, "gzip")]);
        assert!(resp.headers().get(header::CONTENT_ENCODING).is_none());
        assert!(
            resp.text()
                .unwrap()
                .contains("The customer app was not built into this server")
        );
        return;
    }
    // A built app's wasm is well over 1 KiB.
    assert!(gzipped.iter().any(|n| n.ends_with(".wasm")), "{gzipped:?}");
    for name in gzipped {
        let path = format!("/{name}");
        let plain = get(&server, &path, &[]);
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(header(plain.headers(), header::VARY), "Accept-Encoding");
        let plain_etag = header(plain.headers(), header::ETAG).to_string();
        let plain = plain.bytes().unwrap();

        let gz = get(&server, &path, &[(header::ACCEPT_ENCODING, "br, gzip")]);
        assert_eq!(gz.status(), StatusCode::OK);
        let h = gz.headers().clone();
        assert_eq!(header(&h, header::CONTENT_ENCODING), "gzip", "{name}");
        assert_eq!(header(&h, header::VARY), "Accept-Encoding");
        assert_eq!(header(&h, header::CONTENT_TYPE), expected_type(name));
        assert_app_headers(&h);
        // Another representation, another strong ETag.
        assert_ne!(header(&h, header::ETAG), plain_etag);
        let gz = gz.bytes().unwrap();
        assert!(gz.len() < plain.len(), "{name}");
        let unpacked = shopsync_core::sync::wire::gunzip(&gz, 64 << 20).unwrap();
        assert_eq!(unpacked, plain, "{name}");

        // Refused with q=0: the plain file.
        let refused = get(&server, &path, &[(header::ACCEPT_ENCODING, "gzip;q=0")]);
        assert!(refused.headers().get(header::CONTENT_ENCODING).is_none());
    }
}

#[test]
fn a_matching_etag_gets_304() {
    let (_dir, server) = start(&[]);
    for encoding in ["identity", "gzip"] {
        let first = get(&server, "/", &[(header::ACCEPT_ENCODING, encoding)]);
        let etag = header(first.headers(), header::ETAG).to_string();
        let again = get(
            &server,
            "/",
            &[
                (header::ACCEPT_ENCODING, encoding),
                (header::IF_NONE_MATCH, &etag),
            ],
        );
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(header(again.headers(), header::ETAG), etag);
        assert_app_headers(again.headers());
        assert!(again.bytes().unwrap().is_empty());

        let other = get(
            &server,
            "/",
            &[
                (header::ACCEPT_ENCODING, encoding),
                (header::IF_NONE_MATCH, "\"something-else\""),
            ],
        );
        assert_eq!(other.status(), StatusCode::OK);
    }
}

#[test]
fn the_api_keeps_its_routes_and_its_404() {
    let (_dir, server) = start(&[]);
    for path in ["/nope", "/icons/", "/index.html.gz", "/v1/nope", "/v1"] {
        let resp = get(&server, path, &[]);
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        let v: serde_json::Value = resp.json().unwrap();
        assert_eq!(v["error"]["code"], "not_found", "{path}");
    }
    // Another method than GET on the app's paths: the API's 404, as before.
    let (status, v) = post_json(&server.url, "/", None, &serde_json::json!({}));
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    // Existing routes win over the app's.
    let health = get(&server, "/healthz", &[]);
    assert_eq!(health.status(), StatusCode::OK);
    assert!(
        health
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .is_none()
    );
    assert_eq!(health.text().unwrap(), "ok\n");
    let (status, v) = get_json(&server.url, "/v1/customers/me", None);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let metrics = json_client()
        .get(format!("{}/metrics", server.url))
        .bearer_auth(TEST_METRICS_TOKEN)
        .send()
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
}

#[test]
fn no_web_app_serves_no_app() {
    let (_dir, server) = start(&["--no-web-app"]);
    for path in ["/", "/index.html"] {
        let (status, v) = get_json(&server.url, path, None);
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (404, Some("not_found"))
        );
    }
    assert_eq!(get(&server, "/healthz", &[]).text().unwrap(), "ok\n");
}
