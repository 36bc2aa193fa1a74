//! Thermal receipts: the bytes per layout against golden files, printing
//! through the real sink to a printer played by a TCP listener on
//! 127.0.0.1, a printer that is offline or stops reading, and the till's
//! printer settings.
//!
//! Golden files (`tests/golden/receipts/`) are compared byte for byte;
//! `SHOPSYNC_BLESS=1 cargo test -p shopsync-core --test receipts` writes
//! them anew (docs/TESTING.md).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{
    LoopbackPrinter, R, Till, card, cash, golden, offline_printer, product, standard_tax, t0,
};
use shopsync_core::receipt::commands::{CUT, KICK};
use shopsync_core::receipt::{
    KICK_WINDOW_MS, Layout, PrintError, PrinterTarget, dump, layout, render,
};
use shopsync_core::types::{PrinterSettingsEdit, ReceiptCode, ReceiptPaper};
use shopsync_core::{CartLine, CoreError, NewProduct, NewTaxClass, Store};

/// A bakery with a German name, an address header and a footer, products
/// in two tax rates (20 % on top, 7 % included) and one untaxed, and a cash
/// sale with a discounted line and change.
fn bakery(dir: &Path) -> Result<(Store, String), CoreError> {
    let mut s = Till {
        store: "Bäckerei Süß",
        now: Some(t0()),
        ..Till::default()
    }
    .open(dir)?;
    standard_tax(&mut s)?;
    s.set_tax_class(NewTaxClass {
        id: "red".into(),
        name: "Reduced".into(),
        rate_bp: 700,
        inclusive: true,
    })?;
    s.set_settings(&[
        (
            "receipt_header",
            "Hauptstraße 5, 10115 Berlin\nTel. 030 123456",
        ),
        ("receipt_footer", "Umtausch binnen 14 Tagen – danke!"),
    ])?;
    for (sku, name, price, tax) in [
        (
            "MUESLI",
            "Müsli Größe L (Bio) – Familienpackung",
            499,
            Some("std"),
        ),
        ("CREME", "Crème brûlée", 350, Some("red")),
        ("ZUREK", "Żurek łagodny", 275, None),
    ] {
        s.add_product(NewProduct {
            tax_class: tax.map(String::from),
            ..product(sku, name, price)
        })?;
    }
    let line = |code: &str, qty: i64, discount_bp: u32| CartLine {
        code: code.into(),
        qty,
        unit_price: None,
        override_reason: None,
        discount_bp,
    };
    let r = s.sell(
        &[
            line("MUESLI", 2, 1000),
            line("CREME", 1, 0),
            line("ZUREK", 1, 0),
        ],
        &[cash(2000)],
    )?;
    Ok((s, r.sale_id))
}

/// The receipt's bytes, dated on the UTC clock face so the files do not
/// depend on the machine's time zone.
fn receipt_bytes(
    s: &Store,
    sale_id: &str,
    paper: ReceiptPaper,
    code: ReceiptCode,
) -> Result<Vec<u8>, CoreError> {
    let sale = s.sale(sale_id)?;
    let pieces = layout::sale_receipt(
        &sale,
        &s.receipt_shop()?,
        sale.summary.at.naive_utc(),
        Layout {
            paper,
            code,
            kick: true,
            copy: false,
        },
    );
    Ok(render(&pieces, paper))
}

#[test]
fn receipt_58mm_with_a_barcode_matches_its_golden_file() -> R {
    let dir = tempfile::tempdir()?;
    let (s, id) = bakery(dir.path())?;
    let bytes = receipt_bytes(&s, &id, ReceiptPaper::Mm58, ReceiptCode::Barcode)?;
    let text = dump(&bytes);
    // What the golden file must hold, whatever is blessed.
    for want in [
        "Müsli",
        "Crème brûlée",
        "Zurek lagodny",
        "Tax 20%",
        "Tax 7% incl.",
        "€17.03",
        "Change",
        "€2.97",
        "<CODE128 A-000001>",
        "<KICK>",
        "<CUT>",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert!(
        !bytes.windows(2).any(|w| w[0] == 0xC3 && w[1] >= 0x80),
        "raw UTF-8 sent"
    );
    golden("sale-58mm-barcode-en", &bytes)
}

#[test]
fn receipt_80mm_with_a_qr_code_in_german_matches_its_golden_file() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, id) = bakery(dir.path())?;
    s.set_ui_language("de")?;
    let bytes = receipt_bytes(&s, &id, ReceiptPaper::Mm80, ReceiptCode::Qr)?;
    let text = dump(&bytes);
    for want in [
        "SUMME",
        "17,03 €",
        "MwSt. 7 % inkl.",
        "Rückgeld",
        "Rabatt",
        "<QR A-000001>",
        "Hauptstraße 5",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    golden("sale-80mm-qr-de", &bytes)
}

