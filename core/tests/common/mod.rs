//! Shared setup for the core's integration tests: a fixed test day, tills
//! with products in stock, a second till made from a bundle, cash sales and
//! stock reads. Each test file declares `mod common;` and imports what it
//! uses.

// Every test binary compiles its own copy of this module and uses only part
// of it; the rest would warn as dead code there.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use shopsync_core::bundle::Bundle;
use shopsync_core::types::{SaleReceipt, TenderKind};
use shopsync_core::{
    CartLine, CoreError, InitOptions, NewProduct, NewTaxClass, ReceiveLine, Store, TenderInput,
};

/// What a test returns: any error fails it.
pub type R = Result<(), Box<dyn std::error::Error>>;

/// The instant `y-mo-d h:mi` UTC (the epoch if there is no such instant).
pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .unwrap_or_default()
}

/// The start of the test day: 2026-05-04 08:00 UTC.
pub fn t0() -> DateTime<Utc> {
    at(2026, 5, 4, 8, 0)
}

/// `minutes` after `start`, as `Store::set_now` takes it.
pub fn after(start: DateTime<Utc>, minutes: i64) -> Option<DateTime<Utc>> {
    Some(start + Duration::minutes(minutes))
}

/// `minutes` after the start of the test day, as `Store::set_now` takes it.
pub fn m(minutes: i64) -> Option<DateTime<Utc>> {
    after(t0(), minutes)
}

/// A product with a SKU, a name and a price in minor units; nothing else set.
pub fn product(sku: &str, name: &str, price: i64) -> NewProduct {
    NewProduct {
        sku: sku.into(),
        name: name.into(),
        price,
        ..NewProduct::default()
    }
}

/// Adds tax class `std`, "Standard": 20 % on top of the price.
pub fn standard_tax(s: &mut Store) -> Result<(), CoreError> {
    s.set_tax_class(NewTaxClass {
        id: "std".into(),
        name: "Standard".into(),
        rate_bp: 2000,
        inclusive: false,
    })?;
    Ok(())
}

/// A new till: `Till::default()` is till "A" of store "S" (EUR) at `a.db`.
pub struct Till<'a> {
    /// The file name, in the directory given to `open`.
    pub file: &'a str,
    /// The store's name.
    pub store: &'a str,
    /// The till's name.
    pub name: &'a str,
    /// The till's clock, pinned with `set_now` before anything is written;
    /// `None` leaves the real clock.
    pub now: Option<DateTime<Utc>>,
    /// Products added in order, each followed by a receipt of that many
    /// units (none for 0).
    pub stock: Vec<(NewProduct, i64)>,
}

impl Default for Till<'_> {
    fn default() -> Self {
        Till {
            file: "a.db",
            store: "S",
            name: "A",
            now: None,
            stock: Vec::new(),
        }
    }
}

impl Till<'_> {
    /// Creates the store at `dir/file`, sets its clock, adds and receives the stock.
    pub fn open(self, dir: &Path) -> Result<Store, CoreError> {
        let mut s = Store::init(
            &dir.join(self.file),
            InitOptions {
                store_name: self.store.into(),
                till_name: self.name.into(),
                currency: "EUR".into(),
            },
        )?;
        if self.now.is_some() {
            s.set_now(self.now);
        }
        for (p, qty) in self.stock {
            let sku = p.sku.clone();
            s.add_product(p)?;
            if qty > 0 {
                receive(&mut s, &sku, qty)?;
            }
        }
        Ok(s)
    }
}

/// Till `name` made from `from`'s bundle (written to `dir/<from's till>.bundle`)
/// at `dir/<name>.db` (names lowercased), its clock pinned to `now` if given.
pub fn till_from(
    dir: &Path,
    from: &Store,
    name: &str,
    now: Option<DateTime<Utc>>,
) -> Result<Store, CoreError> {
    let bundle = dir.join(format!("{}.bundle", from.info().till_name.to_lowercase()));
    from.export_bundle_to(&bundle)?;
    let mut s = Store::init_from_bundle(
        &dir.join(format!("{}.db", name.to_lowercase())),
        &bundle,
        name,
    )?;
    if now.is_some() {
        s.set_now(now);
    }
    Ok(s)
}

