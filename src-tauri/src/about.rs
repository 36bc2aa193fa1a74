//! What this build is: name, version, commit and build date (stamped by
//! `build.rs`), and the platform it runs on. `--version` prints it;
//! Settings → About shows it with the till's file locations.

use std::path::Path;

use shopsync_types::ipc::AboutView;

pub const NAME: &str = env!("CARGO_PKG_NAME");
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("SHOPSYNC_BUILD_COMMIT");
pub const BUILD_DATE: &str = env!("SHOPSYNC_BUILD_DATE");

/// What `--version` prints: `shopsync-app 0.1.0 (commit abc1234, built 2026-12-02)`.
pub fn version_line() -> String {
    format!("{NAME} {VERSION} (commit {COMMIT}, built {BUILD_DATE})")
}

/// Whether the command line asks for the version (`--version` or `-V`).
/// Only before a `--`-less value is taken: `--db -V` opens a store named `-V`.
pub fn wants_version(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        if a == "--db" {
            args.next();
        } else if a == "--version" || a == "-V" {
            return true;
        }
    }
    false
}

/// The operating system (its release name where the OS tells it) and the
/// CPU architecture, e.g. `Debian GNU/Linux 13 (trixie) (linux x86_64)`.
pub fn platform() -> String {
    let base = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    match os_release_name() {
        Some(name) => format!("{name} ({base})"),
        None => base,
    }
}

/// `PRETTY_NAME` from os-release on Linux; None elsewhere or when absent.
fn os_release_name() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .ok()?;
    pretty_name(&text)
}

fn pretty_name(os_release: &str) -> Option<String> {
    os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// Settings → About.
pub fn view(db_path: &Path, log_dir: Option<&Path>) -> AboutView {
    AboutView {
        name: NAME.to_string(),
        version: VERSION.to_string(),
        commit: COMMIT.to_string(),
        build_date: BUILD_DATE.to_string(),
        platform: platform(),
        db_path: db_path.display().to_string(),
        log_dir: log_dir.map(|d| d.display().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<std::ffi::OsString> {
        a.iter().map(Into::into).collect()
    }

    #[test]
    fn version_flags_are_found_but_not_as_a_store_name() {
        assert!(wants_version(args(&["--version"])));
        assert!(wants_version(args(&["--db", "x.db", "-V"])));
        assert!(!wants_version(args(&["--db", "-V"])));
        assert!(!wants_version(args(&[])));
    }

    #[test]
    fn version_line_names_the_build() {
        let line = version_line();
        assert!(line.starts_with(&format!("{NAME} {VERSION} (commit ")));
        assert!(line.contains(BUILD_DATE));
        assert!(!COMMIT.is_empty());
    }

    #[test]
    fn pretty_name_is_read_unquoted() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\n";
        assert_eq!(
            pretty_name(text).as_deref(),
            Some("Debian GNU/Linux 13 (trixie)")
        );
        assert_eq!(pretty_name("ID=x\n"), None);
    }
}
