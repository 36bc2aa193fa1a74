//! The HTTP side of syncing: a blocking reqwest (rustls) client, one sync
//! (`sync_now`), enrolment, the notice stream and the background worker.
//!
//! Network I/O never happens inside a SQLite transaction: the outbox is read,
//! the request sent, and only then is the answer applied in one short
//! transaction. The worker runs on its own thread with its own connection,
//! so a sale never waits for it.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::Rng;
use serde::Serialize;
use shopsync_types::Progress;
use thiserror::Error;

use super::epoch::EPOCH_HEADER;
use super::snapshot::SnapshotInfo;
use super::wire::{self, SyncRequest, SyncResponse, WireError, limits};
use super::{EnrolRequest, EnrolResponse, NETWORK_PREFIX, SyncConfig, SyncStatus};
use crate::error::CoreError;
use crate::store::Store;

/// The smallest upload batch after timeouts (408) on a slow link.
const MIN_BATCH_BYTES: usize = 64 * 1024;

#[derive(Debug, Error)]
pub enum SyncError {
    /// The server could not be reached, or the connection broke: try later.
    #[error("{NETWORK_PREFIX}: {0}")]
    Network(String),
    /// The server answered with an error status.
    #[error("the server refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the server's answer does not decode: {0}")]
    Protocol(#[from] WireError),
    #[error("this till is not enrolled with a sync server: run `shopsync enrol` first")]
    NotEnrolled,
    /// A customer's device without an account.
    #[error(
        "this device has no customer account: run `shopsync customer signup` (or `link` with a code from another device) first"
    )]
    NoCustomerAccount,
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl SyncError {
    /// Worth retrying later with the same request.
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Network(_) | SyncError::Protocol(_) => true,
            SyncError::Refused { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            SyncError::NotEnrolled | SyncError::NoCustomerAccount => false,
            // A busy database or a change we could not apply may pass.
            SyncError::Core(e) => matches!(e, CoreError::Sqlite(_) | CoreError::Io { .. }),
        }
    }

    /// The device is no longer allowed (revoked, or a bad token).
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            SyncError::Refused {
                status: 401 | 403,
                ..
            }
        )
    }
}

impl From<SyncError> for CoreError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Core(c) => c,
            e @ SyncError::Network(_) => CoreError::Network(e.to_string()),
            e if e.is_unauthorized() => CoreError::Unauthorized(e.to_string()),
            e @ SyncError::Refused { .. } => CoreError::Conflict(e.to_string()),
            e @ SyncError::Protocol(_) => CoreError::Network(e.to_string()),
            e @ (SyncError::NotEnrolled | SyncError::NoCustomerAccount) => {
                CoreError::Conflict(e.to_string())
            }
        }
    }
}

pub(crate) fn network(e: reqwest::Error) -> SyncError {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    SyncError::Network(msg)
}

/// Installs rustls' ring provider once (reqwest and the server use rustls
/// without a built-in provider).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Environment variable naming a PEM file of an extra trusted root
/// certificate (for a server with a private CA or a self-signed certificate).
pub const CA_FILE_ENV: &str = "SHOPSYNC_CA_FILE";

/// One answer to a sync request, with what came with it.
#[derive(Debug)]
pub struct Exchanged {
    pub response: SyncResponse,
    /// Body bytes sent and received.
    pub sent: usize,
    pub received: usize,
    /// The server's epoch (`shopsync-epoch`), if it sent one.
    pub epoch: Option<String>,
    /// The server's clock when it answered (`shopsync-time`, milliseconds).
    pub server_time_ms: Option<i64>,
}

/// How a till reaches a sync server: HTTP ([`Client`]) in the app and the
/// CLI; the shop simulator passes its in-process server through the same
/// sync and enrolment code.
pub trait Transport: Clone + Send {
    /// `POST /v1/enrol`.
    fn enrol(&self, req: &EnrolRequest) -> Result<EnrolResponse, SyncError>;

