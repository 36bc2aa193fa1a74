//! One history played out: the shop's shelves and customers, the tills (the
//! real `Store` on SQLite files), the in-process server and the faults.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, TimeZone, Utc};
use shopsync_core::access::Role;
use shopsync_core::error::CoreError;
use shopsync_core::sync::client::{SyncError, enrol_via};
use shopsync_core::types::TenderKind;
use shopsync_core::{
    AdjustReason, CartLine, CountScope, InitOptions, NewProduct, ProductEdit, ReceiveLine,
    RefundRequest, SalesFilter, Store, TenderInput,
};

use shopsync_core::ids::DocId;
use shopsync_core::orders::customer_side;
use shopsync_core::orders::records::{OrderRequest, RequestLine};
use shopsync_core::types::{OrderStatus, OrderView};

use crate::schedule::{Crash, Event, History};
use crate::server::{Link, Server};

/// When every history starts (tills' clocks add their offsets).
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A clock limit low enough that clocks wrong by seconds are flagged.
pub const SKEW_LIMIT_MS: i64 = 2_000;

pub struct Till {
    pub name: String,
    pub path: PathBuf,
    pub store: Option<Store>,
    pub offset_ms: i64,
    pub link: Link,
    /// Copies of the file: (step taken, path).
    pub copies: Vec<(usize, PathBuf)>,
    /// The till worked with a wrong clock since it last synced.
    pub worked_wrong: bool,
}

impl Till {
    pub fn store(&mut self) -> Result<&mut Store> {
        self.store
            .as_mut()
            .ok_or_else(|| anyhow!("{} is not running", self.name))
    }
}

/// A sale as the shop saw it happen.
#[derive(Debug, Clone)]
pub struct SaleSeen {
    pub till: usize,
    pub step: usize,
    /// (product index, sku, sold, still held by the customer)
    pub lines: Vec<(usize, String, i64, i64)>,
}

/// A record a till made, for deciding later whether a restore lost it.
#[derive(Debug, Clone)]
pub struct Made {
    pub till: usize,
    pub step: usize,
    pub id: Option<String>,
    pub products: Vec<usize>,
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub server: Arc<Server>,
    pub store_id: String,
    pub tills: Vec<Till>,
    pub hostile: Option<Link>,
    pub hostile_till: String,
    pub skus: Vec<String>,
    pub shelves: Vec<i64>,
    pub sales: BTreeMap<String, SaleSeen>,
    pub made: Vec<Made>,
    /// Products whose records a restore may have lost (made after the copy
    /// the till went back to, before the restore).
    pub lost_products: BTreeSet<usize>,
    pub maybe_lost: BTreeSet<String>,
    pub clocks_were_wrong: bool,
    /// A till worked with a wrong clock and was set right before it synced:
    /// nothing could tell (docs/TESTING.md, known limits).
    pub clock_wrong_unseen: bool,
    pub clock: Arc<std::sync::atomic::AtomicI64>,
    pub server_copies: Vec<PathBuf>,
    pub now_ms: i64,
    pub step: usize,
    /// Events applied so far: the order in which they happened (order
    /// events carry indices after the shop's, so `step` does not order).
    pub seq: usize,
    /// The customers: raw documents on the customer side of the protocol.
    pub customers: Vec<Customer>,
    /// Orders collected: (order id, sale id, till).
    pub collects: Vec<(String, String, usize)>,
    /// The server went back to a backup, and a till to an older copy: the
    /// shop's status records of an order may then survive only on a
    /// customer's phone (docs/TESTING.md, known limits).
    pub server_restored: bool,
    pub till_restored: bool,
    pub trace: Vec<String>,
    /// Records the hostile till uploaded that the server stored.
    pub hostile_stored: Vec<String>,
    /// Tills left holding hostile records a restored server lost (nobody
    /// can carry them anywhere: docs/TESTING.md, known limits).
    pub stranded: BTreeSet<usize>,
    /// Products counted at some point (a wrong clock can misorder a count
    /// against a movement; a product never counted is a plain sum).
    pub counted: BTreeSet<usize>,
}

/// Errors an operation may meet for reasons the shop would understand (an
/// unknown product on a till that has not synced the catalog yet, a refund
/// the till knows is done): the customer is turned away, nothing changes.
fn benign(e: &CoreError) -> bool {
    matches!(
        e,
        CoreError::Invalid { .. }
            | CoreError::NotFound { .. }
            | CoreError::Conflict(_)
            | CoreError::NothingToRefund(_)
            | CoreError::CatalogReadOnly
            | CoreError::Payment(_)
    )
}

