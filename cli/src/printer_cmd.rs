//! The receipt printer on the command line: its settings, a test page,
//! reprints, the no-sale drawer kick, and printing after `sell --print`.

use serde_json::json;
use shopsync_core::types::{PrintOutcome, PrinterSettings, PrinterSettingsEdit, SaleReceipt};
use shopsync_core::{Result, Store};

use crate::args::PrinterCmd;
use crate::output::{self, Output};

fn settings_text(p: &PrinterSettings) -> String {
    format!(
        "target        {}\npaper         {}\ncode          {}\nkick on cash  {}",
        p.target
            .as_deref()
            .unwrap_or("none (the app prints through the system dialog)"),
        p.paper.as_str(),
        p.code.as_str(),
        if p.kick_on_cash { "yes" } else { "no" }
    )
}

fn sent(o: &PrintOutcome, what: &str) -> String {
    format!(
        "{what} sent to {} ({} bytes{})",
        o.target,
        o.bytes,
        if o.kicked { ", drawer opened" } else { "" }
    )
}

pub fn printer(store: &mut Store, cmd: PrinterCmd) -> Result<Output> {
    match cmd {
        PrinterCmd::Set(a) => {
            let p = store.set_printer_settings(&PrinterSettingsEdit {
                target: a.target,
                paper: a.paper,
                code: a.code,
                kick_on_cash: a.kick_on_cash,
            })?;
            Output::new(settings_text(&p), &p)
        }
        PrinterCmd::Show => {
            let p = store.printer_settings()?;
            Output::new(settings_text(&p), &p)
        }
        PrinterCmd::Test => {
            let o = store.print_test_page()?;
            Output::new(sent(&o, "test page"), &o)
        }
    }
}

pub fn reprint(store: &Store, sale: &str) -> Result<Output> {
    let o = store.print_receipt(sale, true)?;
    Output::new(sent(&o, "receipt"), &o)
}

pub fn open_drawer(store: &Store) -> Result<Output> {
    let o = store.open_drawer()?;
    Output::new(sent(&o, "drawer kick"), &o)
}

/// The sale is saved before this runs: a printer failure becomes a warning
/// (exit 0) that says how to reprint, and `print_error` in the JSON.
pub fn print_after_sale(store: &Store, r: &SaleReceipt) -> Result<Output> {
    let mut value = json!(r);
    let mut human = output::receipt(r);
    let warning = match store.print_receipt(&r.sale_id, false) {
        Ok(o) => {
            human.push('\n');
            human.push_str(&sent(&o, "receipt"));
            value["printed"] = json!(o);
            None
        }
        Err(e) => {
            value["print_error"] = json!(e.info());
            Some(format!(
                "sale {} saved; the receipt did not print: {e}. Reprint later: shopsync receipt print {}",
                r.number, r.number
            ))
        }
    };
    let mut out = Output::new(human, &value)?;
    out.warning = warning;
    Ok(out)
}
