//! The customer's web app end to end: headless Chromium (chromedriver)
//! against the real `shopsync-server` serving the app at `/`, with shops
//! made by the real CLI. Each test gets its own server, shops and browser
//! profiles.
//!
//! Ignored by a plain `cargo test`: they need the web app built into the
//! server, the CLI, Chromium and chromedriver. Run them with
//! `scripts/e2e-web.sh` (scripts/test.sh does).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use shopsync_e2e::TIMEOUT;
use shopsync_e2e::web::{Browser, Server, Shop, product};

/// How long the page may take to show a shop's step (the bound).
const LIVE: Duration = Duration::from_secs(5);

/// What `fetch` from the open page gets for a customer sync request naming
/// `docs`, with this browser's own token: the status.
async fn sync_status_for(b: &Browser, docs: &[String]) -> Result<i64> {
    let script = "const done = arguments[arguments.length - 1];
        const open = indexedDB.open('shopsync-customer');
        open.onsuccess = () => {
            const get = open.result.transaction('meta').objectStore('meta').get('account');
            get.onsuccess = () => {
                const token = JSON.parse(get.result).token;
                const body = { protocol: 1, docs: arguments[0].map(d => ({ doc_id: d, since: 0, changes: [] })) };
                fetch('/v1/customer/sync', { method: 'POST', body: JSON.stringify(body),
                    headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json' } })
                    .then(r => done(r.status), e => done('error: ' + e));
            };
        };";
    let v = b
        .client
        .execute_async(script, vec![serde_json::to_value(docs)?])
        .await?;
    v.as_i64().with_context(|| format!("the page's fetch: {v}"))
}

#[tokio::test]
#[ignore = "needs the web app built into the server, the CLI, chromium and chromedriver: scripts/e2e-web.sh"]
async fn a_customer_signs_up_favourites_a_shop_and_searches_its_catalog() -> Result<()> {
    let server = Server::start()?;
    let shop = Shop::with_products(&server, "Corner Shop", 30)?;
    let phone = Browser::phone().await?;
    phone.sign_up(&server, "Ana").await?;
    phone.favourite_and_open(&shop, "corner").await?;

    phone
        .wait_text("catalog-count", |t| t == "30 products")
        .await?;
    phone
        .wait_text("shop-title", |t| t == "Corner Shop")
        .await?;
    let (one, five, ten) = (product(1), product(5), product(10));
    for (p, want) in [(&one, "in stock"), (&five, "low"), (&ten, "out of stock")] {
        let badge = phone
            .css(&format!(
                "[data-testid=product-row][data-sku='{}'] [data-testid=product-availability]",
                p.sku
            ))
            .await?
            .text()
            .await?;
        ensure!(badge == want, "{}: {badge}, not {want}", p.sku);
    }

    // Search as you type: by name, then by SKU.
    phone.fill("catalog-search", &one.name).await?;
    phone
        .wait_text("catalog-count", |t| t == "1 product")
        .await?;
    phone
        .css(&format!(
            "[data-testid=product-row][data-sku='{}']",
            one.sku
        ))
        .await?;
    phone.fill("catalog-search", "p0001").await?;
    phone
        .wait_text("catalog-count", |t| t == "10 products")
        .await?;
    phone.fill("catalog-search", "no such thing").await?;
    phone
        .wait_text("catalog-count", |t| t == "No product matches.")
        .await?;

    // Add a product to a list: a list is made for it.
    phone.fill("catalog-search", &one.name).await?;
    phone
        .click_css(&format!(
            "[data-testid=product-row][data-sku='{}'] [data-testid=product-add]",
            one.sku
        ))
        .await?;
    phone
        .wait_text("message", |t| t.contains("added to Shopping list"))
        .await?;
    phone.screenshot("customer-catalog-phone").await?;
    phone.open_list("Shopping list").await?;
    phone
        .wait_items(&[(&one.name, "1", false)], TIMEOUT)
        .await?;
    phone.screenshot("customer-list-phone").await?;
    phone.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the web app built into the server, the CLI, chromium and chromedriver: scripts/e2e-web.sh"]
async fn two_devices_edit_one_list_one_of_them_offline_and_converge() -> Result<()> {
    let server = Server::start()?;
    let phone = Browser::phone().await?;
    phone.sign_up(&server, "Ben").await?;
    phone.make_list("Weekly", &["Milk"]).await?;

    // A code on the phone links the laptop.
    phone.nav_to("account").await?;
    phone.click("link-code-make").await?;
    let code = phone
        .wait_text("link-code-shown", |t| t.len() >= 12)
        .await?;
    let laptop = Browser::desktop().await?;
    laptop.goto(&format!("{}/#/account", server.url())).await?;
    laptop.fill("link-code", &code).await?;
    laptop.click("link-submit").await?;
    laptop
        .css("[data-testid=list-row][data-list-name='Weekly']")
        .await?;
    laptop.open_list("Weekly").await?;
    laptop.wait_items(&[("Milk", "1", false)], TIMEOUT).await?;

    // The laptop loses its network and edits; the phone edits meanwhile.
    laptop.offline(true).await?;
    laptop.fill("item-new-text", "Eggs").await?;
    laptop.click("item-add").await?;
    laptop
        .click_css("[data-testid=item-row][data-item='Milk'] [data-testid=item-check]")
        .await?;
    laptop
        .wait_items(&[("Milk", "1", true), ("Eggs", "1", false)], TIMEOUT)
        .await?;
    laptop
        .wait_attr("sync-indicator", "data-state", "offline")
        .await?;

    phone.open_list("Weekly").await?;
    phone.fill("item-new-text", "Bread").await?;
    phone.click("item-add").await?;
    phone
        .click_css("[data-testid=item-row][data-item='Milk'] [data-testid=item-inc]")
        .await?;
    phone
        .wait_items(&[("Milk", "2", false), ("Bread", "1", false)], TIMEOUT)
        .await?;
    phone.wait_synced().await?;

    // Back online: both show everything, with no reload.
    laptop.offline(false).await?;
    let all = [
        ("Milk", "2", true),
        ("Eggs", "1", false),
        ("Bread", "1", false),
    ];
    laptop.wait_items(&all, TIMEOUT).await?;
    phone.wait_items(&all, TIMEOUT).await?;
    laptop.screenshot("customer-list-desktop").await?;
    phone.close().await?;
    laptop.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the web app built into the server, the CLI, chromium and chromedriver: scripts/e2e-web.sh"]
async fn the_app_opens_and_shows_the_lists_with_the_server_stopped() -> Result<()> {
    let mut server = Server::start()?;
    let phone = Browser::phone().await?;
    phone.sign_up(&server, "Cleo").await?;
    phone.make_list("Party", &["Candles", "Juice"]).await?;
    phone.wait_synced().await?;
    // The service worker has the app cached once it controls the page.
    phone
        .wait_js_true(
            "return !!navigator.serviceWorker.controller;",
            "the service worker controls the page",
        )
        .await?;

    server.stop();
    // A reload comes back to the same screen.
    phone.reload().await?;
    phone
        .wait_items(&[("Candles", "1", false), ("Juice", "1", false)], TIMEOUT)
        .await?;
    phone.wait_text("list-title", |t| t == "Party").await?;
    phone.nav_to("lists").await?;
    phone
        .css("[data-testid=list-row][data-list-name='Party']")
        .await?;
    phone.open_list("Party").await?;
    // Edits work with the server down, and wait to be sent.
    phone.fill("item-new-text", "Cake").await?;
    phone.click("item-add").await?;
    phone
        .wait_text("sync-indicator", |t| t.contains("1 to send"))
        .await?;

    // Chromium closed and opened again, the server still down: the same.
    let phone = phone.reopen().await?;
    phone.goto(&format!("{}/#/lists", server.url())).await?;
    phone.open_list("Party").await?;
    phone
        .wait_items(
            &[
                ("Candles", "1", false),
                ("Juice", "1", false),
                ("Cake", "1", false),
            ],
            TIMEOUT,
        )
        .await?;

    // The server back: the edit made offline is sent.
    server.restart()?;
    phone.click("sync-indicator").await?;
    phone.wait_synced().await?;
    phone.close().await?;
    Ok(())
}

/// The shop's order id once its till has the customer's order.
fn till_order(shop: &Shop) -> Result<String> {
    shopsync_e2e::poll_until("the till has the order", || {
        shop.sync()?;
        let orders = shop.orders()?;
        Ok(orders
            .first()
            .and_then(|o| o["id"].as_str().map(str::to_string)))
    })
}

/// Waits for the order's status on the page (at most [`LIVE`]).
async fn wait_status(b: &Browser, status: &str) -> Result<Duration> {
    let started = Instant::now();
    b.css(&format!("[data-testid=order-row][data-status={status}]"))
        .await?;
    let took = started.elapsed();
    ensure!(
        took <= LIVE,
        "the page showed '{status}' after {took:?}, more than {LIVE:?}"
    );
    Ok(took)
}

#[tokio::test]
#[ignore = "needs the web app built into the server, the CLI, chromium and chromedriver: scripts/e2e-web.sh"]
async fn a_sent_list_shows_the_shops_steps_live() -> Result<()> {
    let server = Server::start()?;
    let shop = Shop::with_products(&server, "Corner Shop", 20)?;
    let phone = Browser::phone().await?;
    phone.sign_up(&server, "Dev").await?;
    phone.favourite_and_open(&shop, "corner").await?;
    phone
        .wait_text("catalog-count", |t| t == "20 products")
        .await?;
    let (a, b) = (product(1), product(2));
    for p in [&a, &b] {
        phone.fill("catalog-search", &p.name).await?;
        phone
            .click_css(&format!(
                "[data-testid=product-row][data-sku='{}'] [data-testid=product-add]",
                p.sku
            ))
            .await?;
    }
    phone.open_list("Shopping list").await?;
    phone.fill("item-new-text", "Birthday candles").await?;
    phone.click("item-add").await?;
    phone
        .wait_items(
            &[
                (&a.name, "1", false),
                (&b.name, "1", false),
                ("Birthday candles", "1", false),
            ],
            TIMEOUT,
        )
        .await?;
    phone.fill("send-note", "after 5pm").await?;
    phone.click("send-submit").await?;
    phone
        .css("[data-testid=order-row][data-status=sent]")
        .await?;

    // The till accepts it with one line unavailable; the page follows
    // without a reload.
    let id = till_order(&shop)?;
    let order = shop.run(&["order", "show", &id])?;
    ensure!(order["note"] == "after 5pm", "{order}");
    shop.run(&["order", "accept", &id, "--unavailable", &b.sku])?;
    shop.sync()?;
    let accepted = wait_status(&phone, "accepted").await?;
    phone
        .wait_text("order-status", |t| t.contains("1 line(s) unavailable"))
        .await?;
    phone
        .css("[data-testid=order-line][data-unavailable=true]")
        .await?;
    phone.screenshot("customer-orders-phone").await?;

    shop.run(&["order", "ready", &id])?;
    shop.sync()?;
    let ready = wait_status(&phone, "ready").await?;
    phone
        .wait_text("order-status", |t| t == "ready for pickup")
        .await?;

    // Cash over the total: the till gives change.
    shop.run(&["order", "collect", &id, "--pay", "cash:100.00"])?;
    shop.sync()?;
    let collected = wait_status(&phone, "collected").await?;
    eprintln!("shown after: accepted {accepted:?}, ready {ready:?}, collected {collected:?}");
    phone.close().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the web app built into the server, the CLI, chromium and chromedriver: scripts/e2e-web.sh"]
async fn a_customer_cannot_see_another_customers_lists_or_orders() -> Result<()> {
    let server = Server::start()?;
    let shop = Shop::with_products(&server, "Corner Shop", 10)?;
    let ana_phone = Browser::phone().await?;
    let ana = ana_phone.sign_up(&server, "Ana").await?;
    ana_phone.make_list("Secret plans", &["Gift"]).await?;
    ana_phone.favourite_and_open(&shop, "corner").await?;
    ana_phone.open_list("Secret plans").await?;
    ana_phone.click("send-submit").await?;
    ana_phone
        .css("[data-testid=order-row][data-status=sent]")
        .await?;
    ana_phone.wait_synced().await?;
    till_order(&shop)?;

    let bo_laptop = Browser::desktop().await?;
    let bo = bo_laptop.sign_up(&server, "Bo").await?;
    ensure!(ana != bo);
    // Bo favourites the same shop: he follows his own orders there, not Ana's.
    bo_laptop.favourite_and_open(&shop, "corner").await?;
    bo_laptop.wait_synced().await?;
    bo_laptop.nav_to("lists").await?;
    bo_laptop.el("lists-empty").await?;
    bo_laptop.nav_to("orders").await?;
    bo_laptop.el("orders-empty").await?;
    let text = bo_laptop.body_text().await?;
    ensure!(
        !text.contains("Secret plans") && !text.contains("Gift"),
        "{text}"
    );

    // Nor through the app's requests: the server refuses Bo's token for
    // Ana's documents, and a request with none at all.
    let theirs = [
        format!("customer/{ana}"),
        format!("store/{}/orders/{ana}/requests", shop.store_id),
        format!("store/{}/orders/{ana}/status", shop.store_id),
    ];
    for doc in &theirs {
        let status = sync_status_for(&bo_laptop, std::slice::from_ref(doc)).await?;
        ensure!(status == 403, "Bo asking for {doc}: {status}");
    }
    let own = sync_status_for(&bo_laptop, &[format!("customer/{bo}")]).await?;
    ensure!(own == 200, "Bo asking for his own document: {own}");
    let anonymous = bo_laptop
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/v1/customer/sync', { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } })
                .then(r => done(r.status), e => done(String(e)));",
            vec![],
        )
        .await?;
    ensure!(anonymous == 401, "no token: {anonymous}");
    ana_phone.close().await?;
    bo_laptop.close().await?;
    Ok(())
}

/// Notes every violation axe-core finds on the page as it is now.
async fn accessible(b: &Browser, screen: &str, found: &mut Vec<String>) -> Result<()> {
    for v in b.accessibility_violations().await? {
        found.push(format!(
            "{screen}: {} ({:?}): {} at {:?}",
            v.id, v.impact, v.help, v.nodes
        ));
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the web app built into the server, the CLI, chromium, chromedriver and axe-core: scripts/e2e-web.sh"]
async fn every_screen_passes_the_wcag_a_and_aa_checks() -> Result<()> {
    let server = Server::start()?;
    let shop = Shop::with_products(&server, "Corner Shop", 12)?;
    let mut found = Vec::new();
    for b in [Browser::phone().await?, Browser::desktop().await?] {
        b.goto(&format!("{}/#/lists", server.url())).await?;
        b.el("welcome").await?;
        accessible(&b, "lists, signed out", &mut found).await?;
        b.nav_to("account").await?;
        b.el("signup-form").await?;
        accessible(&b, "account, signed out", &mut found).await?;
        b.sign_up(&server, "Eve").await?;
        accessible(&b, "account", &mut found).await?;
        b.favourite_and_open(&shop, "corner").await?;
        b.wait_text("catalog-count", |t| t == "12 products").await?;
        accessible(&b, "a shop's catalog", &mut found).await?;
        b.click_css("[data-testid=product-row] [data-testid=product-add]")
            .await?;
        b.nav_to("shops").await?;
        b.el("favourites").await?;
        accessible(&b, "shops", &mut found).await?;
        b.open_list("Shopping list").await?;
        b.fill("item-new-text", "Bread").await?;
        b.click("item-add").await?;
        b.click_css("[data-testid=item-row][data-item='Bread'] [data-testid=item-check]")
            .await?;
        accessible(&b, "a list", &mut found).await?;
        b.click("send-submit").await?;
        b.css("[data-testid=order-row]").await?;
        accessible(&b, "orders", &mut found).await?;
        b.nav_to("lists").await?;
        b.el("lists").await?;
        accessible(&b, "lists", &mut found).await?;
        b.close().await?;
    }
    ensure!(found.is_empty(), "{}", found.join("\n"));
    Ok(())
}