impl World {
    pub fn new(h: &History) -> Result<World> {
        let dir = tempfile::tempdir()?;
        let server = Server::start(dir.path())?;
        let manager_code = server.create_store("Simulated shop")?;
        let now_ms = start_time().timestamp_millis();
        let mut rng_shelf = h.seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let mut shelves = Vec::new();
        let mut skus = Vec::new();
        // The manager's till: the catalog and the first delivery.
        let path0 = dir.path().join("till0.db");
        {
            let mut s = Store::init(
                &path0,
                InitOptions {
                    store_name: "Simulated shop".into(),
                    till_name: "T0".into(),
                    currency: "EUR".into(),
                },
            )?;
            s.set_now(DateTime::from_timestamp_millis(now_ms));
            for p in 0..h.products {
                let sku = format!("P{p}");
                rng_shelf = rng_shelf
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let price = 100 + ((rng_shelf >> 33) % 900) as i64;
                s.add_product(NewProduct {
                    sku: sku.clone(),
                    name: format!("Product {p}"),
                    price,
                    barcodes: vec![format!("400000000{p:04}")],
                    ..NewProduct::default()
                })?;
                let qty = 5 + ((rng_shelf >> 40) % 30) as i64;
                s.receive(
                    None,
                    &[ReceiveLine {
                        code: sku.clone(),
                        qty,
                        unit_cost: None,
                    }],
                )?;
                shelves.push(qty);
                skus.push(sku);
            }
        }
        let clock = Arc::new(std::sync::atomic::AtomicI64::new(now_ms));
        let link0 = Link::new(server.clone(), clock.clone());
        let (s0, _) = enrol_via(&path0, &link0, &manager_code, None, false, &mut |_| {})
            .map_err(|e| anyhow!("enrolling the manager's till: {e}"))?;
        let store_id = s0.info().store_id.clone();
        let token = s0
            .sync_config()?
            .map(|c| c.token)
            .ok_or_else(|| anyhow!("no token"))?;
        let mut tills = vec![Till {
            name: "T0".into(),
            path: path0,
            store: Some(s0),
            offset_ms: 0,
            link: link0.with_token_for_sim(&token),
            copies: Vec::new(),
            worked_wrong: false,
        }];
        for k in 1..h.tills {
            let path = dir.path().join(format!("till{k}.db"));
            let till_id = shopsync_core::ids::new_id();
            let name = format!("T{k}");
            drop(Store::create_with_till(&path, &store_id, &till_id, &name)?);
            let code = server.code_for(&store_id, Role::Till, &till_id)?;
            let link = Link::new(server.clone(), clock.clone());
            let (s, _) = enrol_via(&path, &link, &code, None, false, &mut |_| {})
                .map_err(|e| anyhow!("enrolling till {k}: {e}"))?;
            let token = s
                .sync_config()?
                .map(|c| c.token)
                .ok_or_else(|| anyhow!("no token"))?;
            tills.push(Till {
                name,
                path,
                store: Some(s),
                offset_ms: 0,
                link: link.with_token_for_sim(&token),
                copies: Vec::new(),
                worked_wrong: false,
            });
        }
        for t in &mut tills {
            t.store()?.set_clock_skew_limit_ms(SKEW_LIMIT_MS)?;
        }
        let hostile_till = shopsync_core::ids::new_id();
        let mut w = World {
            dir,
            server,
            store_id,
            tills,
            hostile: None,
            hostile_till,
            skus,
            shelves,
            sales: BTreeMap::new(),
            made: Vec::new(),
            lost_products: BTreeSet::new(),
            maybe_lost: BTreeSet::new(),
            clocks_were_wrong: false,
            clock_wrong_unseen: false,
            clock,
            server_copies: Vec::new(),
            now_ms,
            step: 0,
            seq: 0,
            customers: Vec::new(),
            collects: Vec::new(),
            server_restored: false,
            till_restored: false,
            trace: Vec::new(),
            hostile_stored: Vec::new(),
            stranded: BTreeSet::new(),
            counted: BTreeSet::new(),
        };
        w.hostile = Some(w.enrol_hostile()?);
        // The shop publishes: the manager's device turns it on and syncs,
        // and the server derives the catalog (the shop is listed and takes
        // orders). Then the customers sign up.
        w.tick(0)?.set_setting("publish", "true")?;
        let link0 = w.tills[0].link.clone();
        w.tick(0)?
            .sync_now(&link0, &mut |_| {})
            .map_err(|e| anyhow!("the manager's first sync: {e}"))?;
        w.server.derive(&w.store_id)?;
        for c in 0..h.customers {
            let name = format!("Customer {c}");
            let (id, token) = w.server.sign_up(&name)?;
            let link = Link::new(w.server.clone(), w.clock.clone()).with_token_for_sim(&token);
            let actor = shopsync_core::ids::new_id();
            w.customers.push(Customer::new(id, name, link, &actor));
        }
        Ok(w)
    }

    fn enrol_hostile(&mut self) -> Result<Link> {
        use shopsync_core::sync::EnrolRequest;
        use shopsync_core::sync::client::Transport;
        let code = self
            .server
            .code_for(&self.store_id, Role::Till, &self.hostile_till)?;
        let link = Link::new(self.server.clone(), self.clock.clone());
        let resp = link
            .enrol(&EnrolRequest {
                protocol: shopsync_core::sync::wire::PROTOCOL_VERSION,
                code,
                till_id: self.hostile_till.clone(),
                till_name: "H".into(),
                store_id: Some(self.store_id.clone()),
            })
            .map_err(|e| anyhow!("enrolling the hostile till: {e}"))?;
        Ok(link.with_token_for_sim(&resp.token))
    }

    /// Sets till `t`'s clock to the simulated time plus its offset.
    fn tick(&mut self, t: usize) -> Result<&mut Store> {
        let now = self.now_ms + self.tills[t].offset_ms;
        if self.tills[t].offset_ms != 0 {
            self.tills[t].worked_wrong = true;
        }
        let s = self.tills[t].store()?;
        s.set_now(DateTime::from_timestamp_millis(now));
        Ok(s)
    }

    fn note(&mut self, s: String) {
        self.trace.push(format!("  {s}"));
    }

    fn made(&mut self, till: usize, id: Option<String>, products: Vec<usize>) {
        self.made.push(Made {
            till,
            step: self.seq,
            id,
            products,
        });
    }

    /// An operation's error: benign ones are noted, others end the history.
    fn refused(&mut self, what: &str, e: CoreError) -> Result<()> {
        if benign(&e) {
            self.note(format!("refused: {e}"));
            Ok(())
        } else {
            Err(anyhow!("{what} failed: {e}"))
        }
    }

