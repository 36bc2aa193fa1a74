//! Each shop's public catalog, `store/{store}/public`, derived by the server
//! as the shop's changes arrive.
//!
//! The server keeps a replica of each shop that publishes: a till's own
//! store file (`{dir}/{store_id}.db`), fed the shop's change feed and
//! projected by the core's projection code, the same code every till runs.
//! From its projections `public_catalog::derive` makes the catalog and
//! writes what changed to the public document as one change, which the
//! server stores like any other (so customers sync it and get a notice).
//!
//! Work is batched: a store marked dirty is derived at most once per
//! `DEBOUNCE`, however many sales arrive meanwhile. Without `--nats`, a
//! store is derived when its catalog changes (where the `publish` setting
//! lives), and for other changes only if it publishes: as this process's
//! last derivation found, or else as its shop listing says (one query; an
//! earlier process or another instance derived the change that made it
//! publish). At start, shops whose listing says they publish are derived,
//! and so are shops with changes but no listing and shops with a replica
//! file (an empty one marks a failed derivation): their last derivation may
//! not have finished. Before, a shop's first sales were projected on a
//! replica before the server learnt the shop does not publish. A
//! derivation that finds a shop starting to publish (its listing said
//! otherwise) is followed by one more. Replicas are caches: one that belongs to
//! another lifetime of the database (an epoch it does not know) is thrown
//! away and rebuilt from the feed.

use crate::replica_cache::{OPEN_REPLICAS, ReplicaCache};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use shopsync_core::Store;
use shopsync_core::bundle::Bundle;
use shopsync_core::change_bytes::{
    MAX_INFLATED_CHANGE_BYTES, MAX_OPS_PER_CHANGE, decode_change_within,
};
use shopsync_core::ids::DocId;
use tokio::sync::Notify;

use crate::AppState;
use crate::storage::{DocBatch, NewChange, Storage, StorageError};

/// The least time between two derivations of one store.
pub const DEBOUNCE: Duration = Duration::from_millis(200);
/// How soon a store left waiting for another instance's lease on its events
/// is derived again without a new sync.
const RETRY_AFTER: Duration = Duration::from_secs(1);

const REPLICA_TILL_ID: &str = "server-public-catalog";
const KEY_CURSOR: &str = "public.cursor";
const KEY_EPOCH: &str = "public.epoch";
/// Set before a page whose events are derived is imported, cleared when
/// the replica's cursor moves past it: a replica found with it after a
/// stop may hold a page whose events were never queued (its stock before
/// the page is gone), see `open_replica`.
const KEY_IN_FLIGHT: &str = "events.in_flight";

#[derive(Default)]
pub struct DeriveStats {
    pub derivations: AtomicU64,
    pub changes_applied: AtomicU64,
    pub public_changes: AtomicU64,
    /// Changes of pages whose catalog and stock events were queued (with
    /// the event cursor): after the events, unlike `changes_applied`.
    pub event_changes: AtomicU64,
    /// Time spent catching replicas up and deriving, in microseconds.
    pub busy_micros: AtomicU64,
    pub failures: AtomicU64,
    /// Derivations put off because another instance held the store's
    /// lease on its events.
    pub lease_waits: AtomicU64,
}

