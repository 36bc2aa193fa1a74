//! A history: the shop's settings and a list of events, all drawn from one
//! seed. Events name tills and products by index and pick sales by number,
//! so any subset of a history is still a history (that is how a failing
//! history is shrunk).

use std::fmt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::server::NetFault;

/// How a till's process dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    /// Killed before the commit: the process restarts.
    Killed,
    /// The commit fails (disk full, I/O error) and the process carries on.
    CommitFails,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A customer takes goods from the shelves to a till and pays.
    Sell {
        till: usize,
        items: Vec<(usize, i64)>,
    },
    /// A customer brings back goods of a sale (picked among the sales this
    /// till knows); `restock`: they go back on the shelf.
    Refund {
        till: usize,
        pick: usize,
        qty: i64,
        restock: bool,
    },
    /// A till refunds a sale whose goods were already returned at another
    /// till it has not heard from (the double refund): nothing comes back.
    MistakenRefund {
        till: usize,
        pick: usize,
    },
    /// A delivery arrives and is received at a till.
    Receive {
        till: usize,
        product: usize,
        qty: i64,
    },
    /// Goods are damaged and thrown away, recorded at a till.
    Damage {
        till: usize,
        product: usize,
        qty: i64,
    },
    /// Staff count a shelf (opening a count on the till if none is open).
    CountLine {
        till: usize,
        product: usize,
        recount: bool,
    },
    /// The till's open count is posted.
    CountPost {
        till: usize,
    },
    /// The manager's device changes a price.
    PriceChange {
        product: usize,
        price: i64,
    },
    /// The manager's device adds a product (its shelf starts empty).
    NewProduct,
    /// A cart is parked at a till, and one is resumed.
    Park {
        till: usize,
        product: usize,
    },
    Resume {
        till: usize,
    },
    /// A till syncs; each exchange may meet a fault.
    Sync {
        till: usize,
        faults: Vec<Option<NetFault>>,
    },
    /// Held-back requests of a till's link arrive late at the server.
    DeliverLate {
        till: usize,
    },
    /// A bundle of one till's documents is carried to another.
    Bundle {
        from: usize,
        to: usize,
    },
    /// The next write of a till (a sale of one item) dies before commit.
    Crash {
        till: usize,
        product: usize,
        how: Crash,
    },
    /// A copy of a till's file is taken (a nightly backup, a disk image).
    Backup {
        till: usize,
    },
    /// A till is restored from one of its copies.
    Restore {
        till: usize,
        pick: usize,
    },
    /// A till's clock is set wrong (or right again: offset 0).
    Clock {
        till: usize,
        offset_ms: i64,
    },
    /// The server's operator takes a backup, or restores the latest.
    ServerBackup,
    ServerRestore,
    /// A hostile till uploads a record no projection can apply.
    Hostile {
        kind: u8,
    },
    /// A till's network goes away, or comes back.
    Offline {
        till: usize,
        offline: bool,
    },
    // -- pickup orders (drawn from a second stream of the seed) --
    /// A customer sends a pickup order: lines of (product, quantity), and
    /// a free-text line too if `text`.
    Order {
        customer: usize,
        lines: Vec<(usize, i64)>,
        text: bool,
    },
    /// A customer cancels an order it sees sent or accepted.
    Cancel {
        customer: usize,
        pick: usize,
    },
    /// A till accepts a sent order it knows; bit k of `unavailable`: line
    /// k+1 cannot be supplied.
    Accept {
        till: usize,
        pick: usize,
        unavailable: u8,
    },
    /// A till marks an accepted order ready.
    Ready {
        till: usize,
        pick: usize,
    },
    /// A till rejects an open order.
    Reject {
        till: usize,
        pick: usize,
    },
    /// The customer collects an accepted or ready order at a till (a sale
    /// at the counter: the goods leave the shelves).
    Collect {
        till: usize,
        pick: usize,
    },
    /// A customer's device syncs its order documents (and the public
    /// catalog); each exchange may meet a fault.
    CustomerSync {
        customer: usize,
        faults: Vec<Option<NetFault>>,
    },
    /// The server derives the public catalog (as its background task would).
    Derive,
}