    pub fn apply(&mut self, dt: u32, e: &Event) -> Result<()> {
        self.seq += 1;
        self.now_ms += i64::from(dt);
        self.clock
            .store(self.now_ms, std::sync::atomic::Ordering::Relaxed);
        self.trace.push(format!("#{} {e}", self.step));
        let n = self.tills.len();
        let valid = |t: usize| t < n;
        match e {
            Event::Sell { till, items } if valid(*till) => self.sell(*till, items)?,
            Event::Refund {
                till,
                pick,
                qty,
                restock,
            } if valid(*till) => self.refund(*till, *pick, *qty, *restock)?,
            Event::MistakenRefund { till, pick } if valid(*till) => {
                self.mistaken_refund(*till, *pick)?
            }
            Event::Receive { till, product, qty } if valid(*till) => {
                let Some(sku) = self.skus.get(*product).cloned() else {
                    return Ok(());
                };
                let r = self.tick(*till)?.receive(
                    None,
                    &[ReceiveLine {
                        code: sku,
                        qty: *qty,
                        unit_cost: None,
                    }],
                );
                match r {
                    Ok(id) => {
                        self.shelves[*product] += qty;
                        self.made(*till, Some(id), vec![*product]);
                    }
                    Err(e) => self.refused("a delivery", e)?,
                }
            }
            Event::Damage { till, product, qty } if valid(*till) => {
                let Some(sku) = self.skus.get(*product).cloned() else {
                    return Ok(());
                };
                let q = (*qty).min(self.shelves[*product]);
                if q == 0 {
                    self.note("the shelf is empty".into());
                    return Ok(());
                }
                match self
                    .tick(*till)?
                    .adjust(&sku, -q, AdjustReason::Damaged, None)
                {
                    Ok(id) => {
                        self.shelves[*product] -= q;
                        self.made(*till, Some(id), vec![*product]);
                    }
                    Err(e) => self.refused("an adjustment", e)?,
                }
            }
            Event::CountLine {
                till,
                product,
                recount,
            } if valid(*till) => self.count_line(*till, *product, *recount)?,
            Event::CountPost { till } if valid(*till) => {
                let s = self.tick(*till)?;
                let open = s.open_counts()?;
                let Some(id) = open.first().cloned() else {
                    return Ok(());
                };
                let products: Vec<String> = s
                    .count_view(&id)?
                    .lines
                    .iter()
                    .filter(|l| l.counted.is_some())
                    .map(|l| l.sku.clone())
                    .collect();
                match self.tick(*till)?.count_post(&id) {
                    Ok(_) => {
                        let idx = products
                            .iter()
                            .filter_map(|sku| self.skus.iter().position(|s| s == sku))
                            .collect();
                        self.made(*till, None, idx);
                    }
                    Err(e) => self.refused("posting a count", e)?,
                }
            }
            Event::PriceChange { product, price } => {
                let Some(sku) = self.skus.get(*product).cloned() else {
                    return Ok(());
                };
                let r = self.tick(0)?.edit_product(
                    &sku,
                    ProductEdit {
                        price: Some(*price),
                        ..ProductEdit::default()
                    },
                );
                if let Err(e) = r {
                    self.refused("a price change", e)?;
                }
            }
            Event::NewProduct => {
                let p = self.skus.len();
                let sku = format!("P{p}");
                let r = self.tick(0)?.add_product(NewProduct {
                    sku: sku.clone(),
                    name: format!("Product {p}"),
                    price: 250,
                    ..NewProduct::default()
                });
                match r {
                    Ok(_) => {
                        self.skus.push(sku);
                        self.shelves.push(0);
                    }
                    Err(e) => self.refused("a new product", e)?,
                }
            }
            Event::Park { till, product } if valid(*till) => {
                let Some(sku) = self.skus.get(*product).cloned() else {
                    return Ok(());
                };
                let lines = [shopsync_core::types::ipc::CartLineInput {
                    code: sku,
                    qty: 1,
                    unit_price: None,
                    override_reason: None,
                    discount_bp: 0,
                }];
                if let Err(e) = self.tick(*till)?.park_cart("sim", &lines) {
                    self.refused("parking a cart", e)?;
                }
            }
            Event::Resume { till } if valid(*till) => {
                let s = self.tick(*till)?;
                if let Some(c) = s.parked_carts()?.first().cloned()
                    && let Err(e) = s.resume_parked_cart(&c.id)
                {
                    self.refused("resuming a cart", e)?;
                }
            }
            Event::Sync { till, faults } if valid(*till) => {
                self.sync(*till, faults)?;
            }
            Event::DeliverLate { till } if valid(*till) => {
                let n = self.tills[*till].link.deliver_delayed()?;
                self.note(format!("{n} late request(s) arrived"));
            }
            Event::Bundle { from, to } if valid(*from) && valid(*to) && from != to => {
                let b = self.tick(*from)?.export_bundle()?;
                if let Err(e) = self.tick(*to)?.import_bundle(b) {
                    return Err(anyhow!("importing a bundle failed: {e}"));
                }
            }
            Event::Crash { till, product, how } if valid(*till) => {
                self.crash(*till, *product, *how)?;
            }
            Event::Backup { till } if valid(*till) => {
                let k = self.tills[*till].copies.len();
                let to = self
                    .dir
                    .path()
                    .join(format!("till{till}.copy{k}-step{}.db", self.step));
                let to_s = to.to_string_lossy().to_string();
                self.tills[*till]
                    .store()?
                    .connection()
                    .execute("VACUUM INTO ?1", [to_s])?;
                let seq = self.seq;
                self.tills[*till].copies.push((seq, to));
            }
            Event::Restore { till, pick } if valid(*till) => self.restore(*till, *pick)?,
            Event::Clock { till, offset_ms } if valid(*till) => {
                if self.tills[*till].worked_wrong && *offset_ms == 0 {
                    self.clock_wrong_unseen = true;
                }
                self.tills[*till].offset_ms = *offset_ms;
                if *offset_ms != 0 {
                    self.clocks_were_wrong = true;
                }
            }
            Event::ServerBackup => {
                let to = self
                    .dir
                    .path()
                    .join(format!("server.copy-step{}.db", self.step));
                self.server.backup(&to)?;
                self.server_copies.push(to);
            }
            Event::ServerRestore => {
                if let Some(from) = self.server_copies.last().cloned() {
                    self.server.restore(&from)?;
                    self.server_restored = true;
                } else {
                    self.note("no backup to restore".into());
                }
            }
            Event::Hostile { kind } => self.hostile(*kind)?,
            Event::Offline { till, offline } if valid(*till) => {
                let mut st = self.tills[*till]
                    .link
                    .state
                    .lock()
                    .map_err(|_| anyhow!("link lock"))?;
                st.offline = *offline;
            }
            Event::Order {
                customer,
                lines,
                text,
            } if *customer < self.customers.len() => self.order(*customer, lines, *text)?,
            Event::Cancel { customer, pick } if *customer < self.customers.len() => {
                self.cancel(*customer, *pick)?
            }
            Event::Accept {
                till,
                pick,
                unavailable,
            } if valid(*till) => {
                let Some(o) = self.pick_order(*till, *pick, &[OrderStatus::Sent])? else {
                    return Ok(());
                };
                let lines: Vec<String> = o
                    .lines
                    .iter()
                    .filter(|l| {
                        l.line >= 1 && l.line <= 8 && unavailable & (1 << (l.line - 1)) != 0
                    })
                    .map(|l| l.line.to_string())
                    .collect();
                match self.tick(*till)?.order_accept(&o.id, &lines) {
                    Ok(v) => self.note(format!("accepted {} ({})", o.id, v.status)),
                    Err(e) => self.refused("accepting an order", e)?,
                }
            }
            Event::Ready { till, pick } if valid(*till) => {
                let Some(o) = self.pick_order(*till, *pick, &[OrderStatus::Accepted])? else {
                    return Ok(());
                };
                match self.tick(*till)?.order_ready(&o.id) {
                    Ok(v) => self.note(format!("{} is {}", o.id, v.status)),
                    Err(e) => self.refused("marking an order ready", e)?,
                }
            }
            Event::Reject { till, pick } if valid(*till) => {
                let open = [OrderStatus::Sent, OrderStatus::Accepted, OrderStatus::Ready];
                let Some(o) = self.pick_order(*till, *pick, &open)? else {
                    return Ok(());
                };
                match self.tick(*till)?.order_reject(&o.id, "we cannot do it") {
                    Ok(v) => self.note(format!("{} is {}", o.id, v.status)),
                    Err(e) => self.refused("rejecting an order", e)?,
                }
            }
            Event::Collect { till, pick } if valid(*till) => self.collect(*till, *pick)?,
            Event::CustomerSync { customer, faults } if *customer < self.customers.len() => {
                self.customer_sync(*customer, faults)?
            }
            Event::Derive => self.server.derive(&self.store_id)?,
            _ => {}
        }
        Ok(())
    }

