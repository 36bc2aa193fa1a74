//! New tills in seconds (issue 11): the server keeps a ready-made copy of
//! each large store — a till's own store file, synced from the store's
//! change feed by the core's sync code, the same code every till runs, with
//! its projections and indexes built — and a new till downloads it whole
//! (`GET /v1/snapshot`, docs/PROTOCOL.md) instead of a million changes to
//! project one by one. It then syncs from the snapshot's cursor as usual.
//!
//! A store gets a copy once it holds `snapshot_from` changes; the copy is
//! brought up to date at most once per `snapshot_every` after the store's
//! tills store changes. The working copy (`{store_id}.db`) is never served:
//! each refresh publishes a new file (`{store_id}.{cursor}.snapshot`, copied
//! and hashed, then renamed into place) and its description
//! (`{store_id}.json`: file, cursor, epoch, length, SHA-256, schema
//! version), and removes the older files. A download opens the file its
//! description names and reads it to the end even if a refresh removes it
//! meanwhile (the open file stays), so downloads and refreshes never wait
//! for each other. Snapshots are caches: deleting the folder only costs
//! rebuilding them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shopsync_core::Store;
use shopsync_core::access::{self, Principal, Role};
use shopsync_core::ids::DocId;
use shopsync_core::sync::client::{Exchanged, SyncError, Transport};
use shopsync_core::sync::snapshot::{CURSOR_HEADER, SCHEMA_HEADER, SHA256_HEADER};
use shopsync_core::sync::wire::{self, DocChanges, SyncRequest, SyncResponse};
use shopsync_core::sync::{EnrolRequest, EnrolResponse};
use tokio::io::AsyncReadExt;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::AppState;
use crate::auth::Device;
use crate::error::ApiError;
use crate::storage::Storage;

/// The till id the server's copies carry (a new till puts its own in).
const SNAPSHOT_TILL_ID: &str = "server-snapshot";
/// A download holds its place (one of `DOWNLOADS_AT_ONCE`, one per device)
/// at most this long, plus a second per `SLOWEST_BYTES_PER_SEC` bytes (as
/// long as a till waits for it): a stalled one does not keep it.
const MIN_DEADLINE: Duration = Duration::from_secs(60);
const SLOWEST_BYTES_PER_SEC: u64 = 1_000_000;
/// Snapshot downloads served at once by this process.
const DOWNLOADS_AT_ONCE: usize = 4;
/// After a failed refresh, the store's next try waits this long.
const AFTER_FAILURE: Duration = Duration::from_secs(600);
/// How often stores left waiting (`snapshot_every`) are looked at again.
const TICK: Duration = Duration::from_secs(5);

/// What `{store_id}.json` says about the store's published copy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// The published file's name, in the snapshot folder.
    pub file: String,
    pub cursor: u64,
    pub epoch: String,
    pub bytes: u64,
    pub sha256: String,
    /// The till schema version of the file (`db::schema_version`).
    pub schema: i64,
}

#[derive(Default)]
pub struct SnapshotStats {
    pub refreshes: AtomicU64,
    pub failures: AtomicU64,
    pub served: AtomicU64,
    /// Time spent refreshing, in microseconds.
    pub busy_micros: AtomicU64,
}

impl SnapshotStats {
    /// Appends the counters in Prometheus' text format.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let busy = self.busy_micros.load(Relaxed) as f64 / 1e6;
        let _ = write!(
            out,
            "# HELP shopsync_snapshot_refreshes_total Stores' copies for new tills brought up to date.\n\
             # TYPE shopsync_snapshot_refreshes_total counter\n\
             shopsync_snapshot_refreshes_total {}\n\
             # HELP shopsync_snapshot_failures_total Refreshes of a store's copy that failed.\n\
             # TYPE shopsync_snapshot_failures_total counter\n\
             shopsync_snapshot_failures_total {}\n\
             # HELP shopsync_snapshot_downloads_total Snapshots sent to new tills.\n\
             # TYPE shopsync_snapshot_downloads_total counter\n\
             shopsync_snapshot_downloads_total {}\n\
             # HELP shopsync_snapshot_busy_seconds_total Time spent refreshing stores' copies.\n\
             # TYPE shopsync_snapshot_busy_seconds_total counter\n\
             shopsync_snapshot_busy_seconds_total {busy:.3}\n",
            self.refreshes.load(Relaxed),
            self.failures.load(Relaxed),
            self.served.load(Relaxed),
        );
    }
}

