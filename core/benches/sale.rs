//! A durable 3-line cash sale through `Store::sell`, against a baseline run
//! in the same process: the same rows (sale, 3 lines, tender, 3 stock
//! movements, 3 stock-level upserts) inserted into plain SQLite tables in one
//! transaction, with the same durability (WAL, synchronous=FULL, bundled
//! SQLite). Both with an empty ledger and with 100k earlier sales; each sale
//! sells three products drawn from the 2,000 the same way on both sides.
//!
//! `cargo bench -p shopsync-core --bench sale`
//!
//! `-- interleaved` (issue 13's headline): one ShopSync sale, one baseline
//! sale, repeated (`SALE_ROUNDS`, default 500), with `synchronous=FULL` and
//! `OFF`, both sides checkpointing on a thread of their own as the app does.
//! Target: ShopSync <= 2x the baseline.
//!
//! `-- tail`: the slowest sale in 10,000 (`SALE_TAIL_ROUNDS`) back-to-back
//! (or `SALE_TAIL_GAP_MS` apart), synchronous=NORMAL, 100k earlier sales,
//! with snapshots inline (as before issue 13) and in the background, each
//! interleaved with the baseline.
//!
//! `-- pages`: WAL pages each side writes per sale, by table and index.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use automerge::{AutoCommit, ROOT, ReadDoc, ScalarValue, transaction::Transactable};
use criterion::{Criterion, criterion_group};
use rusqlite::{Connection, params};
use shopsync_core::demo::DemoOptions;
use shopsync_core::types::TenderKind;
use shopsync_core::{CartLine, Snapshots, Store, TenderInput};

fn catalog_only() -> DemoOptions {
    DemoOptions {
        products: 2_000,
        days: 0,
        tills: 1,
        sales_per_day: 0,
        seed: 42,
    }
}

fn with_100k_sales() -> DemoOptions {
    DemoOptions {
        products: 2_000,
        days: 100,
        tills: 1,
        sales_per_day: 1_000,
        seed: 42,
    }
}

const PRODUCTS: u64 = 2_000;

/// The carts of the first `n` sales, made before the clock starts.
fn carts(n: usize) -> Vec<Vec<CartLine>> {
    (0..n as u64).map(cart).collect()
}

/// The three products of sale `i`: spread over the catalog as a shop's
/// sales are, drawn the same way on both sides (distinct within a sale).
fn picks(i: u64) -> [usize; 3] {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = || {
        x ^= x >> 31;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 29;
        (x % PRODUCTS) as usize
    };
    let a = next();
    let mut b = next();
    while b == a {
        b = next();
    }
    let mut c = next();
    while c == a || c == b {
        c = next();
    }
    [a, b, c]
}

/// Sale `i`'s cart: three of the demo catalog's SKUs (P000001…), 1, 2 and 1 of them.
fn cart(i: u64) -> Vec<CartLine> {
    picks(i)
        .iter()
        .zip([1, 2, 1])
        .map(|(p, qty)| CartLine::new(format!("P{:06}", p + 1), qty))
        .collect()
}

const CASH: [TenderInput; 1] = [TenderInput {
    kind: TenderKind::Cash,
    amount: 100_000,
}];

/// A fresh copy of a cached fixture, opened.
fn shopsync(opts: &DemoOptions, dir: &Path) -> common::R<Store> {
    let fixture = common::demo_fixture(opts)?;
    let copy = common::fresh_copy(&fixture, dir)?;
    Ok(Store::open(&copy)?)
}

// ---- baseline: the same rows in plain tables ------------------------------
// The projection's own definitions for these five tables, as the till's
// migrations leave them (the receipt-number and causal-stamp columns and
// their indexes included), without the change log that makes them replicate.

