//! Opening a store holding ~1M sales (4 tills, a year): time to ready-to-sell
//! and to the first sale, with resident memory, each in a fresh child process
//! (so VmHWM counts only what opening costs) on a fresh copy of a cached
//! fixture.
//!
//! `cargo bench -p shopsync-core --bench open`
//!
//! Targets: open < 1 s and < 200 MB resident.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use shopsync_core::demo::DemoOptions;

const CHILD_ENV: &str = "SHOPSYNC_OPEN_BENCH_CHILD";
const RUNS: usize = 5;

fn options() -> DemoOptions {
    DemoOptions {
        products: 5_000,
        days: 365,
        tills: 4,
        sales_per_day: 685,
        seed: 42,
    }
}

fn main() -> common::R {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        let (mode, path) = spec.split_once(':').ok_or("bad child spec")?;
        return common::open_measure::run(std::path::Path::new(path), mode == "sell");
    }
    // `cargo bench` passes `--bench`; a filter that does not match "open" skips us.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| "open".contains(f.as_str())) {
        return Ok(());
    }
    let fixture = common::demo_fixture(&options())?;
    let size = std::fs::metadata(&fixture)?.len();
    println!(
        "fixture {} ({:.0} MB)",
        fixture.display(),
        size as f64 / 1e6
    );
    {
        let conn = rusqlite::Connection::open(&fixture)?;
        let sales: i64 = conn.query_row("SELECT count(*) FROM sales", [], |r| r.get(0))?;
        let changes: i64 = conn.query_row("SELECT count(*) FROM doc_changes", [], |r| r.get(0))?;
        let docs: i64 = conn.query_row("SELECT count(*) FROM documents", [], |r| r.get(0))?;
        println!("  {sales} sales, {changes} document changes, {docs} documents");
    }
    let exe = std::env::current_exe()?;
    for mode in ["open", "sell"] {
        let mut all: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for run in 1..=RUNS {
            let scratch = common::scratch_dir()?;
            let copy = common::fresh_copy(&fixture, scratch.path())?;
            let out = Command::new(&exe)
                .env(CHILD_ENV, format!("{mode}:{}", copy.display()))
                .output()?;
            if !out.status.success() {
                return Err(
                    format!("child failed: {}", String::from_utf8_lossy(&out.stderr)).into(),
                );
            }
            let stdout = String::from_utf8_lossy(&out.stdout);
            for line in stdout.lines() {
                if let Some(kv) = line.strip_prefix("RESULT ") {
                    for pair in kv.split_whitespace() {
                        if let Some((k, v)) = pair.split_once('=') {
                            all.entry(k.to_string())
                                .or_default()
                                .push(v.parse().unwrap_or(f64::NAN));
                        }
                    }
                } else {
                    println!("[{mode} run {run}] {line}");
                }
            }
        }
        println!(
            "{mode}: median (min..max) over {RUNS} runs, each a fresh process on a fresh copy"
        );
        for (k, mut v) in all {
            v.sort_by(f64::total_cmp);
            let (lo, med, hi) = (v[0], v[v.len() / 2], v[v.len() - 1]);
            if let Some(name) = k.strip_suffix("_kib") {
                println!(
                    "  {name:<20} {:>8.1} MB ({:.1}..{:.1})",
                    med / 1024.0,
                    lo / 1024.0,
                    hi / 1024.0
                );
            } else {
                println!("  {k:<20} {med:>8.1} ms ({lo:.1}..{hi:.1})");
            }
        }
    }
    Ok(())
}
