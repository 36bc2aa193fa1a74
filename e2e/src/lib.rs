//! Drives the real till window over WebDriver: `tauri-driver` (which runs
//! WebKitWebDriver) launches the built `shopsync-app` on a store file of
//! the test's own, on free ports; the test talks to it with fantoccini.
//!
//! Needs: the app built (`cargo build -p shopsync-app`, in the same target
//! directory and profile as this crate, or `SHOPSYNC_APP_BIN`), the UI built
//! into `ui/dist`, `tauri-driver` on the PATH (or `TAURI_DRIVER`), and a
//! display (Xvfb). `scripts/e2e.sh` arranges all of it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

pub use fantoccini;

/// How long any single wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(25);

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The app binary: `SHOPSYNC_APP_BIN`, else next to this test's own target dir.
pub fn app_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SHOPSYNC_APP_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test> or target/<profile>/examples/<bin>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow!("cannot locate the target directory from {}", exe.display()))?;
    let bin = profile_dir.join("shopsync-app");
    if !bin.exists() {
        bail!(
            "{} is missing: build it with `cargo build -p shopsync-app` (same profile), or set SHOPSYNC_APP_BIN",
            bin.display()
        );
    }
    Ok(bin)
}

/// Where screenshots go: `SHOPSYNC_SCREENSHOTS_DIR` (the README's pictures
/// are refreshed by `scripts/screenshots.sh`, which points it at
/// `docs/screenshots/`), else `e2e-screenshots/` in the target directory, so a
/// test run never changes a tracked file.
pub fn screenshot_dir() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SHOPSYNC_SCREENSHOTS_DIR") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow!("cannot locate the target directory from {}", exe.display()))?;
    Ok(profile_dir.join("e2e-screenshots"))
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One running app with its WebDriver session.
pub struct App {
    pub client: Client,
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
            client,
            driver: Some(driver),
            db: db.to_path_buf(),
        };
        me.wait_attr("app", "data-ready", "true").await?;
        Ok(me)
    }

    /// Ends the session and stops tauri-driver with SIGTERM (it then stops
    /// WebKitWebDriver; SIGKILL would orphan it).
    pub async fn stop(&mut self) {
        if let Some(mut d) = self.driver.take() {
            let _ = self.client.clone().close().await;
            stop_driver(&mut d).await;
        }
    }

    /// Waits for an element by `data-testid`.
    pub async fn el(&self, testid: &str) -> Result<Element> {
        self.el_within(testid, TIMEOUT).await
    }

    /// Waits for an element by `data-testid`, at most `timeout`.
    pub async fn el_within(&self, testid: &str, timeout: Duration) -> Result<Element> {
        let css = format!("[data-testid='{testid}']");
        let started = Instant::now();
        loop {
            if let Ok(e) = self.client.find(Locator::Css(&css)).await {
                return Ok(e);
            }
            if started.elapsed() > timeout {
                let _ = self.screenshot(&format!("failure-{testid}")).await;
                bail!("no element [data-testid='{testid}'] after {timeout:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn exists(&self, testid: &str) -> bool {
        self.client
            .find(Locator::Css(&format!("[data-testid='{testid}']")))
            .await
            .is_ok()
    }

    pub async fn click(&self, testid: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            let e = self.el(testid).await?;
            let enabled = e
                .prop("disabled")
                .await
                .ok()
                .flatten()
                .is_none_or(|d| d != "true");
            if enabled {
                match e.click().await {
                    Ok(()) => return Ok(()),
                    Err(err) => {
                        // WebKitWebDriver refuses some elements (table rows);
                        // a DOM click is what a tap does there.
                        let arg = serde_json::to_value(&e)?;
                        if self
                            .client
                            .execute("arguments[0].click(); return true;", vec![arg])
                            .await
                            .is_ok()
                        {
                            return Ok(());
                        }
                        if started.elapsed() > TIMEOUT {
                            bail!("cannot click {testid}: {err}");
                        }
                    }
                }
            } else if started.elapsed() > TIMEOUT {
                bail!("{testid} stayed disabled");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Replaces an input's text.
    pub async fn fill(&self, testid: &str, text: &str) -> Result<()> {
        let e = self.el(testid).await?;
        e.clear().await?;
        e.send_keys(text).await?;
        Ok(())
    }

    /// Types into an input (what a keyboard or a barcode scanner does).
    pub async fn type_keys(&self, testid: &str, text: &str) -> Result<()> {
        self.el(testid).await?.send_keys(text).await?;
        Ok(())
    }

    pub async fn text(&self, testid: &str) -> Result<String> {
        Ok(self.el(testid).await?.text().await?)
    }

    /// Waits until the element's text satisfies `ok`; returns it.
    pub async fn wait_text(&self, testid: &str, ok: impl Fn(&str) -> bool) -> Result<String> {
        let started = Instant::now();
        let mut last = String::new();
        loop {
            if let Ok(e) = self
                .client
                .find(Locator::Css(&format!("[data-testid='{testid}']")))
                .await
                && let Ok(t) = e.text().await
            {
                if ok(&t) {
                    return Ok(t);
                }
                last = t;
            }
            if started.elapsed() > TIMEOUT {
                let _ = self.screenshot(&format!("failure-{testid}")).await;
                bail!("[data-testid='{testid}'] text never matched; last: {last:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn wait_attr(&self, testid: &str, attr: &str, want: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Ok(e) = self
                .client
                .find(Locator::Css(&format!("[data-testid='{testid}']")))
                .await
                && e.attr(attr).await.ok().flatten().as_deref() == Some(want)
            {
                return Ok(());
            }
            if started.elapsed() > TIMEOUT {
                let _ = self.screenshot(&format!("failure-{testid}")).await;
                bail!("[data-testid='{testid}'] {attr} never became {want:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn value(&self, testid: &str) -> Result<String> {
        Ok(self
            .el(testid)
            .await?
            .prop("value")
            .await?
            .unwrap_or_default())
    }

    pub async fn wait_value(&self, testid: &str, want: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            if self.value(testid).await.is_ok_and(|v| v == want) {
                return Ok(());
            }
            if started.elapsed() > TIMEOUT {
                bail!("[data-testid='{testid}'] value never became {want:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Saves a PNG of the window as `<name>.png` in [`screenshot_dir`].
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let dir = screenshot_dir()?;
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Presses keys as a real keyboard does: X events through XTEST
    /// (`xdotool`), which reach the webview the way a USB keyboard's do —
    /// unlike WebDriver's keys, which are synthesised inside the page, so
    /// the webview's own accelerators (F5 reloads) never see them.
    /// Each item is an xdotool key name (`F9`, `Return`, `alt+3`) or, as
    /// `type:TEXT`, text to type.
    pub async fn x_keys(&self, keys: &[&str]) -> Result<()> {
        // This test's app, found by its own store path: the window of the
        // previous test's app may still be closing under the same title.
        let pgrep = Command::new("pgrep")
            .args(["-n", "-f", &self.db.to_string_lossy()])
            .output()
            .context("cannot run pgrep")?;
        let pid = String::from_utf8_lossy(&pgrep.stdout).trim().to_string();
        if pid.is_empty() {
            bail!("no app process runs on {}", self.db.display());
        }
        self.x_focus(&pid).await?;
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
            // Let the webview handle one key before the next, as a person's
            // keyboard does.
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        Ok(())
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

    /// Polls a script returning a boolean for at most `within`.
    async fn js_true_within(&self, js: &str, within: Duration) -> Result<bool> {
        let started = Instant::now();
        loop {
            if self.client.execute(js, vec![]).await?.as_bool() == Some(true) {
                return Ok(true);
            }
            if started.elapsed() > within {
                return Ok(false);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the element `testid` has the keyboard focus.
    pub async fn wait_focused(&self, testid: &str) -> Result<()> {
        let js = format!(
            "const e = document.activeElement; return !!e && e.dataset.testid === '{testid}';"
        );
        self.wait_js_true(&js, &format!("[data-testid='{testid}'] to have the focus"))
            .await
    }

    /// Polls a script returning a boolean until it returns true.
    async fn wait_js_true(&self, js: &str, what: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            let v = self.client.execute(js, vec![]).await?;
            if v.as_bool() == Some(true) {
                return Ok(());
            }
            if started.elapsed() > TIMEOUT {
                let _ = self.screenshot("failure-focus").await;
                bail!("waited {TIMEOUT:?} for {what}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn nav(&self, page: &str) -> Result<()> {
        self.click(&format!("nav-{page}")).await?;
        self.el(&format!("page-{page}")).await?;
        Ok(())
    }
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
