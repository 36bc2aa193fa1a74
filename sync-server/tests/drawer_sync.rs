//! Drawer sessions (issue 10) through the real server: two tills each run
//! a session offline, sync, and agree on the store-wide drawer Z report;
//! the server's record rules take the new record kinds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use shopsync_core::drawer::ClosingCount;

#[test]
fn two_tills_sessions_meet_on_the_server_and_the_store_report_agrees() -> R {
    let mut s = shop(20);
    sync(&mut s.a)?;
    sync(&mut s.b)?;
    // Offline: each till opens, sells for cash and closes its own session.
    s.a.open_drawer_session(10_000)?;
    s.b.open_drawer_session(5_000)?;
    sell(&mut s.a, 30, 2);
    sell(&mut s.b, 30, 1);
    s.b.drawer_cash_out(1_000, "bank drop")?;
    s.a.set_now(m(60));
    s.b.set_now(m(60));
    s.a.close_drawer_session(ClosingCount::Total(10_200))?;
    s.b.close_drawer_session(ClosingCount::Denominations(
        [(2_000, 2), (50, 2)].into_iter().collect(),
    ))?;
    sync(&mut s.a)?;
    sync(&mut s.b)?;
    sync(&mut s.a)?;
    let day = t0().date_naive();
    let on_a = s.a.drawer_day_report(day, None)?;
    assert_eq!(on_a, s.b.drawer_day_report(day, None)?);
    assert_eq!(on_a.sessions.len(), 2);
    // A: 100.00 + 2.00; B: 50.00 + 1.00 − 10.00.
    assert_eq!(on_a.expected.minor, 10_200 + 4_100);
    assert_eq!(on_a.over_short.minor, 0);
    assert_eq!(s.a.sync_status()?.quarantined, 0);
    assert_same(&[&s.a, &s.b]);
    Ok(())
}