    /// One `POST /v1/sync` naming the server epoch the request's cursor
    /// belongs to (`known`).
    fn exchange_with_epoch(
        &self,
        req: &SyncRequest,
        known: Option<&str>,
    ) -> Result<Exchanged, SyncError>;

    /// The same server, authenticated with a device's token.
    fn with_token(&self, token: &str) -> Result<Self, SyncError>;

    /// The server's address as the till records it.
    fn base(&self) -> &str;

    /// `GET /v1/snapshot` into `dest` (`super::snapshot`). `Ok(None)`: the
    /// server has no snapshot for this till; the default, for a transport
    /// that never has one.
    fn download_snapshot(
        &self,
        dest: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<SnapshotInfo>, SyncError> {
        let _ = (dest, progress);
        Ok(None)
    }
}

impl Transport for Client {
    fn enrol(&self, req: &EnrolRequest) -> Result<EnrolResponse, SyncError> {
        Client::enrol(self, req)
    }

    fn exchange_with_epoch(
        &self,
        req: &SyncRequest,
        known: Option<&str>,
    ) -> Result<Exchanged, SyncError> {
        Client::exchange_with_epoch(self, req, known)
    }

    fn with_token(&self, token: &str) -> Result<Self, SyncError> {
        let mut c = self.clone();
        c.token = Some(token.to_string());
        Ok(c)
    }

    fn base(&self) -> &str {
        &self.base
    }

    fn download_snapshot(
        &self,
        dest: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<SnapshotInfo>, SyncError> {
        Client::download_snapshot(self, dest, progress)
    }
}

/// A connection to one sync server.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: reqwest::blocking::Client,
    pub(crate) base: String,
    pub(crate) token: Option<String>,
}

impl Client {
    /// A client for `server`; `http://` only to loopback unless
    /// `SHOPSYNC_ALLOW_HTTP=1` (see `transport`).
    pub fn new(server: &str, token: Option<&str>) -> Result<Client, SyncError> {
        Client::with_insecure_http(server, token, super::transport::env_allows_http())
    }

    /// Like [`Client::new`]; `allow_insecure_http` also allows `http://`
    /// to a server that is not on this machine.
    pub fn with_insecure_http(
        server: &str,
        token: Option<&str>,
        allow_insecure_http: bool,
    ) -> Result<Client, SyncError> {
        install_crypto_provider();
        let base = server.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(SyncError::Core(CoreError::invalid(
                "server",
                format!("the server address must start with http:// or https:// (got '{server}')"),
            )));
        }
        super::transport::check_server_url(&base, allow_insecure_http)?;
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("shopsync/", env!("CARGO_PKG_VERSION")));
        // A private CA (a self-hosted server with its own certificate).
        if let Some(path) = std::env::var_os(CA_FILE_ENV) {
            let pem = std::fs::read(&path).map_err(|e| {
                CoreError::io(
                    format!("cannot read {CA_FILE_ENV}={}", path.to_string_lossy()),
                    e,
                )
            })?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(network)?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(network)?;
        Ok(Client {
            http,
            base,
            token: token.map(str::to_string),
        })
    }

