//! Identifiers of stores, tills, records and documents.

use chrono::{DateTime, Datelike, Utc};

/// A fresh random identifier (UUID v7: time-ordered, so ids sort by creation).
pub fn new_id() -> String {
    match seeded_bytes() {
        Some(b) => uuid::Builder::from_random_bytes(b).into_uuid().to_string(),
        None => uuid::Uuid::now_v7().to_string(),
    }
}

/// A fresh Automerge actor (see `Store::open`: one per open).
pub fn new_actor() -> automerge::ActorId {
    match seeded_bytes() {
        Some(b) => automerge::ActorId::from(b),
        None => automerge::ActorId::random(),
    }
}

thread_local! {
    /// (counter, generator) when ids on this thread are reproducible.
    static SEEDED: std::cell::RefCell<Option<(u64, rand::rngs::StdRng)>> =
        const { std::cell::RefCell::new(None) };
}

/// Makes record ids and actors made on this thread reproducible from `seed`
/// (`None`: random again). For the shop simulator, which replays a seeded
/// history exactly; ids still sort by creation on this thread.
pub fn seed_ids_on_this_thread(seed: Option<u64>) {
    use rand::SeedableRng;
    SEEDED.with(|s| *s.borrow_mut() = seed.map(|v| (0, rand::rngs::StdRng::seed_from_u64(v))));
}

fn seeded_bytes() -> Option<[u8; 16]> {
    use rand::Rng;
    SEEDED.with(|s| {
        let mut s = s.borrow_mut();
        let (counter, rng) = s.as_mut()?;
        *counter += 1;
        let mut b = [0u8; 16];
        rng.fill(&mut b[..]);
        // 48 bits of counter first (as v7 puts its time there): ids sort by
        // creation; the version and variant bits come after.
        b[..6].copy_from_slice(&counter.to_be_bytes()[2..]);
        Some(b)
    })
}

/// Ledger partitions hold at most this many records; a busier till-month
/// continues in `{yyyy-mm}.2`, `{yyyy-mm}.3`, … so no document grows past what
/// loads in a fraction of a second.
pub const PARTITION_MAX_RECORDS: u64 = 50_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocId {
    Catalog {
        store: String,
    },
    Ledger {
        store: String,
        till: String,
        /// `yyyy-mm`, or `yyyy-mm.N` for overflow partitions.
        period: String,
    },
    Customer {
        customer: String,
    },
    Public {
        store: String,
    },
    /// Pickup orders one customer sends one store, and their
    /// cancellations: written by that customer's devices.
    OrderRequests {
        store: String,
        customer: String,
    },
    /// The store's answers to one customer's orders (accepted, ready,
    /// rejected, collected): written by that store's devices.
    OrderStatus {
        store: String,
        customer: String,
    },
}

impl DocId {
    pub fn catalog(store: &str) -> Self {
        DocId::Catalog {
            store: store.to_string(),
        }
    }

    pub fn ledger(store: &str, till: &str, at: DateTime<Utc>, part: u32) -> Self {
        let month = format!("{:04}-{:02}", at.year(), at.month());
        let period = if part <= 1 {
            month
        } else {
            format!("{month}.{part}")
        };
        DocId::Ledger {
            store: store.to_string(),
            till: till.to_string(),
            period,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            DocId::Catalog { .. } => "catalog",
            DocId::Ledger { .. } => "ledger",
            DocId::Customer { .. } => "customer",
            DocId::Public { .. } => "public",
            DocId::OrderRequests { .. } | DocId::OrderStatus { .. } => "orders",
        }
    }

    pub fn store(&self) -> Option<&str> {
        match self {
            DocId::Catalog { store }
            | DocId::Ledger { store, .. }
            | DocId::Public { store }
            | DocId::OrderRequests { store, .. }
            | DocId::OrderStatus { store, .. } => Some(store),
            DocId::Customer { .. } => None,
        }
    }

    /// The customer a customer document or an order document belongs to.
    pub fn customer(&self) -> Option<&str> {
        match self {
            DocId::Customer { customer }
            | DocId::OrderRequests { customer, .. }
            | DocId::OrderStatus { customer, .. } => Some(customer),
            _ => None,
        }
    }

    pub fn order_requests(store: &str, customer: &str) -> Self {
        DocId::OrderRequests {
            store: store.to_string(),
            customer: customer.to_string(),
        }
    }

    pub fn order_status(store: &str, customer: &str) -> Self {
        DocId::OrderStatus {
            store: store.to_string(),
            customer: customer.to_string(),
        }
    }