/// A whole history.
#[derive(Debug, Clone)]
pub struct History {
    pub seed: u64,
    pub tills: usize,
    pub products: usize,
    /// Customers signed up at the start (1 or 2).
    pub customers: usize,
    /// (index in the seed's full history, milliseconds since the event
    /// before, the event).
    pub steps: Vec<(usize, u32, Event)>,
}

const DAY_MS: i64 = 24 * 3600 * 1000;

fn clock_offset(rng: &mut StdRng) -> i64 {
    let sign = if rng.random_bool(0.5) { 1 } else { -1 };
    let ms = match rng.random_range(0..4) {
        0 => rng.random_range(5_000..60_000),
        1 => rng.random_range(60_000..3_600_000),
        2 => rng.random_range(DAY_MS..30 * DAY_MS),
        _ => 365 * DAY_MS,
    };
    sign * ms
}

fn net_fault(rng: &mut StdRng) -> NetFault {
    match rng.random_range(0..6) {
        0 => NetFault::DropRequest,
        1 => NetFault::DropAnswer,
        2 => NetFault::Duplicate,
        3 => NetFault::TruncateAnswer,
        4 => NetFault::TruncateRequest,
        _ => NetFault::Delay,
    }
}

impl History {
    /// The history of `seed`: `events` events (0: drawn from the seed).
    pub fn generate(seed: u64, events: usize) -> History {
        let mut rng = StdRng::seed_from_u64(seed);
        let tills = rng.random_range(2..=4usize);
        let products = rng.random_range(2..=5usize);
        let n = if events == 0 {
            rng.random_range(20..=120)
        } else {
            events
        };
        // Fault-heavy and fault-free histories both: a history gets a mood.
        let fault_rate = [0.0, 0.1, 0.3][rng.random_range(0..3)];
        let clocks_wrong = rng.random_bool(0.35);
        let mut steps = Vec::with_capacity(n);
        let mut new_products = 0usize;
        for index in 0..n {
            let dt = rng.random_range(1_000..120_000u32);
            let till = rng.random_range(0..tills);
            let product = rng.random_range(0..products + new_products);
            let roll = rng.random_range(0..1000);
            let e = match roll {
                0..300 => {
                    let lines = rng.random_range(1..=3);
                    let items = (0..lines)
                        .map(|_| {
                            (
                                rng.random_range(0..products + new_products),
                                rng.random_range(1..=3i64),
                            )
                        })
                        .collect();
                    Event::Sell { till, items }
                }
                300..360 => Event::Refund {
                    till,
                    pick: rng.random_range(0..1000),
                    qty: rng.random_range(1..=2),
                    restock: rng.random_bool(0.8),
                },
                360..375 => Event::MistakenRefund {
                    till,
                    pick: rng.random_range(0..1000),
                },
                375..430 => Event::Receive {
                    till,
                    product,
                    qty: rng.random_range(1..=24),
                },
                430..450 => Event::Damage {
                    till,
                    product,
                    qty: rng.random_range(1..=2),
                },
                450..520 => Event::CountLine {
                    till,
                    product,
                    recount: rng.random_bool(0.2),
                },
                520..560 => Event::CountPost { till },
                560..580 => Event::PriceChange {
                    product,
                    price: rng.random_range(50..2_000),
                },
                580..588 => {
                    new_products += 1;
                    Event::NewProduct
                }
                588..600 => Event::Park { till, product },
                600..610 => Event::Resume { till },
                610..800 => {
                    // Most syncs are one or two exchanges: the first one
                    // meets a fault most often.
                    let k = rng.random_range(1..=3);
                    let faults = (0..k)
                        .map(|i| {
                            let p = if i == 0 { fault_rate * 1.5 } else { fault_rate };
                            rng.random_bool(p).then(|| net_fault(&mut rng))
                        })
                        .collect();
                    Event::Sync { till, faults }
                }
                800..815 => Event::DeliverLate { till },
                815..835 => Event::Bundle {
                    from: till,
                    to: rng.random_range(0..tills),
                },
                835..855 => Event::Crash {
                    till,
                    product,
                    how: if rng.random_bool(0.5) {
                        Crash::Killed
                    } else {
                        Crash::CommitFails
                    },
                },
                855..880 => Event::Backup { till },
                880..895 => Event::Restore {
                    till,
                    pick: rng.random_range(0..1000),
                },
                895..925 => Event::Clock {
                    till,
                    offset_ms: if clocks_wrong && rng.random_bool(0.7) {
                        clock_offset(&mut rng)
                    } else {
                        0
                    },
                },
                925..935 => Event::ServerBackup,
                935..942 => Event::ServerRestore,
                942..955 => Event::Hostile {
                    kind: rng.random_range(0..4),
                },
                _ => Event::Offline {
                    till,
                    offline: rng.random_bool(0.6),
                },
            };
            steps.push((index, dt, e));
        }
        // Pickup orders come from a second stream of the same seed, woven
        // in after the shop's events with indices after theirs: the shop's
        // events (and so every shrunk regression) stay what they were.
        let mut orng = StdRng::seed_from_u64(seed ^ 0x6f72_6465_7273_0008);
        let customers = orng.random_range(1..=2usize);
        let base = std::mem::take(&mut steps);
        let mut next = n;
        let mut known_products = products;
        for (index, dt, e) in base {
            if e == Event::NewProduct {
                known_products += 1;
            }
            steps.push((index, dt, e));
            if !orng.random_bool(0.4) {
                continue;
            }
            let dt = orng.random_range(1_000..60_000u32);
            let till = orng.random_range(0..tills);
            let customer = orng.random_range(0..customers);
            let pick = orng.random_range(0..1000);
            let e = match orng.random_range(0..100) {
                0..18 => {
                    let k = orng.random_range(1..=3);
                    let lines = (0..k)
                        .map(|_| {
                            (
                                orng.random_range(0..known_products),
                                orng.random_range(1..=2i64),
                            )
                        })
                        .collect();
                    Event::Order {
                        customer,
                        lines,
                        text: orng.random_bool(0.2),
                    }
                }
                18..23 => Event::Cancel { customer, pick },
                23..42 => Event::Accept {
                    till,
                    pick,
                    unavailable: if orng.random_bool(0.3) {
                        orng.random_range(1..8u8)
                    } else {
                        0
                    },
                },
                42..50 => Event::Ready { till, pick },
                50..53 => Event::Reject { till, pick },
                53..70 => Event::Collect { till, pick },
                70..94 => {
                    let k = orng.random_range(1..=2);
                    let faults = (0..k)
                        .map(|_| orng.random_bool(fault_rate).then(|| net_fault(&mut orng)))
                        .collect();
                    Event::CustomerSync { customer, faults }
                }
                _ => Event::Derive,
            };
            steps.push((next, dt, e));
            next += 1;
        }
        History {
            seed,
            tills,
            products,
            customers,
            steps,
        }
    }
}

