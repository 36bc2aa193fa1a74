//! Opens a store file the way a till starts: open, one stock query, one
//! quote; with `--sell`, also the first sale (which loads this till's
//! current ledger partition). Prints elapsed times and VmHWM/VmRSS from
//! /proc/self/status. Run it on a copy: `--sell` writes two sales.
//!
//! `cargo run --release -p shopsync-core --example open_store -- <file.db> [--sell]`

#[path = "../benches/common/mod.rs"]
mod common;

fn main() -> common::R {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: open_store <store.db> [--sell]")?;
    let sell = args.any(|a| a == "--sell");
    common::open_measure::run(std::path::Path::new(&path), sell)
}