#[test]
fn text_lines_fit_the_paper() -> R {
    let dir = tempfile::tempdir()?;
    let (s, id) = bakery(dir.path())?;
    let sale = s.sale(&id)?;
    for paper in ReceiptPaper::ALL {
        let pieces = layout::sale_receipt(
            &sale,
            &s.receipt_shop()?,
            sale.summary.at.naive_utc(),
            Layout {
                paper,
                code: ReceiptCode::None,
                kick: false,
                copy: false,
            },
        );
        for p in pieces {
            if let layout::Piece::Line { text, big, .. } = p {
                let width = if big {
                    paper.columns() / 2
                } else {
                    paper.columns()
                };
                assert!(text.chars().count() <= width, "{paper:?}: {text:?}");
            }
        }
    }
    Ok(())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_cash_sale_prints_through_tcp_with_a_cut_and_a_kick() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, id) = bakery(dir.path())?;
    let printer = LoopbackPrinter::start()?;
    s.set_printer_settings(&PrinterSettingsEdit {
        target: Some(printer.target()),
        ..PrinterSettingsEdit::default()
    })?;
    let out = s.print_receipt("A-000001", false)?;
    let got = printer.received()?;
    assert!(out.kicked);
    assert_eq!(out.bytes, got.len());
    assert!(contains(&got, b"TOTAL"), "{}", dump(&got));
    assert!(contains(&got, b"M\x81sli"), "ü in code page 858");
    assert!(contains(&got, CUT));
    assert!(contains(&got, KICK));
    assert_eq!(
        got,
        s.receipt_job(&s.sale(&id)?, &s.printer_settings()?, false)?
            .bytes
    );
    Ok(())
}

#[test]
fn a_card_sale_and_a_reprint_never_kick() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, cash_sale) = bakery(dir.path())?;
    let card_sale = s.sell(
        &[CartLine {
            code: "ZUREK".into(),
            qty: 1,
            unit_price: None,
            override_reason: None,
            discount_bp: 0,
        }],
        &[card(275)],
    )?;
    for (sale, copy) in [
        (card_sale.sale_id.as_str(), false),
        (cash_sale.as_str(), true),
    ] {
        let printer = LoopbackPrinter::start()?;
        s.set_printer_settings(&PrinterSettingsEdit {
            target: Some(printer.target()),
            ..PrinterSettingsEdit::default()
        })?;
        let out = s.print_receipt(sale, copy)?;
        let got = printer.received()?;
        assert!(!out.kicked);
        assert!(contains(&got, CUT));
        assert!(!contains(&got, KICK), "{}", dump(&got));
        assert_eq!(contains(&got, b"COPY"), copy);
    }
    Ok(())
}

#[test]
fn kick_on_cash_off_prints_without_the_kick_and_the_drawer_opens_alone() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, _) = bakery(dir.path())?;
    let printer = LoopbackPrinter::start()?;
    s.set_printer_settings(&PrinterSettingsEdit {
        target: Some(printer.target()),
        kick_on_cash: Some(false),
        ..PrinterSettingsEdit::default()
    })?;
    s.print_receipt("A-000001", false)?;
    assert!(!contains(&printer.received()?, KICK));

    let drawer = LoopbackPrinter::start()?;
    s.set_printer_settings(&PrinterSettingsEdit {
        target: Some(drawer.target()),
        ..PrinterSettingsEdit::default()
    })?;
    let out = s.open_drawer()?;
    let got = drawer.received()?;
    assert!(out.kicked);
    assert_eq!(dump(&got), "<INIT><KICK>");
    Ok(())
}