    /// An order till `t` knows with one of these statuses (by `pick`).
    fn pick_order(
        &mut self,
        till: usize,
        pick: usize,
        statuses: &[OrderStatus],
    ) -> Result<Option<OrderView>> {
        let all = self.tick(till)?.orders(true)?;
        let mut v: Vec<OrderView> = all
            .into_iter()
            .filter(|o| statuses.contains(&o.status))
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        if v.is_empty() {
            self.note("no such order here".into());
            return Ok(None);
        }
        let k = pick % v.len();
        Ok(Some(v.swap_remove(k)))
    }

    fn order(&mut self, c: usize, lines: &[(usize, i64)], text: bool) -> Result<()> {
        let mut req_lines = Vec::new();
        for (p, q) in lines {
            let Some(sku) = self.skus.get(*p).cloned() else {
                continue;
            };
            req_lines.push(RequestLine {
                line: req_lines.len() as u32 + 1,
                sku: Some(sku.clone()),
                text: format!("Product {p}"),
                qty: *q,
            });
        }
        if text {
            req_lines.push(RequestLine {
                line: req_lines.len() as u32 + 1,
                sku: None,
                text: "a loaf of bread".into(),
                qty: 1,
            });
        }
        if req_lines.is_empty() {
            return Ok(());
        }
        let id = shopsync_core::ids::new_id();
        let now = self.now_ms;
        let store = self.store_id.clone();
        let cu = &mut self.customers[c];
        let order = OrderRequest {
            id: id.clone(),
            customer_name: cu.name.clone(),
            list_id: None,
            list_name: "Shopping".into(),
            note: None,
            sent_at: now,
            lines: req_lines,
        };
        let requests = DocId::order_requests(&store, &cu.id);
        let doc = cu.doc(&requests);
        match customer_side::put_order(doc, order) {
            Ok(()) => {
                commit_at(doc, now);
                self.note(format!("order {id}"));
                // The phone sends it at once (as the customer's app does).
                self.customer_sync(c, &[])
            }
            Err(e) => self.refused("an order", e),
        }
    }

    fn cancel(&mut self, c: usize, pick: usize) -> Result<()> {
        let now = self.now_ms;
        let store = self.store_id.clone();
        let mut open: Vec<OrderView> = self.customers[c]
            .orders(&store)
            .into_iter()
            .filter(|o| matches!(o.status, OrderStatus::Sent | OrderStatus::Accepted))
            .collect();
        if open.is_empty() {
            self.note("no order to cancel".into());
            return Ok(());
        }
        open.sort_by(|a, b| a.id.cmp(&b.id));
        let o = open.swap_remove(pick % open.len());
        let cu = &mut self.customers[c];
        let requests = DocId::order_requests(&store, &cu.id);
        let doc = cu.doc(&requests);
        match customer_side::put_cancel(doc, &o, Some("changed my mind"), now) {
            Ok(()) => {
                commit_at(doc, now);
                self.note(format!("cancelled {}", o.id));
                self.customer_sync(c, &[])
            }
            Err(e) => self.refused("a cancellation", e),
        }
    }

