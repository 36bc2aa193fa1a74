//! `shopsync-load --publish`: every store publishes its catalog (exact
//! counts) and has a customer watching it. Measures how long after a sale's
//! sync the customer sees a catalog at least that new (the store's sales
//! counted by the customer's copy ≥ the sales stored when the sync
//! returned), and the server's time spent deriving.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use automerge::{AutoCommit, ROOT, ScalarValue, transaction::Transactable};
use serde_json::{Value, json};
use shopsync_core::Store;
use shopsync_core::ids::{DocId, new_id};
use shopsync_core::records::{ReceiptRecord, Record};
use shopsync_core::sync::customer_wire::decode_change;
use shopsync_core::sync::wire::DocChanges;

/// Units of each product every store receives before it sells.
pub const STOCK: i64 = 10_000_000;
/// The product whose count the customers watch.
pub const WATCHED_SKU: &str = "MILK";

/// The template's catalog changes (with `publish` on and exact counts)
/// and its receipt record, to give every store a catalog and stock.
pub struct Seed {
    pub catalog: Vec<Vec<u8>>,
    pub receipt: ReceiptRecord,
}

pub fn seed(template: &mut Store) -> Result<Seed> {
    template.set_setting("publish", "true")?;
    template.set_setting("publish_detail", "count")?;
    let conn = template.connection();
    let catalog: Vec<Vec<u8>> = conn
        .prepare("SELECT bytes FROM doc_changes WHERE doc_id LIKE '%/catalog' ORDER BY seq")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let ledger: Vec<Vec<u8>> = conn
        .prepare("SELECT bytes FROM doc_changes WHERE doc_id LIKE '%/ledger/%' ORDER BY seq")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut receipt: Option<ReceiptRecord> = None;
    for bytes in ledger {
        let change = shopsync_core::docs::decode_change(&bytes)?;
        for r in shopsync_core::projection::rebuild::records_in_change(&change) {
            if let Record::Receipt(r) = r {
                let lines = r.lines.clone();
                let all = receipt.get_or_insert(ReceiptRecord {
                    lines: Vec::new(),
                    ..r
                });
                all.lines.extend(lines);
            }
        }
    }
    let mut receipt = receipt.ok_or_else(|| anyhow!("the template has no receipt"))?;
    for line in &mut receipt.lines {
        line.qty = STOCK;
    }
    Ok(Seed { catalog, receipt })
}

/// What a store's first till uploads before the timed run: the catalog
/// and one receipt of every product.
pub fn store_setup(seed: &Seed, store: &str, till: &str) -> Result<Vec<DocChanges>> {
    let mut receipts = Vec::new();
    let mut doc = AutoCommit::new();
    // One receipt per product line, so each is a valid record of its own.
    for line in &seed.receipt.lines {
        let mut r = seed.receipt.clone();
        r.id = new_id();
        r.lines = vec![line.clone()];
        let id = r.id.clone();
        doc.put(
            ROOT,
            id.as_str(),
            ScalarValue::Bytes(Record::Receipt(r).encode()?),
        )?;
        doc.commit();
        let mut c = doc
            .get_last_local_change()
            .ok_or_else(|| anyhow!("no change"))?;
        receipts.push(c.bytes().to_vec());
    }
    Ok(vec![
        DocChanges {
            doc_id: DocId::catalog(store).to_string(),
            changes: seed.catalog.clone(),
        },
        DocChanges {
            doc_id: format!("store/{store}/ledger/{till}/2026-04"),
            changes: receipts,
        },
    ])
}

