//! A durable 3-line cash sale through `Store::sell`, against a baseline run
//! in the same process: the same rows (sale, 3 lines, tender, 3 stock
//! movements, 3 stock-level upserts) inserted into plain SQLite tables in one
//! transaction, with the same durability (WAL, synchronous=FULL, bundled
//! SQLite). Both with an empty ledger and with 100k earlier sales.
//!
//! `cargo bench -p shopsync-core --bench sale`
//!
//! Target: ShopSync <= 2x the baseline.
//!
//! `-- tail`: the slowest sale in 10,000 (`SALE_TAIL_ROUNDS`) back-to-back,
//! synchronous=NORMAL, 100k earlier sales, with snapshots inline (as before
//! issue 13) and in the background, each interleaved with the baseline.

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

fn cart() -> Vec<CartLine> {
    vec![
        CartLine::new("P000001", 1),
        CartLine::new("P000002", 2),
        CartLine::new("P000003", 1),
    ]
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

const BASELINE_SCHEMA: &str = "
CREATE TABLE sales (
    id TEXT PRIMARY KEY, number TEXT NOT NULL, till_id TEXT NOT NULL, at INTEGER NOT NULL,
    items INTEGER NOT NULL, subtotal INTEGER NOT NULL, discount INTEGER NOT NULL,
    tax INTEGER NOT NULL, total INTEGER NOT NULL, paid INTEGER NOT NULL, change INTEGER NOT NULL
) STRICT;
CREATE INDEX sales_at ON sales (at);
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
    delta INTEGER NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (record_id, idx)
) STRICT, WITHOUT ROWID;
CREATE INDEX stock_movements_product_at ON stock_movements (product_id, at);
CREATE TABLE stock_levels (
    product_id TEXT PRIMARY KEY, on_hand INTEGER NOT NULL, count_at INTEGER, count_record_id TEXT
) STRICT;
CREATE INDEX stock_levels_on_hand ON stock_levels (on_hand);
";

struct Baseline {
    conn: Connection,
    products: Vec<String>,
    n: u64,
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
        let products = (1..=2_000)
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect();
        let mut b = Baseline {
            conn,
            products,
            n: 0,
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
            "INSERT INTO sales (id, number, till_id, at, items, subtotal, discount, tax, total, paid, change)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![id, format!("T1-{:06}", self.n), "0190aaaa-till", at, 4, 1234, 0, 206, 1234, 100_000, 98_766])?;
        let mut line = c.prepare_cached(
            "INSERT INTO sale_lines (sale_id, line_no, product_id, sku, name, qty, unit_price, override_reason,
                                     discount, tax_class, tax_rate_bp, tax_inclusive, tax, total)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?;
        let pick = |k: u64| &self.products[((i * 3 + k) % self.products.len() as u64) as usize];
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
                "INSERT INTO stock_movements (record_id, idx, product_id, at, delta, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![id, k as i64, pick(k), at, -1, "sale"])?;
            c.prepare_cached(
                "INSERT INTO stock_levels (product_id, on_hand) VALUES (?1, ?2)
                 ON CONFLICT (product_id) DO UPDATE SET on_hand = on_hand + excluded.on_hand
                 WHERE count_at IS NULL OR ?3 > count_at",
            )?
            .execute(params![pick(k), -1, at])?;
        }
        Ok(())
    }

    /// One durable sale: one IMMEDIATE transaction, committed (fsync'd).
    fn sale(&mut self) -> rusqlite::Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match self.rows(self.n) {
            Ok(()) => self.conn.execute_batch("COMMIT"),
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
    let cart = cart();
    for _ in 0..20 {
        store.sell(&cart, &CASH).unwrap();
        base.sale().unwrap();
    }
    let (mut a, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(store.sell(&cart, &CASH).unwrap());
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
        let mut base = Baseline::create(&dir.path().join("baseline.db"), earlier)?;
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
    println!(
        "tail: {rounds} rounds of (ShopSync sale, baseline sale), 100k earlier sales, synchronous=NORMAL:"
    );
    let cart = cart();
    for (label, mode) in [
        ("snapshots inline", Snapshots::Inline),
        ("snapshots in the background", Snapshots::Background),
    ] {
        let dir = common::scratch_dir()?;
        let mut store = shopsync(&with_100k_sales(), dir.path())?;
        store.set_snapshots(mode);
        let mut base = Baseline::create(&dir.path().join("baseline.db"), 100_000)?;
        set_sync(store.connection(), "NORMAL");
        set_sync(&base.conn, "NORMAL");
        for _ in 0..20 {
            store.sell(&cart, &CASH)?;
            base.sale()?;
        }
        let (mut a, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
        for _ in 0..rounds {
            let t = Instant::now();
            black_box(store.sell(&cart, &CASH)?);
            a.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            base.sale()?;
            b.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let snapshots: i64 =
            store
                .connection()
                .query_row("SELECT COUNT(*) FROM doc_snapshots", [], |r| r.get(0))?;
        println!("{label}:");
        println!("  shopsync {}", tail_line(&mut a));
        println!("  baseline {}", tail_line(&mut b));
        println!(
            "  max ratio {:.2}; {snapshots} snapshot rows",
            a[a.len() - 1] / b[b.len() - 1]
        );
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
        let cart = cart();
        g.bench_function(format!("shopsync/{label}"), |b| {
            b.iter(|| black_box(store.sell(&cart, &CASH).unwrap()))
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
    let cart = cart();
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
    if filters.is_empty() || filters.iter().any(|f| "tail".contains(f.as_str())) {
        tail_all()?;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    Ok(())
}
