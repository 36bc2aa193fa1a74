//! Headless Chromium, driven through chromedriver on a free port.

use std::net::TcpStream;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use fantoccini::ClientBuilder;
use serde_json::{Value, json};
use tempfile::TempDir;

use super::vendor::VendorPost;
use crate::page::Page;
use crate::{POLL, TIMEOUT, free_port, screenshot_dir, terminate};

/// Chromium's flags for tests on this machine: headless, no sandbox (root
/// in a container), and nothing that calls out on its own (its background
/// connections are refused by a closed network and slow it down).
const ARGS: [&str; 10] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--lang=en-US",
];

/// How long chromedriver and Chromium get to stop before they are killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The page's size in CSS pixels; `mobile` emulates a phone (device pixel
/// ratio 2, touch, a mobile user agent, the page's `<meta name=viewport>`
/// honoured).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Viewport {
    pub width: u32,
    pub height: u32,
    pub mobile: bool,
}

impl Viewport {
    /// A small phone, upright.
    pub const PHONE: Viewport = Viewport {
        width: 360,
        height: 780,
        mobile: true,
    };
    /// A laptop's browser window.
    pub const DESKTOP: Viewport = Viewport {
        width: 1280,
        height: 900,
        mobile: false,
    };
}

/// A Chromium user-data folder (cookies, IndexedDB, caches), removed when
/// the last clone drops. Keep a clone to open a later [`Browser`] on the
/// same data: the app "restarted" on the same phone.
#[derive(Clone, Debug)]
pub struct Profile(Arc<TempDir>);