/// Till A made from `a`, and till B made from A's bundle with A's clock.
pub fn two_tills(dir: &Path, a: Till) -> Result<(Store, Store), CoreError> {
    let now = a.now;
    let a = a.open(dir)?;
    let b = till_from(dir, &a, "B", now)?;
    Ok((a, b))
}

/// Sends everything `from` has to `to` through the bundle's byte format (as
/// on a USB stick); returns how many changes were new.
pub fn send(from: &Store, to: &mut Store) -> Result<u64, CoreError> {
    let bundle = Bundle::decode(&from.export_bundle()?.encode()?)?;
    Ok(to.import_bundle(bundle)?.new_changes)
}

/// A cash tender of `amount` minor units.
pub fn cash(amount: i64) -> TenderInput {
    TenderInput {
        kind: TenderKind::Cash,
        amount,
    }
}

/// A card tender of `amount` minor units.
pub fn card(amount: i64) -> TenderInput {
    TenderInput {
        kind: TenderKind::Card,
        amount,
    }
}

/// Sells `qty` of `code`, paid with `paid` minor units in cash.
pub fn sell_cash(s: &mut Store, code: &str, qty: i64, paid: i64) -> Result<SaleReceipt, CoreError> {
    s.sell(&[CartLine::new(code, qty)], &[cash(paid)])
}

/// Receives `qty` of `code` from no supplier at no cost; returns the receipt id.
pub fn receive(s: &mut Store, code: &str, qty: i64) -> Result<String, CoreError> {
    s.receive(
        None,
        &[ReceiveLine {
            code: code.into(),
            qty,
            unit_cost: None,
        }],
    )
}

/// The on-hand stock of `sku`, from its one stock line.
pub fn on_hand(s: &Store, sku: &str) -> Result<i64, CoreError> {
    let levels = s.stock_levels(Some(sku), false)?;
    assert_eq!(levels.len(), 1, "one stock line for {sku}");
    Ok(levels[0].on_hand)
}

/// Asserts that the incrementally kept projections equal a rebuild.
pub fn verify_clean(s: &Store) -> R {
    let report = s.verify(&mut |_| {})?;
    assert!(report.differences.is_empty(), "{:?}", report.differences);
    Ok(())
}

// -- drawer sessions (issue 10) ---------------------------------------------