    /// Collecting is a sale at the counter: only if the shelves hold the
    /// goods (the staff fetch them); then they leave the shelves.
    fn collect(&mut self, till: usize, pick: usize) -> Result<()> {
        let open = [OrderStatus::Accepted, OrderStatus::Ready];
        let Some(o) = self.pick_order(till, pick, &open)? else {
            return Ok(());
        };
        let cart = match self.tick(till)?.order_cart(&o.id) {
            Ok(c) => c,
            Err(e) => return self.refused("an order's cart", e),
        };
        let mut want: BTreeMap<usize, i64> = BTreeMap::new();
        for l in &cart {
            let Some(p) = self.skus.iter().position(|s| *s == l.code) else {
                self.note(format!("{} is not a product the shop has", l.code));
                return Ok(());
            };
            *want.entry(p).or_default() += l.qty;
        }
        if want.iter().any(|(p, q)| self.shelves[*p] < *q) {
            self.note("the shelves lack the goods: not collected".into());
            return Ok(());
        }
        let total = match self.tick(till)?.quote(&cart) {
            Ok(q) => q.total.minor,
            Err(e) => return self.refused("pricing an order", e),
        };
        let r = self.tick(till)?.order_collect(
            &o.id,
            &[TenderInput {
                kind: TenderKind::Cash,
                amount: total,
            }],
        );
        match r {
            Ok((_, receipt)) => {
                let mut lines = Vec::new();
                for (p, q) in &want {
                    self.shelves[*p] -= q;
                    lines.push((*p, self.skus[*p].clone(), *q, *q));
                }
                self.note(format!(
                    "collected {}: sale {} ({})",
                    o.id, receipt.number, receipt.sale_id
                ));
                self.sales.insert(
                    receipt.sale_id.clone(),
                    SaleSeen {
                        till,
                        step: self.step,
                        lines,
                    },
                );
                self.collects
                    .push((o.id.clone(), receipt.sale_id.clone(), till));
                self.made(till, Some(receipt.sale_id), want.keys().copied().collect());
                Ok(())
            }
            Err(e) => self.refused("collecting an order", e),
        }
    }

    fn customer_sync(
        &mut self,
        c: usize,
        faults: &[Option<crate::server::NetFault>],
    ) -> Result<()> {
        let store = self.store_id.clone();
        let link = self.customers[c].link.clone();
        let planned = faults.iter().any(Option::is_some);
        {
            let mut st = link.state.lock().map_err(|_| anyhow!("link lock"))?;
            st.planned = faults.iter().copied().collect();
            st.applied.clear();
        }
        let r = self.customers[c].sync(&store);
        let applied = {
            let mut st = link.state.lock().map_err(|_| anyhow!("link lock"))?;
            st.planned.clear();
            std::mem::take(&mut st.applied)
        };
        match r {
            Ok(n) => {
                self.note(format!("customer synced: received {n} change(s)"));
                Ok(())
            }
            Err(e) if planned && !applied.is_empty() => {
                self.note(format!("customer sync failed as the network did: {e}"));
                Ok(())
            }
            Err(e) => Err(anyhow!(
                "customer {c} could not sync on a working network: {e}"
            )),
        }
    }

    fn sell(&mut self, till: usize, items: &[(usize, i64)]) -> Result<()> {
        let mut want: BTreeMap<usize, i64> = BTreeMap::new();
        for (p, q) in items {
            if *p >= self.skus.len() {
                continue;
            }
            let have = self.shelves[*p] - want.get(p).copied().unwrap_or(0);
            let q = (*q).min(have);
            if q > 0 {
                *want.entry(*p).or_default() += q;
            }
        }
        if want.is_empty() {
            self.note("the shelves are empty".into());
            return Ok(());
        }
        let cart: Vec<CartLine> = want
            .iter()
            .map(|(p, q)| CartLine::new(self.skus[*p].clone(), *q))
            .collect();
        let s = self.tick(till)?;
        let total = match s.quote(&cart) {
            Ok(q) => q.total.minor,
            Err(e) => return self.refused("pricing a cart", e),
        };
        let r = self.tick(till)?.sell(
            &cart,
            &[TenderInput {
                kind: TenderKind::Cash,
                amount: total,
            }],
        );
        match r {
            Ok(receipt) => {
                let mut lines = Vec::new();
                for (p, q) in &want {
                    self.shelves[*p] -= q;
                    lines.push((*p, self.skus[*p].clone(), *q, *q));
                }
                self.note(format!("sale {} ({})", receipt.number, receipt.sale_id));
                self.sales.insert(
                    receipt.sale_id.clone(),
                    SaleSeen {
                        till,
                        step: self.step,
                        lines,
                    },
                );
                self.made(till, Some(receipt.sale_id), want.keys().copied().collect());
                Ok(())
            }
            Err(e) => self.refused("a sale", e),
        }
    }

    /// The sales till `t` knows, oldest first.
    fn known_sales(&mut self, till: usize) -> Result<Vec<String>> {
        let mut v: Vec<(DateTime<Utc>, String)> = self
            .tick(till)?
            .sales(&SalesFilter::default())?
            .into_iter()
            .map(|s| (s.at, s.sale_id))
            .collect();
        v.sort();
        Ok(v.into_iter().map(|(_, id)| id).collect())
    }

    fn refund(&mut self, till: usize, pick: usize, qty: i64, restock: bool) -> Result<()> {
        let known = self.known_sales(till)?;
        let candidates: Vec<String> = known
            .into_iter()
            .filter(|id| {
                self.sales
                    .get(id)
                    .is_some_and(|s| s.lines.iter().any(|l| l.3 > 0))
            })
            .collect();
        if candidates.is_empty() {
            self.note("no sale to return goods of".into());
            return Ok(());
        }
        let id = candidates[pick % candidates.len()].clone();
        let Some(sale) = self.sales.get(&id).cloned() else {
            return Ok(());
        };
        let Some(li) = sale.lines.iter().position(|l| l.3 > 0) else {
            return Ok(());
        };
        let (p, sku, _, held) = sale.lines[li].clone();
        let q = qty.min(held);
        let r = self.tick(till)?.refund(
            &id,
            RefundRequest {
                lines: vec![(sku, q)],
                tender: None,
                restock,
            },
        );
        match r {
            Ok(rc) => {
                if let Some(s) = self.sales.get_mut(&id) {
                    s.lines[li].3 -= q;
                }
                if restock {
                    self.shelves[p] += q;
                }
                self.note(format!("refund {}", rc.refund_id));
                self.made(till, Some(rc.refund_id), vec![p]);
                Ok(())
            }
            Err(e) => self.refused("a refund", e),
        }
    }

