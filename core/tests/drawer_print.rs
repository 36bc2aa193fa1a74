//! Drawer reports on the thermal printer (issue 10): a session's Z report
//! and a store day's Z report per paper width against golden files, an X
//! report sent through the real sink to a printer played by a TCP listener
//! on 127.0.0.1, and the errors of a till without a printer or a session
//! that does not exist.
//!
//! The golden files sit beside the receipts' (`tests/golden/receipts/`,
//! `drawer-*`); `SHOPSYNC_BLESS=1 cargo test -p shopsync-core --test
//! drawer_print` writes them anew (docs/TESTING.md).

mod common;

use std::collections::BTreeMap;

use common::*;
use shopsync_core::drawer::ClosingCount;
use shopsync_core::receipt::commands::{CUT, KICK};
use shopsync_core::receipt::{DrawerPrint, PrintError, dump};
use shopsync_core::staff::{Operator, StaffRole};
use shopsync_core::types::{PrinterSettingsEdit, ReceiptPaper};
use shopsync_core::{CartLine, CoreError, Store};

/// Till A with Ann (a manager) signed in: a session opened with 100.00, a
/// cash sale of 2 × 2.50 paid with 20.00, 30.00 taken to the bank, closed
/// at 18:00 with 74.00 counted (one short). Times are on the UTC clock face.
/// Returns the store, the session's id and Ann (who may change settings).
fn closed_session(dir: &std::path::Path) -> Result<(Store, String, Operator), CoreError> {
    let mut s = Till {
        now: m(0),
        stock: vec![(product("MILK", "Milk", 250), 50)],
        ..Till::default()
    }
    .open(dir)?;
    s.set_setting("time_zone", "UTC")?;
    let ann = add_staff(&mut s, None, "Ann", StaffRole::Manager, "1111")?;
    let by_ann = Operator::new(ann);
    let session = s.acting(Some(by_ann.clone()), |s| {
        let open = s.open_drawer_session(10_000)?;
        s.set_now(m(60));
        s.sell(&[CartLine::new("MILK", 2)], &[cash(2_000)])?;
        s.set_now(m(120));
        s.drawer_cash_out(3_000, "bank drop")?;
        Ok(open.session_id)
    })?;
    s.set_now(m(600));
    s.acting(Some(by_ann.clone()), |s| {
        s.close_drawer_session(ClosingCount::Denominations(BTreeMap::from([
            (5_000, 1),
            (1_000, 2),
            (200, 2),
        ])))
    })?;
    Ok((s, session, by_ann))
}

fn text_has(text: &str, wants: &[&str]) {
    for want in wants {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_sessions_z_report_on_58mm_matches_its_golden_file() -> R {
    let dir = tempfile::tempdir()?;
    let (s, session, _) = closed_session(dir.path())?;
    let bytes = s.drawer_report_bytes(&DrawerPrint::Session(session), ReceiptPaper::Mm58)?;
    let text = dump(&bytes);
    text_has(
        &text,
        &[
            "Z REPORT",
            "Till A",
            "by Ann",
            "Cash sales (1)",
            "€5.00",
            "Cash out: bank drop",
            "-€30.00",
            "Expected",
            "€75.00",
            "€50.00 x 1",
            "Counted",
            "€74.00",
            "Over/short",
            "-€1.00",
            "<CUT>",
        ],
    );
    assert!(!text.contains("<KICK>"), "a report never opens the drawer");
    assert!(text.lines().all(|l| l.chars().count() <= 32 + 40), "{text}");
    golden("drawer-z-58mm-en", &bytes)
}

#[test]
fn a_days_z_report_on_80mm_in_german_matches_its_golden_file() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, _, _) = closed_session(dir.path())?;
    s.set_ui_language("de")?;
    let date = t0().date_naive();
    let bytes = s.drawer_report_bytes(
        &DrawerPrint::Day {
            date,
            whole_store: true,
        },
        ReceiptPaper::Mm80,
    )?;
    let text = dump(&bytes);
    text_has(
        &text,
        &[
            "TAGES-Z-BERICHT",
            "04.05.2026",
            "Alle Kassen",
            "Sitzungen",
            "Soll",
            "75,00 €",
            "Differenz",
            "-1,00 €",
            "<CUT>",
        ],
    );
    golden("drawer-day-80mm-de", &bytes)
}

#[test]
fn an_x_report_prints_through_tcp_with_a_cut_and_no_kick() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = Till {
        now: m(0),
        ..Till::default()
    }
    .open(dir.path())?;
    s.open_drawer_session(5_000)?;
    s.drawer_cash_in(1_000, "change from the bank")?;
    let printer = LoopbackPrinter::start()?;
    s.set_printer_settings(&PrinterSettingsEdit {
        target: Some(printer.target()),
        kick_on_cash: Some(true),
        ..PrinterSettingsEdit::default()
    })?;
    let out = s
        .prepare_drawer_report(&DrawerPrint::Open)?
        .send(std::time::Duration::from_secs(5))?;
    let got = printer.received()?;
    assert!(!out.kicked);
    assert_eq!(out.bytes, got.len());
    assert!(contains(&got, b"X REPORT"), "{}", dump(&got));
    assert!(contains(&got, b"change from the bank"), "{}", dump(&got));
    assert!(contains(&got, CUT));
    assert!(!contains(&got, KICK));
    assert_eq!(
        got,
        s.drawer_report_bytes(&DrawerPrint::Open, s.printer_settings()?.paper)?
    );
    Ok(())
}

#[test]
fn without_a_printer_an_unknown_session_or_no_open_session_nothing_prints() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, session, ann) = closed_session(dir.path())?;
    let e = s.prepare_drawer_report(&DrawerPrint::Session(session.clone()));
    assert!(
        matches!(e, Err(CoreError::Printer(PrintError::NotConfigured))),
        "{e:?}"
    );
    let offline = offline_printer()?;
    s.acting(Some(ann), |s| {
        s.set_printer_settings(&PrinterSettingsEdit {
            target: Some(offline),
            ..PrinterSettingsEdit::default()
        })
    })?;
    let e = s.prepare_drawer_report(&DrawerPrint::Session("no-such-session".into()));
    assert!(matches!(e, Err(CoreError::NotFound { .. })), "{e:?}");
    let e = s.prepare_drawer_report(&DrawerPrint::Open);
    assert!(matches!(e, Err(CoreError::NoDrawerSession)), "{e:?}");
    // An offline printer: the error says so, the session is as it was.
    let e = s
        .prepare_drawer_report(&DrawerPrint::Session(session.clone()))?
        .send(std::time::Duration::from_secs(2));
    assert!(matches!(e, Err(CoreError::Printer(_))), "{e:?}");
    assert!(s.drawer_session_report(&session)?.closed_at.is_some());
    Ok(())
}
