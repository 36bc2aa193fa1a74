//! The Tauri configuration lives at the repository top level; point
//! tauri-build at it explicitly (see the comment in the root Cargo.toml).
//!
//! `generate_context!` embeds `ui/dist` and fails if it is missing. So that
//! a clean checkout still builds (clippy, `cargo test` of the workspace),
//! an absent `ui/dist` gets a one-page placeholder telling how to build the
//! real UI (`scripts/build-ui.sh`, which replaces the folder).

use std::path::Path;

const PLACEHOLDER: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>ShopSync</title></head>\
<body><h1>The ShopSync UI is not built</h1><p>Run <code>scripts/build-ui.sh</code> \
(or <code>scripts/run-app.sh</code>), then rebuild the app.</p></body></html>\n";

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dist = Path::new("../ui/dist");
    println!("cargo:rerun-if-changed=../ui/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(dist)?;
        std::fs::write(dist.join("index.html"), PLACEHOLDER)?;
    }
    let attrs = tauri_build::Attributes::new().config_path("../tauri.conf.json");
    tauri_build::try_build(attrs)?;
    Ok(())
}