    pub fn for_store(store: &Store) -> Result<Client, SyncError> {
        let cfg = store.sync_config()?.ok_or(SyncError::NotEnrolled)?;
        let allow = super::transport::env_allows_http() || store.sync_allows_insecure_http()?;
        Client::with_insecure_http(&cfg.server, Some(&cfg.token), allow)
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn auth(
        &self,
        rb: reqwest::blocking::RequestBuilder,
    ) -> reqwest::blocking::RequestBuilder {
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub(crate) fn refused(resp: reqwest::blocking::Response) -> SyncError {
        let status = resp.status().as_u16();
        let body = resp.text().unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| body.chars().take(200).collect());
        SyncError::Refused { status, message }
    }

    pub fn enrol(&self, req: &EnrolRequest) -> Result<EnrolResponse, SyncError> {
        let resp = self
            .http
            .post(format!("{}/v1/enrol", self.base))
            .json(req)
            .send()
            .map_err(network)?;
        if !resp.status().is_success() {
            return Err(Self::refused(resp));
        }
        resp.json().map_err(network)
    }

    /// One request/response of the protocol. Returns the answer and the
    /// bytes sent and received on the wire (bodies only).
    pub fn exchange(&self, req: &SyncRequest) -> Result<(SyncResponse, usize, usize), SyncError> {
        self.exchange_with_epoch(req, None)
            .map(|e| (e.response, e.sent, e.received))
    }

    /// restore: like [`Client::exchange`], naming the server epoch the
    /// request's cursor belongs to (`known`) and returning the server's
    /// epoch (the `shopsync-epoch` header; `None` from a server that sends
    /// none).
    pub fn exchange_with_epoch(
        &self,
        req: &SyncRequest,
        known: Option<&str>,
    ) -> Result<Exchanged, SyncError> {
        let (body, gz) = req.body();
        let sent = body.len();
        let mut rb = self
            .auth(self.http.post(format!("{}/v1/sync", self.base)))
            .header(reqwest::header::CONTENT_TYPE, wire::CONTENT_TYPE)
            .header(reqwest::header::ACCEPT_ENCODING, "gzip");
        if gz {
            rb = rb.header(reqwest::header::CONTENT_ENCODING, "gzip");
        }
        if let Some(e) = known {
            rb = rb.header(EPOCH_HEADER, e);
        }
        let resp = rb.body(body).send().map_err(network)?;
        if !resp.status().is_success() {
            return Err(Self::refused(resp));
        }
        let gz = resp
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let epoch = resp
            .headers()
            .get(EPOCH_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let server_time_ms = resp
            .headers()
            .get(super::clock_check::TIME_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let mut raw = Vec::new();
        resp.take(limits::MAX_RESPONSE_DECODED_BYTES as u64 + 1)
            .read_to_end(&mut raw)
            .map_err(|e| SyncError::Network(format!("reading the answer: {e}")))?;
        let received = raw.len();
        let data = if gz {
            wire::gunzip(&raw, limits::MAX_RESPONSE_DECODED_BYTES)?
        } else {
            raw
        };
        Ok(Exchanged {
            response: SyncResponse::decode(&data)?,
            sent,
            received,
            epoch,
            server_time_ms,
        })
    }

    /// Opens the notice stream (`GET /v1/events`).
    pub fn events(&self, idle_timeout: Duration) -> Result<Notices, SyncError> {
        self.event_stream("/v1/events", idle_timeout)
    }

    /// Opens a server-sent-events stream at `path` (with its query).
    pub(crate) fn event_stream(
        &self,
        path: &str,
        idle_timeout: Duration,
    ) -> Result<Notices, SyncError> {
        let resp = self
            .auth(self.http.get(format!("{}{path}", self.base)))
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .timeout(idle_timeout)
            .send()
            .map_err(network)?;
        if !resp.status().is_success() {
            return Err(Self::refused(resp));
        }
        Ok(Notices {
            reader: BufReader::new(resp),
        })
    }
}

/// A server-sent-events stream of notices.
pub struct Notices {
    reader: BufReader<reqwest::blocking::Response>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A document this device can see changed; the store's head is now this.
    Changed(u64),
    Heartbeat,
}

impl Notices {
    /// The next notice; an error when the stream ends or breaks.
    pub fn next_notice(&mut self) -> Result<Notice, SyncError> {
        loop {
            let (event, data) = self.next_event()?;
            match event.as_str() {
                "changed" => return Ok(Notice::Changed(data.trim().parse().unwrap_or(0))),
                "heartbeat" => return Ok(Notice::Heartbeat),
                _ => {}
            }
        }
    }

    /// The next event of the stream, as (name, data); an error when the
    /// stream ends or breaks.
    pub(crate) fn next_event(&mut self) -> Result<(String, String), SyncError> {
        let mut event = String::new();
        let mut data = String::new();
        loop {
            let mut line = String::new();
            let n = self
                .reader
                .read_line(&mut line)
                .map_err(|e| SyncError::Network(format!("notice stream: {e}")))?;
            if n == 0 {
                return Err(SyncError::Network("the notice stream ended".into()));
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !event.is_empty() {
                    return Ok((event, data));
                }
                data.clear();
            } else if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim());
            }
        }
    }
}

/// What one `sync_now` did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SyncReport {
    pub round_trips: u64,
    pub sent_changes: u64,
    pub acked: u64,
    pub received_new: u64,
    pub received_known: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub cursor: u64,
    pub millis: u64,
    // restore
    /// The server had been restored (a new epoch, or its head below this
    /// till's cursor): everything was sent again and downloaded from 0.
    pub server_restored: bool,
}

