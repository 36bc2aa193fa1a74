//! What the till owes its users as a desktop app, in its real window:
//! `--version`, Settings → About, "Copy diagnostics", the log files, and
//! one app per store file (a second launch hands over and exits).
//!
//! Ignored by a plain `cargo test`: they need the built app and UI, the
//! WebDriver tools and a display. Run them with `scripts/e2e.sh`.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};
use shopsync_core::{InitOptions, Store};
use shopsync_e2e::{App, app_binary, bounded_command, failure, log_dir};

/// A store with nothing in it but its name: the app opens on the till.
fn store(dir: &Path, file: &str) -> Result<PathBuf> {
    let db = dir.join(file);
    Store::init(
        &db,
        InitOptions {
            store_name: "Corner Shop".into(),
            till_name: "Till 1".into(),
            currency: "EUR".into(),
        },
    )?;
    Ok(db)
}

/// The app binary run directly (not through WebDriver), logging beside `db`.
fn run_app(db: &Path, args: &[&str]) -> Result<Output> {
    Ok(bounded_command(&app_binary()?)
        .args(args)
        .env("SHOPSYNC_DB", db)
        .env("SHOPSYNC_LOG_DIR", log_dir(db))
        .output()?)
}

/// What `shopsync-app --version` prints.
fn version_line(db: &Path) -> Result<String> {
    let out = run_app(db, &["--version"])?;
    ensure!(out.status.success(), "--version failed: {}", failure(&out));
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Everything in the app's log files so far.
fn log_text(dir: &Path) -> Result<String> {
    let mut text = String::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("shopsync-app.") && name.ends_with(".log") {
            text.push_str(&std::fs::read_to_string(&p)?);
        }
    }
    Ok(text)
}

#[tokio::test]
#[ignore = "needs the built app: run scripts/e2e.sh"]
async fn version_flag_prints_the_build_and_touches_nothing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("never.db");
    let long = version_line(&db)?;
    let short = run_app(&db, &["-V"])?;
    ensure!(short.status.success(), "-V failed: {}", failure(&short));
    assert_eq!(String::from_utf8_lossy(&short.stdout).trim(), long);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        long.starts_with(&format!("shopsync-app {version} (commit ")) && long.contains(", built "),
        "{long}"
    );
    // No store, no lock file, no log folder: nothing was touched.
    let left: Vec<_> = std::fs::read_dir(dir.path())?.collect();
    assert!(left.is_empty(), "--version left files behind: {left:?}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run scripts/e2e.sh"]
async fn about_shows_the_build_and_diagnostics_name_it_and_the_store() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = store(dir.path(), "till.db")?;
    let printed = version_line(&db)?;
    let mut app = App::launch(&db).await?;
    let result = async {
        app.nav("settings").await?;
        let version = app.wait_text("about-version", |t| !t.is_empty()).await?;
        let commit = app.text("about-commit").await?;
        let built = app.text("about-build-date").await?;
        assert_eq!(
            printed,
            format!("shopsync-app {version} (commit {commit}, built {built})"),
            "About and --version disagree"
        );
        let db_shown = app.text("about-db-path").await?;
        assert_eq!(Path::new(&db_shown), db.as_path());
        let logs_shown = app.text("about-log-dir").await?;
        assert_eq!(Path::new(&logs_shown), app.log_dir().as_path());

        app.click("copy-diagnostics").await?;
        let text = app
            .wait_text("diagnostics-text", |t| t.contains("ShopSync diagnostics"))
            .await?;
        assert!(text.contains(&printed), "{text}");
        assert!(text.contains(&db.display().to_string()), "{text}");
        assert!(text.contains("store: Corner Shop"), "{text}");
        assert!(text.contains("device role: not enrolled"), "{text}");
        // The log's last lines, this launch's start among them.
        assert!(text.contains("--- last "), "{text}");
        assert!(text.contains(&format!("{printed} starting")), "{text}");
        // The clipboard took it (Xvfb has an X clipboard).
        app.wait_text("message-text", |t| t.contains("Diagnostics copied"))
            .await?;
        app.screenshot("settings-about").await?;

        // The log file is in the log folder, and what the UI reports as
        // a failure (its panic hook calls this command) lands in it.
        let logged = log_text(&app.log_dir())?;
        assert!(logged.contains(&format!("{printed} starting")), "{logged}");
        app.client
            .execute(
                "window.__TAURI__.core.invoke('report_ui_error', \
                 { req: { message: 'e2e probe: a UI failure' } }); return true;",
                vec![],
            )
            .await?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !log_text(&app.log_dir())?.contains("e2e probe: a UI failure") {
            ensure!(
                Instant::now() < deadline,
                "the UI's error never reached the log file"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
    .await;
    app.stop().await;
    result
}

#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run scripts/e2e.sh"]
async fn a_second_launch_on_the_same_store_hands_over_and_exits() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = store(dir.path(), "till.db")?;
    let other = store(dir.path(), "other.db")?;
    let mut first = App::launch(&db).await?;
    let mut second_store: Option<App> = None;
    let result = async {
        let started = Instant::now();
        let out = run_app(&db, &["--db", &db.display().to_string()])?;
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        ensure!(
            out.status.success(),
            "the second launch failed: {}",
            failure(&out)
        );
        ensure!(
            took < Duration::from_secs(10),
            "the second launch took {took:?} to hand over"
        );
        ensure!(stderr.contains("handed over"), "stderr: {stderr}");

        // The first app was asked to show its window, and still runs.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if log_text(&first.log_dir())?
                .contains("another launch on this store: showing this window")
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("the first app never logged the handover");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        first.nav("settings").await?;
        first.wait_text("about-db-path", |t| !t.is_empty()).await?;

        // Another store runs side by side.
        let app = second_store.insert(App::launch(&other).await?);
        app.nav("settings").await?;
        let shown = app.wait_text("about-db-path", |t| !t.is_empty()).await?;
        assert_eq!(Path::new(&shown), other.as_path());
        Ok(())
    }
    .await;
    if let Some(mut a) = second_store {
        a.stop().await;
    }
    first.stop().await;
    result
}
