//! The real sync server in process: its router, handlers and SQLite storage,
//! called without sockets so a history runs the same way every time. Tills
//! reach it through [`Link`], which carries the history's network faults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use shopsync_core::access::Role;
use shopsync_core::sync::client::{Exchanged, SyncError, Transport};
use shopsync_core::sync::epoch::EPOCH_HEADER;
use shopsync_core::sync::wire::{self, SyncRequest, SyncResponse, limits};
use shopsync_core::sync::{EnrolRequest, EnrolResponse};
use shopsync_server::{ServeOptions, SqliteStorage, admin, api, app_state};
use tokio::sync::watch;
use tower::ServiceExt;

/// An HTTP answer as a client sees it.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The server: one SQLite file, restorable from its backups.
pub struct Server {
    rt: tokio::runtime::Runtime,
    router: Mutex<Option<axum::Router>>,
    state: Mutex<Option<Arc<shopsync_server::AppState<SqliteStorage>>>>,
    path: PathBuf,
    /// Where the deriver keeps its replicas (public catalogs).
    public_dir: PathBuf,
    _stop: watch::Sender<bool>,
    stop_rx: watch::Receiver<bool>,
}

impl Server {
    pub fn start(dir: &Path) -> Result<Arc<Server>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stop_rx) = watch::channel(false);
        let server = Server {
            rt,
            router: Mutex::new(None),
            state: Mutex::new(None),
            path: dir.join("server.db"),
            public_dir: dir.join("public"),
            _stop: stop,
            stop_rx,
        };
        server.open()?;
        Ok(Arc::new(server))
    }

    fn open(&self) -> Result<()> {
        let storage = SqliteStorage::open(&self.path).map_err(|e| anyhow!("{e}"))?;
        // The deriver is enabled, but its background task is never started:
        // the simulator derives at points of its own ([`Server::derive`]).
        let options = ServeOptions {
            public_dir: Some(self.public_dir.clone()),
            ..ServeOptions::default()
        };
        let state = app_state(storage, options, self.stop_rx.clone());
        *self.router.lock().map_err(|_| anyhow!("router lock"))? = Some(api::router(state.clone()));
        *self.state.lock().map_err(|_| anyhow!("state lock"))? = Some(state);
        Ok(())
    }

    /// The server derives the store's public catalog now (as its background
    /// task would after a write), deterministically.
    pub fn derive(&self, store_id: &str) -> Result<()> {
        let state = self
            .state
            .lock()
            .map_err(|_| anyhow!("state lock"))?
            .clone()
            .ok_or_else(|| anyhow!("the server is stopped"))?;
        self.rt.block_on(async move {
            use shopsync_server::storage::Storage;
            let row = state
                .storage
                .find_store(store_id.to_string())
                .await
                .map_err(|e| anyhow!("{e}"))?
                .ok_or_else(|| anyhow!("no store {store_id}"))?;
            shopsync_server::public_derive::derive_store(&state, row.pk, &row.store_id)
                .await
                .map_err(|e| anyhow!("deriving the public catalog: {e}"))
        })
    }

    /// `POST /v1/customers`: a customer signs up; (customer id, token).
    pub fn sign_up(&self, name: &str) -> Result<(String, String)> {
        let body = serde_json::json!({
            "protocol": 1, "name": name, "email": null, "device_name": "phone"
        });
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("{BASE}/v1/customers"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(&body)?))?;
        let a = self.call(req)?;
        if !a.status.is_success() {
            bail!(
                "signing up a customer: {} {}",
                a.status,
                String::from_utf8_lossy(&a.body)
            );
        }
        let v: serde_json::Value = serde_json::from_slice(&a.body)?;
        let id = v["customer_id"].as_str().unwrap_or_default().to_string();
        let token = v["token"].as_str().unwrap_or_default().to_string();
        if id.is_empty() || token.is_empty() {
            bail!("signing up a customer: no id or token in {v}");
        }
        Ok((id, token))
    }

    fn storage(&self) -> Result<SqliteStorage> {
        SqliteStorage::open(&self.path).map_err(|e| anyhow!("{e}"))
    }

    /// One request through the real router, as if from 127.0.0.1.
    pub fn call(&self, req: Request<Body>) -> Result<Answer> {
        let router = self
            .router
            .lock()
            .map_err(|_| anyhow!("router lock"))?
            .clone()
            .ok_or_else(|| anyhow!("the server is stopped"))?;
        let mut req = req;
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        self.rt.block_on(async move {
            let resp = router.oneshot(req).await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = axum::body::to_bytes(resp.into_body(), 256 * 1024 * 1024).await?;
            Ok(Answer {
                status,
                headers,
                body,
            })
        })
    }

    /// Creates the store on the server; returns its manager code.
    pub fn create_store(&self, name: &str) -> Result<String> {
        let storage = self.storage()?;
        let (_row, code) = self
            .rt
            .block_on(admin::create_store(
                &storage,
                name,
                Duration::from_secs(3600),
            ))
            .map_err(|e| anyhow!("{e}"))?;
        Ok(code)
    }

    /// A code that enrols `till_id` (a till bringing its history) in `role`.
    pub fn code_for(&self, store_id: &str, role: Role, till_id: &str) -> Result<String> {
        let storage = self.storage()?;
        self.rt
            .block_on(admin::create_code_for(
                &storage,
                store_id,
                role,
                Duration::from_secs(3600),
                Some(till_id),
            ))
            .map_err(|e| anyhow!("{e}"))
    }

    /// `shopsync-server backup` while serving.
    pub fn backup(&self, to: &Path) -> Result<()> {
        let storage = self.storage()?;
        self.rt
            .block_on(admin::backup(&storage, to))
            .map_err(|e| anyhow!("{e}"))
    }

    /// Stops, `shopsync-server restore --from backup`, starts again.
    pub fn restore(&self, backup: &Path) -> Result<()> {
        *self.router.lock().map_err(|_| anyhow!("router lock"))? = None;
        shopsync_server::restore::restore_file(backup, &self.path).map_err(|e| anyhow!("{e}"))?;
        self.open()
    }

    /// The store's highest sequence number (its "head").
    pub fn head(&self) -> Result<i64> {
        let conn = rusqlite::Connection::open(&self.path)?;
        Ok(
            conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| {
                r.get(0)
            })?,
        )
    }
}

