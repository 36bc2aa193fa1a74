//! Automerge documents backed by the SQLite change log.
//!
//! A document in memory is its last snapshot plus every change stored after
//! it. Only documents that are written are loaded (the catalog for catalog
//! edits, this till's current ledger partition for sales); other partitions are
//! read from the change log when syncing or rebuilding. Before each use a
//! loaded document catches up with changes another process may have committed
//! to the same file, so two processes on one store never fork a document.

use std::collections::{HashMap, HashSet};

use automerge::{ActorId, AutoCommit, Change, ChangeHash, transaction::CommitOptions};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{CoreError, Result};
use crate::ids::DocId;
use crate::ledger_tip::Tip;

/// Write a snapshot once a loaded document has this many changes on top of
/// its last one, so start-up never replays a long history.
pub const SNAPSHOT_EVERY: u64 = 1_000;

/// Local changes up to this size are stored as Automerge encodes them,
/// bigger ones deflated (see `DocCache::commit_local`).
pub const STORE_RAW_UP_TO: usize = 64 * 1024;

pub struct LoadedDoc {
    pub doc: AutoCommit,
    /// Highest `doc_changes.seq` of this document applied to `doc`.
    pub upto_seq: i64,
    pub since_snapshot: u64,
    /// A ledger partition appended to without `doc` (see
    /// `crate::ledger_tip`): the change log holds changes of this document
    /// past `upto_seq` that `doc` lacks until [`DocCache::get`] catches up.
    pub(crate) tip: Option<Tip>,
    /// The actor (and its last seq) of this document's dropped tip: the
    /// next tip goes on as it. Forgotten with the entry (a rollback drops
    /// it), so a rolled-back seq is never reused by a stored change.
    writer: Option<(ActorId, u64)>,
    /// `PRAGMA data_version` when `doc` last caught up with the change log:
    /// while it is unchanged no other connection has committed, and every
    /// change this connection stores goes through the cache, so there is
    /// nothing to catch up with.
    caught_up_at: Option<i64>,
}

pub struct DocCache {
    actor: ActorId,
    docs: HashMap<String, LoadedDoc>,
    /// Changes on top of a snapshot that make the next one due
    /// ([`SNAPSHOT_EVERY`]; lower in tests that want many snapshots).
    snapshot_every: u64,
    /// Documents changed in memory by the open transaction: dropped if it rolls back.
    dirty: HashSet<String>,
    /// The ledger partition this till last appended to, by the month's first
    /// partition id: while it stays loaded, the next append need not look
    /// the month's parts up.
    pub(crate) ledger_part: Option<(String, DocId)>,
}

impl DocCache {
    pub fn new(actor: ActorId) -> Self {
        DocCache {
            actor,
            docs: HashMap::new(),
            snapshot_every: SNAPSHOT_EVERY,
            dirty: HashSet::new(),
            ledger_part: None,
        }
    }

    pub fn set_snapshot_every(&mut self, changes: u64) {
        self.snapshot_every = changes.max(1);
    }

    /// The document, loaded and caught up with the database.
    pub fn get(&mut self, conn: &Connection, doc_id: &DocId) -> Result<&mut LoadedDoc> {
        let key = doc_id.to_string();
        // Read before loading: a commit by another connection after this
        // point changes it, and the next `get` catches up again.
        let version = data_version(conn)?;
        if !self.docs.contains_key(&key) {
            let mut loaded = load(conn, &key, Some(&self.actor))?;
            loaded.caught_up_at = Some(version);
            self.docs.insert(key.clone(), loaded);
        }
        let entry = self
            .docs
            .get_mut(&key)
            .ok_or_else(|| CoreError::Corrupt(format!("document {key} vanished from cache")))?;
        if entry.tip.is_some() || entry.caught_up_at != Some(version) {
            bring_up_to_date(conn, &key, entry)?;
            entry.caught_up_at = Some(version);
        }
        Ok(entry)
    }