    fn mistaken_refund(&mut self, till: usize, pick: usize) -> Result<()> {
        let known = self.known_sales(till)?;
        let candidates: Vec<String> = known
            .into_iter()
            .filter(|id| {
                self.sales
                    .get(id)
                    .is_some_and(|s| s.lines.iter().any(|l| l.3 < l.2))
            })
            .collect();
        if candidates.is_empty() {
            return Ok(());
        }
        let id = candidates[pick % candidates.len()].clone();
        let Some(sale) = self.sales.get(&id).cloned() else {
            return Ok(());
        };
        let Some(line) = sale.lines.iter().find(|l| l.3 < l.2) else {
            return Ok(());
        };
        let r = self.tick(till)?.refund(
            &id,
            RefundRequest {
                lines: vec![(line.1.clone(), line.2 - line.3)],
                tender: None,
                restock: false,
            },
        );
        match r {
            Ok(rc) => {
                self.note(format!("refund {} (nothing came back)", rc.refund_id));
                self.made(till, Some(rc.refund_id), vec![line.0]);
                Ok(())
            }
            Err(e) => self.refused("a refund", e),
        }
    }

    fn count_line(&mut self, till: usize, product: usize, recount: bool) -> Result<()> {
        let Some(sku) = self.skus.get(product).cloned() else {
            return Ok(());
        };
        let shelf = self.shelves[product];
        let s = self.tick(till)?;
        let id = match s.open_counts()?.first().cloned() {
            Some(id) => id,
            None => match s.count_start(CountScope::WholeStore) {
                Ok(id) => id,
                Err(e) => return self.refused("starting a count", e),
            },
        };
        let counted_before = s
            .count_view(&id)?
            .lines
            .iter()
            .any(|l| l.sku == sku && l.counted.is_some());
        let r = if !counted_before {
            s.count_record(&id, &sku, shelf)
        } else if recount {
            s.count_recount(&id, &sku, shelf)
        } else {
            self.note("already counted".into());
            return Ok(());
        };
        match r {
            Ok(_) => {
                self.counted.insert(product);
                self.note(format!("counted {shelf}"));
                Ok(())
            }
            Err(e) => self.refused("counting", e),
        }
    }

    fn sync(&mut self, till: usize, faults: &[Option<crate::server::NetFault>]) -> Result<()> {
        let link = self.tills[till].link.clone();
        let (offline, planned) = {
            let mut st = link.state.lock().map_err(|_| anyhow!("link lock"))?;
            st.planned = faults.iter().copied().collect();
            st.applied.clear();
            (st.offline, faults.iter().any(Option::is_some))
        };
        let r = self.tick(till)?.sync_now(&link, &mut |_| {});
        let applied = {
            let mut st = link.state.lock().map_err(|_| anyhow!("link lock"))?;
            st.planned.clear();
            std::mem::take(&mut st.applied)
        };
        match r {
            Ok(rep) => {
                self.tills[till].worked_wrong = false;
                self.note(format!(
                    "synced: sent {}, received {}{}",
                    rep.sent_changes,
                    rep.received_new,
                    if rep.server_restored {
                        " (the server had been restored)"
                    } else {
                        ""
                    }
                ));
                Ok(())
            }
            Err(e) if offline || (planned && !applied.is_empty()) => {
                self.note(format!("sync failed as the network did: {e}"));
                Ok(())
            }
            Err(e) => Err(anyhow!(
                "till {till} could not sync on a working network: {e}"
            )),
        }
    }

    fn crash(&mut self, till: usize, product: usize, how: Crash) -> Result<()> {
        let Some(sku) = self.skus.get(product).cloned() else {
            return Ok(());
        };
        if self.shelves[product] == 0 {
            return Ok(());
        }
        let cart = [CartLine::new(sku, 1)];
        let s = self.tick(till)?;
        let total = match s.quote(&cart) {
            Ok(q) => q.total.minor,
            Err(e) => return self.refused("pricing a cart", e),
        };
        // A commit hook that refuses: the transaction rolls back exactly as
        // if the process had died before its commit reached the disk.
        let vetoed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = vetoed.clone();
        s.connection().commit_hook(Some(move || {
            seen.store(true, std::sync::atomic::Ordering::Relaxed);
            true
        }))?;
        let r = s.sell(
            &cart,
            &[TenderInput {
                kind: TenderKind::Cash,
                amount: total,
            }],
        );
        s.connection().commit_hook(None::<fn() -> bool>)?;
        match r {
            Ok(rc) => bail!(
                "a sale ({}) reported success though its commit failed",
                rc.number
            ),
            Err(e) if !vetoed.load(std::sync::atomic::Ordering::Relaxed) => {
                return self.refused("a sale", e);
            }
            Err(e) => self.note(format!("the sale failed at its commit: {e}")),
        }
        match how {
            Crash::Killed => {
                self.tills[till].store = None;
                self.tills[till].store =
                    Some(Store::open(&self.tills[till].path).context("reopening after a crash")?);
                self.note("restarted".into());
            }
            Crash::CommitFails => self.note("the till carries on".into()),
        }
        Ok(())
    }