#[test]
fn an_offline_printer_leaves_the_sale_saved_and_says_so() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, id) = bakery(dir.path())?;
    let target = offline_printer()?;
    s.set_printer_settings(&PrinterSettingsEdit {
        target: Some(target.clone()),
        ..PrinterSettingsEdit::default()
    })?;
    let started = Instant::now();
    let err = s
        .print_receipt(&id, false)
        .err()
        .ok_or("printing to nothing succeeded")?;
    assert!(started.elapsed() < Duration::from_secs(5));
    let addr = target.trim_start_matches("tcp://");
    assert_eq!(
        err.to_string(),
        format!("printer offline at {addr}: connection refused")
    );
    assert_eq!(err.code(), shopsync_core::types::ErrorCode::Printer);
    drop(s);
    let s = Store::open(&dir.path().join("a.db"))?;
    assert_eq!(s.sale(&id)?.summary.number, "A-000001");
    Ok(())
}

#[test]
fn a_printer_that_stops_reading_times_out_with_a_clear_error() -> R {
    // Accepts, never reads: once the socket buffers are full, the write
    // waits and must give up within its time limit.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let kept = listener.accept();
        let _ = rx.recv_timeout(Duration::from_secs(30));
        drop(kept);
    });
    let target = PrinterTarget::parse(&format!("tcp://{addr}")).map_err(|e| e.to_string())?;
    let big = vec![b'x'; 256 * 1024 * 1024];
    let started = Instant::now();
    let r = target.send(&big, Duration::from_millis(300));
    let took = started.elapsed();
    let _ = tx.send(());
    let _ = holder.join();
    match r {
        Err(e @ PrintError::WriteFailed { .. }) => {
            assert!(
                e.to_string()
                    .contains(&format!("printer at {addr} did not take the receipt")),
                "{e}"
            );
        }
        other => return Err(format!("expected a write timeout, got {other:?}").into()),
    }
    assert!(took < Duration::from_secs(10), "{took:?}");
    Ok(())
}

#[test]
fn a_printer_device_takes_the_receipt_and_no_other_file_does() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, _) = bakery(dir.path())?;
    // A character device takes the bytes.
    s.set_printer_settings(&PrinterSettingsEdit {
        target: Some("/dev/null".into()),
        ..PrinterSettingsEdit::default()
    })?;
    let out = s.print_receipt("A-000001", true)?;
    assert!(out.bytes > 0);
    // A regular file (here the till's own store file) is refused as a
    // printer, and is never written.
    let store_file = s.path().to_path_buf();
    let before = std::fs::read(&store_file)?;
    let err = s
        .set_printer_settings(&PrinterSettingsEdit {
            target: Some(store_file.display().to_string()),
            ..PrinterSettingsEdit::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("not a printer device"), "{err}");
    // Set while it did not exist yet, then made a file: printing refuses.
    let later = dir.path().join("lp0");
    s.set_printer_settings(&PrinterSettingsEdit {
        target: Some(later.display().to_string()),
        ..PrinterSettingsEdit::default()
    })?;
    std::fs::write(&later, b"precious")?;
    assert!(s.print_receipt("A-000001", true).is_err());
    assert_eq!(std::fs::read(&later)?, b"precious");
    assert_eq!(std::fs::read(&store_file)?.len(), before.len());
    Ok(())
}

#[test]
fn only_the_newest_sale_of_this_till_opens_the_drawer_and_only_for_a_while() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, first) = bakery(dir.path())?;
    let second = s.sell(
        &[CartLine {
            code: "ZUREK".into(),
            qty: 1,
            unit_price: None,
            override_reason: None,
            discount_bp: 0,
        }],
        &[cash(500)],
    )?;
    let kicked = |s: &mut Store, sale: &str| -> Result<bool, Box<dyn std::error::Error>> {
        let printer = LoopbackPrinter::start()?;
        s.set_printer_settings(&PrinterSettingsEdit {
            target: Some(printer.target()),
            ..PrinterSettingsEdit::default()
        })?;
        let out = s.print_receipt(sale, false)?;
        let got = printer.received()?;
        assert_eq!(out.kicked, contains(&got, KICK));
        Ok(out.kicked)
    };
    // An older cash sale's original prints without opening the drawer.
    assert!(!kicked(&mut s, &first)?);
    assert!(kicked(&mut s, &second.sale_id)?);
    // Past the window, the newest one no longer opens it either.
    let sale_at = s.sale(&second.sale_id)?.summary.at;
    s.set_now(Some(
        sale_at + chrono::Duration::milliseconds(KICK_WINDOW_MS + 1),
    ));
    assert!(!kicked(&mut s, &second.sale_id)?);
    Ok(())
}