/// What the network does to one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetFault {
    /// The request never reaches the server.
    DropRequest,
    /// The server handles the request; its answer is lost.
    DropAnswer,
    /// The request arrives twice (a retrying proxy); the till sees the second answer.
    Duplicate,
    /// The answer arrives cut short.
    TruncateAnswer,
    /// The request arrives cut short.
    TruncateRequest,
    /// The request is held back and delivered later (its answer goes nowhere);
    /// the till sees a timeout now.
    Delay,
}

/// Faults to apply to the next exchanges of one link, in order.
#[derive(Debug, Default)]
pub struct LinkState {
    pub offline: bool,
    pub planned: std::collections::VecDeque<Option<NetFault>>,
    /// Requests held back by [`NetFault::Delay`].
    pub delayed: Vec<Request<Bytes>>,
    /// Faults actually applied, for the trace.
    pub applied: Vec<NetFault>,
}

/// A till's (or device's) connection to the in-process server.
#[derive(Clone)]
pub struct Link {
    server: Arc<Server>,
    token: Option<String>,
    pub state: Arc<Mutex<LinkState>>,
    /// The simulated time: the server's clock is right, so its answers
    /// carry this time (the real server stamps the real clock).
    pub clock: Arc<std::sync::atomic::AtomicI64>,
}

pub const BASE: &str = "http://127.0.0.1:40000";

fn refused(a: &Answer) -> SyncError {
    let message = serde_json::from_slice::<serde_json::Value>(&a.body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&a.body).chars().take(200).collect());
    SyncError::Refused {
        status: a.status.as_u16(),
        message,
    }
}

fn net(e: impl std::fmt::Display) -> SyncError {
    SyncError::Network(e.to_string())
}