impl DeriveStats {
    /// Appends the counters in Prometheus' text format.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let busy = self.busy_micros.load(Relaxed) as f64 / 1e6;
        for (name, help, v) in [
            (
                "shopsync_public_derivations_total",
                "public catalog derivations",
                self.derivations.load(Relaxed) as f64,
            ),
            (
                "shopsync_public_changes_total",
                "changes written to public catalogs",
                self.public_changes.load(Relaxed) as f64,
            ),
            (
                "shopsync_public_replica_changes_total",
                "changes applied to replicas",
                self.changes_applied.load(Relaxed) as f64,
            ),
            (
                "shopsync_events_replica_changes_total",
                "changes whose catalog and stock events were derived and queued",
                self.event_changes.load(Relaxed) as f64,
            ),
            (
                "shopsync_public_failures_total",
                "derivations that failed",
                self.failures.load(Relaxed) as f64,
            ),
            (
                "shopsync_events_lease_waits_total",
                "derivations put off while another instance derived the store's events",
                self.lease_waits.load(Relaxed) as f64,
            ),
            (
                "shopsync_public_busy_seconds_total",
                "time spent catching replicas up and deriving",
                busy,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
    }
}

pub struct Deriver {
    dir: Option<PathBuf>,
    /// store pk → store id, waiting to be derived.
    dirty: Mutex<HashMap<i64, String>>,
    wake: Notify,
    /// Stores whose last derivation found them not publishing.
    unpublished: Mutex<HashSet<i64>>,
    /// Stores whose last derivation found them publishing: their sales
    /// change the public catalog's availability. Any other store's sales
    /// are derived only if its shop listing says it publishes
    /// (`sort_unknown`); its catalog changes always (publishing is a
    /// catalog setting), and everything with `--nats`.
    published: Mutex<HashSet<i64>>,
    replicas: Mutex<ReplicaCache>,
    /// With `--nats`: every store's replica is kept up to date, publishing
    /// or not, to derive its catalog and stock events (docs/EVENTS.md).
    events: AtomicBool,
    /// Stores waiting for another instance's lease on their events (or a
    /// replica just found ahead of them): derived again after
    /// [`RETRY_AFTER`].
    retry_soon: Mutex<HashMap<i64, String>>,
    /// Stores with new sales not known to publish: the shop listing tells
    /// whether they do now (another instance, or an earlier process, may
    /// have derived the change that made them publish).
    unknown: Mutex<HashMap<i64, String>>,
    /// Stores whose derivation failed: derived again at the next sync of
    /// any store (a rebuild is costly; a lasting cause would repeat it).
    failed: Mutex<HashMap<i64, String>>,
    pub stats: DeriveStats,
}

#[derive(Debug, thiserror::Error)]
pub enum DeriveError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("replica: {0}")]
    Core(#[from] shopsync_core::CoreError),
    #[error("a change in the feed does not decode: {0}")]
    Decode(String),
    #[error("the derivation task failed: {0}")]
    Join(String),
    #[error("the replica is at {cursor}, past its events' cursor {from}")]
    AheadOfEvents { cursor: u64, from: u64 },
    /// Another instance derives the store's events now, or did meanwhile.
    #[error("{0}")]
    LeaseLost(String),
}

impl Deriver {
    /// `dir: None` derives nothing (an embedder without a place for replicas).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Deriver {
            dir,
            dirty: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            unpublished: Mutex::new(HashSet::new()),
            published: Mutex::new(HashSet::new()),
            replicas: Mutex::new(ReplicaCache::new(OPEN_REPLICAS)),
            events: AtomicBool::new(false),
            retry_soon: Mutex::new(HashMap::new()),
            failed: Mutex::new(HashMap::new()),
            unknown: Mutex::new(HashMap::new()),
            stats: DeriveStats::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    /// New changes of a store arrived (`docs`: their document ids).
    pub fn mark(&self, store_pk: i64, store_id: &str, docs: &[String]) {
        if self.dir.is_none() || store_id.starts_with('~') {
            return;
        }
        let catalog = DocId::catalog(store_id).to_string();
        let public = DocId::Public {
            store: store_id.to_string(),
        }
        .to_string();
        if docs.iter().all(|d| *d == public) {
            return;
        }
        let publishes = self
            .published
            .lock()
            .map(|p| p.contains(&store_pk))
            .unwrap_or(true);
        let derive = publishes || docs.contains(&catalog) || self.events.load(Relaxed);
        // Otherwise the shop listing says whether it publishes (`run`):
        // another instance may have derived the change that made it
        // publish.
        let waiting = if derive { &self.dirty } else { &self.unknown };
        if let Ok(mut d) = waiting.lock() {
            d.insert(store_pk, store_id.to_string());
        }
        self.wake.notify_one();
    }

    /// Another instance derives this store's events now: tried again
    /// after [`RETRY_AFTER`] (its pass may end before this instance's
    /// latest changes were stored).
    fn wait_for_lease(&self, store_pk: i64, store_id: &str) {
        tracing::debug!(store = %store_id, "another instance derives this store's events now");
        self.stats.lease_waits.fetch_add(1, Relaxed);
        self.retry_soon(store_pk, store_id);
    }

    fn retry_soon(&self, store_pk: i64, store_id: &str) {
        if let Ok(mut r) = self.retry_soon.lock() {
            r.insert(store_pk, store_id.to_string());
        }
    }

