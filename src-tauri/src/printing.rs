//! The till's thermal printer. The bytes are made with the store at hand;
//! they are sent after letting go of it, on a blocking thread, so a printer
//! that is off (seconds of time-out) never holds up the next sale.

use shopsync_core::receipt::{DEFAULT_TIMEOUT, Prepared};
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
