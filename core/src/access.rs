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
    /// A customer's device: its own `customer/{id}` document and shops'
    /// public catalogs, nothing of any store's own documents. (Customers
    /// sign up on the server: docs/PROTOCOL.md, "Customer accounts".)
    Customer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Till => "till",
            Role::Manager => "manager",
            Role::Customer => "customer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "till" => Some(Role::Till),
            "manager" => Some(Role::Manager),
            "customer" => Some(Role::Customer),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated device: its role, its store and its till id (for a
/// till or a manager), or its customer id (for a customer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal<'a> {
    pub role: Role,
    /// The store of a till or a manager; not used for a customer.
    pub store: &'a str,
    /// The till id of a till or a manager; not used for a customer.
    pub till: &'a str,
    /// The customer whose device this is. Only looked at for
    /// [`Role::Customer`]: a till or a manager is nobody's customer device,
    /// whatever this says; a customer device without it reads public
    /// catalogs only.
    pub customer: Option<&'a str>,
}

impl<'a> Principal<'a> {
    /// A customer's device.
    pub fn customer(customer: &'a str) -> Self {
        Principal {
            role: Role::Customer,
            store: "",
            till: "",
            customer: Some(customer),
        }
    }

    /// True for a customer device of `customer`.
    fn is_customer(&self, customer: &str) -> bool {
        self.role == Role::Customer && self.customer == Some(customer)
    }
}

/// A till or a manager reads every document of its own store (its orders
/// from every customer included), and nothing else. A customer device reads
/// its own customer document, its own order documents with any store, and
/// the public catalog of any store (whether a store publishes one is
/// checked where public catalogs are made), and nothing else: no catalog or
/// ledger of a store, no other customer's document or orders.
pub fn can_read(p: &Principal<'_>, doc: &DocId) -> bool {
    match p.role {
        Role::Till | Role::Manager => match doc {
            DocId::Catalog { store }
            | DocId::Ledger { store, .. }
            | DocId::Public { store }
            | DocId::OrderRequests { store, .. }
            | DocId::OrderStatus { store, .. } => store == p.store,
            DocId::Customer { .. } => false,
        },
        Role::Customer => match doc {
            DocId::Customer { customer }
            | DocId::OrderRequests { customer, .. }
            | DocId::OrderStatus { customer, .. } => p.is_customer(customer),
            DocId::Public { .. } => true,
            DocId::Catalog { .. } | DocId::Ledger { .. } => false,
        },
    }
}

