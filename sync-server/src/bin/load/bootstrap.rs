//! `--bootstrap-sales N`: a store of N sales, uploaded by simulated tills,
//! then a new till (the real client and store) enrolling: from the server's
//! snapshot of the store (`snapshots.rs`), and, for the baseline in the same
//! run, by downloading and projecting every change.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use shopsync_core::Store;
use shopsync_core::records::SaleRecord;
use shopsync_core::sync::client::{self, Client, EnrolReport, Exchanged, SyncError, Transport};
use shopsync_core::sync::snapshot::{CURSOR_HEADER, SCHEMA_HEADER, SNAPSHOT_PATH};
use shopsync_core::sync::wire::{DocChanges, SyncRequest};
use shopsync_core::sync::{EnrolRequest, EnrolResponse};

use super::{Admin, Args, SimTill, enrol_sim, generate, template, vm_hwm};

/// How long the server may take to make its copy of the store.
const SNAPSHOT_DEADLINE: Duration = Duration::from_secs(1800);

pub fn run(args: &Args, dir: &Path, url: &str, storage: &Admin, tpl: &SaleRecord) -> Result<()> {
    // A real till makes the store (catalog + one sale) and uploads it.
    let code = storage.create_store("bootstrap")?;
    let first = dir.join("first.db");
    let (manager, _) = template(&first)?;
    drop(manager);
    let (manager, _) = client::enrol(&first, url, &code, None, &mut |_| {})?;
    let store_id = manager.info().store_id.clone();
    let head = upload(args, url, storage, &store_id, tpl)?;
    let token = manager
        .sync_config()?
        .ok_or_else(|| anyhow!("the first till is not enrolled"))?
        .token;
    let waited = Instant::now();
    wait_for_snapshot(url, &token, head)?;
    println!(
        "server's snapshot of the store ready {:.1} s after the upload ended",
        waited.elapsed().as_secs_f64()
    );
    let from_snapshot = new_till(storage, &store_id, &dir.join("new.db"), |path, code, p| {
        client::enrol(path, url, code, Some("New"), p)
    })?;
    if from_snapshot.1.snapshot_cursor.is_none() {
        return Err(anyhow!("the new till did not start from the snapshot"));
    }
    report("from the snapshot", &from_snapshot);
    if !args.bootstrap_snapshot_only {
        let plain = NoSnapshot(Client::new(url, None)?);
        let changes = new_till(
            storage,
            &store_id,
            &dir.join("new-changes.db"),
            |path, code, p| client::enrol_via(path, &plain, code, Some("New 2"), false, p),
        )?;
        report("change by change", &changes);
        if changes.0 != from_snapshot.0 {
            return Err(anyhow!(
                "the two new tills disagree: {} sales from the snapshot, {} change by change",
                from_snapshot.0,
                changes.0
            ));
        }
        println!(
            "snapshot / change by change: {:.3}",
            from_snapshot.2.as_secs_f64() / changes.2.as_secs_f64()
        );
    }
    Ok(())
}

