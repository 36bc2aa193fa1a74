//! The HTTP API: thin handlers over `Storage`. See docs/PROTOCOL.md.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use crate::upload_budget::UploadBudget;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use shopsync_core::access::{self, Role};
use shopsync_core::ids::DocId;
use shopsync_core::sync::wire::{self, SyncRequest, SyncResponse, limits};
use shopsync_core::sync::{EnrolRequest, EnrolResponse};

use crate::AppState;
use crate::auth::{Device, new_token, sha256};
use crate::customer_sync;
use crate::customers;
use crate::error::ApiError;
use crate::guard;
use crate::storage::{DocBatch, EnrolInput, NewChange, Storage};

pub fn router<S: Storage>(state: Arc<AppState<S>>) -> Router {
    let api = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz::<S>))
        .route("/metrics", get(metrics_with_token::<S>))
        .route(
            "/v1/enrol",
            post(enrol::<S>).layer(DefaultBodyLimit::max(guard::ENROL_BODY_BYTES)),
        )
        // Customer accounts (customers.rs).
        .route(
            "/v1/customers",
            post(customers::signup::<S>).layer(DefaultBodyLimit::max(guard::ENROL_BODY_BYTES)),
        )
        .route(
            "/v1/customers/link-code",
            post(customers::link_code::<S>).layer(DefaultBodyLimit::max(guard::ENROL_BODY_BYTES)),
        )
        .route(
            "/v1/customers/link",
            post(customers::link::<S>).layer(DefaultBodyLimit::max(guard::ENROL_BODY_BYTES)),
        )
        .route("/v1/customers/me", get(customers::me::<S>))
        .route(
            "/v1/customers/devices/{device_id}/revoke",
            post(customers::revoke::<S>).layer(DefaultBodyLimit::max(guard::ENROL_BODY_BYTES)),
        )
        // A customer's documents, shops and notices (customer_sync.rs).
        .route(
            "/v1/customer/sync",
            post(customer_sync::sync::<S>).layer(DefaultBodyLimit::max(
                shopsync_core::sync::customer_wire::MAX_REQUEST_BYTES,
            )),
        )
        .route("/v1/customer/events", get(customer_sync::events::<S>))
        .route("/v1/shops", get(customer_sync::shops::<S>))
        .route("/v1/sync", post(sync::<S>))
        .route(
            shopsync_core::sync::snapshot::SNAPSHOT_PATH,
            get(crate::snapshots::download::<S>),
        )
        .route("/v1/events", get(events::<S>));
    let routes = if state.options.web_app {
        api.merge(crate::web_app::routes())
    } else {
        api
    };
    routes
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limits::MAX_REQUEST_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), timeout::<S>))
        .layer(middleware::from_fn_with_state(state.clone(), count::<S>))
        .with_state(state)
}

/// `GET /metrics` alone, for a separate listener (`--metrics-listen`).
pub fn metrics_router<S: Storage>(state: Arc<AppState<S>>) -> Router {
    Router::new()
        .route("/metrics", get(metrics::<S>))
        .fallback(not_found)
        .with_state(state)
}

/// The answer to a path no route serves.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

/// A request whose answer is not ready within the timeout gets 408 (a slow
/// or stalled upload no longer holds its connection and memory forever).
async fn timeout<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    req: Request,
    next: Next,
) -> Response {
    let limit = st.options.guard.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::Timeout(limit.as_secs()).into_response(),
    }
}

/// `GET /metrics` on the public listener: only with the metrics token.
/// How long `/readyz` waits for the database before it says not ready.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// `/healthz` says the process answers; `/readyz` says it can serve: its
/// database opens and reads within [`READY_TIMEOUT`]. A load balancer
/// sends no requests to an instance answering 503.
///
/// With `--nats` a second line tells NATS's state; the instance stays ready
/// while NATS is down (syncs work; events wait in the outbox).
async fn readyz<S: Storage>(State(st): State<Arc<AppState<S>>>) -> Result<String, ApiError> {
    let why = match tokio::time::timeout(READY_TIMEOUT, st.storage.ready()).await {
        Ok(Ok(())) => {
            return Ok(match &st.events {
                None => "ready\n".to_string(),
                Some(e) if e.connected.load(Relaxed) => "ready\nnats: connected\n".to_string(),
                Some(_) => "ready\nnats: not connected (events wait in the outbox)\n".to_string(),
            });
        }
        Ok(Err(e)) => format!("the database: {e}"),
        Err(_) => format!(
            "the database did not answer within {} s",
            READY_TIMEOUT.as_secs()
        ),
    };
    tracing::warn!("not ready: {why}");
    Err(ApiError::NotReady(why))
}

