//! The customer's app as a test or a benchmark works it: the screens'
//! controls by `data-testid` (and CSS within a row), and the steps every
//! test takes (sign up, make a list, favourite a shop).

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use fantoccini::Locator;
use fantoccini::elements::Element;

use super::{Browser, Server, Shop};
use crate::{POLL, TIMEOUT};

/// An item of the open list: (text, quantity, ticked).
pub type Item = (String, String, bool);

impl Browser {
    /// Goes to a screen by the bottom navigation (`lists`, `shops`,
    /// `orders`, `account`).
    pub async fn nav_to(&self, screen: &str) -> Result<()> {
        self.click(&format!("nav-{screen}")).await
    }

    /// Waits for an element by CSS.
    pub async fn css(&self, css: &str) -> Result<Element> {
        let started = Instant::now();
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return Ok(e);
            }
            if started.elapsed() > TIMEOUT {
                let _ = self.screenshot("failure-css").await;
                bail!("no element {css} after {TIMEOUT:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks an element found by CSS once it is there.
    pub async fn click_css(&self, css: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            let e = self.css(css).await?;
            match e.click().await {
                Ok(()) => return Ok(()),
                Err(err) if started.elapsed() > TIMEOUT => bail!("cannot click {css}: {err}"),
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// Waits until exactly `n` elements match `css`.
    pub async fn wait_css_count(&self, css: &str, n: usize, within: Duration) -> Result<()> {
        let started = Instant::now();
        loop {
            let found = self.client.find_all(Locator::Css(css)).await?.len();
            if found == n {
                return Ok(());
            }
            if started.elapsed() > within {
                let _ = self.screenshot("failure-count").await;
                bail!("{found} elements {css}, not {n}, after {within:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until everything made here is on the server: synced, and no
    /// change waiting.
    pub async fn wait_synced(&self) -> Result<()> {
        self.wait_js_true(
            "const s = document.querySelector('[data-testid=sync-indicator]');
             return !!s && s.dataset.state === 'synced' && !s.textContent.includes('to send');",
            "synced with nothing waiting",
        )
        .await
    }

    /// Opens the app and signs this browser up as `name`, then waits for
    /// its first sync; returns the customer id.
    pub async fn sign_up(&self, server: &Server, name: &str) -> Result<String> {
        self.goto(&format!("{}/#/account", server.url())).await?;
        self.fill("signup-name", name).await?;
        self.click("signup-submit").await?;
        self.wait_synced().await?;
        self.nav_to("account").await?;
        let id = self
            .wait_text("account-id", |t| t.starts_with("customer "))
            .await?;
        Ok(id.trim_start_matches("customer ").to_string())
    }

    /// Makes a list on the Lists screen with these free-text items; the
    /// list stays open.
    pub async fn make_list(&self, name: &str, items: &[&str]) -> Result<()> {
        self.nav_to("lists").await?;
        self.fill("new-list-name", name).await?;
        self.click("new-list-submit").await?;
        self.wait_text("list-title", |t| t == name).await?;
        for (i, item) in items.iter().enumerate() {
            self.fill("item-new-text", item).await?;
            self.click("item-add").await?;
            self.wait_css_count("[data-testid=item-row]", i + 1, TIMEOUT)
                .await?;
        }
        Ok(())
    }

    /// Opens a list from the Lists screen.
    pub async fn open_list(&self, name: &str) -> Result<()> {
        self.nav_to("lists").await?;
        self.click_css(&format!("[data-testid=list-row][data-list-name='{name}']"))
            .await?;
        self.wait_text("list-title", |t| t == name).await?;
        Ok(())
    }

    /// The open list's items.
    pub async fn items(&self) -> Result<Vec<Item>> {
        let v = self
            .js(
                "return [...document.querySelectorAll('[data-testid=item-row]')].map(r =>
                    [r.dataset.item, r.querySelector('[data-testid=item-qty]').textContent, r.dataset.checked === 'true']);",
            )
            .await?;
        let rows = v.as_array().cloned().unwrap_or_default();
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r[0].as_str().unwrap_or_default().to_string(),
                    r[1].as_str().unwrap_or_default().to_string(),
                    r[2].as_bool().unwrap_or(false),
                )
            })
            .collect())
    }

    /// Waits (at most `within`) until the open list shows `want`, in any
    /// order.
    pub async fn wait_items(&self, want: &[(&str, &str, bool)], within: Duration) -> Result<()> {
        let started = Instant::now();
        let mut want: Vec<Item> = want
            .iter()
            .map(|(t, q, c)| (t.to_string(), q.to_string(), *c))
            .collect();
        want.sort();
        loop {
            let mut got = self.items().await?;
            got.sort();
            if got == want {
                return Ok(());
            }
            if started.elapsed() > within {
                let _ = self.screenshot("failure-items").await;
                bail!("items {got:?}, not {want:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Favourites the shop found by searching `query` on the Shops
    /// screen, then opens its catalog.
    pub async fn favourite_and_open(&self, shop: &Shop, query: &str) -> Result<()> {
        self.nav_to("shops").await?;
        self.fill("shop-search", query).await?;
        let row = format!(
            "[data-testid=shop-results] [data-testid=shop-row][data-store-id='{}']",
            shop.store_id
        );
        self.click_css(&format!("{row} [data-testid=shop-fav]"))
            .await?;
        self.css(&format!("{row} [data-testid=shop-fav][aria-pressed=true]"))
            .await?;
        self.click_css(&format!("{row} [data-testid=shop-open]"))
            .await?;
        Ok(())
    }
}
