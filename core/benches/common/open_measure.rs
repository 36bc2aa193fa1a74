//! What `examples/open_store.rs` and the `open` bench's child process do:
//! open a store, run one stock query and one quote (a till ready to sell),
//! optionally make the first sale, and report time and resident memory.

use std::path::Path;
use std::time::Instant;

use shopsync_core::types::TenderKind;
use shopsync_core::{CartLine, Store, TenderInput};

use super::{R, memory_kib};

pub fn cart() -> Vec<CartLine> {
    vec![
        CartLine::new("P000001", 1),
        CartLine::new("P000002", 2),
        CartLine::new("P000003", 1),
    ]
}

/// Prints a human line and a `RESULT k=v ...` line the bench parses.
pub fn run(path: &Path, sell: bool) -> R {
    let t0 = Instant::now();
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let mut store = Store::open(path)?;
    let open_ms = ms(t0);
    // The till's clock, when the fixture's last month is not the machine's
    // (SHOPSYNC_OPEN_BENCH_AT=2026-11-30T18:00:00Z sells into a full month).
    if let Some(at) = std::env::var("SHOPSYNC_OPEN_BENCH_AT")
        .ok()
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(&v).ok())
    {
        store.set_now(Some(at.with_timezone(&chrono::Utc)));
    }
    let t = Instant::now();
    let one = store.stock_levels(Some("P000001"), false)?;
    let stock_ms = ms(t);
    let t = Instant::now();
    let low = store.stock_levels(None, true)?;
    let low_ms = ms(t);
    let t = Instant::now();
    let quote = store.quote(&cart())?;
    let quote_ms = ms(t);
    let ready_ms = ms(t0);
    let (hwm_ready, rss_ready) = memory_kib();
    println!(
        "open {open_ms:.1} ms | stock of P000001 ({} on hand) {stock_ms:.1} ms | low-stock list ({} rows) {low_ms:.1} ms | quote ({}) {quote_ms:.2} ms | ready to sell {ready_ms:.1} ms | VmHWM {:.1} MB VmRSS {:.1} MB",
        one.first().map_or(0, |s| s.on_hand),
        low.len(),
        quote.total,
        hwm_ready as f64 / 1024.0,
        rss_ready as f64 / 1024.0,
    );
    let mut result = format!(
        "RESULT open_ms={open_ms:.3} stock_ms={stock_ms:.3} low_ms={low_ms:.3} quote_ms={quote_ms:.3} ready_ms={ready_ms:.3} hwm_ready_kib={hwm_ready} rss_ready_kib={rss_ready}"
    );
    if sell {
        let tender = [TenderInput {
            kind: TenderKind::Cash,
            amount: quote.total.minor + 1_000,
        }];
        let t = Instant::now();
        let receipt = store.sell(&cart(), &tender)?;
        let first_ms = ms(t);
        let to_first_ms = ms(t0);
        let t = Instant::now();
        store.sell(&cart(), &tender)?;
        let second_ms = ms(t);
        let (hwm, rss) = memory_kib();
        println!(
            "first sale {} {first_ms:.1} ms | open + first sale {to_first_ms:.1} ms | second sale {second_ms:.1} ms | VmHWM {:.1} MB VmRSS {:.1} MB",
            receipt.number,
            hwm as f64 / 1024.0,
            rss as f64 / 1024.0,
        );
        result.push_str(&format!(
            " first_sale_ms={first_ms:.3} open_first_sale_ms={to_first_ms:.3} second_sale_ms={second_ms:.3} hwm_sale_kib={hwm} rss_sale_kib={rss}"
        ));
    }
    println!("{result}");
    Ok(())
}
