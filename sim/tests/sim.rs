//! The shop simulator as a test: regression histories, a few seeded ones,
//! and proof that its checks fail when the shop and the tills disagree.
//! (`.ci/run` also runs `shopsync-sim --seeds 300` in release: see
//! scripts/test.sh.)

use shopsync_sim::world::World;
use shopsync_sim::{History, check, run};

type R = anyhow::Result<()>;

/// (seed, the events kept if shrunk, what broke)
type Regression = (u64, Option<Vec<usize>>, String);

fn regressions() -> anyhow::Result<Vec<Regression>> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/regressions.txt"))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let (body, note) = line.split_once('#').unwrap_or((line, ""));
        let mut parts = body.split_whitespace();
        let Some(seed) = parts.next() else { continue };
        let keep = parts
            .next()
            .map(|k| {
                k.split(',')
                    .map(str::parse)
                    .collect::<Result<Vec<usize>, _>>()
            })
            .transpose()?;
        out.push((seed.parse()?, keep, note.trim().to_string()));
    }
    Ok(out)
}

#[test]
fn every_regression_history_passes() -> R {
    let cases = regressions()?;
    assert!(
        cases.len() >= 8,
        "the regression file lists the seeds found"
    );
    for (seed, keep, note) in cases {
        let mut h = History::generate(seed, 0);
        if let Some(k) = &keep {
            h = h.keep(k);
            assert_eq!(
                h.steps.len(),
                k.len(),
                "seed {seed}: every kept event exists"
            );
        }
        if let Err(f) = run(&h) {
            panic!("seed {seed} ({note}) fails again: {}", f.message);
        }
    }
    Ok(())
}

#[test]
fn seeded_histories_pass() -> R {
    let n: u64 = std::env::var("SIM_TEST_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    for seed in 10_000..10_000 + n {
        if let Err(f) = run(&History::generate(seed, 0)) {
            panic!(
                "seed {seed} fails ({}): {}\nreplay: SIM_SEED={seed} cargo run --release -p shopsync-sim",
                f.kind, f.message
            );
        }
    }
    Ok(())
}

#[test]
fn a_replayed_seed_gives_the_same_trace() -> R {
    let h = History::generate(3, 0);
    let a = run(&h).map_err(|f| anyhow::anyhow!(f.message))?;
    let b = run(&h).map_err(|f| anyhow::anyhow!(f.message))?;
    assert!(a.len() > 20, "a real history: {} lines", a.len());
    assert_eq!(
        a, b,
        "the same seed replays exactly (ids, numbers, outcomes)"
    );
    Ok(())
}

/// Plays `seed` to the end and syncs, without checking.
fn settled(seed: u64) -> anyhow::Result<World> {
    let h = History::generate(seed, 60);
    shopsync_core::ids::seed_ids_on_this_thread(Some(seed));
    let mut w = World::new(&h)?;
    for (i, dt, e) in &h.steps {
        w.step = *i;
        w.apply(*dt, e)?;
    }
    w.settle()?;
    shopsync_core::ids::seed_ids_on_this_thread(None);
    Ok(w)
}

#[test]
fn the_checks_pass_on_an_honest_history_and_catch_goods_nobody_recorded() -> R {
    let mut w = settled(10_001)?;
    check::all(&mut w)?;
    // Goods vanish from a shelf with no record of it.
    let p = w.shelves.iter().position(|q| *q > 0).unwrap_or(0);
    w.shelves[p] -= 1;
    w.clocks_were_wrong = false;
    w.clock_wrong_unseen = false;
    w.lost_products.clear();
    let err = check::all(&mut w)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("nothing reported explains it"),
        "the shelf check failed: {err}"
    );
    Ok(())
}

#[test]
fn the_checks_catch_a_till_that_differs_from_the_others() -> R {
    let mut w = settled(10_002)?;
    check::all(&mut w)?;
    // One till loses a projected row behind the documents' back.
    let s = w.tills[1].store()?;
    let n = s.connection().execute(
        "DELETE FROM sale_tenders WHERE sale_id = (SELECT MIN(sale_id) FROM sale_tenders)",
        [],
    )?;
    assert_eq!(n, 1, "the history has a sale");
    let err = check::all(&mut w)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("differ from a rebuild"),
        "the rebuild check failed: {err}"
    );
    Ok(())
}