/// The stores' copies for new tills, and what is waiting to be refreshed.
pub struct Snapshots {
    dir: Option<PathBuf>,
    from_changes: u64,
    every: Duration,
    dirty: Mutex<HashMap<i64, String>>,
    /// When each store's copy was last refreshed (or failed: then later).
    next_due: Mutex<HashMap<i64, Instant>>,
    downloads: Arc<Semaphore>,
    /// Devices with a download running (one each).
    downloading: Arc<Mutex<HashSet<String>>>,
    wake: Notify,
    pub stats: SnapshotStats,
}

impl Snapshots {
    /// `dir`: where copies live (`None`: no snapshots); a store gets one
    /// from `from_changes` changes on, refreshed at most once per `every`.
    pub fn new(dir: Option<PathBuf>, from_changes: u64, every: Duration) -> Self {
        Snapshots {
            dir: dir.filter(|_| from_changes > 0),
            from_changes,
            every,
            dirty: Mutex::new(HashMap::new()),
            next_due: Mutex::new(HashMap::new()),
            downloads: Arc::new(Semaphore::new(DOWNLOADS_AT_ONCE)),
            downloading: Arc::new(Mutex::new(HashSet::new())),
            wake: Notify::new(),
            stats: SnapshotStats::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    /// The store's tills stored changes: its copy may need a refresh.
    pub fn mark(&self, store_pk: i64, store_id: &str) {
        if !self.enabled() {
            return;
        }
        if let Ok(mut d) = self.dirty.lock() {
            d.insert(store_pk, store_id.to_string());
        }
        self.wake.notify_one();
    }

    /// The dirty stores whose refresh is due now; the others stay dirty.
    fn take_due(&self) -> Vec<(i64, String)> {
        let now = Instant::now();
        let (Ok(mut dirty), Ok(due)) = (self.dirty.lock(), self.next_due.lock()) else {
            return Vec::new();
        };
        let ready: Vec<i64> = dirty
            .keys()
            .filter(|pk| due.get(pk).is_none_or(|t| *t <= now))
            .copied()
            .collect();
        ready
            .into_iter()
            .filter_map(|pk| dirty.remove(&pk).map(|id| (pk, id)))
            .collect()
    }

    fn due_again(&self, store_pk: i64, after: Duration) {
        if let Ok(mut due) = self.next_due.lock() {
            due.insert(store_pk, Instant::now() + after);
        }
    }

    fn requeue(&self, store_pk: i64, store_id: String) {
        if let Ok(mut d) = self.dirty.lock() {
            d.entry(store_pk).or_insert(store_id);
        }
    }
}

fn working_copy(dir: &Path, store_id: &str) -> PathBuf {
    dir.join(format!("{store_id}.db"))
}

fn manifest_of(dir: &Path, store_id: &str) -> PathBuf {
    dir.join(format!("{store_id}.json"))
}

fn read_manifest(dir: &Path, store_id: &str) -> Option<Manifest> {
    let bytes = std::fs::read(manifest_of(dir, store_id)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Refreshes the copies of dirty stores as they fall due, until shutdown.
pub async fn run<S: Storage>(st: Arc<AppState<S>>) {
    let Some(dir) = st.snapshots.dir.clone() else {
        return;
    };
    // One process refreshes a folder; another one on it only serves.
    let _lock = match take_folder(&dir) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            tracing::warn!(
                "another server process refreshes the snapshots in {}: this one only serves them",
                dir.display()
            );
            return;
        }
        Err(e) => {
            tracing::warn!("no snapshots are refreshed: {e}");
            return;
        }
    };
    tidy(&dir);
    let mut shutdown = st.shutdown.clone();
    loop {
        tokio::select! {
            _ = st.snapshots.wake.notified() => {}
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        for (store_pk, store_id) in st.snapshots.take_due() {
            refresh(&st, &dir, store_pk, store_id).await;
        }
    }
}

/// The folder's lock (`.lock`), held while this process runs; `None` if
/// another process holds it.
fn take_folder(dir: &Path) -> Result<Option<std::fs::File>, BuildError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    let path = dir.join(".lock");
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_error("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(io_error("lock", &path, e)),
    }
}

/// Removes what a stopped refresh left: temporary files, and published
/// files no description names.
fn tidy(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    for name in &names {
        let orphan = if name.ends_with(".tmp") {
            true
        } else if name.ends_with(".snapshot") {
            let store_id = name.split('.').next().unwrap_or_default();
            read_manifest(dir, store_id).is_none_or(|m| &m.file != name)
        } else {
            false
        };
        if orphan {
            tracing::info!("removing {name}, left by a refresh that stopped");
            let _ = std::fs::remove_file(dir.join(name));
        }
    }
}

/// Brings one store's copy up to date, if the store is large enough.
async fn refresh<S: Storage>(st: &Arc<AppState<S>>, dir: &Path, store_pk: i64, store_id: String) {
    let snaps = &st.snapshots;
    let sizes = async {
        let count = st.storage.change_count(store_pk).await?;
        let head = st.storage.head(store_pk).await?;
        Ok::<_, crate::storage::StorageError>((count, head))
    };
    let (count, head) = match sizes.await {
        Ok(sizes) => sizes,
        Err(e) => {
            tracing::warn!(store = %store_id, "no snapshot refresh, the store cannot be read: {e}");
            snaps.requeue(store_pk, store_id);
            return;
        }
    };
    // Looked at again no sooner than `every`, whatever happens here.
    snaps.due_again(store_pk, snaps.every);
    let published =
        |m: &Manifest| std::fs::metadata(dir.join(&m.file)).is_ok_and(|f| f.len() == m.bytes);
    if count < snaps.from_changes
        || read_manifest(dir, &store_id)
            .is_some_and(|m| m.cursor == head && m.epoch == st.storage.epoch() && published(&m))
    {
        return;
    }
    let started = Instant::now();
    let feed = Feed {
        st: st.clone(),
        rt: tokio::runtime::Handle::current(),
        store_pk,
        store_id: store_id.clone(),
    };
    let epoch = st.storage.epoch();
    let dir = dir.to_path_buf();
    let id = store_id.clone();
    let built = tokio::task::spawn_blocking(move || build(&feed, &dir, &id, &epoch, head)).await;
    snaps
        .stats
        .busy_micros
        .fetch_add(started.elapsed().as_micros() as u64, Relaxed);
    match built {
        Ok(Ok(m)) => {
            snaps.stats.refreshes.fetch_add(1, Relaxed);
            tracing::info!(
                store = %store_id, cursor = m.cursor, bytes = m.bytes,
                seconds = started.elapsed().as_secs_f64(),
                "the store's snapshot for new tills is up to date"
            );
        }
        Ok(Err(e)) => {
            snaps.stats.failures.fetch_add(1, Relaxed);
            snaps.due_again(store_pk, AFTER_FAILURE);
            tracing::warn!(store = %store_id, "the store's snapshot could not be refreshed: {e}");
        }
        Err(e) => {
            snaps.stats.failures.fetch_add(1, Relaxed);
            snaps.due_again(store_pk, AFTER_FAILURE);
            tracing::warn!(store = %store_id, "the snapshot refresh stopped: {e}");
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum BuildError {
    #[error(transparent)]
    Core(#[from] shopsync_core::CoreError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("{0}")]
    Io(String),
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> BuildError {
    BuildError::Io(format!("cannot {what} {}: {e}", path.display()))
}

/// Syncs the store's working copy — made if missing, made again if it
/// belongs to another lifetime of the database, is ahead of the store
/// (a restored server that kept its epoch) or holds anything unsent — and
/// publishes it. A copy that fails to sync is thrown away (it is rebuilt).
fn build<S: Storage>(
    feed: &Feed<S>,
    dir: &Path,
    store_id: &str,
    epoch: &str,
    head: u64,
) -> Result<Manifest, BuildError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    let path = working_copy(dir, store_id);
    let usable = |s: &Store| -> Result<bool, BuildError> {
        Ok(s.server_epoch()?.is_none_or(|e| e == epoch)
            && s.sync_cursor()? <= head
            && s.sync_status()?.changes_waiting == 0)
    };
    let existing = if path.exists() {
        match Store::open(&path) {
            Ok(s) if usable(&s)? => Some(s),
            _ => None,
        }
    } else {
        None
    };
    let mut store = match existing {
        Some(s) => s,
        None => {
            remove_store_files(&path)?;
            Store::create_with_till(&path, store_id, SNAPSHOT_TILL_ID, "snapshot for new tills")?
        }
    };
    if let Err(e) = store.refresh_snapshot(feed) {
        drop(store);
        // The feed could not be read (the database is down): the copy is
        // whole up to its cursor and goes on from there next time.
        // Anything else: made again.
        if !matches!(e, SyncError::Network(_)) {
            remove_store_files(&path)?;
        }
        return Err(e.into());
    }
    let cursor = store.sync_cursor()?;
    let file_epoch = store.server_epoch()?.unwrap_or_default();
    drop(store);
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(BuildError::Io(format!(
            "{} still has a write-ahead log after closing",
            path.display()
        )));
    }
    publish(dir, store_id, &path, cursor, file_epoch)
}

/// Copies the working copy to a new published file (hashing it on the
/// way), describes it, and removes the store's older published files.
fn publish(
    dir: &Path,
    store_id: &str,
    working: &Path,
    cursor: u64,
    epoch: String,
) -> Result<Manifest, BuildError> {
    let tmp = dir.join(format!("{store_id}.snapshot.tmp"));
    let (bytes, sha256) = copy_hashing(working, &tmp).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    let name = format!("{store_id}.{cursor}.snapshot");
    let published = dir.join(&name);
    std::fs::rename(&tmp, &published).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error("write", &published, e)
    })?;
    describe(dir, store_id, &name, cursor, epoch, bytes, sha256).inspect_err(|_| {
        // Not described: never served.
        let _ = std::fs::remove_file(&published);
    })
}

/// Writes the description of the published file `name` and removes the
/// store's other published files.
fn describe(
    dir: &Path,
    store_id: &str,
    name: &str,
    cursor: u64,
    epoch: String,
    bytes: u64,
    sha256: String,
) -> Result<Manifest, BuildError> {
    let manifest = Manifest {
        file: name.to_string(),
        cursor,
        epoch,
        bytes,
        sha256,
        schema: shopsync_core::db::schema_version(),
    };
    let json = serde_json::to_vec(&manifest).map_err(|e| BuildError::Io(e.to_string()))?;
    let tmp = dir.join(format!("{store_id}.json.tmp"));
    let manifest_path = manifest_of(dir, store_id);
    write_synced(&tmp, &json)
        .and_then(|()| {
            std::fs::rename(&tmp, &manifest_path).map_err(|e| io_error("write", &manifest_path, e))
        })
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    // Older published files: a download reading one keeps it open.
    let prefix = format!("{store_id}.");
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let n = entry.file_name().to_string_lossy().to_string();
            if n.starts_with(&prefix) && n.ends_with(".snapshot") && n != name {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(manifest)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(|e| io_error("write", path, e))?;
    f.write_all(bytes).map_err(|e| io_error("write", path, e))?;
    f.sync_all().map_err(|e| io_error("sync", path, e))
}

fn remove_store_files(path: &Path) -> Result<(), BuildError> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("remove", &p, e)),
        }
    }
    Ok(())
}