impl Link {
    pub fn new(server: Arc<Server>, clock: Arc<std::sync::atomic::AtomicI64>) -> Link {
        Link {
            server,
            token: None,
            state: Arc::new(Mutex::new(LinkState::default())),
            clock,
        }
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn build(&self, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> Request<Bytes> {
        let mut rb = Request::builder()
            .method(Method::POST)
            .uri(format!("{BASE}{path}"));
        if let Some(t) = &self.token {
            rb = rb.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (k, v) in headers {
            rb = rb.header(*k, v.as_str());
        }
        rb.body(Bytes::from(body)).unwrap_or_default()
    }

    fn send(&self, req: Request<Bytes>) -> Result<Answer> {
        self.server.call(req.map(Body::from))
    }

    /// Sends `req` through this link's faults.
    fn through_faults(&self, req: Request<Bytes>) -> Result<Answer, SyncError> {
        let fault = {
            let mut st = self.state.lock().map_err(net)?;
            if st.offline {
                return Err(SyncError::Network("simulated: no network".into()));
            }
            let f = st.planned.pop_front().flatten();
            if let Some(f) = f {
                st.applied.push(f);
            }
            f
        };
        let copy = || {
            let mut r = Request::new(req.body().clone());
            *r.method_mut() = req.method().clone();
            *r.uri_mut() = req.uri().clone();
            *r.headers_mut() = req.headers().clone();
            r
        };
        match fault {
            None => self.send(copy()).map_err(net),
            Some(NetFault::DropRequest) => Err(net("simulated: the request was lost")),
            Some(NetFault::DropAnswer) => {
                self.send(copy()).map_err(net)?;
                Err(net("simulated: the answer was lost"))
            }
            Some(NetFault::Duplicate) => {
                self.send(copy()).map_err(net)?;
                self.send(copy()).map_err(net)
            }
            Some(NetFault::TruncateAnswer) => {
                let mut a = self.send(copy()).map_err(net)?;
                let keep = a.body.len() / 2;
                a.body.truncate(keep);
                Ok(a)
            }
            Some(NetFault::TruncateRequest) => {
                let mut r = copy();
                let keep = r.body().len() / 2;
                r.body_mut().truncate(keep);
                self.send(r).map_err(net)
            }
            Some(NetFault::Delay) => {
                self.state.lock().map_err(net)?.delayed.push(copy());
                Err(net("simulated: the request timed out"))
            }
        }
    }

    /// Delivers the requests held back; their answers go nowhere.
    pub fn deliver_delayed(&self) -> Result<usize> {
        let held: Vec<Request<Bytes>> =
            std::mem::take(&mut self.state.lock().map_err(|_| anyhow!("link lock"))?.delayed);
        let n = held.len();
        for r in held {
            self.send(r)?;
        }
        Ok(n)
    }

    /// `POST {path}` with a JSON body (a customer's sync), through this
    /// link's faults; `epoch`: the server's epoch the device knows.
    pub fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        epoch: Option<&str>,
    ) -> Result<Answer, SyncError> {
        let mut headers = vec![(
            header::CONTENT_TYPE.as_str(),
            "application/json".to_string(),
        )];
        if let Some(e) = epoch {
            headers.push((EPOCH_HEADER, e.to_string()));
        }
        let bytes = serde_json::to_vec(body).map_err(net)?;
        self.through_faults(self.build(path, &headers, bytes))
    }

    /// A raw sync request body (a hostile device's upload).
    pub fn post_sync_body(&self, body: Vec<u8>) -> Result<Answer> {
        let req = self.build(
            "/v1/sync",
            &[(
                header::CONTENT_TYPE.as_str(),
                wire::CONTENT_TYPE.to_string(),
            )],
            body,
        );
        self.send(req)
    }
}

impl Transport for Link {
    fn enrol(&self, req: &EnrolRequest) -> Result<EnrolResponse, SyncError> {
        let body = serde_json::to_vec(req).map_err(net)?;
        let r = self.build(
            "/v1/enrol",
            &[(header::CONTENT_TYPE.as_str(), "application/json".into())],
            body,
        );
        let a = self.through_faults(r)?;
        if !a.status.is_success() {
            return Err(refused(&a));
        }
        serde_json::from_slice(&a.body).map_err(net)
    }

    fn exchange_with_epoch(
        &self,
        req: &SyncRequest,
        known: Option<&str>,
    ) -> Result<Exchanged, SyncError> {
        let (body, gz) = req.body();
        let sent = body.len();
        let mut headers = vec![
            (
                header::CONTENT_TYPE.as_str(),
                wire::CONTENT_TYPE.to_string(),
            ),
            (header::ACCEPT_ENCODING.as_str(), "gzip".to_string()),
        ];
        if gz {
            headers.push((header::CONTENT_ENCODING.as_str(), "gzip".into()));
        }
        if let Some(e) = known {
            headers.push((EPOCH_HEADER, e.to_string()));
        }
        let a = self.through_faults(self.build("/v1/sync", &headers, body))?;
        if !a.status.is_success() {
            return Err(refused(&a));
        }
        let gz = a
            .headers
            .get(header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let epoch = a
            .headers
            .get(EPOCH_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let received = a.body.len();
        let data = if gz {
            wire::gunzip(&a.body, limits::MAX_RESPONSE_DECODED_BYTES)?
        } else {
            a.body.to_vec()
        };
        let real = a
            .headers
            .get(shopsync_core::sync::clock_check::TIME_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok());
        Ok(Exchanged {
            response: SyncResponse::decode(&data)?,
            sent,
            received,
            epoch,
            server_time_ms: real.map(|_| self.clock.load(std::sync::atomic::Ordering::Relaxed)),
        })
    }

    fn with_token(&self, token: &str) -> Result<Self, SyncError> {
        let mut l = self.clone();
        l.token = Some(token.to_string());
        Ok(l)
    }

    fn base(&self) -> &str {
        BASE
    }
}

/// The server's database file (for checks).
pub fn server_path(s: &Server) -> &Path {
    &s.path
}

pub fn context<T>(r: Result<T, SyncError>, what: &str) -> Result<T> {
    r.map_err(|e| anyhow!("{e}")).context(what.to_string())
}