    /// Appends one ledger record, already checked with
    /// [`crate::validate::check_record`], to `doc_id` inside the caller's
    /// transaction: the put of its encoding under its id, made from the
    /// partition's tip without touching the loaded document
    /// (`crate::ledger_tip`). A key already taken is refused.
    pub(crate) fn append_record(
        &mut self,
        conn: &Connection,
        doc_id: &DocId,
        time_ms: i64,
        record_id: &str,
        encoded: Vec<u8>,
    ) -> Result<ChangeHash> {
        let key = doc_id.to_string();
        let entry = self.tip(conn, doc_id)?;
        let Some(tip) = entry.tip.as_mut() else {
            return Err(CoreError::Corrupt(format!("no tip for {key}")));
        };
        // Never a put over a record (the server refuses a rewrite).
        if tip.has(record_id) {
            return Err(CoreError::Conflict(format!(
                "record {record_id} is already in the ledger"
            )));
        }
        let mut change = tip.change(record_id, encoded, time_ms.div_euclid(1000))?;
        let hash = change.hash();
        // Stored uncompressed up to STORE_RAW_UP_TO, as in commit_local.
        let bytes = stored_form(&mut change).into_owned();
        check_local_size(&bytes)?;
        if tip.last_seq <= 0 {
            ensure_document(conn, doc_id)?;
        }
        let seq = insert_change(conn, &key, &hash, &bytes, true)?;
        tip.advance(record_id, &change, seq);
        entry.since_snapshot += 1;
        // Rolled back, the transaction takes the tip with it.
        self.dirty.insert(key);
        Ok(hash)
    }

    /// Records (root keys) in a ledger partition.
    pub(crate) fn records(&mut self, conn: &Connection, doc_id: &DocId) -> Result<u64> {
        let entry = self.tip(conn, doc_id)?;
        Ok(entry.tip.as_ref().map_or(0, Tip::records))
    }

    /// The document with a tip current with the change log: the one it
    /// has while no other connection wrote to this document, else a new one
    /// from the document brought up to date.
    fn tip(&mut self, conn: &Connection, doc_id: &DocId) -> Result<&mut LoadedDoc> {
        let key = doc_id.to_string();
        let version = data_version(conn)?;
        let current = match self.docs.get(&key).and_then(|e| e.tip.as_ref()) {
            Some(tip) if tip.version == version => true,
            // Another connection committed (the snapshot worker, another
            // process): the tip stands unless it wrote to this document.
            Some(tip) => last_change_seq(conn, &key)? == tip.last_seq,
            None => false,
        };
        if current {
            let entry = self
                .docs
                .get_mut(&key)
                .ok_or_else(|| CoreError::Corrupt(format!("document {key} vanished from cache")))?;
            if let Some(tip) = entry.tip.as_mut() {
                tip.version = version;
            }
            return Ok(entry);
        }
        let entry = self.get(conn, doc_id)?;
        let (actor, seq) = entry
            .writer
            .take()
            .unwrap_or_else(|| (crate::ids::new_actor(), 0));
        let tip = Tip::of(&mut entry.doc, entry.upto_seq, version, actor, seq)?;
        entry.tip = Some(tip);
        Ok(entry)
    }

