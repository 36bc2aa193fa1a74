//! A customer's device syncs its documents one by one
//! (`POST /v1/customer/sync`, JSON; see `shopsync_core::sync::customer_wire`
//! and docs/PROTOCOL.md), and finds shops that publish (`GET /v1/shops`).
//! Thin over `Storage`: decode and check everything first, then store, then
//! read.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use shopsync_core::access::{self, Role};
use shopsync_core::change_bytes;
use shopsync_core::ids::DocId;
use shopsync_core::sync::customer_wire::{
    self, CustomerSyncRequest, CustomerSyncResponse, DocAnswer, ShopListing, ShopsResponse,
};
use shopsync_core::sync::wire;

use crate::AppState;
use crate::auth::Device;
use crate::error::ApiError;
use crate::storage::{DocBatch, NewChange, Storage};
use crate::upload_budget::UploadBudget;

/// Changes one request may carry (a device sends the rest next time).
pub const MAX_CHANGES: usize = 10_000;

/// One requested document, checked.
struct Checked {
    id: DocId,
    since: u64,
    changes: Vec<NewChange>,
    decoded: Vec<automerge::Change>,
    /// Why this document's uploaded changes are not taken (they break a
    /// record rule, or the shop takes no orders): the other documents go
    /// on, and the device takes these back.
    refused: Option<Refusal>,
}

/// Why one document's uploaded changes are not taken.
enum Refusal {
    Record(shopsync_core::validate::RecordError),
    NoShop(String),
    NotPublishing(String),
}

impl Refusal {
    fn message(&self) -> String {
        match self {
            Refusal::Record(e) => e.to_string(),
            Refusal::NoShop(m) | Refusal::NotPublishing(m) => m.clone(),
        }
    }

    /// The whole request's error, for a device that does not take
    /// per-document refusals (it would drop what it sent as stored).
    fn into_error(self) -> ApiError {
        match self {
            Refusal::Record(e) => ApiError::InvalidRecord(e),
            Refusal::NoShop(m) => ApiError::NotFound(m),
            Refusal::NotPublishing(m) => ApiError::Forbidden(m),
        }
    }
}

fn customer_of(device: &Device) -> Result<&str, ApiError> {
    match (device.role, device.customer.as_deref()) {
        (Role::Customer, Some(c)) => Ok(c),
        _ => Err(ApiError::Forbidden(
            "only a customer's device syncs with /v1/customer/sync (tills use /v1/sync)".into(),
        )),
    }
}

/// Decodes and checks a whole request: ids, rights, every change.
fn check(device: &Device, req: CustomerSyncRequest) -> Result<Vec<Checked>, ApiError> {
    if req.protocol != wire::PROTOCOL_VERSION {
        return Err(ApiError::BadRequest(format!(
            "protocol version {} is not supported (this server speaks {})",
            req.protocol,
            wire::PROTOCOL_VERSION
        )));
    }
    if req.docs.len() > customer_wire::MAX_DOCS {
        return Err(ApiError::BadRequest(format!(
            "a request names at most {} documents",
            customer_wire::MAX_DOCS
        )));
    }
    let total: usize = req.docs.iter().map(|d| d.changes.len()).sum();
    if total > MAX_CHANGES {
        return Err(ApiError::BadRequest(format!(
            "a request carries at most {MAX_CHANGES} changes (send the rest next time)"
        )));
    }
    let me = device.principal();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(req.docs.len());
    let mut budget = UploadBudget::default();
    for doc in req.docs {
        let id = DocId::parse(&doc.doc_id).ok_or_else(|| {
            ApiError::BadRequest(format!("'{}' is not a document id", doc.doc_id))
        })?;
        if !seen.insert(doc.doc_id.clone()) {
            return Err(ApiError::BadRequest(format!("{id} is named twice")));
        }
        if !access::can_read(&me, &id) {
            return Err(ApiError::Forbidden(format!(
                "this device may not read {id}"
            )));
        }
        if !doc.changes.is_empty() && !access::can_write(&me, &id) {
            return Err(ApiError::Forbidden(format!(
                "this device may not write {id}"
            )));
        }
        let mut changes = Vec::with_capacity(doc.changes.len());
        let mut decoded = Vec::with_capacity(doc.changes.len());
        for (i, text) in doc.changes.iter().enumerate() {
            let bytes = customer_wire::decode_change(text)
                .map_err(|e| ApiError::BadRequest(format!("change {i} of {id}: {e}")))?;
            let change = budget.decode(&id, i, &bytes)?;
            changes.push(NewChange {
                hash: change.hash().0,
                deps: change.deps().iter().map(|d| d.0).collect(),
                inflated_len: change.raw_bytes().len() as u64,
                actor: change.actor_id().to_bytes().to_vec(),
                actor_seq: change.seq(),
                bytes,
            });
            decoded.push(change);
        }
        let refused = shopsync_core::validate::validate_changes(&id, &decoded)
            .err()
            .map(Refusal::Record);
        out.push(Checked {
            id,
            since: doc.since,
            changes,
            decoded,
            refused,
        });
    }
    Ok(out)
}