/// Copies `from` to `to` (synced), returning its length and SHA-256.
fn copy_hashing(from: &Path, to: &Path) -> Result<(u64, String), BuildError> {
    use std::io::{Read, Write};
    let mut src = std::fs::File::open(from).map_err(|e| io_error("read", from, e))?;
    let mut dst = std::fs::File::create(to).map_err(|e| io_error("write", to, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = src.read(&mut buf).map_err(|e| io_error("read", from, e))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])
            .map_err(|e| io_error("write", to, e))?;
    }
    dst.sync_all().map_err(|e| io_error("sync", to, e))?;
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((bytes, hex))
}

/// The store's change feed as a till's sync sees it, read from storage in
/// this process: what the copy syncs through.
struct Feed<S: Storage> {
    st: Arc<AppState<S>>,
    rt: tokio::runtime::Handle,
    store_pk: i64,
    store_id: String,
}

impl<S: Storage> Clone for Feed<S> {
    fn clone(&self) -> Self {
        Feed {
            st: self.st.clone(),
            rt: self.rt.clone(),
            store_pk: self.store_pk,
            store_id: self.store_id.clone(),
        }
    }
}

impl<S: Storage> Transport for Feed<S> {
    fn enrol(&self, _req: &EnrolRequest) -> Result<EnrolResponse, SyncError> {
        Err(SyncError::Refused {
            status: 400,
            message: "a store's snapshot does not enrol".into(),
        })
    }