async fn metrics_with_token<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(expected) = st.options.guard.metrics_token.as_deref() else {
        return Err(ApiError::NotFound(
            "metrics are not served on this listener (see --metrics-listen, --metrics-token)"
                .into(),
        ));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    if !guard::token_matches(presented, expected) {
        return Err(ApiError::Unauthorized(
            "the metrics token is required (Authorization: Bearer …)".into(),
        ));
    }
    metrics(State(st)).await
}

async fn count<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    req: Request,
    next: Next,
) -> Response {
    st.metrics.requests.fetch_add(1, Relaxed);
    let resp = next.run(req).await;
    if resp.status().is_client_error() {
        st.metrics.responses_4xx.fetch_add(1, Relaxed);
    } else if resp.status().is_server_error() {
        st.metrics.responses_5xx.fetch_add(1, Relaxed);
    }
    resp
}

async fn metrics<S: Storage>(State(st): State<Arc<AppState<S>>>) -> Result<Response, ApiError> {
    let t = st.storage.totals().await?;
    let mut body = st.metrics.render(t.documents, t.changes, t.devices);
    st.deriver.stats.render(&mut body);
    st.snapshots.stats.render(&mut body);
    if let Some(events) = &st.events {
        let backlog = st.storage.outbox_backlog().await?;
        events.render(&mut body, backlog, chrono::Utc::now().timestamp_millis());
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
}

fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Codes are shown as `XXXX-XXXX-XXXX`; dashes, spaces and case do not matter.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

async fn enrol<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    payload: Result<Json<EnrolRequest>, JsonRejection>,
) -> Result<Json<EnrolResponse>, ApiError> {
    let ip = addr.ip();
    if !st.limiter.allow(ip) {
        return Err(ApiError::TooManyRequests);
    }
    let result = enrol_inner(&st, payload).await;
    if result.is_err() {
        st.limiter.failed(ip);
    }
    result
}

async fn enrol_inner<S: Storage>(
    st: &AppState<S>,
    payload: Result<Json<EnrolRequest>, JsonRejection>,
) -> Result<Json<EnrolResponse>, ApiError> {
    let Json(req) = payload.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(guard::ENROL_BODY_BYTES)
        } else {
            ApiError::from(e)
        }
    })?;
    if req.protocol != wire::PROTOCOL_VERSION {
        return Err(ApiError::BadRequest(format!(
            "protocol version {} is not supported (this server speaks {})",
            req.protocol,
            wire::PROTOCOL_VERSION
        )));
    }
    if !valid_id(&req.till_id) {
        return Err(ApiError::BadRequest(
            "till_id must be 1-64 letters, digits or dashes".into(),
        ));
    }
    let till_name = req.till_name.trim().to_string();
    if till_name.is_empty() || till_name.len() > 100 || till_name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "till_name must be 1-100 characters, none of them control characters".into(),
        ));
    }
    if let Some(s) = &req.store_id
        && !valid_id(s)
    {
        return Err(ApiError::BadRequest(
            "store_id must be 1-64 letters, digits or dashes".into(),
        ));
    }
    let code = normalise_code(&req.code);
    if code.is_empty() || code.len() > 64 {
        return Err(ApiError::BadRequest("an enrolment code is required".into()));
    }
    let device_id = uuid::Uuid::new_v4().to_string();
    let (token, token_hash) = new_token(&device_id);
    let enrolled = st
        .storage
        .enrol(EnrolInput {
            code_hash: sha256(code.as_bytes()),
            till_id: req.till_id.clone(),
            till_name,
            store_id: req.store_id.clone(),
            device_id: device_id.clone(),
            token_hash,
            now_ms: chrono::Utc::now().timestamp_millis(),
            assigned_till_id: shopsync_core::ids::new_id(),
        })
        .await?;
    // A retry after a lost answer gets the device made the first time; the
    // token (`{device}.{secret}`) then names that device.
    let token = match token.split_once('.') {
        Some((_, secret)) if enrolled.device_id != device_id => {
            format!("{}.{secret}", enrolled.device_id)
        }
        _ => token,
    };
    let device_id = enrolled.device_id.clone();
    st.metrics.enrolments.fetch_add(1, Relaxed);
    tracing::info!(
        device = %device_id,
        store = %enrolled.store.store_id,
        role = %enrolled.role,
        till_name = %guard::printable(&req.till_name),
        "device enrolled"
    );
    Ok(Json(EnrolResponse {
        device_id,
        token,
        store_id: enrolled.store.store_id,
        store_name: enrolled.store.name,
        role: enrolled.role,
        till_id: enrolled.till_id,
    }))
}

