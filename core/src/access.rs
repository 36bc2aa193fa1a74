//! Who may read and write which document. Pure functions over document ids,
//! shared by the sync server (which enforces them) and the till (which only
//! sends what it may write).

use serde::{Deserialize, Serialize};

use crate::ids::DocId;

/// What an enrolled device may do in its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A till: sells and counts; writes its own ledger partitions.
    Till,
    /// A manager's till: everything a till does, and edits the catalog.
    Manager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Till => "till",
            Role::Manager => "manager",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "till" => Some(Role::Till),
            "manager" => Some(Role::Manager),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated device: its role, its store and its till id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal<'a> {
    pub role: Role,
    pub store: &'a str,
    pub till: &'a str,
}

/// A device reads every document of its own store, and nothing else.
pub fn can_read(p: &Principal<'_>, doc: &DocId) -> bool {
    match doc {
        DocId::Catalog { store }
        | DocId::Ledger { store, .. }
        | DocId::Public { store }
        | DocId::Orders { store } => store == p.store,
        DocId::Customer { .. } => false,
    }
}

/// A till writes only its own ledger partitions (and order statuses of its
/// store); a manager also writes the catalog. The public catalog is derived
/// by the server alone; customer documents belong to customers' devices.
/// (Bundles are not signed: letting any device upload another till's ledger
/// would let it forge that till's records, so changes of another till held
/// here go back to that till: `sync::held`.)
pub fn can_write(p: &Principal<'_>, doc: &DocId) -> bool {
    match doc {
        DocId::Catalog { store } => store == p.store && p.role == Role::Manager,
        DocId::Ledger { store, till, .. } => store == p.store && till == p.till,
        DocId::Orders { store } => store == p.store,
        DocId::Public { .. } | DocId::Customer { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn at() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn access_matrix() {
        let manager = Principal {
            role: Role::Manager,
            store: "s1",
            till: "t1",
        };
        let till = Principal {
            role: Role::Till,
            store: "s1",
            till: "t2",
        };
        let stranger = Principal {
            role: Role::Manager,
            store: "s2",
            till: "t9",
        };
        let catalog = DocId::catalog("s1");
        let own_t1 = DocId::ledger("s1", "t1", at(), 1);
        let own_t2 = DocId::ledger("s1", "t2", at(), 2);
        let public = DocId::Public { store: "s1".into() };
        let customer = DocId::Customer {
            customer: "c".into(),
        };
        // (principal, doc, read, write)
        let cases = [
            (&manager, &catalog, true, true),
            (&manager, &own_t1, true, true),
            (&manager, &own_t2, true, false),
            (&till, &catalog, true, false),
            (&till, &own_t1, true, false),
            (&till, &own_t2, true, true),
            (&stranger, &catalog, false, false),
            (&stranger, &own_t1, false, false),
            (&manager, &public, true, false),
            (&manager, &customer, false, false),
        ];
        for (p, d, r, w) in cases {
            assert_eq!(can_read(p, d), r, "read {p:?} {d}");
            assert_eq!(can_write(p, d), w, "write {p:?} {d}");
        }
        assert_eq!(Role::parse("manager"), Some(Role::Manager));
        assert_eq!(Role::parse("admin"), None);
    }
}
