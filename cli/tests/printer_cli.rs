//! The receipt printer through the real `shopsync` binary, with a printer
//! played by a TCP listener on 127.0.0.1: settings, test page, `sell
//! --print` (cut, kick for cash), reprints, the drawer, an offline printer.

mod common;

use std::path::Path;

use common::{E, LoopbackPrinter, R, Till, contains_bytes, offline_printer};

/// `ESC p 0 25 250`: the drawer kick. `GS V 65 3`: the cut.
const KICK: &[u8] = &[0x1B, b'p', 0, 25, 250];
const CUT: &[u8] = &[0x1D, b'V', 65, 3];

fn shop(dir: &Path) -> Result<Till, E> {
    let t = Till::new(dir, "t1");
    t.init("Café Müller", "T1")?;
    t.add_product("TEA", "Tee – grün", "2.50")?;
    t.json(&["receive", "TEAx10"])?;
    Ok(t)
}

#[test]
fn printer_settings_are_set_shown_and_checked() -> R {
    let dir = tempfile::tempdir()?;
    let t = shop(dir.path())?;
    let shown = t.json(&["printer", "show"])?;
    assert_eq!(shown["target"], serde_json::Value::Null);
    assert_eq!(shown["paper"], "80mm");
    assert_eq!(shown["kick_on_cash"], true);

    let set = t.json(&[
        "printer",
        "set",
        "--target",
        "tcp://10.0.0.5",
        "--paper",
        "58mm",
        "--code",
        "qr",
        "--kick-on-cash",
        "false",
    ])?;
    assert_eq!(set["target"], "tcp://10.0.0.5:9100");
    assert_eq!(set["paper"], "58mm");
    assert_eq!(set["code"], "qr");
    assert_eq!(set["kick_on_cash"], false);

    let err = t.fails(&[
        "printer",
        "set",
        "--target",
        "tcp://10.0.0.6",
        "--paper",
        "a4",
    ])?;
    assert!(
        err.contains("paper 'a4' is not one of: 58mm, 80mm"),
        "{err}"
    );
    let err = t.fails(&["printer", "set", "--target", "lp0"])?;
    assert!(err.contains("tcp://HOST[:PORT]"), "{err}");
    assert_eq!(
        t.json(&["printer", "show"])?,
        set,
        "a refused set changed nothing"
    );
    Ok(())
}

#[test]
fn sell_print_sends_the_receipt_with_a_cut_and_a_kick() -> R {
    let dir = tempfile::tempdir()?;
    let t = shop(dir.path())?;
    let printer = LoopbackPrinter::start()?;
    t.json(&["printer", "set", "--target", &printer.target()])?;
    let sale = t.json(&["sell", "TEAx2", "--pay", "cash:10", "--print"])?;
    let got = printer.received()?;
    assert_eq!(sale["printed"]["kicked"], true);
    assert_eq!(sale["printed"]["bytes"].as_u64(), Some(got.len() as u64));
    assert!(
        contains_bytes(&got, b"Tee - gr\x81n"),
        "text in code page 858"
    );
    assert!(contains_bytes(&got, b"T1-000001"));
    assert!(contains_bytes(&got, CUT));
    assert!(contains_bytes(&got, KICK));

    // A card sale prints without opening the drawer.
    let printer = LoopbackPrinter::start()?;
    t.json(&["printer", "set", "--target", &printer.target()])?;
    let card = t.json(&["sell", "TEA", "--pay", "card:2.50", "--print"])?;
    let got = printer.received()?;
    assert_eq!(card["printed"]["kicked"], false);
    assert!(contains_bytes(&got, CUT));
    assert!(!contains_bytes(&got, KICK));
    Ok(())
}

#[test]
fn an_offline_printer_keeps_the_sale_and_warns() -> R {
    let dir = tempfile::tempdir()?;
    let t = shop(dir.path())?;
    let target = offline_printer()?;
    t.json(&["printer", "set", "--target", &target])?;
    let r = t.run(&["--json", "sell", "TEAx2", "--pay", "cash:5", "--print"])?;
    assert!(r.ok, "a saved sale exits 0: {}", r.stderr);
    let out: serde_json::Value = serde_json::from_str(&r.stdout)?;
    assert_eq!(out["print_error"]["code"], "printer");
    let addr = target.trim_start_matches("tcp://");
    assert_eq!(
        r.stderr.trim(),
        format!(
            "warning: sale T1-000001 saved; the receipt did not print: printer offline at {addr}: connection refused. Reprint later: shopsync receipt print T1-000001"
        )
    );
    let sales = t.json(&["sales"])?;
    assert_eq!(sales.as_array().map(Vec::len), Some(1), "the sale is kept");
    assert_eq!(t.on_hand("TEA")?, 8);

    // Reprinting while it is still offline fails with exit 1 and changes nothing.
    let err = t.fails(&["receipt", "print", "T1-000001"])?;
    assert!(err.contains("printer offline"), "{err}");
    Ok(())
}

#[test]
fn reprint_test_page_and_drawer_reach_the_printer() -> R {
    let dir = tempfile::tempdir()?;
    let t = shop(dir.path())?;
    let sale = t.json(&["sell", "TEA", "--pay", "cash:5"])?;
    let id = sale["sale_id"].as_str().ok_or("sale_id")?.to_string();

    for key in ["T1-000001", id.as_str()] {
        let printer = LoopbackPrinter::start()?;
        t.json(&["printer", "set", "--target", &printer.target()])?;
        let out = t.human(&["receipt", "print", key])?;
        assert!(
            out.contains(&format!("receipt sent to {}", printer.target())),
            "{out}"
        );
        let got = printer.received()?;
        assert!(contains_bytes(&got, b"COPY"));
        assert!(
            !contains_bytes(&got, KICK),
            "a reprint keeps the drawer shut"
        );
    }

    let printer = LoopbackPrinter::start()?;
    t.json(&["printer", "set", "--target", &printer.target()])?;
    t.json(&["printer", "test"])?;
    let got = printer.received()?;
    assert!(contains_bytes(&got, b"Test print"));
    assert!(contains_bytes(&got, CUT));

    let printer = LoopbackPrinter::start()?;
    t.json(&["printer", "set", "--target", &printer.target()])?;
    let out = t.json(&["drawer", "open"])?;
    assert_eq!(out["kicked"], true);
    assert_eq!(printer.received()?, [&[0x1B, b'@'][..], KICK].concat());

    let err = t.fails(&["receipt", "print", "T1-000999"])?;
    assert!(err.contains("sale 'T1-000999' not found"), "{err}");
    t.json(&["printer", "set", "--target", "none"])?;
    let err = t.fails(&["drawer", "open"])?;
    assert!(err.contains("no receipt printer is set"), "{err}");
    Ok(())
}