    fn exchange_with_epoch(
        &self,
        req: &SyncRequest,
        _known: Option<&str>,
    ) -> Result<Exchanged, SyncError> {
        if !req.docs.is_empty() {
            return Err(SyncError::Refused {
                status: 400,
                message: "a store's snapshot never sends changes".into(),
            });
        }
        let storage = &self.st.storage;
        let page = self
            .rt
            .block_on(storage.changes_since(
                self.store_pk,
                req.since,
                HashSet::new(),
                self.st.options.page_bytes,
            ))
            .map_err(|e| SyncError::Network(format!("the store's feed: {e}")))?;
        // What a till of the store reads (`api::sync`).
        let me = Principal {
            role: Role::Till,
            store: &self.store_id,
            till: SNAPSHOT_TILL_ID,
            customer: None,
        };
        let received = page.bytes as usize;
        let docs = page
            .docs
            .into_iter()
            .filter(|(id, _)| {
                DocId::parse(id).is_some_and(|d| {
                    access::can_read(&me, &d) && !matches!(d, DocId::Public { .. })
                })
            })
            .map(|(doc_id, changes)| DocChanges { doc_id, changes })
            .collect();
        Ok(Exchanged {
            response: SyncResponse {
                version: wire::PROTOCOL_VERSION,
                cursor: page.cursor,
                head: page.head,
                more: page.more,
                acked: Vec::new(),
                docs,
            },
            sent: 0,
            received,
            epoch: Some(storage.epoch()),
            server_time_ms: None,
        })
    }