    /// Moves the stores of `from` to the dirty ones.
    fn requeue(&self, from: &Mutex<HashMap<i64, String>>) {
        let waiting: Vec<(i64, String)> = from
            .lock()
            .map(|mut w| w.drain().collect())
            .unwrap_or_default();
        if let Ok(mut d) = self.dirty.lock() {
            d.extend(waiting);
        }
    }

    fn take_dirty(&self) -> Vec<(i64, String)> {
        self.dirty
            .lock()
            .map(|mut d| d.drain().collect())
            .unwrap_or_default()
    }
}

/// Before the server takes requests: with `--nats` on a storage that keeps
/// event cursors, every store's replica is kept up to date and its catalog
/// and stock events derived from the changes stored from now on.
pub async fn prepare_events<S: Storage>(st: &AppState<S>) {
    if !st.deriver.enabled() {
        return;
    }
    let on = st.events.is_some() && st.storage.keeps_event_cursors();
    match st.storage.start_replica_events(on).await {
        Ok(()) => st.deriver.events.store(on, Relaxed),
        Err(e) => tracing::warn!("catalog and stock events will not be derived: {e}"),
    }
}

/// Runs until shutdown: derives every store marked dirty, batching.
pub async fn run<S: Storage>(st: std::sync::Arc<AppState<S>>) {
    if !st.deriver.enabled() {
        return;
    }
    let mut shutdown = st.shutdown.clone();
    // Changes stored just before a stop were never derived: look at every
    // shop that has a replica once at start (one that is caught up costs a
    // query), and, with events, at every shop with changes past its event
    // cursor (its replica may be gone, or never made).
    if st.deriver.events.load(Relaxed) {
        match st.storage.stores_behind_events().await {
            Ok(rows) => {
                if let Ok(mut d) = st.deriver.dirty.lock() {
                    for row in rows.into_iter().filter(|r| !r.store_id.starts_with('~')) {
                        d.insert(row.pk, row.store_id);
                    }
                }
            }
            Err(e) => tracing::warn!("could not list the shops whose events wait: {e}"),
        }
    }
    let mut listed = mark_maybe_publishing(&st).await;
    if let Some(dir) = st.deriver.dir.clone() {
        let names: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .filter_map(|n| n.strip_suffix(".db").map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for store_id in names {
            if let Ok(Some(row)) = st.storage.find_store(store_id.clone()).await
                && let Ok(mut d) = st.deriver.dirty.lock()
            {
                d.insert(row.pk, row.store_id);
            }
        }
        st.deriver.wake.notify_one();
    }
    loop {
        // Stores waiting for another instance's lease on their events are
        // tried again after a while even if no sync wakes the deriver; a
        // failed one waits for the next sync (a rebuild is costly).
        // A store whose listing could not be read is asked again likewise.
        let again = st.deriver.retry_soon.lock().is_ok_and(|r| !r.is_empty())
            || st.deriver.unknown.lock().is_ok_and(|u| !u.is_empty());
        tokio::select! {
            _ = st.deriver.wake.notified() => st.deriver.requeue(&st.deriver.failed),
            _ = tokio::time::sleep(RETRY_AFTER), if again => {}
            _ = shutdown.changed() => return,
        }
        st.deriver.requeue(&st.deriver.retry_soon);
        if !listed {
            listed = mark_maybe_publishing(&st).await;
        }
        tokio::time::sleep(DEBOUNCE).await;
        sort_unknown(&st).await;
        for (pk, store_id) in st.deriver.take_dirty() {
            if let Err(e) = derive_store(&st, pk, &store_id).await {
                st.deriver.stats.failures.fetch_add(1, Relaxed);
                tracing::warn!(store = %store_id, "could not derive the public catalog: {e}");
                // Derived again at the next sync, whatever failed (its
                // later sales may not mark it: it may not be known to
                // publish yet).
                if let Ok(mut f) = st.deriver.failed.lock() {
                    f.insert(pk, store_id);
                }
            }
        }
    }
}

/// Marks the shops that publish (a replica folder emptied since, too: their
/// sales change their public catalogs, and this process does not know them
/// yet), and the shops with changes but no listing (their derivation never
/// finished: a failure, a stop, a restored database; it may have been the
/// catalog change that made them publish). False if they could not be
/// listed: tried again at the next wake.
async fn mark_maybe_publishing<S: Storage>(st: &AppState<S>) -> bool {
    match st.storage.stores_maybe_publishing().await {
        Ok(rows) => {
            if let Ok(mut d) = st.deriver.dirty.lock() {
                d.extend(rows.into_iter().map(|r| (r.pk, r.store_id)));
            }
            true
        }
        Err(e) => {
            tracing::warn!("could not list the shops that may publish (asked again later): {e}");
            false
        }
    }
}

/// Stores with new sales not known to publish: derived if their listing
/// says they publish (an earlier process or another instance found them
/// publishing); otherwise their sales change no public catalog. One query
/// per store and batch, instead of projecting its sales on a replica.
async fn sort_unknown<S: Storage>(st: &AppState<S>) {
    let unknown: Vec<(i64, String)> = st
        .deriver
        .unknown
        .lock()
        .map(|mut u| u.drain().collect())
        .unwrap_or_default();
    for (pk, store_id) in unknown {
        match st.storage.shop_published(pk).await {
            Ok(false) => {}
            Ok(true) => {
                if let Ok(mut d) = st.deriver.dirty.lock() {
                    d.insert(pk, store_id);
                }
            }
            // Asked again with the next batch (deriving it instead would
            // be the cost this check saves).
            Err(e) => {
                tracing::warn!(store = %store_id, "could not read whether the shop publishes: {e}");
                if let Ok(mut u) = st.deriver.unknown.lock() {
                    u.insert(pk, store_id);
                }
            }
        }
    }
}

fn replica_path(dir: &Path, store_id: &str) -> PathBuf {
    dir.join(format!("{store_id}.db"))
}

fn meta(store: &Store, key: &str) -> Option<String> {
    store
        .connection()
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .ok()
}

fn set_meta(store: &Store, key: &str, value: &str) -> Result<(), DeriveError> {
    store
        .connection()
        .execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
        .map_err(|e| DeriveError::Core(e.into()))?;
    Ok(())
}

/// The replica's cursor moves to `cursor` and its in-flight mark goes, in
/// one transaction.
fn page_done(store: &Store, cursor: u64) -> Result<(), DeriveError> {
    let core = |e: rusqlite::Error| DeriveError::Core(e.into());
    let tx = store.connection().unchecked_transaction().map_err(core)?;
    set_meta(store, KEY_CURSOR, &cursor.to_string())?;
    tx.execute("DELETE FROM meta WHERE key = ?1", [KEY_IN_FLIGHT])
        .map_err(core)?;
    tx.commit().map_err(core)
}

/// The replica of a store, opened or made, belonging to this epoch.
/// `events_from` is the store's event cursor (None: no events derived).
fn open_replica(
    dir: &Path,
    store_id: &str,
    epoch: &str,
    head: u64,
    events_from: Option<u64>,
) -> Result<Store, DeriveError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        DeriveError::Core(shopsync_core::CoreError::Io {
            context: format!("cannot create {}", dir.display()),
            source: e,
        })
    })?;
    let path = replica_path(dir, store_id);
    if path.exists() {
        // An empty file: left by a failed derivation (`derive_leased`).
        let empty = std::fs::metadata(&path).is_ok_and(|m| m.len() == 0);
        if !empty && let Ok(store) = Store::open(&path) {
            let cursor: u64 = meta(&store, KEY_CURSOR)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            // A page imported with its events not queued (a stop in
            // between): the replica is past the event cursor and cannot
            // derive that page's stock.low again, so it is rebuilt up to
            // the cursor (`catch_up_and_write`) and derives the page anew.
            let ahead = meta(&store, KEY_IN_FLIGHT)
                .and_then(|m| m.parse::<u64>().ok())
                .is_some_and(|m| events_from.is_some_and(|f| f < m));
            if meta(&store, KEY_EPOCH).as_deref() == Some(epoch) && cursor <= head && !ahead {
                return Ok(store);
            }
        }
        // Another lifetime of the database, ahead of its events, or
        // unreadable: start again.
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    let store = Store::create_with_till(&path, store_id, REPLICA_TILL_ID, "public catalog")?;
    set_meta(&store, KEY_EPOCH, epoch)?;
    set_meta(&store, KEY_CURSOR, "0")?;
    Ok(store)
}

