//! Staff at the till in the real window (issue 10): signing in on the PIN
//! pad, locking with the sale kept, and a refund a manager approves with
//! their PIN. Run with `scripts/e2e.sh` (optionally `scripts/e2e.sh staff`).

use anyhow::{Result, ensure};
use shopsync_core::staff::Operator;
use shopsync_core::{CartLine, SalesFilter, Store, TenderInput, types::TenderKind};
use shopsync_e2e::App;
use shopsync_e2e::steps::{
    CASHIER_PIN, COFFEE_BARCODE, MANAGER_PIN, MILK_BARCODE, keyboard_sale, sign_in_with_keys,
    staffed_shop, temp_db, with_app,
};
use shopsync_e2e::{enter, steps::Staff};

/// axe-core's findings on the page as it is now (WCAG 2.1 A/AA).
async fn no_accessibility_violations(app: &App, screen: &str) -> Result<()> {
    let found: Vec<String> = app
        .accessibility_violations()
        .await?
        .into_iter()
        .map(|v| format!("{screen}: {} ({}) at {}", v.id, v.help, v.nodes.join(", ")))
        .collect();
    ensure!(
        found.is_empty(),
        "accessibility violations:\n{}",
        found.join("\n")
    );
    Ok(())
}

fn sales_by(db: &std::path::Path, staff: &str) -> Result<usize> {
    Ok(Store::open(db)?
        .sales(&SalesFilter {
            staff_id: Some(staff.to_string()),
            ..SalesFilter::default()
        })?
        .len())
}

#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run scripts/e2e.sh"]
async fn a_cashier_signs_in_with_a_pin_sells_and_locks_with_the_cart_kept() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let (s, Staff { manager, cashier }) = staffed_shop(&db)?;
    drop(s);
    let db2 = db.clone();
    with_app(&db, |app| async move {
        let r = async {
            // Staff exist: the PIN pad, and nothing of the till behind it.
            app.el("sign-in").await?;
            ensure!(
                !app.exists("page-sell").await,
                "the Sell screen shows while locked"
            );
            ensure!(
                !app.exists("nav-sell").await,
                "the navigation shows while locked"
            );
            no_accessibility_violations(&app, "sign-in screen").await?;
            // A wrong PIN says so, with the tries left.
            app.type_keys("sign-in-pad-input", &format!("9999{}", enter()))
                .await?;
            let e = app
                .wait_text("sign-in-error", |t| t.contains("wrong PIN"))
                .await?;
            ensure!(e.contains("4 tries left"), "{e}");
            ensure!(
                app.value("sign-in-pad-input").await?.is_empty(),
                "the wrong PIN stays typed"
            );
            // The right one on the on-screen keys.
            for _ in 0..4 {
                app.click("sign-in-pad-key-3").await?;
            }
            app.screenshot("sign-in").await?;
            app.click("sign-in-pad-enter").await?;
            app.el("page-sell").await?;
            app.wait_text("staff-signed-in", |t| t.contains("Cal"))
                .await?;
            // A sale names the cashier.
            keyboard_sale(&app, COFFEE_BARCODE).await?;
            ensure!(sales_by(&db2, &cashier)? == 1, "the sale does not name Cal");
            // A sale in progress, then Lock: the pad, and the cart is kept.
            app.type_keys("sell-search", &format!("{MILK_BARCODE}{}", enter()))
                .await?;
            app.el("cart-line-0").await?;
            app.click("staff-lock").await?;
            app.el("sign-in").await?;
            app.el("sign-in-cart-kept").await?;
            // The next person signs in and carries on with the same cart.
            sign_in_with_keys(&app, MANAGER_PIN).await?;
            app.wait_text("staff-signed-in", |t| t.contains("Ann"))
                .await?;
            app.el("cart-line-0").await?;
            // A reload of the page keeps who is signed in (the shell has it).
            app.reload().await?;
            app.wait_text("staff-signed-in", |t| t.contains("Ann"))
                .await?;
            ensure!(!app.exists("sign-in").await, "a reload asked for a PIN");
            app.el("cart-line-0").await?;
            keyboard_sale_of_cart(&app).await?;
            ensure!(sales_by(&db2, &manager)? == 1, "the sale does not name Ann");
            Ok(())
        }
        .await;
        (app, r)
    })
    .await
}

