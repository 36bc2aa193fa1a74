//! A customer's device held in memory, without SQLite: the documents it
//! follows, one server cursor per document, and the local changes the
//! server has not acknowledged. The customer's web app (`customer-web/`)
//! keeps it in the browser's IndexedDB as one [`StoredDoc`] per document;
//! the CLI's `CustomerStore` keeps the same things in SQLite. Both follow
//! the same documents ([`followed_docs`]), speak the same wire format
//! (`sync::customer_wire`) and edit with the same functions
//! (`crate::customer`, `crate::orders::customer_side`).
//!
//! Every edit is one Automerge change or nothing: an edit that fails rolls
//! back and leaves the document as it was.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use automerge::{ActorId, AutoCommit, Change, transaction::CommitOptions};
use serde::{Deserialize, Serialize};
use shopsync_types::{CustomerView, OrderView, PublicCatalog};

use crate::access::{self, Principal};
use crate::error::{CoreError, Result};
use crate::ids::DocId;
use crate::sync::customer_wire::{
    CustomerSyncRequest, CustomerSyncResponse, DocRequest, MAX_DOCS, decode_change, encode_change,
};

/// Upload at most this many change bytes (before base64) per request.
pub const UPLOAD_BYTES: usize = 2 * 1024 * 1024;
/// And at most this many changes (the server takes 10,000 a request).
pub const UPLOAD_CHANGES: usize = 5_000;

/// The documents a customer's device follows: its own document; the order
/// documents (requests and status) with every shop it sent an order to or
/// favourited; the public catalogs of its favourite shops and of the shops
/// it looked at. At most [`MAX_DOCS`].
pub fn followed_docs(
    customer_id: &str,
    favourites: &BTreeSet<String>,
    ordered: &BTreeSet<String>,
    looked_at: &BTreeSet<String>,
) -> Vec<DocId> {
    let mut out = vec![DocId::Customer {
        customer: customer_id.to_string(),
    }];
    for s in ordered.union(favourites) {
        out.push(DocId::order_requests(s, customer_id));
        out.push(DocId::order_status(s, customer_id));
    }
    out.extend(favourites.union(looked_at).map(|store| DocId::Public {
        store: store.clone(),
    }));
    out.truncate(MAX_DOCS);
    out
}

/// Every change of a document, as bytes (to send it all again).
fn all_changes(doc: &mut AutoCommit) -> Vec<Vec<u8>> {
    doc.get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// Orders carry the device's time: a clock before 1970 or after 9999 is
/// wrong, and said so (the record rules would refuse it less plainly).
fn check_clock(time_ms: i64) -> Result<()> {
    if (0..=crate::validate::MAX_AT).contains(&time_ms) {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "clock",
            "this device's clock is wrong (before 1970 or after 9999): set the date, then send again",
        ))
    }
}

/// A document whose received changes were not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocFailure {
    pub doc_id: String,
    pub error: String,
}

/// What applying one answer did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerApplied {
    pub acked: u64,
    pub new_changes: u64,
    pub known_changes: u64,
    pub failed: Vec<DocFailure>,
    /// Documents whose uploaded changes the server refused: taken back here.
    #[serde(default)]
    pub refused: Vec<DocFailure>,
    /// Some document has more changes waiting on the server.
    pub more: bool,
}

/// One document as a device keeps it between sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDoc {
    /// `AutoCommit::save` of the document (empty: nothing yet).
    pub snapshot: Vec<u8>,
    /// The server's sequence number of the last change of it this device has.
    pub cursor: u64,
    /// Local changes the server has not acknowledged, oldest first.
    pub pending: Vec<Vec<u8>>,
    /// The server epoch the cursor (and what was acknowledged) belongs to,
    /// when it was saved: a copy saved by a tab that had not seen a server
    /// restore is read as of that older life.
    #[serde(default)]
    pub epoch: Option<String>,
}

#[derive(Debug)]
struct DeviceDoc {
    doc: AutoCommit,
    cursor: u64,
    pending: Vec<Vec<u8>>,
}

impl DeviceDoc {
    fn new(actor: &ActorId) -> DeviceDoc {
        DeviceDoc {
            doc: AutoCommit::new().with_actor(actor.clone()),
            cursor: 0,
            pending: Vec::new(),
        }
    }
}