impl Store {
    /// Syncs until both sides have everything: uploads the outbox in pages,
    /// downloads in pages, applies each page in one transaction.
    pub fn sync_now<T: Transport>(
        &mut self,
        client: &T,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<SyncReport, SyncError> {
        let result = self.sync_pages(client, progress);
        let err = result.as_ref().err().map(ToString::to_string);
        if let Err(e) = self.record_sync_attempt(err.as_deref()) {
            tracing::warn!("could not record the sync status: {e}");
        }
        result
    }

    fn sync_pages<T: Transport>(
        &mut self,
        client: &T,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<SyncReport, SyncError> {
        let started = Instant::now();
        let mut report = SyncReport::default();
        let start_cursor = self.sync_cursor()?;
        let waiting = self.sync_waiting()?;
        type Answered = Result<Exchanged, SyncError>;
        // restore: the cursor each request carried, and whether this sync
        // already started again after meeting a restored server.
        let mut prefetch_since = 0u64;
        let mut reset = false;
        // A batch the server could not read in time (408: a slow link) is
        // sent again in halves, down to MIN_BATCH_BYTES.
        let mut batch = limits::CLIENT_BATCH_BYTES;
        std::thread::scope(|scope| -> Result<(), SyncError> {
            // While a downloaded page is applied, the next one is fetched.
            let mut prefetch: Option<std::thread::ScopedJoinHandle<'_, Answered>> = None;
            loop {
                let since;
                let (outbox, exchanged) = match prefetch.take() {
                    Some(h) => {
                        since = prefetch_since;
                        (
                            super::Outbox::default(),
                            h.join().unwrap_or_else(|_| {
                                Err(SyncError::Network("the download thread failed".into()))
                            }),
                        )
                    }
                    None => {
                        let outbox = self.sync_outbox(batch)?;
                        since = self.sync_cursor()?;
                        let req = SyncRequest::new(since, outbox.docs.clone());
                        let known = self.server_epoch()?;
                        let r = client.exchange_with_epoch(&req, known.as_deref());
                        if matches!(r, Err(SyncError::Refused { status: 408, .. }))
                            && outbox.changes > 1
                            && batch > MIN_BATCH_BYTES
                        {
                            batch = (batch / 2).max(MIN_BATCH_BYTES);
                            tracing::info!(
                                "the server timed out reading {} changes: sending batches of {batch} bytes",
                                outbox.changes
                            );
                            continue;
                        }
                        (outbox, r)
                    }
                };
                let Exchanged {
                    response: resp,
                    sent: up,
                    received: down,
                    epoch,
                    server_time_ms,
                } = exchanged?;
                // A clock far off the server's is flagged against this till.
                if let Some(t) = server_time_ms {
                    self.check_clock_against_server(t)?;
                }
                // restore: a restored server (new epoch, or a head below our
                // cursor): everything goes back in the outbox, the cursor to 0,
                // and this answer is dropped.
                if self.check_server_epoch(epoch.as_deref(), since, resp.head)?
                    == super::epoch::EpochCheck::Reset
                {
                    if reset {
                        return Err(SyncError::Refused {
                            status: 409,
                            message: "the server's epoch changed twice during one sync".into(),
                        });
                    }
                    reset = true;
                    report.server_restored = true;
                    report.round_trips += 1;
                    continue;
                }
                report.round_trips += 1;
                report.bytes_up += up as u64;
                report.bytes_down += down as u64;
                report.sent_changes += outbox.changes as u64;
                let more = resp.more;
                let head = resp.head;
                let cursor = resp.cursor;
                if resp.acked.len() < outbox.changes {
                    return Err(SyncError::Refused {
                        status: 500,
                        message: format!(
                            "the server acknowledged {} of {} changes",
                            resp.acked.len(),
                            outbox.changes
                        ),
                    });
                }
                if more && !outbox.more {
                    let c = client.clone();
                    prefetch_since = cursor;
                    let known = self.server_epoch()?;
                    prefetch = Some(scope.spawn(move || {
                        c.exchange_with_epoch(&SyncRequest::new(cursor, vec![]), known.as_deref())
                    }));
                }
                let applied = self.apply_sync_response(&outbox, resp)?;
                report.acked += applied.acked;
                report.received_new += applied.new_changes;
                report.received_known += applied.known_changes;
                report.cursor = cursor;
                if waiting > 0 {
                    progress(Progress {
                        stage: "uploading".into(),
                        done: report.acked.min(waiting),
                        total: waiting,
                    });
                }
                if head > start_cursor && (more || report.received_new > 0) {
                    progress(Progress {
                        stage: "downloading".into(),
                        done: cursor.saturating_sub(start_cursor).min(head - start_cursor),
                        total: head - start_cursor,
                    });
                }
                if !more && !outbox.more {
                    return Ok(());
                }
            }
        })?;
        report.millis = started.elapsed().as_millis() as u64;
        Ok(report)
    }
}

/// What `enrol` did.
#[derive(Debug, Clone, Serialize)]
pub struct EnrolReport {
    pub device_id: String,
    pub store_id: String,
    pub store_name: String,
    pub role: crate::access::Role,
    pub till_id: String,
    /// The till had a store and uploaded it (rather than downloading one).
    pub uploaded: bool,
    /// A new till started from the server's snapshot of the store, holding
    /// every change up to this server cursor (then synced the rest).
    pub snapshot_cursor: Option<u64>,
    pub sync: SyncReport,
    // money: catalog edits made before enrolling as a till
    /// Catalog changes made on this device before it was enrolled as a till:
    /// the server takes catalog changes from managers only, so they are
    /// never sent and stay on this device.
    pub unsent_catalog_changes: u64,
    /// What happened to them, for people; `None` when there are none.
    pub catalog_note: Option<String>,
}

/// Enrols the till at `path` with a server, then syncs: a till with a store
/// uploads its whole history; a new one downloads the store, building its
/// projections.
pub fn enrol(
    path: &Path,
    server: &str,
    code: &str,
    till_name: Option<&str>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Store, EnrolReport), SyncError> {
    enrol_with(path, server, code, till_name, false, progress)
}

/// The key a new till sends as `till_id` when it enrols: derived from the
/// code, so running the same enrolment again after a lost answer is the
/// same request (the server answers with the same device). The server gives
/// the till its real till id.
pub fn new_till_enrol_key(code: &str) -> String {
    use sha2::{Digest, Sha256};
    let normalised: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let digest = Sha256::digest(format!("shopsync new till:{normalised}").as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("new-{hex}")
}

/// [`enrol`], with `allow_insecure_http` (`--allow-insecure-http`): allows
/// `http://` to a server that is not on this machine, and remembers it for
/// this till's later syncs.
pub fn enrol_with(
    path: &Path,
    server: &str,
    code: &str,
    till_name: Option<&str>,
    allow_insecure_http: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Store, EnrolReport), SyncError> {
    let allow = allow_insecure_http || super::transport::env_allows_http();
    let client = Client::with_insecure_http(server, None, allow)?;
    enrol_via(
        path,
        &client,
        code,
        till_name,
        allow_insecure_http,
        progress,
    )
}

/// Enrols the till at `path` through `client` (any [`Transport`]), then
/// syncs; see [`enrol`]. `allow_insecure_http` is remembered for later syncs.
pub fn enrol_via<T: Transport>(
    path: &Path,
    client: &T,
    code: &str,
    till_name: Option<&str>,
    allow_insecure_http: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Store, EnrolReport), SyncError> {
    let existing = match Store::open(path) {
        Ok(s) => Some(s),
        Err(CoreError::NotInitialized(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let (mut store, resp, uploaded) = match existing {
        Some(store) => {
            if let Some(cfg) = store.sync_config()? {
                return Err(CoreError::Conflict(format!(
                    "this till is already enrolled with {} as device {}",
                    cfg.server, cfg.device_id
                ))
                .into());
            }
            let resp = client.enrol(&EnrolRequest {
                protocol: wire::PROTOCOL_VERSION,
                code: code.trim().to_string(),
                till_id: store.info().till_id.clone(),
                till_name: store.info().till_name.clone(),
                store_id: Some(store.info().store_id.clone()),
            })?;
            (store, resp, true)
        }
        None => {
            let name = till_name
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    CoreError::invalid("till", "a new till needs a name: --till NAME")
                })?;
            // The server assigns a new till's id; what we send is the
            // request key (see `new_till_enrol_key`).
            let resp = client.enrol(&EnrolRequest {
                protocol: wire::PROTOCOL_VERSION,
                code: code.trim().to_string(),
                till_id: new_till_enrol_key(code),
                till_name: name.to_string(),
                store_id: None,
            })?;
            let store = Store::create_with_till(path, &resp.store_id, &resp.till_id, name)?;
            (store, resp, false)
        }
    };
    if resp.till_id != store.info().till_id {
        return Err(CoreError::Conflict(format!(
            "the server enrolled this till as till {}, but it is till {}",
            resp.till_id,
            store.info().till_id
        ))
        .into());
    }
    store.set_sync_config(&SyncConfig {
        server: client.base().to_string(),
        device_id: resp.device_id.clone(),
        token: resp.token.clone(),
        role: resp.role,
    })?;
    store.set_sync_allows_insecure_http(allow_insecure_http)?;
    let authed = client.with_token(&resp.token)?;
    let mut snapshot_cursor = None;
    if !uploaded {
        let (s, adopted) = start_from_snapshot(store, path, &authed, progress)?;
        store = s;
        snapshot_cursor = adopted.map(|a| a.cursor);
    }
    // A new till's file: no counter sells from it while it downloads (the
    // few changes after a snapshot need none of this).
    if !uploaded && snapshot_cursor.is_none() {
        store.start_enrol_download();
    }
    let sync = store.sync_now(&authed, progress);
    let ended = store.end_enrol_download();
    if let (Err(e), Err(_)) = (&ended, &sync) {
        tracing::warn!(
            "after the failed download, the deferred indexes wait for the next open: {e}"
        );
    }
    let sync = sync?;
    ended?;
    let unsent_catalog_changes = store.unsendable_catalog_changes()?;
    let catalog_note = (unsent_catalog_changes > 0).then(|| {
        format!(
            "{unsent_catalog_changes} catalog change(s) made on this device before enrolment were not sent: \
             a till may not change the catalog, so they stay on this device only. \
             Make them again on a manager's device (or enrol this device with a manager's code)."
        )
    });
    let report = EnrolReport {
        device_id: resp.device_id,
        store_id: resp.store_id,
        store_name: store.info().store_name.clone(),
        role: resp.role,
        till_id: resp.till_id,
        uploaded,
        snapshot_cursor,
        sync,
        unsent_catalog_changes,
        catalog_note,
    };
    Ok((store, report))
}

/// A new till takes the server's snapshot of its store when there is one
/// (`super::snapshot`). Anything but a refusal of the device leaves the
/// store as it was, for the change download to fill.
fn start_from_snapshot<T: Transport>(
    store: Store,
    path: &Path,
    client: &T,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Store, Option<SnapshotInfo>), SyncError> {
    let dest = super::snapshot::download_path(path);
    let info = match client.download_snapshot(&dest, progress) {
        Ok(Some(info)) => info,
        Ok(None) => return Ok((store, None)),
        Err(e) if e.is_unauthorized() => return Err(e),
        Err(e) => {
            tracing::warn!("no snapshot of the store ({e}): downloading its changes instead");
            return Ok((store, None));
        }
    };
    match store.adopt_snapshot(&dest, &info) {
        Ok(store) => Ok((store, Some(info))),
        Err(e) => {
            tracing::warn!(
                "the store's snapshot could not be used ({e}): downloading its changes instead"
            );
            Ok((Store::open(path)?, None))
        }
    }
}

/// Settings of the background worker.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How often the worker looks for local writes made by other connections.
    pub poll: Duration,
    /// A sync at least this often even when nothing seems to have changed.
    pub idle_sync: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Listen to the server's notices (SSE).
    pub notices: bool,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            poll: Duration::from_millis(500),
            idle_sync: Duration::from_secs(60),
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            notices: true,
        }
    }
}

/// What the worker reports after every attempt.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerState {
    pub status: SyncStatus,
    pub syncing: bool,
    pub last_report: Option<SyncReport>,
    /// Revoked or refused for good: the worker has stopped trying.
    pub stopped: bool,
}

