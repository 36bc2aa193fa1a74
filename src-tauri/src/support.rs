//! Settings → About's commands: what this build is, "Copy diagnostics"
//! and "Open log folder". The text itself is `diagnostics.rs`'s.

use shopsync_types::ErrorCode;
use shopsync_types::ipc::{AboutView, DiagnosticsView};
use tauri::{AppHandle, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_opener::OpenerExt;

use crate::diagnostics::{self, Facts};
use crate::logs::LogFolder;
use crate::state::{AppState, CmdResult, error};

#[tauri::command]
pub fn about(state: State<'_, AppState>, logs: State<'_, LogFolder>) -> AboutView {
    crate::about::view(&state.db_path, logs.0.as_deref())
}

/// Puts the diagnostics block on the clipboard and returns it (the UI shows
/// it too: the clipboard may be unavailable, and the user sees what is sent).
#[tauri::command]
pub async fn copy_diagnostics(
    app: AppHandle,
    state: State<'_, AppState>,
    logs: State<'_, LogFolder>,
) -> CmdResult<DiagnosticsView> {
    let facts = gather(&state, &logs).await;
    let text = diagnostics::render(&facts);
    let (copied, copy_error) = match app.clipboard().write_text(text.clone()) {
        Ok(()) => (true, None),
        Err(e) => {
            tracing::warn!("cannot copy the diagnostics to the clipboard: {e}");
            (false, Some(e.to_string()))
        }
    };
    Ok(DiagnosticsView {
        text,
        copied,
        copy_error,
    })
}

/// Opens the log folder in the file manager (the opener plugin, called
/// from Rust: the page itself gets no opener permission).
#[tauri::command]
pub fn open_log_folder(app: AppHandle, logs: State<'_, LogFolder>) -> CmdResult<()> {
    let dir = logs.0.as_ref().ok_or_else(|| {
        error(
            ErrorCode::NotFound,
            "there is no log folder: the log goes to stderr only",
        )
    })?;
    app.opener()
        .open_path(dir.display().to_string(), None::<&str>)
        .map_err(|e| {
            error(
                ErrorCode::Internal,
                format!("cannot open {}: {e}", dir.display()),
            )
        })
}

async fn gather(state: &AppState, logs: &LogFolder) -> Facts {
    let store = state.info().await.ok().flatten();
    let (syncing, stopped) = state.sync_state().unwrap_or((false, false));
    let mut facts = Facts {
        now: chrono::Utc::now().to_rfc3339(),
        db_path: state.db_path.clone(),
        db_size: std::fs::metadata(&state.db_path).ok().map(|m| m.len()),
        log_dir: logs.0.clone(),
        syncing,
        stopped,
        busy: state.busy(),
        log_tail: logs
            .0
            .as_deref()
            .map(|d| crate::logs::tail(d, diagnostics::LOG_LINES))
            .unwrap_or_default(),
        ..Facts::default()
    };
    if store.is_some() {
        let read = state
            .with(|s| Ok((s.sync_status()?, s.sync_config()?.map(|c| c.token))))
            .await;
        match read {
            Ok((status, token)) => {
                facts.sync = Some(status);
                facts.secrets.extend(token);
            }
            Err(e) => facts.sync_problem = Some(e.message),
        }
    }
    facts.store = store;
    facts
}
