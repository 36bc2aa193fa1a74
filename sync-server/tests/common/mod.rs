//! Shared helpers: a real server process on 127.0.0.1 (port 0), its admin
//! commands, and tills driven through the core with the real sync client.
//!
//! The server's database is a SQLite file, or with `SHOPSYNC_TEST_POSTGRES`
//! set (scripts/with-postgres.sh) a fresh PostgreSQL database per server
//! path: tests name a path either way, and [`db_arg`] turns it into what
//! `--db` gets.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod db;
pub use db::*;
/// nats-server for the events tests (only events.rs uses it).
pub mod nats;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::time::Instant;

use shopsync_core::sync::client::{self, Client, SyncReport};
use shopsync_core::sync::customer_account;
use shopsync_core::sync::customer_client::{self, CustomerClient, CustomerSyncReport};
use shopsync_core::types::TenderKind;
use shopsync_core::{
    CartLine, CustomerStore, InitOptions, NewProduct, ReceiveLine, Store, TenderInput,
};

pub type R = Result<(), Box<dyn std::error::Error>>;

pub const BIN: &str = env!("CARGO_BIN_EXE_shopsync-server");

/// `/metrics` on the public listener needs this token (hostile bodies).
pub const TEST_METRICS_TOKEN: &str = "test-metrics-token";

pub struct Server {
    /// The database's path: the SQLite file, or the key of its PostgreSQL
    /// database ([`db_arg`]).
    pub db: PathBuf,
    pub url: String,
    pub addr: String,
    child: Child,
    /// Keeps a PostgreSQL database while a server uses it (dropped after).
    _database: TestDb,
}

impl Server {
    /// Starts `shopsync-server serve` on a free port and waits for its address.
    pub fn start(db: &Path) -> Server {
        Self::start_on(db, "127.0.0.1:0")
    }

    pub fn start_on(db: &Path, listen: &str) -> Server {
        Self::start_with(db, listen, &[])
    }

    /// Like `start_on`, with more `serve` flags.
    pub fn start_with(db: &Path, listen: &str, extra: &[&str]) -> Server {
        Self::start_db(db, TestDb::for_path(db), listen, extra)
    }

    /// One more instance on the database at `db` (PostgreSQL: the same
    /// database as every other server on `db`), keeping its public
    /// catalogs' replicas and snapshots in folders of its own
    /// (`{db}.{name}.public`, `{db}.{name}.snapshots`).
    pub fn start_instance(db: &Path, name: &str) -> Server {
        Self::start_instance_with(db, name, &[])
    }

    /// [`Server::start_instance`] with more `serve` flags.
    pub fn start_instance_with(db: &Path, name: &str, extra: &[&str]) -> Server {
        let mut database = TestDb::for_path(db);
        let mut public = db.as_os_str().to_owned();
        public.push(format!(".{name}.public"));
        let mut snapshots = db.as_os_str().to_owned();
        snapshots.push(format!(".{name}.snapshots"));
        database.serve_args = vec![
            "--public-dir".into(),
            public,
            "--snapshot-dir".into(),
            snapshots,
        ];
        Self::start_db(db, database, "127.0.0.1:0", extra)
    }

    /// On the SQLite file at `db` even when the tests run on PostgreSQL
    /// (`migrate-storage` moves one there).
    pub fn start_sqlite(db: &Path) -> Server {
        Self::start_db(db, TestDb::sqlite(db), "127.0.0.1:0", &[])
    }

    /// Like `start_sqlite`, with more `serve` flags.
    pub fn start_sqlite_with(db: &Path, extra: &[&str]) -> Server {
        Self::start_db(db, TestDb::sqlite(db), "127.0.0.1:0", extra)
    }