impl History {
    /// Only the events with these indices (a shrunk history, replayed).
    pub fn keep(mut self, indices: &[usize]) -> History {
        self.steps.retain(|(i, _, _)| indices.contains(i));
        self
    }

    /// The indices of its events, for `--keep`.
    pub fn indices(&self) -> String {
        self.steps
            .iter()
            .map(|(i, _, _)| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Sell { till, items } => {
                write!(f, "till {till}: a customer buys")?;
                for (p, q) in items {
                    write!(f, " {q}×P{p}")?;
                }
                Ok(())
            }
            Event::Refund {
                till,
                pick,
                qty,
                restock,
            } => write!(
                f,
                "till {till}: a customer returns {qty} of a sale (pick {pick}){}",
                if *restock { "" } else { ", goods thrown away" }
            ),
            Event::MistakenRefund { till, pick } => {
                write!(
                    f,
                    "till {till}: refunds goods already returned elsewhere (pick {pick})"
                )
            }
            Event::Receive { till, product, qty } => {
                write!(f, "till {till}: a delivery of {qty}×P{product}")
            }
            Event::Damage { till, product, qty } => {
                write!(f, "till {till}: {qty}×P{product} damaged")
            }
            Event::CountLine {
                till,
                product,
                recount,
            } => write!(
                f,
                "till {till}: staff {} the shelf of P{product}",
                if *recount { "count again" } else { "count" }
            ),
            Event::CountPost { till } => write!(f, "till {till}: posts its count"),
            Event::PriceChange { product, price } => {
                write!(f, "manager: P{product} now costs {price}")
            }
            Event::NewProduct => write!(f, "manager: adds a product"),
            Event::Park { till, product } => write!(f, "till {till}: parks a cart of P{product}"),
            Event::Resume { till } => write!(f, "till {till}: resumes a parked cart"),
            Event::Sync { till, faults } => {
                write!(f, "till {till}: syncs")?;
                let named: Vec<String> = faults
                    .iter()
                    .map(|x| x.map_or("ok".to_string(), |x| format!("{x:?}")))
                    .collect();
                if faults.iter().any(Option::is_some) {
                    write!(f, " (network: {})", named.join(", "))?;
                }
                Ok(())
            }
            Event::DeliverLate { till } => {
                write!(f, "till {till}: its held-back requests arrive late")
            }
            Event::Bundle { from, to } => {
                write!(f, "a bundle from till {from} is imported at till {to}")
            }
            Event::Crash { till, product, how } => {
                write!(
                    f,
                    "till {till}: selling P{product}, {how:?} before the commit"
                )
            }
            Event::Backup { till } => write!(f, "till {till}: its file is copied"),
            Event::Restore { till, pick } => {
                write!(f, "till {till}: restored from a copy (pick {pick})")
            }
            Event::Clock { till, offset_ms } => match offset_ms.signum() {
                0 => write!(f, "till {till}: its clock is right again"),
                1 => write!(
                    f,
                    "till {till}: its clock is now {} fast",
                    shopsync_core::clock::human_duration(*offset_ms)
                ),
                _ => write!(
                    f,
                    "till {till}: its clock is now {} slow",
                    shopsync_core::clock::human_duration(-offset_ms)
                ),
            },
            Event::ServerBackup => write!(f, "server: backup"),
            Event::ServerRestore => write!(f, "server: restored from its latest backup"),
            Event::Hostile { kind } => {
                write!(f, "a hostile till uploads a bad record (kind {kind})")
            }
            Event::Order {
                customer,
                lines,
                text,
            } => {
                write!(f, "customer {customer}: orders")?;
                for (p, q) in lines {
                    write!(f, " {q}×P{p}")?;
                }
                if *text {
                    write!(f, " and something in free text")?;
                }
                Ok(())
            }
            Event::Cancel { customer, pick } => {
                write!(f, "customer {customer}: cancels an order (pick {pick})")
            }
            Event::Accept {
                till,
                pick,
                unavailable,
            } => write!(
                f,
                "till {till}: accepts an order (pick {pick}, unavailable lines {unavailable:03b})"
            ),
            Event::Ready { till, pick } => {
                write!(f, "till {till}: marks an order ready (pick {pick})")
            }
            Event::Reject { till, pick } => {
                write!(f, "till {till}: rejects an order (pick {pick})")
            }
            Event::Collect { till, pick } => {
                write!(f, "till {till}: a customer collects an order (pick {pick})")
            }
            Event::CustomerSync { customer, faults } => {
                write!(f, "customer {customer}: syncs")?;
                if faults.iter().any(Option::is_some) {
                    let named: Vec<String> = faults
                        .iter()
                        .map(|x| x.map_or("ok".to_string(), |x| format!("{x:?}")))
                        .collect();
                    write!(f, " (network: {})", named.join(", "))?;
                }
                Ok(())
            }
            Event::Derive => write!(f, "server: derives the public catalog"),
            Event::Offline { till, offline } => write!(
                f,
                "till {till}: network {}",
                if *offline { "gone" } else { "back" }
            ),
        }
    }
}
