//! `shopsync`: the core on the command line. Exit status 0 on success;
//! otherwise 1 with a one-line error on stderr (JSON with `--json`). A
//! success may carry a one-line `warning:` on stderr (`sell --print`: the
//! sale is saved, its receipt did not print).

mod args;
mod commands;
mod customer_args;
mod customer_cmd;
mod customer_output;
mod drawer_cmd;
mod favourites_cmd;
mod output;
mod parse;
mod printer_cmd;
mod purchase_args;
mod purchase_cmd;
mod staff_cmd;
mod sync_cmd;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHOPSYNC_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = args::Cli::parse();
    let json = cli.json;
    match commands::run(cli) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            let text = if json { out.json } else { out.human };
            if writeln!(stdout, "{}", text.trim_end()).is_err() {
                return ExitCode::from(1);
            }
            if let Some(w) = out.warning {
                let _ = writeln!(std::io::stderr(), "warning: {}", w.replace('\n', " "));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let info = e.info();
            let line = if json {
                serde_json::json!({ "error": info }).to_string()
            } else {
                format!("error: {}", info.message.replace('\n', " "))
            };
            let _ = writeln!(std::io::stderr(), "{line}");
            ExitCode::from(1)
        }
    }
}