impl Profile {
    pub fn new() -> Result<Profile> {
        let dir = tempfile::Builder::new()
            .prefix("shopsync-chromium-profile-")
            .tempdir()?;
        Ok(Profile(Arc::new(dir)))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// One line of the browser's console log.
#[derive(Clone, Debug)]
pub struct ConsoleEntry {
    /// `SEVERE` (errors), `WARNING`, `INFO`, `DEBUG`.
    pub level: String,
    pub message: String,
}

/// One Chromium session. Derefs to [`Page`] (`el`, `click`, `fill`,
/// `wait_text`, `screenshot`…; screenshots in `e2e-screenshots/web/`).
/// [`Browser::close`] ends it cleanly; dropping it kills Chromium and
/// chromedriver.
pub struct Browser {
    page: Page,
    driver: Option<Child>,
    browser_pid: Option<u32>,
    viewport: Viewport,
    driver_log: PathBuf,
    _driver_dir: TempDir,
    profile: Profile,
}

fn env_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

impl Browser {
    /// A phone ([`Viewport::PHONE`]) on a new profile.
    pub async fn phone() -> Result<Browser> {
        Browser::open(Profile::new()?, Viewport::PHONE).await
    }

    /// A desktop window ([`Viewport::DESKTOP`]) on a new profile.
    pub async fn desktop() -> Result<Browser> {
        Browser::open(Profile::new()?, Viewport::DESKTOP).await
    }

    /// Starts chromedriver and a Chromium session on `profile` (which no
    /// other open `Browser` may be using).
    pub async fn open(profile: Profile, viewport: Viewport) -> Result<Browser> {
        let chromium = env_path("CHROMIUM", "/usr/bin/chromium");
        let chromedriver = env_path("CHROMEDRIVER", "/usr/bin/chromedriver");
        for bin in [&chromium, &chromedriver] {
            if !bin.exists() {
                bail!(
                    "{} is missing: apt-get install chromium chromium-driver (or set CHROMIUM, CHROMEDRIVER)",
                    bin.display()
                );
            }
        }
        let driver_dir = tempfile::Builder::new()
            .prefix("shopsync-chromedriver-")
            .tempdir()?;
        let driver_log = driver_dir.path().join("chromedriver.log");
        let port = free_port()?;
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", driver_log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", chromedriver.display()))?;
        if let Err(e) = wait_listening(port, &mut driver).await {
            terminate(&mut driver, STOP_GRACE);
            return Err(e.context(log_tail(&driver_log)));
        }
        let caps = capabilities(&chromium, &profile, viewport)?;
        let url = format!("http://127.0.0.1:{port}");
        let mut builder = ClientBuilder::native();
        builder.capabilities(caps);
        let client = match tokio::time::timeout(TIMEOUT, builder.connect(&url)).await {
            Ok(Ok(c)) => c,
            failed => {
                terminate(&mut driver, STOP_GRACE);
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {TIMEOUT:?}"),
                };
                bail!("no Chromium session: {why}\n{}", log_tail(&driver_log));
            }
        };
        let browser_pid = client
            .capabilities()
            .and_then(|c| c.get("goog:processID"))
            .and_then(Value::as_u64)
            .and_then(|p| u32::try_from(p).ok());
        Ok(Browser {
            page: Page::new(client, screenshot_dir()?.join("web")),
            driver: Some(driver),
            browser_pid,
            viewport,
            driver_log,
            _driver_dir: driver_dir,
            profile,
        })
    }

    /// This session's profile: clone it to reopen the same data later.
    pub fn profile(&self) -> Profile {
        self.profile.clone()
    }

    pub fn viewport(&self) -> Viewport {
        self.viewport
    }

    /// Closes Chromium cleanly (its data written to the profile) and opens
    /// it again on the same profile and viewport: the app restarted.
    pub async fn reopen(self) -> Result<Browser> {
        let (profile, viewport) = (self.profile(), self.viewport);
        self.close().await?;
        Browser::open(profile, viewport).await
    }

    /// Ends the session: Chromium quits as a person would close it (writing
    /// its data to the profile), then chromedriver stops.
    pub async fn close(mut self) -> Result<()> {
        let closed = self.page.client.clone().close().await;
        self.browser_pid = None;
        let deadline = Instant::now() + STOP_GRACE;
        while !profile_processes(self.profile.path()).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
        }
        kill_all(self.profile.path());
        if let Some(mut d) = self.driver.take() {
            terminate(&mut d, STOP_GRACE);
        }
        closed.context("cannot end the Chromium session")?;
        Ok(())
    }

    /// Loads `url` and waits for its load event.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.page
            .client
            .goto(url)
            .await
            .with_context(|| format!("cannot load {url}"))
    }

    /// Reloads the page (F5).
    pub async fn reload(&self) -> Result<()> {
        Ok(self.page.client.refresh().await?)
    }

    /// The page's visible text.
    pub async fn body_text(&self) -> Result<String> {
        let v = self
            .page
            .client
            .execute(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Runs a script in the page; returns what it returns.
    pub async fn js(&self, script: &str) -> Result<Value> {
        Ok(self.page.client.execute(script, vec![]).await?)
    }

    /// Turns the network off (`true`: every request fails as with no
    /// connection, `navigator.onLine` is false and `offline` fires) or back
    /// on. Holds across navigations until changed.
    pub async fn offline(&self, off: bool) -> Result<()> {
        self.page
            .client
            .issue_cmd(VendorPost::network(off))
            .await
            .with_context(|| format!("cannot set the network offline={off}"))?;
        Ok(())
    }

    /// The console messages (and uncaught errors, failed loads) since the
    /// last call.
    pub async fn console_log(&self) -> Result<Vec<ConsoleEntry>> {
        let v = self
            .page
            .client
            .issue_cmd(VendorPost::browser_log())
            .await
            .context("cannot read the browser's console log")?;
        let entries = v
            .as_array()
            .ok_or_else(|| anyhow!("the console log is not a list: {v}"))?;
        Ok(entries
            .iter()
            .map(|e| ConsoleEntry {
                level: e["level"].as_str().unwrap_or_default().to_string(),
                message: e["message"].as_str().unwrap_or_default().to_string(),
            })
            .collect())
    }

    /// chromedriver's log so far (for a failing test to print).
    pub fn driver_log(&self) -> String {
        std::fs::read_to_string(&self.driver_log).unwrap_or_default()
    }
}

impl Deref for Browser {
    type Target = Page;

    fn deref(&self) -> &Page {
        &self.page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // No session end here (that needs the async runtime): Chromium is
        // stopped by its process id (chromedriver leaves it running when it
        // stops), and the profile is removed only once none of Chromium's
        // processes writes to it any more.
        if let Some(pid) = self.browser_pid.take()
            && profile_processes(self.profile.path()).contains(&pid)
        {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            let deadline = Instant::now() + STOP_GRACE;
            while !profile_processes(self.profile.path()).is_empty() && Instant::now() < deadline {
                std::thread::sleep(POLL);
            }
        }
        kill_all(self.profile.path());
        if let Some(mut d) = self.driver.take() {
            terminate(&mut d, STOP_GRACE);
        }
    }
}

/// The new-session capabilities: Chromium's binary, flags, profile and
/// viewport; the console log kept; page loads and scripts bounded.
fn capabilities(
    chromium: &Path,
    profile: &Profile,
    viewport: Viewport,
) -> Result<serde_json::Map<String, Value>> {
    let mut args: Vec<String> = ARGS.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    args.push(format!(
        "--window-size={},{}",
        viewport.width, viewport.height
    ));
    let mut options = json!({ "binary": chromium, "args": args });
    if viewport.mobile {
        options["mobileEmulation"] = json!({
            "deviceMetrics": {
                "width": viewport.width,
                "height": viewport.height,
                "pixelRatio": 2.0,
                "mobile": true,
                "touch": true,
            },
            // chromedriver derives a mobile user agent from these.
            "clientHints": { "platform": "Android", "mobile": true },
        });
    }
    let ms = TIMEOUT.as_millis() as u64;
    Ok(serde_json::from_value(json!({
        "browserName": "chrome",
        "goog:chromeOptions": options,
        "goog:loggingPrefs": { "browser": "ALL" },
        "timeouts": { "implicit": 0, "pageLoad": ms, "script": ms },
    }))?)
}

/// Waits until chromedriver accepts connections on `port`.
async fn wait_listening(port: u16, driver: &mut Child) -> Result<()> {
    let started = Instant::now();
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = driver.try_wait() {
            bail!("chromedriver exited ({status}) before listening");
        }
        if started.elapsed() > TIMEOUT {
            bail!("chromedriver did not listen on {port} within {TIMEOUT:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Chromium's processes (browser, renderers, services) running on
/// `profile`: their command lines name it.
fn profile_processes(profile: &Path) -> Vec<u32> {
    let flag = format!("--user-data-dir={}", profile.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|arg| arg == flag.as_bytes()))
                && alive(*pid)
        })
        .collect()
}

/// SIGKILL to whatever of Chromium still runs on `profile`.
fn kill_all(profile: &Path) {
    for pid in profile_processes(profile) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

/// Whether process `pid` still runs (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.trim_start().chars().next());
        !matches!(state, Some('Z' | 'X') | None)
    })
}

/// The end of chromedriver's log, for an error message.
fn log_tail(path: &Path) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let from = lines.len().saturating_sub(30);
    format!(
        "chromedriver log ({}):\n{}",
        path.display(),
        lines[from..].join("\n")
    )
}
