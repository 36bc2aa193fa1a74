//! ShopSync's desktop till. Everything happens in the core; this binary only
//! opens the store and hands commands to it.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod convert;
mod state;

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
    tauri::generate_context!("../tauri.conf.json")
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    shopsync_core::sync::client::install_crypto_provider();
    let state = AppState::new(db_path());
    let result = tauri::Builder::default()
        .manage(state)
        .setup(|app| {
            use tauri::Manager;
            app.state::<AppState>().start_sync(app.handle());
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(context());
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shopsync-app: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
