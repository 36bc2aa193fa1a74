//! End-to-end tests over WebDriver, and the app benchmark.
//!
//! - [`App`] (`app.rs`): the real till window. `tauri-driver` (which runs
//!   WebKitWebDriver) launches the built `shopsync-app` on a store file of
//!   the test's own. Needs the app built (`build_app` in `scripts/lib.sh`,
//!   the release build the packages get, in the same target directory and
//!   profile as this crate, or `SHOPSYNC_APP_BIN`), the UI built into `ui/dist`, `tauri-driver` on
//!   the PATH (or `TAURI_DRIVER`), and a display (Xvfb). `scripts/e2e.sh`
//!   arranges all of it.
//! - [`web`]: the customer's web app in headless Chromium (chromedriver)
//!   against the real `shopsync-server` and shops made with the real
//!   `shopsync` CLI. `scripts/e2e-web.sh` arranges it.
//! - [`Page`] (`page.rs`): what both do to a page, by `data-testid`.
//! - [`steps`]: a stocked shop, first launch, a keyboard sale and the
//!   like, shared by the till's tests (`tests/till.rs`) and the test of
//!   the installed package (`tests/installed.rs`).
//! - [`printer`]: a receipt printer played by a TCP listener on 127.0.0.1.
//! - `file_dialog.rs`: the till's native file pickers (GTK's chooser, a
//!   window outside the page), driven through `xdotool`:
//!   [`App::choose_file`], [`App::cancel_file_dialog`].

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};

pub use fantoccini;

mod app;
mod file_dialog;
mod page;
pub mod printer;
pub mod steps;
pub mod web;

pub use app::{App, log_dir};
pub use file_dialog::Picker;
pub use page::Page;

/// How long any single wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// How often a wait looks again.
pub const POLL: Duration = Duration::from_millis(25);

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `target/<profile>/`: where this test binary's own target directory
/// keeps the binaries built with the same profile.
fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test> or target/<profile>/examples/<bin>
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("cannot locate the target directory from {}", exe.display()))
}

/// A binary of this workspace: the path in `env_var`, else `name` next to
/// this test's own target directory (built by `cargo build -p package`
/// with the same profile).
pub fn built_binary(name: &str, package: &str, env_var: &str) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(env_var) {
        return Ok(PathBuf::from(p));
    }
    let bin = profile_dir()?.join(name);
    if !bin.exists() {
        bail!(
            "{} is missing: build it with `cargo build -p {package}` (same profile), or set {env_var}",
            bin.display()
        );
    }
    Ok(bin)
}

/// The app binary: `SHOPSYNC_APP_BIN`, else next to this test's own target dir.
pub fn app_binary() -> Result<PathBuf> {
    built_binary("shopsync-app", "shopsync-app", "SHOPSYNC_APP_BIN")
}

/// Where screenshots go: `SHOPSYNC_SCREENSHOTS_DIR` (the README's pictures
/// are refreshed by `scripts/screenshots.sh`, which points it at
/// `docs/screenshots/`), else `e2e-screenshots/` in the target directory, so a
/// test run never changes a tracked file.
pub fn screenshot_dir() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SHOPSYNC_SCREENSHOTS_DIR") {
        return Ok(PathBuf::from(p));
    }
    Ok(profile_dir()?.join("e2e-screenshots"))
}

/// How long one run of a command-line tool (`shopsync`, an admin command
/// of `shopsync-server`) may take before it is killed: far more than a
/// shop of thousands of products needs, so only a hang trips it.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// `bin` run under coreutils' `timeout`: killed after [`COMMAND_TIMEOUT`]
/// (exit status 124), so a hung command fails the test instead of hanging it.
pub fn bounded_command(bin: &Path) -> Command {
    let mut cmd = Command::new("timeout");
    cmd.arg("--kill-after=5")
        .arg(COMMAND_TIMEOUT.as_secs().to_string())
        .arg(bin);
    cmd
}

/// Why a finished command failed: its stderr, or that it timed out.
pub fn failure(out: &std::process::Output) -> String {
    if out.status.code() == Some(124) {
        return format!("timed out after {COMMAND_TIMEOUT:?}");
    }
    String::from_utf8_lossy(&out.stderr).trim_end().to_string()
}

/// A port nobody listens on now, on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Stops a child we started: SIGTERM, at most `grace` to exit, then SIGKILL.
/// Waits for it either way (no zombie, and its files are closed after).
pub fn terminate(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(POLL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Calls `check` until it gives a value, for at most [`TIMEOUT`] (blocking:
/// for what the CLI or the server shows, e.g. a catalog after a sync).
pub fn poll_until<T>(what: &str, mut check: impl FnMut() -> Result<Option<T>>) -> Result<T> {
    let started = Instant::now();
    loop {
        if let Some(v) = check()? {
            return Ok(v);
        }
        if started.elapsed() > TIMEOUT {
            bail!("not within {TIMEOUT:?}: {what}");
        }
        std::thread::sleep(POLL * 4);
    }
}

/// A customer's phone sends a pickup order to the store in `db`, as a sync
/// server would deliver it: the customer's requests document (one order,
/// lines of `(SKU or None for free text, text, qty)`) imported into the
/// till's file with the core, from this process, while the app may be
/// running on the same file. One call per customer (each call starts that
/// customer's document afresh).
pub fn send_order(
    db: &Path,
    customer: &str,
    order_id: &str,
    list: &str,
    lines: &[(Option<&str>, &str, i64)],
) -> Result<()> {
    use shopsync_core::orders::records::{OrderRequest, RequestLine};
    let mut store = shopsync_core::Store::open(db)?;
    let mut requests = automerge::AutoCommit::new();
    let order = OrderRequest {
        id: order_id.into(),
        customer_name: customer.into(),
        list_id: None,
        list_name: list.into(),
        note: None,
        sent_at: store.now_ms(),
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, (sku, text, qty))| RequestLine {
                line: i as u32 + 1,
                sku: sku.map(str::to_string),
                text: text.to_string(),
                qty: *qty,
            })
            .collect(),
    };
    shopsync_core::orders::customer_side::put_order(&mut requests, order)?;
    requests.commit();
    let store_id = store.info().store_id.clone();
    let customer_id: String = customer
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    store.import_bundle(shopsync_core::bundle::Bundle {
        store_id: store_id.clone(),
        docs: vec![(
            shopsync_core::ids::DocId::order_requests(&store_id, &customer_id),
            requests.get_changes(&[]),
        )],
    })?;
    Ok(())
}

/// The Enter key, as WebDriver sends it.
pub fn enter() -> String {
    key(fantoccini::key::Key::Enter)
}

/// Any special key (F9, Escape…), as WebDriver sends it.
pub fn key(k: fantoccini::key::Key) -> String {
    char::from(k).to_string()
}
