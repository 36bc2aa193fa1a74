//! The commands that work on a file the shopkeeper chooses: CSV import and
//! export, joining a store from a bundle, exporting a bundle for a new till.
//! Each one opens the system's file picker here, in the shell, and then does
//! the work, so a path never travels through the page (the UI only says
//! "import", "export"…), and the page cannot name a file the person did not
//! pick. A cancelled picker answers `None`: nothing happened.
//!
//! The page sends only the picker's words in the cashier's language
//! ([`PickerText`]): title and file-type names; the shell picks the file
//! types themselves.
//!
//! The pickers are opened from Rust, so the window needs none of the dialog
//! plugin's IPC permissions (`dialog:allow-open`/`allow-save`/`allow-message`
//! stay ungranted). The plugin's script also replaces `window.alert` and
//! `window.confirm` with its message command: the till's page uses neither.
//! The plugin's default "gtk3" feature gives GTK's own file chooser on
//! Linux (no desktop portal needed).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use shopsync_core::Store;
use shopsync_types::ipc::{JoinInput, Picked, PickerText};
use shopsync_types::{ErrorCode, ImportSummary, StoreInfo};
use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;

use crate::state::{AppState, CmdResult, error};

type S<'a> = State<'a, AppState>;

/// What the picker is for: its words, the file extension it offers (and
/// every file as a second choice), and (to save) the name it suggests.
pub(crate) struct Ask {
    pub(crate) text: PickerText,
    pub(crate) extension: &'static str,
    pub(crate) save_as: Option<String>,
}

/// One picker at a time: GTK's chooser is not modal to the till's window
/// (rfd's GTK backend ignores the parent), so a second click, or another
/// screen's button, could open a second one.
static PICKER_OPEN: AtomicBool = AtomicBool::new(false);

/// Holds [`PICKER_OPEN`] until dropped.
struct OnePicker;

impl OnePicker {
    fn take() -> CmdResult<OnePicker> {
        if PICKER_OPEN.swap(true, Ordering::SeqCst) {
            return Err(error(
                ErrorCode::Conflict,
                "a file picker is already open: finish with it first",
            ));
        }
        Ok(OnePicker)
    }
}

impl Drop for OnePicker {
    fn drop(&mut self) {
        PICKER_OPEN.store(false, Ordering::SeqCst);
    }
}

/// Shows the picker (open, or save when `ask.save_as` is set) over the
/// till's window and waits for the person's answer, off the async runtime:
/// the dialog itself runs on the main thread.
pub(crate) async fn pick(app: &AppHandle, ask: Ask) -> CmdResult<Option<PathBuf>> {
    let _one = OnePicker::take()?;
    let dialog = app
        .dialog()
        .file()
        .set_title(&ask.text.title)
        .add_filter(&ask.text.kind, &[ask.extension])
        .add_filter(&ask.text.all_files, &["*"]);
    let dialog = match app.get_webview_window("main") {
        Some(window) => dialog.set_parent(&window),
        None => dialog,
    };
    let dialog = match dirs::document_dir().or_else(dirs::home_dir) {
        Some(dir) => dialog.set_directory(dir),
        None => dialog,
    };
    let save_as = ask.save_as;
    let chosen = tauri::async_runtime::spawn_blocking(move || match save_as {
        Some(name) => dialog.set_file_name(name).blocking_save_file(),
        None => dialog.blocking_pick_file(),
    })
    .await
    .map_err(|e| error(ErrorCode::Internal, format!("the file picker failed: {e}")))?;
    chosen
        .map(|f| {
            f.into_path().map_err(|e| {
                error(
                    ErrorCode::InvalidInput,
                    format!("the chosen file is not on this computer: {e}"),
                )
            })
        })
        .transpose()
}

pub(crate) fn picked<T>(path: &Path, result: T) -> Picked<T> {
    Picked {
        path: path.display().to_string(),
        result,
    }
}

