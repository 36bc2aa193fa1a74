//! ShopSync's sync server: a library (this crate) with a thin binary.
//!
//! Tests and embedders call [`serve`] with a listener they bound themselves
//! (e.g. `127.0.0.1:0`) and a shutdown future.

pub mod admin;
pub mod api;
pub mod auth;
pub mod customer_sync;
pub mod customers;
pub mod enrolment;
pub mod error;
pub mod events;
pub mod guard;
pub mod metrics;
pub mod migrate_storage;
pub mod nats_url;
pub mod notice_bus;
pub mod notices;
pub mod postgres;
mod postgres_customers;
mod postgres_docs;
mod postgres_enrolment;
mod postgres_outbox;
pub mod public_derive;
pub mod publisher;
mod replica_cache;
pub mod restore;
pub mod snapshots;
pub mod sqlite;
mod sqlite_customers;
mod sqlite_docs;
mod sqlite_outbox;
pub mod storage;
pub mod tls_reload;
pub mod upload_budget;
pub mod web_app;

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

pub use postgres::PgStorage;
pub use sqlite::SqliteStorage;
pub use storage::Storage;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Heartbeat interval of notice streams.
    pub heartbeat: Duration,
    /// How often an open notice stream re-checks its device (revocation).
    pub revocation_check: Duration,
    /// Changes per response page, in bytes (before compression).
    pub page_bytes: u64,
    /// Serve HTTPS from these PEM files (certificate chain, private key).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Failed enrolment attempts allowed per client address per minute
    /// (customer device links count here too).
    pub enrol_attempts_per_minute: u32,
    /// Customer sign-ups (`POST /v1/customers`, every attempt) allowed per
    /// client address per minute.
    pub signups_per_minute: u32,
    /// How long a customer's link code stays valid.
    pub link_code_ttl: Duration,
    // -- hostile bodies: quotas, stream caps, timeouts, metrics access --
    pub guard: guard::GuardOptions,
    /// Where the server keeps its replicas of shops to derive their public
    /// catalogs (`None`: no public catalogs are derived).
    pub public_dir: Option<PathBuf>,
    /// Where the server keeps its copies of large stores for new tills
    /// (`None`: new tills always download changes; snapshots.rs).
    pub snapshot_dir: Option<PathBuf>,
    /// A store gets a copy for new tills once it has this many changes.
    pub snapshot_from: u64,
    /// A store's copy is brought up to date at most this often.
    pub snapshot_every: Duration,
    /// Serve the customer's web app at `/` (web_app.rs).
    pub web_app: bool,
    /// Publish events to this NATS server (`nats://…`; docs/EVENTS.md).
    pub nats: Option<String>,
}

/// A store gets a copy for new tills from this many changes on: below it a
/// new till downloads the changes in seconds, and the copy would only cost
/// the server work and disk.
pub const DEFAULT_SNAPSHOT_FROM: u64 = 100_000;

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            heartbeat: Duration::from_secs(15),
            revocation_check: Duration::from_secs(1),
            page_bytes: shopsync_core::sync::wire::limits::RESPONSE_PAGE_BYTES as u64,
            tls: None,
            enrol_attempts_per_minute: 10,
            signups_per_minute: 10,
            link_code_ttl: Duration::from_secs(10 * 60),
            guard: guard::GuardOptions::default(),
            public_dir: None,
            snapshot_dir: None,
            snapshot_from: DEFAULT_SNAPSHOT_FROM,
            snapshot_every: Duration::from_secs(60),
            web_app: true,
            nats: None,
        }
    }
}

