//! What a test does to a page over WebDriver, whoever renders it: the
//! till's window (`App`) and a browser (`web::Browser`) both wrap a
//! [`Page`]. Elements are found by `data-testid`; every wait is bounded by
//! [`TIMEOUT`] and leaves a screenshot behind when it gives up.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};

use crate::{POLL, TIMEOUT};

/// One WebDriver session's page, and where its screenshots go.
pub struct Page {
    pub client: Client,
    shots: PathBuf,
}

fn css(testid: &str) -> String {
    format!("[data-testid='{testid}']")
}

impl Page {
    /// Wraps a session; screenshots go to `shots`.
    pub fn new(client: Client, shots: PathBuf) -> Page {
        Page { client, shots }
    }

    /// Waits for an element by `data-testid`.
    pub async fn el(&self, testid: &str) -> Result<Element> {
        self.el_within(testid, TIMEOUT).await
    }

    /// Waits for an element by `data-testid`, at most `timeout`.
    pub async fn el_within(&self, testid: &str, timeout: Duration) -> Result<Element> {
        let css = css(testid);
        let started = Instant::now();
        loop {
            if let Ok(e) = self.client.find(Locator::Css(&css)).await {
                return Ok(e);
            }
            if started.elapsed() > timeout {
                let _ = self.screenshot(&format!("failure-{testid}")).await;
                bail!("no element {css} after {timeout:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Whether an element with this `data-testid` is there now (no wait).
    pub async fn exists(&self, testid: &str) -> bool {
        self.client.find(Locator::Css(&css(testid))).await.is_ok()
    }

    /// Every element with this `data-testid` there is now (no wait).
    pub async fn all(&self, testid: &str) -> Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(&css(testid))).await?)
    }

    /// Clicks an element once it is there and enabled.
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
                // WebKitWebDriver does not scroll an <option> of a select
                // below the fold into view, and the click then selects
                // nothing: the select (or the element) is brought into view.
                let arg = serde_json::to_value(&e)?;
                let _ = self
                    .client
                    .execute(
                        "const el = arguments[0]; (el.closest('select') || el).scrollIntoView({block: 'center'}); return true;",
                        vec![arg],
                    )
                    .await;
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
    /// A field drawn again while it is typed into (its page reloaded after
    /// a change) is found again and filled from the start.
    pub async fn fill(&self, testid: &str, text: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            let e = self.el(testid).await?;
            let arg = serde_json::to_value(&e)?;
            let _ = self
                .client
                .execute(
                    "arguments[0].scrollIntoView({block: 'center'}); return true;",
                    vec![arg],
                )
                .await;
            let filled = match e.clear().await {
                Ok(()) => e.send_keys(text).await,
                Err(err) => Err(err),
            };
            match filled {
                Ok(()) => return Ok(()),
                Err(err) if started.elapsed() > TIMEOUT => {
                    let _ = self.screenshot(&format!("failure-fill-{testid}")).await;
                    bail!("cannot fill {testid}: {err:?}");
                }
                Err(_) => tokio::time::sleep(POLL * 4).await,
            }
        }
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
        let css = css(testid);
        let started = Instant::now();
        let mut last = String::new();
        loop {
            if let Ok(e) = self.client.find(Locator::Css(&css)).await
                && let Ok(t) = e.text().await
            {
                if ok(&t) {
                    return Ok(t);
                }
                last = t;
            }
            if started.elapsed() > TIMEOUT {
                let _ = self.screenshot(&format!("failure-{testid}")).await;
                bail!("{css} text never matched; last: {last:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn wait_attr(&self, testid: &str, attr: &str, want: &str) -> Result<()> {
        let css = css(testid);
        let started = Instant::now();
        loop {
            // What was last seen, for the failure message.
            let seen = match self.client.find(Locator::Css(&css)).await {
                Ok(e) => match e.attr(attr).await {
                    Ok(Some(v)) if v == want => return Ok(()),
                    Ok(v) => format!("{v:?}"),
                    Err(e) => format!("unreadable ({e})"),
                },
                Err(e) => format!("no element ({e})"),
            };
            if started.elapsed() > TIMEOUT {
                let _ = self.screenshot(&format!("failure-{testid}")).await;
                bail!("{css} {attr} never became {want:?} (last: {seen})");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until no element with this `data-testid` is there.
    pub async fn wait_gone(&self, testid: &str) -> Result<()> {
        let started = Instant::now();
        while self.exists(testid).await {
            if started.elapsed() > TIMEOUT {
                let _ = self.screenshot(&format!("failure-gone-{testid}")).await;
                bail!("{} still there after {TIMEOUT:?}", css(testid));
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(())
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
                bail!("{} value never became {want:?}", css(testid));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Saves a PNG of the page as `<name>.png` in this page's screenshot folder.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        // WebKit's snapshot can show the page as last painted: after a
        // screen change it showed the previous screen. Two animation frames
        // let the current DOM be painted first.
        let _ = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await;
        let png = self.client.screenshot().await?;
        std::fs::create_dir_all(&self.shots)?;
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Scrolls the element `testid` to the middle of the window (for a
    /// screenshot of what matters on a long page).
    pub async fn scroll_to(&self, testid: &str) -> Result<()> {
        let e = self.el(testid).await?;
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'}); return true;",
                vec![serde_json::to_value(&e)?],
            )
            .await?;
        Ok(())
    }

    /// Polls a script returning a boolean for at most `within`.
    pub async fn js_true_within(&self, js: &str, within: Duration) -> Result<bool> {
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
        self.wait_js_true(&js, &format!("{} to have the focus", css(testid)))
            .await
    }

    /// Waits until `testid` exists and is not disabled (a button whose
    /// command has answered).
    pub async fn wait_enabled(&self, testid: &str) -> Result<()> {
        let js = format!(
            "const e = document.querySelector('[data-testid=\"{testid}\"]'); return !!e && !e.disabled;"
        );
        self.wait_js_true(&js, &format!("{} to be enabled", css(testid)))
            .await
    }

    /// Polls a script returning a boolean until it returns true.
    pub async fn wait_js_true(&self, js: &str, what: &str) -> Result<()> {
        if self.js_true_within(js, TIMEOUT).await? {
            return Ok(());
        }
        let _ = self.screenshot("failure-js").await;
        bail!("waited {TIMEOUT:?} for {what}")
    }

    /// Reloads the page and waits for the new one to be ready. WebDriver
    /// calls that cross the unload fail ("callback was not called before
    /// the unload event"): they only mean the old page is going.
    pub async fn reload(&self) -> Result<()> {
        let _ = self
            .client
            .execute("window.__before_reload = true; setTimeout(() => location.reload(), 0); return true;", vec![])
            .await;
        let started = Instant::now();
        loop {
            let gone = self
                .client
                .execute("return window.__before_reload === undefined;", vec![])
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if gone {
                break;
            }
            if started.elapsed() > TIMEOUT {
                let _ = self.screenshot("failure-reload").await;
                bail!("the page did not reload within {TIMEOUT:?}");
            }
            tokio::time::sleep(POLL * 2).await;
        }
        self.wait_attr("app", "data-ready", "true").await
    }

    /// Clicks `nav-{page}` and waits for `page-{page}`.
    pub async fn nav(&self, page: &str) -> Result<()> {
        self.click(&format!("nav-{page}")).await?;
        self.el(&format!("page-{page}")).await?;
        Ok(())
    }
}

/// One rule axe-core found broken on a page.
#[derive(Debug, serde::Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    pub nodes: Vec<String>,
}

impl Page {
    /// Runs axe-core (from the npm registry; `AXE_JS` names its
    /// `axe.min.js`, which scripts/lib.sh's `ensure_axe` installs for e2e.sh and e2e-web.sh) on the page as it
    /// is: the WCAG 2.1 level A and AA rules. Returns what they find.
    pub async fn accessibility_violations(&self) -> Result<Vec<Violation>> {
        let path = std::env::var_os("AXE_JS").ok_or_else(|| {
            anyhow::anyhow!("AXE_JS is not set: run scripts/e2e.sh or scripts/e2e-web.sh")
        })?;
        let axe = std::fs::read_to_string(&path)?;
        self.client
            .execute(&format!("{axe}\n;return typeof axe;"), vec![])
            .await?;
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                   .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }))),
                         e => done([{ id: 'axe-failed', impact: null, help: String(e), nodes: [] }]));",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(found)?)
    }
}