/// How many rows the till's drawer records, sales, refunds and stored
/// changes have: equal before and after means nothing was written.
pub fn drawer_footprint(s: &Store) -> Result<[i64; 4], CoreError> {
    let n = |table: &str| -> Result<i64, CoreError> {
        Ok(s.connection()
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
    };
    Ok([
        n("drawer_records")?,
        n("sales")?,
        n("refunds")?,
        n("doc_changes")?,
    ])
}

// -- customers: devices of one customer document ---------------------------

/// `n` devices of one customer, each a copy of `doc` (and its history) with
/// its own Automerge actor: device `i` writes as actor `[i + 1; 16]`.
pub fn customer_devices(doc: &mut automerge::AutoCommit, n: u8) -> Vec<automerge::AutoCommit> {
    (0..n)
        .map(|i| doc.fork().with_actor(automerge::ActorId::from([i + 1; 16])))
        .collect()
}

/// Device `to` receives everything device `from` has (one direction, as one
/// device syncing with another).
pub fn merge_into(
    devices: &mut [automerge::AutoCommit],
    from: usize,
    to: usize,
) -> Result<(), automerge::AutomergeError> {
    if from == to {
        return Ok(());
    }
    let (low, high) = devices.split_at_mut(from.max(to));
    let (a, b) = (&mut low[from.min(to)], &mut high[0]);
    if to < from { a.merge(b) } else { b.merge(a) }?;
    Ok(())
}

/// Every device ends up with everything: the first device of `order`
/// receives from each of the others in that order, then each of them
/// receives from it. Asserts that all devices then have the same heads.
pub fn merge_everyone(
    devices: &mut [automerge::AutoCommit],
    order: &[usize],
) -> Result<(), automerge::AutomergeError> {
    let Some((&hub, rest)) = order.split_first() else {
        return Ok(());
    };
    for &d in rest {
        merge_into(devices, d, hub)?;
    }
    for &d in rest {
        merge_into(devices, hub, d)?;
    }
    let heads = devices[hub].get_heads();
    for d in devices.iter_mut() {
        assert_eq!(d.get_heads(), heads, "a device is missing changes");
    }
    Ok(())
}

/// A customer's device, as far as a till's tests need one: it writes its
/// requests document for one store and hands the changes over as a bundle
/// (a sync server would carry them).
pub struct CustomerDevice {
    pub customer: String,
    pub requests: automerge::AutoCommit,
}

impl CustomerDevice {
    pub fn new(customer: &str) -> Self {
        CustomerDevice {
            customer: customer.into(),
            requests: automerge::AutoCommit::new(),
        }
    }

    /// Sends an order of `(sku, qty)` lines (a SKU of "" is a free-text line
    /// "something") to `till`'s store; returns the order id.
    pub fn send(
        &mut self,
        till: &mut Store,
        id: &str,
        lines: &[(&str, i64)],
    ) -> Result<String, CoreError> {
        use shopsync_core::orders::records::{OrderRequest, RequestLine};
        let order = OrderRequest {
            id: id.into(),
            customer_name: format!("Customer {}", self.customer),
            list_id: None,
            list_name: "Weekly".into(),
            note: None,
            sent_at: till.now_ms(),
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, (sku, qty))| RequestLine {
                    line: i as u32 + 1,
                    sku: (!sku.is_empty()).then(|| sku.to_string()),
                    text: if sku.is_empty() {
                        "something".into()
                    } else {
                        sku.to_string()
                    },
                    qty: *qty,
                })
                .collect(),
        };
        shopsync_core::orders::customer_side::put_order(&mut self.requests, order)?;
        self.requests.commit();
        self.deliver(till)?;
        Ok(id.into())
    }

    /// Cancels an order as this device sees it on `till`.
    pub fn cancel(&mut self, till: &mut Store, id: &str) -> Result<(), CoreError> {
        let current = till.order(id)?;
        shopsync_core::orders::customer_side::put_cancel(
            &mut self.requests,
            &current,
            Some("changed my mind"),
            till.now_ms(),
        )?;
        self.requests.commit();
        self.deliver(till)
    }

    /// Hands every change of the requests document to `till`.
    pub fn deliver(&mut self, till: &mut Store) -> Result<(), CoreError> {
        let store = till.info().store_id.clone();
        let changes = self.requests.get_changes(&[]);
        till.import_bundle(Bundle {
            store_id: store.clone(),
            docs: vec![(
                shopsync_core::ids::DocId::order_requests(&store, &self.customer),
                changes,
            )],
        })?;
        Ok(())
    }
}

/// (on hand, reserved, available) of `sku`.
pub fn stock_of(s: &Store, sku: &str) -> Result<(i64, i64, i64), CoreError> {
    let levels = s.stock_levels(Some(sku), false)?;
    assert_eq!(levels.len(), 1, "one stock line for {sku}");
    Ok((levels[0].on_hand, levels[0].reserved, levels[0].available))
}

// -- staff: members added by a manager, operators found by PIN -------------

