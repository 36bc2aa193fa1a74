//! The till's thermal printer. The bytes are made with the store at hand;
//! they are sent after letting go of it, on a blocking thread, so a printer
//! that is off (seconds of time-out) never holds up the next sale.

use shopsync_core::receipt::{DEFAULT_TIMEOUT, DrawerPrint, Prepared};
use shopsync_types::drawer::DrawerPrintInput;
use shopsync_types::ipc::PrintReceiptInput;
use shopsync_types::{PrintOutcome, PrinterSettings, PrinterSettingsEdit};
use tauri::State;

use crate::state::{AppState, CmdResult, blocking};

type S<'a> = State<'a, AppState>;

async fn send(prepared: Prepared) -> CmdResult<PrintOutcome> {
    blocking(move || prepared.send(DEFAULT_TIMEOUT).map_err(Into::into)).await
}

#[tauri::command]
pub async fn printer_settings(state: S<'_>) -> CmdResult<PrinterSettings> {
    state.with(|s| s.printer_settings()).await
}

#[tauri::command]
pub async fn set_printer_settings(
    state: S<'_>,
    req: PrinterSettingsEdit,
    approve_pin: Option<String>,
) -> CmdResult<PrinterSettings> {
    state
        .with_approval(approve_pin, move |s| s.set_printer_settings(&req))
        .await
}

#[tauri::command]
pub async fn print_test_page(state: S<'_>) -> CmdResult<PrintOutcome> {
    send(state.with(|s| s.prepare_test_page()).await?).await
}

/// After a sale (the sale is saved before the UI asks) or a reprint.
#[tauri::command]
pub async fn print_receipt(state: S<'_>, req: PrintReceiptInput) -> CmdResult<PrintOutcome> {
    send(
        state
            .with(move |s| s.prepare_receipt(&req.sale, req.copy))
            .await?,
    )
    .await
}

#[tauri::command]
pub async fn open_drawer(state: S<'_>, approve_pin: Option<String>) -> CmdResult<PrintOutcome> {
    send(
        state
            .with_approval(approve_pin, move |s| s.prepare_drawer())
            .await?,
    )
    .await
}

// --- drawer reports on the thermal printer (issue 10) ---

/// The core's name for the report the Drawer screen asks for.
pub fn drawer_print(req: DrawerPrintInput) -> DrawerPrint {
    match req {
        DrawerPrintInput::Open => DrawerPrint::Open,
        DrawerPrintInput::Session { session_id } => DrawerPrint::Session(session_id),
        DrawerPrintInput::Day { date, whole_store } => DrawerPrint::Day { date, whole_store },
    }
}

/// A drawer session's X/Z report or a day's Z report on the thermal printer.
#[tauri::command]
pub async fn print_drawer_report(state: S<'_>, req: DrawerPrintInput) -> CmdResult<PrintOutcome> {
    let what = drawer_print(req);
    send(state.with(move |s| s.prepare_drawer_report(&what)).await?).await
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;

    use shopsync_core::{CoreError, InitOptions, Result, Store};
    use shopsync_types::PrinterSettingsEdit;

    use super::*;

    #[test]
    fn the_drawer_screens_x_report_reaches_a_printer_on_loopback() -> Result<()> {
        let io = |e| CoreError::io("loopback printer", e);
        let dir = tempfile::tempdir().map_err(io)?;
        let mut s = Store::init(
            &dir.path().join("till.db"),
            InitOptions {
                store_name: "Corner Shop".into(),
                till_name: "Till 1".into(),
                currency: "EUR".into(),
            },
        )?;
        let listener = TcpListener::bind("127.0.0.1:0").map_err(io)?;
        let addr = listener.local_addr().map_err(io)?;
        let printer = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
            let (mut conn, _) = listener.accept()?;
            let mut got = Vec::new();
            conn.read_to_end(&mut got)?;
            Ok(got)
        });
        s.set_printer_settings(&PrinterSettingsEdit {
            target: Some(format!("tcp://{addr}")),
            ..PrinterSettingsEdit::default()
        })?;
        s.open_drawer_session(5_000)?;
        let what = drawer_print(DrawerPrintInput::Open);
        let out = s.prepare_drawer_report(&what)?.send(DEFAULT_TIMEOUT)?;
        let got = match printer.join() {
            Ok(r) => r.map_err(io)?,
            Err(_) => panic!("the printer's thread panicked"),
        };
        assert_eq!(out.bytes, got.len());
        assert!(!out.kicked);
        assert!(got.windows(8).any(|w| w == b"X REPORT"));
        let day = drawer_print(DrawerPrintInput::Day {
            date: chrono::NaiveDate::from_ymd_opt(2026, 5, 4).unwrap_or_default(),
            whole_store: false,
        });
        assert!(matches!(
            day,
            DrawerPrint::Day {
                whole_store: false,
                ..
            }
        ));
        Ok(())
    }
}
