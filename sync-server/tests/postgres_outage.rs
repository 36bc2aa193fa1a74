//! PostgreSQL going away under a running server (runs only with
//! `SHOPSYNC_TEST_POSTGRES`: scripts/with-postgres.sh). The server reaches
//! the database through a loopback proxy the test can cut: while it is cut,
//! requests that need the database get 503 (not 500) and `/readyz` says not ready,
//! the process keeps answering `/healthz`; once it is back, the server
//! serves again without a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::*;

/// Forwards 127.0.0.1:port to `upstream` while `up`; cutting it closes
/// every open connection and refuses new ones (accepted, then closed).
struct Cut {
    port: u16,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Cut {
    fn start(upstream: String) -> Cut {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up2, open2) = (up.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up2.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                {
                    let mut open = open2.lock().unwrap();
                    open.push(client.try_clone().unwrap());
                    open.push(server.try_clone().unwrap());
                }
                let (mut c1, mut s1) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut c2, mut s2) = (client, server);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c1, &mut s1);
                    let _ = s1.shutdown(Shutdown::Both);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s2, &mut c2);
                    let _ = c2.shutdown(Shutdown::Both);
                });
            }
        });
        Cut { port, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn heal(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// A request that needs the database: the caller's device is looked up.
const ME: &str = "/v1/customers/me";

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET `path`; with a token of a device that does not exist, so every
/// request looks the device up in the database (401 while it answers).
fn status(url: &str, path: &str) -> (u16, serde_json::Value) {
    let resp = json_client()
        .get(format!("{url}{path}"))
        .bearer_auth("nodevice.secret")
        .send()
        .unwrap();
    let code = resp.status().as_u16();
    let body = resp.text().unwrap();
    (
        code,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
    )
}

#[test]
fn postgres_going_away_gives_503_and_the_server_recovers_when_it_returns() {
    if skip_without_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let database = TestDb::for_path(&path);
    let url = postgres_url(&path).unwrap();
    // postgres://user@HOST:PORT/db -> the same through the proxy.
    let after_at = url.split_once('@').unwrap().1;
    let host_port = after_at.split('/').next().unwrap().to_string();
    let proxy = Cut::start(host_port.clone());
    let proxied = url.replace(&host_port, &format!("127.0.0.1:{}", proxy.port));
    let mut child = Kill(
        Command::new(BIN)
            .arg("--db")
            .arg(&proxied)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&database.serve_args)
            .env("SHOPSYNC_LOG", "error")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let server = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    assert_eq!(status(&server, "/readyz").0, 200);
    assert_eq!(status(&server, ME).0, 401);

    proxy.cut();
    wait_for("503 from /readyz", || status(&server, "/readyz").0 == 503);
    let (code, body) = status(&server, ME);
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    // The client is not told where the database is.
    assert!(!body.to_string().contains(&host_port), "{body}");
    assert_eq!(
        status(&server, "/healthz").0,
        200,
        "the process still answers"
    );
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "the server is running"
    );

    proxy.heal();
    // A pooled connection broken by the cut is replaced, not reused.
    let mut healed = false;
    for _ in 0..100 {
        if status(&server, "/readyz").0 == 200 && status(&server, ME).0 == 401 {
            healed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(healed, "the server serves again once PostgreSQL is back");
    // And admin commands reach the same database directly.
    let v = admin(&path, &["store", "create", "--name", "After"]);
    assert!(v["store_id"].is_string());
}
