//! ShopSync's shop simulator: seeded histories of tills, the sync server and
//! faults, played against a physical model of the shop and checked after
//! each (docs/TESTING.md, "The shop simulator").
//!
//! A history is generated from its seed alone; record ids and Automerge
//! actors made while it runs come from the same seed, so `SIM_SEED=S`
//! replays it exactly.

pub mod check;
pub mod schedule;
pub mod server;
pub mod world;

use anyhow::Result;

pub use schedule::{Event, History};
use world::World;

/// A history that broke an invariant (or could not run).
#[derive(Debug)]
pub struct Failure {
    pub seed: u64,
    /// Which invariant broke (a shrunk history must break the same one).
    pub kind: &'static str,
    pub message: String,
    /// The readable trace up to the failure.
    pub trace: Vec<String>,
}

/// Plays one history and checks it; returns its trace.
pub fn run(h: &History) -> Result<Vec<String>, Failure> {
    shopsync_core::ids::seed_ids_on_this_thread(Some(h.seed));
    let result = play(h);
    shopsync_core::ids::seed_ids_on_this_thread(None);
    result
}

fn play(h: &History) -> Result<Vec<String>, Failure> {
    let fail = |message: String, trace: Vec<String>| Failure {
        seed: h.seed,
        kind: kind_of(&message),
        message,
        trace,
    };
    let mut w = World::new(h).map_err(|e| fail(format!("setting up: {e:#}"), Vec::new()))?;
    for (i, dt, e) in &h.steps {
        let i = *i;
        w.step = i;
        if let Err(err) = w.apply(*dt, e) {
            return Err(fail(format!("step {i} ({e}): {err:#}"), w.trace));
        }
    }
    let settled: Result<()> = w.settle().and_then(|()| check::all(&mut w));
    match settled {
        Ok(()) => Ok(std::mem::take(&mut w.trace)),
        Err(err) => Err(fail(format!("{err:#}"), std::mem::take(&mut w.trace))),
    }
}

/// What kind of failure a message reports.
fn kind_of(message: &str) -> &'static str {
    const KINDS: &[(&str, &str)] = &[
        ("orders disagree", "orders"),
        ("reserves", "reserved"),
        ("available with", "reserved"),
        ("(collected)", "collected"),
        ("collected by two tills", "collected"),
        ("public catalog", "public catalog"),
        ("differ from a rebuild", "rebuild"),
        ("does not open", "load"),
        ("do not rebuild", "load"),
        ("disagree", "convergence"),
        ("is missing", "lost sale"),
        ("no till completed", "phantom sale"),
        ("without being flagged", "sale number"),
        ("refund", "refund"),
        ("hostile", "hostile"),
        ("quarantined", "hostile"),
        ("explains it", "shelf"),
        ("could not sync", "sync stopped"),
        ("still exchange", "sync stopped"),
    ];
    KINDS
        .iter()
        .find(|(k, _)| message.contains(k))
        .map_or("operation", |(_, v)| v)
}

/// The smallest sub-history (fewest events) found that still fails the same
/// way, by removing chunks of events while it does (at most `budget` runs).
pub fn shrink(h: &History, kind: &str, budget: usize) -> History {
    let mut best = h.clone();
    let mut runs = 0;
    let mut chunk = best.steps.len().div_ceil(2).max(1);
    while chunk >= 1 && runs < budget {
        let mut i = 0;
        let mut removed_any = false;
        while i < best.steps.len() && runs < budget {
            let mut candidate = best.clone();
            let end = (i + chunk).min(candidate.steps.len());
            candidate.steps.drain(i..end);
            runs += 1;
            if run(&candidate).is_err_and(|f| f.kind == kind) {
                best = candidate;
                removed_any = true;
            } else {
                i += chunk;
            }
        }
        if chunk == 1 && !removed_any {
            break;
        }
        chunk = if removed_any { chunk } else { chunk / 2 };
        if chunk == 0 {
            break;
        }
    }
    best
}

/// The history as people read it.
pub fn describe(h: &History) -> String {
    let mut out = format!(
        "seed {}: {} tills, {} products, {} events\n",
        h.seed,
        h.tills,
        h.products,
        h.steps.len()
    );
    for (i, dt, e) in &h.steps {
        out.push_str(&format!("  #{i} (+{}s) {e}\n", dt / 1000));
    }
    out
}
