//! The customer's web app's speed in the real browser (docs/PERFORMANCE.md):
//!
//! - cold open with the network off: a phone profile with 10 lists and 3
//!   favourite shops of 5,000 products each, Chromium closed and opened
//!   again, the network off before the page loads; the time from the start
//!   of navigation to the first frame drawn with the lists (the app's
//!   `shopsync-ready` performance mark), target < 1,500 ms;
//! - search in a 5,000-product catalog: one keystroke (the input's value
//!   set and its `input` event) to the results drawn for it, target < 50 ms;
//! - the wasm download: its size as served gzipped, target < 1.5 MB.
//!
//! Run with `scripts/e2e-web.sh --bench` (release builds; prints a table).

use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use shopsync_e2e::web::{Browser, Server, Shop};

const PRODUCTS: usize = 5_000;
const SHOPS: usize = 3;
const LISTS: usize = 10;
const OPENS: usize = 7;
const COLD_OPEN_TARGET_MS: f64 = 1_500.0;
const SEARCH_TARGET_MS: f64 = 50.0;
const WASM_TARGET_BYTES: f64 = 1.5 * 1024.0 * 1024.0;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

fn summary(name: &str, mut v: Vec<f64>, target: f64, unit: &str) {
    v.sort_by(f64::total_cmp);
    let (p50, p95, max) = (
        percentile(&v, 0.5),
        percentile(&v, 0.95),
        percentile(&v, 1.0),
    );
    println!(
        "| {name} | {n} | {p50:.0} {unit} | {p95:.0} {unit} | {max:.0} {unit} | {target:.0} {unit} | {:.2} |",
        p95 / target,
        n = v.len()
    );
}

/// Keystroke to results, in the page: each query typed one character more.
const SEARCH_JS: &str = "
const [queries, done] = [arguments[0], arguments[arguments.length - 1]];
const input = document.querySelector('[data-testid=catalog-search]');
const out = [];
const next = (i) => {
  if (i >= queries.length) { done(out); return; }
  const q = queries[i];
  const t0 = performance.now();
  input.value = q;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  const check = () => {
    const c = document.querySelector('[data-testid=catalog-count]');
    if (c && c.dataset.query === q) { out.push(performance.now() - t0); setTimeout(() => next(i + 1), 30); }
    else requestAnimationFrame(check);
  };
  check();
};
next(0);";

async fn cold_open(profile_browser: Browser, url: &str) -> Result<(Browser, f64)> {
    let b = profile_browser.reopen().await?;
    b.offline(true).await?;
    b.goto(url).await?;
    b.wait_js_true(
        "return performance.getEntriesByName('shopsync-ready').length > 0;",
        "the app drew the lists",
    )
    .await?;
    let ms = b
        .js("return performance.getEntriesByName('shopsync-ready')[0].startTime;")
        .await?
        .as_f64()
        .context("no mark")?;
    let rows = b
        .js("return document.querySelectorAll('[data-testid=list-row]').length;")
        .await?;
    ensure!(rows == LISTS, "{rows} lists drawn, not {LISTS}");
    b.offline(false).await?;
    Ok((b, ms))
}

#[tokio::main]
async fn main() -> Result<()> {
    let server = Server::start()?;
    let started = Instant::now();
    let mut shops = Vec::new();
    for i in 0..SHOPS {
        shops.push(Shop::with_products(
            &server,
            &format!("Bench Shop {i}"),
            PRODUCTS,
        )?);
    }
    eprintln!(
        "{SHOPS} shops of {PRODUCTS} products in {:?}",
        started.elapsed()
    );

    let phone = Browser::phone().await?;
    phone.sign_up(&server, "Bench").await?;
    for (i, shop) in shops.iter().enumerate() {
        phone
            .favourite_and_open(shop, &format!("Bench Shop {i}"))
            .await?;
        phone
            .wait_text("catalog-count", |t| t.starts_with("5000 products"))
            .await?;
    }
    for l in 0..LISTS {
        phone
            .make_list(
                &format!("List {l}"),
                &["Milk", "Bread", "Eggs", "Apples", "Rice"],
            )
            .await?;
    }
    phone.wait_synced().await?;
    phone
        .wait_js_true(
            "return !!navigator.serviceWorker.controller;",
            "the service worker",
        )
        .await?;
    let url = format!("{}/#/lists", server.url());

    let mut opens = Vec::new();
    let mut b = phone;
    for _ in 0..OPENS {
        let (next, ms) = cold_open(b, &url).await?;
        opens.push(ms);
        b = next;
    }

    // Search, offline too, in the first shop's catalog.
    b.offline(true).await?;
    b.goto(&format!("{}/#/shop/{}", server.url(), shops[0].store_id))
        .await?;
    b.wait_text("catalog-count", |t| t.starts_with("5000 products"))
        .await?;
    let mut queries = Vec::new();
    for word in [
        "green tea 500g",
        "coffee beans 1",
        "p0123",
        "dark choc",
        "xyz",
    ] {
        for n in 1..=word.len() {
            queries.push(word[..n].to_string());
        }
        queries.push(String::new());
    }
    let took = b
        .client
        .execute_async(SEARCH_JS, vec![serde_json::to_value(&queries)?])
        .await?;
    let search: Vec<f64> = took
        .as_array()
        .context("no timings")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    if search.len() != queries.len() {
        bail!("{} timings for {} keystrokes", search.len(), queries.len());
    }
    b.offline(false).await?;

    let wasm_path = shopsync_e2e::repo_root().join("customer-web/dist/customer_web_bg.wasm");
    let wasm = std::fs::metadata(&wasm_path)
        .context("customer-web/dist is not built")?
        .len();
    let gz = gzip_size(&wasm_path)?;

    println!("| measure | n | p50 | p95 | max | target | p95 / target |");
    println!("|---|---|---|---|---|---|---|");
    summary(
        "cold open, network off (navigation → lists drawn)",
        opens,
        COLD_OPEN_TARGET_MS,
        "ms",
    );
    summary(
        "search keystroke → results (5,000 products)",
        search,
        SEARCH_TARGET_MS,
        "ms",
    );
    println!(
        "| wasm download (gzip -9) | 1 | {gz} bytes | | | {WASM_TARGET_BYTES:.0} bytes | {:.2} |",
        gz as f64 / WASM_TARGET_BYTES
    );
    println!("wasm: {wasm} bytes raw, {gz} bytes gzipped");
    b.close().await?;
    Ok(())
}

/// The gzip size of a file (Debian's gzip at its best compression).
fn gzip_size(path: &std::path::Path) -> Result<usize> {
    let out = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()?;
    ensure!(out.status.success(), "gzip failed");
    Ok(out.stdout.len())
}
