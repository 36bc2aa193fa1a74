//! ShopSync's desktop till. Everything happens in the core; this binary only
//! opens the store and hands commands to it.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod about;
mod categories;
mod commands;
mod convert;
mod diagnostics;
mod drawer;
mod files;
mod logs;
mod printing;
mod purchasing;
mod session;
mod single_instance;
mod staff;
mod state;
mod support;

use std::path::PathBuf;

use state::AppState;

/// The store file: `SHOPSYNC_DB`, else `--db <path>`, else the user's data folder.
fn db_path() -> PathBuf {
    if let Some(p) = std::env::var_os("SHOPSYNC_DB").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--db"
            && let Some(p) = args.next()
        {
            return PathBuf::from(p);
        }
    }
    shopsync_core::store_file::default_store_file(
        &dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("shopsync"),
    )
}

/// The embedded configuration and UI. Tauri's macro expands to code that
/// calls `process::exit` on a malformed embedded asset (a build defect,
/// not a user action), hence the scoped allow.
#[allow(clippy::disallowed_methods)]
fn context() -> tauri::Context<tauri::Wry> {
    tauri::generate_context!("tauri.conf.json")
}

fn main() -> std::process::ExitCode {
    // `--version` touches nothing: no log file, no store, no window.
    if about::wants_version(std::env::args_os().skip(1)) {
        println!("{}", about::version_line());
        return std::process::ExitCode::SUCCESS;
    }
    let context = context();
    let log_dir = logs::init(logs::log_dir(&context.config().identifier));
    tracing::info!("{} starting", about::version_line());
    let db = db_path();
    let instance = match single_instance::claim(&db) {
        Ok(single_instance::Claim::First(i)) => Some(i),
        Ok(single_instance::Claim::HandedOver) => {
            tracing::info!(
                "already running on {}: handed over to that window",
                db.display()
            );
            return std::process::ExitCode::SUCCESS;
        }
        Err(e @ single_instance::Error::NoAnswer(_)) => {
            tracing::error!("{e}");
            return std::process::ExitCode::FAILURE;
        }
        // No lock file (a read-only folder…): run, as before this existed.
        Err(e) => {
            tracing::warn!("cannot make sure only one app runs on this store: {e}");
            None
        }
    };
    shopsync_core::sync::client::install_crypto_provider();
    let state = AppState::new(db);
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .manage(logs::LogFolder(log_dir))
        .setup(move |app| {
            use tauri::Manager;
            app.state::<AppState>().start_sync(app.handle());
            app.state::<AppState>().prepare_search();
            if let Some(i) = instance {
                let handle = app.handle().clone();
                i.serve(move || show_window(&handle));
            }
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(context);
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shopsync-app: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A later launch on this store asked for the window: shows, unminimises
/// and focuses it. False when there is no window (the app is closing).
fn show_window(app: &tauri::AppHandle) -> bool {
    use tauri::Manager;
    let Some(w) = app.get_webview_window("main") else {
        return false;
    };
    tracing::info!("another launch on this store: showing this window");
    let shown = w
        .unminimize()
        .and_then(|()| w.show())
        .and_then(|()| w.set_focus());
    if let Err(e) = shown {
        tracing::warn!("cannot show the window: {e}");
    }
    true
}