    fn restore(&mut self, till: usize, pick: usize) -> Result<()> {
        if self.tills[till].copies.is_empty() {
            self.note("no copy to restore".into());
            return Ok(());
        }
        let k = pick % self.tills[till].copies.len();
        let (taken, from) = self.tills[till].copies[k].clone();
        self.till_restored = true;
        // Everything this till made after the copy may be gone.
        for m in &self.made {
            if m.till == till && m.step > taken {
                self.lost_products.extend(m.products.iter().copied());
                if let Some(id) = &m.id {
                    self.maybe_lost.insert(id.clone());
                }
            }
        }
        let path = self.tills[till].path.clone();
        self.tills[till].store = None;
        for ext in ["-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{ext}", path.display()));
            if p.exists() {
                std::fs::remove_file(&p)?;
            }
        }
        std::fs::copy(&from, &path)?;
        self.tills[till].store = Some(Store::open(&path).context("opening a restored till")?);
        self.note(format!("back to the copy of step {taken}"));
        Ok(())
    }

    fn hostile(&mut self, kind: u8) -> Result<()> {
        use automerge::{AutoCommit, ROOT, ScalarValue, transaction::Transactable};
        use shopsync_core::records::{Record, RefundLine, RefundRecord};
        use shopsync_core::sync::wire::{DocChanges, SyncRequest};
        let Some(link) = self.hostile.clone() else {
            return Ok(());
        };
        let at = self.now_ms;
        let month = DateTime::from_timestamp_millis(at)
            .unwrap_or_default()
            .format("%Y-%m");
        let doc_id = format!(
            "store/{}/ledger/{}/{month}",
            self.store_id, self.hostile_till
        );
        let honest_sale = self.sales.keys().next().cloned();
        let mut doc = AutoCommit::new();
        let refund = |id: String, qty: i64, hlc: i64| {
            Record::Refund(RefundRecord {
                id,
                sale_id: honest_sale.clone().unwrap_or_else(|| "no-such-sale".into()),
                at,
                lines: vec![RefundLine {
                    line_no: 1,
                    product_id: "no-such-product".into(),
                    qty,
                    amount: 100,
                    tax: 0,
                }],
                amount: 100,
                tax: 0,
                tender: TenderKind::Cash,
                restock: true,
                hlc: Some(hlc),
                staff_id: None,
                approver_id: None,
                drawer_session: None,
            })
        };
        let (key, bytes): (String, Vec<u8>) = match kind {
            0 => ("not-a-record".into(), b"\x01{ this is not json".to_vec()),
            1 => {
                let r = refund(shopsync_core::ids::new_id(), 1, i64::MAX);
                (r.id().to_string(), r.encode()?)
            }
            2 if honest_sale.is_some() => {
                // The id of an honest sale, reused.
                let id = honest_sale.clone().unwrap_or_default();
                let r = refund(id, 1, at);
                (r.id().to_string(), r.encode()?)
            }
            _ => {
                let r = refund(shopsync_core::ids::new_id(), 0, at);
                (r.id().to_string(), r.encode()?)
            }
        };
        doc.put(ROOT, key.as_str(), ScalarValue::Bytes(bytes))?;
        doc.commit();
        let changes: Vec<Vec<u8>> = doc
            .get_changes(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let req = SyncRequest::new(u64::MAX / 2, vec![DocChanges { doc_id, changes }]);
        let a = link.post_sync_body(req.encode())?;
        self.note(format!("the server answered {}", a.status.as_u16()));
        if a.status.is_success() {
            self.hostile_stored.push(key);
        } else if a.status.is_server_error() {
            bail!("the server failed on a hostile record: {}", a.status);
        }
        Ok(())
    }

    /// Heals every fault and syncs every till until nothing moves. Then the
    /// operator does what the tills ask: changes a till holds for another
    /// till the server lacks (a bundle carried to a till later restored) go
    /// back to that till in a bundle (catalog edits to the manager's
    /// device), and everyone syncs again. Nobody carries anything to the
    /// hostile till: what a till holds of its records stays there.
    pub fn settle(&mut self) -> Result<()> {
        self.trace
            .push("# the network heals; every till syncs until nothing moves".into());
        for t in &self.tills {
            let mut st = t.link.state.lock().map_err(|_| anyhow!("link lock"))?;
            st.offline = false;
            st.planned.clear();
            st.delayed.clear();
        }
        self.sync_all()?;
        let mut carried = false;
        for holder in 0..self.tills.len() {
            let held = self.tick(holder)?.sync_status()?.held_for_others;
            for h in held {
                let owner = match &h.till_id {
                    None => Some(0),
                    Some(id) => {
                        let mut found = None;
                        for (k, t) in self.tills.iter_mut().enumerate() {
                            if &t.store()?.info().till_id == id {
                                found = Some(k);
                            }
                        }
                        found
                    }
                };
                let Some(owner) = owner else {
                    self.stranded.insert(holder);
                    self.trace.push(format!(
                        "# till {holder} holds records of the hostile till the restored server lost"
                    ));
                    continue;
                };
                self.trace.push(format!(
                    "# till {holder} says: {}; the operator carries a bundle to till {owner}",
                    h.message()
                ));
                let b = self.tick(holder)?.export_bundle()?;
                self.tick(owner)?
                    .import_bundle(b)
                    .map_err(|e| anyhow!("the operator's bundle did not import: {e}"))?;
                carried = true;
            }
        }
        if carried {
            self.sync_all()?;
        }
        // The customers send what they have, the tills hear it, the server
        // derives, and the customers read back the statuses and catalog.
        self.trace
            .push("# the customers sync; the tills sync; the server derives".into());
        let store = self.store_id.clone();
        for c in 0..self.customers.len() {
            self.customers[c]
                .sync(&store)
                .map_err(|e| anyhow!("customer {c} could not sync once healed: {e}"))?;
        }
        self.sync_all()?;
        self.server.derive(&store)?;
        for c in 0..self.customers.len() {
            self.customers[c]
                .sync(&store)
                .map_err(|e| anyhow!("customer {c} could not sync once healed: {e}"))?;
        }
        let hostile = Some(self.hostile_till.clone());
        for t in 0..self.tills.len() {
            let status = self.tick(t)?.sync_status()?;
            if let Some(h) = status.held_for_others.iter().find(|h| h.till_id != hostile) {
                bail!(
                    "till {t} still holds changes the server lacks after syncing: {}",
                    h.message()
                );
            }
            if status.changes_waiting > 0 {
                bail!(
                    "till {t} still has {} change(s) the server has not acknowledged after syncing",
                    status.changes_waiting
                );
            }
        }
        Ok(())
    }

    fn sync_all(&mut self) -> Result<()> {
        for round in 0..4 {
            let mut moved = false;
            for t in 0..self.tills.len() {
                let link = self.tills[t].link.clone();
                let rep = self
                    .tick(t)?
                    .sync_now(&link, &mut |_| {})
                    .map_err(|e: SyncError| anyhow!("till {t} could not sync once healed: {e}"))?;
                if rep.received_new > 0 || rep.sent_changes > 0 {
                    moved = true;
                }
            }
            if !moved && round > 0 {
                return Ok(());
            }
        }
        bail!("the tills still exchange changes after 4 rounds of syncing")
    }
}

