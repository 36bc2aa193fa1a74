//! New tills in seconds (issue 11): the server keeps a ready-made copy of
//! each large store — a till's own store file (`{dir}/{store_id}.db`),
//! synced from the store's change feed by the core's sync code, the same
//! code every till runs, with its projections and indexes built — and a new
//! till downloads it whole (`GET /v1/snapshot`, docs/PROTOCOL.md) instead of
//! a million changes to project one by one. It then syncs from the
//! snapshot's cursor as usual.
//!
//! A store gets a copy once its feed holds `snapshot_from` changes, and the
//! copy is brought up to date at most once per `snapshot_every` after the
//! store's tills store changes. `{store_id}.json` describes the file (its
//! cursor, the database's epoch, length, SHA-256 and schema version); it is
//! removed before the file changes and written after, so a described file
//! is always whole. A refresh and the downloads of one store exclude each
//! other (a read-write lock per store): a refresh waits for no download (it
//! is tried again later), a download waits a little for a refresh.
//! Snapshots are caches: deleting the folder only costs rebuilding them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
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
use tokio::sync::{Notify, OwnedRwLockReadGuard, OwnedSemaphorePermit, RwLock, Semaphore};

use crate::AppState;
use crate::auth::Device;
use crate::error::ApiError;
use crate::storage::Storage;

/// The till id the server's copies carry (a new till puts its own in).
const SNAPSHOT_TILL_ID: &str = "server-snapshot";
/// How long a download waits for a refresh of its store in progress.
const WAIT_FOR_REFRESH: Duration = Duration::from_secs(30);
/// Snapshot downloads served at once by this process.
const DOWNLOADS_AT_ONCE: usize = 4;
/// After a failed refresh, the store's next try waits this long.
const AFTER_FAILURE: Duration = Duration::from_secs(600);
/// How often stores left waiting (`snapshot_every`) are looked at again.
const TICK: Duration = Duration::from_secs(5);

/// What `{store_id}.json` says about `{store_id}.db`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
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
    locks: Mutex<HashMap<String, Arc<RwLock<()>>>>,
    downloads: Arc<Semaphore>,
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
            locks: Mutex::new(HashMap::new()),
            downloads: Arc::new(Semaphore::new(DOWNLOADS_AT_ONCE)),
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

    fn lock_for(&self, store_id: &str) -> Option<Arc<RwLock<()>>> {
        let mut locks = self.locks.lock().ok()?;
        Some(
            locks
                .entry(store_id.to_string())
                .or_insert_with(|| Arc::new(RwLock::new(())))
                .clone(),
        )
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

fn file_of(dir: &Path, store_id: &str) -> PathBuf {
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

/// Brings one store's copy up to date, if the store is large enough and no
/// download of it is in progress (else it is tried again later).
async fn refresh<S: Storage>(st: &Arc<AppState<S>>, dir: &Path, store_pk: i64, store_id: String) {
    let snaps = &st.snapshots;
    let head = match st.storage.head(store_pk).await {
        Ok(head) => head,
        Err(e) => {
            tracing::warn!(store = %store_id, "no snapshot refresh, the head cannot be read: {e}");
            snaps.requeue(store_pk, store_id);
            return;
        }
    };
    if head < snaps.from_changes
        || read_manifest(dir, &store_id)
            .is_some_and(|m| m.cursor >= head && m.epoch == st.storage.epoch())
    {
        return;
    }
    let Some(lock) = snaps.lock_for(&store_id) else {
        return;
    };
    let Ok(guard) = lock.try_write_owned() else {
        // Downloads in progress: the copy stays as they read it.
        snaps.requeue(store_pk, store_id);
        return;
    };
    snaps.due_again(store_pk, snaps.every);
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
    let built = tokio::task::spawn_blocking(move || {
        let _guard = guard;
        build(&feed, &dir, &id, &epoch)
    })
    .await;
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

/// Syncs the store's copy (made if missing, made again if it belongs to
/// another lifetime of the database) and describes it.
fn build<S: Storage>(
    feed: &Feed<S>,
    dir: &Path,
    store_id: &str,
    epoch: &str,
) -> Result<Manifest, BuildError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    let path = file_of(dir, store_id);
    let manifest_path = manifest_of(dir, store_id);
    match std::fs::remove_file(&manifest_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("remove", &manifest_path, e)),
    }
    let existing = if path.exists() {
        match Store::open(&path) {
            Ok(s) if s.server_epoch()?.is_none_or(|e| e == epoch) => Some(s),
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
    store.refresh_snapshot(feed)?;
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
    let (bytes, sha256) = hash_file(&path)?;
    let manifest = Manifest {
        cursor,
        epoch: file_epoch,
        bytes,
        sha256,
        schema: shopsync_core::db::schema_version(),
    };
    let tmp = dir.join(format!("{store_id}.json.tmp"));
    let json = serde_json::to_vec(&manifest).map_err(|e| BuildError::Io(e.to_string()))?;
    std::fs::write(&tmp, json).map_err(|e| io_error("write", &tmp, e))?;
    std::fs::rename(&tmp, &manifest_path).map_err(|e| io_error("write", &manifest_path, e))?;
    Ok(manifest)
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

fn hash_file(path: &Path) -> Result<(u64, String), BuildError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| io_error("read", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| io_error("read", path, e))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
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

/// `GET /v1/snapshot`: the device's store's copy, whole, with its cursor,
/// epoch and SHA-256 in headers; 404 when there is none for this till.
pub async fn download<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
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
    let Ok(permit): Result<OwnedSemaphorePermit, _> = snaps.downloads.clone().try_acquire_owned()
    else {
        return Err(no_snapshot(
            "too many downloads at once, the till syncs the changes",
        ));
    };
    let lock = snaps
        .lock_for(&store_id)
        .ok_or_else(|| ApiError::Internal("the snapshot locks are poisoned".into()))?;
    let guard: OwnedRwLockReadGuard<()> =
        match tokio::time::timeout(WAIT_FOR_REFRESH, lock.read_owned()).await {
            Ok(g) => g,
            Err(_) => return Err(no_snapshot("it is being refreshed")),
        };
    let Some(m) = read_manifest(&dir, &store_id) else {
        return Err(no_snapshot("none made yet"));
    };
    if m.epoch != st.storage.epoch() {
        return Err(no_snapshot(
            "it belongs to another lifetime of the database",
        ));
    }
    if m.schema > schema {
        return Err(no_snapshot(
            "it was made by a newer version than this till's",
        ));
    }
    let path = file_of(&dir, &store_id);
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError::Internal(format!("cannot open the snapshot: {e}")))?;
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
    // The file stays as described while the body is read: the read guard
    // (and the download's permit) live in the stream.
    let held = (guard, permit);
    let stream = futures_util::stream::unfold(Some((file, held)), |state| async move {
        let (mut file, held) = state?;
        let mut buf = vec![0u8; 1 << 20];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some((file, held))))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.sqlite3"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(CURSOR_HEADER, HeaderValue::from(m.cursor));
    let text = |v: &str| HeaderValue::from_str(v).map_err(|e| ApiError::Internal(e.to_string()));
    h.insert(SHA256_HEADER, text(&m.sha256)?);
    h.insert(crate::restore::EPOCH_HEADER, text(&m.epoch)?);
    Ok(resp)
}
