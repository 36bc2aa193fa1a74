//! The store side of the customer's sync (`sync::customer_wire`): which
//! documents this device follows, the request (unacknowledged local changes
//! and one cursor per document), and applying the answer. No network here:
//! the client (`sync::customer_client`) sends the request outside any
//! transaction and hands the answer back.
//!
//! Followed: the customer's own document; the order documents (requests and
//! status) with every shop it has sent an order to or favourited; the
//! public catalogs of its favourite shops and of the shops it looked at.
//!
//! An answer is applied one document per transaction: a document whose
//! changes do not apply (one does not decode, or depends on a change that
//! never came) is reported and keeps its cursor, so it is asked again next
//! time, and the others go on. A change Automerge refuses (a forked actor)
//! is kept aside in `refused_changes` by `DocCache::apply_remote`.

use std::collections::{BTreeSet, HashMap};

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{CustomerStore, meta, meta_del, meta_set};
use crate::access::{self, Principal};
use crate::error::{CoreError, Result};
use crate::ids::DocId;
use crate::sync::customer_wire::{
    CustomerSyncRequest, CustomerSyncResponse, DocRequest, decode_change, encode_change,
};

pub use crate::customer_device::{UPLOAD_BYTES, UPLOAD_CHANGES};

const KEY_LAST_SUCCESS: &str = "sync.last_success";
const KEY_LAST_ATTEMPT: &str = "sync.last_attempt";
const KEY_LAST_ERROR: &str = "sync.last_error";

/// What a request uploaded, to mark acknowledged once the server answers.
#[derive(Debug, Default)]
pub struct Pending {
    /// `doc_changes.seq` of every uploaded change.
    pub seqs: Vec<i64>,
    /// Documents in the request, in order.
    pub docs: Vec<String>,
    /// Unacknowledged changes left for the next request.
    pub more_to_send: bool,
}

pub use crate::customer_device::{AnswerApplied, DocFailure};

impl CustomerStore {
    /// The documents this device follows
    /// ([`crate::customer_device::followed_docs`]).
    pub fn followed(&mut self) -> Result<Vec<DocId>> {
        let favourites: BTreeSet<String> = self.view()?.favourites.into_iter().collect();
        let ordered: BTreeSet<String> = self.order_stores()?.into_iter().collect();
        let looked_at: BTreeSet<String> = self.looked_at_shops()?.into_iter().collect();
        Ok(crate::customer_device::followed_docs(
            &self.customer_id,
            &favourites,
            &ordered,
            &looked_at,
        ))
    }

    fn cursor(&self, doc: &str) -> Result<u64> {
        let c: Option<i64> = self
            .conn
            .prepare_cached("SELECT cursor FROM doc_cursors WHERE doc_id = ?1")?
            .query_row([doc], |r| r.get(0))
            .optional()?;
        Ok(c.unwrap_or(0).max(0) as u64)
    }