pub async fn sync<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    device: Device,
    headers: axum::http::HeaderMap,
    body: Result<Json<CustomerSyncRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let customer = customer_of(&device)?.to_string();
    // A device whose cursors and acknowledgements belong to another life of
    // the database (a restored server): nothing is stored or sent; the
    // answer's epoch tells it to start again from nothing.
    let epoch = st.storage.epoch();
    if let Some(theirs) = headers
        .get(crate::restore::EPOCH_HEADER)
        .and_then(|v| v.to_str().ok())
        && theirs != epoch
    {
        return Ok(with_epoch(
            Json(CustomerSyncResponse {
                protocol: wire::PROTOCOL_VERSION,
                docs: Vec::new(),
            })
            .into_response(),
            &epoch,
        ));
    }
    let Json(req) = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(customer_wire::MAX_REQUEST_BYTES)
        } else {
            ApiError::from(e)
        }
    })?;
    let refusals = req.refusals;
    let dev = device.clone();
    let mut docs = tokio::task::spawn_blocking(move || check(&dev, req))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    // Orders only go to a shop that exists and publishes, and are never
    // put again with other content; a refused order does not hold up the
    // customer's other documents. Changes the server already holds (a retry
    // after a lost answer, everything sent again after a restore) are
    // never refused: they are known, not new.
    for d in &mut docs {
        let DocId::OrderRequests { store, .. } = &d.id else {
            continue;
        };
        if d.changes.is_empty() {
            continue;
        }
        let stored = stored_changes(&st, &d.id).await?;
        let held: HashSet<[u8; 32]> = stored_hashes(&stored)?;
        let keep: Vec<bool> = d.changes.iter().map(|c| !held.contains(&c.hash)).collect();
        let mut it = keep.iter();
        d.changes.retain(|_| *it.next().unwrap_or(&true));
        let mut it = keep.iter();
        d.decoded.retain(|_| *it.next().unwrap_or(&true));
        if d.changes.is_empty() {
            d.refused = None;
            continue;
        }
        if d.refused.is_some() {
            continue;
        }
        d.refused = match st.storage.find_store(store.clone()).await? {
            None => Some(Refusal::NoShop(format!(
                "there is no shop {store} on this server"
            ))),
            Some(row) if !st.storage.shop_published(row.pk).await? => {
                Some(Refusal::NotPublishing(format!(
                    "shop {store} does not take orders from customers (it does not publish its catalog)"
                )))
            }
            Some(_) => no_rewritten_orders(&d.id, stored, &d.decoded)
                .await?
                .map(Refusal::Record),
        };
    }
    if !refusals && let Some(r) = docs.iter_mut().find_map(|d| d.refused.take()) {
        return Err(r.into_error());
    }

    // Where each uploaded document lives: the customer's own document in the
    // customers' scope, order requests in their store's.
    let scope = st.storage.customers_scope().await?;
    let mut batches: BTreeMap<i64, (String, Vec<DocBatch>)> = BTreeMap::new();
    let mut uploaded: HashSet<[u8; 32]> = HashSet::new();
    let mut bytes = 0u64;
    for d in &docs {
        if d.changes.is_empty() || d.refused.is_some() {
            continue;
        }
        let (pk, store_id) = match &d.id {
            DocId::OrderRequests { store, .. } => {
                let row = st.storage.find_store(store.clone()).await?.ok_or_else(|| {
                    ApiError::NotFound(format!("there is no shop {store} on this server"))
                })?;
                (row.pk, row.store_id)
            }
            _ => (scope.pk, scope.store_id.clone()),
        };
        uploaded.extend(d.changes.iter().map(|c| c.hash));
        bytes += d.changes.iter().map(|c| c.bytes.len() as u64).sum::<u64>();
        let entry = batches.entry(pk).or_insert_with(|| (store_id, Vec::new()));
        entry.1.push(DocBatch {
            doc_id: d.id.to_string(),
            changes: d.changes.clone(),
        });
    }
    if bytes > 0 {
        let g = &st.options.guard;
        let day = chrono::Utc::now().timestamp().div_euclid(86_400);
        // One quota for all of a customer's devices.
        st.daily_bytes
            .charge(&format!("customer:{customer}"), day, bytes, g.bytes_per_day)
            .map_err(|used| {
                ApiError::Quota(format!(
                    "this account has uploaded {used} bytes today (UTC); {bytes} more would pass the quota of {} bytes a day",
                    g.bytes_per_day
                ))
            })?;
    }
    for (pk, (store_id, batch)) in batches {
        let doc_ids: Vec<String> = batch.iter().map(|b| b.doc_id.clone()).collect();
        st.metrics
            .changes_received
            .fetch_add(batch.iter().map(|b| b.changes.len() as u64).sum(), Relaxed);
        // Events (with --nats): the store queues a reference to each new
        // order change, and the publisher derives its events.
        let stored = match &st.events {
            Some(status) => {
                let stored = st.storage.store_changes_with_events(pk, batch).await?;
                if stored.new_changes > 0 {
                    status.wake.notify_one();
                }
                stored
            }
            None => st.storage.store_changes(pk, batch).await?,
        };
        st.metrics
            .changes_stored
            .fetch_add(stored.new_changes, Relaxed);
        if stored.new_changes > 0 {
            let _ = st
                .notices
                .send(crate::Notice::stored(pk, stored.head, doc_ids.clone()));
            // A cancelled order gives its reservation back.
            st.deriver.mark(pk, &store_id, &doc_ids);
        }
    }

    let mut answers = Vec::with_capacity(docs.len());
    let mut left = customer_wire::ANSWER_BYTES as u64;
    for d in docs {
        if let Some(why) = d.refused {
            let why = why.message();
            tracing::debug!(customer = %customer, doc = %d.id, "refused: {why}");
            answers.push(DocAnswer {
                doc_id: d.id.to_string(),
                cursor: d.since,
                refused: Some(why),
                ..DocAnswer::default()
            });
            continue;
        }
        if left == 0 {
            answers.push(DocAnswer {
                doc_id: d.id.to_string(),
                cursor: d.since,
                changes: Vec::new(),
                more: true,
                refused: None,
            });
            continue;
        }
        // Only this document's own uploads are left out of its answer.
        let exclude: HashSet<[u8; 32]> = d
            .changes
            .iter()
            .map(|c| c.hash)
            .filter(|h| uploaded.contains(h))
            .collect();
        let page = st
            .storage
            .document_changes_since(d.id.to_string(), d.since, exclude, left)
            .await?;
        left = left.saturating_sub(page.bytes.max(1));
        st.metrics
            .changes_sent
            .fetch_add(page.changes.len() as u64, Relaxed);
        answers.push(DocAnswer {
            doc_id: d.id.to_string(),
            cursor: page.cursor,
            changes: page
                .changes
                .iter()
                .map(|c| customer_wire::encode_change(c))
                .collect(),
            more: page.more,
            refused: None,
        });
    }
    tracing::debug!(customer = %customer, docs = answers.len(), "customer sync");
    st.metrics.sync_requests.fetch_add(1, Relaxed);
    let response = Json(CustomerSyncResponse {
        protocol: wire::PROTOCOL_VERSION,
        docs: answers,
    })
    .into_response();
    Ok(with_epoch(response, &epoch))
}

