//! `shopsync-load`: a load generator. Starts a real `shopsync-server` on
//! loopback (the binary next to this one), enrols N simulated tills spread
//! over several stores, and has each upload pre-generated sales (real ledger
//! records in real Automerge changes) in batches through the real protocol,
//! downloading what the other tills of its store sent, as a till does.
//! Prints sales merged per second, p50/p99 sync latency and the server's peak
//! memory; with `--bootstrap-sales M`, also the time a new till (the real
//! client and store) takes to download and project an M-sale store; with
//! `--publish`, every store publishes its catalog to a watching customer
//! and it prints how soon customers see the sales (`load/publish.rs`); with
//! `--postgres URL --instances N`, N server processes share the database
//! and the tills are spread over them; with `--nats URL`, the servers
//! publish events and it prints the publisher's lag (`load/events_lag.rs`).

#[path = "load/bootstrap.rs"]
mod bootstrap;
#[path = "load/events_lag.rs"]
mod events_lag;
#[path = "load/publish.rs"]
mod publish;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use automerge::{AutoCommit, ROOT, ScalarValue, transaction::Transactable};
use clap::Parser;
use shopsync_core::ids::new_id;
use shopsync_core::records::{Record, SaleRecord};
use shopsync_core::sync::EnrolRequest;
use shopsync_core::sync::client::Client;
use shopsync_core::sync::wire::{self, DocChanges, SyncRequest};
use shopsync_core::types::TenderKind;
use shopsync_core::{CartLine, InitOptions, NewProduct, ReceiveLine, Store, TenderInput};

#[derive(Parser, Debug)]
#[command(name = "shopsync-load", about = "Load generator for shopsync-server")]
struct Args {
    /// Simulated tills.
    #[arg(long, default_value_t = 50)]
    tills: usize,
    /// Stores the tills are spread over (tills of one store download each other's sales).
    #[arg(long, default_value_t = 10)]
    stores: usize,
    /// Sales each till uploads.
    #[arg(long, default_value_t = 2_000)]
    sales: usize,
    /// Sales per sync request.
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Also measure a new till bootstrapping a store of this many sales
    /// (0: skip): from the server's snapshot of the store, and (unless
    /// `--bootstrap-snapshot-only`) by downloading every change, one after
    /// the other.
    #[arg(long, default_value_t = 0)]
    bootstrap_sales: usize,
    /// Measure only the snapshot bootstrap.
    #[arg(long)]
    bootstrap_snapshot_only: bool,
    /// Every store publishes its catalog (exact counts) and a customer per
    /// store watches it: prints the sale-synced → customer-sees-it latency
    /// and the server's time spent deriving.
    #[arg(long)]
    publish: bool,
    /// Work directory (default: a new folder in the system temp dir, removed at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The server's database: a PostgreSQL URL (an empty database) instead
    /// of a new SQLite file in the work directory.
    #[arg(long)]
    postgres: Option<String>,
    /// Server instances on the one database (more than one needs
    /// `--postgres`): till i syncs with instance i mod N.
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// Start the servers with `--nats URL` (JetStream events, docs/EVENTS.md)
    /// and print the publisher's lag: the oldest waiting event's age during
    /// the merge, and how long after it the outbox is empty.
    #[arg(long)]
    nats: Option<String>,
}

const METRICS_TOKEN: &str = "load-metrics";

struct ServerProc {
    child: Child,
    url: String,
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `shopsync-server` binary next to this one.
fn server_bin() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe
        .parent()
        .ok_or_else(|| anyhow!("no parent dir"))?
        .join("shopsync-server"))
}

/// Admin commands through the server binary, on either backend.
struct Admin {
    db: std::ffi::OsString,
}

