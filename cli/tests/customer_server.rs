//! Two devices of one customer through the real `shopsync` binary against a
//! real sync server: sign up on the phone, link the laptop with a code,
//! edit one list on both offline, sync both (twice), and both show the
//! same list.
//!
//! The server is the `shopsync-server` library (a dev-dependency) serving
//! on 127.0.0.1:0 in a background thread, with its SQLite database in the
//! test's folder: the same router, storage and public-catalog derivation as
//! the binary's `serve`. That is cleaner than looking for the server binary
//! in the target directory: `env!("CARGO_BIN_EXE_…")` only names this
//! package's binaries, and a binary found by path may be missing or stale
//! (built from other sources), while the library is always built from this
//! checkout by the same `cargo test`.

mod common;

use std::path::Path;

use common::{R, Till};
use serde_json::Value;

/// The real server, serving until dropped.
struct TestServer {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    fn start(dir: &Path) -> Result<TestServer, Box<dyn std::error::Error>> {
        // Bound before serving: connections wait in the backlog, so no
        // readiness poll is needed.
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let storage = shopsync_server::SqliteStorage::open(&dir.join("server.db"))?;
        let options = shopsync_server::ServeOptions {
            public_dir: Some(dir.join("server.db.public")),
            ..shopsync_server::ServeOptions::default()
        };
        let runtime = tokio::runtime::Runtime::new()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let served = runtime.block_on(shopsync_server::serve(
                listener,
                storage,
                options,
                async move {
                    let _ = rx.await;
                },
            ));
            if let Err(e) = served {
                eprintln!("the test server stopped: {e}");
            }
        });
        Ok(TestServer {
            url,
            stop: Some(tx),
            thread: Some(thread),
        })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sync(device: &Till) -> Result<Value, Box<dyn std::error::Error>> {
    let r = device.json(&["customer", "sync"])?;
    assert!(
        r["failed"].as_array().is_some_and(Vec::is_empty),
        "a document did not apply: {r}"
    );
    Ok(r)
}

#[test]
fn two_devices_edit_one_list_offline_and_show_the_same_after_sync() -> R {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start(dir.path())?;
    let url = server.url.as_str();
    let phone = Till::new(dir.path(), "phone");
    let laptop = Till::new(dir.path(), "laptop");

    let ana = phone.json(&["customer", "signup", "--server", url, "--name", "Ana"])?;
    assert_eq!(ana["signed_up"], true, "{ana}");
    let code = phone.json(&["customer", "link-code"])?;
    let code = code["code"].as_str().ok_or("no code")?.to_string();
    let linked = laptop.json(&["customer", "link", "--server", url, "--code", &code])?;
    assert_eq!(linked["customer_id"], ana["customer_id"], "one account");
    assert_ne!(linked["device_id"], ana["device_id"], "two devices");

    // The phone makes the list; the laptop gets it.
    phone.json(&["customer", "list", "new", "Groceries"])?;
    phone.json(&["customer", "list", "add", "Groceries", "milk"])?;
    phone.json(&[
        "customer",
        "list",
        "add",
        "Groceries",
        "bread",
        "--qty",
        "2",
    ])?;
    sync(&phone)?;
    sync(&laptop)?;
    let seen = laptop.json(&["customer", "list", "show", "Groceries"])?;
    assert_eq!(seen["items"].as_array().map(Vec::len), Some(2), "{seen}");

    // Both offline: the phone changes milk's quantity and adds eggs; the
    // laptop ticks milk, adds apples first and renames the list.
    phone.json(&["customer", "list", "qty", "Groceries", "milk", "3"])?;
    phone.json(&["customer", "list", "add", "Groceries", "eggs", "--qty", "6"])?;
    laptop.json(&["customer", "list", "tick", "Groceries", "milk"])?;
    laptop.json(&[
        "customer",
        "list",
        "add",
        "Groceries",
        "apples",
        "--qty",
        "4",
    ])?;
    laptop.json(&["customer", "list", "move", "Groceries", "apples", "1"])?;
    laptop.json(&["customer", "list", "rename", "Groceries", "Weekly"])?;

    for _ in 0..2 {
        sync(&phone)?;
        sync(&laptop)?;
    }
    let on_phone = phone.json(&["customer", "list", "show", "Weekly"])?;
    let on_laptop = laptop.json(&["customer", "list", "show", "Weekly"])?;
    assert_eq!(on_phone, on_laptop, "both devices show the same list");
    let items: Vec<(String, i64, bool)> = on_phone["items"]
        .as_array()
        .ok_or("no items")?
        .iter()
        .map(|i| {
            (
                i["what"]["text"].as_str().unwrap_or_default().to_string(),
                i["qty"].as_i64().unwrap_or_default(),
                i["checked"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(items.len(), 4, "{items:?}");
    assert_eq!(items[0], ("apples".to_string(), 4, false));
    for want in [("milk", 3, true), ("bread", 2, false), ("eggs", 6, false)] {
        assert!(
            items.contains(&(want.0.to_string(), want.1, want.2)),
            "{want:?} missing: {items:?}"
        );
    }
    let status = phone.json(&["customer", "sync"])?;
    assert_eq!(status["acked"], 0, "nothing left to send: {status}");
    Ok(())
}
