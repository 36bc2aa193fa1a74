//! The Tauri configuration lives at the repository top level
//! (`tauri.conf.json`); `src-tauri/tauri.conf.json` is a symlink to it, so
//! tauri-build, `generate_context!` and the Tauri CLI's bundler all read it
//! from here and resolve its paths (`../ui/dist`, `../icons/…`) from this
//! folder (see the comment in the root Cargo.toml).
//!
//! `generate_context!` embeds `ui/dist` and fails if it is missing. So that
//! a clean checkout still builds (clippy, `cargo test` of the workspace),
//! an absent `ui/dist` gets a one-page placeholder telling how to build the
//! real UI (`scripts/build-ui.sh`, which replaces the folder).
//!
//! It also stamps the build for `--version` and Settings → About (see
//! `build_info`): the git commit and the build date.

use std::path::Path;

const PLACEHOLDER: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>ShopSync</title></head>\
<body><h1>The ShopSync UI is not built</h1><p>Run <code>scripts/build-ui.sh</code> \
(or <code>scripts/run-app.sh</code>), then rebuild the app.</p></body></html>\n";

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    build_info();
    let dist = Path::new("../ui/dist");
    println!("cargo:rerun-if-changed=../ui/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(dist)?;
        std::fs::write(dist.join("index.html"), PLACEHOLDER)?;
    }
    check_config_link()?;
    refuse_placeholder_in_release(dist)?;
    let attrs = tauri_build::Attributes::new().config_path("./tauri.conf.json");
    tauri_build::try_build(attrs)?;
    Ok(())
}

/// A checkout without symlinks (Windows' default) turns
/// `src-tauri/tauri.conf.json` into a text file naming its target: say so,
/// instead of tauri-build's JSON parse error.
fn check_config_link() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let text = std::fs::read_to_string("tauri.conf.json")?;
    if !text.trim_start().starts_with('{') {
        return Err(format!(
            "src-tauri/tauri.conf.json is not the symlink to ../tauri.conf.json (it reads {:?}): \
             clone with symlinks (git clone -c core.symlinks=true; on Windows with Developer Mode on)",
            text.trim()
        )
        .into());
    }
    Ok(())
}

/// A build that embeds the UI (`tauri/custom-protocol`: the packages) must
/// not embed the placeholder page.
fn refuse_placeholder_in_release(
    dist: &Path,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // tauri's build script says whether this is a dev build.
    println!("cargo:rerun-if-env-changed=DEP_TAURI_DEV");
    let embedded = std::env::var("DEP_TAURI_DEV").is_ok_and(|v| v == "false");
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap_or_default();
    if embedded && index == PLACEHOLDER {
        return Err(
            "ui/dist holds the placeholder page, not the UI: run scripts/build-ui.sh first".into(),
        );
    }
    Ok(())
}

/// `SHOPSYNC_BUILD_COMMIT` and `SHOPSYNC_BUILD_DATE` for the app.
///
/// The commit: the `SHOPSYNC_BUILD_COMMIT` environment variable when set
/// (a package built from a source tarball passes it; set, it wins over
/// git), else `git rev-parse --short HEAD` when this is a git checkout,
/// else "unknown" — the build never fails for want of git. The date: `SOURCE_DATE_EPOCH` when set
/// (reproducible builds), else the day this script ran (it reruns when the
/// commit changes).
fn build_info() {
    println!("cargo:rerun-if-env-changed=SHOPSYNC_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let commit = std::env::var("SHOPSYNC_BUILD_COMMIT")
        .ok()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    // Rerun when HEAD moves: HEAD itself (a checkout) and the branch it
    // points at (a commit). `--git-path` finds both in a worktree too.
    for path in [
        Some("HEAD".to_string()),
        git(&["symbolic-ref", "-q", "HEAD"]),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(file) = git(&["rev-parse", "--git-path", &path]) {
            let file = Path::new(&file);
            if file.exists() {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
    }
    let date = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now)
        .format("%Y-%m-%d")
        .to_string();
    println!("cargo:rustc-env=SHOPSYNC_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=SHOPSYNC_BUILD_DATE={date}");
}

/// A git command's trimmed output, or None (no git, not a checkout).
fn git(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}
