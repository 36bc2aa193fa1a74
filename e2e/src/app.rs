//! The till's real window: `tauri-driver` (which runs WebKitWebDriver)
//! launches the built `shopsync-app` on a store file of the test's own, on
//! free ports; the test drives it through the [`Page`] it derefs to.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::ClientBuilder;

use crate::page::Page;
use crate::{POLL, app_binary, free_port, screenshot_dir};

/// One running app with its WebDriver session.
pub struct App {
    page: Page,
    driver: Option<Child>,
    pub db: PathBuf,
}

impl App {
    /// Launches the app on `db` (which may not exist yet: first launch).
    pub async fn launch(db: &Path) -> Result<App> {
        let app = app_binary()?;
        let driver_bin = std::env::var_os("TAURI_DRIVER").unwrap_or_else(|| "tauri-driver".into());
        let port = free_port()?;
        let native_port = free_port()?;
        let log_path = db.with_extension("driver.log");
        let log = std::fs::File::create(&log_path)?;
        let driver = Command::new(&driver_bin)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("SHOPSYNC_DB", db)
            .env("SHOPSYNC_LOG_DIR", log_dir(db))
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start {}: is tauri-driver installed?",
                    Path::new(&driver_bin).display()
                )
            })?;
        let mut driver = driver;
        let caps: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({
                "browserName": "wry",
                "tauri:options": {
                    "application": app,
                    "args": ["--db", db],
                }
            }))?;
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) => {
                    if started.elapsed() > Duration::from_secs(60) {
                        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                        stop_driver(&mut driver).await;
                        bail!("no WebDriver session after 60 s: {e}\n{log}");
                    }
                    tokio::time::sleep(POLL * 4).await;
                }
            }
        };
        let me = App {
            page: Page::new(client, screenshot_dir()?),
            driver: Some(driver),
            db: db.to_path_buf(),
        };
        me.wait_attr("app", "data-ready", "true").await?;
        Ok(me)
    }

    /// Where this app writes its log files (`SHOPSYNC_LOG_DIR`).
    pub fn log_dir(&self) -> PathBuf {
        log_dir(&self.db)
    }

    /// Ends the session and stops tauri-driver with SIGTERM (it then stops
    /// WebKitWebDriver; SIGKILL would orphan it).
    pub async fn stop(&mut self) {
        if let Some(mut d) = self.driver.take() {
            let _ = self.page.client.clone().close().await;
            stop_driver(&mut d).await;
        }
        wait_app_gone(&self.db).await;
    }

    /// Presses keys as a real keyboard does: X events through XTEST
    /// (`xdotool`), which reach the webview the way a USB keyboard's do —
    /// unlike WebDriver's keys, which are synthesised inside the page, so
    /// the webview's own accelerators (F5 reloads) never see them.
    /// Each item is an xdotool key name (`F9`, `Return`, `alt+3`) or, as
    /// `type:TEXT`, text to type.
    pub async fn x_keys(&self, keys: &[&str]) -> Result<()> {
        let pid = self.pid()?;
        self.x_focus(&pid).await?;
        x_send(keys).await
    }

    /// This test's app process, found by its own store path: the window of
    /// the previous test's app may still be closing under the same title.
    pub(crate) fn pid(&self) -> Result<String> {
        let pgrep = Command::new("pgrep")
            .args(["-n", "-f", &self.db.to_string_lossy()])
            .output()
            .context("cannot run pgrep")?;
        let pid = String::from_utf8_lossy(&pgrep.stdout).trim().to_string();
        if pid.is_empty() {
            bail!("no app process runs on {}", self.db.display());
        }
        Ok(pid)
    }

    /// Gives the app window of `pid` the X keyboard focus and waits until
    /// the page has it. Under Xvfb without a window manager this races with
    /// the window's own start (seen on CI: focus set, page never focused), so
    /// every visible window of the app is tried, the pointer is moved into
    /// it (Xvfb's default focus follows the pointer), and the whole thing is
    /// retried.
    async fn x_focus(&self, pid: &str) -> Result<()> {
        for _ in 0..8 {
            // `timeout`: a missing window must fail the test, not hang it.
            let found = Command::new("timeout")
                .args([
                    "10",
                    "xdotool",
                    "search",
                    "--sync",
                    "--onlyvisible",
                    "--pid",
                    pid,
                    "--name",
                    "ShopSync",
                ])
                .output()
                .context("cannot run xdotool: apt-get install xdotool")?;
            let windows: Vec<String> = String::from_utf8_lossy(&found.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if windows.is_empty() {
                bail!(
                    "xdotool found no window of the till: {}",
                    String::from_utf8_lossy(&found.stderr)
                );
            }
            for w in windows.iter().rev() {
                let _ = Command::new("xdotool")
                    .args(["windowfocus", "--sync", w])
                    .output();
                let _ = Command::new("xdotool")
                    .args(["mousemove", "--window", w, "300", "200"])
                    .output();
                if self
                    .js_true_within("return document.hasFocus();", Duration::from_secs(2))
                    .await?
                {
                    return Ok(());
                }
            }
        }
        let _ = self.screenshot("failure-focus").await;
        bail!("the till window never got the keyboard focus")
    }
}

/// The log folder of an app on `db`: beside it, so each test's logs stay
/// in its own temp folder (and the user's own log folder is never touched).
pub fn log_dir(db: &Path) -> PathBuf {
    db.with_extension("logs")
}

/// Sends keys to whatever window has the X keyboard focus (see
/// [`App::x_keys`] for the key names).
pub(crate) async fn x_send(keys: &[&str]) -> Result<()> {
    for k in keys {
        let out = match k.strip_prefix("type:") {
            Some(text) => Command::new("xdotool")
                .args(["type", "--delay", "20", text])
                .output()?,
            None => Command::new("xdotool")
                .args(["key", "--delay", "20", k])
                .output()?,
        };
        if !out.status.success() {
            bail!("xdotool {k}: {}", String::from_utf8_lossy(&out.stderr));
        }
        // Let the window handle one key before the next, as a person's
        // keyboard does.
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    Ok(())
}

async fn stop_driver(d: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &d.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = d.try_wait() {
            return;
        }
        tokio::time::sleep(POLL * 4).await;
    }
    let _ = d.kill();
    let _ = d.wait();
}

impl Deref for App {
    type Target = Page;

    fn deref(&self) -> &Page {
        &self.page
    }
}

/// Waits until no app runs on `db` any more, and kills one that lingers
/// after its WebDriver session ended (seen in CI: the window outlived its
/// driver). The next launch on the same store would otherwise hand over to
/// it and exit (one app per store file), and the new session would hang.
/// Found by the store path, which only this test's app has in its command.
async fn wait_app_gone(db: &Path) {
    let pattern = db.to_string_lossy().to_string();
    let started = Instant::now();
    loop {
        let pids: Vec<String> = Command::new("pgrep")
            .args(["-f", &pattern])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if pids.is_empty() || started.elapsed() > Duration::from_secs(15) {
            return;
        }
        if started.elapsed() > Duration::from_secs(5) {
            for pid in &pids {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        tokio::time::sleep(POLL).await;
    }
}
