//! restore: the server's epoch (docs/PROTOCOL.md, "Server epoch").
//!
//! A server database has an identity per lifetime, sent with every sync
//! answer. Cursors and acknowledgements are only true within one epoch: a
//! server restored from a backup has lost the changes stored after it, and
//! its sequence numbers restart. A till that meets a new epoch (or a server
//! head below its cursor, a restored server that kept its epoch) therefore
//! forgets both: every stored change of a document it may write goes back
//! into the outbox (the server keeps one copy per hash) and the cursor goes
//! back to 0 (it skips, by hash, what it already has).

use rusqlite::params;

use super::KEY_CURSOR;
use crate::error::Result;
use crate::store::Store;

pub(crate) const KEY_EPOCH: &str = "sync.server_epoch";

pub use super::wire::EPOCH_HEADER;

/// What a till does with the epoch of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochCheck {
    /// Same lifetime (or the first one seen, now recorded): apply the answer.
    Same,
    /// The server was restored: the outbox holds every change again and the
    /// cursor is 0. Drop the answer and sync again.
    Reset,
}

impl Store {
    /// The server epoch this till's cursor belongs to, if it has seen one.
    pub fn server_epoch(&self) -> Result<Option<String>> {
        self.meta_get(KEY_EPOCH)
    }

    /// Compares the epoch of an answer (and its head with the cursor the
    /// request carried) with what this till knows, and resets the cursor and
    /// the acknowledgements when the server is not the one they belong to.
    pub fn check_server_epoch(
        &mut self,
        epoch: Option<&str>,
        since: u64,
        head: u64,
    ) -> Result<EpochCheck> {
        let known = self.server_epoch()?;
        let new_epoch = matches!((&known, epoch), (Some(k), Some(e)) if k != e);
        let went_back = head < since;
        if !new_epoch && !went_back {
            if known.is_none()
                && let Some(e) = epoch
            {
                self.meta_set(KEY_EPOCH, e)?;
            }
            return Ok(EpochCheck::Same);
        }
        tracing::warn!(
            known = ?known, epoch = ?epoch, since, head,
            "the sync server was restored: sending every change again and downloading from 0"
        );
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("UPDATE doc_changes SET acked = 0 WHERE acked = 1", [])?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, '0')
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [KEY_CURSOR],
        )?;
        match epoch {
            Some(e) => tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![KEY_EPOCH, e],
            )?,
            None => tx.execute("DELETE FROM meta WHERE key = ?1", [KEY_EPOCH])?,
        };
        tx.commit()?;
        Ok(EpochCheck::Reset)
    }
}
