//! A customer's device talking to the sync server (docs/PROTOCOL.md): shop
//! search, `sync_once` (`POST /v1/customer/sync`, one cursor per followed
//! document) and `watch` (a sync on every `changed` notice of
//! `GET /v1/customer/events`, and at least every 30 s).
//!
//! HTTP is the till's [`Client`] (rustls, `http://` only to loopback unless
//! allowed, a private CA from `SHOPSYNC_CA_FILE`, the server's error
//! messages); tests run it against the real server process
//! (`sync-server/tests/customer_client.rs`). As on a till, no network I/O happens inside a
//! SQLite transaction: the request is read from the store, sent, and the
//! answer applied afterwards (`customer_store::sync_state`).

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::client::{Client, Notices, SyncError, network};
use super::customer_wire::{CustomerSyncRequest, CustomerSyncResponse, ShopListing, ShopsResponse};
use crate::customer_store::{CustomerStore, DocFailure};
use crate::error::CoreError;

/// Largest answer body read from the server.
pub const MAX_ANSWER_BYTES: u64 = 32 * 1024 * 1024;

/// Round trips one `sync_once` makes at most (a server that keeps saying
/// `more` cannot keep the device busy forever).
pub const MAX_ROUND_TRIPS: u64 = 1_000;

/// A notice of `GET /v1/customer/events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerNotice {
    /// A followed document changed (the data names it).
    Changed(String),
    Heartbeat,
    /// This device was revoked: stop.
    Revoked,
}

impl Notices {
    /// The next customer notice; an error when the stream ends or breaks.
    fn next_customer_notice(&mut self) -> Result<CustomerNotice, SyncError> {
        loop {
            let (event, data) = self.next_event()?;
            match event.as_str() {
                "changed" => return Ok(CustomerNotice::Changed(data)),
                "heartbeat" => return Ok(CustomerNotice::Heartbeat),
                "revoked" => return Ok(CustomerNotice::Revoked),
                _ => {}
            }
        }
    }
}

/// A customer's connection to one sync server.
#[derive(Clone)]
pub struct CustomerClient {
    pub(super) inner: Client,
}

impl CustomerClient {
    /// A client for `server` (`token`: this device's, if it has one).
    pub fn new(
        server: &str,
        token: Option<&str>,
        allow_insecure_http: bool,
    ) -> Result<CustomerClient, SyncError> {
        let allow = allow_insecure_http || super::transport::env_allows_http();
        Ok(CustomerClient {
            inner: Client::with_insecure_http(server, token, allow)?,
        })
    }

    /// The client of a device with an account.
    pub fn for_store(store: &CustomerStore) -> Result<CustomerClient, SyncError> {
        let cfg = store.sync_config()?.ok_or(SyncError::NoCustomerAccount)?;
        CustomerClient::new(&cfg.server, Some(&cfg.token), cfg.allow_insecure_http)
    }

    /// The server's address as the device records it.
    pub fn base(&self) -> &str {
        &self.inner.base
    }

    pub(super) fn read<T: DeserializeOwned>(
        resp: reqwest::blocking::Response,
    ) -> Result<T, SyncError> {
        if !resp.status().is_success() {
            return Err(Client::refused(resp));
        }
        let mut raw = Vec::new();
        resp.take(MAX_ANSWER_BYTES + 1)
            .read_to_end(&mut raw)
            .map_err(|e| SyncError::Network(format!("reading the answer: {e}")))?;
        if raw.len() as u64 > MAX_ANSWER_BYTES {
            return Err(CoreError::Corrupt(format!(
                "the server's answer is larger than {MAX_ANSWER_BYTES} bytes"
            ))
            .into());
        }
        serde_json::from_slice(&raw).map_err(|e| {
            CoreError::Corrupt(format!("the server's answer does not decode: {e}")).into()
        })
    }

    pub(crate) fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, SyncError> {
        let resp = self
            .inner
            .auth(self.inner.http.post(format!("{}{path}", self.inner.base)))
            .json(body)
            .send()
            .map_err(network)?;
        Self::read(resp)
    }

    pub(crate) fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, SyncError> {
        let resp = self
            .inner
            .auth(
                self.inner
                    .http
                    .get(format!("{}{path_and_query}", self.inner.base)),
            )
            .send()
            .map_err(network)?;
        Self::read(resp)
    }

