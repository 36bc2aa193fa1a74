//! The till's log: stderr as always, and files in the platform's log
//! folder, rotated daily with the last [`KEEP_FILES`] days kept, so support
//! can ask for them after the fact (Settings → About opens the folder and
//! "Copy diagnostics" includes the last lines).
//!
//! The folder is `SHOPSYNC_LOG_DIR` when set (tests), else the same folder
//! Tauri's `app_log_dir` names: `~/Library/Logs/<identifier>` on macOS,
//! `<local data dir>/<identifier>/logs` elsewhere. It is worked out before
//! Tauri starts, so the first lines of a launch land in the file too.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Files are `shopsync-app.YYYY-MM-DD.log`.
const PREFIX: &str = "shopsync-app";
const SUFFIX: &str = "log";
/// Days of log files kept; older ones are deleted as the log rotates.
pub const KEEP_FILES: usize = 14;

/// The log folder in use (managed Tauri state); `None`: stderr only.
pub struct LogFolder(pub Option<PathBuf>);

/// The log folder: `SHOPSYNC_LOG_DIR`, else the platform's.
pub fn log_dir(identifier: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SHOPSYNC_LOG_DIR").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if cfg!(target_os = "macos") {
        dirs::home_dir().map(|h| h.join("Library/Logs").join(identifier))
    } else {
        dirs::data_local_dir().map(|d| d.join(identifier).join("logs"))
    }
}

/// Starts logging to stderr and, when the folder can be made, to rotated
/// files in `dir`. Returns the folder actually logged to. The level is
/// `RUST_LOG`'s, else `info`.
pub fn init(dir: Option<PathBuf>) -> Option<PathBuf> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let mut problem = None;
    let file = dir.and_then(|d| match appender(&d) {
        Ok(a) => Some((d, a)),
        Err(e) => {
            problem = Some(format!("cannot log to {}: {e}", d.display()));
            None
        }
    });
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter());
    let (used, file_layer) = match file {
        // Written synchronously (no background writer): Tauri may end the
        // process with `exit`, and a buffered writer would lose the last
        // lines — the ones that explain a crash.
        Some((d, a)) => (
            Some(d),
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(a)
                    .with_filter(filter()),
            ),
        ),
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .init();
    if let Some(p) = problem {
        tracing::warn!("{p}; logging to stderr only");
    }
    log_panics();
    used
}

/// A panic in the shell goes to the log file with its backtrace (function
/// names: release builds keep symbols), not only to a stderr nobody sees
/// when the till was started from the menu.
fn log_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let backtrace = std::backtrace::Backtrace::force_capture();
        tracing::error!("panic: {info}\n{backtrace}");
        default(info);
    }));
}

fn appender(dir: &Path) -> Result<RollingFileAppender, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    Ok(RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix(SUFFIX)
        .max_log_files(KEEP_FILES)
        .build(dir)?)
}

/// The newest log file in `dir` (the names sort by date).
pub fn newest_file(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .max()
}

/// The last `n` lines of the newest log file (read from its last 256 KiB
/// at most: a busy day's file may be large).
pub fn tail(dir: &Path, n: usize) -> Vec<String> {
    const WINDOW: u64 = 256 * 1024;
    let Some(path) = newest_file(dir) else {
        return Vec::new();
    };
    let Ok(mut f) = std::fs::File::open(&path) else {
        return Vec::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(WINDOW);
    if f.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if f.read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    // A window that starts mid-file starts mid-line: drop that piece.
    if start > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    let skip = lines.len().saturating_sub(n);
    lines[skip..].iter().map(|l| l.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_reads_the_newest_file_last_lines() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("shopsync-app.2026-12-01.log"),
            "old 1\nold 2\n",
        )?;
        let body: String = (1..=80).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.path().join("shopsync-app.2026-12-02.log"), body)?;
        std::fs::write(dir.path().join("unrelated.txt"), "x\n")?;
        let lines = tail(dir.path(), 50);
        assert_eq!(lines.len(), 50);
        assert_eq!(lines.first().map(String::as_str), Some("line 31"));
        assert_eq!(lines.last().map(String::as_str), Some("line 80"));
        Ok(())
    }

    #[test]
    fn tail_of_an_empty_folder_is_empty() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        assert!(tail(dir.path(), 50).is_empty());
        assert!(tail(&dir.path().join("missing"), 50).is_empty());
        Ok(())
    }
}
