//! The server serves HTTPS itself (rustls, PEM files) and the till's client
//! syncs over it. Skipped when `openssl` is not installed (it makes the
//! test certificate).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

/// Kills the server even when an assertion fails.
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs openssl; false when it is missing or fails.
fn openssl(args: &[std::ffi::OsString]) -> bool {
    Command::new("openssl")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

const EC: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

/// A private CA in `d` (`ca.pem`, `ca.key`); false without openssl.
fn make_ca(d: &std::path::Path) -> bool {
    let args: Vec<std::ffi::OsString> = [
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=ShopSync test CA",
    ]
    .iter()
    .chain(EC.iter())
    .map(Into::into)
    .chain([
        "-keyout".into(),
        d.join("ca.key").into(),
        "-out".into(),
        d.join("ca.pem").into(),
    ])
    .collect();
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .is_ok()
        && openssl(&args)
}

/// A server certificate for 127.0.0.1 with this organisation, signed by
/// the CA in `d`, written to `cert` and `key`.
fn make_leaf(
    d: &std::path::Path,
    org: &str,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> bool {
    let subject = format!("/CN=localhost/O={org}");
    let csr: Vec<std::ffi::OsString> = ["req", "-subj", &subject]
        .iter()
        .chain(EC.iter())
        .map(Into::into)
        .chain([
            "-keyout".into(),
            key.into(),
            "-out".into(),
            d.join("leaf.csr").into(),
        ])
        .collect();
    let sign: Vec<std::ffi::OsString> = ["x509", "-req", "-days", "2", "-CAcreateserial"]
        .iter()
        .map(Into::into)
        .chain([
            "-in".into(),
            d.join("leaf.csr").into(),
            "-CA".into(),
            d.join("ca.pem").into(),
            "-CAkey".into(),
            d.join("ca.key").into(),
            "-extfile".into(),
            d.join("ext.cnf").into(),
            "-out".into(),
            cert.into(),
        ])
        .collect();
    openssl(&csr) && openssl(&sign)
}

/// `serve --tls-cert cert --tls-key key` on a free port; its https URL.
fn serve_tls(
    db: &std::path::Path,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> (Kill, String, TestDb) {
    let database = TestDb::for_path(db);
    let mut child = Kill(
        Command::new(BIN)
            .arg("--db")
            .arg(&database.arg)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&database.serve_args)
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .env("SHOPSYNC_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    assert!(url.starts_with("https://"), "{url}");
    (child, url, database)
}

#[test]
fn enrol_and_sync_over_https() -> R {
    let dir = tempfile::tempdir()?;
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let d = dir.path();
    let ca = d.join("ca.pem");
    if !(make_ca(d) && make_leaf(d, "First", &cert, &key)) {
        eprintln!("skipped: openssl cannot make test certificates");
        return Ok(());
    }
    let db = dir.path().join("server.db");
    let (child, url, _database) = serve_tls(&db, &cert, &key);
    let (_, code) = {
        let v = admin(&db, &["store", "create", "--name", "TLS Shop"]);
        (
            v["store_id"].as_str().unwrap().to_string(),
            v["enrol_code"].as_str().unwrap().to_string(),
        )
    };
    // The client reads SHOPSYNC_CA_FILE when it is built: run the client
    // half in a child process of this test binary with it set.
    let run_inner = |trust: bool| {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "https_client_half",
            "--exact",
            "--nocapture",
            "--include-ignored",
        ])
        .env("TLS_TEST_URL", &url)
        .env("TLS_TEST_CODE", &code)
        .env("TLS_TEST_DIR", dir.path());
        if trust {
            cmd.env("SHOPSYNC_CA_FILE", &ca);
        }
        cmd.output().unwrap()
    };
    let refused = run_inner(false);
    assert!(
        !refused.status.success(),
        "an untrusted certificate must be refused"
    );
    let ok = run_inner(true);
    assert!(
        ok.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    drop(child);
    Ok(())
}

/// The client half of `enrol_and_sync_over_https` (run by it, in a child).
#[test]
#[ignore = "run by enrol_and_sync_over_https"]
fn https_client_half() -> R {
    let (Ok(url), Ok(code), Ok(dir)) = (
        std::env::var("TLS_TEST_URL"),
        std::env::var("TLS_TEST_CODE"),
        std::env::var("TLS_TEST_DIR"),
    ) else {
        return Ok(());
    };
    let till = std::path::Path::new(&dir).join(format!("till-{}.db", std::process::id()));
    drop(first_till(&till, 2));
    let (mut store, report) =
        shopsync_core::sync::client::enrol(&till, &url, &code, None, &mut |_| {})?;
    assert!(report.uploaded);
    sell(&mut store, 5, 1);
    let r = sync(&mut store)?;
    assert_eq!(r.acked, 1);
    Ok(())
}

/// SIGHUP asks for a certificate reload; a server without TLS (behind a
/// proxy) must live through it, not take its default action and end.
#[test]
#[cfg(unix)]
fn a_hangup_never_stops_a_server_without_tls() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server.db"));
    let ok = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -HUP failed");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let status = json_client()
        .get(format!("{}/readyz", server.url))
        .send()
        .map(|r| r.status().as_u16());
    assert!(matches!(status, Ok(200)), "after SIGHUP: {status:?}");
}

/// The organisation in the certificate the server at `addr` presents.
fn served_org(addr: &str) -> String {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", addr, "-servername", "localhost"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .find(|l| l.starts_with("subject="))
        .unwrap_or_default()
        .to_string()
}

/// A renewed certificate is served without a restart (SIGHUP); a broken
/// renewal is refused and the old certificate kept.
#[test]
#[cfg(unix)]
fn a_renewed_certificate_is_served_without_a_restart() -> R {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let (cert, key) = (d.join("cert.pem"), d.join("key.pem"));
    if !(make_ca(d) && make_leaf(d, "First", &cert, &key)) {
        eprintln!("skipped: openssl cannot make test certificates");
        return Ok(());
    }
    let (child, url, _database) = serve_tls(&d.join("server.db"), &cert, &key);
    let addr = url.trim_start_matches("https://").to_string();
    assert!(served_org(&addr).contains("First"), "{}", served_org(&addr));
    let hangup = || {
        let ok = Command::new("kill")
            .args(["-HUP", &child.0.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -HUP failed");
    };

    // A half-written renewal: the key does not match the new certificate.
    let (next_cert, next_key) = (d.join("next-cert.pem"), d.join("next-key.pem"));
    assert!(make_leaf(d, "Second", &next_cert, &next_key));
    std::fs::copy(&next_cert, &cert)?;
    hangup();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(served_org(&addr).contains("First"), "{}", served_org(&addr));

    // The whole renewal.
    std::fs::copy(&next_key, &key)?;
    hangup();
    wait_for("the renewed certificate", || {
        served_org(&addr).contains("Second")
    });
    drop(child);
    Ok(())
}
