//! Wrong clocks (issue 7, part 2), reproduced as the issue did: tills run the
//! real `shopsync` binary under `faketime`, one a year ahead and one two hours
//! behind, exchanging bundles. Needs Debian's `faketime` (scripts/test.sh
//! installs it); without it the test says so and passes without running.

mod common;

use std::path::Path;
use std::process::Command;

use common::{E, R, Till};

fn have_faketime() -> bool {
    Command::new("faketime")
        .args(["-f", "+1d", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// A (right clock) with P in stock, and a till joined from A's bundle.
fn store(dir: &Path, stock: &str) -> Result<Till, E> {
    let a = Till::new(dir, "a");
    a.init("Clock Shop", "A")?;
    a.add_product("P", "Product", "1.00")?;
    a.json(&["receive", &format!("Px{stock}")])?;
    Ok(a)
}

/// Till `name` made from A's bundle, its clock off by `offset`.
fn join(a: &Till, dir: &Path, name: &str, offset: &'static str) -> Result<Till, E> {
    let t = Till::faked(dir, name, Some(offset));
    t.join(a, name)?;
    Ok(t)
}

#[test]
fn a_till_a_year_ahead_and_one_two_hours_behind_converge_to_the_shelf() -> R {
    if !have_faketime() {
        // CI (and scripts/test.sh) install it: there a missing faketime is a failure.
        assert!(
            std::env::var_os("CI").is_none(),
            "faketime is not installed (scripts/test.sh installs it)"
        );
        eprintln!("faketime is not installed: skipping (apt-get install faketime)");
        return Ok(());
    }
    // A year ahead: its count of 50 must not freeze P's stock.
    let dir = tempfile::tempdir()?;
    let a = store(dir.path(), "40")?;
    let fast = join(&a, dir.path(), "F", "+365d")?;
    fast.count("P", "50")?;
    fast.send_to(&a)?;
    assert_eq!(a.on_hand("P")?, 50);
    a.json(&["receive", "Px100"])?;
    a.json(&["sell", "Px3", "--pay", "cash:3"])?;
    assert_eq!(a.on_hand("P")?, 147, "the shelf holds 50 + 100 − 3");
    a.send_to(&fast)?;
    assert_eq!(fast.on_hand("P")?, 147);
    // A names the fast till, a year ahead, in `sync status` and `info`.
    let status = a.json(&["sync", "status"])?;
    let flags = status["clock_flags"].as_array().ok_or("clock_flags")?;
    assert_eq!(flags.len(), 1, "{status}");
    let fast_id = fast.json(&["info"])?["till_id"].clone();
    assert_eq!(flags[0]["till_id"], fast_id);
    let ahead = flags[0]["ahead_ms"].as_i64().ok_or("ahead_ms")?;
    let day = 86_400_000;
    assert!(
        (364 * day..=366 * day).contains(&ahead),
        "about a year ahead: {ahead}"
    );
    assert_eq!(a.json(&["info"])?["clock_flags"], status["clock_flags"]);
    assert!(
        fast.json(&["sync", "status"])?["clock_flags"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "A's records are behind the fast till's clock: not flagged"
    );
    for t in [&a, &fast] {
        let verify = t.json(&["rebuild", "--verify"])?;
        assert_eq!(verify["differences"], serde_json::json!([]));
    }

    // Two hours behind: a sale made after importing a count is after it.
    let dir = tempfile::tempdir()?;
    let a = store(dir.path(), "20")?;
    let slow = join(&a, dir.path(), "S", "-2h")?;
    a.count("P", "10")?;
    a.send_to(&slow)?;
    assert_eq!(slow.on_hand("P")?, 10);
    slow.json(&["sell", "Px3", "--pay", "cash:3"])?;
    assert_eq!(slow.on_hand("P")?, 7, "the shelf holds 10 − 3");
    slow.send_to(&a)?;
    assert_eq!(a.on_hand("P")?, 7);
    let flags = slow.json(&["sync", "status"])?["clock_flags"].clone();
    assert_eq!(flags[0]["till_id"], a.json(&["info"])?["till_id"]);
    for t in [&a, &slow] {
        let verify = t.json(&["rebuild", "--verify"])?;
        assert_eq!(verify["differences"], serde_json::json!([]));
    }
    Ok(())
}

#[test]
fn the_clock_limit_is_shown_set_and_checked() -> R {
    let dir = tempfile::tempdir()?;
    let a = store(dir.path(), "1")?;
    let shown = a.json(&["sync", "clock-limit"])?;
    assert_eq!(shown["clock_limit_ms"], 600_000, "10 minutes by default");
    let set = a.json(&["sync", "clock-limit", "30"])?;
    assert_eq!(set["clock_limit_ms"], 1_800_000);
    let out = a.run(&["sync", "clock-limit", "0"])?;
    assert!(!out.ok);
    assert!(out.stderr.contains("must be positive"));
    assert_eq!(
        a.json(&["sync", "clock-limit"])?["clock_limit_ms"],
        1_800_000
    );
    Ok(())
}