impl Admin {
    fn run(&self, args: &[&str]) -> Result<serde_json::Value> {
        let out = Command::new(server_bin()?)
            .arg("--db")
            .arg(&self.db)
            .arg("--json")
            .args(args)
            .env("SHOPSYNC_LOG", "warn")
            .output()?;
        if !out.status.success() {
            return Err(anyhow!(
                "shopsync-server {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    /// A new store's manager enrolment code.
    fn create_store(&self, name: &str) -> Result<String> {
        let v = self.run(&["store", "create", "--name", name])?;
        text(&v, "enrol_code")
    }

    /// A till enrolment code for the store.
    fn till_code(&self, store_id: &str) -> Result<String> {
        let v = self.run(&[
            "enrol-code",
            "create",
            "--store",
            store_id,
            "--role",
            "till",
        ])?;
        text(&v, "enrol_code")
    }
}

fn text(v: &serde_json::Value, key: &str) -> Result<String> {
    v[key]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no {key} in {v}"))
}

fn start_server(db: &std::ffi::OsStr, nats: Option<&str>) -> Result<ServerProc> {
    let bin = server_bin()?;
    let mut cmd = Command::new(&bin);
    cmd.arg("--db")
        .arg(db)
        .args(["serve", "--listen", "127.0.0.1:0", "--heartbeat-secs", "1"])
        .args(["--metrics-token", METRICS_TOKEN]);
    if let Some(url) = nats {
        cmd.args(["--nats", url]);
    }
    let mut child = cmd
        .env("SHOPSYNC_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| anyhow!("unexpected server output {line:?}"))?
        .to_string();
    Ok(ServerProc { child, url })
}

fn vm_hwm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// A real till with a catalog of three products, one sale made: its sale
/// record is the template for generated ones.
fn template(path: &Path) -> Result<(Store, SaleRecord)> {
    let mut s = Store::init(
        path,
        InitOptions {
            store_name: "Load Test Shop".into(),
            till_name: "T".into(),
            currency: "EUR".into(),
        },
    )?;
    let mut cart = Vec::new();
    for (sku, price) in [("MILK", 129), ("BREAD", 249), ("EGGS", 319)] {
        s.add_product(NewProduct {
            sku: sku.into(),
            name: format!("Product {sku}"),
            price,
            ..NewProduct::default()
        })?;
        s.receive(
            None,
            &[ReceiveLine {
                code: sku.into(),
                qty: 1_000,
                unit_cost: None,
            }],
        )?;
        cart.push(CartLine::new(sku, 1));
    }
    let receipt = s.sell(
        &cart,
        &[TenderInput {
            kind: TenderKind::Card,
            amount: 697,
        }],
    )?;
    let bytes: Vec<u8> = s.connection().query_row(
        "SELECT bytes FROM doc_changes WHERE doc_id LIKE '%/ledger/%' ORDER BY seq DESC LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    let change = shopsync_core::docs::decode_change(&bytes)?;
    let record = shopsync_core::projection::rebuild::records_in_change(&change)
        .into_iter()
        .find_map(|r| match r {
            Record::Sale(s) if s.id == receipt.sale_id => Some(s),
            _ => None,
        })
        .ok_or_else(|| anyhow!("template sale not found"))?;
    Ok((s, record))
}

/// `n` sales of one till as Automerge changes, one change per sale, in
/// partitions of at most 50,000 records.
fn generate(store: &str, till: &str, tpl: &SaleRecord, n: usize) -> Result<Vec<DocChanges>> {
    let mut out = Vec::new();
    let mut done = 0;
    let mut part = 1;
    while done < n {
        let take = (n - done).min(50_000);
        let doc_id = if part == 1 {
            format!("store/{store}/ledger/{till}/2026-05")
        } else {
            format!("store/{store}/ledger/{till}/2026-05.{part}")
        };
        let mut doc = AutoCommit::new();
        let mut changes = Vec::with_capacity(take);
        for i in done..done + take {
            let mut r = tpl.clone();
            r.id = new_id();
            r.seq = i as u64 + 1;
            r.number = format!("L-{:06}", i + 1);
            r.at = tpl.at + i as i64 * 1000;
            r.hlc = Some(r.at);
            // The key is the record's own id (the server checks it).
            let id = r.id.clone();
            let bytes = Record::Sale(r).encode()?;
            doc.put(ROOT, id.as_str(), ScalarValue::Bytes(bytes))?;
            doc.commit();
            let mut c = doc
                .get_last_local_change()
                .ok_or_else(|| anyhow!("no change"))?;
            // As a till stores and sends it: raw up to
            // `STORE_RAW_UP_TO`, deflated when larger (`DocCache::commit_local`).
            if c.raw_bytes().len() <= shopsync_core::docs::STORE_RAW_UP_TO {
                changes.push(c.raw_bytes().to_vec());
            } else {
                changes.push(c.bytes().to_vec());
            }
        }
        out.push(DocChanges { doc_id, changes });
        done += take;
        part += 1;
    }
    Ok(out)
}

struct SimTill {
    client: Client,
    store_id: String,
    till_id: String,
    docs: Vec<DocChanges>,
    cursor: u64,
}

fn enrol_sim(url: &str, code: &str, store_id: Option<String>) -> Result<(Client, String, String)> {
    let till_id = new_id();
    let resp = Client::new(url, None)?.enrol(&EnrolRequest {
        protocol: wire::PROTOCOL_VERSION,
        code: code.into(),
        till_id: till_id.clone(),
        till_name: format!("sim-{}", &till_id[till_id.len() - 6..]),
        store_id,
    })?;
    // A new till (no store) writes as the till id the server gave it.
    Ok((
        Client::new(url, Some(&resp.token))?,
        resp.store_id,
        resp.till_id,
    ))
}

/// Uploads every change of `till` in batches; returns per-request latencies.
fn run_till(
    t: &mut SimTill,
    batch: usize,
    uploads: Option<&publish::Uploads>,
) -> Result<(Vec<Duration>, u64)> {
    let mut lat = Vec::new();
    let mut down = 0u64;
    let docs = std::mem::take(&mut t.docs);
    for doc in docs {
        for chunk in doc.changes.chunks(batch.max(1)) {
            let mut req = SyncRequest::new(
                t.cursor,
                vec![DocChanges {
                    doc_id: doc.doc_id.clone(),
                    changes: chunk.to_vec(),
                }],
            );
            loop {
                let started = Instant::now();
                let (resp, _, _) = t.client.exchange(&req)?;
                lat.push(started.elapsed());
                if let Some(u) = uploads
                    && !req.docs.is_empty()
                {
                    u.record(&t.store_id, req.change_count() as u64);
                }
                down += resp.change_count() as u64;
                t.cursor = resp.cursor;
                if !resp.more {
                    break;
                }
                req = SyncRequest::new(t.cursor, vec![]);
            }
        }
    }
    Ok((lat, down))
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

fn main() -> Result<()> {
    let args = Args::parse();
    let own_dir = args.dir.is_none();
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("shopsync-load-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir)?;
    let result = run(&args, &dir);
    if own_dir {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn run(args: &Args, dir: &Path) -> Result<()> {
    let db: std::ffi::OsString = match &args.postgres {
        Some(url) => url.into(),
        None => dir.join("server.db").into(),
    };
    if args.instances == 0 {
        return Err(anyhow!("--instances must be at least 1"));
    }
    if args.instances > 1 && args.postgres.is_none() {
        return Err(anyhow!(
            "--instances {} needs --postgres URL: several instances share one PostgreSQL database",
            args.instances
        ));
    }
    let servers: Vec<ServerProc> = (0..args.instances)
        .map(|_| start_server(&db, args.nats.as_deref()))
        .collect::<Result<_>>()?;
    let server = &servers[0];
    let pid = server.child.id();
    // Till i talks to instance i mod N.
    let url_of = |i: usize| servers[i % servers.len()].url.as_str();
    let storage = Admin { db };
    let (mut tpl_store, tpl) = template(&dir.join("template.db"))?;
    let seed = if args.publish {
        Some(publish::seed(&mut tpl_store)?)
    } else {
        None
    };
    drop(tpl_store);
    println!(
        "shopsync-load: {} tills over {} stores, {} sales each, {} sales per request, {} server instance(s)",
        args.tills, args.stores, args.sales, args.batch, args.instances
    );

    // Enrol the simulated tills: the first of each store adopts a new store id.
    let stores = args.stores.clamp(1, args.tills.max(1));
    let mut tills: Vec<SimTill> = Vec::new();
    for s in 0..stores {
        let code = storage.create_store(&format!("load {s}"))?;
        let (client, store_id, till_id) = enrol_sim(url_of(tills.len()), &code, Some(new_id()))?;
        tills.push(SimTill {
            client,
            store_id,
            till_id,
            docs: Vec::new(),
            cursor: 0,
        });
    }
    while tills.len() < args.tills {
        let s = tills.len() % stores;
        let store_id = tills[s].store_id.clone();
        let code = storage.till_code(&store_id)?;
        let (client, store_id, till_id) = enrol_sim(url_of(tills.len()), &code, None)?;
        tills.push(SimTill {
            client,
            store_id,
            till_id,
            docs: Vec::new(),
            cursor: 0,
        });
    }

    // Pre-generate every till's sales (not timed).
    let gen_started = Instant::now();
    let next = Mutex::new(0usize);
    let slots: Vec<Mutex<Option<Result<Vec<DocChanges>>>>> =
        (0..tills.len()).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = {
                        let Ok(mut n) = next.lock() else { return };
                        let i = *n;
                        *n += 1;
                        i
                    };
                    if i >= tills.len() {
                        return;
                    }
                    let g = generate(&tills[i].store_id, &tills[i].till_id, &tpl, args.sales);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(g);
                    }
                }
            });
        }
    });
    for (t, slot) in tills.iter_mut().zip(slots) {
        t.docs = slot
            .into_inner()
            .map_err(|_| anyhow!("poisoned"))?
            .ok_or_else(|| anyhow!("not generated"))??;
    }
    let bytes: usize = tills
        .iter()
        .flat_map(|t| t.docs.iter())
        .flat_map(|d| d.changes.iter())
        .map(Vec::len)
        .sum();
    let total_sales = args.sales * tills.len();
    println!(
        "generated {total_sales} sales ({:.0} bytes per change) in {:.1} s",
        bytes as f64 / total_sales.max(1) as f64,
        gen_started.elapsed().as_secs_f64()
    );

    // Publishing: each store's first till uploads a catalog and stock, and a
    // customer per store watches its public catalog (not timed).
    let mut uploads = publish::Uploads::default();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut seen = std::collections::HashMap::new();
    let mut watch_threads = Vec::new();
    if let Some(seed) = &seed {
        let mut watchers = Vec::new();
        for t in tills.iter_mut().take(stores) {
            let docs = publish::store_setup(seed, &t.store_id, &t.till_id)?;
            let (resp, _, _) = t.client.exchange(&SyncRequest::new(0, docs))?;
            t.cursor = resp.cursor;
            watchers.push(publish::Watcher::sign_up(&server.url, &t.store_id)?);
            uploads
                .counters
                .insert(t.store_id.clone(), std::sync::atomic::AtomicU64::new(0));
        }
        publish::wait_published(&mut watchers)?;
        for (w, t) in watchers.into_iter().zip(tills.iter()) {
            let log = std::sync::Arc::new(Mutex::new(Vec::new()));
            seen.insert(t.store_id.clone(), log.clone());
            let stop = stop.clone();
            watch_threads.push(std::thread::spawn(move || w.watch(stop, log)));
        }
        // Let every stream open before the clock starts.
        std::thread::sleep(Duration::from_millis(500));
        println!("publishing: {stores} stores publish, one watching customer each");
    }
    let uploads = &uploads;
    let publishing = seed.is_some();

    // With events: the first instance's publisher lag, sampled meanwhile.
    let lag_sampler = args
        .nats
        .as_ref()
        .map(|_| events_lag::Sampler::start(&server.url, METRICS_TOKEN));

    // Timed: every till uploads concurrently.
    let started = Instant::now();
    let results: Vec<Result<(Vec<Duration>, u64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = tills
            .iter_mut()
            .map(|t| scope.spawn(move || run_till(t, args.batch, publishing.then_some(uploads))))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("till thread panicked")))
            })
            .collect()
    });
    let elapsed = started.elapsed();
    let mut lat = Vec::new();
    let mut downloaded = 0;
    for r in results {
        let (l, d) = r?;
        lat.extend(l);
        downloaded += d;
    }
    lat.sort();
    println!(
        "merged {total_sales} sales in {:.2} s: {:.0} sales/s; {} sync requests, latency p50 {:.1} ms, p99 {:.1} ms; {} changes downloaded by tills",
        elapsed.as_secs_f64(),
        total_sales as f64 / elapsed.as_secs_f64(),
        lat.len(),
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        downloaded
    );

    if let Some(sampler) = lag_sampler {
        sampler.report(
            &servers.iter().map(|s| s.url.clone()).collect::<Vec<_>>(),
            METRICS_TOKEN,
        )?;
    }

    // Idle sync of a caught-up till: one round trip.
    if let Some(t) = tills.first_mut() {
        let req = SyncRequest::new(t.cursor, vec![]);
        let (resp, up, down) = t.client.exchange(&req)?;
        let (resp2, up2, down2) = t.client.exchange(&SyncRequest::new(resp.cursor, vec![]))?;
        println!(
            "idle sync: 1 round trip, request body {up2} B, response body {down2} B (+ HTTP headers ~250 B), {} changes (catch-up before it: {} changes, {up}+{down} B)",
            resp2.change_count(),
            resp.change_count()
        );
    }
    if publishing {
        // Give the last derivations time to reach the customers.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (_, missed) = publish::latencies(uploads, &seen);
            if missed == 0 || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let all_seen = started.elapsed();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let (lat, missed) = publish::latencies(uploads, &seen);
        println!(
            "public catalog: sale synced -> customer sees it: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms over {} uploads ({missed} never seen within 15 s)",
            pct(&lat, 0.50),
            pct(&lat, 0.99),
            lat.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
            lat.len()
        );
        let m = publish::derive_metrics(&server.url, METRICS_TOKEN)?;
        let get = |k: &str| m.get(k).copied().unwrap_or(0.0);
        let busy = get("shopsync_public_busy_seconds_total");
        println!(
            "derivation: {:.0} derivations, {:.0} public changes, {:.0} changes applied to replicas, {:.0} failures; busy {:.2} s = {:.1}% of the {:.2} s merge",
            get("shopsync_public_derivations_total"),
            get("shopsync_public_changes_total"),
            get("shopsync_public_replica_changes_total"),
            get("shopsync_public_failures_total"),
            busy,
            100.0 * busy / elapsed.as_secs_f64(),
            elapsed.as_secs_f64()
        );
        println!(
            "(all uploads seen by customers {:.2} s after the start)",
            all_seen.as_secs_f64()
        );
        for t in watch_threads {
            let _ = t.join();
        }
    }
    for (i, s) in servers.iter().enumerate() {
        println!(
            "server {} peak memory (VmHWM): {}",
            i + 1,
            vm_hwm(s.child.id())
        );
    }

    if args.bootstrap_sales > 0 {
        bootstrap::run(args, dir, &server.url, &storage, &tpl)?;
        println!(
            "server peak memory (VmHWM) after bootstrap: {}",
            vm_hwm(pid)
        );
    }
    Ok(())
}
