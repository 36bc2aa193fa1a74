//! The till as a shop installs it: the binary the .deb put on the system
//! (`SHOPSYNC_APP_BIN`, e.g. `/usr/bin/shopsync-app`), launched from an empty
//! temporary folder, through first launch and one sale, checked in the store
//! file on disk. `scripts/package-test.sh` builds the package, installs it,
//! runs exactly this test and removes the package again.
//!
//! Ignored by a plain `cargo test`: it needs the package installed,
//! tauri-driver and a display.

use anyhow::{Context, Result, bail, ensure};
use shopsync_core::Store;
use shopsync_e2e::repo_root;
use shopsync_e2e::steps::{
    MILK_BARCODE, first_launch, keyboard_sale, only_sale, stock_shelves, with_app,
};

/// The installed binary: `SHOPSYNC_APP_BIN` must name it, as an absolute
/// path outside this repository (the point is not to run the built one).
fn installed_binary() -> Result<std::path::PathBuf> {
    let Some(bin) = std::env::var_os("SHOPSYNC_APP_BIN") else {
        bail!(
            "SHOPSYNC_APP_BIN is not set: this test drives the installed package; \
             run scripts/package-test.sh (or set it to the installed binary, e.g. /usr/bin/shopsync-app)"
        );
    };
    let bin = std::path::PathBuf::from(bin);
    ensure!(
        bin.is_absolute() && bin.is_file(),
        "SHOPSYNC_APP_BIN={} is not an installed binary",
        bin.display()
    );
    ensure!(
        !bin.starts_with(repo_root()),
        "SHOPSYNC_APP_BIN={} lies in the source tree, not where a package installs",
        bin.display()
    );
    Ok(bin)
}

#[tokio::test]
#[ignore = "needs the .deb installed, tauri-driver and a display: run scripts/package-test.sh"]
async fn installed_app_first_launch_and_a_sale() -> Result<()> {
    let bin = installed_binary()?;
    // An empty working folder: the installed app must not need the source
    // tree (its UI is embedded). The app inherits it through tauri-driver.
    let cwd = tempfile::tempdir()?;
    std::env::set_current_dir(cwd.path()).context("cannot enter the temporary folder")?;
    let db = cwd.path().join("till.db");

    with_app(&db, |app| async move {
        let r = first_launch(&app, "Installed Shop", None).await;
        (app, r)
    })
    .await
    .with_context(|| format!("first launch of {}", bin.display()))?;

    // Shelves for the sale, written by the core between the two launches.
    {
        let mut s = Store::open(&db)?;
        ensure!(
            s.info().store_name == "Installed Shop",
            "first launch did not create the store it was asked for: {:?}",
            s.info()
        );
        stock_shelves(&mut s)?;
    }

    with_app(&db, |app| async move {
        let r = keyboard_sale(&app, MILK_BARCODE).await;
        (app, r)
    })
    .await
    .context("a sale in the installed app")?;

    let detail = only_sale(&db)?;
    ensure!(
        detail.summary.total.minor == 120 && detail.lines.len() == 1,
        "the sale on disk is not one milk at 1.20: {detail:?}"
    );
    let milk = Store::open(&db)?.stock_levels(Some("MILK"), false)?;
    ensure!(
        milk.first().map(|l| l.on_hand) == Some(9),
        "the sale did not take one milk off the shelf: {milk:?}"
    );
    Ok(())
}