    /// `POST /v1/customer/sync`: the answer and the server's epoch.
    /// `known_epoch`: the epoch this device's cursors belong to; a server of
    /// another epoch answers without storing anything.
    pub fn sync(
        &self,
        req: &CustomerSyncRequest,
        known_epoch: Option<&str>,
    ) -> Result<(CustomerSyncResponse, Option<String>), SyncError> {
        let mut rb = self.inner.auth(
            self.inner
                .http
                .post(format!("{}/v1/customer/sync", self.inner.base)),
        );
        if let Some(e) = known_epoch {
            rb = rb.header(super::epoch::EPOCH_HEADER, e);
        }
        let resp = rb.json(req).send().map_err(network)?;
        let epoch = resp
            .headers()
            .get(super::epoch::EPOCH_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok((Self::read(resp)?, epoch))
    }

    /// `GET /v1/shops?search=Q`.
    pub fn shops(&self, search: Option<&str>) -> Result<ShopsResponse, SyncError> {
        match search.map(str::trim).filter(|s| !s.is_empty()) {
            Some(q) => self.get(&format!("/v1/shops?search={}", query_escape(q))),
            None => self.get("/v1/shops"),
        }
    }

    /// `GET /v1/customer/events?watch=S1,S2`.
    pub fn events(&self, watch: &[String]) -> Result<Notices, SyncError> {
        let list: Vec<String> = watch.iter().map(|s| query_escape(s)).collect();
        let stream = self.inner.event_stream(
            &format!("/v1/customer/events?watch={}", list.join(",")),
            Duration::from_secs(90),
        )?;
        Ok(stream)
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Searches the server's shops and remembers them by name on this device
/// (so `favourite add NAME` and `catalog NAME` work afterwards).
pub fn search_shops(
    store: &mut CustomerStore,
    transport: &CustomerClient,
    search: Option<&str>,
) -> Result<Vec<ShopListing>, SyncError> {
    let answer = transport.shops(search)?;
    let named: Vec<(String, String)> = answer
        .shops
        .iter()
        .map(|s| (s.store_id.clone(), s.name.clone()))
        .collect();
    store.remember_shops(&named)?;
    Ok(answer.shops)
}

/// What one `sync_once` did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerSyncReport {
    pub round_trips: u64,
    /// Local changes uploaded and acknowledged.
    pub acked: u64,
    pub received_new: u64,
    pub received_known: u64,
    /// Documents followed.
    pub followed: usize,
    /// Documents whose received changes were not applied (asked again next
    /// time); the others were.
    pub failed: Vec<DocFailure>,
    /// Documents whose uploaded changes the server refused (an order to a
    /// shop that takes none): taken back on this device.
    pub refused: Vec<DocFailure>,
    pub millis: u64,
    /// The server had been restored from a backup: everything was sent and
    /// fetched again.
    pub server_restored: bool,
}

/// Uploads every unacknowledged local change and downloads every followed
/// document's new changes, repeating while the server says `more` or
/// changes wait to be sent. Records the outcome for `last_sync`.
pub fn sync_once(
    store: &mut CustomerStore,
    transport: &CustomerClient,
) -> Result<CustomerSyncReport, SyncError> {
    let result = sync_pages(store, transport);
    let err = result.as_ref().err().map(ToString::to_string);
    if let Err(e) = store.record_sync_attempt(err.as_deref()) {
        tracing::warn!("could not record the sync status: {e}");
    }
    result
}

fn sync_pages(
    store: &mut CustomerStore,
    transport: &CustomerClient,
) -> Result<CustomerSyncReport, SyncError> {
    if store.sync_config()?.is_none() {
        return Err(SyncError::NoCustomerAccount);
    }
    let started = Instant::now();
    let mut report = CustomerSyncReport::default();
    loop {
        let (request, pending) = store.sync_request()?;
        report.followed = pending.docs.len();
        let known = store.server_epoch()?;
        let (answer, epoch) = transport.sync(&request, known.as_deref())?;
        report.round_trips += 1;
        // A restored server: start again from nothing (this answer was made
        // for cursors of the server's earlier life).
        if let Some(epoch) = epoch
            && store.note_server_epoch(&epoch)?
        {
            report.server_restored = true;
            if report.round_trips < MAX_ROUND_TRIPS {
                continue;
            }
            break;
        }
        let applied = store.apply_sync_answer(&pending, answer)?;
        report.acked += applied.acked;
        report.received_new += applied.new_changes;
        report.received_known += applied.known_changes;
        for f in applied.failed {
            if !report.failed.iter().any(|g| g.doc_id == f.doc_id) {
                report.failed.push(f);
            }
        }
        report.refused.extend(applied.refused);
        // The answer may name new documents to follow (an order sent or a
        // favourite added on another device): they are asked for at once.
        let newly_followed = store
            .followed()?
            .iter()
            .any(|d| !pending.docs.contains(&d.to_string()));
        // A document that failed keeps its cursor: asking again at once
        // would fail again, so `more` from it does not loop.
        if !(applied.more || pending.more_to_send || newly_followed)
            || report.round_trips >= MAX_ROUND_TRIPS
        {
            break;
        }
        if !report.failed.is_empty() && !pending.more_to_send {
            break;
        }
    }
    report.millis = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Settings of [`watch`].
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// A sync at least this often, notices or not.
    pub every: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Set to stop the loop (checked between syncs and notices).
    pub stop: Arc<AtomicBool>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            every: Duration::from_secs(30),
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// Why [`watch`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchEnd {
    /// The server revoked this device (a `revoked` notice, or 401/403).
    Revoked,
    /// `stop` was set.
    Stopped,
}

enum Wake {
    Changed,
    Revoked,
}

/// Syncs now, then on every `changed` notice and at least every
/// `opts.every`, until the device is revoked or `opts.stop` is set.
/// `on_sync` sees every attempt's outcome; failures (offline) are retried.
pub fn watch(
    store: &mut CustomerStore,
    transport: &CustomerClient,
    opts: &WatchOptions,
    mut on_sync: impl FnMut(&Result<CustomerSyncReport, SyncError>),
) -> Result<WatchEnd, SyncError> {
    if store.sync_config()?.is_none() {
        return Err(SyncError::NoCustomerAccount);
    }
    let mut stores: Vec<String> = store
        .followed()?
        .iter()
        .filter_map(|d| d.store().map(str::to_string))
        .collect();
    stores.sort();
    stores.dedup();
    let (tx, rx) = mpsc::channel::<Wake>();
    let listener_stop = Arc::new(AtomicBool::new(false));
    {
        let t = transport.clone();
        let stop = listener_stop.clone();
        let (min, max) = (opts.min_backoff, opts.max_backoff);
        std::thread::Builder::new()
            .name("shopsync-customer-notices".into())
            .spawn(move || listen(t, stores, tx, stop, min, max))
            .map_err(|e| CoreError::io("cannot start the notice thread", e))?;
    }
    let end = watch_loop(store, transport, opts, &rx, &mut on_sync);
    listener_stop.store(true, Ordering::SeqCst);
    end
}

fn watch_loop(
    store: &mut CustomerStore,
    transport: &CustomerClient,
    opts: &WatchOptions,
    rx: &mpsc::Receiver<Wake>,
    on_sync: &mut impl FnMut(&Result<CustomerSyncReport, SyncError>),
) -> Result<WatchEnd, SyncError> {
    let mut backoff: Option<Duration> = None;
    let mut listening = true;
    loop {
        if opts.stop.load(Ordering::SeqCst) {
            return Ok(WatchEnd::Stopped);
        }
        let result = sync_once(store, transport);
        on_sync(&result);
        match &result {
            Ok(_) => backoff = None,
            Err(e) if e.is_unauthorized() => return Ok(WatchEnd::Revoked),
            Err(e) => {
                // Offline: back off; refused for good (a bad request): try
                // again only at the longest interval.
                let next = if e.is_retryable() {
                    backoff.map_or(opts.min_backoff, |b| (b * 2).min(opts.max_backoff))
                } else {
                    opts.max_backoff
                };
                backoff = Some(next);
            }
        }
        let wait = backoff.unwrap_or(opts.every).min(opts.every);
        let deadline = Instant::now() + wait;
        // Wait for a notice, the timer, or `stop` (looked at every 200 ms).
        loop {
            if opts.stop.load(Ordering::SeqCst) {
                return Ok(WatchEnd::Stopped);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let slice = left.min(Duration::from_millis(200));
            if !listening {
                std::thread::sleep(slice);
                continue;
            }
            match rx.recv_timeout(slice) {
                Ok(Wake::Revoked) => return Ok(WatchEnd::Revoked),
                Ok(Wake::Changed) => {
                    // A burst of notices becomes one sync.
                    while let Ok(w) = rx.try_recv() {
                        if matches!(w, Wake::Revoked) {
                            return Ok(WatchEnd::Revoked);
                        }
                    }
                    if backoff.is_none() {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => listening = false,
            }
        }
    }
}

fn listen(
    transport: CustomerClient,
    stores: Vec<String>,
    tx: mpsc::Sender<Wake>,
    stop: Arc<AtomicBool>,
    min: Duration,
    max: Duration,
) {
    let mut backoff = min;
    while !stop.load(Ordering::SeqCst) {
        match transport.events(&stores) {
            Ok(mut stream) => {
                backoff = min;
                loop {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    match stream.next_customer_notice() {
                        Ok(CustomerNotice::Changed(_)) => {
                            if tx.send(Wake::Changed).is_err() {
                                return;
                            }
                        }
                        Ok(CustomerNotice::Heartbeat) => {}
                        Ok(CustomerNotice::Revoked) => {
                            let _ = tx.send(Wake::Revoked);
                            return;
                        }
                        Err(_) => break,
                    }
                }
            }
            Err(e) if e.is_unauthorized() => {
                let _ = tx.send(Wake::Revoked);
                return;
            }
            Err(_) => {}
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_escaped() {
        assert_eq!(query_escape("corner shop&x=1"), "corner%20shop%26x%3D1");
        assert_eq!(query_escape("Café"), "Caf%C3%A9");
    }
}