/// Catches the store's replica up with the feed and writes its public
/// catalog's changes, if any. With events, only while this instance holds
/// the store's lease on them (`Storage::lease_replica_events`): a store
/// another instance derives now is left waiting and tried again later.
pub async fn derive_store<S: Storage>(
    st: &AppState<S>,
    store_pk: i64,
    store_id: &str,
) -> Result<(), DeriveError> {
    if st.deriver.dir.is_none() {
        return Ok(());
    }
    let events = st.events.is_some() && st.deriver.events.load(Relaxed);
    if events && !st.storage.lease_replica_events(store_pk).await? {
        st.deriver.wait_for_lease(store_pk, store_id);
        return Ok(());
    }
    let result = derive_leased(st, store_pk, store_id, events).await;
    if events && let Err(e) = st.storage.release_replica_events(store_pk).await {
        tracing::warn!(store = %store_id, "could not give back the lease on its events (it expires): {e}");
    }
    result
}

async fn derive_leased<S: Storage>(
    st: &AppState<S>,
    store_pk: i64,
    store_id: &str,
    events: bool,
) -> Result<(), DeriveError> {
    let Some(dir) = st.deriver.dir.clone() else {
        return Ok(());
    };
    let started = Instant::now();
    let head = st.storage.head(store_pk).await?;
    let epoch = st.storage.epoch();
    let events_from = if events {
        st.storage.replica_events_from(store_pk).await?
    } else {
        None
    };
    let taken = st
        .deriver
        .replicas
        .lock()
        .ok()
        .and_then(|mut r| r.take(store_pk));
    let mut replica = match taken {
        Some(r) => Some(r),
        None => {
            let (dir, id, ep) = (dir.clone(), store_id.to_string(), epoch.clone());
            Some(
                tokio::task::spawn_blocking(move || {
                    open_replica(&dir, &id, &ep, head, events_from)
                })
                .await
                .map_err(|e| DeriveError::Join(e.to_string()))??,
            )
        }
    };
    let result = catch_up_and_write(st, store_pk, store_id, &mut replica, events).await;
    match (replica, &result) {
        // Another instance took the store's events over (or derived pages
        // meanwhile): this replica may hold a page whose events it did not
        // queue. Closed, not deleted: opening it again compares its
        // in-flight page with the cursor (`open_replica`) and rebuilds it
        // only if it is ahead. Tried again soon.
        (replica, Err(DeriveError::LeaseLost(_))) => {
            if let Some(replica) = replica {
                tokio::task::spawn_blocking(move || drop(replica));
            }
            st.deriver.wait_for_lease(store_pk, store_id);
            st.deriver
                .stats
                .busy_micros
                .fetch_add(started.elapsed().as_micros() as u64, Relaxed);
            return Ok(());
        }
        (Some(replica), Ok(())) => {
            let closed = st
                .deriver
                .replicas
                .lock()
                .ok()
                .and_then(|mut r| r.put(store_pk, replica));
            if let Some(closed) = closed {
                tokio::task::spawn_blocking(move || drop(closed));
            }
        }
        // After any failure the replica may hold a public change the server
        // never stored (every later one would depend on it and be refused):
        // throw it away; the next derivation rebuilds it from the feed. An
        // empty file stays in its place, so that a stop before then still
        // finds the store at start (`run`; `open_replica` rebuilds it).
        (replica, _) => {
            let path = replica_path(&dir, store_id);
            let _ = tokio::task::spawn_blocking(move || {
                drop(replica);
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                let _ = std::fs::write(&path, b"");
            })
            .await;
            if let Err(DeriveError::AheadOfEvents { .. }) = &result {
                // Not a failure: rebuilt from the feed right away.
                tracing::info!(store = %store_id, "the replica was ahead of its events' cursor: rebuilt");
                st.deriver.retry_soon(store_pk, store_id);
                return Ok(());
            }
            tracing::warn!(store = %store_id, "the replica was dropped after a failure; it will be rebuilt");
            // Derive again at the next sync, from a fresh replica.
            if let Ok(mut f) = st.deriver.failed.lock() {
                f.insert(store_pk, store_id.to_string());
            }
        }
    }
    st.deriver
        .stats
        .busy_micros
        .fetch_add(started.elapsed().as_micros() as u64, Relaxed);
    st.deriver.stats.derivations.fetch_add(1, Relaxed);
    result
}