    /// Local changes the server has not acknowledged (documents this
    /// device may write).
    pub fn changes_waiting(&self) -> Result<u64> {
        let me = Principal::customer(&self.customer_id);
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id, COUNT(*) FROM doc_changes WHERE acked = 0 GROUP BY doc_id",
        )?;
        let mut rows = stmt.query([])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            let doc: String = r.get(0)?;
            if DocId::parse(&doc).is_some_and(|d| access::can_write(&me, &d)) {
                n += r.get::<_, i64>(1)?.max(0) as u64;
            }
        }
        Ok(n)
    }

    /// The next request: every followed document with its cursor, and the
    /// unacknowledged changes of the ones this device writes, oldest first,
    /// up to [`UPLOAD_BYTES`] (at least one change).
    pub fn sync_request(&mut self) -> Result<(CustomerSyncRequest, Pending)> {
        let me_id = self.customer_id.clone();
        let me = Principal::customer(&me_id);
        let followed = self.followed()?;
        let mut pending = Pending::default();
        let mut docs: Vec<DocRequest> = Vec::with_capacity(followed.len());
        let mut index: HashMap<String, usize> = HashMap::new();
        for d in &followed {
            let key = d.to_string();
            index.insert(key.clone(), docs.len());
            docs.push(DocRequest {
                since: self.cursor(&key)?,
                doc_id: key.clone(),
                changes: Vec::new(),
            });
            pending.docs.push(key);
        }
        let mut bytes = 0usize;
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, doc_id, bytes FROM doc_changes WHERE acked = 0 ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let doc: String = r.get(1)?;
            if !DocId::parse(&doc).is_some_and(|d| access::can_write(&me, &d)) {
                continue;
            }
            let change: Vec<u8> = r.get(2)?;
            if !pending.seqs.is_empty()
                && (bytes + change.len() > UPLOAD_BYTES || pending.seqs.len() >= UPLOAD_CHANGES)
            {
                pending.more_to_send = true;
                break;
            }
            let i = match index.get(&doc) {
                Some(i) => *i,
                None => {
                    // A document written here but no longer followed (an
                    // order with a shop since unfavourited is still
                    // followed; this is a safety net).
                    index.insert(doc.clone(), docs.len());
                    pending.docs.push(doc.clone());
                    docs.push(DocRequest {
                        since: self.cursor(&doc)?,
                        doc_id: doc.clone(),
                        changes: Vec::new(),
                    });
                    docs.len() - 1
                }
            };
            bytes += change.len();
            docs[i].changes.push(encode_change(&change));
            pending.seqs.push(seq);
        }
        Ok((CustomerSyncRequest::new(docs), pending))
    }

    /// Applies the server's answer to `sent`: marks what was uploaded as
    /// acknowledged, then each document's changes and cursor in a
    /// transaction of its own.
    pub fn apply_sync_answer(
        &mut self,
        sent: &Pending,
        answer: CustomerSyncResponse,
    ) -> Result<AnswerApplied> {
        let mut out = AnswerApplied::default();
        for d in &answer.docs {
            if !sent.docs.contains(&d.doc_id) {
                return Err(CoreError::Corrupt(format!(
                    "the server answered for document '{}', which this device did not ask for",
                    d.doc_id
                )));
            }
        }
        // What the server refused is taken back: every change of that
        // document it has not acknowledged (the rest build on the refused
        // ones), and the snapshot that may hold them.
        for d in answer.docs.iter().filter(|d| d.refused.is_some()) {
            let id = DocId::parse(&d.doc_id)
                .ok_or_else(|| CoreError::Corrupt(format!("bad document id '{}'", d.doc_id)))?;
            let taken = self.write(|w| {
                let n = w.conn.execute(
                    "DELETE FROM doc_changes WHERE doc_id = ?1 AND acked = 0",
                    [&d.doc_id],
                )?;
                w.conn
                    .execute("DELETE FROM doc_snapshots WHERE doc_id = ?1", [&d.doc_id])?;
                // Forgotten before the commit: the snapshots written after
                // it must not save the copy in memory, refused changes and all.
                w.docs.forget(&id);
                Ok(n)
            })?;
            self.docs.forget(&id);
            let why = d.refused.clone().unwrap_or_default();
            tracing::warn!("the server refused {}: {why}", d.doc_id);
            out.refused.push(DocFailure {
                doc_id: d.doc_id.clone(),
                error: format!("{why} ({taken} change(s) taken back)"),
            });
        }
        {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut mark =
                    tx.prepare_cached("UPDATE doc_changes SET acked = 1 WHERE seq = ?1")?;
                for s in &sent.seqs {
                    out.acked += mark.execute([s])? as u64;
                }
            }
            tx.commit()?;
        }
        for d in answer.docs {
            if d.refused.is_some() {
                continue;
            }
            out.more |= d.more;
            let key = d.doc_id.clone();
            match self.apply_doc(&d.doc_id, &d.changes, d.cursor) {
                Ok((new, known)) => {
                    out.new_changes += new;
                    out.known_changes += known;
                }
                Err(e) => {
                    tracing::warn!("changes to {key} were not applied: {e}");
                    out.failed.push(DocFailure {
                        doc_id: key,
                        error: e.to_string(),
                    });
                }
            }
        }
        Ok(out)
    }

    fn apply_doc(&mut self, doc_id: &str, changes: &[String], cursor: u64) -> Result<(u64, u64)> {
        let id = DocId::parse(doc_id)
            .ok_or_else(|| CoreError::Corrupt(format!("bad document id '{doc_id}'")))?;
        let mut decoded = Vec::with_capacity(changes.len());
        for c in changes {
            let bytes = decode_change(c).map_err(CoreError::Corrupt)?;
            decoded.push(crate::docs::decode_change(&bytes)?);
        }
        let cursor = i64::try_from(cursor)
            .map_err(|_| CoreError::Corrupt(format!("cursor {cursor} is out of range")))?;
        let hashes: Vec<[u8; 32]> = decoded.iter().map(|c| c.hash().0).collect();
        self.write(|w| {
            let max_before: i64 =
                w.conn
                    .query_row("SELECT COALESCE(MAX(seq), 0) FROM doc_changes", [], |r| {
                        r.get(0)
                    })?;
            let (new, known) = if decoded.is_empty() {
                (0, 0)
            } else {
                let applied = w.docs.apply_remote(w.conn, &id, decoded, true)?;
                (applied.new.len() as u64, applied.known)
            };
            // What came from the server is on the server: never sent back
            // (a copy of it held here unacknowledged included).
            w.conn.execute(
                "UPDATE doc_changes SET acked = 1 WHERE acked = 0 AND seq > ?1",
                [max_before],
            )?;
            let mut mark = w.conn.prepare_cached(
                "UPDATE doc_changes SET acked = 1 WHERE doc_id = ?1 AND hash = ?2",
            )?;
            for h in &hashes {
                mark.execute(params![doc_id, h.as_slice()])?;
            }
            w.conn
                .prepare_cached(
                    "INSERT INTO doc_cursors (doc_id, cursor, synced_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (doc_id) DO UPDATE SET cursor = MAX(cursor, excluded.cursor), synced_at = excluded.synced_at",
                )?
                .execute(params![doc_id, cursor, w.now])?;
            // A shop's name, as its public catalog gives it.
            if let DocId::Public { store } = &id
                && new > 0
            {
                let entry = w.docs.get(w.conn, &id)?;
                let name = crate::public_catalog::read(&entry.doc, store)?.name;
                if !name.is_empty() {
                    w.conn
                        .prepare_cached(
                            "INSERT INTO shops (store_id, name, seen_at) VALUES (?1, ?2, ?3)
                             ON CONFLICT (store_id) DO UPDATE SET name = excluded.name",
                        )?
                        .execute(params![store, name, w.now])?;
                }
            }
            Ok((new, known))
        })
    }

    /// Records the outcome of a sync attempt (`None`: it succeeded).
    pub fn record_sync_attempt(&self, error: Option<&str>) -> Result<()> {
        let now = self.now_ms().to_string();
        meta_set(&self.conn, KEY_LAST_ATTEMPT, &now)?;
        match error {
            None => {
                meta_set(&self.conn, KEY_LAST_SUCCESS, &now)?;
                meta_del(&self.conn, KEY_LAST_ERROR)?;
            }
            Some(e) => meta_set(&self.conn, KEY_LAST_ERROR, e)?,
        }
        Ok(())
    }

    /// The last successful sync (UTC ms) and the last error, if any.
    pub fn last_sync(&self) -> Result<(Option<i64>, Option<String>)> {
        Ok((
            meta(&self.conn, KEY_LAST_SUCCESS)?.and_then(|v| v.parse().ok()),
            meta(&self.conn, KEY_LAST_ERROR)?,
        ))
    }
}