struct Validated {
    since: u64,
    batch: Vec<DocBatch>,
    hashes: Vec<[u8; 32]>,
}

/// Decompresses, decodes and checks a whole request before anything is
/// read or written: every document id against the caller's rights, every
/// change decoded.
fn validate(device: &Device, gz: bool, body: &[u8]) -> Result<Validated, ApiError> {
    let decoded;
    let data = if gz {
        decoded = wire::gunzip(body, limits::MAX_REQUEST_DECODED_BYTES)?;
        &decoded[..]
    } else {
        body
    };
    let req = SyncRequest::decode(data)?;
    let me = device.principal();
    let mut batch = Vec::with_capacity(req.docs.len());
    let mut hashes = Vec::with_capacity(req.change_count());
    let mut to_check = Vec::with_capacity(req.docs.len());
    let mut budget = UploadBudget::default();
    for doc in req.docs {
        let id = DocId::parse(&doc.doc_id).ok_or_else(|| {
            ApiError::BadRequest(format!("'{}' is not a document id", doc.doc_id))
        })?;
        if !access::can_write(&me, &id) {
            return Err(ApiError::Forbidden(format!(
                "this device ({} of store {}) may not write {id}",
                device.role, device.store.store_id
            )));
        }
        let mut changes = Vec::with_capacity(doc.changes.len());
        let mut decoded = Vec::with_capacity(doc.changes.len());
        for (i, bytes) in doc.changes.into_iter().enumerate() {
            // Bounded: a change that would inflate past its limit or hold
            // too many operations is refused before Automerge reads it, and
            // so is one that would take the request's changes together past
            // theirs (upload_budget).
            let change = budget.decode(&id, i, &bytes)?;
            let hash = change.hash().0;
            hashes.push(hash);
            changes.push(NewChange {
                hash,
                deps: change.deps().iter().map(|d| d.0).collect(),
                inflated_len: change.raw_bytes().len() as u64,
                actor: change.actor_id().to_bytes().to_vec(),
                actor_seq: change.seq(),
                bytes,
            });
            decoded.push(change);
        }
        to_check.push((id.clone(), decoded));
        batch.push(DocBatch {
            doc_id: id.to_string(),
            changes,
        });
    }
    // Every ledger record and catalog entry is checked, once every document
    // passed the access checks, before anything of the request is stored
    // (issue 7, part 3).
    for (id, decoded) in &to_check {
        shopsync_core::validate::validate_changes(id, decoded).map_err(ApiError::InvalidRecord)?;
    }
    Ok(Validated {
        since: req.since,
        batch,
        hashes,
    })
}

/// Per-device quotas (429): ledger documents of the device's till, and
/// bytes of changes uploaded per UTC day. Checked before anything is stored.
async fn check_quotas<S: Storage>(
    st: &AppState<S>,
    device: &Device,
    batch: &[DocBatch],
) -> Result<(), ApiError> {
    let g = &st.options.guard;
    let prefix = format!("store/{}/ledger/{}/", device.store.store_id, device.till_id);
    let candidates: Vec<String> = batch
        .iter()
        .filter(|d| d.doc_id.starts_with(&prefix))
        .map(|d| d.doc_id.clone())
        .collect();
    if !candidates.is_empty() {
        let (existing, new) = st
            .storage
            .count_documents(device.store.pk, prefix, candidates)
            .await?;
        if new > 0 && existing + new > g.documents_per_device {
            return Err(ApiError::Quota(format!(
                "this device's till would have {} ledger documents, over the quota of {} (--quota-documents)",
                existing + new,
                g.documents_per_device
            )));
        }
    }
    let bytes: u64 = batch
        .iter()
        .flat_map(|d| d.changes.iter())
        .map(|c| c.bytes.len() as u64)
        .sum();
    let day = chrono::Utc::now().timestamp().div_euclid(86_400);
    st.daily_bytes
        .charge(&device.device_id, day, bytes, g.bytes_per_day)
        .map_err(|used| {
            ApiError::Quota(format!(
                "this device has uploaded {used} bytes of changes today (UTC); {bytes} more would pass the quota of {} bytes a day (--quota-bytes-per-day): try again tomorrow",
                g.bytes_per_day
            ))
        })
}

/// The till endpoints (`/v1/sync`, `/v1/events`) refuse a customer's
/// device with 403.
pub(crate) fn refuse_customer(device: &Device, message: &str) -> Result<(), ApiError> {
    if device.role == Role::Customer || device.customer.is_some() {
        return Err(ApiError::Forbidden(message.to_string()));
    }
    Ok(())
}

fn is_gzip(headers: &HeaderMap, name: header::HeaderName) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("gzip")))
}