/// A till writes only its own ledger partitions (and the order statuses of
/// its store, for any customer); a manager also writes the catalog. The
/// public catalog is derived by the server alone; a customer device writes
/// its own customer document and its own order requests (to any store),
/// nothing else: one kind of writer per document.
/// (Bundles are not signed: letting any device upload another till's ledger
/// would let it forge that till's records, so changes of another till held
/// here go back to that till: `sync::held`.)
pub fn can_write(p: &Principal<'_>, doc: &DocId) -> bool {
    if p.role == Role::Customer {
        return matches!(doc,
            DocId::Customer { customer } | DocId::OrderRequests { customer, .. }
                if p.is_customer(customer));
    }
    match doc {
        DocId::Catalog { store } => store == p.store && p.role == Role::Manager,
        DocId::Ledger { store, till, .. } => store == p.store && till == p.till,
        DocId::OrderStatus { store, .. } => store == p.store,
        DocId::Public { .. } | DocId::Customer { .. } | DocId::OrderRequests { .. } => false,
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
            customer: None,
        };
        let till = Principal {
            role: Role::Till,
            store: "s1",
            till: "t2",
            customer: None,
        };
        let stranger = Principal {
            role: Role::Manager,
            store: "s2",
            till: "t9",
            customer: None,
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
        for role in [Role::Till, Role::Manager, Role::Customer] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    /// Every document kind, of two stores and two customers.
    fn all_docs() -> Vec<DocId> {
        let mut docs = Vec::new();
        for s in ["s1", "s2"] {
            docs.push(DocId::catalog(s));
            docs.push(DocId::ledger(s, "t1", at(), 1));
            docs.push(DocId::ledger(s, "t1", at(), 2));
            docs.push(DocId::Public { store: s.into() });
            for c in ["c1", "c2"] {
                docs.push(DocId::order_requests(s, c));
                docs.push(DocId::order_status(s, c));
            }
        }
        for c in ["c1", "c2"] {
            docs.push(DocId::Customer { customer: c.into() });
        }
        docs
    }

    /// The whole customer × document × read/write matrix.
    #[test]
    fn customer_access_matrix() {
        let c1 = Principal::customer("c1");
        // A customer device that somehow carries a store and a till id
        // still gets a customer's rights only.
        let c1_with_store = Principal {
            role: Role::Customer,
            store: "s1",
            till: "t1",
            customer: Some("c1"),
        };
        let no_id = Principal {
            role: Role::Customer,
            store: "s1",
            till: "t1",
            customer: None,
        };
        for doc in all_docs() {
            let (read, write) = match &doc {
                DocId::Customer { customer } if customer == "c1" => (true, true),
                DocId::OrderRequests { customer, .. } if customer == "c1" => (true, true),
                DocId::OrderStatus { customer, .. } if customer == "c1" => (true, false),
                DocId::Public { .. } => (true, false),
                _ => (false, false),
            };
            for p in [&c1, &c1_with_store] {
                assert_eq!(can_read(p, &doc), read, "read {p:?} {doc}");
                assert_eq!(can_write(p, &doc), write, "write {p:?} {doc}");
            }
            let public = matches!(doc, DocId::Public { .. });
            assert_eq!(can_read(&no_id, &doc), public, "read {no_id:?} {doc}");
            assert!(!can_write(&no_id, &doc), "write {no_id:?} {doc}");
        }
    }

    /// A till or a manager that names a customer is still a till or a
    /// manager: its rights are exactly those without the name.
    #[test]
    fn store_devices_ignore_a_customer_id() {
        for role in [Role::Till, Role::Manager] {
            for till in ["t1", "t2"] {
                let plain = Principal {
                    role,
                    store: "s1",
                    till,
                    customer: None,
                };
                let named = Principal {
                    customer: Some("c1"),
                    ..plain
                };
                for doc in all_docs() {
                    assert_eq!(can_read(&named, &doc), can_read(&plain, &doc), "{doc}");
                    assert_eq!(can_write(&named, &doc), can_write(&plain, &doc), "{doc}");
                    if matches!(doc, DocId::Customer { .. }) {
                        assert!(!can_read(&named, &doc) && !can_write(&named, &doc));
                    }
                }
            }
        }
    }

    /// A store's devices and order documents: every customer's orders of
    /// their own store readable, statuses writable, requests never; another
    /// store's orders neither.
    #[test]
    fn store_devices_and_orders() {
        for role in [Role::Till, Role::Manager] {
            let p = Principal {
                role,
                store: "s1",
                till: "t1",
                customer: None,
            };
            for c in ["c1", "c2"] {
                let req = DocId::order_requests("s1", c);
                let status = DocId::order_status("s1", c);
                assert!(can_read(&p, &req) && !can_write(&p, &req), "{role} {req}");
                assert!(
                    can_read(&p, &status) && can_write(&p, &status),
                    "{role} {status}"
                );
                for other in [DocId::order_requests("s2", c), DocId::order_status("s2", c)] {
                    assert!(!can_read(&p, &other) && !can_write(&p, &other), "{other}");
                }
            }
        }
    }

    #[test]
    fn order_document_ids_round_trip() {
        for doc in all_docs() {
            assert_eq!(DocId::parse(&doc.to_string()), Some(doc.clone()), "{doc}");
        }
        assert_eq!(
            DocId::order_requests("s1", "c1").to_string(),
            "store/s1/orders/c1/requests"
        );
        assert_eq!(DocId::parse("store/s1/orders"), None);
        assert_eq!(DocId::parse("store/s1/orders/c1/other"), None);
        assert_eq!(DocId::parse("store/s1/orders/c_1/status"), None);
        assert_eq!(DocId::order_status("s1", "c1").customer(), Some("c1"));
    }
}
