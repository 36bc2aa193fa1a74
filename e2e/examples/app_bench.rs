//! The till's speed in its real window, over WebDriver:
//! 1. search: time from the last keystroke of a query to its results shown,
//!    on a store of 100,000 products (issue 13's target: p99 < 30 ms);
//! 2. cold start: launching the app on the demo store until the Sell
//!    screen is interactive.
//!
//! `scripts/e2e.sh --bench` runs it (it needs what the e2e tests need).
//! Options via env: BENCH_PRODUCTS (default 100000), BENCH_DB (reuse a store),
//! BENCH_QUERIES (default 400: enough for a p99), BENCH_SEARCH_ONLY=1.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use shopsync_core::demo::DemoOptions;
use shopsync_core::{InitOptions, Store};
use shopsync_e2e::App;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let i = ((s.len() as f64 - 1.0) * p).round() as usize;
    s.get(i).copied().unwrap_or(f64::NAN)
}

fn make_store(path: &std::path::Path, products: u32, days: u32) -> Result<f64> {
    let started = Instant::now();
    let mut s = Store::init(
        path,
        InitOptions {
            store_name: "Bench Shop".into(),
            till_name: "Till 1".into(),
            currency: "EUR".into(),
        },
    )?;
    s.demo(
        &DemoOptions {
            products,
            days,
            ..DemoOptions::default()
        },
        &mut |_| {},
    )?;
    Ok(started.elapsed().as_secs_f64())
}

/// Marks when the results for each query appear, and when each key went down.
const PROBE: &str = r#"
window.__lastKey = 0; window.__shown = {};
document.addEventListener('keydown', () => { window.__lastKey = performance.now(); }, true);
const mark = () => {
  const r = document.querySelector("[data-testid='search-results']");
  if (r) { const q = r.getAttribute('data-query'); if (q && !(q in window.__shown)) window.__shown[q] = performance.now(); }
};
new MutationObserver(mark).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-query'] });
return true;
"#;

const WAIT: &str = r#"
const [q, done] = [arguments[0], arguments[arguments.length - 1]];
const t0 = performance.now();
const check = () => {
  if (q in window.__shown) { done(window.__shown[q] - window.__lastKey); return; }
  if (performance.now() - t0 > 10000) { done(-1); return; }
  setTimeout(check, 1);
};
check();
"#;

#[tokio::main]
async fn main() -> Result<()> {
    let products: u32 = std::env::var("BENCH_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;

    // --- search on a big catalog ---------------------------------------
    let db = match std::env::var_os("BENCH_DB") {
        Some(p) => PathBuf::from(p),
        None => {
            let p = dir.path().join("big.db");
            let secs = make_store(&p, products, 1)?;
            println!("created a {products}-product store in {secs:.1} s");
            p
        }
    };
    let mut app = App::launch(&db).await?;
    app.el("sell-search").await?;
    app.client.execute(PROBE, vec![]).await?;
    let words = [
        "org",
        "fresh",
        "choc",
        "smoked",
        "dark",
        "tea",
        "oat",
        "rice",
        "bean",
        "apple",
        "sk",
        "cla",
        "sparkling",
        "wholegrain",
        "free",
        "lemon",
        "milk",
        "coffee",
        "pasta",
        "bread",
    ];
    let queries: usize = std::env::var("BENCH_QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    // The queries a cashier types: a word, a prefix, two words, a word and
    // a size (the slow kinds for the full-text index).
    let second = ["", "dark", "100", "1l", "fr", "", "500g", "bio"];
    let mut times = Vec::new();
    for i in 0..queries {
        let w = words[i % words.len()];
        let extra = second[(i / words.len()) % second.len()];
        let q = format!("{w} {extra}").trim_end().to_string();
        // Clear with Escape (the scan field clears itself), then type the query.
        let field = app.el("sell-search").await?;
        field.clear().await?;
        app.client
            .execute("window.__shown = {}; return true;", vec![])
            .await?;
        field.send_keys(&q).await?;
        let ms = app
            .client
            .execute_async(WAIT, vec![serde_json::json!(q)])
            .await?;
        let ms = ms.as_f64().unwrap_or(-1.0);
        if ms >= 0.0 {
            times.push(ms);
        } else {
            println!("query {q:?}: results never shown");
        }
    }
    app.screenshot("bench-search").await.ok();
    app.stop().await;
    let med = median(&mut times.clone());
    println!(
        "search on {products} products: n={} median {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (last keystroke -> results in the DOM)",
        times.len(),
        med,
        pct(&times, 0.9),
        pct(&times, 0.99),
        pct(&times, 1.0)
    );
    if std::env::var("BENCH_SEARCH_ONLY").is_ok_and(|v| v == "1") {
        return Ok(());
    }

    // --- cold start with the demo store ----------------------------------
    let demo = dir.path().join("demo.db");
    let secs = make_store(
        &demo,
        DemoOptions::default().products,
        DemoOptions::default().days,
    )?;
    println!("created the demo store (default options) in {secs:.1} s");
    let mut starts = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let mut app = App::launch(&demo).await?;
        app.el("sell-search").await?;
        app.wait_text("store-name", |t| t.contains("Bench Shop"))
            .await?;
        starts.push(t.elapsed().as_secs_f64() * 1000.0);
        app.stop().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "cold start to an interactive Sell screen (demo store): runs {:?} ms, median {:.0} ms (includes tauri-driver/WebKitWebDriver session setup)",
        starts.iter().map(|s| s.round()).collect::<Vec<_>>(),
        median(&mut starts.clone())
    );
    Ok(())
}