    /// A ledger partition's part number (1 for the month's first).
    pub fn part(&self) -> Option<u32> {
        match self {
            DocId::Ledger { period, .. } => Some(
                period
                    .split_once('.')
                    .and_then(|(_, n)| n.parse().ok())
                    .unwrap_or(1),
            ),
            _ => None,
        }
    }

    pub fn till(&self) -> Option<&str> {
        match self {
            DocId::Ledger { till, .. } => Some(till),
            _ => None,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let parts: Vec<&str> = text.split('/').collect();
        let ok =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        match parts.as_slice() {
            ["store", store, "catalog"] if ok(store) => Some(DocId::catalog(store)),
            ["store", store, "public"] if ok(store) => Some(DocId::Public {
                store: store.to_string(),
            }),
            ["store", store, "orders", customer, "requests"] if ok(store) && ok(customer) => {
                Some(DocId::order_requests(store, customer))
            }
            ["store", store, "orders", customer, "status"] if ok(store) && ok(customer) => {
                Some(DocId::order_status(store, customer))
            }
            ["store", store, "ledger", till, period]
                if ok(store) && ok(till) && valid_period(period) =>
            {
                Some(DocId::Ledger {
                    store: store.to_string(),
                    till: till.to_string(),
                    period: period.to_string(),
                })
            }
            ["customer", customer] if ok(customer) => Some(DocId::Customer {
                customer: customer.to_string(),
            }),
            _ => None,
        }
    }
}

fn valid_period(p: &str) -> bool {
    let (month, part) = match p.split_once('.') {
        Some((m, n)) => (m, Some(n)),
        None => (p, None),
    };
    let b = month.as_bytes();
    let month_ok = b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[5..].iter().all(u8::is_ascii_digit);
    let month_ok = month_ok
        && matches!(
            &month[5..],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        );
    month_ok && part.is_none_or(valid_part)
}

/// Overflow partitions are numbered 2..=999 (`DocId::ledger` never writes
/// `.1`), written without leading zeros, so one partition has one name and
/// a hostile id cannot carry a thousand digits.
pub const MAX_PARTITION: u32 = 999;

fn valid_part(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 3
        && !n.starts_with('0')
        && n.bytes().all(|c| c.is_ascii_digit())
        && n.parse::<u32>()
            .is_ok_and(|v| (2..=MAX_PARTITION).contains(&v))
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DocId::Catalog { store } => write!(f, "store/{store}/catalog"),
            DocId::Ledger {
                store,
                till,
                period,
            } => write!(f, "store/{store}/ledger/{till}/{period}"),
            DocId::Customer { customer } => write!(f, "customer/{customer}"),
            DocId::Public { store } => write!(f, "store/{store}/public"),
            DocId::OrderRequests { store, customer } => {
                write!(f, "store/{store}/orders/{customer}/requests")
            }
            DocId::OrderStatus { store, customer } => {
                write!(f, "store/{store}/orders/{customer}/status")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn doc_ids_round_trip() {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 9, 12, 0, 0)
            .single()
            .unwrap_or_default();
        let ids = [
            DocId::catalog("s1"),
            DocId::ledger("s1", "t1", at, 1),
            DocId::ledger("s1", "t1", at, 3),
            DocId::ledger("s1", "t1", at, 999),
            DocId::Customer {
                customer: "c1".into(),
            },
            DocId::Public { store: "s1".into() },
            DocId::order_requests("s1", "c1"),
            DocId::order_status("s1", "c1"),
        ];
        for id in ids {
            assert_eq!(DocId::parse(&id.to_string()), Some(id.clone()), "{id}");
        }
        assert_eq!(
            DocId::ledger("s", "t", at, 1).to_string(),
            "store/s/ledger/t/2026-03"
        );
        assert_eq!(
            DocId::ledger("s", "t", at, 2).to_string(),
            "store/s/ledger/t/2026-03.2"
        );
    }

    #[test]
    fn rejects_malformed_doc_ids() {
        for bad in [
            "",
            "store//catalog",
            "store/s/catalog/x",
            "store/s/ledger/t/2026-3",
            "store/s/ledger/t/2026-03.",
            // Partition suffixes are small numbers: 2..=999, no leading zero.
            "store/s/ledger/t/2026-03.0",
            "store/s/ledger/t/2026-03.1",
            "store/s/ledger/t/2026-03.02",
            "store/s/ledger/t/2026-03.1000",
            "store/s/ledger/t/2026-03.99999999999999999999999",
            "store/s/ledger/t/2026-13",
            "store/s/ledger/t/2026-00",
            "store/../catalog",
            "customer/",
            "other/x",
        ] {
            assert_eq!(DocId::parse(bad), None, "{bad}");
        }
    }
}