async fn catch_up_and_write<S: Storage>(
    st: &AppState<S>,
    store_pk: i64,
    store_id: &str,
    replica: &mut Option<Store>,
    leased: bool,
) -> Result<(), DeriveError> {
    // Catalog and stock events (with --nats), for changes after `from`.
    let from = if leased {
        st.storage.replica_events_from(store_pk).await?
    } else {
        None
    };
    // A replica ahead of the event cursor (it imported changes without
    // deriving their events: a run without `--nats` on this folder, or a
    // page whose queuing was refused) would skip them: rebuilt.
    if let Some(from) = from {
        let cursor: u64 = replica
            .as_ref()
            .and_then(|r| meta(r, KEY_CURSOR))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        if cursor > from {
            return Err(DeriveError::AheadOfEvents { cursor, from });
        }
    }
    let mut first = true;
    loop {
        // The lease is renewed before every page after the first (a
        // catch-up of a large shop takes many); lost, the pass stops with
        // the replica at most at the event cursor.
        if leased
            && !std::mem::take(&mut first)
            && !st.storage.lease_replica_events(store_pk).await?
        {
            st.deriver.wait_for_lease(store_pk, store_id);
            return Ok(());
        }
        let cursor: u64 = replica
            .as_ref()
            .and_then(|r| meta(r, KEY_CURSOR))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        // A replica behind the event cursor (rebuilt) first catches up to
        // it without events: those were derived before.
        let until = from.filter(|f| cursor < *f);
        let page = match until {
            Some(until) => {
                st.storage
                    .changes_until(store_pk, cursor, until, st.options.page_bytes)
                    .await?
            }
            None => {
                st.storage
                    .changes_since(store_pk, cursor, HashSet::new(), st.options.page_bytes)
                    .await?
            }
        };
        if page.changes == 0 && page.cursor == cursor {
            break;
        }
        let with_events = from.is_some() && until.is_none();
        let mut catalog_changes = Vec::new();
        let mut docs = Vec::with_capacity(page.docs.len());
        for (doc_id, changes) in page.docs {
            let Some(id) = DocId::parse(&doc_id) else {
                continue;
            };
            // The public document is written by this server alone (one
            // change per refresh, an operation per product): held to the
            // byte bounds only, or a shop of more than 100,000 products
            // could never refresh again.
            let max_ops = if matches!(id, DocId::Public { .. }) {
                usize::MAX
            } else {
                MAX_OPS_PER_CHANGE
            };
            let mut decoded = Vec::with_capacity(changes.len());
            for bytes in changes {
                decoded.push(
                    decode_change_within(&bytes, MAX_INFLATED_CHANGE_BYTES, max_ops)
                        .map(|(change, _)| change)
                        .map_err(|e| DeriveError::Decode(e.to_string()))?,
                );
            }
            st.deriver
                .stats
                .changes_applied
                .fetch_add(decoded.len() as u64, Relaxed);
            if with_events && matches!(id, DocId::Catalog { .. }) {
                catalog_changes.extend(decoded.iter().cloned());
            }
            docs.push((id, decoded));
        }
        let bundle = Bundle {
            store_id: store_id.to_string(),
            docs,
        };
        let new_cursor = page.cursor;
        let more = page.more;
        let page_changes = page.changes;
        let events = on_replica(replica, move |r| {
            if with_events {
                set_meta(r, KEY_IN_FLIGHT, &new_cursor.to_string())?;
            }
            crate::events::replica::import_page(
                r,
                bundle,
                with_events,
                new_cursor,
                &catalog_changes,
            )
        })
        .await?;
        // Queued, with the event cursor, before the replica's cursor moves.
        // A stop before this line leaves the in-flight mark: the replica
        // is rebuilt up to the event cursor and the page derived again. A
        // stop after it leaves the replica's cursor behind the event
        // cursor: the page is imported again without events (they are
        // queued already).
        if with_events {
            let queued = !events.is_empty();
            st.storage
                .queue_replica_events(store_pk, cursor, new_cursor, events)
                .await
                .map_err(|e| match e {
                    StorageError::Conflict(why) => DeriveError::LeaseLost(why),
                    e => DeriveError::Storage(e),
                })?;
            st.deriver
                .stats
                .event_changes
                .fetch_add(page_changes, Relaxed);
            if let (true, Some(status)) = (queued, &st.events) {
                status.wake.notify_one();
            }
        }
        on_replica(replica, move |r| page_done(r, new_cursor)).await?;
        if !more && until.is_none() {
            break;
        }
    }
    let (catalog, change) = on_replica(replica, |r| {
        r.refresh_public_catalog().map_err(DeriveError::from)
    })
    .await?;
    let was_published = st
        .deriver
        .unpublished
        .lock()
        .map(|mut u| {
            let was = !u.contains(&store_pk);
            if catalog.published {
                u.remove(&store_pk);
            } else {
                u.insert(store_pk);
            }
            if let Ok(mut p) = st.deriver.published.lock() {
                if catalog.published {
                    p.insert(store_pk);
                } else {
                    p.remove(&store_pk);
                }
            }
            was
        })
        .unwrap_or(true);
    // A shop that never published is never listed (no row written).
    if catalog.published || was_published || change.is_some() {
        let before = st
            .storage
            .set_shop_listing(
                store_pk,
                catalog.name.clone(),
                catalog.published,
                chrono::Utc::now().timestamp_millis(),
            )
            .await?;
        // The listing says it publishes from now on. Another instance may
        // have stored a sale while this derivation ran and, reading the
        // listing before this write, left it underived: derived once more.
        if catalog.published && before != Some(true) {
            st.deriver.retry_soon(store_pk, store_id);
        }
    }
    if let Some(mut change) = change {
        let doc_id = DocId::Public {
            store: store_id.to_string(),
        }
        .to_string();
        let bytes = change.bytes().to_vec();
        let new = NewChange {
            hash: change.hash().0,
            deps: change.deps().iter().map(|d| d.0).collect(),
            inflated_len: change.raw_bytes().len() as u64,
            actor: change.actor_id().to_bytes().to_vec(),
            actor_seq: change.seq(),
            bytes,
        };
        let stored = st
            .storage
            .store_changes(
                store_pk,
                vec![DocBatch {
                    doc_id: doc_id.clone(),
                    changes: vec![new],
                }],
            )
            .await?;
        st.deriver.stats.public_changes.fetch_add(1, Relaxed);
        if stored.new_changes > 0 {
            let _ = st
                .notices
                .send(crate::Notice::stored(store_pk, stored.head, vec![doc_id]));
        }
    }
    Ok(())
}