/// Pays the cart on screen in cash with the keyboard (F9, Enter, Enter,
/// Enter), like `keyboard_sale` after its scan.
async fn keyboard_sale_of_cart(app: &App) -> Result<()> {
    use shopsync_e2e::fantoccini::key::Key;
    app.type_keys("sell-search", &shopsync_e2e::key(Key::F9))
        .await?;
    app.el("pay-dialog").await?;
    app.type_keys("tender-amount", &enter()).await?;
    app.el("tender-0").await?;
    app.type_keys("tender-amount", &enter()).await?;
    app.el("change-due").await?;
    app.client
        .active_element()
        .await?
        .send_keys(&enter())
        .await?;
    app.el("cart-empty").await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run scripts/e2e.sh"]
async fn a_refund_above_the_cashier_limit_needs_a_manager_pin() -> Result<()> {
    let (_dir, db) = temp_db()?;
    let (mut s, Staff { manager, cashier }) = staffed_shop(&db)?;
    // Two sales by Cal, each above Cal's 1.00 refund limit.
    for qty in [2, 1] {
        s.acting(Some(Operator::new(cashier.clone())), |s| {
            s.sell(
                &[CartLine::new("COFFEE", qty)],
                &[TenderInput {
                    kind: TenderKind::Cash,
                    amount: 1000,
                }],
            )
        })?;
    }
    drop(s);
    let db2 = db.clone();
    with_app(&db, |app| async move {
        let r = async {
            sign_in_with_keys(&app, CASHIER_PIN).await?;
            app.nav("sales").await?;
            app.click("sale-row-0").await?;
            app.el("sale-detail").await?;
            app.click("refund-all").await?;
            let asked = app
                .wait_text("approval-message", |t| t.contains("must approve"))
                .await?;
            ensure!(asked.contains("supervisor or manager"), "{asked}");
            app.wait_attr("approval-dialog", "data-role", "supervisor")
                .await?;
            no_accessibility_violations(&app, "approval dialog").await?;
            // Cal's own PIN approves nothing.
            app.type_keys("approval-pad-input", &format!("{CASHIER_PIN}{}", enter()))
                .await?;
            app.wait_text("approval-error", |t| t.contains("may not approve"))
                .await?;
            ensure!(
                Store::open(&db2)?
                    .refunds(&SalesFilter::default())?
                    .is_empty(),
                "a cashier's PIN approved a refund"
            );
            // Ann's PIN does.
            app.type_keys("approval-pad-input", &format!("{MANAGER_PIN}{}", enter()))
                .await?;
            app.wait_text("message-text", |t| t.contains("Refunded €"))
                .await?;
            app.wait_gone("approval-dialog").await?;
            let refunds = Store::open(&db2)?.refunds(&SalesFilter::default())?;
            ensure!(refunds.len() == 1, "{refunds:?}");
            ensure!(
                refunds[0].staff_id.as_deref() == Some(cashier.as_str()),
                "{refunds:?}"
            );
            ensure!(
                refunds[0].approver_id.as_deref() == Some(manager.as_str()),
                "{refunds:?}"
            );
            ensure!(
                app.exists("staff-signed-in").await,
                "the approval signed Cal out"
            );
            app.wait_text("staff-signed-in", |t| t.contains("Cal"))
                .await?;
            // The approval was for that refund only: the next one asks
            // again, and Cancel leaves the sale as it was.
            app.nav("sales").await?;
            app.click("sale-row-1").await?;
            app.el("sale-detail").await?;
            app.click("refund-all").await?;
            app.el("approval-dialog").await?;
            app.click("approval-cancel").await?;
            app.wait_gone("approval-dialog").await?;
            app.wait_text("message-text", |t| t.contains("Not approved"))
                .await?;
            ensure!(
                Store::open(&db2)?.refunds(&SalesFilter::default())?.len() == 1,
                "a cancelled approval refunded"
            );
            Ok(())
        }
        .await;
        (app, r)
    })
    .await
}
