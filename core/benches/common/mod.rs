//! Shared by the benches and `examples/open_store.rs`: cached fixtures
//! (stores filled once with `Store::demo`, reused across runs) and fresh
//! copies of them.

#![allow(dead_code)]

pub mod open_measure;

use std::path::{Path, PathBuf};
use std::time::Instant;

use shopsync_core::demo::DemoOptions;
use shopsync_core::{InitOptions, Store};

pub type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Where built fixtures are kept: `$SHOPSYNC_BENCH_FIXTURES`, else
/// `$CARGO_TARGET_DIR/bench-fixtures`, else `<workspace>/target/bench-fixtures`.
pub fn fixture_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SHOPSYNC_BENCH_FIXTURES") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("bench-fixtures")
}

/// A store filled with `Store::demo(opts)`, built once and cached under
/// [`fixture_dir`]. The file name encodes the options, so changing them
/// builds a new fixture.
pub fn demo_fixture(opts: &DemoOptions) -> R<PathBuf> {
    let dir = fixture_dir();
    std::fs::create_dir_all(&dir)?;
    let name = format!(
        "demo-p{}-d{}-t{}-s{}-seed{}.db",
        opts.products, opts.days, opts.tills, opts.sales_per_day, opts.seed
    );
    let path = dir.join(&name);
    if path.exists() {
        return Ok(path);
    }
    let tmp = dir.join(format!("{name}.building"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", tmp.display()));
    }
    eprintln!("building fixture {} (once; cached) ...", path.display());
    let started = Instant::now();
    {
        let mut store = Store::init(
            &tmp,
            InitOptions {
                store_name: "Bench Shop".into(),
                till_name: "T1".into(),
                currency: "EUR".into(),
            },
        )?;
        let mut last_report = Instant::now();
        let summary = store.demo(opts, &mut |p| {
            if last_report.elapsed().as_secs_f64() >= 5.0 || p.done == p.total {
                eprintln!(
                    "  {:>7.1}s {} {}/{}",
                    started.elapsed().as_secs_f64(),
                    p.stage,
                    p.done,
                    p.total
                );
                last_report = Instant::now();
            }
        })?;
        store
            .connection()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        eprintln!(
            "  built in {:.1}s: {} products, {} sales, {} tills",
            started.elapsed().as_secs_f64(),
            summary.products,
            summary.sales,
            summary.tills
        );
    }
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Copies a fixture (a closed, checkpointed SQLite file) to `dir`.
pub fn fresh_copy(fixture: &Path, dir: &Path) -> R<PathBuf> {
    let to = dir.join(fixture.file_name().ok_or("fixture path has no file name")?);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", to.display()));
    }
    std::fs::copy(fixture, &to)?;
    // On disk before anything is timed: a till reopens a file that is
    // already written, not one the kernel is still writing back (that
    // writeback made a fresh copy's first commit wait ~200 ms).
    std::fs::File::open(&to)?.sync_all()?;
    Ok(to)
}

/// A temporary directory next to the fixtures (same disk as the fixtures,
/// not a tmpfs), removed on drop.
pub fn scratch_dir() -> R<tempfile::TempDir> {
    let dir = fixture_dir();
    std::fs::create_dir_all(&dir)?;
    Ok(tempfile::Builder::new().prefix("run-").tempdir_in(dir)?)
}

/// Peak and current resident memory of this process, from /proc/self/status.
pub fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// p-th percentile (0..=100) of sorted samples, nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
