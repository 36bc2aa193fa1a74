//! Product search (`Store::search_products(q, 20, false)`) in a catalog of
//! 100k products, built once with `Store::demo` and cached.
//!
//! `cargo bench -p shopsync-core --bench search`
//!
//! Target: p99 < 2 ms (issue 13; stretch < 1 ms). Criterion reports means per query kind; the
//! percentiles come from one timed pass over >= 1,000 varied queries (name
//! words, name prefixes, two-word queries, SKU and barcode prefixes, exact
//! codes), printed first.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shopsync_core::Store;
use shopsync_core::demo::DemoOptions;

fn options() -> DemoOptions {
    DemoOptions {
        products: 100_000,
        days: 0,
        tills: 1,
        sales_per_day: 0,
        seed: 42,
    }
}

const WORDS: &[&str] = &[
    "organic",
    "fresh",
    "classic",
    "smoked",
    "wholegrain",
    "free-range",
    "sparkling",
    "dark",
    "mild",
    "extra",
    "local",
    "crunchy",
    "salted",
    "sweet",
    "spicy",
    "light",
    "milk",
    "bread",
    "butter",
    "cheddar",
    "eggs",
    "apples",
    "bananas",
    "coffee",
    "tea",
    "orange juice",
    "pasta",
    "rice",
    "tomatoes",
    "olive oil",
    "chocolate",
    "yoghurt",
    "water",
    "crisps",
    "honey",
    "oats",
    "ham",
    "salmon",
    "soap",
    "toothpaste",
    "batteries",
    "candles",
    "flour",
    "sugar",
    "lemonade",
    "biscuits",
    "500g",
    "1kg",
    "330ml",
    "family size",
    "pack",
];

/// The query mix: (kind, query).
fn queries(n: usize) -> Vec<(&'static str, String)> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut out = Vec::with_capacity(n);
    let word = |rng: &mut StdRng| WORDS[rng.random_range(0..WORDS.len())];
    let product = |rng: &mut StdRng| rng.random_range(1..=100_000u32);
    for i in 0..n {
        let q = match i % 8 {
            0 => ("word", word(&mut rng).to_string()),
            1 => {
                let w = word(&mut rng);
                let len = rng.random_range(1..=w.len().min(5));
                ("name prefix", w[..len].to_string())
            }
            2 => {
                let (a, b) = (word(&mut rng), word(&mut rng));
                ("two words", format!("{a} {}", &b[..b.len().min(4)]))
            }
            3 => {
                let s = format!("P{:06}", product(&mut rng));
                let len = rng.random_range(2..=6);
                ("sku prefix", s[..len].to_string())
            }
            4 => ("sku exact", format!("P{:06}", product(&mut rng))),
            5 => {
                let s = format!("20{:011}", product(&mut rng));
                let len = rng.random_range(3..=12);
                ("barcode prefix", s[..len].to_string())
            }
            6 => ("barcode exact", format!("20{:011}", product(&mut rng))),
            _ => {
                let w = word(&mut rng);
                (
                    "word + size",
                    format!("{w} {}", ["1l", "250g", "6 pack", "single"][i % 4]),
                )
            }
        };
        out.push(q);
    }
    out
}

fn open() -> common::R<Store> {
    let fixture = common::demo_fixture(&options())?;
    Ok(Store::open(&fixture)?)
}

fn percentiles() -> common::R {
    let store = open()?;
    let qs = queries(2_000);
    // The in-memory name index is built by the first name search; built
    // here, so its cost and size are reported and not timed as a query.
    let rss_before = vm_rss_kb();
    let t = Instant::now();
    let heap = store.prepare_search()?;
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss_after = vm_rss_kb();
    println!(
        "name index: built in {build_ms:.0} ms, ~{:.1} MB of heap by its own count, VmRSS {:.1} -> {:.1} MB (+{:.1} MB)",
        heap as f64 / 1e6,
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        (rss_after - rss_before) as f64 / 1024.0
    );
    // Warm the page cache and statement cache once.
    for (_, q) in qs.iter().take(200) {
        black_box(store.search_products(q, 20, false)?);
    }
    let mut all = Vec::with_capacity(qs.len());
    let mut by_kind: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    let mut slowest: Vec<(f64, String, usize)> = Vec::new();
    for (kind, q) in &qs {
        let t = Instant::now();
        let hits = store.search_products(q, 20, false)?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        all.push(ms);
        by_kind.entry(kind).or_default().push(ms);
        slowest.push((ms, q.clone(), hits.len()));
    }
    all.sort_by(f64::total_cmp);
    let p = common::percentile;
    println!(
        "search over {} queries in 100k products: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        all.len(),
        p(&all, 50.0),
        p(&all, 90.0),
        p(&all, 99.0),
        p(&all, 100.0)
    );
    for (kind, mut v) in by_kind {
        v.sort_by(f64::total_cmp);
        println!(
            "  {kind:<15} n={:<4} p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
            v.len(),
            p(&v, 50.0),
            p(&v, 99.0),
            p(&v, 100.0)
        );
    }
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("  slowest:");
    for (ms, q, n) in slowest.iter().take(8) {
        println!("    {ms:7.3} ms  {q:?} ({n} hits)");
    }
    Ok(())
}

/// This process's resident set (kB), 0 where /proc is not there.
fn vm_rss_kb() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn bench_search(c: &mut Criterion) {
    let store = open().unwrap();
    store.prepare_search().unwrap();
    let mut g = c.benchmark_group("search");
    g.measurement_time(Duration::from_secs(3));
    for q in [
        "choc",
        "chocolate",
        "dark choc",
        "s",
        "P0123",
        "P012345",
        "2000001",
        "2000000012345",
    ] {
        g.bench_function(q, |b| {
            b.iter(|| black_box(store.search_products(q, 20, false).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_search);

fn main() -> common::R {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if filters.is_empty() || filters.iter().any(|f| "percentiles".contains(f.as_str())) {
        percentiles()?;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    Ok(())
}
