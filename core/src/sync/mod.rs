//! Syncing a till with a ShopSync sync server (protocol: docs/PROTOCOL.md).
//!
//! The store side (this module) reads the outbox — every change the server has
//! not acknowledged — and applies a server's response in one transaction. The
//! HTTP client and the background worker (`client`, feature `sync`) do the
//! network I/O outside any SQLite transaction, so a sale never waits on it.

#[cfg(feature = "sync")]
pub mod client;
pub mod clock_check;
#[cfg(feature = "sync")]
pub mod customer_account;
pub mod customer_api;
#[cfg(feature = "sync")]
pub mod customer_client;
pub mod customer_wire;
pub mod epoch;
pub mod held;
pub mod snapshot;
pub mod transport;
pub mod wire;

use std::collections::HashMap;

use chrono::Utc;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::access::{self, Principal, Role};
use crate::bundle::apply_document;
use crate::docs::decode_change;
use crate::error::{CoreError, Result};
use crate::ids::DocId;
use crate::quarantine::Projecting;
use crate::store::Store;
use wire::{DocChanges, SyncResponse, limits};

/// `POST /v1/enrol` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub protocol: u16,
    pub code: String,
    pub till_id: String,
    pub till_name: String,
    /// The till's store, if it has one already (it uploads its history).
    #[serde(default)]
    pub store_id: Option<String>,
}

/// `POST /v1/enrol` answer. The token is shown once and never again.
#[derive(Clone, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub device_id: String,
    pub token: String,
    pub store_id: String,
    pub store_name: String,
    pub role: Role,
    pub till_id: String,
}

impl std::fmt::Debug for EnrolResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolResponse")
            .field("device_id", &self.device_id)
            .field("token", &"<redacted>")
            .field("store_id", &self.store_id)
            .field("role", &self.role)
            .finish()
    }
}

/// The till's connection to a server, kept in `meta`.
#[derive(Clone)]
pub struct SyncConfig {
    pub server: String,
    pub device_id: String,
    pub token: String,
    pub role: Role,
}

impl std::fmt::Debug for SyncConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncConfig")
            .field("server", &self.server)
            .field("device_id", &self.device_id)
            .field("token", &"<redacted>")
            .field("role", &self.role)
            .finish()
    }
}

/// What `shopsync sync status` and the app's indicator show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub enrolled: bool,
    pub server: Option<String>,
    pub device_id: Option<String>,
    pub role: Option<Role>,
    /// The last attempt reached the server (None: never tried).
    pub online: Option<bool>,
    /// Milliseconds since the epoch.
    pub last_success: Option<i64>,
    pub last_attempt: Option<i64>,
    pub last_error: Option<String>,
    /// Local changes the server has not acknowledged yet.
    pub changes_waiting: u64,
    /// The highest server sequence number received.
    pub cursor: u64,
    // -- clocks (issue 7, part 2) --
    /// Tills whose records arrived dated too far ahead of this till's clock.
    #[serde(default)]
    pub clock_flags: Vec<crate::clock::ClockFlag>,
    // -- quarantine (issue 7, part 3) --
    /// Records received that are kept but left out of the projections.
    #[serde(default)]
    pub quarantined: u64,
    /// The first few of them.
    #[serde(default)]
    pub quarantine: Vec<shopsync_types::QuarantinedRecord>,
    // -- forked actors arriving at a till --
    /// Received changes this till refused to store (a forked actor from an
    /// older version); see docs/OPERATIONS.md.
    #[serde(default)]
    pub refused_changes: u64,
    // -- found by the shop simulator --
    /// Other devices' changes held here that the server does not have.
    #[serde(default)]
    pub held_for_others: Vec<held::HeldChanges>,
}

