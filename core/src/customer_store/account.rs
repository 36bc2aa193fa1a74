//! This device's identity: the customer id (local until the device signs up
//! or links), and its connection to a sync server (server, device id,
//! token). Adopting an account renames the documents kept under the local
//! id to the account's id: nothing was synced under the local id, and
//! Automerge changes do not name their document, so the lists made offline
//! before the account existed join it (and merge with the account's lists
//! on a linked device, as the document's layout allows).

use rusqlite::params;
use serde::Serialize;

use super::{CustomerStore, meta_del, meta_set};
use crate::docs::DocCache;
use crate::error::{CoreError, Result};
use crate::ids::DocId;

const KEY_LOCAL: &str = "customer_id_local";
const KEY_SERVER: &str = "server";
const KEY_DEVICE: &str = "device_id";
const KEY_TOKEN: &str = "token";
const KEY_NAME: &str = "account_name";
const KEY_ALLOW_HTTP: &str = "allow_insecure_http";

/// Who this device is, as `shopsync customer` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub customer_id: String,
    /// False until the device signs up or links (the id is then local).
    pub signed_up: bool,
    pub server: Option<String>,
    pub device_id: Option<String>,
    /// The name the account was signed up with.
    pub name: Option<String>,
}

/// What a sync needs (the token is redacted in `Debug`).
#[derive(Clone)]
pub struct CustomerSyncConfig {
    pub server: String,
    pub customer_id: String,
    pub device_id: String,
    pub token: String,
    /// Plain HTTP to a server that is not on this machine was allowed at
    /// sign-up or link.
    pub allow_insecure_http: bool,
}

impl std::fmt::Debug for CustomerSyncConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerSyncConfig")
            .field("server", &self.server)
            .field("customer_id", &self.customer_id)
            .field("device_id", &self.device_id)
            .field("token", &"<redacted>")
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

impl CustomerStore {
    pub fn account(&self) -> Result<Account> {
        Ok(Account {
            customer_id: self.customer_id.clone(),
            signed_up: self.meta(KEY_LOCAL)?.is_none(),
            server: self.meta(KEY_SERVER)?,
            device_id: self.meta(KEY_DEVICE)?,
            name: self.meta(KEY_NAME)?,
        })
    }

    /// The server connection, if this device has signed up or linked.
    pub fn sync_config(&self) -> Result<Option<CustomerSyncConfig>> {
        let (Some(server), Some(device_id), Some(token)) = (
            self.meta(KEY_SERVER)?,
            self.meta(KEY_DEVICE)?,
            self.meta(KEY_TOKEN)?,
        ) else {
            return Ok(None);
        };
        Ok(Some(CustomerSyncConfig {
            server,
            customer_id: self.customer_id.clone(),
            device_id,
            token,
            allow_insecure_http: self.meta(KEY_ALLOW_HTTP)?.as_deref() == Some("1"),
        }))
    }

    /// Refuses a second account on one device.
    pub fn ensure_no_account(&self) -> Result<()> {
        let a = self.account()?;
        if a.signed_up {
            return Err(CoreError::Conflict(format!(
                "this device already belongs to customer {}{}",
                a.customer_id,
                a.server.map(|s| format!(" on {s}")).unwrap_or_default()
            )));
        }
        Ok(())
    }

    /// Records the account this device signed up for or linked to, in one
    /// transaction: the documents kept under the local id move to
    /// `customer_id`, and the server, device and token are stored.
    pub fn adopt_account(&mut self, cfg: &CustomerSyncConfig, name: Option<&str>) -> Result<()> {
        self.ensure_no_account()?;
        let old = self.customer_id.clone();
        let new = cfg.customer_id.clone();
        crate::customer::check_store_id("customer_id", &new)?;
        let tx = self.conn.unchecked_transaction()?;
        if old != new {
            rename_documents(&tx, &old, &new)?;
        }
        meta_set(&tx, "customer_id", &new)?;
        meta_del(&tx, KEY_LOCAL)?;
        meta_set(&tx, KEY_SERVER, &cfg.server)?;
        meta_set(&tx, KEY_DEVICE, &cfg.device_id)?;
        meta_set(&tx, KEY_TOKEN, &cfg.token)?;
        if cfg.allow_insecure_http {
            meta_set(&tx, KEY_ALLOW_HTTP, "1")?;
        }
        if let Some(n) = name {
            meta_set(&tx, KEY_NAME, n)?;
        }
        tx.commit()?;
        self.customer_id = new;
        self.docs = DocCache::new(self.actor.clone());
        Ok(())
    }
}

/// The new id of a document kept under the local customer id.
fn renamed(doc: &DocId, old: &str, new: &str) -> Option<DocId> {
    match doc {
        DocId::Customer { customer } if customer == old => Some(DocId::Customer {
            customer: new.to_string(),
        }),
        DocId::OrderRequests { store, customer } if customer == old => {
            Some(DocId::order_requests(store, new))
        }
        DocId::OrderStatus { store, customer } if customer == old => {
            Some(DocId::order_status(store, new))
        }
        _ => None,
    }
}

fn rename_documents(conn: &rusqlite::Connection, old: &str, new: &str) -> Result<()> {
    for doc in crate::docs::document_ids(conn)? {
        let Some(to) = renamed(&doc, old, new) else {
            continue;
        };
        let (from, to_s) = (doc.to_string(), to.to_string());
        crate::docs::ensure_document(conn, &to)?;
        for table in [
            "doc_changes",
            "doc_snapshots",
            "refused_changes",
            "doc_cursors",
        ] {
            conn.execute(
                &format!("UPDATE {table} SET doc_id = ?1 WHERE doc_id = ?2"),
                params![to_s, from],
            )?;
        }
        conn.execute("DELETE FROM documents WHERE doc_id = ?1", [&from])?;
    }
    Ok(())
}
