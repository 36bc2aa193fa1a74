//! `shopsync drawer …` sessions (issue 10) through the real binary: a
//! session to the cent, the `cash_sessions = required` refusal, bad input,
//! and two tills whose store-wide Z report agrees after a bundle exchange.
//! Every till's clock starts at 2026-05-04 10:00 UTC (faketime), so the
//! report day is fixed.

mod common;

use common::{R, Till, exchange};

const DAY: &str = "2026-05-04";
const CLOCK: Option<&'static str> = Some("@2026-05-04 10:00:00");

fn shop(dir: &std::path::Path) -> Result<Till, common::E> {
    let a = Till::faked(dir, "a", CLOCK);
    a.init("Corner Shop", "A")?;
    a.add_product("MILK", "Milk", "2.50")?;
    Ok(a)
}

#[test]
fn a_session_on_the_command_line_counts_to_the_cent() -> R {
    let dir = tempfile::tempdir()?;
    let a = shop(dir.path())?;
    a.json(&["setting", "set", "cash_sessions", "required"])?;
    let refused = a.fails(&["sell", "MILKx2", "--pay", "cash:20"])?;
    assert!(
        refused.contains("shopsync drawer open-session --float"),
        "{refused}"
    );
    assert_eq!(a.json(&["sales"])?.as_array().map(Vec::len), Some(0));
    // Card alone needs no session.
    a.json(&["sell", "MILK", "--pay", "card:2.50"])?;
    assert!(a.json(&["drawer", "status"])?.is_null());

    let open = a.json(&["drawer", "open-session", "--float", "150.00"])?;
    let session = open["session_id"].as_str().ok_or("session id")?.to_string();
    let sale = a.json(&["sell", "MILKx2", "--pay", "cash:20"])?;
    assert_eq!(sale["change"], "15.00");
    let sale_id = sale["sale_id"].as_str().ok_or("sale id")?;
    a.json(&["refund", sale_id, "MILKx1"])?;
    a.json(&[
        "drawer",
        "cash-in",
        "--amount",
        "20",
        "--reason",
        "change from the bank",
    ])?;
    a.json(&[
        "drawer",
        "cash-out",
        "--amount",
        "50",
        "--reason",
        "bank drop",
    ])?;
    let x = a.json(&["drawer", "x-report"])?;
    // 150.00 + 5.00 + 20.00 − 50.00 − 2.50
    assert_eq!(x["expected"], "122.50");
    assert_eq!(x["movements"][1]["reason"], "bank drop");
    assert_eq!(a.json(&["drawer", "status"])?, x);

    let z = a.json(&[
        "drawer",
        "close-session",
        "--count",
        "50.00=2",
        "--count",
        "20.00=1",
        "--count",
        "2.00=1",
        "--count",
        "0.20=3",
    ])?;
    assert_eq!(z["state"], "closed");
    assert_eq!(z["counted"], "122.60");
    assert_eq!(z["over_short"], "0.10");
    assert_eq!(z["denominations"][0]["denomination"], "50.00");
    assert_eq!(z["denominations"][0]["count"], 2);
    assert_eq!(a.json(&["drawer", "z-report", "--session", &session])?, z);
    let day = a.json(&["drawer", "z-report", "--date", DAY])?;
    assert_eq!(day["over_short"], "0.10");
    assert_eq!(day["sessions"].as_array().map(Vec::len), Some(1));
    let human = a.human(&["drawer", "z-report", "--session", &session])?;
    assert!(human.contains("over/short"), "{human}");
    assert!(
        a.fails(&["drawer", "x-report"])?
            .contains("no drawer session is open")
    );
    assert!(a.human(&["rebuild", "--verify"])?.contains("identical"));
    Ok(())
}

#[test]
fn bad_drawer_input_gets_one_clear_error_and_changes_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let a = shop(dir.path())?;
    assert!(
        a.fails(&["drawer", "cash-out", "--amount", "5", "--reason", "x"])?
            .contains("no drawer session")
    );
    a.json(&["drawer", "open-session", "--float", "100"])?;
    let before = a.json(&["drawer", "status"])?;
    for args in [
        &["drawer", "open-session", "--float", "10"][..],
        &["drawer", "cash-in", "--amount=-5", "--reason", "x"],
        &["drawer", "cash-in", "--amount", "0", "--reason", "x"],
        &["drawer", "cash-out", "--amount", "5", "--reason", " "],
        &[
            "drawer",
            "cash-out",
            "--amount",
            "92233720368547758.07",
            "--reason",
            "x",
        ],
        &["drawer", "close-session", "--count", "25.00=1"],
        &["drawer", "close-session", "--count", "20.00=-1"],
        &["drawer", "close-session", "--count", "20.00"],
        &[
            "drawer",
            "close-session",
            "--count",
            "20.00=1",
            "--count",
            "20.00=2",
        ],
        &["drawer", "close-session", "--count", "500.00=9000000000"],
        &["drawer", "close-session"],
        &["drawer", "z-report", "--session", "no-such-session"],
        &["drawer", "z-report", "--date", "yesterday"],
        &["setting", "set", "cash_sessions", "maybe"],
    ] {
        a.fails(args)?;
    }
    assert_eq!(a.json(&["drawer", "status"])?, before);
    Ok(())
}

#[test]
fn two_tills_offline_agree_on_the_store_wide_drawer_report() -> R {
    let dir = tempfile::tempdir()?;
    let a = shop(dir.path())?;
    let b = Till::faked(dir.path(), "b", CLOCK);
    b.join(&a, "B")?;
    for (till, float, paid) in [(&a, "100", "cash:5"), (&b, "200", "cash:2.50")] {
        till.json(&["drawer", "open-session", "--float", float])?;
        till.json(&["sell", "MILK", "--pay", paid])?;
    }
    b.json(&[
        "drawer",
        "cash-out",
        "--amount",
        "50",
        "--reason",
        "bank drop",
    ])?;
    a.json(&["drawer", "close-session", "--counted-total", "102.50"])?;
    b.json(&[
        "drawer",
        "close-session",
        "--count",
        "100.00=1",
        "--count",
        "50.00=1",
        "--count",
        "2.00=1",
        "--count",
        "0.50=1",
    ])?;
    let store_day = ["drawer", "z-report", "--store", "--date", DAY];
    assert_eq!(
        a.json(&store_day)?["sessions"].as_array().map(Vec::len),
        Some(1)
    );
    exchange(&a, &b)?;
    let on_a = a.json(&store_day)?;
    assert_eq!(on_a, b.json(&store_day)?);
    assert_eq!(on_a["sessions"].as_array().map(Vec::len), Some(2));
    // A: 100.00 + 2.50; B: 200.00 + 2.50 − 50.00.
    assert_eq!(on_a["expected"], "255.00");
    assert_eq!(on_a["counted"], "255.00");
    assert_eq!(on_a["over_short"], "0.00");
    // This till's own report stays its own.
    let own = a.json(&["drawer", "z-report", "--date", DAY])?;
    assert_eq!(own["expected"], "102.50");
    assert_eq!(
        a.json(&["drawer", "sessions", "--date", DAY])?
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert!(b.human(&["rebuild", "--verify"])?.contains("identical"));
    Ok(())
}