impl SyncStatus {
    /// What the app's sync indicator shows (`syncing`: an attempt is running).
    pub fn view(&self, syncing: bool) -> shopsync_types::ipc::SyncStatusView {
        use shopsync_types::ipc::{SyncState, SyncStatusView};
        let state = if syncing {
            SyncState::Syncing
        } else {
            match (self.online, &self.last_error) {
                (Some(true), _) => SyncState::Online,
                (Some(false), Some(e)) if !e.starts_with(NETWORK_PREFIX) => SyncState::Error,
                _ => SyncState::Offline,
            }
        };
        SyncStatusView {
            state,
            pending_changes: self.changes_waiting,
            last_sync: self
                .last_success
                .and_then(chrono::DateTime::<Utc>::from_timestamp_millis),
            message: self.last_error.clone(),
            clock_warnings: self
                .clock_flags
                .iter()
                .map(|f| f.message())
                .chain(self.held_for_others.iter().map(held::HeldChanges::message))
                .collect(),
            quarantined: self.quarantined + self.refused_changes,
            quarantine: self.quarantine.clone(),
            catalog_read_only: self.role == Some(Role::Till),
        }
    }
}

/// Received changes applied per local transaction: short, so a sale on
/// another connection never waits long for the write lock.
pub(crate) const APPLY_CHUNK: usize = 2_000;
/// ... while a new till downloads its store at enrolment (no counter is
/// selling from its file yet): fewer, larger transactions write each index
/// page to the WAL fewer times (part of the 1M-sale bootstrap's gain in
/// docs/PERFORMANCE.md, "A new till: 1M sales"; not measured alone).
pub(crate) const ENROL_APPLY_CHUNK: usize = 20_000;
/// A chunk also ends at this many bytes of changes: an optimistic attempt
/// that fails is applied again from a copy of its chunk (see
/// `quarantine::Projecting`), so the copy stays small whatever a page holds.
const APPLY_CHUNK_BYTES: usize = 16 * 1024 * 1024;

pub(crate) const NETWORK_PREFIX: &str = "cannot reach the server";

const KEY_SERVER: &str = "sync.server";
const KEY_DEVICE: &str = "sync.device_id";
const KEY_TOKEN: &str = "sync.token";
const KEY_ROLE: &str = "sync.role";
const KEY_CURSOR: &str = "sync.cursor";
const KEY_LAST_SUCCESS: &str = "sync.last_success";
const KEY_LAST_ATTEMPT: &str = "sync.last_attempt";
const KEY_LAST_ERROR: &str = "sync.last_error";

/// One page of the outbox, ready to send.
#[derive(Debug, Default)]
pub struct Outbox {
    pub docs: Vec<DocChanges>,
    pub changes: usize,
    pub bytes: usize,
    /// The operations its changes hold (the server takes at most
    /// `limits::MAX_REQUEST_OPS` in one request).
    pub ops: usize,
    /// More unacknowledged changes wait behind this page.
    pub more: bool,
}

/// What applying one response did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub acked: u64,
    pub new_changes: u64,
    pub known_changes: u64,
}

impl Store {
    fn meta_get(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([key, value])?;
        Ok(())
    }

    fn meta_del(&self, key: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM meta WHERE key = ?1")?
            .execute([key])?;
        Ok(())
    }

    /// The server this till syncs with, if it is enrolled.
    pub fn sync_config(&self) -> Result<Option<SyncConfig>> {
        let (Some(server), Some(device_id), Some(token), Some(role)) = (
            self.meta_get(KEY_SERVER)?,
            self.meta_get(KEY_DEVICE)?,
            self.meta_get(KEY_TOKEN)?,
            self.meta_get(KEY_ROLE)?,
        ) else {
            return Ok(None);
        };
        let role = Role::parse(&role)
            .ok_or_else(|| CoreError::Corrupt(format!("unknown sync role '{role}' in meta")))?;
        Ok(Some(SyncConfig {
            server,
            device_id,
            token,
            role,
        }))
    }

