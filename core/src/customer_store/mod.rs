//! A customer's device: one SQLite file (`migrations/customer`) holding the
//! customer's own document, its pickup orders with shops, the public
//! catalogs it follows, its identity with the sync server and one sync
//! cursor per followed document.
//!
//! Every write runs in one IMMEDIATE transaction, like the till's
//! `Store::write`: the Automerge change and every SQLite row it needs
//! commit together, or an error is returned and nothing changes (the
//! in-memory document is dropped and reloaded from the file).
//!
//! A device works before it has an account: the customer's document is
//! then kept under a local id, renamed to the account's id at sign-up or
//! link (`account.rs`). Lists and items are named by id or by an
//! unambiguous name or prefix (`resolve.rs`); shops by id or by the name
//! the device last saw (`shops.rs`).

mod account;
mod db;
mod lists;
mod orders;
mod resolve;
mod shops;
mod sync_state;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use automerge::{ActorId, AutoCommit};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::docs::DocCache;
use crate::error::{CoreError, Result};
use crate::ids::{DocId, new_id};

pub use account::{Account, CustomerSyncConfig};
pub use orders::SentOrder;
pub use shops::{CatalogView, KnownShop};
pub use sync_state::{AnswerApplied, DocFailure, Pending};

/// `meta.kind` of a customer's file.
const KIND: &str = "customer";

pub struct CustomerStore {
    conn: Connection,
    path: PathBuf,
    actor: ActorId,
    docs: DocCache,
    customer_id: String,
    fixed_now: Option<i64>,
}

/// The open write transaction.
pub(crate) struct Tx<'a> {
    pub conn: &'a Connection,
    pub docs: &'a mut DocCache,
    pub now: i64,
}

impl Tx<'_> {
    /// One local change to a document (`None`: `edit` changed nothing).
    pub fn edit(
        &mut self,
        doc: &DocId,
        edit: impl FnOnce(&mut AutoCommit) -> Result<()>,
    ) -> Result<Option<automerge::ChangeHash>> {
        self.docs.commit_local(self.conn, doc, self.now, edit)
    }
}

impl CustomerStore {
    /// Creates a customer's file at `path` (refused if one is there), with a
    /// local customer id until the device signs up or links.
    pub fn create(path: &Path) -> Result<CustomerStore> {
        let conn = db::open(path)?;
        if meta(&conn, "kind")?.is_some() {
            return Err(CoreError::AlreadyInitialized(path.display().to_string()));
        }
        let customer_id = new_id();
        let actor = crate::ids::new_actor();
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let put = || -> Result<()> {
            let mut put = conn.prepare("INSERT INTO meta (key, value) VALUES (?1, ?2)")?;
            put.execute(["kind", KIND])?;
            put.execute(["customer_id", &customer_id])?;
            put.execute(["customer_id_local", "1"])?;
            put.execute(["actor", &actor.to_hex_string()])?;
            Ok(())
        };
        if let Err(e) = put() {
            conn.execute_batch("ROLLBACK")?;
            return Err(e);
        }
        conn.execute_batch("COMMIT")?;
        Ok(CustomerStore::from_parts(conn, path, customer_id))
    }

    /// Opens an existing customer's file.
    pub fn open(path: &Path) -> Result<CustomerStore> {
        if !path.exists() {
            return Err(CoreError::NotInitialized(path.display().to_string()));
        }
        let conn = db::open(path)?;
        if meta(&conn, "kind")?.as_deref() != Some(KIND) {
            return Err(CoreError::NotInitialized(path.display().to_string()));
        }
        let customer_id = meta(&conn, "customer_id")?
            .ok_or_else(|| CoreError::Corrupt("the customer's file has no customer id".into()))?;
        Ok(CustomerStore::from_parts(conn, path, customer_id))
    }

    /// Opens the file at `path`, creating it first if there is none.
    pub fn open_or_create(path: &Path) -> Result<CustomerStore> {
        match CustomerStore::open(path) {
            Err(CoreError::NotInitialized(_)) => CustomerStore::create(path),
            other => other,
        }
    }

    fn from_parts(conn: Connection, path: &Path, customer_id: String) -> CustomerStore {
        // A fresh actor for every open, as on a till (`Store::open`): a file
        // restored from a backup or copied can never reuse (actor, seq).
        let actor = crate::ids::new_actor();
        CustomerStore {
            conn,
            path: path.to_path_buf(),
            docs: DocCache::new(actor.clone()),
            actor,
            customer_id,
            fixed_now: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The customer's id: the account's after sign-up or link, a local one
    /// before.
    pub fn customer_id(&self) -> &str {
        &self.customer_id
    }

    /// The connection, for read-only queries by tests and tools.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Pins the clock (tests). `None` returns to real time.
    pub fn set_now(&mut self, at: Option<DateTime<Utc>>) {
        self.fixed_now = at.map(|t| t.timestamp_millis());
    }

    pub fn now_ms(&self) -> i64 {
        self.fixed_now
            .unwrap_or_else(|| Utc::now().timestamp_millis())
    }

    /// The customer's own document's id.
    pub fn own_doc(&self) -> DocId {
        DocId::Customer {
            customer: self.customer_id.clone(),
        }
    }

    /// Runs `f` in one IMMEDIATE transaction: all of it or nothing.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        let now = self.now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut w = Tx {
            conn: &tx,
            docs: &mut self.docs,
            now,
        };
        let out = match f(&mut w) {
            Ok(v) => v,
            Err(e) => {
                drop(tx);
                self.docs.discard_dirty();
                return Err(e);
            }
        };
        if let Err(e) = tx.commit() {
            self.docs.discard_dirty();
            return Err(e.into());
        }
        self.docs.clear_dirty();
        if let Err(e) = self.maintenance() {
            tracing::warn!("could not write a snapshot (will retry): {e}");
        }
        Ok(out)
    }

    /// Writes the snapshots that have become due.
    fn maintenance(&mut self) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = self.docs.snapshot_due(&tx)?;
        if n > 0 {
            tx.commit()?;
        }
        Ok(n)
    }

    /// A document as stored here (empty if it never was).
    pub(crate) fn doc(&mut self, id: &DocId) -> Result<&AutoCommit> {
        Ok(&self.docs.get(&self.conn, id)?.doc)
    }

    /// Edits the customer's own document in one transaction.
    pub(crate) fn edit_own(
        &mut self,
        edit: impl FnOnce(&mut AutoCommit) -> Result<()>,
    ) -> Result<()> {
        let own = self.own_doc();
        self.write(|w| {
            w.edit(&own, edit)?;
            Ok(())
        })
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        meta(&self.conn, key)
    }
}

fn meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([key, value])?;
    Ok(())
}

fn meta_del(conn: &Connection, key: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM meta WHERE key = ?1")?
        .execute([key])?;
    Ok(())
}