    /// Makes one local change to a document and appends it to the change log
    /// inside the caller's transaction. `Ok(None)` if `edit` changed nothing.
    /// (A ledger record goes through [`Self::append_record`].)
    pub fn commit_local(
        &mut self,
        conn: &Connection,
        doc_id: &DocId,
        time_ms: i64,
        edit: impl FnOnce(&mut AutoCommit) -> Result<()>,
    ) -> Result<Option<ChangeHash>> {
        let key = doc_id.to_string();
        // A loaded document with changes has its `documents` row (every
        // stored change refers to it).
        if self.docs.get(&key).is_none_or(|e| e.upto_seq <= 0) {
            ensure_document(conn, doc_id)?;
        }
        self.dirty.insert(key);
        let entry = self.get(conn, doc_id)?;
        if let Err(e) = edit(&mut entry.doc) {
            entry.doc.rollback();
            return Err(e);
        }
        let options = CommitOptions::default().with_time(time_ms.div_euclid(1000));
        let Some(hash) = entry.doc.commit_with(options) else {
            return Ok(None);
        };
        let mut change = entry
            .doc
            .get_last_local_change()
            .ok_or_else(|| CoreError::Corrupt("committed change is missing".into()))?;
        // The server's rules, here: a change it would refuse must never
        // reach the outbox, where it would stop this till's sync for good.
        // (The caller's transaction rolls back and drops the document.)
        if let Err(e) = crate::validate::validate_changes(doc_id, std::slice::from_ref(&change)) {
            return Err(CoreError::invalid(
                "record",
                format!("{} ({}): {}", e.record, e.rule.as_str(), e.detail),
            ));
        }
        // Stored uncompressed up to STORE_RAW_UP_TO: Automerge deflates a
        // change of more than 256 bytes with a new compressor each time
        // (~30 µs for a 3-line sale, more than the rest of the Automerge
        // work), and the sync bodies that carry it are gzipped anyway. Both
        // forms decode alike and have one hash. A bigger change (a
        // thousand-line sale, a catalog import chunk) is deflated: raw, it
        // could pass the size a server takes in one change.
        let bytes = stored_form(&mut change).into_owned();
        check_local_size(&bytes)?;
        let seq = insert_change(conn, &doc_id.to_string(), &hash, &bytes, true)?;
        entry.upto_seq = seq;
        entry.since_snapshot += 1;
        Ok(Some(hash))
    }

    /// Stores changes received from elsewhere (a bundle, a server). Changes
    /// already known are skipped, so replays are harmless; a change whose
    /// dependencies are neither stored nor in the batch rejects the batch.
    ///
    /// Returns the new changes. With `materialize`, the document is loaded and
    /// the changes applied to it, and the heads before are returned so the
    /// caller can diff.
    pub fn apply_remote(
        &mut self,
        conn: &Connection,
        doc_id: &DocId,
        changes: Vec<Change>,
        materialize: bool,
    ) -> Result<RemoteApplied> {
        let key = doc_id.to_string();
        ensure_document(conn, doc_id)?;
        let mut exists =
            conn.prepare_cached("SELECT 1 FROM doc_changes WHERE doc_id = ?1 AND hash = ?2")?;
        let mut new: Vec<Change> = Vec::new();
        let mut seen: HashSet<ChangeHash> = HashSet::new();
        let mut known = 0u64;
        for change in changes {
            let hash = change.hash();
            if !seen.insert(hash) {
                known += 1;
                continue;
            }
            if exists.exists(params![key, hash.0.as_slice()])? {
                known += 1;
            } else {
                new.push(change);
            }
        }
        // A change built on a refused one (a forked actor's later changes)
        // is refused too: it could never be applied, and waiting for its
        // dependency would stop every later sync or bundle import.
        let mut was_refused =
            conn.prepare_cached("SELECT 1 FROM refused_changes WHERE doc_id = ?1 AND hash = ?2")?;
        let mut refused_here: HashSet<ChangeHash> = HashSet::new();
        let mut kept = Vec::with_capacity(new.len());
        for change in new {
            let mut on_refused = false;
            for dep in change.deps() {
                if refused_here.contains(dep)
                    || was_refused.exists(params![key, dep.0.as_slice()])?
                {
                    on_refused = true;
                    break;
                }
            }
            if on_refused {
                refused_here.insert(change.hash());
                refuse_change(conn, &key, &change, "depends on a refused change")?;
                continue;
            }
            for dep in change.deps() {
                if !seen.contains(dep) && !exists.exists(params![key, dep.0.as_slice()])? {
                    return Err(CoreError::Corrupt(format!(
                        "a change to {key} depends on {dep}, which is neither stored here nor sent with it"
                    )));
                }
            }
            kept.push(change);
        }
        let mut new = kept;
        let heads_before = if (materialize && !new.is_empty()) || self.docs.contains_key(&key) {
            self.dirty.insert(key.clone());
            let entry = self.get(conn, doc_id)?;
            Some(entry.doc.get_heads())
        } else {
            None
        };
        if self.docs.contains_key(&key) {
            let new = self.apply_loaded(conn, doc_id, new)?;
            return Ok(RemoteApplied {
                new,
                known,
                heads_before,
            });
        }
        for change in &mut new {
            let hash = change.hash();
            insert_change(conn, &key, &hash, &stored_form(change), false)?;
        }
        Ok(RemoteApplied {
            new,
            known,
            heads_before,
        })
    }