/// What a request uploaded, to mark acknowledged when the server answers.
#[derive(Debug, Default, Clone)]
pub struct Sent {
    /// Documents in the request, in order.
    pub docs: Vec<String>,
    /// Per document, how many of its oldest pending changes were uploaded.
    uploaded: BTreeMap<String, usize>,
    /// Unacknowledged changes left for the next request.
    pub more_to_send: bool,
}

/// A customer's device: its documents, cursors and unsent changes.
#[derive(Debug)]
pub struct Device {
    customer_id: String,
    actor: ActorId,
    docs: BTreeMap<String, DeviceDoc>,
    /// The server epoch the cursors belong to.
    epoch: Option<String>,
    looked_at: BTreeSet<String>,
    /// Documents changed since [`Device::take_dirty`].
    dirty: BTreeSet<String>,
    /// Documents whose stored copy must be replaced, not merged with: they
    /// had changes taken back, which the stored copy still holds.
    overwrite: BTreeSet<String>,
}

impl Device {
    /// A device of `customer_id` with no documents, and a fresh actor (one
    /// per session, as on a till: a copied or restored device never reuses
    /// an actor's sequence numbers).
    pub fn new(customer_id: &str) -> Device {
        Device {
            customer_id: customer_id.to_string(),
            actor: crate::ids::new_actor(),
            docs: BTreeMap::new(),
            epoch: None,
            looked_at: BTreeSet::new(),
            dirty: BTreeSet::new(),
            overwrite: BTreeSet::new(),
        }
    }

    pub fn customer_id(&self) -> &str {
        &self.customer_id
    }

    pub fn own_doc(&self) -> DocId {
        DocId::Customer {
            customer: self.customer_id.clone(),
        }
    }

    pub fn epoch(&self) -> Option<&str> {
        self.epoch.as_deref()
    }

    /// Restores the epoch saved with the documents.
    pub fn set_epoch(&mut self, epoch: Option<String>) {
        self.epoch = epoch;
    }

    /// The shops whose catalogs the customer opened (followed until
    /// forgotten, as on the CLI).
    pub fn looked_at(&self) -> &BTreeSet<String> {
        &self.looked_at
    }

    pub fn look_at(&mut self, store_id: &str) -> Result<()> {
        crate::customer::check_store_id("shop", store_id)?;
        self.looked_at.insert(store_id.to_string());
        Ok(())
    }