/// Adds a staff member with `pin`, `by` acting (`None` for the first one);
/// returns their id.
pub fn add_staff(
    s: &mut Store,
    by: Option<&shopsync_core::staff::Operator>,
    name: &str,
    role: shopsync_core::staff::StaffRole,
    pin: &str,
) -> Result<String, CoreError> {
    let pin = shopsync_core::staff::Pin::parse(pin)?;
    let member = s.acting(by.cloned(), |s| {
        s.add_staff(shopsync_core::staff::NewStaff {
            name: name.into(),
            role,
            pin,
        })
    })?;
    Ok(member.id)
}

/// The operator signed in with `pin`, approved by `approve_pin` if given.
pub fn operator(
    s: &mut Store,
    pin: &str,
    approve_pin: Option<&str>,
) -> Result<shopsync_core::staff::Operator, CoreError> {
    let staff = s.staff_by_pin(pin)?;
    let mut op = shopsync_core::staff::Operator::new(staff.id);
    if let Some(p) = approve_pin {
        op = op.approved_by(s.staff_by_pin(p)?.id);
    }
    Ok(op)
}

/// Migration 10 (drawer sessions) undone: a till file as version 9 left it.
pub const UNDO_MIGRATION_10: &str =
    "DROP INDEX sales_drawer_session; DROP INDEX refunds_drawer_session;
    ALTER TABLE sales DROP COLUMN drawer_session; ALTER TABLE refunds DROP COLUMN drawer_session;
    DROP TABLE drawer_counts; DROP TABLE drawer_records;
    DELETE FROM meta WHERE key = 'projection.drawer_due';";

/// Migration 08 (staff) undone: a till file as version 7 left it.
/// Migration 09 (archived categories) undone: with `UNDO_MIGRATION_08` a
/// till file as version 7 left it.
pub const UNDO_MIGRATION_09: &str = "DROP INDEX products_category;
    ALTER TABLE categories DROP COLUMN archived;
    DELETE FROM meta WHERE key = 'projection.categories_due';";

pub const UNDO_MIGRATION_08: &str = "DROP INDEX sales_staff; DROP INDEX refunds_staff; DROP TABLE staff;
    ALTER TABLE sales DROP COLUMN staff_id; ALTER TABLE sales DROP COLUMN approver_id;
    ALTER TABLE refunds DROP COLUMN staff_id; ALTER TABLE refunds DROP COLUMN approver_id;
    ALTER TABLE stock_records DROP COLUMN staff_id; ALTER TABLE stock_records DROP COLUMN approver_id;";

// Not every test binary prints.
#[allow(unused_imports)]
pub use shopsync_testkit::printer::{LoopbackPrinter, offline_printer};

// -- purchasing: suppliers, order lines, records from another till ---------

/// Adds a supplier named `name`; returns its id.
pub fn supplier(s: &mut Store, name: &str) -> Result<String, CoreError> {
    Ok(s.add_supplier(shopsync_core::NewSupplier {
        name: name.into(),
        ..Default::default()
    })?
    .id)
}

/// A line of a new purchase order: `qty` of `code`, at `cost` if given.
pub fn po_line(code: &str, qty: i64, cost: Option<i64>) -> shopsync_core::OrderLineInput {
    shopsync_core::OrderLineInput {
        code: code.into(),
        qty,
        unit_cost: cost,
    }
}

/// A line of a delivery: `qty` of `code`, at no stated cost.
pub fn delivered(code: &str, qty: i64) -> ReceiveLine {
    ReceiveLine {
        code: code.into(),
        qty,
        unit_cost: None,
    }
}

/// Records put into the ledger of another till (`till`, a till id) of the
/// store, as a bundle, as that till would upload them.
pub fn foreign_ledger(
    store: &Store,
    till: &str,
    records: &[shopsync_core::records::Record],
) -> Result<Bundle, Box<dyn std::error::Error>> {
    use automerge::transaction::Transactable;
    let store_id = store.info().store_id.clone();
    let doc_id =
        shopsync_core::ids::DocId::parse(&format!("store/{store_id}/ledger/{till}/2026-05"))
            .ok_or("doc id")?;
    let mut doc = automerge::AutoCommit::new();
    for r in records {
        doc.put(
            automerge::ROOT,
            r.id(),
            automerge::ScalarValue::Bytes(r.encode()?),
        )?;
    }
    doc.commit();
    Ok(Bundle {
        store_id,
        docs: vec![(doc_id, doc.get_changes(&[]))],
    })
}