    /// Applies received changes to a loaded document, then stores them. A
    /// change Automerge refuses (a forked actor: an actor and sequence number
    /// it already has, with other content, written by an older version from a
    /// restored or cloned disk) is never stored — stored, it would make the
    /// document fail to load from then on — but kept aside in
    /// `refused_changes` and reported; the others go on.
    fn apply_loaded(
        &mut self,
        conn: &Connection,
        doc_id: &DocId,
        mut new: Vec<Change>,
    ) -> Result<Vec<Change>> {
        let key = doc_id.to_string();
        let entry = self.get(conn, doc_id)?;
        if entry.doc.apply_changes(new.iter().cloned()).is_ok() {
            let mut last_seq = None;
            for change in &mut new {
                let hash = change.hash();
                last_seq = Some(insert_change(
                    conn,
                    &key,
                    &hash,
                    &stored_form(change),
                    false,
                )?);
            }
            let n = new.len() as u64;
            if let (Some(entry), Some(seq)) = (self.docs.get_mut(&key), last_seq) {
                entry.upto_seq = seq;
                entry.since_snapshot += n;
            }
            return Ok(new);
        }
        // One at a time, from what is stored (the failed batch may have
        // left the document in memory half-applied).
        self.docs.remove(&key);
        let mut stored = Vec::with_capacity(new.len());
        let mut refused: HashSet<ChangeHash> = HashSet::new();
        for mut change in new {
            if change.deps().iter().any(|d| refused.contains(d)) {
                refused.insert(change.hash());
                refuse_change(conn, &key, &change, "depends on a refused change")?;
                continue;
            }
            let entry = self.get(conn, doc_id)?;
            match entry.doc.apply_changes(std::iter::once(change.clone())) {
                Ok(()) => {
                    let hash = change.hash();
                    let seq = insert_change(conn, &key, &hash, &stored_form(&mut change), false)?;
                    entry.upto_seq = seq;
                    entry.since_snapshot += 1;
                    stored.push(change);
                }
                Err(e) => {
                    tracing::warn!("refusing a change to {key}: {e}");
                    refused.insert(change.hash());
                    refuse_change(conn, &key, &change, &e.to_string())?;
                    self.docs.remove(&key);
                }
            }
        }
        Ok(stored)
    }

    pub fn is_loaded(&self, doc_id: &DocId) -> bool {
        self.docs.contains_key(&doc_id.to_string())
    }

    pub fn loaded(&mut self, doc_id: &DocId) -> Option<&mut LoadedDoc> {
        self.docs.get_mut(&doc_id.to_string())
    }

    /// The transaction committed: what is in memory is on disk.
    pub fn clear_dirty(&mut self) {
        self.dirty.clear();
    }

    /// The transaction rolled back: forget in-memory state it touched.
    pub fn discard_dirty(&mut self) {
        for key in self.dirty.drain() {
            self.docs.remove(&key);
        }
    }

    /// Drops one loaded document (it is read from the file again).
    pub fn forget(&mut self, doc_id: &DocId) {
        self.docs.remove(&doc_id.to_string());
    }

    /// Keeps `keep` and drops other loaded documents (memory stays bounded).
    pub fn retain(&mut self, keep: &[&DocId]) {
        let keep: HashSet<String> = keep.iter().map(|d| d.to_string()).collect();
        self.docs.retain(|k, _| keep.contains(k));
    }

    /// Saves a snapshot of each loaded document that has grown enough since
    /// its last one.
    pub fn snapshot_due(&mut self, conn: &Connection) -> Result<usize> {
        let mut written = 0;
        for (key, entry) in &mut self.docs {
            if entry.since_snapshot >= self.snapshot_every {
                if entry.tip.is_some() {
                    bring_up_to_date(conn, key, entry)?;
                }
                let bytes = entry.doc.save();
                store_snapshot(conn, key, &bytes, entry.upto_seq)?;
                entry.since_snapshot = 0;
                written += 1;
            }
        }
        Ok(written)
    }