const BASELINE_SCHEMA: &str = "
CREATE TABLE sales (
    id TEXT PRIMARY KEY, number TEXT NOT NULL, till_id TEXT NOT NULL, at INTEGER NOT NULL,
    items INTEGER NOT NULL, subtotal INTEGER NOT NULL, discount INTEGER NOT NULL,
    tax INTEGER NOT NULL, total INTEGER NOT NULL, paid INTEGER NOT NULL, change INTEGER NOT NULL,
    seq INTEGER
) STRICT;
CREATE INDEX sales_at ON sales (at);
CREATE INDEX sales_till_seq ON sales (till_id, seq);
CREATE INDEX sales_till_number ON sales (till_id, number);
CREATE TABLE sale_lines (
    sale_id TEXT NOT NULL, line_no INTEGER NOT NULL, product_id TEXT NOT NULL, sku TEXT NOT NULL,
    name TEXT NOT NULL, qty INTEGER NOT NULL, unit_price INTEGER NOT NULL, override_reason TEXT,
    discount INTEGER NOT NULL, tax_class TEXT, tax_rate_bp INTEGER NOT NULL,
    tax_inclusive INTEGER NOT NULL, tax INTEGER NOT NULL, total INTEGER NOT NULL,
    PRIMARY KEY (sale_id, line_no)
) STRICT, WITHOUT ROWID;
CREATE TABLE sale_tenders (
    sale_id TEXT NOT NULL, idx INTEGER NOT NULL, kind TEXT NOT NULL, amount INTEGER NOT NULL,
    PRIMARY KEY (sale_id, idx)
) STRICT, WITHOUT ROWID;
CREATE TABLE stock_movements (
    record_id TEXT NOT NULL, idx INTEGER NOT NULL, product_id TEXT NOT NULL, at INTEGER NOT NULL,
    delta INTEGER NOT NULL, kind TEXT NOT NULL, hlc INTEGER, PRIMARY KEY (record_id, idx)
) STRICT, WITHOUT ROWID;
CREATE INDEX stock_movements_product_at ON stock_movements (product_id, at);
CREATE INDEX stock_movements_product_hlc ON stock_movements (product_id, hlc);
CREATE TABLE stock_levels (
    product_id TEXT PRIMARY KEY, on_hand INTEGER NOT NULL, count_at INTEGER, count_record_id TEXT,
    count_hlc INTEGER
) STRICT;
CREATE INDEX stock_levels_on_hand ON stock_levels (on_hand);
";

struct Baseline {
    conn: Connection,
    products: Vec<String>,
    n: u64,
    /// Checkpoints on a thread of their own, as the till's background mode.
    checkpointer: Option<std::sync::mpsc::Sender<()>>,
}

/// What ShopSync's background mode does for its WAL, for plain SQLite: a
/// thread with its own connection runs PASSIVE checkpoints until caught up
/// (`db::checkpoint_until_caught_up`) every 8 commits (`snapshot_worker::CHECKPOINT_EVERY_COMMITS`), and the writer's own
/// checkpoint steps in only past the same fallback (2 GiB).
fn background_checkpoints(
    conn: &Connection,
    path: &Path,
) -> common::R<std::sync::mpsc::Sender<()>> {
    conn.pragma_update(
        None,
        "wal_autocheckpoint",
        shopsync_core::store::SALE_FALLBACK_CHECKPOINT_PAGES,
    )?;
    let other = Connection::open(path)?;
    other.busy_timeout(Duration::from_millis(250))?;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        while rx.recv().is_ok() {
            // Requests queued meanwhile: one checkpoint, as the till's worker.
            while rx.try_recv().is_ok() {}
            let _ = shopsync_core::db::checkpoint_until_caught_up(
                &other,
                shopsync_core::db::CHECKPOINT_CATCH_UP_ROUNDS,
            );
        }
    });
    Ok(tx)
}

