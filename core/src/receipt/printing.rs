//! Printing from the till: a saved sale's receipt (after the sale, or a
//! reprint by id or number), a test page, and the no-sale drawer kick.
//! Printing only reads the store: a printer that fails leaves every sale
//! as it was, and the error says so.

use std::time::Duration;

use chrono::{DateTime, Local, NaiveDateTime, Utc};
use shopsync_types::{Locale, PrintOutcome, PrinterSettings, SaleDetail};

use super::commands;
use super::layout::{self, Layout, Shop};
use super::render::render;
use super::sink::{DEFAULT_TIMEOUT, PrintError, PrinterTarget};
use crate::error::{CoreError, Result};
use crate::store::Store;

/// What to print, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    pub bytes: Vec<u8>,
    pub kicked: bool,
}

/// The instant `at` on this machine's clock face (the till's wall clock).
fn local(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&Local).naive_local()
}

impl Store {
    /// The shop's part of a receipt: names, header and footer, currency and
    /// the till's language.
    pub fn receipt_shop(&self) -> Result<Shop> {
        let settings = self.settings()?;
        let get = |key: &str| {
            settings
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        Ok(Shop {
            store_name: self.info().store_name.clone(),
            header: get("receipt_header"),
            footer: get("receipt_footer"),
            till_name: self.info().till_name.clone(),
            currency: self.currency(),
            locale: Locale::from_tag(&self.ui_language()?).unwrap_or_default(),
        })
    }

    /// A sale by its id or its receipt number ("A-000042"). A number that
    /// two sales share (a till restored from a backup) names both.
    pub fn sale_by_id_or_number(&self, key: &str) -> Result<SaleDetail> {
        let key = key.trim();
        match self.sale(key) {
            Err(CoreError::NotFound { .. }) => {}
            other => return other,
        }
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM sales WHERE number = ?1 ORDER BY at, id")?
            .query_map([key], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        match ids.as_slice() {
            [] => Err(CoreError::not_found("sale", key)),
            [one] => self.sale(one),
            many => Err(CoreError::Conflict(format!(
                "receipt number {key} was given to {} sales ({}): name one by its id",
                many.len(),
                many.join(", ")
            ))),
        }
    }

    /// The ESC/POS bytes of a saved sale's receipt with these settings; a
    /// `copy` (a reprint) is marked so and never opens the drawer.
    pub fn receipt_job(
        &self,
        sale: &SaleDetail,
        settings: &PrinterSettings,
        copy: bool,
    ) -> Result<PrintJob> {
        let kicked = !copy && settings.kick_on_cash && layout::has_cash(sale);
        let shop = self.receipt_shop()?;
        let pieces = layout::sale_receipt(
            sale,
            &shop,
            local(sale.summary.at),
            Layout {
                paper: settings.paper,
                code: settings.code,
                kick: kicked,
                copy,
            },
        );
        Ok(PrintJob {
            bytes: render(&pieces, settings.paper),
            kicked,
        })
    }

    /// Prints the receipt of the sale with this id or number on this till's
    /// printer: right after the sale (`copy` false: the drawer opens for
    /// cash), or again (`copy` true).
    pub fn print_receipt(&self, sale: &str, copy: bool) -> Result<PrintOutcome> {
        self.print_receipt_within(sale, copy, DEFAULT_TIMEOUT)
    }

    /// [`Store::print_receipt`] with its own time limit per step.
    pub fn print_receipt_within(
        &self,
        sale: &str,
        copy: bool,
        timeout: Duration,
    ) -> Result<PrintOutcome> {
        let settings = self.printer_settings()?;
        let target = configured(&settings)?;
        let sale = self.sale_by_id_or_number(sale)?;
        let job = self.receipt_job(&sale, &settings, copy)?;
        send(&target, job, timeout)
    }

    /// A test page on this till's printer.
    pub fn print_test_page(&self) -> Result<PrintOutcome> {
        let settings = self.printer_settings()?;
        let target = configured(&settings)?;
        let shop = self.receipt_shop()?;
        let now = DateTime::from_timestamp_millis(self.now_ms()).unwrap_or_default();
        let pieces = layout::test_page(
            &shop,
            local(now),
            Layout {
                paper: settings.paper,
                code: settings.code,
                kick: false,
                copy: false,
            },
        );
        let job = PrintJob {
            bytes: render(&pieces, settings.paper),
            kicked: false,
        };
        send(&target, job, DEFAULT_TIMEOUT)
    }

    /// Opens the cash drawer without a sale (the drawer hangs on the
    /// printer's drawer port): only the kick pulse is sent.
    pub fn open_drawer(&self) -> Result<PrintOutcome> {
        let settings = self.printer_settings()?;
        let target = configured(&settings)?;
        let mut bytes = commands::INIT.to_vec();
        bytes.extend(commands::KICK);
        send(
            &target,
            PrintJob {
                bytes,
                kicked: true,
            },
            DEFAULT_TIMEOUT,
        )
    }
}

fn configured(settings: &PrinterSettings) -> Result<PrinterTarget> {
    let target = settings
        .target
        .as_deref()
        .ok_or(CoreError::Printer(PrintError::NotConfigured))?;
    // Stored values were checked when set; a hand-edited file is refused here.
    PrinterTarget::parse(target).map_err(|m| CoreError::invalid("target", m))
}

fn send(target: &PrinterTarget, job: PrintJob, timeout: Duration) -> Result<PrintOutcome> {
    target.send(&job.bytes, timeout)?;
    Ok(PrintOutcome {
        target: target.to_string(),
        bytes: job.bytes.len(),
        kicked: job.kicked,
    })
}