    /// Whether a loaded document has grown enough for a snapshot.
    pub fn any_due(&self) -> bool {
        self.docs
            .values()
            .any(|e| e.since_snapshot >= self.snapshot_every)
    }

    /// The documents due for a snapshot, counted as taken: someone else (the
    /// background worker) writes them from what is on disk.
    pub fn take_due(&mut self) -> Vec<String> {
        let every = self.snapshot_every;
        let mut due = Vec::new();
        for (key, entry) in &mut self.docs {
            if entry.since_snapshot >= every {
                entry.since_snapshot = 0;
                due.push(key.clone());
            }
        }
        due.sort();
        due
    }
}

/// Writes a document's snapshot unless a newer one is already stored (two
/// writers, or a slow background save finishing after a faster one).
pub fn store_snapshot(conn: &Connection, key: &str, bytes: &[u8], upto_seq: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO doc_snapshots (doc_id, bytes, upto_seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (doc_id) DO UPDATE SET bytes = excluded.bytes, upto_seq = excluded.upto_seq
         WHERE excluded.upto_seq > doc_snapshots.upto_seq",
    )?
    .execute(params![key, bytes, upto_seq])?;
    Ok(())
}

pub struct RemoteApplied {
    pub new: Vec<Change>,
    pub known: u64,
    pub heads_before: Option<Vec<ChangeHash>>,
}

/// Loads a document from its snapshot and the changes stored after it.
pub fn load(conn: &Connection, key: &str, actor: Option<&ActorId>) -> Result<LoadedDoc> {
    let snapshot: Option<(Vec<u8>, i64)> = conn
        .prepare_cached("SELECT bytes, upto_seq FROM doc_snapshots WHERE doc_id = ?1")?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (mut doc, upto_seq) = match snapshot {
        Some((bytes, upto)) => (AutoCommit::load(&bytes)?, upto),
        None => (AutoCommit::new(), 0),
    };
    if let Some(actor) = actor {
        doc.set_actor(actor.clone());
    }
    let mut entry = LoadedDoc {
        doc,
        upto_seq,
        since_snapshot: 0,
        tip: None,
        writer: None,
        caught_up_at: None,
    };
    catch_up(conn, key, &mut entry)?;
    Ok(entry)
}

/// Changes whenever another connection commits to the file.
fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |r| r.get(0))?)
}

fn catch_up(conn: &Connection, key: &str, entry: &mut LoadedDoc) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, bytes FROM doc_changes WHERE doc_id = ?1 AND seq > ?2 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![key, entry.upto_seq])?;
    let mut changes = Vec::new();
    let mut last = entry.upto_seq;
    while let Some(row) = rows.next()? {
        last = row.get(0)?;
        let bytes: Vec<u8> = row.get(1)?;
        changes.push(decode_stored_change(&bytes)?);
    }
    if !changes.is_empty() {
        entry.since_snapshot += changes.len() as u64;
        entry.doc.apply_changes_batch(changes)?;
        entry.upto_seq = last;
    }
    Ok(())
}

/// Catches `entry.doc` up with the change log, the changes its tip made
/// included (counted towards the next snapshot when they were made), and
/// drops the tip: the next append makes a new one, as a new actor.
fn bring_up_to_date(conn: &Connection, key: &str, entry: &mut LoadedDoc) -> Result<()> {
    let appended = match entry.tip.take() {
        Some(t) => {
            entry.writer = Some(t.writer());
            t.appended
        }
        None => 0,
    };
    catch_up(conn, key, entry)?;
    entry.since_snapshot = entry.since_snapshot.saturating_sub(appended);
    Ok(())
}

/// A local change a sync server would refuse for its size is refused here,
/// before it reaches the outbox.
fn check_local_size(bytes: &[u8]) -> Result<()> {
    let limit = crate::sync::wire::limits::MAX_CHANGE_BYTES;
    if bytes.len() > limit {
        return Err(CoreError::invalid(
            "record",
            format!(
                "this change is {} bytes, more than a sync server takes in one change ({limit}): make it in smaller parts",
                bytes.len()
            ),
        ));
    }
    Ok(())
}