    /// Documents changed since the last call (to persist them).
    pub fn take_dirty(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.dirty)
    }

    /// Whether the stored copy of `doc_id` must be replaced rather than
    /// merged with ([`Device::merge_stored`] would bring back changes
    /// taken back).
    pub fn must_overwrite(&self, doc_id: &str) -> bool {
        self.overwrite.contains(doc_id)
    }

    /// The stored copies of these documents were replaced.
    pub fn overwritten(&mut self, ids: &BTreeSet<String>) {
        self.overwrite.retain(|d| !ids.contains(d));
    }

    /// Marks documents to be saved again (a save that failed).
    pub fn mark_dirty(&mut self, ids: impl IntoIterator<Item = String>) {
        self.dirty.extend(ids);
    }

    /// Every document id held.
    pub fn doc_ids(&self) -> Vec<String> {
        self.docs.keys().cloned().collect()
    }

    /// Merges a document as kept between sessions (or by another tab) into
    /// this device: Automerge merges the content, pending changes are
    /// united, and the cursor is the larger one (the merged document holds
    /// what both cursors stand for).
    pub fn load(&mut self, doc_id: &str, stored: StoredDoc) -> Result<()> {
        self.absorb(doc_id, stored, true)
    }

    /// Merges what another tab stored of a document before this one
    /// overwrites it: the content and pending changes, but this device's
    /// cursor stays (the stored one may belong to an epoch this device has
    /// left; a lower cursor only asks for known changes again).
    pub fn merge_stored(&mut self, doc_id: &str, stored: StoredDoc) -> Result<()> {
        self.absorb(doc_id, stored, false)
    }

    fn absorb(&mut self, doc_id: &str, stored: StoredDoc, take_cursor: bool) -> Result<()> {
        let id = DocId::parse(doc_id)
            .ok_or_else(|| CoreError::Corrupt(format!("bad document id '{doc_id}'")))?;
        // Saved under an epoch this device has left (a server restore): its
        // cursor means nothing now and what it counted as acknowledged may
        // be missing on the restored server; a public catalog of then would
        // beat the rebuilt one.
        let stale =
            matches!((&stored.epoch, &self.epoch), (Some(theirs), Some(mine)) if theirs != mine);
        if stale && matches!(id, DocId::Public { .. }) {
            return Ok(());
        }
        let customer = self.customer_id.clone();
        let writable = access::can_write(&Principal::customer(&customer), &id);
        let actor = self.actor.clone();
        let entry = self
            .docs
            .entry(doc_id.to_string())
            .or_insert_with(|| DeviceDoc::new(&actor));
        // Decoded and sorted out before anything changes: a pending change
        // this device already holds is pending here or was acknowledged
        // here (and must not be sent again forever); only a load from
        // storage takes every one as pending.
        let mut incoming = Vec::with_capacity(stored.pending.len());
        for c in stored.pending {
            let change = Change::from_bytes(c.clone())
                .map_err(|e| CoreError::Corrupt(format!("a stored change: {e}")))?;
            let known = entry.doc.get_change_by_hash(&change.hash()).is_some();
            incoming.push((c, change, take_cursor || !known));
        }
        if !stored.snapshot.is_empty() {
            let mut other = AutoCommit::load(&stored.snapshot)?;
            entry.doc.merge(&mut other)?;
        }
        let mut seen: HashSet<Vec<u8>> = entry.pending.iter().cloned().collect();
        for (bytes, change, pending) in incoming {
            entry.doc.apply_changes([change])?;
            if pending && seen.insert(bytes.clone()) {
                entry.pending.push(bytes);
            }
        }
        if take_cursor && !stale {
            entry.cursor = entry.cursor.max(stored.cursor);
        }
        if stale && writable {
            // Everything of it again (the server keeps one copy of each).
            entry.pending = all_changes(&mut entry.doc);
            self.dirty.insert(doc_id.to_string());
        }
        Ok(())
    }

    /// A document as kept between sessions.
    pub fn stored(&mut self, doc_id: &str) -> Option<StoredDoc> {
        let entry = self.docs.get_mut(doc_id)?;
        Some(StoredDoc {
            snapshot: entry.doc.save(),
            cursor: entry.cursor,
            pending: entry.pending.clone(),
            epoch: self.epoch.clone(),
        })
    }

    /// A document's heads (`None`: not held), to tell whether it changed.
    pub fn heads(&mut self, doc_id: &str) -> Option<Vec<automerge::ChangeHash>> {
        self.docs.get_mut(doc_id).map(|d| d.doc.get_heads())
    }

    /// Drops a document (a public catalog after a server restore).
    pub fn forget(&mut self, doc_id: &str) {
        if self.docs.remove(doc_id).is_some() {
            self.dirty.insert(doc_id.to_string());
        }
    }

    fn doc(&self, id: &DocId) -> Option<&AutoCommit> {
        self.docs.get(&id.to_string()).map(|d| &d.doc)
    }

    /// One local change to `doc_id` (`time_ms`: the change's time). Refused
    /// for a document this customer may not write; nothing changes on an
    /// error. `Ok(false)`: the edit changed nothing.
    pub fn edit<T>(
        &mut self,
        doc_id: &DocId,
        time_ms: i64,
        edit: impl FnOnce(&mut AutoCommit) -> Result<T>,
    ) -> Result<T> {
        if !access::can_write(&Principal::customer(&self.customer_id), doc_id) {
            return Err(CoreError::Unauthorized(format!(
                "this customer may not write {doc_id}"
            )));
        }
        let key = doc_id.to_string();
        let actor = self.actor.clone();
        let entry = self
            .docs
            .entry(key.clone())
            .or_insert_with(|| DeviceDoc::new(&actor));
        let before = entry.doc.get_heads();
        let out = match edit(&mut entry.doc) {
            Ok(v) => v,
            Err(e) => {
                entry.doc.rollback();
                return Err(e);
            }
        };
        let options = CommitOptions::default().with_time(time_ms.div_euclid(1000));
        if entry.doc.commit_with(options).is_some() {
            let mut change = entry
                .doc
                .get_last_local_change()
                .ok_or_else(|| CoreError::Corrupt("committed change is missing".into()))?;
            // The server's rules, here: a change it would refuse must never
            // be pending, where it would stop this device's sync for good.
            let requests = matches!(doc_id, DocId::OrderRequests { .. });
            if requests || matches!(doc_id, DocId::OrderStatus { .. }) {
                let checked =
                    crate::orders::validate::changes(std::slice::from_ref(&change), requests);
                if let Err(v) = checked {
                    entry.doc = entry
                        .doc
                        .fork_at(&before)?
                        .with_actor(crate::ids::new_actor());
                    return Err(CoreError::invalid(
                        "order",
                        format!("{} ({}): {}", v.record, v.rule.as_str(), v.detail),
                    ));
                }
            }
            entry.pending.push(change.bytes().to_vec());
            self.dirty.insert(key);
        }
        Ok(out)
    }

    /// Edits the customer's own document.
    pub fn edit_own<T>(
        &mut self,
        time_ms: i64,
        edit: impl FnOnce(&mut AutoCommit) -> Result<T>,
    ) -> Result<T> {
        let own = self.own_doc();
        self.edit(&own, time_ms, edit)
    }

    /// The customer's profile, favourites and lists.
    pub fn view(&self) -> Result<CustomerView> {
        match self.doc(&self.own_doc()) {
            Some(d) => crate::customer::read(d),
            None => Ok(CustomerView::default()),
        }
    }

    /// The shops this customer has order documents with.
    fn order_shops(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self
            .doc(&self.own_doc())
            .map(crate::customer::ordered_shops)
            .unwrap_or_default()
            .into_iter()
            .collect();
        for key in self.docs.keys() {
            if let Some(DocId::OrderRequests { store, .. } | DocId::OrderStatus { store, .. }) =
                DocId::parse(key)
            {
                out.insert(store);
            }
        }
        out
    }

    /// Every order with every shop, oldest first.
    pub fn orders(&self) -> Vec<OrderView> {
        let empty = AutoCommit::new();
        let mut out = Vec::new();
        for store in self.order_shops() {
            let requests = self
                .doc(&DocId::order_requests(&store, &self.customer_id))
                .unwrap_or(&empty);
            let status = self
                .doc(&DocId::order_status(&store, &self.customer_id))
                .unwrap_or(&empty);
            out.extend(crate::orders::customer_side::orders(
                &store,
                &self.customer_id,
                requests,
                status,
            ));
        }
        out.sort_by(|a, b| (a.sent_at, &a.id).cmp(&(b.sent_at, &b.id)));
        out
    }

    /// A shop's public catalog as last synced (`None`: never synced).
    pub fn catalog(&self, store_id: &str) -> Result<Option<PublicCatalog>> {
        let id = DocId::Public {
            store: store_id.to_string(),
        };
        self.doc(&id)
            .map(|d| crate::public_catalog::read(d, store_id))
            .transpose()
    }

    /// Sends the list's items not yet ticked off to `store_id` as a pickup
    /// order (it reaches the shop with the next sync). Returns the order and
    /// how many items were left out because they are another shop's.
    pub fn send_order(
        &mut self,
        list_id: &str,
        store_id: &str,
        name: &str,
        note: Option<&str>,
        time_ms: i64,
    ) -> Result<(OrderView, usize)> {
        crate::customer::check_store_id("shop", store_id)?;
        check_clock(time_ms)?;
        let list = self
            .doc(&self.own_doc())
            .map(|d| crate::customer::read_list(d, list_id))
            .transpose()?
            .flatten()
            .ok_or_else(|| CoreError::not_found("list", list_id))?;
        let order_id = crate::ids::new_id();
        let (request, left_out) = crate::orders::customer_side::request_from_list(
            &list, store_id, &order_id, name, note, time_ms,
        )?;
        let doc = DocId::order_requests(store_id, &self.customer_id);
        self.edit(&doc, time_ms, |d| {
            crate::orders::customer_side::put_order(d, request)
        })?;
        let store = store_id.to_string();
        self.edit_own(time_ms, |d| crate::customer::add_ordered_shop(d, &store))?;
        let order = self
            .orders()
            .into_iter()
            .find(|o| o.id == order_id)
            .ok_or_else(|| CoreError::not_found("order", order_id))?;
        Ok((order, left_out))
    }

    /// Cancels an order while the shop has not made it ready.
    pub fn cancel_order(
        &mut self,
        order_id: &str,
        reason: Option<&str>,
        time_ms: i64,
    ) -> Result<()> {
        check_clock(time_ms)?;
        let current = self
            .orders()
            .into_iter()
            .find(|o| o.id == order_id)
            .ok_or_else(|| CoreError::not_found("order", order_id))?;
        let doc = DocId::order_requests(&current.store_id, &self.customer_id);
        self.edit(&doc, time_ms, |d| {
            crate::orders::customer_side::put_cancel(d, &current, reason, time_ms)
        })
    }

    /// The documents this device follows.
    pub fn followed(&self) -> Result<Vec<DocId>> {
        let favourites: BTreeSet<String> = self.view()?.favourites.into_iter().collect();
        Ok(followed_docs(
            &self.customer_id,
            &favourites,
            &self.order_shops(),
            &self.looked_at,
        ))
    }

    /// Local changes the server has not acknowledged.
    pub fn changes_waiting(&self) -> usize {
        self.docs.values().map(|d| d.pending.len()).sum()
    }

    /// The next request: every followed document with its cursor, and the
    /// pending changes, oldest first per document, up to [`UPLOAD_BYTES`]
    /// (at least one change).
    pub fn sync_request(&self) -> Result<(CustomerSyncRequest, Sent)> {
        let me = Principal::customer(&self.customer_id);
        let mut sent = Sent::default();
        let mut docs: Vec<DocRequest> = Vec::new();
        let mut ids: Vec<String> = self.followed()?.iter().map(DocId::to_string).collect();
        for (key, d) in &self.docs {
            // A document this customer may not read (another customer id's,
            // left by a tab that had not seen the sign-up) is never named.
            let readable = DocId::parse(key).is_some_and(|id| access::can_read(&me, &id));
            if !d.pending.is_empty() && readable && !ids.contains(key) {
                ids.push(key.clone());
            }
        }
        let (mut bytes, mut count) = (0usize, 0usize);
        for key in ids {
            let mut req = DocRequest {
                since: self.docs.get(&key).map_or(0, |d| d.cursor),
                doc_id: key.clone(),
                changes: Vec::new(),
            };
            let writable = DocId::parse(&key).is_some_and(|d| access::can_write(&me, &d));
            if let Some(d) = self.docs.get(&key)
                && writable
            {
                for c in &d.pending {
                    if bytes > 0 && (bytes + c.len() > UPLOAD_BYTES || count >= UPLOAD_CHANGES) {
                        sent.more_to_send = true;
                        break;
                    }
                    bytes += c.len();
                    count += 1;
                    req.changes.push(encode_change(c));
                }
                if !req.changes.is_empty() {
                    sent.uploaded.insert(key.clone(), req.changes.len());
                }
            }
            sent.docs.push(key);
            docs.push(req);
            if docs.len() >= MAX_DOCS {
                break;
            }
        }
        Ok((CustomerSyncRequest::new(docs), sent))
    }

    /// Applies the server's answer to `sent`: what was uploaded is
    /// acknowledged, then each document's changes and cursor. A document
    /// whose changes do not apply is reported and keeps its cursor (asked
    /// again next time); the others go on.
    pub fn apply_answer(
        &mut self,
        sent: &Sent,
        answer: CustomerSyncResponse,
    ) -> Result<AnswerApplied> {
        for d in &answer.docs {
            if !sent.docs.contains(&d.doc_id) {
                return Err(CoreError::Corrupt(format!(
                    "the server answered for document '{}', which this device did not ask for",
                    d.doc_id
                )));
            }
        }
        let mut out = AnswerApplied::default();
        for d in &answer.docs {
            if let Some(why) = &d.refused {
                let taken_back = self.take_back_pending(&d.doc_id)?;
                out.refused.push(DocFailure {
                    doc_id: d.doc_id.clone(),
                    error: format!("{why} ({taken_back} change(s) taken back)"),
                });
            }
        }
        for (key, n) in &sent.uploaded {
            if answer
                .docs
                .iter()
                .any(|d| &d.doc_id == key && d.refused.is_some())
            {
                continue;
            }
            if let Some(d) = self.docs.get_mut(key) {
                let n = (*n).min(d.pending.len());
                d.pending.drain(..n);
                out.acked += n as u64;
                self.dirty.insert(key.clone());
            }
        }
        for d in answer.docs {
            if d.refused.is_some() {
                continue;
            }
            out.more |= d.more;
            match self.apply_doc(&d.doc_id, &d.changes, d.cursor) {
                Ok((new, known)) => {
                    out.new_changes += new;
                    out.known_changes += known;
                }
                Err(e) => out.failed.push(DocFailure {
                    doc_id: d.doc_id,
                    error: e.to_string(),
                }),
            }
        }
        Ok(out)
    }

    /// Takes back every change of `doc_id` the server has not acknowledged
    /// (it refused some, and the rest build on them): the document is
    /// rebuilt from the others, under a fresh actor. Returns how many went.
    fn take_back_pending(&mut self, doc_id: &str) -> Result<usize> {
        let Some(entry) = self.docs.get_mut(doc_id) else {
            return Ok(0);
        };
        let mut drop = HashSet::new();
        for bytes in &entry.pending {
            if let Ok(c) = Change::from_bytes(bytes.clone()) {
                drop.insert(c.hash());
            }
        }
        let keep: Vec<Change> = entry
            .doc
            .get_changes(&[])
            .into_iter()
            .filter(|c| !drop.contains(&c.hash()))
            .collect();
        let mut doc = AutoCommit::new().with_actor(crate::ids::new_actor());
        doc.apply_changes(keep)?;
        entry.doc = doc;
        let n = std::mem::take(&mut entry.pending).len();
        self.dirty.insert(doc_id.to_string());
        self.overwrite.insert(doc_id.to_string());
        Ok(n)
    }

    fn apply_doc(&mut self, doc_id: &str, changes: &[String], cursor: u64) -> Result<(u64, u64)> {
        DocId::parse(doc_id)
            .ok_or_else(|| CoreError::Corrupt(format!("bad document id '{doc_id}'")))?;
        let mut decoded = Vec::with_capacity(changes.len());
        for c in changes {
            let bytes = decode_change(c).map_err(CoreError::Corrupt)?;
            decoded.push(
                Change::from_bytes(bytes)
                    .map_err(|e| CoreError::Corrupt(format!("a change does not decode: {e}")))?,
            );
        }
        let actor = self.actor.clone();
        let entry = self
            .docs
            .entry(doc_id.to_string())
            .or_insert_with(|| DeviceDoc::new(&actor));
        let mut known = 0u64;
        let mut new = Vec::with_capacity(decoded.len());
        for c in decoded {
            if entry.doc.get_change_by_hash(&c.hash()).is_some() {
                known += 1;
            } else {
                new.push(c);
            }
        }
        let n = new.len() as u64;
        if n > 0 {
            entry.doc.apply_changes(new)?;
            // Automerge queues a change whose dependencies it lacks; the
            // cursor then stays, so the server sends the range again.
            if !entry.doc.get_missing_deps(&[]).is_empty() {
                return Err(CoreError::Corrupt(format!(
                    "changes to {doc_id} depend on changes that never came"
                )));
            }
        }
        if n > 0 || cursor != entry.cursor {
            entry.cursor = entry.cursor.max(cursor);
            self.dirty.insert(doc_id.to_string());
        }
        Ok((n, known))
    }

    /// Notes the epoch a sync answer came with. A new epoch means the server
    /// was restored from a backup: every cursor starts again at 0, every
    /// change of a document this device writes is pending again, and the
    /// public catalogs are dropped (the restored server rebuilds them with
    /// new actors, whose values would lose to the old ones kept here).
    /// Returns whether it was new (the answer that carried it must not be
    /// applied).
    pub fn note_epoch(&mut self, epoch: &str) -> Result<bool> {
        if self.epoch.as_deref() == Some(epoch) {
            return Ok(false);
        }
        let reset = self.epoch.is_some();
        self.epoch = Some(epoch.to_string());
        if !reset {
            return Ok(false);
        }
        let public: Vec<String> = self
            .docs
            .keys()
            .filter(|k| matches!(DocId::parse(k), Some(DocId::Public { .. })))
            .cloned()
            .collect();
        for key in public {
            self.forget(&key);
        }
        self.resend_everything();
        Ok(true)
    }

    /// Moves the documents kept under a local customer id to the account's
    /// (after sign-up or link): nothing was synced under the local id, and
    /// Automerge changes do not name their document.
    pub fn adopt_account(&mut self, customer_id: &str) -> Result<()> {
        crate::customer::check_store_id("customer_id", customer_id)?;
        let old = self.customer_id.clone();
        if old == customer_id {
            return Ok(());
        }
        let rename = |d: DocId| -> DocId {
            match d {
                DocId::Customer { .. } => DocId::Customer {
                    customer: customer_id.to_string(),
                },
                DocId::OrderRequests { store, .. } => DocId::order_requests(&store, customer_id),
                DocId::OrderStatus { store, .. } => DocId::order_status(&store, customer_id),
                other => other,
            }
        };
        let synced_before = self.epoch.is_some();
        let docs = std::mem::take(&mut self.docs);
        for (key, d) in docs {
            // Orders made under an id that had synced (a forgotten account)
            // were delivered as that account's: they stay with it.
            if synced_before
                && matches!(
                    DocId::parse(&key),
                    Some(DocId::OrderRequests { .. } | DocId::OrderStatus { .. })
                )
            {
                self.dirty.insert(key);
                continue;
            }
            let new_key = DocId::parse(&key)
                .map(rename)
                .map_or(key.clone(), |d| d.to_string());
            if new_key != key {
                self.dirty.insert(key);
            }
            self.dirty.insert(new_key.clone());
            match self.docs.get_mut(&new_key) {
                Some(held) => {
                    let mut d = d;
                    held.doc.merge(&mut d.doc)?;
                    held.pending.extend(d.pending);
                    held.cursor = held.cursor.min(d.cursor);
                }
                None => {
                    self.docs.insert(new_key, d);
                }
            }
        }
        self.customer_id = customer_id.to_string();
        if synced_before {
            // The old id had synced (a forgotten account): what the server
            // holds under it is not this account's; everything goes again.
            self.resend_everything();
        }
        Ok(())
    }

    /// Every cursor back to 0 and every change of a document this customer
    /// writes pending again (the server keeps one copy of each).
    fn resend_everything(&mut self) {
        let customer = self.customer_id.clone();
        let me = Principal::customer(&customer);
        for (key, d) in &mut self.docs {
            d.cursor = 0;
            if DocId::parse(key).is_some_and(|id| access::can_write(&me, &id)) {
                d.pending = all_changes(&mut d.doc);
            }
            self.dirty.insert(key.clone());
        }
    }

    /// Merges documents held under other customer ids (a tab that had not
    /// seen the sign-up kept writing under the local id) into this
    /// customer's: lists into its own document, orders into its requests
    /// to the same shop; their changes are to be sent. Returns how many.
    pub fn absorb_stray_customer_docs(&mut self) -> Result<usize> {
        let own = self.own_doc().to_string();
        // Order documents under another id: requests move to this
        // customer's (never delivered: that id had no account here), a
        // status document there can hold nothing and goes.
        let orders: Vec<(String, Option<DocId>)> = self
            .docs
            .keys()
            .filter_map(|k| match DocId::parse(k) {
                Some(DocId::OrderRequests { store, customer }) if customer != self.customer_id => {
                    Some((
                        k.clone(),
                        Some(DocId::order_requests(&store, &self.customer_id)),
                    ))
                }
                Some(DocId::OrderStatus { customer, .. }) if customer != self.customer_id => {
                    Some((k.clone(), None))
                }
                _ => None,
            })
            .collect();
        let moved = orders.len();
        for (key, to) in orders {
            let Some(mut stray) = self.docs.remove(&key) else {
                continue;
            };
            self.dirty.insert(key);
            if let Some(to) = to {
                self.merge_stray(&to.to_string(), &mut stray)?;
            }
        }
        let strays: Vec<String> = self
            .docs
            .keys()
            .filter(|k| *k != &own && matches!(DocId::parse(k), Some(DocId::Customer { .. })))
            .cloned()
            .collect();
        for key in &strays {
            if let Some(mut stray) = self.docs.remove(key) {
                self.dirty.insert(key.clone());
                self.merge_stray(&own, &mut stray)?;
            }
        }
        Ok(strays.len() + moved)
    }

    /// Merges a document held under another id into `into`; what it brings
    /// is to be sent.
    fn merge_stray(&mut self, into: &str, stray: &mut DeviceDoc) -> Result<()> {
        let actor = self.actor.clone();
        let entry = self
            .docs
            .entry(into.to_string())
            .or_insert_with(|| DeviceDoc::new(&actor));
        let added = entry.doc.get_changes_added(&mut stray.doc);
        entry.doc.merge(&mut stray.doc)?;
        entry
            .pending
            .extend(added.iter().map(|c| c.raw_bytes().to_vec()));
        self.dirty.insert(into.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests;