fn http() -> Result<reqwest::blocking::Client> {
    shopsync_core::sync::client::install_crypto_provider();
    Ok(reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// A customer watching one store's public catalog.
pub struct Watcher {
    url: String,
    token: String,
    store: String,
    doc: AutoCommit,
    cursor: u64,
}

impl Watcher {
    pub fn sign_up(url: &str, store: &str) -> Result<Watcher> {
        let v: Value = http()?
            .post(format!("{url}/v1/customers"))
            .json(&json!({ "protocol": 1, "name": "Load", "device_name": "load" }))
            .send()?
            .error_for_status()?
            .json()?;
        Ok(Watcher {
            url: url.into(),
            token: v["token"]
                .as_str()
                .ok_or_else(|| anyhow!("no token"))?
                .into(),
            store: store.into(),
            doc: AutoCommit::new(),
            cursor: 0,
        })
    }

    /// Syncs the public catalog; returns the sales it reflects (units of
    /// the watched product gone), if it shows the product yet.
    pub fn fetch(&mut self, client: &reqwest::blocking::Client) -> Result<Option<u64>> {
        let id = DocId::Public {
            store: self.store.clone(),
        }
        .to_string();
        loop {
            let v: Value = client
                .post(format!("{}/v1/customer/sync", self.url))
                .bearer_auth(&self.token)
                .json(&json!({ "protocol": 1, "docs": [{ "doc_id": id, "since": self.cursor }] }))
                .send()?
                .error_for_status()?
                .json()?;
            let doc = &v["docs"][0];
            let mut changes = Vec::new();
            for c in doc["changes"].as_array().into_iter().flatten() {
                let bytes = decode_change(c.as_str().unwrap_or("")).map_err(|e| anyhow!(e))?;
                changes.push(automerge::Change::from_bytes(bytes)?);
            }
            self.doc.apply_changes(changes)?;
            self.cursor = doc["cursor"].as_u64().unwrap_or(self.cursor);
            if !doc["more"].as_bool().unwrap_or(false) {
                break;
            }
        }
        let catalog = shopsync_core::public_catalog::read(&self.doc, &self.store)?;
        Ok(catalog
            .products
            .iter()
            .find(|p| p.sku == WATCHED_SKU)
            .and_then(|p| p.count)
            .map(|c| (STOCK - c).max(0) as u64))
    }

    /// Until `stop`: on every notice, fetch and record (when, sales seen).
    pub fn watch(mut self, stop: Arc<AtomicBool>, seen: Seen) -> Result<()> {
        let client = http()?;
        let resp = client
            .get(format!(
                "{}/v1/customer/events?watch={}",
                self.url, self.store
            ))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(3600))
            .send()?
            .error_for_status()?;
        let mut lines = BufReader::new(resp).lines();
        while !stop.load(SeqCst) {
            let Some(line) = lines.next() else { break };
            let line = line?;
            if line.starts_with("event: changed")
                && let Some(sold) = self.fetch(&client)?
                && let Ok(mut s) = seen.lock()
            {
                s.push((Instant::now(), sold));
            }
        }
        Ok(())
    }
}

/// When a customer saw its store's catalog change, and how many sales it
/// showed then.
pub type Seen = Arc<Mutex<Vec<(Instant, u64)>>>;

/// Per store: when each upload returned and how many of the store's sales
/// were stored by then (a lower bound: counted after each upload returns).
#[derive(Default)]
pub struct Uploads {
    pub counters: HashMap<String, AtomicU64>,
    pub log: Mutex<Vec<(String, Instant, u64)>>,
}

impl Uploads {
    pub fn record(&self, store: &str, sales: u64) {
        if let Some(c) = self.counters.get(store) {
            let total = c.fetch_add(sales, SeqCst) + sales;
            if let Ok(mut log) = self.log.lock() {
                log.push((store.to_string(), Instant::now(), total));
            }
        }
    }
}

/// For each upload: the time until its store's customer saw at least as
/// many sales. Uploads never seen are counted separately.
pub fn latencies(uploads: &Uploads, seen: &HashMap<String, Seen>) -> (Vec<Duration>, usize) {
    let mut out = Vec::new();
    let mut missed = 0;
    let log = uploads.log.lock().map(|l| l.clone()).unwrap_or_default();
    for (store, at, total) in log {
        let Some(s) = seen.get(&store) else { continue };
        let s = s.lock().map(|s| s.clone()).unwrap_or_default();
        match s.iter().find(|(when, sold)| *when >= at && *sold >= total) {
            Some((when, _)) => out.push(*when - at),
            None => missed += 1,
        }
    }
    out.sort();
    (out, missed)
}

/// The server's derivation counters from `/metrics`.
pub fn derive_metrics(url: &str, token: &str) -> Result<HashMap<String, f64>> {
    let text = http()?
        .get(format!("{url}/metrics"))
        .bearer_auth(token)
        .send()?
        .error_for_status()?
        .text()?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("shopsync_"))
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect())
}

/// Waits until every watcher's first fetch shows the product.
pub fn wait_published(watchers: &mut [Watcher]) -> Result<()> {
    let client = http()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    for w in watchers.iter_mut() {
        while w.fetch(&client)?.is_none() {
            if Instant::now() > deadline {
                return Err(anyhow!("store {} never published its catalog", w.store));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}