impl Baseline {
    /// Same pragmas as the till's store (`db::configure`).
    fn create(path: &Path, earlier_sales: u64) -> common::R<Baseline> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "cache_size", -32_000)?;
        conn.execute_batch(BASELINE_SCHEMA)?;
        let products: Vec<String> = (0..PRODUCTS)
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect();
        // Every product has a stock level (the till's opening stock).
        conn.execute_batch("BEGIN")?;
        for p in &products {
            conn.prepare_cached("INSERT INTO stock_levels (product_id, on_hand) VALUES (?1, 40)")?
                .execute([p])?;
        }
        conn.execute_batch("COMMIT")?;
        let mut b = Baseline {
            conn,
            products,
            n: 0,
            checkpointer: None,
        };
        if earlier_sales > 0 {
            b.conn.execute_batch("BEGIN")?;
            for i in 0..earlier_sales {
                b.rows(i)?;
            }
            b.conn.execute_batch("COMMIT")?;
        }
        Ok(b)
    }

    fn rows(&mut self, i: u64) -> rusqlite::Result<()> {
        self.n += 1;
        let c = &self.conn;
        let id = uuid::Uuid::now_v7().to_string();
        let at = 1_700_000_000_000i64 + i as i64 * 1000;
        c.prepare_cached(
            "INSERT INTO sales (id, number, till_id, at, items, subtotal, discount, tax, total, paid, change, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![id, format!("T1-{:06}", self.n), "0190aaaa-till", at, 4, 1234, 0, 206, 1234, 100_000, 98_766, self.n as i64])?;
        let mut line = c.prepare_cached(
            "INSERT INTO sale_lines (sale_id, line_no, product_id, sku, name, qty, unit_price, override_reason,
                                     discount, tax_class, tax_rate_bp, tax_inclusive, tax, total)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?;
        let chosen = picks(i);
        let pick = |k: u64| &self.products[chosen[k as usize]];
        for k in 0..3u64 {
            line.execute(params![
                id,
                k as i64 + 1,
                pick(k),
                format!("P{:06}", k + 1),
                "Organic Dark Chocolate 100g",
                1 + (k % 2) as i64,
                411,
                Option::<String>::None,
                0,
                "std",
                2000,
                true,
                69,
                411
            ])?;
        }
        c.prepare_cached(
            "INSERT INTO sale_tenders (sale_id, idx, kind, amount) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, 0, "cash", 100_000])?;
        for k in 0..3u64 {
            c.prepare_cached(
                "INSERT INTO stock_movements (record_id, idx, product_id, at, delta, kind, hlc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4)",
            )?
            .execute(params![id, k as i64, pick(k), at, -1, "sale"])?;
            c.prepare_cached(
                "INSERT INTO stock_levels (product_id, on_hand) VALUES (?1, ?2)
                 ON CONFLICT (product_id) DO UPDATE SET on_hand = on_hand + excluded.on_hand
                 WHERE count_hlc IS NULL OR ?3 > count_hlc",
            )?
            .execute(params![pick(k), -1, at])?;
        }
        Ok(())
    }

    /// One durable sale: one IMMEDIATE transaction, committed (fsync'd).
    fn sale(&mut self) -> rusqlite::Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match self.rows(self.n) {
            Ok(()) => {
                self.conn.execute_batch("COMMIT")?;
                if let Some(tx) = &self.checkpointer
                    && self.n.is_multiple_of(8)
                {
                    let _ = tx.send(());
                }
                Ok(())
            }
            Err(e) => {
                self.conn.execute_batch("ROLLBACK")?;
                Err(e)
            }
        }
    }
}

fn set_sync(conn: &Connection, mode: &str) {
    conn.pragma_update(None, "synchronous", mode).unwrap();
}

