//! Files the server embeds with include_dir!, which cargo does not track:
//! the migrations, and the customer's web app (src/web_app.rs), copied
//! here into `$OUT_DIR/customer-web/` with gzip twins made once, at build
//! time, rather than on every request.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Files of these kinds larger than this get a `name.gz` twin.
const GZIP_MIN_BYTES: u64 = 1024;
const GZIP_EXTENSIONS: &[&str] = &[
    "html",
    "js",
    "mjs",
    "css",
    "json",
    "webmanifest",
    "svg",
    "txt",
    "wasm",
];

const PLACEHOLDER: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ShopSync</title>
</head>
<body>
<h1>ShopSync</h1>
<p>The customer app was not built into this server: run
<code>scripts/build-customer-web.sh</code>, then rebuild the server.</p>
</body>
</html>
"#;

/// Printed as is when the build script fails (a `String` would be quoted).
struct BuildError(String);

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T> = std::result::Result<T, BuildError>;

fn io<T>(r: std::io::Result<T>, what: &str, path: &Path) -> Result<T> {
    r.map_err(|e| BuildError(format!("cannot {what} {}: {e}", path.display())))
}

fn env(name: &str) -> Result<PathBuf> {
    std::env::var_os(name)
        .map(PathBuf::from)
        .ok_or_else(|| BuildError(format!("cargo did not set {name}")))
}

fn main() -> Result<()> {
    println!("cargo:rerun-if-changed=../migrations/server-sqlite");
    println!("cargo:rerun-if-changed=../migrations/server-postgres");
    let manifest_dir = env("CARGO_MANIFEST_DIR")?;
    let out = env("OUT_DIR")?.join("customer-web");
    embed_customer_web(&manifest_dir, &out)
}

fn embed_customer_web(manifest_dir: &Path, out: &Path) -> Result<()> {
    let crate_dir = manifest_dir.join("../customer-web");
    let dist = crate_dir.join("dist");
    // Start empty: a file gone from dist must not linger in the binary.
    if out.exists() {
        io(fs::remove_dir_all(out), "remove", out)?;
    }
    io(fs::create_dir_all(out), "create", out)?;
    if dist.join("index.html").is_file() {
        println!("cargo:rerun-if-changed={}", dist.display());
        for file in files_under(&dist)? {
            println!("cargo:rerun-if-changed={}", file.display());
            let rel = file
                .strip_prefix(&dist)
                .map_err(|e| BuildError(format!("{}: {e}", file.display())))?;
            let to = out.join(rel);
            if let Some(parent) = to.parent() {
                io(fs::create_dir_all(parent), "create", parent)?;
            }
            io(fs::copy(&file, &to), "copy", &file)?;
        }
    } else {
        // A path that does not exist would make cargo rerun this script,
        // and rebuild the server, on every build: watch the nearest folder
        // that exists, whose contents change when dist appears (the
        // workspace manifest changes when the customer-web crate is added).
        let watch = if dist.is_dir() {
            dist
        } else if crate_dir.is_dir() {
            crate_dir
        } else {
            manifest_dir.join("../Cargo.toml")
        };
        println!("cargo:rerun-if-changed={}", watch.display());
        let index = out.join("index.html");
        io(fs::write(&index, PLACEHOLDER), "write", &index)?;
    }
    for file in files_under(out)? {
        gzip_twin(&file)?;
    }
    Ok(())
}

/// Every file below `dir`, sorted; names starting with a dot are left out
/// (nothing hidden gets served by accident).
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in io(fs::read_dir(dir), "read the folder", dir)? {
        let path = io(entry, "read the folder", dir)?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        // metadata, not the entry's file type: follows symlinks.
        let meta = io(fs::metadata(&path), "read", &path)?;
        if meta.is_dir() {
            files.extend(files_under(&path)?);
        } else if meta.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn gzip_twin(file: &Path) -> Result<()> {
    let compressible = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| GZIP_EXTENSIONS.contains(&e));
    let len = io(fs::metadata(file), "read", file)?.len();
    if !compressible || len <= GZIP_MIN_BYTES {
        return Ok(());
    }
    let data = io(fs::read(file), "read", file)?;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    io(enc.write_all(&data), "compress", file)?;
    let gz = io(enc.finish(), "compress", file)?;
    if gz.len() < data.len() {
        let mut name = file.as_os_str().to_owned();
        name.push(".gz");
        let twin = PathBuf::from(name);
        io(fs::write(&twin, gz), "write", &twin)?;
    }
    Ok(())
}
