//! What several till tests do: a small stocked shop, a fresh store path,
//! running a scenario with the app always stopped after it, first launch
//! and a sale with the keyboard. Shared by `tests/till.rs` (the built app)
//! and `tests/installed.rs` (the app installed from the .deb).

use std::future::Future;
use std::path::{Path, PathBuf};

use anyhow::Result;
use shopsync_core::{
    InitOptions, NewProduct, NewSupplier, NewTaxClass, ReceiveLine, SalesFilter, Store,
};

use crate::fantoccini::key::Key;
use crate::{App, enter, key};

pub const COFFEE_BARCODE: &str = "4006381333931";
pub const MILK_BARCODE: &str = "5000112637922";

/// A small shop: two products with barcodes, ten of each in stock.
pub fn seed(db: &Path) -> Result<Store> {
    let mut s = Store::init(
        db,
        InitOptions {
            store_name: "Corner Shop".into(),
            till_name: "Till 1".into(),
            currency: "EUR".into(),
        },
    )?;
    stock_shelves(&mut s)?;
    Ok(s)
}

/// Fills an existing store: a 20 % inclusive tax class, a supplier, coffee
/// (3.50) and milk (1.20) with barcodes, ten of each received.
pub fn stock_shelves(s: &mut Store) -> Result<()> {
    s.set_tax_class(NewTaxClass {
        id: "std".into(),
        name: "Standard".into(),
        rate_bp: 2000,
        inclusive: true,
    })?;
    let supplier = s.add_supplier(NewSupplier {
        name: "Fresh Farms".into(),
        phone: Some("+44 20 7946 0000".into()),
        ..NewSupplier::default()
    })?;
    s.add_product(NewProduct {
        sku: "COFFEE".into(),
        name: "Ground Coffee 250g".into(),
        price: 350,
        cost: Some(200),
        barcodes: vec![COFFEE_BARCODE.into()],
        tax_class: Some("std".into()),
        supplier: Some(supplier.id.clone()),
        category: None,
        reorder_point: Some(3),
        reorder_target: None,
    })?;
    s.add_product(NewProduct {
        sku: "MILK".into(),
        name: "Whole Milk 1L".into(),
        price: 120,
        cost: Some(80),
        barcodes: vec![MILK_BARCODE.into()],
        tax_class: Some("std".into()),
        supplier: Some(supplier.id),
        category: None,
        reorder_point: Some(4),
        reorder_target: None,
    })?;
    s.set_setting(
        "receipt_footer",
        "Returns within 30 days with this receipt.",
    )?;
    s.receive(
        None,
        &[
            ReceiveLine {
                code: "COFFEE".into(),
                qty: 10,
                unit_cost: Some(200),
            },
            ReceiveLine {
                code: "MILK".into(),
                qty: 10,
                unit_cost: Some(80),
            },
        ],
    )?;
    Ok(())
}

/// A temp folder and a store path in it (not created: first launch).
pub fn temp_db() -> Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("till.db");
    Ok((dir, db))
}

/// Runs a scenario that returns a value, always stopping the app.
pub async fn with_app_value<T, F, Fut>(db: &Path, f: F) -> Result<T>
where
    F: FnOnce(App) -> Fut,
    Fut: Future<Output = (App, Result<T>)>,
{
    let app = App::launch(db).await?;
    let (mut app, result) = f(app).await;
    app.stop().await;
    result
}

/// Runs a scenario, always stopping the app.
pub async fn with_app<F, Fut>(db: &Path, f: F) -> Result<()>
where
    F: FnOnce(App) -> Fut,
    Fut: Future<Output = (App, Result<()>)>,
{
    with_app_value(db, f).await
}

/// First launch on a store file that does not exist yet: names the shop,
/// creates it, and waits for the Sell screen with that name, offline.
pub async fn first_launch(app: &App, store_name: &str, screenshot: Option<&str>) -> Result<()> {
    app.el("page-first-launch").await?;
    if let Some(name) = screenshot {
        app.screenshot(name).await?;
    }
    app.fill("setup-store-name", store_name).await?;
    app.click("setup-create").await?;
    app.el("page-sell").await?;
    app.wait_text("store-name", |t| t.contains(store_name))
        .await?;
    app.wait_text("sync-indicator", |t| t.contains("offline"))
        .await?;
    Ok(())
}

/// A whole sale with the keyboard alone: scan `barcode`, F9 to pay, Enter
/// takes the rest in cash, Enter completes, Enter starts the next sale.
pub async fn keyboard_sale(app: &App, barcode: &str) -> Result<()> {
    app.type_keys("sell-search", &format!("{barcode}{}", enter()))
        .await?;
    app.el("cart-line-0").await?;
    app.type_keys("sell-search", &key(Key::F9)).await?;
    app.el("pay-dialog").await?;
    app.type_keys("tender-amount", &enter()).await?;
    app.el("tender-0").await?;
    app.type_keys("tender-amount", &enter()).await?;
    app.wait_text("change-due", |t| t == "€0.00").await?;
    app.client
        .active_element()
        .await?
        .send_keys(&enter())
        .await?;
    app.el("cart-empty").await?;
    Ok(())
}

/// The store's one sale, read from disk (fails if there is not exactly one).
pub fn only_sale(db: &Path) -> Result<shopsync_core::types::SaleDetail> {
    let s = Store::open(db)?;
    let sales = s.sales(&SalesFilter::default())?;
    anyhow::ensure!(
        sales.len() == 1,
        "expected 1 sale on disk, found {}",
        sales.len()
    );
    Ok(s.sale(&sales[0].sale_id)?)
}

/// How many sales the store file on disk holds.
pub fn sales_on_disk(db: &Path) -> Result<usize> {
    Ok(Store::open(db)?.sales(&SalesFilter::default())?.len())
}

/// PINs of the staffed shop's people ([`staffed_shop`]).
pub const MANAGER_PIN: &str = "1111";
pub const CASHIER_PIN: &str = "3333";

/// The staff ids of [`staffed_shop`].
pub struct Staff {
    pub manager: String,
    pub cashier: String,
}

/// [`seed`]'s shop with staff: Ann the manager and Cal the cashier, who
/// refunds up to 1.00 alone (setting `cashier_refund_limit`).
pub fn staffed_shop(db: &Path) -> Result<(Store, Staff)> {
    use shopsync_core::staff::{NewStaff, Operator, Pin, StaffRole};
    let mut s = seed(db)?;
    let ann = s
        .add_staff(NewStaff {
            name: "Ann".into(),
            role: StaffRole::Manager,
            pin: Pin::parse(MANAGER_PIN)?,
        })?
        .id;
    let by_ann = Some(Operator::new(ann.clone()));
    let cal = s
        .acting(by_ann.clone(), |s| {
            s.add_staff(NewStaff {
                name: "Cal".into(),
                role: StaffRole::Cashier,
                pin: Pin::parse(CASHIER_PIN)?,
            })
        })?
        .id;
    s.acting(by_ann, |s| s.set_setting("cashier_refund_limit", "100"))?;
    Ok((
        s,
        Staff {
            manager: ann,
            cashier: cal,
        },
    ))
}

/// Signs in on the PIN pad with the keyboard: the PIN, then Enter.
pub async fn sign_in_with_keys(app: &App, pin: &str) -> Result<()> {
    app.el("sign-in").await?;
    app.type_keys("sign-in-pad-input", &format!("{pin}{}", enter()))
        .await?;
    app.wait_gone("sign-in").await?;
    Ok(())
}
