//! The customer's web app end to end: headless Chromium (chromedriver)
//! against the real `shopsync-server`, with shops made by the real CLI.
//! Each test gets its own server, shops and browser profile.
//!
//! Ignored by a plain `cargo test`: they need the built server and CLI,
//! Chromium and chromedriver. Run them with `scripts/e2e-web.sh`.

use anyhow::{Result, ensure};
use serde_json::{Value, json};
use shopsync_e2e::poll_until;
use shopsync_e2e::web::{Browser, Customer, Server, Shop, product};

/// The products of a shop's catalog as `customer` last synced it, once it
/// has `n` of them (syncing until it does).
fn synced_catalog(customer: &Customer, shop: &str, n: usize) -> Result<Vec<Value>> {
    poll_until(
        &format!("{n} products of {shop} on the customer's device"),
        || {
            customer.run(&["sync"])?;
            let view = customer.run(&["catalog", shop])?;
            let products = view["catalog"]["products"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            Ok((view["synced"] == true && products.len() == n).then_some(products))
        },
    )
}

/// What `fetch(url)` from the open page gets: its text, or the error.
async fn fetch(browser: &Browser, url: &str) -> Result<String> {
    let script = "const done = arguments[arguments.length - 1];
        fetch(arguments[0], { cache: 'no-store' })
            .then(r => r.text()).then(t => done('ok: ' + t), e => done('error: ' + e));";
    let v = browser
        .client
        .execute_async(script, vec![Value::from(url)])
        .await?;
    Ok(v.as_str().unwrap_or_default().trim().to_string())
}

#[tokio::test]
#[ignore = "needs the built server and CLI, chromium and chromedriver: scripts/e2e-web.sh"]
async fn a_publishing_shop_reaches_a_customer_and_chromium_reaches_the_server() -> Result<()> {
    let server = Server::start()?;
    let shop = Shop::with_products(&server, "Corner Shop", 20)?;

    // A customer on the CLI finds the shop once the server has derived its
    // public catalog, and gets the catalog: the shop publishes.
    let ana = Customer::signup(&server, "Ana")?;
    poll_until("the shop is listed", || {
        let shops = ana.run(&["shops", "--search", "corner"])?;
        let listed = shops
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["store_id"] == shop.store_id.as_str()));
        Ok(listed.then_some(()))
    })?;
    ana.run(&["favourite", "add", "Corner Shop"])?;
    let products = synced_catalog(&ana, "Corner Shop", 20)?;
    let by_sku = |sku: &str| products.iter().find(|p| p["sku"] == sku).cloned();
    for (i, band) in [(1, "in_stock"), (5, "low"), (10, "out")] {
        let want = product(i);
        let got = by_sku(&want.sku).unwrap_or_default();
        ensure!(
            got["name"] == want.name.as_str()
                && got["price"] == want.price_cents
                && got["availability"] == band,
            "product {i}: {got} (want {want:?}, {band})"
        );
    }

    // Chromium reaches the server (the web app at `/` is not there yet).
    let phone = Browser::phone().await?;
    phone.goto(&format!("{}/healthz", server.url())).await?;
    ensure!(phone.body_text().await?.trim() == "ok");
    phone.screenshot("harness-healthz-phone").await?;
    // A page made for phones (as the web app is) gets the phone's width.
    phone
        .goto("data:text/html,<meta name=viewport content='width=device-width'><p>phone")
        .await?;
    let size = phone
        .js("return [innerWidth, innerHeight, devicePixelRatio, matchMedia('(pointer: coarse)').matches];")
        .await?;
    ensure!(size == json!([360, 780, 2, true]), "phone viewport {size}");
    phone.close().await?;

    let desktop = Browser::desktop().await?;
    desktop.goto(&format!("{}/healthz", server.url())).await?;
    let width = desktop.js("return innerWidth;").await?;
    ensure!(width == 1280, "desktop width {width}");
    desktop.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built server and CLI, chromium and chromedriver: scripts/e2e-web.sh"]
async fn with_the_network_off_the_server_is_out_of_reach_and_back_on_it_is_not() -> Result<()> {
    let server = Server::start()?;
    let health = format!("{}/healthz", server.url());
    let browser = Browser::phone().await?;
    browser.goto(&health).await?;
    ensure!(fetch(&browser, &health).await? == "ok: ok");
    browser.console_log().await?;

    browser.offline(true).await?;
    let fetched = fetch(&browser, &health).await?;
    ensure!(
        fetched.starts_with("error: "),
        "fetch offline gave {fetched:?}"
    );
    ensure!(browser.js("return navigator.onLine;").await? == false);
    let load = browser.goto(&format!("{health}?offline")).await;
    ensure!(
        load.is_err() || browser.body_text().await?.trim() != "ok",
        "/healthz loaded with the network off"
    );
    let log = browser.console_log().await?;
    ensure!(
        log.iter().any(|e| e.level == "SEVERE"),
        "the failed fetch is in the console log: {log:?}"
    );

    browser.offline(false).await?;
    browser.goto(&health).await?;
    ensure!(browser.body_text().await?.trim() == "ok");
    ensure!(fetch(&browser, &health).await? == "ok: ok");
    browser.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built server and CLI, chromium and chromedriver: scripts/e2e-web.sh"]
async fn the_server_comes_back_on_its_port_and_a_reopened_browser_keeps_its_data() -> Result<()> {
    let mut server = Server::start()?;
    let url = server.url();
    let (store_id, _) = server.create_store("Night Shop")?;
    let health = format!("{url}/healthz");
    let browser = Browser::desktop().await?;
    browser.goto(&health).await?;
    let put = "const done = arguments[arguments.length - 1];
        const open = indexedDB.open('harness', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('kv');
        open.onsuccess = () => {
            const tx = open.result.transaction('kv', 'readwrite');
            tx.objectStore('kv').put('kept', 'k');
            tx.oncomplete = () => done('put');
            tx.onerror = () => done('error: ' + tx.error);
        };
        open.onerror = () => done('error: ' + open.error);";
    ensure!(browser.client.execute_async(put, vec![]).await? == "put");

    // Stopped: out of reach, from the page as from anywhere.
    server.stop();
    ensure!(!server.is_running());
    let fetched = fetch(&browser, &health).await?;
    ensure!(
        fetched.starts_with("error: "),
        "fetch from a stopped server: {fetched:?}"
    );

    // Back on the same port, with the same database.
    server.restart()?;
    ensure!(server.url() == url);
    server.enrol_code(&store_id, "till")?;
    ensure!(fetch(&browser, &health).await? == "ok: ok");

    // The same profile after Chromium closed and opened again.
    let browser = browser.reopen().await?;
    browser.goto(&health).await?;
    let get = "const done = arguments[arguments.length - 1];
        const open = indexedDB.open('harness', 1);
        open.onsuccess = () => {
            const get = open.result.transaction('kv').objectStore('kv').get('k');
            get.onsuccess = () => done(String(get.result));
            get.onerror = () => done('error: ' + get.error);
        };
        open.onerror = () => done('error: ' + open.error);";
    let kept = browser.client.execute_async(get, vec![]).await?;
    ensure!(kept == "kept", "IndexedDB after reopening: {kept}");
    browser.close().await?;
    Ok(())
}