enum Wake {
    Nudge,
    Stop,
}

/// The till's background sync: wakes on local writes (`nudge`, or a change of
/// the database seen by polling), on the server's notices, and on a timer;
/// retries with exponential backoff and jitter.
pub struct SyncWorker {
    tx: mpsc::Sender<Wake>,
    state: Arc<Mutex<Option<WorkerState>>>,
    thread: Option<JoinHandle<()>>,
    notices: Option<JoinHandle<()>>,
    stop_notices: Arc<std::sync::atomic::AtomicBool>,
}

impl SyncWorker {
    /// Starts the worker on its own thread with its own connection to `path`.
    /// `on_state` is called after every attempt (for the UI's indicator).
    pub fn spawn(
        path: PathBuf,
        opts: WorkerOptions,
        on_state: impl Fn(&WorkerState) + Send + 'static,
    ) -> Result<SyncWorker, SyncError> {
        let store = Store::open(&path)?;
        let client = Client::for_store(&store)?;
        let (tx, rx) = mpsc::channel();
        let state = Arc::new(Mutex::new(None));
        let stop_notices = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let notices = if opts.notices {
            let tx = tx.clone();
            let client = client.clone();
            let stop = stop_notices.clone();
            let (min, max) = (opts.min_backoff, opts.max_backoff);
            Some(
                std::thread::Builder::new()
                    .name("shopsync-notices".into())
                    .spawn(move || listen_notices(client, tx, stop, min, max))
                    .map_err(|e| CoreError::io("cannot start the notice thread", e))?,
            )
        } else {
            None
        };
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name("shopsync-sync".into())
            .spawn(move || run_worker(store, client, rx, opts, st, on_state))
            .map_err(|e| CoreError::io("cannot start the sync thread", e))?;
        Ok(SyncWorker {
            tx,
            state,
            thread: Some(thread),
            notices,
            stop_notices,
        })
    }