/// Migration 13 (receipt costs) undone: what a version-12 till kept.
pub const UNDO_MIGRATION_13: &str = "DROP TABLE receipt_costs;
    DELETE FROM meta WHERE key = 'projection.receipt_costs_due';";

/// Migrations 13 and 12 (favourites) undone: a till file as version 11
/// left it.
pub const UNDO_MIGRATION_12: &str = "DROP TABLE receipt_costs;
    DELETE FROM meta WHERE key = 'projection.receipt_costs_due';
    DROP INDEX products_favourite;
    ALTER TABLE products DROP COLUMN favourite_pos;
    DELETE FROM meta WHERE key = 'projection.favourites_due';";

/// Migration 11 (purchasing) undone, with what a version-10 till projected
/// differently: no purchasing rows, no order kinds in `stock_records`.
/// Migrations 13 and 12 are undone first (they come after).
pub const UNDO_MIGRATION_11: &str = "DROP TABLE receipt_costs;
    DELETE FROM meta WHERE key = 'projection.receipt_costs_due';
    DROP INDEX products_favourite;
    ALTER TABLE products DROP COLUMN favourite_pos;
    DELETE FROM meta WHERE key = 'projection.favourites_due';
    DROP TABLE purchase_order_lines;
    DROP TABLE purchase_order_records;
    ALTER TABLE products DROP COLUMN reorder_target;
    DELETE FROM stock_records WHERE kind IN ('purchase_order', 'purchase_order_close');
    DELETE FROM meta WHERE key = 'projection.purchasing_due';";

// --- golden files of printer bytes (receipts, drawer reports) ---

/// Where the golden files of printed bytes live (`SHOPSYNC_BLESS=1`
/// writes them, docs/TESTING.md).
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/receipts")
}

/// Compares printer `bytes` (and their dump) with the golden files `name.bin` and
/// `name.txt`; writes them instead under `SHOPSYNC_BLESS=1`.
pub fn golden(name: &str, bytes: &[u8]) -> R {
    let bin = golden_dir().join(format!("{name}.bin"));
    let txt = golden_dir().join(format!("{name}.txt"));
    let text = shopsync_core::receipt::dump(bytes);
    if std::env::var_os("SHOPSYNC_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(golden_dir())?;
        std::fs::write(&bin, bytes)?;
        std::fs::write(&txt, &text)?;
        return Ok(());
    }
    let want = std::fs::read(&bin)
        .map_err(|e| format!("{}: {e} (SHOPSYNC_BLESS=1 writes it)", bin.display()))?;
    let want_text = std::fs::read_to_string(&txt)?;
    assert_eq!(
        text, want_text,
        "{name}: the printout changed (review, then SHOPSYNC_BLESS=1)"
    );
    assert!(
        bytes == want.as_slice(),
        "{name}.bin differs from the bytes"
    );
    Ok(())
}

// -- documents -----------------------------------------------------------------

/// A document rebuilt from every change of it in the log (snapshots ignored).
pub fn doc_from_whole_log(
    conn: &rusqlite::Connection,
    doc_id: &str,
) -> Result<automerge::AutoCommit, Box<dyn std::error::Error>> {
    let mut stmt = conn.prepare("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY seq")?;
    let changes = stmt
        .query_map([doc_id], |r| r.get::<_, Vec<u8>>(0))?
        .map(|b| Ok(automerge::Change::try_from(b?.as_slice())?))
        .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
    let mut doc = automerge::AutoCommit::new();
    doc.apply_changes(changes)?;
    Ok(doc)
}