/// Today's date in the names the save pickers suggest: the store's day (its
/// time zone), like the reports; the machine's day when there is no store.
pub(crate) async fn today(state: &S<'_>) -> String {
    let day = state.with(|s| Ok(s.today())).await;
    day.unwrap_or_else(|_| chrono::Local::now().date_naive())
        .format("%Y-%m-%d")
        .to_string()
}

/// Imports products from a CSV file the person picks (a long job: progress
/// events, the till keeps selling).
#[tauri::command]
pub async fn import_products_csv(
    app: AppHandle,
    state: S<'_>,
    req: PickerText,
) -> CmdResult<Option<Picked<ImportSummary>>> {
    let ask = Ask {
        text: req,
        extension: "csv",
        save_as: None,
    };
    // Say it before the person chooses a file, not after.
    if let Some(running) = state.busy() {
        return Err(error(
            ErrorCode::Conflict,
            format!("wait for the {running} to finish first"),
        ));
    }
    let Some(file) = pick(&app, ask).await? else {
        return Ok(None);
    };
    let source = file.clone();
    // The import runs on its own connection: the one signed in acts there.
    let operator = state.operator().await?;
    let summary = state
        .job(app, "CSV import", true, move |path, progress| {
            let mut s = Store::open(path)?;
            s.set_operator(operator);
            s.import_products_csv(&source, progress)
        })
        .await?;
    Ok(Some(picked(&file, summary)))
}

/// Writes every product to a CSV file the person picks
/// (`products-YYYY-MM-DD.csv` suggested); answers how many.
#[tauri::command]
pub async fn export_products_csv(
    app: AppHandle,
    state: S<'_>,
    req: PickerText,
) -> CmdResult<Option<Picked<u64>>> {
    let ask = Ask {
        text: req,
        extension: "csv",
        save_as: Some(format!("products-{}.csv", today(&state).await)),
    };
    let Some(file) = pick(&app, ask).await? else {
        return Ok(None);
    };
    let target = file.clone();
    // All or nothing, never over the store (the core refuses its files).
    let count = state
        .with(move |s| s.export_products_csv_to(&target))
        .await?;
    Ok(Some(picked(&file, count)))
}

/// First launch: this till becomes a new till of the store in a bundle file
/// the person picks.
#[tauri::command]
pub async fn join_store(
    app: AppHandle,
    state: S<'_>,
    req: JoinInput,
) -> CmdResult<Option<Picked<StoreInfo>>> {
    if state.info().await?.is_some() {
        return Err(error(ErrorCode::Conflict, "this till already has a store"));
    }
    let ask = Ask {
        text: req.picker,
        extension: "bundle",
        save_as: None,
    };
    let Some(file) = pick(&app, ask).await? else {
        return Ok(None);
    };
    let bundle = file.clone();
    let info = state
        .create(move |path| Store::init_from_bundle(path, &bundle, &req.till_name))
        .await?;
    Ok(Some(picked(&file, info)))
}

/// Writes the whole store as a bundle a new till joins from: what
/// `shopsync bundle export FILE` writes, through the same core call. Like
/// the CLI's, it is open to every till of the store: the bundle holds only
/// documents this till already has.
#[tauri::command]
pub async fn export_bundle(
    app: AppHandle,
    state: S<'_>,
    req: PickerText,
) -> CmdResult<Option<Picked<u64>>> {
    let ask = Ask {
        text: req,
        extension: "bundle",
        save_as: Some(format!("shop-{}.bundle", today(&state).await)),
    };
    // No store, no bundle: say so before asking for a file.
    if state.info().await?.is_none() {
        return Err(error(
            ErrorCode::NotInitialized,
            "no store yet: there is nothing to export",
        ));
    }
    let Some(file) = pick(&app, ask).await? else {
        return Ok(None);
    };
    let target = file.clone();
    let bytes = state
        .with(move |s| {
            s.export_bundle_to(&target)?;
            std::fs::metadata(&target).map(|m| m.len()).map_err(|e| {
                shopsync_core::CoreError::io(format!("cannot read {}", target.display()), e)
            })
        })
        .await?;
    Ok(Some(picked(&file, bytes)))
}