#[test]
fn printer_settings_default_to_the_store_paper_and_refuse_bad_values() -> R {
    let dir = tempfile::tempdir()?;
    let (mut s, _) = bakery(dir.path())?;
    let none = s.printer_settings()?;
    assert_eq!(none.target, None);
    assert_eq!(none.paper, ReceiptPaper::Mm80);
    assert_eq!(none.code, ReceiptCode::Barcode);
    assert!(none.kick_on_cash);
    s.set_setting("receipt_paper", "58mm")?;
    assert_eq!(s.printer_settings()?.paper, ReceiptPaper::Mm58);

    let set = s.set_printer_settings(&PrinterSettingsEdit {
        target: Some("tcp://10.0.0.5".into()),
        paper: Some("80mm".into()),
        code: Some("qr".into()),
        kick_on_cash: Some(false),
    })?;
    assert_eq!(set.target.as_deref(), Some("tcp://10.0.0.5:9100"));
    assert_eq!(set.paper, ReceiptPaper::Mm80);
    for bad in [
        PrinterSettingsEdit {
            target: Some("lp0".into()),
            ..Default::default()
        },
        PrinterSettingsEdit {
            target: Some("tcp://x:99999".into()),
            ..Default::default()
        },
        PrinterSettingsEdit {
            paper: Some("a4".into()),
            ..Default::default()
        },
        // A good target with a bad code: neither is written.
        PrinterSettingsEdit {
            target: Some("tcp://other".into()),
            code: Some("ean".into()),
            ..Default::default()
        },
    ] {
        let e = s
            .set_printer_settings(&bad)
            .err()
            .ok_or("a bad setting was taken")?;
        assert_eq!(
            e.code(),
            shopsync_core::types::ErrorCode::InvalidInput,
            "{e}"
        );
        assert_eq!(s.printer_settings()?, set);
    }
    let cleared = s.set_printer_settings(&PrinterSettingsEdit {
        target: Some("none".into()),
        ..Default::default()
    })?;
    assert_eq!(cleared.target, None);
    let e = s
        .print_receipt("A-000001", true)
        .err()
        .ok_or("printed with no printer")?;
    assert!(
        matches!(e, CoreError::Printer(PrintError::NotConfigured)),
        "{e}"
    );
    Ok(())
}

#[test]
fn printer_settings_stay_on_their_till() -> R {
    let dir = tempfile::tempdir()?;
    let (mut a, _) = bakery(dir.path())?;
    a.set_printer_settings(&PrinterSettingsEdit {
        target: Some("tcp://10.0.0.5".into()),
        ..Default::default()
    })?;
    let b = common::till_from(dir.path(), &a, "B", None)?;
    assert_eq!(b.printer_settings()?.target, None);
    Ok(())
}

#[test]
fn a_reprint_finds_the_sale_by_number_or_id_and_names_unknown_ones() -> R {
    let dir = tempfile::tempdir()?;
    let (s, id) = bakery(dir.path())?;
    assert_eq!(s.sale_by_id_or_number("A-000001")?.summary.sale_id, id);
    assert_eq!(s.sale_by_id_or_number(&id)?.summary.number, "A-000001");
    let e = s
        .sale_by_id_or_number("A-000999")
        .err()
        .ok_or("found a sale that is not there")?;
    assert_eq!(e.to_string(), "sale 'A-000999' not found");
    Ok(())
}

#[test]
fn a_name_that_cannot_be_looked_up_answers_within_the_time_limit() -> R {
    // ".invalid" never resolves (RFC 2606): the lookup fails, fast or slow,
    // and printing says so within the limit.
    let target = PrinterTarget::parse("tcp://printer.invalid")?;
    let started = Instant::now();
    let err = target
        .send(b"x", Duration::from_secs(2))
        .err()
        .ok_or("printing to a name that does not exist succeeded")?;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("cannot resolve the name"), "{err}");
    Ok(())
}
