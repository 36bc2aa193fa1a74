//! `shopsync-sim`: runs seeded shop histories and checks each.
//!
//!   shopsync-sim --seeds 500            500 histories from seed 0 (or SIM_SEEDS)
//!   shopsync-sim --seed 1234            replays one history, printing its trace (or SIM_SEED)

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use shopsync_sim::{History, describe, run, shrink};

#[derive(Parser)]
#[command(
    version,
    about = "ShopSync's shop simulator: seeded histories checked against the shelves"
)]
struct Args {
    /// How many histories to run (seeds first..first+N).
    #[arg(long, env = "SIM_SEEDS", default_value_t = 100)]
    seeds: u64,
    /// The first seed.
    #[arg(long, env = "SIM_FIRST_SEED", default_value_t = 0)]
    first: u64,
    /// Replay one seed, printing its trace.
    #[arg(long, env = "SIM_SEED")]
    seed: Option<u64>,
    /// With --seed: replay only these events of the history (a shrunk
    /// history, as a failing run prints it).
    #[arg(long, env = "SIM_KEEP", value_delimiter = ',')]
    keep: Option<Vec<usize>>,
    /// Events per history (0: drawn from the seed).
    #[arg(long, env = "SIM_EVENTS", default_value_t = 0)]
    events: usize,
    /// Do not shrink a failing history.
    #[arg(long)]
    no_shrink: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(seed) = args.seed {
        let mut h = History::generate(seed, args.events);
        if let Some(keep) = &args.keep {
            h = h.keep(keep);
        }
        print!("{}", describe(&h));
        return match run(&h) {
            Ok(trace) => {
                println!("trace:");
                for line in &trace {
                    println!("{line}");
                }
                println!("seed {seed}: every check passed");
                ExitCode::SUCCESS
            }
            Err(f) => {
                println!("trace:");
                for line in &f.trace {
                    println!("{line}");
                }
                println!("seed {seed} FAILED: {}", f.message);
                ExitCode::FAILURE
            }
        };
    }
    let started = Instant::now();
    let mut failed = 0u64;
    for seed in args.first..args.first + args.seeds {
        if seed > args.first && (seed - args.first) % 1000 == 0 {
            println!(
                "{} histories, {failed} failed, {:.0} s",
                seed - args.first,
                started.elapsed().as_secs_f64()
            );
        }
        let h = History::generate(seed, args.events);
        if let Err(f) = run(&h) {
            failed += 1;
            eprintln!("seed {seed} FAILED ({}): {}", f.kind, f.message);
            eprintln!("  replay: SIM_SEED={seed} cargo run --release -p shopsync-sim");
            if !args.no_shrink {
                let small = shrink(&h, f.kind, 300);
                eprintln!(
                    "  shrunk to {} of {} events (replay: SIM_SEED={seed} SIM_KEEP={} cargo run --release -p shopsync-sim):\n{}",
                    small.steps.len(),
                    h.steps.len(),
                    small.indices(),
                    describe(&small)
                );
            }
            if failed >= 5 {
                eprintln!("stopping after 5 failing seeds");
                break;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} histories, {failed} failed, {:.1} s ({:.0} histories per minute)",
        args.seeds,
        secs,
        args.seeds as f64 * 60.0 / secs.max(0.001)
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
