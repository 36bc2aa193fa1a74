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

#[test]
fn enrol_and_sync_over_https() -> R {
    let dir = tempfile::tempdir()?;
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let d = dir.path();
    let ca = d.join("ca.pem");
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )?;
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let steps: [Vec<std::ffi::OsString>; 3] = [
        // A private CA ...
        [
            "req",
            "-x509",
            "-days",
            "2",
            "-subj",
            "/CN=ShopSync test CA",
        ]
        .iter()
        .chain(ec.iter())
        .map(Into::into)
        .chain([
            "-keyout".into(),
            d.join("ca.key").into(),
            "-out".into(),
            ca.clone().into(),
        ])
        .collect(),
        // ... and a server certificate it signs.
        ["req", "-subj", "/CN=localhost"]
            .iter()
            .chain(ec.iter())
            .map(Into::into)
            .chain([
                "-keyout".into(),
                key.clone().into(),
                "-out".into(),
                d.join("leaf.csr").into(),
            ])
            .collect(),
        ["x509", "-req", "-days", "2", "-CAcreateserial"]
            .iter()
            .map(Into::into)
            .chain([
                "-in".into(),
                d.join("leaf.csr").into(),
                "-CA".into(),
                ca.clone().into(),
                "-CAkey".into(),
                d.join("ca.key").into(),
                "-extfile".into(),
                d.join("ext.cnf").into(),
                "-out".into(),
                cert.clone().into(),
            ])
            .collect(),
    ];
    for args in steps {
        let ok = Command::new("openssl")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: openssl cannot make test certificates");
            return Ok(());
        }
    }
    let db = dir.path().join("server.db");
    let database = TestDb::for_path(&db);
    let mut child = Kill(
        Command::new(BIN)
            .arg("--db")
            .arg(&database.arg)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&database.serve_args)
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .env("SHOPSYNC_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    assert!(url.starts_with("https://"), "{url}");
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
