//! Changes of other devices' documents that this till holds and the server
//! does not have (found by the shop simulator): a sale carried here in a
//! bundle whose own till was then restored from an older backup exists only
//! here. A till never uploads another device's documents (one writer per
//! document), so this is shown, with what to do, instead of staying silent.
//!
//! Why the count is exact after a full sync: a held copy the server also has
//! comes back in a download (or already had) and is then marked acknowledged;
//! whatever stays unacknowledged, once the cursor is at the server's head,
//! the server has never received.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::access::{self, Principal};
use crate::error::Result;
use crate::ids::DocId;
use crate::store::Store;

/// Changes of one writer's documents held here and not (yet) on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldChanges {
    /// The till whose ledger they belong to, or `None` for the catalog.
    pub till_id: Option<String>,
    pub changes: u64,
}

impl HeldChanges {
    /// One line for people: what it is and what to do.
    pub fn message(&self) -> String {
        let whose = match &self.till_id {
            Some(t) => format!("till {t}'s sales and stock records"),
            None => "catalog edits of a manager's device".to_string(),
        };
        let there = match &self.till_id {
            Some(_) => "import it on that till",
            None => "import it on a manager's device",
        };
        format!(
            "this till holds {} change(s) of {whose} (from a bundle) that the server does not have yet; \
             they reach it when that device syncs. If that device was restored from a backup, \
             export a bundle here and {there}: it sends them itself (docs/OPERATIONS.md, \"Restoring a till\")",
            self.changes
        )
    }
}

impl Store {
    /// Unacknowledged changes of documents this till may not write, by writer.
    pub fn held_for_others(&self) -> Result<Vec<HeldChanges>> {
        let role = self
            .sync_config()?
            .map(|c| c.role)
            .unwrap_or(access::Role::Manager);
        let me = Principal {
            role,
            store: &self.info.store_id,
            till: &self.info.till_id,
            customer: None,
        };
        let mut by_writer: BTreeMap<Option<String>, u64> = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached(
            // `local = 0`: received, not made here (catalog edits a till made
            // before it was enrolled as a till are its own, and stay here).
            "SELECT doc_id, COUNT(*) FROM doc_changes WHERE acked = 0 AND local = 0 GROUP BY doc_id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let doc: String = row.get(0)?;
            let Some(id) = DocId::parse(&doc) else {
                continue;
            };
            if access::can_write(&me, &id) {
                continue;
            }
            let writer = match &id {
                DocId::Ledger { till, .. } => Some(till.clone()),
                _ => None,
            };
            *by_writer.entry(writer).or_default() += row.get::<_, i64>(1)?.max(0) as u64;
        }
        Ok(by_writer
            .into_iter()
            .map(|(till_id, changes)| HeldChanges { till_id, changes })
            .collect())
    }
}