/// Attempts per client address, in one-minute windows: failed enrolments
/// and links (`AppState::limiter`), customer sign-ups (`AppState::signups`).
pub struct Limiter {
    per_minute: u32,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Limiter {
    fn new(per_minute: u32) -> Self {
        Limiter {
            per_minute,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// One client: an IPv4 address, or an IPv6 /64 (one host usually holds
    /// a whole /64, so counting single v6 addresses would count nothing).
    fn client(ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(_) => ip,
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
        }
    }

    pub fn allow(&self, ip: IpAddr) -> bool {
        let ip = Self::client(ip);
        let Ok(seen) = self.seen.lock() else {
            return false;
        };
        match seen.get(&ip) {
            Some((start, n)) if start.elapsed() < Duration::from_secs(60) => *n < self.per_minute,
            _ => true,
        }
    }

    /// Counts one attempt (a sign-up counts whether it succeeds or not).
    pub fn record(&self, ip: IpAddr) {
        self.failed(ip);
    }

    pub fn failed(&self, ip: IpAddr) {
        let ip = Self::client(ip);
        if let Ok(mut seen) = self.seen.lock() {
            if seen.len() > 10_000 {
                seen.retain(|_, (start, _)| start.elapsed() < Duration::from_secs(60));
            }
            // Still full of clients seen this minute: refuse to grow (new
            // clients are not counted until the minute turns; the ones
            // counted stay limited).
            if seen.len() > 100_000 && !seen.contains_key(&ip) {
                return;
            }
            let e = seen.entry(ip).or_insert((Instant::now(), 0));
            if e.0.elapsed() >= Duration::from_secs(60) {
                *e = (Instant::now(), 0);
            }
            e.1 += 1;
        }
    }
}

/// What a notice stream hears: new changes to documents of one store's
/// scope (the customers' scope for customer documents).
#[derive(Debug, Clone)]
pub struct Notice {
    /// The store whose scope changed; None: any store may have changed
    /// (notices from other instances may have been missed, notice_bus.rs).
    pub store_pk: Option<i64>,
    /// The store's highest seq after the write (0: not known).
    pub head: u64,
    /// The documents that changed; None: any document of the store may
    /// have (too many to name in a notice between instances).
    pub docs: Option<Arc<Vec<String>>>,
}

impl Notice {
    /// A write to `store_pk` that left its head at `head`, changing `docs`.
    pub fn stored(store_pk: i64, head: u64, docs: Vec<String>) -> Notice {
        Notice {
            store_pk: Some(store_pk),
            head,
            docs: Some(Arc::new(docs)),
        }
    }

    /// Anything may have changed: every stream passes it on.
    pub fn any_store() -> Notice {
        Notice {
            store_pk: None,
            head: 0,
            docs: None,
        }
    }
}

pub struct AppState<S: Storage> {
    pub storage: S,
    pub metrics: metrics::Metrics,
    /// Documents of a store changed.
    pub notices: broadcast::Sender<Notice>,
    /// Derives public catalogs as shops' changes arrive.
    pub deriver: public_derive::Deriver,
    /// Stores' copies that new tills download (snapshots.rs).
    pub snapshots: snapshots::Snapshots,
    pub options: ServeOptions,
    pub limiter: Limiter,
    /// Customer sign-ups per client address (each one counts).
    pub signups: Limiter,
    pub shutdown: watch::Receiver<bool>,
    // -- hostile bodies --
    pub streams: guard::StreamSlots,
    pub daily_bytes: guard::DailyBytes,
    /// The event publisher's state, with `--nats` (publisher.rs).
    pub events: Option<publisher::Status>,
}

/// The state every handler shares. `shutdown` turning true ends notice
/// streams. [`serve`] builds it; an embedder that drives [`api::router`]
/// itself (the shop simulator, in process) builds it here.
pub fn app_state<S: Storage>(
    storage: S,
    options: ServeOptions,
    shutdown: watch::Receiver<bool>,
) -> Arc<AppState<S>> {
    let (notices, _) = broadcast::channel(1024);
    Arc::new(AppState {
        storage,
        metrics: metrics::Metrics::default(),
        notices,
        deriver: public_derive::Deriver::new(options.public_dir.clone()),
        snapshots: snapshots::Snapshots::new(
            options.snapshot_dir.clone(),
            options.snapshot_from,
            options.snapshot_every,
        ),
        events: options.nats.as_ref().map(|_| publisher::Status::default()),
        limiter: Limiter::new(options.enrol_attempts_per_minute),
        signups: Limiter::new(options.signups_per_minute),
        options,
        shutdown,
        streams: guard::StreamSlots::default(),
        daily_bytes: guard::DailyBytes::default(),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot use the listener: {0}")]
    Listener(std::io::Error),
    #[error("cannot load the TLS certificate or key: {0}")]
    Tls(std::io::Error),
    #[error("the server stopped with an error: {0}")]
    Io(std::io::Error),
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve<S: Storage>(
    listener: std::net::TcpListener,
    storage: S,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_with_metrics(listener, None, storage, options, shutdown).await
}

/// Like [`serve`], and serves `GET /metrics` (no token) on
/// `metrics_listener` too, for a monitoring network the public never reaches.
pub async fn serve_with_metrics<S: Storage>(
    listener: std::net::TcpListener,
    metrics_listener: Option<std::net::TcpListener>,
    storage: S,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    // rustls without a built-in provider: use ring (no C toolchain needed).
    let _ = rustls::crypto::ring::default_provider().install_default();
    listener
        .set_nonblocking(true)
        .map_err(ServeError::Listener)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let tls = options.tls.clone();
    let state = app_state(storage, options, stop_rx);
    public_derive::prepare_events(&state).await;
    tokio::spawn(public_derive::run(state.clone()));
    tokio::spawn(snapshots::run(state.clone()));
    // Several instances on one database hear each other's writes.
    if let Some(listener) = state.storage.notice_listener() {
        tokio::spawn(notice_bus::run(
            listener,
            state.notices.clone(),
            state.shutdown.clone(),
        ));
    }
    if let Some(url) = state.options.nats.clone() {
        tokio::spawn(publisher::run(state.clone(), url));
    }
    if let Some(ml) = metrics_listener {
        ml.set_nonblocking(true).map_err(ServeError::Listener)?;
        let ml = tokio::net::TcpListener::from_std(ml).map_err(ServeError::Listener)?;
        let app = api::metrics_router(state.clone());
        let mut stop = state.shutdown.clone();
        tokio::spawn(async move {
            let served = axum::serve(ml, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!("the metrics listener stopped: {e}");
            }
        });
    }
    let state_shutdown = state.shutdown.clone();
    let app = api::router(state).into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => {
            let listener =
                tokio::net::TcpListener::from_std(listener).map_err(ServeError::Listener)?;
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    shutdown.await;
                    let _ = stop_tx.send(true);
                })
                .await
                .map_err(ServeError::Io)
        }
        Some((cert, key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(ServeError::Tls)?;
            tokio::spawn(tls_reload::watch(config.clone(), cert, key, state_shutdown));
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                let _ = stop_tx.send(true);
                h.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(listener, config)
                .map_err(ServeError::Listener)?
                .handle(handle)
                .serve(app)
                .await
                .map_err(ServeError::Io)
        }
    }
}
