//! Where a store lives by default, shared by the app and the command line so
//! both open the same file (they used to default to `till.db` and
//! `shopsync.db` side by side, and the CLI never saw the app's store).

use std::path::{Path, PathBuf};

/// The default store file's name.
pub const STORE_FILE: &str = "shopsync.db";
/// The name the app used before both shared one file.
pub const LEGACY_APP_FILE: &str = "till.db";

/// The default store file in `dir` (the platform data folder's `shopsync`):
/// `shopsync.db`, unless only the app's older `till.db` exists there, in
/// which case that file is the store (nothing is moved or copied).
pub fn default_store_file(dir: &Path) -> PathBuf {
    let current = dir.join(STORE_FILE);
    let legacy = dir.join(LEGACY_APP_FILE);
    if !current.exists() && legacy.exists() {
        legacy
    } else {
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_and_cli_share_one_file_and_an_older_app_store_is_found() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        assert_eq!(default_store_file(dir.path()), dir.path().join(STORE_FILE));
        std::fs::write(dir.path().join(LEGACY_APP_FILE), b"")?;
        assert_eq!(
            default_store_file(dir.path()),
            dir.path().join(LEGACY_APP_FILE)
        );
        std::fs::write(dir.path().join(STORE_FILE), b"")?;
        assert_eq!(default_store_file(dir.path()), dir.path().join(STORE_FILE));
        Ok(())
    }
}