/// A customer's device without a local store (like `Device` in
/// sync-server/tests/customer_sync.rs): its documents in memory, a cursor
/// for each and how many of its changes the server has.
pub struct Customer {
    pub id: String,
    pub name: String,
    pub link: Link,
    actor: automerge::ActorId,
    /// doc id → (document, cursor, changes the server acknowledged)
    pub docs: BTreeMap<String, (automerge::AutoCommit, u64, usize)>,
    /// The server's epoch this device knows.
    pub epoch: Option<String>,
}

/// Commits with the simulated time (a change's hash includes its time).
fn commit_at(doc: &mut automerge::AutoCommit, now_ms: i64) {
    doc.commit_with(automerge::transaction::CommitOptions::default().with_time(now_ms / 1000));
}

impl Customer {
    fn new(id: String, name: String, link: Link, actor: &str) -> Customer {
        Customer {
            id,
            name,
            link,
            actor: automerge::ActorId::from(actor.as_bytes()),
            docs: BTreeMap::new(),
            epoch: None,
        }
    }

    pub fn doc(&mut self, id: &DocId) -> &mut automerge::AutoCommit {
        let actor = self.actor.clone();
        &mut self
            .docs
            .entry(id.to_string())
            .or_insert_with(|| (automerge::AutoCommit::new().with_actor(actor), 0, 0))
            .0
    }

    /// The documents this customer syncs with the shop.
    pub fn doc_ids(&self, store: &str) -> Vec<DocId> {
        vec![
            DocId::order_requests(store, &self.id),
            DocId::order_status(store, &self.id),
            DocId::Public {
                store: store.to_string(),
            },
        ]
    }

    /// Its orders as its documents give them (`customer_side::orders`).
    pub fn orders(&mut self, store: &str) -> Vec<OrderView> {
        let requests = DocId::order_requests(store, &self.id);
        let status = DocId::order_status(store, &self.id);
        self.doc(&requests);
        self.doc(&status);
        customer_side::orders(
            store,
            &self.id,
            &self.docs[&requests.to_string()].0,
            &self.docs[&status.to_string()].0,
        )
    }

    /// One sync of its documents through its link; the changes received.
    /// A server restored from a backup (another epoch) makes it start again
    /// from nothing: every cursor back to 0, everything uploaded again.
    pub fn sync(&mut self, store: &str) -> Result<usize> {
        use shopsync_core::sync::customer_wire::{decode_change, encode_change};
        let ids = self.doc_ids(store);
        for _attempt in 0..2 {
            let mut docs = Vec::new();
            for id in &ids {
                self.doc(id);
                let Customer {
                    docs: all, actor, ..
                } = self;
                let (doc, since, sent) = all
                    .get_mut(&id.to_string())
                    .ok_or_else(|| anyhow!("no document"))?;
                // Only its own changes (after a restored server it sends
                // them all again; never the shop's or the server's).
                let changes: Vec<String> = doc
                    .get_changes(&[])
                    .into_iter()
                    .skip(*sent)
                    .filter(|c| c.actor_id() == actor)
                    .map(|mut c| encode_change(&c.bytes()))
                    .collect();
                docs.push(serde_json::json!({
                    "doc_id": id.to_string(), "since": since, "changes": changes
                }));
            }
            let a = self
                .link
                .post_json(
                    "/v1/customer/sync",
                    &serde_json::json!({ "protocol": 1, "docs": docs }),
                    self.epoch.as_deref(),
                )
                .map_err(|e| anyhow!("{e}"))?;
            if !a.status.is_success() {
                bail!(
                    "the server answered {}: {}",
                    a.status,
                    String::from_utf8_lossy(&a.body)
                        .chars()
                        .take(300)
                        .collect::<String>()
                );
            }
            let epoch = a
                .headers
                .get(shopsync_core::sync::epoch::EPOCH_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if epoch.is_some() && self.epoch.is_some() && epoch != self.epoch {
                // Another life of the server's database: start again, as
                // `CustomerStore::note_server_epoch` does: every cursor back
                // to 0, its own changes sent again, and public catalogs
                // thrown away (the restored server derives them anew, a
                // history of its own).
                self.epoch = epoch;
                self.docs
                    .retain(|id, _| !matches!(DocId::parse(id), Some(DocId::Public { .. })));
                for (_, since, sent) in self.docs.values_mut() {
                    *since = 0;
                    *sent = 0;
                }
                continue;
            }
            if epoch.is_some() {
                self.epoch = epoch;
            }
            let v: serde_json::Value = serde_json::from_slice(&a.body)
                .map_err(|e| anyhow!("the answer does not parse: {e}"))?;
            let answers = v["docs"]
                .as_array()
                .ok_or_else(|| anyhow!("no docs in the answer"))?;
            let mut received = 0;
            for (id, answer) in ids.iter().zip(answers) {
                let entry = self
                    .docs
                    .get_mut(&id.to_string())
                    .ok_or_else(|| anyhow!("no document"))?;
                let mut changes = Vec::new();
                for c in answer["changes"].as_array().into_iter().flatten() {
                    let bytes = decode_change(c.as_str().unwrap_or_default())
                        .map_err(|e| anyhow!("a change does not decode: {e}"))?;
                    changes.push(
                        automerge::Change::from_bytes(bytes)
                            .map_err(|e| anyhow!("a change does not load: {e}"))?,
                    );
                }
                received += changes.len();
                entry.0.apply_changes(changes)?;
                entry.1 = answer["cursor"].as_u64().unwrap_or(entry.1);
                entry.2 = entry.0.get_changes(&[]).len();
            }
            return Ok(received);
        }
        bail!("the server's epoch changed twice in one sync")
    }
}

impl Link {
    /// This link, authenticated as a device.
    pub fn with_token_for_sim(&self, token: &str) -> Link {
        use shopsync_core::sync::client::Transport;
        self.with_token(token).unwrap_or_else(|_| self.clone())
    }
}