    /// Something changed locally: sync soon.
    pub fn nudge(&self) {
        let _ = self.tx.send(Wake::Nudge);
    }

    pub fn state(&self) -> Option<WorkerState> {
        self.state.lock().ok().and_then(|s| s.clone())
    }

    /// Stops the worker and waits for it (an exchange in flight finishes).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop_notices
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = self.tx.send(Wake::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // The notice thread notices `stop` at its next heartbeat; do not wait.
        self.notices.take();
    }
}

impl Drop for SyncWorker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn jittered(base: Duration) -> Duration {
    let ms = base.as_millis() as u64;
    let jitter = rand::rng().random_range(0..=ms / 2 + 1);
    Duration::from_millis(ms / 2 + jitter + ms / 4)
}

fn listen_notices(
    client: Client,
    tx: mpsc::Sender<Wake>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    min: Duration,
    max: Duration,
) {
    let mut backoff = min;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        match client.events(Duration::from_secs(90)) {
            Ok(mut stream) => {
                backoff = min;
                loop {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    match stream.next_notice() {
                        Ok(Notice::Changed(_)) => {
                            if tx.send(Wake::Nudge).is_err() {
                                return;
                            }
                        }
                        Ok(Notice::Heartbeat) => {}
                        Err(_) => break,
                    }
                }
            }
            Err(e) if e.is_unauthorized() => {
                let _ = tx.send(Wake::Nudge);
                return;
            }
            Err(_) => {}
        }
        std::thread::sleep(jittered(backoff));
        backoff = (backoff * 2).min(max);
    }
}