fn with_epoch(mut response: Response, epoch: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(epoch) {
        response
            .headers_mut()
            .insert(crate::restore::EPOCH_HEADER, v);
    }
    response
}

/// Every stored change of one document, oldest first.
async fn stored_changes<S: Storage>(
    st: &AppState<S>,
    id: &DocId,
) -> Result<Vec<Vec<u8>>, ApiError> {
    let mut stored = Vec::new();
    let mut since = 0;
    loop {
        let page = st
            .storage
            .document_changes_since(id.to_string(), since, HashSet::new(), 16 * 1024 * 1024)
            .await?;
        stored.extend(page.changes);
        since = page.cursor;
        if !page.more {
            break;
        }
    }
    Ok(stored)
}

fn decode_stored(stored: &[Vec<u8>]) -> Result<Vec<automerge::Change>, ApiError> {
    stored
        .iter()
        .map(|bytes| {
            change_bytes::decode_change_bounded(bytes, change_bytes::MAX_INFLATED_CHANGE_BYTES)
                .map_err(|e| ApiError::Internal(format!("a stored change does not decode: {e}")))
        })
        .collect()
}

fn stored_hashes(stored: &[Vec<u8>]) -> Result<HashSet<[u8; 32]>, ApiError> {
    Ok(decode_stored(stored)?.iter().map(|c| c.hash().0).collect())
}