/// Interleaved timing (one ShopSync sale, one baseline sale, repeated), so
/// both see the same machine load; prints the distribution and the ratio.
fn interleaved(label: &str, store: &mut Store, base: &mut Baseline, rounds: usize) {
    let carts = carts(rounds + 20);
    for cart in &carts[..20] {
        store.sell(cart, &CASH).unwrap();
        base.sale().unwrap();
    }
    let (mut a, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for cart in &carts[20..] {
        let t = Instant::now();
        black_box(store.sell(cart, &CASH).unwrap());
        a.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        base.sale().unwrap();
        b.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ma, mb) = (mean(&a), mean(&b));
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let p = common::percentile;
    println!(
        "{label:<34} shopsync mean {ma:6.2} ms p50 {:6.2} p99 {:6.2} max {:7.2} | baseline mean {mb:6.2} ms p50 {:6.2} p99 {:6.2} max {:7.2} | ratio mean {:.2} p50 {:.2}",
        p(&a, 50.0),
        p(&a, 99.0),
        p(&a, 100.0),
        p(&b, 50.0),
        p(&b, 99.0),
        p(&b, 100.0),
        ma / mb,
        p(&a, 50.0) / p(&b, 50.0),
    );
}

fn interleaved_all() -> common::R {
    let rounds: usize = std::env::var("SALE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    println!("interleaved, {rounds} rounds of (ShopSync sale, baseline sale):");
    for (label, opts, earlier) in [
        ("0 earlier sales", catalog_only(), 0u64),
        ("100k earlier sales", with_100k_sales(), 100_000),
    ] {
        let dir = common::scratch_dir()?;
        let mut store = shopsync(&opts, dir.path())?;
        // As the till at the counter runs (the app): snapshots and
        // checkpoints on their own thread; the baseline checkpoints the
        // same way.
        store.set_snapshots(Snapshots::Background);
        let base_path = dir.path().join("baseline.db");
        let mut base = Baseline::create(&base_path, earlier)?;
        base.checkpointer = Some(background_checkpoints(&base.conn, &base_path)?);
        interleaved(
            &format!("{label}, synchronous=FULL"),
            &mut store,
            &mut base,
            rounds,
        );
        // Without fsync: what each side costs in CPU and page writes alone.
        set_sync(store.connection(), "OFF");
        set_sync(&base.conn, "OFF");
        interleaved(
            &format!("{label}, synchronous=OFF"),
            &mut store,
            &mut base,
            rounds,
        );
    }
    Ok(())
}

/// Latency distribution of `v` (ms), sorted in place.
fn tail_line(v: &mut [f64]) -> String {
    v.sort_by(f64::total_cmp);
    let p = common::percentile;
    let over_20 = v.iter().filter(|&&x| x > 20.0).count();
    let over_5 = v.iter().filter(|&&x| x > 5.0).count();
    format!(
        "p50 {:5.2} p99 {:5.2} p99.9 {:6.2} max {:7.2} ms, >5 ms: {over_5}, >20 ms: {over_20}",
        p(v, 50.0),
        p(v, 99.0),
        p(v, 99.9),
        p(v, 100.0),
    )
}

fn tail_all() -> common::R {
    let rounds: usize = std::env::var("SALE_TAIL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let gap = Duration::from_millis(
        std::env::var("SALE_TAIL_GAP_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    );
    println!(
        "tail: {rounds} rounds of (ShopSync sale, baseline sale), {} ms between rounds, 100k earlier sales, synchronous=NORMAL:",
        gap.as_millis()
    );
    let carts = carts(rounds + 20);
    for (label, mode) in [
        ("snapshots inline", Snapshots::Inline),
        ("snapshots in the background", Snapshots::Background),
    ] {
        let dir = common::scratch_dir()?;
        let mut store = shopsync(&with_100k_sales(), dir.path())?;
        store.set_snapshots(mode);
        let base_path = dir.path().join("baseline.db");
        let mut base = Baseline::create(&base_path, 100_000)?;
        if mode == Snapshots::Background {
            base.checkpointer = Some(background_checkpoints(&base.conn, &base_path)?);
        }
        set_sync(store.connection(), "NORMAL");
        set_sync(&base.conn, "NORMAL");
        for cart in &carts[..20] {
            store.sell(cart, &CASH)?;
            base.sale()?;
        }
        let (mut a, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
        let store_wal = wal_of(store.path());
        let base_wal = wal_of(&base_path);
        let (mut slow_a, mut slow_b) = (SlowSales::default(), SlowSales::default());
        for cart in &carts[20..] {
            let salt = wal_salt(&store_wal);
            let t = Instant::now();
            black_box(store.sell(cart, &CASH)?);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            slow_a.add(ms, salt != wal_salt(&store_wal));
            a.push(ms);
            let salt = wal_salt(&base_wal);
            let t = Instant::now();
            base.sale()?;
            let ms = t.elapsed().as_secs_f64() * 1e3;
            slow_b.add(ms, salt != wal_salt(&base_wal));
            b.push(ms);
            if !gap.is_zero() {
                std::thread::sleep(gap);
            }
        }
        let snapshots: i64 =
            store
                .connection()
                .query_row("SELECT COUNT(*) FROM doc_snapshots", [], |r| r.get(0))?;
        println!("{label}:");
        println!("  shopsync {}", tail_line(&mut a));
        println!("    {}", slow_a.line());
        println!("  baseline {}", tail_line(&mut b));
        println!("    {}", slow_b.line());
        println!(
            "  max ratio {:.2}; {snapshots} snapshot rows",
            a[a.len() - 1] / b[b.len() - 1]
        );
    }
    Ok(())
}

/// Sales over 10 ms, and whether each started the WAL over: SQLite then
/// writes a new WAL header and fsyncs it inside that sale's commit, even
/// with `synchronous=NORMAL` (wal.c, `syncHeader`).
#[derive(Default)]
struct SlowSales {
    restarts: u32,
    slow: u32,
    slow_restarts: u32,
}

impl SlowSales {
    fn add(&mut self, ms: f64, restarted: bool) {
        self.restarts += u32::from(restarted);
        if ms > 10.0 {
            self.slow += 1;
            self.slow_restarts += u32::from(restarted);
        }
    }

    fn line(&self) -> String {
        format!(
            "WAL restarts {}; sales over 10 ms {}, of which restarted the WAL {}",
            self.restarts, self.slow, self.slow_restarts
        )
    }
}

fn wal_of(db: &Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

/// The WAL header's salt-1, which SQLite changes each time it starts the
/// WAL over (zero if there is no header).
fn wal_salt(wal: &Path) -> u32 {
    use std::io::Read;
    let mut header = [0u8; 32];
    let read = std::fs::File::open(wal).and_then(|mut f| f.read_exact(&mut header));
    match read {
        Ok(()) => u32::from_be_bytes([header[16], header[17], header[18], header[19]]),
        Err(_) => 0,
    }
}

/// Checkpoints off and the WAL emptied, so its growth counts pages written.
fn count_wal_pages(conn: &Connection) -> common::R {
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// WAL frames (pages) `sale` appends, per call.
fn wal_pages_per_sale(wal: &Path, rounds: u32, mut sale: impl FnMut()) -> f64 {
    let frames = || std::fs::metadata(wal).map_or(0, |m| m.len().saturating_sub(32) / (4096 + 24));
    let before = frames();
    for _ in 0..rounds {
        sale();
    }
    (frames() - before) as f64 / f64::from(rounds)
}

/// Which table or index the WAL's frames belong to, per sale.
fn wal_pages_by_tree(conn: &Connection, wal: &Path, rounds: u32) -> common::R<Vec<(String, f64)>> {
    let bytes = std::fs::read(wal)?;
    let mut owner = std::collections::HashMap::new();
    let mut stmt = conn.prepare("SELECT pageno, name FROM dbstat")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (page, name) = row?;
        owner.insert(page as u32, name);
    }
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    let mut at = 32;
    while at + 24 <= bytes.len() {
        let page = u32::from_be_bytes(bytes[at..at + 4].try_into()?);
        let name = owner
            .get(&page)
            .cloned()
            .unwrap_or_else(|| "(other)".into());
        *counts.entry(name).or_default() += 1;
        at += 24 + 4096;
    }
    let mut out: Vec<(String, f64)> = counts
        .into_iter()
        .map(|(n, c)| (n, c as f64 / f64::from(rounds)))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(out)
}

/// Pages each side writes per sale: what a commit costs beyond CPU.
fn pages_all() -> common::R {
    let carts = carts(220);
    for (label, opts, earlier) in [
        ("0 earlier sales", catalog_only(), 0u64),
        ("100k earlier sales", with_100k_sales(), 100_000),
    ] {
        let dir = common::scratch_dir()?;
        let mut store = shopsync(&opts, dir.path())?;
        for cart in &carts[..20] {
            store.sell(cart, &CASH)?;
        }
        count_wal_pages(store.connection())?;
        let wal = format!("{}-wal", store.path().display());
        let mut next = carts[20..].iter();
        let ours = wal_pages_per_sale(Path::new(&wal), 200, || {
            store.sell(next.next().unwrap(), &CASH).unwrap();
        });
        let mut base = Baseline::create(&dir.path().join("baseline.db"), earlier)?;
        count_wal_pages(&base.conn)?;
        let theirs = wal_pages_per_sale(&dir.path().join("baseline.db-wal"), 200, || {
            base.sale().unwrap()
        });
        println!("{label}: WAL pages per sale: shopsync {ours:.1}, baseline {theirs:.1}");
        for (side, conn, wal) in [
            ("shopsync", store.connection(), wal.clone()),
            (
                "baseline",
                &base.conn,
                format!("{}", dir.path().join("baseline.db-wal").display()),
            ),
        ] {
            let by_tree = wal_pages_by_tree(conn, Path::new(&wal), 200)?;
            let line: Vec<String> = by_tree.iter().map(|(n, p)| format!("{n} {p:.1}")).collect();
            println!("  {side}: {}", line.join(", "));
        }
    }
    Ok(())
}

// ---- criterion --------------------------------------------------------------

fn bench_sale(c: &mut Criterion) {
    let mut g = c.benchmark_group("sale");
    g.sample_size(40).measurement_time(Duration::from_secs(8));
    for (label, opts, earlier) in [
        ("0", catalog_only(), 0u64),
        ("100k", with_100k_sales(), 100_000),
    ] {
        let dir = common::scratch_dir().unwrap();
        let mut store = shopsync(&opts, dir.path()).unwrap();
        let carts = carts(1024);
        let mut i = 0;
        g.bench_function(format!("shopsync/{label}"), |b| {
            b.iter(|| {
                i += 1;
                black_box(store.sell(&carts[i % carts.len()], &CASH).unwrap())
            })
        });
        let mut base = Baseline::create(&dir.path().join("baseline.db"), earlier).unwrap();
        g.bench_function(format!("baseline/{label}"), |b| {
            b.iter(|| base.sale().unwrap())
        });
    }
    g.finish();
}

/// Where a sale's time goes besides fsync: pricing the cart (`quote`, three
/// product lookups) and the Automerge commit of one record in a partition of
/// ~20k records.
fn bench_parts(c: &mut Criterion) {
    let mut g = c.benchmark_group("sale_parts");
    let dir = common::scratch_dir().unwrap();
    let store = shopsync(&with_100k_sales(), dir.path()).unwrap();
    let cart = cart(0);
    g.bench_function("quote_3_lines", |b| {
        b.iter(|| black_box(store.quote(&cart).unwrap()))
    });
    let mut doc = AutoCommit::new();
    let record = vec![b'x'; 900];
    for i in 0..20_000 {
        doc.put(ROOT, format!("r{i}"), ScalarValue::Bytes(record.clone()))
            .unwrap();
        doc.commit();
    }
    g.bench_function("automerge_map_length_20k", |b| {
        b.iter(|| black_box(doc.length(ROOT)))
    });
    g.sample_size(20);
    g.bench_function("automerge_save_20k_doc", |b| {
        b.iter(|| black_box(doc.save().len()))
    });
    g.sample_size(100);
    let mut i = 20_000u64;
    g.bench_function("automerge_put_commit_in_20k_doc", |b| {
        b.iter(|| {
            i += 1;
            doc.put(ROOT, format!("r{i}"), ScalarValue::Bytes(record.clone()))
                .unwrap();
            doc.commit();
            black_box(doc.get_last_local_change().map(|mut c| c.bytes().len()))
        })
    });
    g.finish();
}

criterion_group!(benches, bench_sale, bench_parts);

fn main() -> common::R {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if filters.is_empty() || filters.iter().any(|f| "interleaved".contains(f.as_str())) {
        interleaved_all()?;
    }
    if filters.iter().any(|f| f == "pages") {
        pages_all()?;
    }
    if filters.is_empty() || filters.iter().any(|f| "tail".contains(f.as_str())) {
        tail_all()?;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    Ok(())
}