fn run_worker(
    mut store: Store,
    client: Client,
    rx: mpsc::Receiver<Wake>,
    opts: WorkerOptions,
    state: Arc<Mutex<Option<WorkerState>>>,
    on_state: impl Fn(&WorkerState),
) {
    let mut backoff: Option<Duration> = None;
    let mut last_sync = Instant::now();
    let mut due = true;
    let mut last_seen = local_version(&store);
    let mut stopped = false;
    loop {
        if due && !stopped {
            publish(&store, &state, &on_state, true, None, false);
            let result = store.sync_now(&client, &mut |_| {});
            last_sync = Instant::now();
            last_seen = local_version(&store);
            let report = match result {
                Ok(r) => {
                    backoff = None;
                    Some(r)
                }
                Err(e) => {
                    tracing::info!("sync failed: {e}");
                    if e.is_unauthorized() {
                        // Revoked, or a bad token: only a new enrolment helps.
                        stopped = true;
                    } else {
                        let next = if e.is_retryable() {
                            backoff.map_or(opts.min_backoff, |b| (b * 2).min(opts.max_backoff))
                        } else {
                            opts.max_backoff
                        };
                        backoff = Some(next);
                    }
                    None
                }
            };
            publish(&store, &state, &on_state, false, report, stopped);
            due = false;
        }
        let wait = match backoff {
            Some(b) => jittered(b),
            None => opts.poll,
        };
        match rx.recv_timeout(wait) {
            Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(Wake::Nudge) => {
                // A burst of nudges (a busy till) becomes one sync.
                while let Ok(w) = rx.try_recv() {
                    if matches!(w, Wake::Stop) {
                        return;
                    }
                }
                if backoff.is_none() {
                    due = true;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if backoff.is_some() {
                    due = true;
                } else {
                    let v = local_version(&store);
                    if v != last_seen || last_sync.elapsed() >= opts.idle_sync {
                        due = true;
                    }
                }
            }
        }
    }
}

/// Changes when anything is committed to the change log.
fn local_version(store: &Store) -> i64 {
    store
        .connection()
        .query_row("SELECT COALESCE(MAX(seq), 0) FROM doc_changes", [], |r| {
            r.get(0)
        })
        .unwrap_or(-1)
}

fn publish(
    store: &Store,
    state: &Mutex<Option<WorkerState>>,
    on_state: &impl Fn(&WorkerState),
    syncing: bool,
    report: Option<SyncReport>,
    stopped: bool,
) {
    let Ok(status) = store.sync_status() else {
        return;
    };
    let ws = WorkerState {
        status,
        syncing,
        last_report: report,
        stopped,
    };
    on_state(&ws);
    if let Ok(mut s) = state.lock() {
        *s = Some(ws);
    }
}