async fn sync<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    device: Device,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    refuse_customer(&device, "customer devices sync with /v1/customer/sync")?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(limits::MAX_REQUEST_BYTES)
        } else {
            ApiError::BadRequest(format!("cannot read the request body: {}", e.body_text()))
        }
    })?;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype.starts_with(wire::CONTENT_TYPE) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "a sync request has Content-Type {}",
            wire::CONTENT_TYPE
        )));
    }
    st.metrics.bytes_in.fetch_add(body.len() as u64, Relaxed);
    let gz_in = is_gzip(&headers, header::CONTENT_ENCODING);
    let dev = device.clone();
    let v = tokio::task::spawn_blocking(move || validate(&dev, gz_in, &body))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let store_pk = device.store.pk;
    // restore: a request from another lifetime of the database stores nothing.
    if let Some(resp) = crate::restore::stale_request(&st, &headers, v.since, store_pk).await? {
        return Ok(resp);
    }
    let received = v.hashes.len() as u64;
    if received > 0 {
        check_quotas(&st, &device, &v.batch).await?;
        let doc_ids: Vec<String> = v.batch.iter().map(|d| d.doc_id.clone()).collect();
        st.metrics.changes_received.fetch_add(received, Relaxed);
        // Events (with --nats): the store queues a reference to each new
        // ledger or order change, and the publisher derives its events.
        let stored = match &st.events {
            Some(events) => {
                let stored = st
                    .storage
                    .store_changes_with_events(store_pk, v.batch)
                    .await?;
                if stored.new_changes > 0 {
                    events.wake.notify_one();
                }
                stored
            }
            None => st.storage.store_changes(store_pk, v.batch).await?,
        };
        st.metrics
            .changes_stored
            .fetch_add(stored.new_changes, Relaxed);
        if stored.new_changes > 0 {
            let _ = st.notices.send(crate::Notice::stored(
                store_pk,
                stored.head,
                doc_ids.clone(),
            ));
            st.deriver.mark(store_pk, &device.store.store_id, &doc_ids);
            st.snapshots.mark(store_pk, &device.store.store_id);
        }
    }
    let head = st.storage.head(store_pk).await?;
    // A cursor from the future (the server was restored from a backup):
    // start again from zero; the client skips what it has.
    let since = if v.since > head { 0 } else { v.since };
    let exclude: HashSet<[u8; 32]> = v.hashes.iter().copied().collect();
    let page = st
        .storage
        .changes_since(store_pk, since, exclude, st.options.page_bytes)
        .await?;
    let me = device.principal();
    let docs = page
        .docs
        .into_iter()
        // The public catalog is for customers: a till has the real thing,
        // and would only store a copy of every derivation.
        .filter(|(id, _)| {
            DocId::parse(id)
                .is_some_and(|d| access::can_read(&me, &d) && !matches!(d, DocId::Public { .. }))
        })
        .map(|(doc_id, changes)| wire::DocChanges { doc_id, changes })
        .collect();
    let resp = SyncResponse {
        version: wire::PROTOCOL_VERSION,
        cursor: page.cursor,
        head: page.head,
        more: page.more,
        acked: v.hashes,
        docs,
    };
    st.metrics.changes_sent.fetch_add(page.changes, Relaxed);
    let gz_out = is_gzip(&headers, header::ACCEPT_ENCODING);
    let body = tokio::task::spawn_blocking(move || {
        let raw = resp.encode();
        if gz_out && raw.len() > 1024 {
            (wire::gzip(&raw), true)
        } else {
            (raw, false)
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    st.metrics.bytes_out.fetch_add(body.0.len() as u64, Relaxed);
    st.metrics.sync_requests.fetch_add(1, Relaxed);
    st.metrics.observe_sync(started.elapsed());
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(wire::CONTENT_TYPE),
        )],
        body.0,
    )
        .into_response();
    if body.1 {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    // restore: the epoch, so a till can tell a restored server.
    if let Ok(epoch) = HeaderValue::from_str(&st.storage.epoch()) {
        response
            .headers_mut()
            .insert(crate::restore::EPOCH_HEADER, epoch);
    }
    // The server's clock, a second opinion on the till's.
    response.headers_mut().insert(
        shopsync_core::sync::clock_check::TIME_HEADER,
        HeaderValue::from(chrono::Utc::now().timestamp_millis()),
    );
    Ok(response)
}

async fn events<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    device: Device,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    refuse_customer(
        &device,
        "notice streams are for tills and managers, not customer devices",
    )?;
    let filter = crate::notices::Filter::Store(device.store.pk);
    crate::notices::stream(st, device.device_id, filter)
}