    /// Records an enrolment: from now on this till syncs with `server`.
    pub fn set_sync_config(&mut self, cfg: &SyncConfig) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        self.meta_set(KEY_SERVER, &cfg.server)?;
        self.meta_set(KEY_DEVICE, &cfg.device_id)?;
        self.meta_set(KEY_TOKEN, &cfg.token)?;
        self.meta_set(KEY_ROLE, cfg.role.as_str())?;
        self.meta_set(KEY_CURSOR, "0")?;
        for k in [KEY_LAST_SUCCESS, KEY_LAST_ATTEMPT, KEY_LAST_ERROR] {
            self.meta_del(k)?;
        }
        self.meta_del(epoch::KEY_EPOCH)?; // restore: a new server, a new epoch
        tx.commit()?;
        Ok(())
    }

    /// Forgets the sync server (after a server restore that no longer knows
    /// this device): the till keeps every document and sale, marks every
    /// change as not yet sent, and can `enrol` again with a new code made for
    /// its till id. Returns the server it was enrolled with.
    pub fn forget_sync_server(&mut self) -> Result<Option<String>> {
        let before = self.sync_config()?.map(|c| c.server);
        let tx = self.conn.unchecked_transaction()?;
        // The role stays: a till-role device must not gain catalog edits
        // (which would never sync) by forgetting its server.
        self.conn.execute(
            "DELETE FROM meta WHERE key LIKE 'sync.%' AND key NOT IN ('sync.role', 'sync.allow_insecure_http')",
            [],
        )?;
        self.conn.execute("UPDATE doc_changes SET acked = 0", [])?;
        tx.commit()?;
        Ok(before)
    }

    /// The highest server sequence number this till has fully received.
    pub fn sync_cursor(&self) -> Result<u64> {
        Ok(self
            .meta_get(KEY_CURSOR)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    fn principal_parts(&self) -> Result<(Role, String, String)> {
        let role = self.sync_config()?.map(|c| c.role).unwrap_or(Role::Manager);
        Ok((role, self.info.store_id.clone(), self.info.till_id.clone()))
    }

    /// Unacknowledged changes of documents this till may write, oldest
    /// first, up to `max_bytes` and `limits::MAX_REQUEST_OPS` operations (at
    /// least one change). Changes of documents it
    /// may not write (another till's ledger copied from a bundle) stay for
    /// their owner to send.
    pub fn sync_outbox(&self, max_bytes: usize) -> Result<Outbox> {
        let (role, store, till) = self.principal_parts()?;
        let me = Principal {
            role,
            store: &store,
            till: &till,
            customer: None,
        };
        let mut out = Outbox::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut writable: HashMap<String, bool> = HashMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT doc_id, bytes FROM doc_changes WHERE acked = 0 ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let doc_id: String = row.get(0)?;
            let ok = *writable.entry(doc_id.clone()).or_insert_with(|| {
                DocId::parse(&doc_id).is_some_and(|d| access::can_write(&me, &d))
            });
            if !ok {
                continue;
            }
            let bytes: Vec<u8> = row.get(1)?;
            let ops = outbox_ops(&bytes);
            let over =
                out.bytes + bytes.len() > max_bytes || out.ops + ops > limits::MAX_REQUEST_OPS;
            if out.changes > 0 && over {
                out.more = true;
                break;
            }
            out.bytes += bytes.len();
            out.ops += ops;
            out.changes += 1;
            let i = *index.entry(doc_id.clone()).or_insert_with(|| {
                out.docs.push(DocChanges {
                    doc_id,
                    changes: Vec::new(),
                });
                out.docs.len() - 1
            });
            out.docs[i].changes.push(bytes);
        }
        Ok(out)
    }

    /// Changes waiting for the server (documents this till may write).
    pub fn sync_waiting(&self) -> Result<u64> {
        let (role, store, till) = self.principal_parts()?;
        let me = Principal {
            role,
            store: &store,
            till: &till,
            customer: None,
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id, COUNT(*) FROM doc_changes WHERE acked = 0 GROUP BY doc_id",
        )?;
        let mut rows = stmt.query([])?;
        let mut n = 0u64;
        while let Some(row) = rows.next()? {
            let doc_id: String = row.get(0)?;
            if DocId::parse(&doc_id).is_some_and(|d| access::can_write(&me, &d)) {
                n += row.get::<_, i64>(1)?.max(0) as u64;
            }
        }
        Ok(n)
    }

    /// Applies a server's answer in one transaction: the changes it sent
    /// (stored, projected, marked acknowledged), the acknowledgements of what
    /// this till sent, and the new cursor. All of it, or nothing.
    pub fn apply_sync_response(&mut self, sent: &Outbox, resp: SyncResponse) -> Result<Applied> {
        let store_id = self.info.store_id.clone();
        // Which document each sent hash belongs to.
        let mut sent_docs: HashMap<[u8; 32], &str> = HashMap::new();
        for d in &sent.docs {
            for c in &d.changes {
                if let Ok(ch) = decode_change(c) {
                    sent_docs.insert(ch.hash().0, d.doc_id.as_str());
                }
            }
        }
        let mut decoded = Vec::with_capacity(resp.docs.len());
        // A page's changes together may inflate to no more than a request's
        // (the server's pages stay well under it): a hostile server or proxy
        // cannot make the till decode gigabytes.
        let mut inflate_budget = limits::MAX_REQUEST_INFLATED_BYTES;
        for d in resp.docs {
            let id = DocId::parse(&d.doc_id).ok_or_else(|| {
                CoreError::Corrupt(format!("the server sent a bad document id '{}'", d.doc_id))
            })?;
            if id.store() != Some(store_id.as_str()) {
                return Err(CoreError::Corrupt(format!(
                    "the server sent document {id}, which is not of this store"
                )));
            }
            let mut changes = Vec::with_capacity(d.changes.len());
            for c in &d.changes {
                let limit = crate::change_bytes::MAX_INFLATED_CHANGE_BYTES.min(inflate_budget);
                let change = crate::change_bytes::decode_change_bounded(c, limit).map_err(|e| {
                    CoreError::Corrupt(format!(
                        "the server's answer does not decode: {e} (a page's changes may inflate to {} bytes together)",
                        limits::MAX_REQUEST_INFLATED_BYTES
                    ))
                })?;
                inflate_budget = inflate_budget.saturating_sub(change.raw_bytes().len());
                changes.push(change);
            }
            decoded.push((id, changes));
        }
        let cursor = resp.cursor;
        let acked_hashes = resp.acked;
        // Applied in transactions of at most `apply_chunk` changes, so a sale on
        // another connection never waits long for the write lock; the cursor
        // moves in the last one. A failure part-way leaves the cursor where it
        // was: the next sync receives the page again and skips what is stored.
        let mut chunks: Vec<Vec<(DocId, Vec<automerge::Change>)>> = vec![Vec::new()];
        let (mut in_chunk, mut chunk_bytes) = (0usize, 0usize);
        for (id, changes) in decoded {
            for change in changes {
                let size = change.raw_bytes().len();
                if in_chunk > 0
                    && (in_chunk >= self.apply_chunk || chunk_bytes + size > APPLY_CHUNK_BYTES)
                {
                    chunks.push(Vec::new());
                    (in_chunk, chunk_bytes) = (0, 0);
                }
                in_chunk += 1;
                chunk_bytes += size;
                let Some(chunk) = chunks.last_mut() else {
                    continue;
                };
                match chunk.last_mut() {
                    Some((last, list)) if *last == id => list.push(change),
                    _ => chunk.push((id.clone(), vec![change])),
                }
            }
        }
        let mut catalog_changed = false;
        let mut applied = Applied::default();
        let last = chunks.len() - 1;
        for (n, chunk) in chunks.into_iter().enumerate() {
            let mut apply = |w: &mut crate::store::Writer<'_>, projecting: Projecting| {
                let mut a = Applied::default();
                let max_before: i64 =
                    w.conn
                        .query_row("SELECT COALESCE(MAX(seq), 0) FROM doc_changes", [], |r| {
                            r.get(0)
                        })?;
                let mut mark = w.conn.prepare_cached(
                    "UPDATE doc_changes SET acked = 1 WHERE doc_id = ?1 AND hash = ?2",
                )?;
                if n == 0 {
                    for h in &acked_hashes {
                        if let Some(doc) = sent_docs.get(h) {
                            a.acked += mark.execute(params![doc, h.as_slice()])? as u64;
                        }
                    }
                }
                for (id, changes) in &chunk {
                    let hashes: Vec<[u8; 32]> = changes.iter().map(|c| c.hash().0).collect();
                    if matches!(id, DocId::Catalog { .. }) {
                        catalog_changed = true;
                    }
                    let (new, known) =
                        apply_document(w.conn, w.docs, id, changes.clone(), w.now, projecting)?;
                    a.new_changes += new;
                    a.known_changes += known;
                    if known > 0 {
                        // Copies we already held unacknowledged (from a bundle).
                        let key = id.to_string();
                        for h in &hashes {
                            mark.execute(params![key, h.as_slice()])?;
                        }
                    }
                }
                w.conn.execute(
                    "UPDATE doc_changes SET acked = 1 WHERE acked = 0 AND seq > ?1",
                    [max_before],
                )?;
                if n == last {
                    w.conn.execute(
                        "INSERT INTO meta (key, value) VALUES (?1, ?2)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        params![KEY_CURSOR, cursor.to_string()],
                    )?;
                }
                Ok(a)
            };
            // Optimistic first; a record that does not project sends the
            // chunk back to be applied record by record (and quarantined).
            let a = match self.write(|w| apply(w, Projecting::Optimistic)) {
                Err(CoreError::ProjectCarefully) => {
                    self.write(|w| apply(w, Projecting::Careful))?
                }
                other => other?,
            };
            applied.acked += a.acked;
            applied.new_changes += a.new_changes;
            applied.known_changes += a.known_changes;
        }
        let keep = DocId::catalog(&store_id);
        self.docs.retain(&[&keep]);
        if catalog_changed {
            self.reload_info()?;
        }
        Ok(applied)
    }

    /// Records the outcome of a sync attempt for `sync status`.
    pub fn record_sync_attempt(&self, error: Option<&str>) -> Result<()> {
        let now = Utc::now().timestamp_millis().to_string();
        self.meta_set(KEY_LAST_ATTEMPT, &now)?;
        match error {
            None => {
                self.meta_set(KEY_LAST_SUCCESS, &now)?;
                self.meta_del(KEY_LAST_ERROR)?;
            }
            Some(e) => self.meta_set(KEY_LAST_ERROR, e)?,
        }
        Ok(())
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        let cfg = self.sync_config()?;
        let num =
            |k: &str| -> Result<Option<i64>> { Ok(self.meta_get(k)?.and_then(|v| v.parse().ok())) };
        let last_success = num(KEY_LAST_SUCCESS)?;
        let last_attempt = num(KEY_LAST_ATTEMPT)?;
        let last_error = self.meta_get(KEY_LAST_ERROR)?;
        let online = last_attempt.map(|_| last_error.is_none());
        Ok(SyncStatus {
            enrolled: cfg.is_some(),
            server: cfg.as_ref().map(|c| c.server.clone()),
            device_id: cfg.as_ref().map(|c| c.device_id.clone()),
            role: cfg.as_ref().map(|c| c.role),
            online,
            last_success,
            last_attempt,
            last_error,
            changes_waiting: self.sync_waiting()?,
            cursor: self.sync_cursor()?,
            clock_flags: self.clock_flags()?,
            quarantined: crate::quarantine::count(&self.conn)?,
            quarantine: crate::quarantine::list(&self.conn, crate::quarantine::SHOWN)?,
            refused_changes: crate::docs::refused_changes(&self.conn)?,
            held_for_others: if cfg.is_some() {
                self.held_for_others()?
            } else {
                Vec::new()
            },
        })
    }

    /// The page size the client uses (exposed for tools and tests).
    pub fn sync_batch_bytes() -> usize {
        limits::CLIENT_BATCH_BYTES
    }
}

/// The operations a change of the outbox holds, counted from its bytes
/// (the server's per-request budget). One that does not count (it will be
/// refused anyway) counts as the most a change may hold.
fn outbox_ops(bytes: &[u8]) -> usize {
    crate::change_bytes::count_change_ops(
        bytes,
        crate::change_bytes::MAX_INFLATED_CHANGE_BYTES,
        crate::change_bytes::MAX_OPS_PER_CHANGE,
    )
    .unwrap_or(crate::change_bytes::MAX_OPS_PER_CHANGE)
}