    fn start_db(db: &Path, database: TestDb, listen: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["--db"])
            .arg(&database.arg)
            .args(["serve", "--listen", listen, "--heartbeat-secs", "1"])
            .args(&database.serve_args)
            .args(extra)
            // SHOPSYNC_TEST_SERVER_LOG=debug shows a failing test's server.
            .env(
                "SHOPSYNC_LOG",
                std::env::var("SHOPSYNC_TEST_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .env("SHOPSYNC_METRICS_TOKEN", TEST_METRICS_TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        let addr = url.trim_start_matches("http://").to_string();
        Server {
            db: db.to_path_buf(),
            url,
            addr,
            child,
            _database: database,
        }
    }

    /// SIGKILL: no graceful anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts again on the same file and port.
    pub fn restart(&mut self) {
        self.kill();
        let again = Server::start_on(&self.db, &self.addr);
        *self = again;
    }

    /// Starts again on the same database (SQLite, or PostgreSQL under
    /// scripts/with-postgres.sh) and port, with more `serve` flags.
    #[allow(dead_code)]
    pub fn restart_with(&mut self, extra: &[&str]) {
        self.kill();
        let again = Server::start_db(&self.db, TestDb::for_path(&self.db), &self.addr, extra);
        *self = again;
    }

    /// Starts again on the same SQLite file and port, with more `serve` flags.
    #[allow(dead_code)]
    pub fn restart_sqlite_with(&mut self, extra: &[&str]) {
        self.kill();
        let again = Server::start_db(&self.db, TestDb::sqlite(&self.db), &self.addr, extra);
        *self = again;
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn admin(&self, args: &[&str]) -> serde_json::Value {
        admin_on(&self._database.arg, args)
    }

    /// Creates a store; returns (store id, manager code).
    pub fn create_store(&self, name: &str) -> (String, String) {
        let v = self.admin(&["store", "create", "--name", name]);
        (
            v["store_id"].as_str().unwrap().to_string(),
            v["enrol_code"].as_str().unwrap().to_string(),
        )
    }

    pub fn code(&self, store: &str, role: &str) -> String {
        let v = self.admin(&["enrol-code", "create", "--store", store, "--role", role]);
        v["enrol_code"].as_str().unwrap().to_string()
    }

    /// A till code made for one till id (a till bringing its own history).
    pub fn code_for_till(&self, store: &str, till_id: &str) -> String {
        let v = self.admin(&[
            "enrol-code",
            "create",
            "--store",
            store,
            "--role",
            "till",
            "--till-id",
            till_id,
        ]);
        v["enrol_code"].as_str().unwrap().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs an admin command with `--json` and parses its output.
pub fn admin(db: &Path, args: &[&str]) -> serde_json::Value {
    admin_on(&db_arg(db), args)
}

/// Runs an admin command on what `--db` gets (a file or a URL).
pub fn admin_on(db_arg: &std::ffi::OsStr, args: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN)
        .arg("--db")
        .arg(db_arg)
        .arg("--json")
        .args(args)
        .env("SHOPSYNC_LOG", "warn")
        .output()
        .expect("run admin");
    assert!(
        out.status.success(),
        "admin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("admin json")
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0)
        .single()
        .unwrap_or_default()
}

pub fn m(minutes: i64) -> Option<DateTime<Utc>> {
    Some(t0() + Duration::minutes(minutes))
}

/// A till with a store, product P (reorder point 2) and `stock` received.
pub fn first_till(path: &Path, stock: i64) -> Store {
    let mut s = Store::init(
        path,
        InitOptions {
            store_name: "Corner Shop".into(),
            till_name: "A".into(),
            currency: "EUR".into(),
        },
    )
    .unwrap();
    s.set_now(m(0));
    s.add_product(NewProduct {
        sku: "P".into(),
        name: "Product P".into(),
        price: 100,
        reorder_point: Some(2),
        ..NewProduct::default()
    })
    .unwrap();
    if stock > 0 {
        s.receive(
            None,
            &[ReceiveLine {
                code: "P".into(),
                qty: stock,
                unit_cost: None,
            }],
        )
        .unwrap();
    }
    s
}

pub fn enrol(path: &Path, server: &Server, code: &str, till: Option<&str>) -> Store {
    let (s, _) = client::enrol(path, &server.url, code, till, &mut |_| {}).unwrap();
    s
}

pub fn sync(s: &mut Store) -> Result<SyncReport, client::SyncError> {
    let c = Client::for_store(s)?;
    s.sync_now(&c, &mut |_| {})
}

pub fn sell(s: &mut Store, when: i64, qty: i64) -> String {
    s.set_now(m(when));
    s.sell(
        &[CartLine::new("P", qty)],
        &[TenderInput {
            kind: TenderKind::Cash,
            amount: 100 * qty,
        }],
    )
    .unwrap()
    .sale_id
}

pub fn stock(s: &Store) -> i64 {
    s.stock_levels(Some("P"), false).unwrap()[0].on_hand
}

/// Identical projections, and each equal to a rebuild from its documents.
pub fn assert_same(stores: &[&Store]) {
    for pair in stores.windows(2) {
        let (diffs, _) =
            shopsync_core::projection::rebuild::compare(pair[0].connection(), pair[1].connection())
                .unwrap();
        assert!(
            diffs.is_empty(),
            "{} and {} differ: {diffs:?}",
            pair[0].info().till_name,
            pair[1].info().till_name
        );
    }
    for s in stores {
        let report = s.verify(&mut |_| {}).unwrap();
        assert!(
            report.differences.is_empty(),
            "incremental != rebuild on {}: {:?}",
            s.info().till_name,
            report.differences
        );
    }
}

/// A server with a store adopted by till A (uploaded), and till B joined.
pub struct Shop {
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub store_id: String,
    pub a: Store,
    pub b: Store,
}

pub fn shop(stock: i64) -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server.db"));
    shop_on(dir, server, stock)
}

/// A shop as `shop` makes it, on a server started in `dir` by the caller
/// (with flags of its own).
pub fn shop_on(dir: tempfile::TempDir, server: Server, stock: i64) -> Shop {
    let (_, code) = server.create_store("Corner Shop");
    let a_path = dir.path().join("a.db");
    drop(first_till(&a_path, stock));
    let mut a = enrol(&a_path, &server, &code, None);
    a.set_now(m(0));
    let store_id = a.info().store_id.clone();
    let b_code = server.code(&store_id, "till");
    let mut b = enrol(&dir.path().join("b.db"), &server, &b_code, Some("B"));
    b.set_now(m(0));
    Shop {
        dir,
        server,
        store_id,
        a,
        b,
    }
}

// -- customer accounts: JSON requests to the server --

/// A blocking HTTP client (the crypto provider installed).
/// A figure of the server's `/metrics` (Prometheus text), by name.
#[allow(dead_code)]
pub fn metric(url: &str, name: &str) -> f64 {
    let text = json_client()
        .get(format!("{url}/metrics"))
        .bearer_auth(TEST_METRICS_TOKEN)
        .send()
        .unwrap()
        .text()
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in /metrics: {text}"))
        .parse()
        .unwrap()
}

pub fn json_client() -> reqwest::blocking::Client {
    client::install_crypto_provider();
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Status and JSON answer (Null if the body is not JSON). An error answer
/// must have the server's error shape.
fn json_answer(resp: reqwest::blocking::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let bytes = resp.bytes().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    if status >= 400 {
        assert!(
            v["error"]["code"].is_string() && v["error"]["message"].is_string(),
            "error {status} without the error shape: {bytes:?}"
        );
    }
    (status, v)
}

/// `POST {url}{path}` with a JSON body and, if given, a bearer token.
pub fn post_json(
    url: &str,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut rb = json_client().post(format!("{url}{path}")).json(body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    json_answer(rb.send().unwrap())
}

/// `GET {url}{path}` with, if given, a bearer token.
pub fn get_json(url: &str, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut rb = json_client().get(format!("{url}{path}"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    json_answer(rb.send().unwrap())
}

/// Signs a customer up; panics unless the server answers 200.
pub fn sign_up(url: &str, name: &str, device_name: &str) -> serde_json::Value {
    let (status, v) = post_json(
        url,
        "/v1/customers",
        None,
        &serde_json::json!({ "protocol": 1, "name": name, "email": null, "device_name": device_name }),
    );
    assert_eq!(status, 200, "{v}");
    v
}

/// Polls `ok` every 50 ms until it holds; fails the test after 5 s (the
/// server derives public catalogs asynchronously). Returns how long it took.
pub fn wait_for(what: &str, mut ok: impl FnMut() -> bool) -> std::time::Duration {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "not within 5 s: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    start.elapsed()
}

/// The shop publishes its catalog (`publish` on till A, synced); the server
/// derives the public document from it asynchronously.
pub fn publish(shop: &mut Shop) {
    shop.a.set_setting("publish", "true").unwrap();
    sync(&mut shop.a).unwrap();
    // The server learns it when it derives the catalog (in the background).
    let db = shop.server.db.clone();
    // Store ids are the server's own (checked characters), so this query
    // can name one inline.
    let sql = format!(
        "SELECT COUNT(*) FROM shop_listings l JOIN stores s ON s.pk = l.store_pk
         WHERE s.store_id = '{}' AND l.published = TRUE",
        shop.store_id.replace('\'', "")
    );
    wait_for("the shop publishes", || db_ints(&db, &sql)[0] == 1);
}

// -- customer devices: the real CustomerStore and customer client --

/// A client of `url` without a token (sign-up, link).
pub fn customer_client(url: &str) -> CustomerClient {
    CustomerClient::new(url, None, false).unwrap()
}

/// A new customer device at `path`, signed up as `name` through the real
/// client (`customer_account::signup`).
pub fn customer_signup(url: &str, path: &Path, name: &str) -> CustomerStore {
    let mut s = CustomerStore::create(path).unwrap();
    customer_account::signup(&mut s, &customer_client(url), name, None, false).unwrap();
    s
}

/// A one-time link code made by `device` (`POST /v1/customers/link-code`).
pub fn customer_link_code(device: &CustomerStore) -> String {
    CustomerClient::for_store(device)
        .unwrap()
        .link_code()
        .unwrap()
        .code
}

/// The device at `path` (made if missing) linked to `device`'s account
/// through the real client (`customer_account::link`).
pub fn customer_link(url: &str, device: &CustomerStore, path: &Path) -> CustomerStore {
    let code = customer_link_code(device);
    let mut s = CustomerStore::open_or_create(path).unwrap();
    customer_account::link(&mut s, &customer_client(url), &code, false).unwrap();
    s
}

/// One `sync_once` of a customer device with its own client.
pub fn customer_sync(
    s: &mut CustomerStore,
) -> Result<CustomerSyncReport, shopsync_core::sync::client::SyncError> {
    let c = CustomerClient::for_store(s)?;
    customer_client::sync_once(s, &c)
}
