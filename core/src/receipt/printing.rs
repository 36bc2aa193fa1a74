//! Printing from the till: a saved sale's receipt (after the sale, or a
//! reprint by id or number), a test page, and the no-sale drawer kick.
//! Printing only reads the store: a printer that fails leaves every sale
//! as it was, and the error says so.

use std::time::Duration;

use chrono::DateTime;
use shopsync_types::{Locale, PrintOutcome, PrinterSettings, SaleDetail};

use super::commands;
use super::layout::{self, Layout, Shop};
use super::render::render;
use super::sink::{DEFAULT_TIMEOUT, PrintError, PrinterTarget};
use crate::error::{CoreError, Result};
use crate::store::Store;

/// How long after a sale its original receipt may still open the drawer.
pub const KICK_WINDOW_MS: i64 = 5 * 60_000;

/// What to print, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    pub bytes: Vec<u8>,
    pub kicked: bool,
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

    /// The ESC/POS bytes of a saved sale's receipt with these settings (the
    /// kick as they say: [`Store::prepare_receipt`] decides it); a
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
            self.zone().local(sale.summary.at),
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
        self.prepare_receipt(sale, copy)?.send(DEFAULT_TIMEOUT)
    }

    /// What [`Store::print_receipt`] sends, and where, without sending it:
    /// the app sends it after letting go of the store, so a slow printer
    /// never holds up the next sale.
    ///
    /// The drawer opens only with the original receipt of the sale this
    /// till has just made (its newest, at most [`KICK_WINDOW_MS`] old): any
    /// other original (an older sale, another till's) prints without the
    /// kick, so printing cannot stand in for a no-sale drawer open.
    pub fn prepare_receipt(&self, sale: &str, copy: bool) -> Result<Prepared> {
        let settings = self.printer_settings()?;
        let target = configured(&settings)?;
        let sale = self.sale_by_id_or_number(sale)?;
        let mut settings = settings;
        if !copy && !self.is_this_tills_fresh_sale(&sale)? {
            settings.kick_on_cash = false;
        }
        let job = self.receipt_job(&sale, &settings, copy)?;
        Ok(Prepared { target, job })
    }

    fn is_this_tills_fresh_sale(&self, sale: &SaleDetail) -> Result<bool> {
        use rusqlite::OptionalExtension;
        if sale.summary.till_id != self.info().till_id {
            return Ok(false);
        }
        let newest: Option<String> = self
            .connection()
            .query_row(
                "SELECT id FROM sales WHERE till_id = ?1 ORDER BY seq DESC, at DESC LIMIT 1",
                [&sale.summary.till_id],
                |r| r.get(0),
            )
            .optional()?;
        let age = self.now_ms() - sale.summary.at.timestamp_millis();
        Ok(newest.as_deref() == Some(sale.summary.sale_id.as_str())
            && (0..=KICK_WINDOW_MS).contains(&age))
    }

    /// A test page on this till's printer.
    pub fn print_test_page(&self) -> Result<PrintOutcome> {
        self.prepare_test_page()?.send(DEFAULT_TIMEOUT)
    }

    pub fn prepare_test_page(&self) -> Result<Prepared> {
        let settings = self.printer_settings()?;
        let target = configured(&settings)?;
        let shop = self.receipt_shop()?;
        let now = DateTime::from_timestamp_millis(self.now_ms()).unwrap_or_default();
        let pieces = layout::test_page(
            &shop,
            self.zone().local(now),
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
        Ok(Prepared { target, job })
    }

    /// Opens the cash drawer without a sale (the drawer hangs on the
    /// printer's drawer port): only the kick pulse is sent.
    pub fn open_drawer(&self) -> Result<PrintOutcome> {
        self.prepare_drawer()?.send(DEFAULT_TIMEOUT)
    }

    /// The kick pulse alone (a no-sale drawer open): once the store has
    /// staff, a supervisor's (see `crate::staff::permissions`).
    pub fn prepare_drawer(&self) -> Result<Prepared> {
        self.authorize_acting(&[crate::staff::Action::NoSaleDrawerOpen])?;
        let settings = self.printer_settings()?;
        let target = configured(&settings)?;
        let mut bytes = commands::INIT.to_vec();
        bytes.extend(commands::KICK);
        Ok(Prepared {
            target,
            job: PrintJob {
                bytes,
                kicked: true,
            },
        })
    }
}

/// Bytes ready for a printer, made while the store was at hand.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub target: PrinterTarget,
    pub job: PrintJob,
}

impl Prepared {
    /// Sends the bytes, each step within `timeout`.
    pub fn send(self, timeout: Duration) -> Result<PrintOutcome> {
        self.target.send(&self.job.bytes, timeout)?;
        Ok(PrintOutcome {
            target: self.target.to_string(),
            bytes: self.job.bytes.len(),
            kicked: self.job.kicked,
        })
    }
}

pub(super) fn configured(settings: &PrinterSettings) -> Result<PrinterTarget> {
    let target = settings
        .target
        .as_deref()
        .ok_or(CoreError::Printer(PrintError::NotConfigured))?;
    // Stored values were checked when set; a hand-edited file is refused here.
    PrinterTarget::parse(target).map_err(|m| CoreError::invalid("target", m))
}