/// Why a new put of an order already stored with other content is
/// refused, if one is.
async fn no_rewritten_orders(
    id: &DocId,
    stored: Vec<Vec<u8>>,
    new: &[automerge::Change],
) -> Result<Option<shopsync_core::validate::RecordError>, ApiError> {
    let new = new.to_vec();
    let doc = id.clone();
    tokio::task::spawn_blocking(move || {
        let decoded = decode_stored(&stored)?;
        Ok(
            shopsync_core::orders::validate::no_rewritten_orders(&decoded, &new)
                .err()
                .map(|v| shopsync_core::validate::RecordError::new(&doc, v)),
        )
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

#[derive(Debug, serde::Deserialize)]
pub struct ShopsQuery {
    #[serde(default)]
    search: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

/// `GET /v1/shops?search=Q`: shops that publish, by name (any device).
pub async fn shops<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    _device: Device,
    query: Result<Query<ShopsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ShopsResponse>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if q.search.as_ref().is_some_and(|s| s.len() > 100) {
        return Err(ApiError::BadRequest(
            "search is at most 100 characters".into(),
        ));
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let rows = st.storage.published_shops(q.search, limit).await?;
    Ok(Json(ShopsResponse {
        shops: rows
            .into_iter()
            .map(|r| ShopListing {
                store_id: r.store_id,
                name: r.name,
            })
            .collect(),
    }))
}

#[derive(Debug, serde::Deserialize)]
pub struct EventsQuery {
    /// Store ids whose public catalogs the device follows, comma-separated.
    #[serde(default)]
    watch: Option<String>,
}

/// `GET /v1/customer/events?watch=S1,S2`: a customer device's notices
/// (`changed` with the changed document ids, `heartbeat`, `revoked`).
pub async fn events<S: Storage>(
    State(st): State<Arc<AppState<S>>>,
    device: Device,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let customer = customer_of(&device)?.to_string();
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let watch: HashSet<String> = q
        .watch
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if watch.len() > customer_wire::MAX_DOCS {
        return Err(ApiError::BadRequest(format!(
            "watch names at most {} shops",
            customer_wire::MAX_DOCS
        )));
    }
    if let Some(bad) = watch
        .iter()
        .find(|s| DocId::parse(&format!("store/{s}/public")).is_none())
    {
        return Err(ApiError::BadRequest(format!("'{bad}' is not a store id")));
    }
    crate::notices::stream(
        st,
        device.device_id,
        crate::notices::Filter::Customer { customer, watch },
    )
}