/// `meta` key of the server epoch this device's cursors belong to.
const KEY_EPOCH: &str = "server_epoch";

impl CustomerStore {
    /// The server epoch this device's cursors belong to, if it synced.
    pub fn server_epoch(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [KEY_EPOCH], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Notes the epoch a sync answer came with. A new epoch means the server
    /// was restored from a backup: its sequence numbers and what it
    /// acknowledged are no longer true. Then every cursor starts again at 0,
    /// every change of a document this device writes is to be sent again
    /// (the server keeps one copy of each), and the shops' public catalogs
    /// are dropped (the restored server rebuilds them with new actors,
    /// whose values would lose to the old ones kept here). Returns whether
    /// it was new (the answer that carried it must not be applied).
    pub fn note_server_epoch(&mut self, epoch: &str) -> Result<bool> {
        let known: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [KEY_EPOCH], |r| {
                r.get(0)
            })
            .optional()?;
        if known.as_deref() == Some(epoch) {
            return Ok(false);
        }
        let me_id = self.customer_id.clone();
        let keep = self.own_doc();
        let reset = known.is_some();
        let public: Vec<String> = if reset {
            crate::docs::document_ids(&self.conn)?
                .into_iter()
                .filter(|d| matches!(d, DocId::Public { .. }))
                .map(|d| d.to_string())
                .collect()
        } else {
            Vec::new()
        };
        self.write(|w| {
            if reset {
                let me = Principal::customer(&me_id);
                let docs: Vec<String> = w
                    .conn
                    .prepare("SELECT doc_id FROM documents")?
                    .query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<_>>()?;
                for d in docs {
                    if DocId::parse(&d).is_some_and(|id| access::can_write(&me, &id)) {
                        w.conn
                            .execute("UPDATE doc_changes SET acked = 0 WHERE doc_id = ?1", [&d])?;
                    }
                }
                for d in &public {
                    w.conn
                        .execute("DELETE FROM doc_changes WHERE doc_id = ?1", [d])?;
                    w.conn
                        .execute("DELETE FROM doc_snapshots WHERE doc_id = ?1", [d])?;
                }
                w.conn.execute("DELETE FROM doc_cursors", [])?;
                // Before the commit, as above: no snapshot of a public
                // document whose changes were just deleted.
                w.docs.retain(&[&keep]);
            }
            w.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![KEY_EPOCH, epoch],
            )?;
            Ok(())
        })?;
        if reset {
            self.docs.retain(&[&keep]);
            tracing::info!("the server was restored from a backup: syncing everything again");
        }
        Ok(reset)
    }
}
