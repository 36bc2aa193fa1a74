//! This till's receipt printer settings, in the till's own `meta` table
//! (like its language): a printer belongs to a counter, so the settings
//! are never synced.

use rusqlite::OptionalExtension;
use shopsync_types::{PrinterSettings, PrinterSettingsEdit, ReceiptCode, ReceiptPaper};

use super::sink::PrinterTarget;
use crate::error::{CoreError, Result};
use crate::store::Store;

const TARGET: &str = "printer.target";
const PAPER: &str = "printer.paper";
const CODE: &str = "printer.code";
const KICK: &str = "printer.kick_on_cash";

impl Store {
    fn meta_value(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// The receipt printer of this till. Paper not chosen here follows the
    /// store's `receipt_paper` when that is a roll (else 80 mm); the code is
    /// a barcode and the drawer opens on cash sales unless set otherwise.
    pub fn printer_settings(&self) -> Result<PrinterSettings> {
        let store_paper = self
            .settings()?
            .into_iter()
            .find(|(k, _)| k == "receipt_paper")
            .and_then(|(_, v)| ReceiptPaper::parse(&v));
        let paper = self
            .meta_value(PAPER)?
            .and_then(|v| ReceiptPaper::parse(&v))
            .or(store_paper)
            .unwrap_or_default();
        Ok(PrinterSettings {
            target: self.meta_value(TARGET)?.filter(|t| !t.is_empty()),
            paper,
            code: self
                .meta_value(CODE)?
                .and_then(|v| ReceiptCode::parse(&v))
                .unwrap_or_default(),
            kick_on_cash: self.meta_value(KICK)?.is_none_or(|v| v == "true"),
        })
    }

    /// Changes the printer settings: every value is checked first, and all
    /// are written in one transaction, so a bad value changes nothing.
    /// Once the store has staff, a manager's: the address decides where
    /// receipts (and drawer kicks) go.
    pub fn set_printer_settings(&mut self, edit: &PrinterSettingsEdit) -> Result<PrinterSettings> {
        self.authorize_acting(&[crate::staff::Action::EditCatalog])?;
        let mut writes: Vec<(&str, String)> = Vec::new();
        if let Some(t) = &edit.target {
            let t = t.trim();
            if t.is_empty() || t.eq_ignore_ascii_case("none") {
                writes.push((TARGET, String::new()));
            } else {
                let target =
                    PrinterTarget::parse(t).map_err(|m| CoreError::invalid("target", m))?;
                // A device that is not plugged in yet is taken; one that
                // exists must be a device.
                if let PrinterTarget::Device(path) = &target
                    && path.exists()
                    && let Err(e) = super::sink::check_device(path)
                {
                    return Err(CoreError::invalid(
                        "target",
                        format!("{}: {e}", path.display()),
                    ));
                }
                writes.push((TARGET, target.to_string()));
            }
        }
        if let Some(p) = &edit.paper {
            let paper = ReceiptPaper::parse(p).ok_or_else(|| {
                CoreError::invalid(
                    "paper",
                    format!("paper '{}' is not one of: 58mm, 80mm", p.trim()),
                )
            })?;
            writes.push((PAPER, paper.as_str().to_string()));
        }
        if let Some(c) = &edit.code {
            let code = ReceiptCode::parse(c).ok_or_else(|| {
                CoreError::invalid(
                    "code",
                    format!("code '{}' is not one of: barcode, qr, none", c.trim()),
                )
            })?;
            writes.push((CODE, code.as_str().to_string()));
        }
        if let Some(k) = edit.kick_on_cash {
            writes.push((KICK, k.to_string()));
        }
        let tx = self.conn.transaction()?;
        for (key, value) in &writes {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value.as_str()],
            )?;
        }
        tx.commit()?;
        self.printer_settings()
    }
}