    fn with_token(&self, _token: &str) -> Result<Self, SyncError> {
        Ok(self.clone())
    }

    fn base(&self) -> &str {
        "in-process"
    }
}

fn no_snapshot(why: &str) -> ApiError {
    ApiError::NotFound(format!("no snapshot of this store: {why}"))
}

/// A running download's places (one of `DOWNLOADS_AT_ONCE`, its device's),
/// given back when dropped.
struct Place {
    _permit: OwnedSemaphorePermit,
    device: String,
    downloading: Arc<Mutex<HashSet<String>>>,
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Ok(mut d) = self.downloading.lock() {
            d.remove(&self.device);
        }
    }
}

/// `GET /v1/snapshot`: the device's store's published copy, whole, with
/// its cursor, epoch and SHA-256 in headers; 404 when there is none for
/// this till. `HEAD` answers the same headers without taking a place.
pub async fn download<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    method: Method,
    device: Device,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    crate::api::refuse_customer(&device, "a customer's device has no store to download")?;
    let snaps = &st.snapshots;
    let Some(dir) = snaps.dir.clone() else {
        return Err(no_snapshot("this server keeps none (--snapshot-from 0)"));
    };
    let schema: i64 = headers
        .get(SCHEMA_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "a snapshot request names the newest schema the till opens ({SCHEMA_HEADER})"
            ))
        })?;
    let store_id = device.store.store_id.clone();
    let store_pk = device.store.pk;
    let described = |head: u64| -> Result<Manifest, ApiError> {
        let Some(m) = read_manifest(&dir, &store_id) else {
            return Err(no_snapshot("none made yet"));
        };
        if m.epoch != st.storage.epoch() || m.cursor > head {
            return Err(no_snapshot(
                "it belongs to another lifetime of the database (it is made again)",
            ));
        }
        if m.schema > schema {
            return Err(no_snapshot(
                "it was made by a newer version than this till's",
            ));
        }
        Ok(m)
    };
    let mut m = described(st.storage.head(store_pk).await?)?;
    if method == Method::HEAD {
        return answer(Body::empty(), &m);
    }
    let place = {
        let Ok(permit) = snaps.downloads.clone().try_acquire_owned() else {
            return Err(ApiError::Quota(
                "too many snapshot downloads at once: try again later".into(),
            ));
        };
        let fresh = snaps
            .downloading
            .lock()
            .map(|mut d| d.insert(device.device_id.clone()))
            .unwrap_or(false);
        if !fresh {
            return Err(ApiError::Quota(
                "this device is already downloading the snapshot".into(),
            ));
        }
        Place {
            _permit: permit,
            device: device.device_id.clone(),
            downloading: snaps.downloading.clone(),
        }
    };
    // A refresh may replace the file between the description and the open:
    // read the new description once.
    let file = match tokio::fs::File::open(dir.join(&m.file)).await {
        Ok(f) => f,
        Err(_) => {
            m = described(st.storage.head(store_pk).await?)?;
            tokio::fs::File::open(dir.join(&m.file))
                .await
                .map_err(|e| ApiError::Internal(format!("cannot open the snapshot: {e}")))?
        }
    };
    let len = file
        .metadata()
        .await
        .map_err(|e| ApiError::Internal(format!("cannot read the snapshot: {e}")))?
        .len();
    if len != m.bytes {
        return Err(no_snapshot("its file does not match its description"));
    }
    snaps.stats.served.fetch_add(1, Relaxed);
    st.metrics.bytes_out.fetch_add(len, Relaxed);
    // A task reads the file into the body; it ends, giving the file and
    // the place back, when the body is read or dropped, or at the deadline
    // (a client that stops reading does not keep them).
    let deadline = MIN_DEADLINE + Duration::from_secs(len / SLOWEST_BYTES_PER_SEC);
    let ends = tokio::time::Instant::now() + deadline;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(2);
    tokio::spawn(async move {
        let _place = place;
        let mut file = file;
        loop {
            let mut buf = vec![0u8; 1 << 20];
            let chunk = match file.read(&mut buf).await {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    Ok(Bytes::from(buf))
                }
                Err(e) => Err(e),
            };
            let failed = chunk.is_err();
            match tokio::time::timeout_at(ends, tx.send(chunk)).await {
                Ok(Ok(())) if !failed => {}
                _ => return,
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    answer(Body::from_stream(stream), &m)
}

/// The snapshot's headers around `body`.
fn answer(body: Body, m: &Manifest) -> Result<Response, ApiError> {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.sqlite3"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(m.bytes));
    h.insert(CURSOR_HEADER, HeaderValue::from(m.cursor));
    let text = |v: &str| HeaderValue::from_str(v).map_err(|e| ApiError::Internal(e.to_string()));
    h.insert(SHA256_HEADER, text(&m.sha256)?);
    h.insert(crate::restore::EPOCH_HEADER, text(&m.epoch)?);
    Ok(resp)
}