/// Simulated tills fill the store with sales (50,000 per till); returns the
/// store's head afterwards.
fn upload(
    args: &Args,
    url: &str,
    storage: &Admin,
    store_id: &str,
    tpl: &SaleRecord,
) -> Result<u64> {
    let per_till = 50_000usize;
    let n_tills = args.bootstrap_sales.div_ceil(per_till);
    let fill_started = Instant::now();
    let next = Mutex::new(0usize);
    let head = Mutex::new(0u64);
    let errors: Mutex<Vec<anyhow::Error>> = Mutex::new(Vec::new());
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
                    if i >= n_tills {
                        return;
                    }
                    let n = per_till.min(args.bootstrap_sales - i * per_till);
                    let work = || -> Result<u64> {
                        let code = storage.till_code(store_id)?;
                        let (client, _, till_id) = enrol_sim(url, &code, None)?;
                        let docs = generate(store_id, &till_id, tpl, n)?;
                        let mut t = SimTill {
                            client,
                            store_id: store_id.to_string(),
                            till_id,
                            docs,
                            cursor: u64::MAX,
                        };
                        // Upload only: a cursor at the head skips downloads.
                        let head = t.client.exchange(&SyncRequest::new(0, vec![]))?.0.head;
                        t.cursor = head;
                        let docs = std::mem::take(&mut t.docs);
                        for doc in docs {
                            for chunk in doc.changes.chunks(5_000) {
                                let req = SyncRequest::new(
                                    t.cursor,
                                    vec![DocChanges {
                                        doc_id: doc.doc_id.clone(),
                                        changes: chunk.to_vec(),
                                    }],
                                );
                                let (resp, _, _) = t.client.exchange(&req)?;
                                t.cursor = resp.head;
                            }
                        }
                        Ok(t.cursor)
                    };
                    match work() {
                        Ok(h) => {
                            if let Ok(mut max) = head.lock() {
                                *max = (*max).max(h);
                            }
                        }
                        Err(e) => {
                            if let Ok(mut errs) = errors.lock() {
                                errs.push(e);
                            }
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = errors
        .into_inner()
        .map_err(|_| anyhow!("poisoned"))?
        .into_iter()
        .next()
    {
        return Err(e);
    }
    println!(
        "bootstrap store: {} sales uploaded by {n_tills} tills in {:.1} s (generation included)",
        args.bootstrap_sales,
        fill_started.elapsed().as_secs_f64()
    );
    head.into_inner().map_err(|_| anyhow!("poisoned"))
}

/// Asks (`HEAD /v1/snapshot`) until the server's snapshot holds `head`.
fn wait_for_snapshot(url: &str, token: &str, head: u64) -> Result<()> {
    let http = reqwest::blocking::Client::new();
    let deadline = Instant::now() + SNAPSHOT_DEADLINE;
    let mut said = Instant::now();
    loop {
        let asked = http
            .head(format!("{url}{SNAPSHOT_PATH}"))
            .bearer_auth(token)
            .header(
                SCHEMA_HEADER,
                shopsync_core::db::schema_version().to_string(),
            )
            .send();
        // A busy server may not answer in time: asked again.
        let cursor = asked
            .ok()
            .filter(|r| r.status().is_success())
            .and_then(|r| {
                r.headers()
                    .get(CURSOR_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
            });
        if cursor.is_some_and(|c| c >= head) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(anyhow!(
                "the server made no snapshot of the store's {head} changes in {} s",
                SNAPSHOT_DEADLINE.as_secs()
            ));
        }
        if said.elapsed() > Duration::from_secs(10) {
            said = Instant::now();
            eprintln!("  waiting for the server's snapshot (it holds {cursor:?} of {head})");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A new till enrols at `path`; returns its sales, the report and the time.
fn new_till(
    storage: &Admin,
    store_id: &str,
    path: &Path,
    mut enrol: impl FnMut(
        &Path,
        &str,
        &mut dyn FnMut(shopsync_core::types::Progress),
    ) -> Result<(Store, EnrolReport), SyncError>,
) -> Result<(i64, EnrolReport, Duration)> {
    let code = storage.till_code(store_id)?;
    // The peak from here on is the new till's (on top of what this
    // process holds already): Linux resets it on "5" (proc(5), clear_refs).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let mut last = Instant::now();
    let (till, report) = enrol(path, &code, &mut |p| {
        if last.elapsed() > Duration::from_secs(2) {
            last = Instant::now();
            eprintln!("  {}: {}/{}", p.stage, p.done, p.total);
        }
    })?;
    let took = started.elapsed();
    println!(
        "  this process's peak memory (VmHWM) during the enrolment: {}",
        vm_hwm(std::process::id())
    );
    let sales: i64 = till
        .connection()
        .query_row("SELECT COUNT(*) FROM sales", [], |r| r.get(0))?;
    Ok((sales, report, took))
}

fn report(how: &str, (sales, report, took): &(i64, EnrolReport, Duration)) {
    println!(
        "new till bootstrapped {sales} sales {how} ({} changes synced after it, {} round trips, {:.0} MB on the wire) in {:.1} s",
        report.sync.received_new,
        report.sync.round_trips,
        report.sync.bytes_down as f64 / 1e6,
        took.as_secs_f64()
    );
}

/// The real client, without snapshots: the baseline, change by change.
#[derive(Clone)]
struct NoSnapshot(Client);

impl Transport for NoSnapshot {
    fn enrol(&self, req: &EnrolRequest) -> Result<EnrolResponse, SyncError> {
        self.0.enrol(req)
    }

    fn exchange_with_epoch(
        &self,
        req: &SyncRequest,
        known: Option<&str>,
    ) -> Result<Exchanged, SyncError> {
        self.0.exchange_with_epoch(req, known)
    }

    fn with_token(&self, token: &str) -> Result<Self, SyncError> {
        Ok(NoSnapshot(Transport::with_token(&self.0, token)?))
    }

    fn base(&self) -> &str {
        self.0.base()
    }
}
