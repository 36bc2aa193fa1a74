//! Drawer reports on this till's thermal printer: a session's X or Z
//! report, or a store day's Z report. Printing only reads the store.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate};
use shopsync_types::ReceiptPaper;

use super::drawer_layout::{self, ReportContext};
use super::layout::Piece;
use super::printing::{Prepared, PrintJob, configured};
use super::render::render;
use crate::error::Result;
use crate::store::Store;

/// Which drawer report to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrawerPrint {
    /// This till's open session (its X report).
    Open,
    /// One session by id, of any till (X while open, Z once closed).
    Session(String),
    /// The Z report of a store day: this till's sessions (`whole_store`
    /// false) or every till's.
    Day { date: NaiveDate, whole_store: bool },
}

impl Store {
    /// The ESC/POS bytes of a drawer report on `paper`, stamped with the
    /// store's clock (`now_ms`) as the time printed.
    pub fn drawer_report_bytes(&self, what: &DrawerPrint, paper: ReceiptPaper) -> Result<Vec<u8>> {
        let shop = self.receipt_shop()?;
        let staff: HashMap<String, String> =
            self.staff()?.into_iter().map(|m| (m.id, m.name)).collect();
        let zone = self.zone();
        let local = move |t| zone.local(t);
        let cx = ReportContext {
            shop: &shop,
            staff: &staff,
            this_till: &self.info().till_id,
            local: &local,
            printed_at: DateTime::from_timestamp_millis(self.now_ms()).unwrap_or_default(),
            paper,
        };
        let pieces: Vec<Piece> = match what {
            DrawerPrint::Open => drawer_layout::session_report(&self.drawer_x_report()?, &cx),
            DrawerPrint::Session(id) => {
                drawer_layout::session_report(&self.drawer_session_report(id)?, &cx)
            }
            DrawerPrint::Day { date, whole_store } => {
                let till = (!whole_store).then_some(self.info().till_id.as_str());
                drawer_layout::day_report(&self.drawer_day_report(*date, till)?, &cx)
            }
        };
        Ok(render(&pieces, paper))
    }

    /// What printing a drawer report sends, and where, without sending it
    /// (the app sends it after letting go of the store). Never kicks the
    /// drawer: a report is no way to open it.
    pub fn prepare_drawer_report(&self, what: &DrawerPrint) -> Result<Prepared> {
        let settings = self.printer_settings()?;
        let target = configured(&settings)?;
        let bytes = self.drawer_report_bytes(what, settings.paper)?;
        Ok(Prepared {
            target,
            job: PrintJob {
                bytes,
                kicked: false,
            },
        })
    }
}
