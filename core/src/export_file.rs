//! Files the till writes for people (a products CSV, a bundle for a new
//! till): all or nothing, and never over the store itself.
//!
//! The content goes to a fresh temporary file in the target's folder, is
//! synced, and is renamed over the target, so a full disk or a crash leaves
//! the previous file (or none), never a half-written one; the temporary
//! file is removed on any error. A target that is the store file or one of
//! SQLite's companions (`-wal`, `-shm`, `-journal`) is refused before
//! anything is written: a save picker pointed at them would destroy the shop.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{CoreError, Result};

/// Writes `target` through `write`, atomically; refuses the store's files.
pub(crate) fn write_export<T>(
    store: &Path,
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    refuse_store_files(store, target)?;
    let dir = folder(target);
    let cannot = |e: std::io::Error| CoreError::io(format!("cannot write {}", target.display()), e);
    let tmp = tempfile::Builder::new()
        .prefix(".shopsync-export-")
        .suffix(".partial")
        .tempfile_in(&dir)
        .map_err(cannot)?;
    let mut out = BufWriter::new(tmp.as_file());
    let value = write(&mut out)?;
    out.flush().map_err(cannot)?;
    drop(out);
    tmp.as_file().sync_all().map_err(cannot)?;
    tmp.persist(target).map_err(|e| cannot(e.error))?;
    sync_folder(&dir);
    Ok(value)
}

/// The folder a path lies in (`.` for a bare name).
fn folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The path with its folder resolved (links, `..`), the file itself may not
/// exist yet.
fn resolved(path: &Path) -> PathBuf {
    let dir = folder(path);
    let dir = dir.canonicalize().unwrap_or(dir);
    match path.file_name() {
        Some(name) => dir.join(name),
        None => dir,
    }
}

fn refuse_store_files(store: &Path, target: &Path) -> Result<()> {
    // A target that is a link to the store is the store.
    let target = target.canonicalize().unwrap_or_else(|_| resolved(target));
    let store = resolved(store);
    let store_name = store.as_os_str().to_os_string();
    let companions = ["", "-wal", "-shm", "-journal"].map(|suffix| {
        let mut name = store_name.clone();
        name.push(suffix);
        PathBuf::from(name)
    });
    if companions.contains(&target) {
        return Err(CoreError::invalid(
            "file",
            format!(
                "{} is the store itself: choose another file to write to",
                target.display()
            ),
        ));
    }
    Ok(())
}

/// Makes the rename itself durable (POSIX); Windows has no folder handle
/// to sync and its rename is already journaled.
fn sync_folder(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_no_temporary() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let store = dir.path().join("shop.db");
        let target = dir.path().join("products.csv");
        std::fs::write(&target, "old").map_err(|e| CoreError::io("write", e))?;
        let failed = write_export(&store, &target, |w| {
            w.write_all(b"half")
                .map_err(|e| CoreError::io("write", e))?;
            Err::<(), _>(CoreError::invalid("x", "stopped half-way"))
        });
        assert!(failed.is_err());
        assert_eq!(
            std::fs::read_to_string(&target).ok().as_deref(),
            Some("old")
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .map_err(|e| CoreError::io("read_dir", e))?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "a temporary file was left: {names:?}");

        write_export(&store, &target, |w| {
            w.write_all(b"new").map_err(|e| CoreError::io("write", e))
        })?;
        assert_eq!(
            std::fs::read_to_string(&target).ok().as_deref(),
            Some("new")
        );
        Ok(())
    }

    #[test]
    fn the_store_and_its_companions_are_refused() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let store = dir.path().join("shop.db");
        std::fs::write(&store, "the shop").map_err(|e| CoreError::io("write", e))?;
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).map_err(|e| CoreError::io("mkdir", e))?;
        for target in [
            store.clone(),
            dir.path().join("shop.db-wal"),
            dir.path().join("shop.db-shm"),
            sub.join("../shop.db"),
        ] {
            let r = write_export(&store, &target, |w| {
                w.write_all(b"x").map_err(|e| CoreError::io("write", e))
            });
            assert!(r.is_err(), "{} was not refused", target.display());
        }
        assert_eq!(
            std::fs::read_to_string(&store).ok().as_deref(),
            Some("the shop")
        );
        assert!(!dir.path().join("shop.db-wal").exists());
        Ok(())
    }
}