/// `doc_changes.seq` of a document's last stored change (0 if none).
fn last_change_seq(conn: &Connection, key: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM doc_changes WHERE doc_id = ?1")?
        .query_row([key], |r| r.get(0))?)
}

/// Decodes a change that came from outside (a server, a bundle), refusing
/// one that would inflate past
/// [`crate::change_bytes::MAX_INFLATED_CHANGE_BYTES`] (see `change_bytes`).
pub fn decode_change(bytes: &[u8]) -> Result<Change> {
    crate::change_bytes::decode_change_bounded(
        bytes,
        crate::change_bytes::MAX_INFLATED_CHANGE_BYTES,
    )
    .map_err(|e| CoreError::Corrupt(format!("a change does not decode: {e}")))
}

/// Decodes a change read from this till's own change log: it was checked
/// (bounded) when it came in, or made here.
fn decode_stored_change(bytes: &[u8]) -> Result<Change> {
    Change::try_from(bytes)
        .map_err(|e| CoreError::Corrupt(format!("a stored change does not decode: {e}")))
}

pub fn ensure_document(conn: &Connection, doc_id: &DocId) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO documents (doc_id, kind, till_id) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![doc_id.to_string(), doc_id.kind(), doc_id.till()])?;
    Ok(())
}

/// Keeps a change this till will not store (see `apply_loaded`).
fn refuse_change(conn: &Connection, key: &str, change: &Change, reason: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO refused_changes (doc_id, hash, bytes, reason, first_seen)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        key,
        change.hash().0.as_slice(),
        change.raw_bytes(),
        reason,
        chrono::Utc::now().timestamp_millis()
    ])?;
    Ok(())
}

/// How many received changes this till refused to store (forked actors).
pub fn refused_changes(conn: &Connection) -> Result<u64> {
    Ok(
        conn.query_row("SELECT COUNT(*) FROM refused_changes", [], |r| {
            r.get::<_, i64>(0)
        })? as u64,
    )
}

/// A change as this till stores it: as Automerge encodes it up to
/// [`STORE_RAW_UP_TO`], deflated when bigger. Received changes follow the
/// same rule as local ones: tills send small changes raw, and deflating each
/// of them here cost a third of a large sync (a new compressor per change).
fn stored_form(change: &mut Change) -> std::borrow::Cow<'_, [u8]> {
    if change.raw_bytes().len() <= STORE_RAW_UP_TO {
        std::borrow::Cow::Borrowed(change.raw_bytes())
    } else {
        change.bytes()
    }
}

fn insert_change(
    conn: &Connection,
    key: &str,
    hash: &ChangeHash,
    bytes: &[u8],
    local: bool,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO doc_changes (doc_id, hash, bytes, local) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![key, hash.0.as_slice(), bytes, local])?;
    Ok(conn.last_insert_rowid())
}

/// Every stored change of a document, snapshot included, in an order that
/// respects dependencies.
pub fn all_changes(conn: &Connection, key: &str) -> Result<Vec<Change>> {
    let has_snapshot: bool = conn
        .prepare_cached("SELECT 1 FROM doc_snapshots WHERE doc_id = ?1")?
        .exists([key])?;
    if has_snapshot {
        let mut loaded = load(conn, key, None)?;
        return Ok(loaded.doc.get_changes(&[]));
    }
    let mut stmt =
        conn.prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY seq")?;
    let rows = stmt.query_map([key], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for bytes in rows {
        out.push(decode_stored_change(&bytes?)?);
    }
    Ok(out)
}

/// Ids of every document stored, of one kind or all.
pub fn document_ids(conn: &Connection) -> Result<Vec<DocId>> {
    let mut stmt = conn.prepare("SELECT doc_id FROM documents ORDER BY doc_id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for id in rows {
        let id = id?;
        out.push(
            DocId::parse(&id).ok_or_else(|| CoreError::Corrupt(format!("bad document id {id}")))?,
        );
    }
    Ok(out)
}