/// Runs blocking work on the replica on tokio's blocking pool (the replica
/// moves there and back; a panic there loses it, and it is reopened from
/// its file next time).
async fn on_replica<T: Send + 'static>(
    replica: &mut Option<Store>,
    f: impl FnOnce(&mut Store) -> Result<T, DeriveError> + Send + 'static,
) -> Result<T, DeriveError> {
    let Some(mut r) = replica.take() else {
        return Err(DeriveError::Join("no replica".into()));
    };
    let (r, out) = tokio::task::spawn_blocking(move || {
        let out = f(&mut r);
        (r, out)
    })
    .await
    .map_err(|e| DeriveError::Join(e.to_string()))?;
    *replica = Some(r);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A replica left with a page in flight (a stop between its import and
    /// the queueing of its events) is rebuilt when the event cursor is
    /// behind the page, and kept when the events were queued.
    #[test]
    fn a_replica_ahead_of_its_event_cursor_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let open = |events_from| open_replica(dir.path(), "s1", "e", 10, events_from).unwrap();
        let r = open(Some(5));
        page_done(&r, 5).unwrap();
        set_meta(&r, KEY_IN_FLIGHT, "8").unwrap();
        drop(r);
        let cursor = |r: &Store| meta(r, KEY_CURSOR);

        // Events of the page up to 8 were queued: kept as it is.
        let r = open(Some(8));
        assert_eq!(cursor(&r).as_deref(), Some("5"));
        drop(r);
        // Without events: nothing to derive again, kept.
        let r = open(None);
        assert_eq!(cursor(&r).as_deref(), Some("5"));
        drop(r);
        // The event cursor is behind the page: rebuilt from nothing.
        let r = open(Some(5));
        assert_eq!(cursor(&r).as_deref(), Some("0"));
        assert_eq!(meta(&r, KEY_IN_FLIGHT), None);

        // A page done drops the mark with the cursor.
        set_meta(&r, KEY_IN_FLIGHT, "9").unwrap();
        page_done(&r, 9).unwrap();
        assert_eq!(meta(&r, KEY_IN_FLIGHT), None);
        assert_eq!(cursor(&r).as_deref(), Some("9"));
    }
}
