//! A new till in seconds (issue 11): instead of downloading a large
//! store's changes one by one and projecting each, a new till downloads the
//! server's ready-made copy of the store (`GET /v1/snapshot`) — a till's
//! own store file, kept by the server (`shopsync_server::snapshots`) with
//! every change up to a cursor, its projections and indexes built — makes it
//! its own (its identity and enrolment in place of the server's) and syncs
//! from the snapshot's cursor as usual.
//!
//! The file is downloaded next to the till's (`{file}.snapshot-download`), checked
//! against its length and SHA-256, and only then swapped in: a till stopped
//! before that keeps its new empty store, enrolled, and downloads the
//! changes at its next sync.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};
use shopsync_types::Progress;

use super::KEY_CURSOR;
use super::client::{Client, SyncError, network};
use super::epoch::{EPOCH_HEADER, KEY_EPOCH};
use crate::error::{CoreError, Result};
use crate::store::Store;

/// `GET` this path (with the device's token) for the store's snapshot.
pub const SNAPSHOT_PATH: &str = "/v1/snapshot";
/// Request: the newest till schema (`db::schema_version`) this till opens.
pub const SCHEMA_HEADER: &str = "shopsync-schema";
/// Answer: the server sequence number the snapshot holds every change up to.
pub const CURSOR_HEADER: &str = "shopsync-snapshot-cursor";
/// Answer: the file's SHA-256, lowercase hex.
pub const SHA256_HEADER: &str = "shopsync-snapshot-sha256";

/// A snapshot download may take this long, plus a second per
/// `SLOWEST_BYTES_PER_SEC` bytes; a slower link gives up on it (and
/// downloads the changes, fewer bytes).
const MIN_DEADLINE: Duration = Duration::from_secs(60);
const SLOWEST_BYTES_PER_SEC: u64 = 1_000_000;
/// Progress is told every this many bytes.
const PROGRESS_EVERY: u64 = 64 << 20;

/// What came with a downloaded snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub cursor: u64,
    pub epoch: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Where a till's snapshot is downloaded before it becomes the till's file.
pub fn download_path(till_file: &Path) -> PathBuf {
    let mut name = till_file.as_os_str().to_os_string();
    name.push(".snapshot-download");
    PathBuf::from(name)
}

/// Removes the snapshot download of the till file at `till_file`, if an
/// enrolment stopped before swapping it in left one.
pub(crate) fn remove_leftover(till_file: &Path) {
    let dest = download_path(till_file);
    if dest.exists() {
        tracing::info!(
            "removing {}, left by an enrolment that stopped",
            dest.display()
        );
        remove_sqlite_files(&dest);
    }
}

/// Removes a SQLite file and its WAL and shared-memory files.
fn remove_sqlite_files(path: &Path) {
    for suffix in ["-wal", "-shm", ""] {
        let mut p = path.as_os_str().to_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

fn damaged(why: String) -> SyncError {
    SyncError::Network(format!("the store's snapshot arrived damaged: {why}"))
}

fn header<'a>(resp: &'a reqwest::blocking::Response, name: &str) -> Result<&'a str, SyncError> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| damaged(format!("the answer has no {name} header")))
}

/// A download being written: removed when dropped unless `done`.
struct Partial<'a> {
    path: &'a Path,
    done: bool,
}

impl Drop for Partial<'_> {
    fn drop(&mut self) {
        if !self.done {
            remove_sqlite_files(self.path);
        }
    }
}

/// Empties the WAL of `conn` into its file; an error unless all of it went.
fn checkpoint_all(conn: &Connection) -> Result<()> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    if busy != 0 {
        return Err(CoreError::Conflict(
            "another connection holds the file: its WAL could not be emptied".into(),
        ));
    }
    Ok(())
}

/// The `Content-Length` an answer names (a `HEAD` answer has no body to
/// measure).
fn declared_length(resp: &reqwest::blocking::Response) -> Result<u64, SyncError> {
    header(resp, reqwest::header::CONTENT_LENGTH.as_str())?
        .parse()
        .map_err(|_| damaged("its length is not a number".into()))
}

impl Client {
    /// One snapshot request; `None` for 404 (no snapshot for this till).
    fn snapshot_request(
        &self,
        method: reqwest::Method,
        deadline: Duration,
    ) -> Result<Option<reqwest::blocking::Response>, SyncError> {
        let resp = self
            .auth(
                self.http
                    .request(method, format!("{}{SNAPSHOT_PATH}", self.base))
                    .header(SCHEMA_HEADER, crate::db::schema_version().to_string())
                    .timeout(deadline),
            )
            .send()
            .map_err(network)?;
        if resp.status().as_u16() == 404 {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(Client::refused(resp));
        }
        Ok(Some(resp))
    }

    /// Downloads the store's snapshot to `dest` (replaced if it exists),
    /// checking its length and SHA-256. `Ok(None)`: the server has none for
    /// this till (none yet, snapshots off, or made by a newer version).
    pub fn download_snapshot(
        &self,
        dest: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<SnapshotInfo>, SyncError> {
        // Its length first: the download's deadline grows with it.
        let Some(head) = self.snapshot_request(reqwest::Method::HEAD, MIN_DEADLINE)? else {
            return Ok(None);
        };
        let len = declared_length(&head)?;
        let deadline = MIN_DEADLINE + Duration::from_secs(len / SLOWEST_BYTES_PER_SEC);
        let Some(mut resp) = self.snapshot_request(reqwest::Method::GET, deadline)? else {
            return Ok(None);
        };
        let cursor: u64 = header(&resp, CURSOR_HEADER)?
            .parse()
            .map_err(|_| damaged(format!("{CURSOR_HEADER} is not a number")))?;
        let epoch = header(&resp, EPOCH_HEADER)?.to_string();
        let sha256 = header(&resp, SHA256_HEADER)?.to_ascii_lowercase();
        let bytes = declared_length(&resp)?;
        remove_sqlite_files(dest);
        let io = |e: std::io::Error| {
            SyncError::Core(CoreError::io(format!("cannot write {}", dest.display()), e))
        };
        let mut file = std::fs::File::create_new(dest).map_err(io)?;
        // Whatever stops the download below removes what it wrote.
        let mut partial = Partial {
            path: dest,
            done: false,
        };
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut done = 0u64;
        let mut told = 0u64;
        loop {
            let n = resp
                .read(&mut buf)
                .map_err(|e| SyncError::Network(format!("the snapshot download broke off: {e}")))?;
            if n == 0 {
                break;
            }
            done += n as u64;
            if done > bytes {
                break;
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).map_err(io)?;
            if done - told >= PROGRESS_EVERY {
                told = done;
                progress(Progress {
                    stage: "downloading the store".into(),
                    done,
                    total: bytes,
                });
            }
        }
        let got: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if done != bytes || got != sha256 {
            return Err(damaged(format!(
                "{done} of {bytes} bytes, SHA-256 {got} (the server said {sha256})"
            )));
        }
        file.sync_all().map_err(io)?;
        partial.done = true;
        progress(Progress {
            stage: "downloading the store".into(),
            done,
            total: bytes,
        });
        Ok(Some(SnapshotInfo {
            cursor,
            epoch,
            bytes,
            sha256,
        }))
    }
}

impl Store {
    /// Makes the snapshot downloaded to `file` this till's store: the
    /// snapshot keeps its documents, projections, cursor and server epoch;
    /// this store gives its identity and enrolment (till id and name,
    /// device, token, role, the first actor). Returns the store opened on
    /// its file, now the snapshot. On an error the file at this store's
    /// path is still a whole store — this one as it was, or already the
    /// snapshot — and the caller opens it again.
    pub fn adopt_snapshot(self, file: &Path, info: &SnapshotInfo) -> Result<Store> {
        let path = self.path.clone();
        let adopted = self
            .prepare_snapshot(file, info)
            .and_then(|()| self.swap_in(file));
        if adopted.is_err() {
            remove_sqlite_files(file);
        }
        adopted?;
        Store::open(&path)
    }

    /// Writes this store's identity and enrolment into the snapshot at `file`.
    fn prepare_snapshot(&self, file: &Path, info: &SnapshotInfo) -> Result<()> {
        // Migrates a snapshot made by an older server; refuses a newer one.
        let mut snap = crate::db::open(file)?;
        let get = |conn: &Connection, key: &str| -> Result<Option<String>> {
            use rusqlite::OptionalExtension;
            Ok(conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        };
        let store_id = get(&snap, "store_id")?;
        if store_id.as_deref() != Some(self.info.store_id.as_str()) {
            return Err(CoreError::Conflict(format!(
                "the server's snapshot is of store {}, this till belongs to store {}",
                store_id.unwrap_or_default(),
                self.info.store_id
            )));
        }
        let cursor = get(&snap, KEY_CURSOR)?;
        let epoch = get(&snap, KEY_EPOCH)?;
        if cursor != Some(info.cursor.to_string()) || epoch.as_deref() != Some(info.epoch.as_str())
        {
            return Err(CoreError::Corrupt(format!(
                "the snapshot holds cursor {cursor:?} of epoch {epoch:?}, the server said {} of {}",
                info.cursor, info.epoch
            )));
        }
        let mine: Vec<(String, String)> = {
            let mut stmt = self.conn.prepare("SELECT key, value FROM meta")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let tx = snap.transaction()?;
        // The server's own sync state goes; its cursor and epoch stay (what
        // the file holds), and so do clocks (the latest stamps it has seen).
        tx.execute(
            "DELETE FROM meta WHERE key LIKE 'sync.%' AND key NOT IN (?1, ?2)",
            params![KEY_CURSOR, KEY_EPOCH],
        )?;
        {
            let mut put = tx.prepare(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?;
            for (key, value) in &mine {
                if key == KEY_CURSOR || key == KEY_EPOCH || key.starts_with("clock.") {
                    continue;
                }
                put.execute(params![key, value])?;
            }
        }
        // Everything in it came from the server.
        tx.execute("UPDATE doc_changes SET acked = 1 WHERE acked = 0", [])?;
        tx.commit()?;
        checkpoint_all(&snap)?;
        snap.close().map_err(|(_, e)| CoreError::from(e))?;
        let synced = std::fs::File::open(file).and_then(|f| f.sync_all());
        synced.map_err(|e| CoreError::io(format!("cannot sync {}", file.display()), e))
    }

    /// Closes this store and puts `file` in its place.
    fn swap_in(self, file: &Path) -> Result<()> {
        let path = self.path.clone();
        // Everything of the old file in the file itself, so its WAL can go:
        // a stale WAL next to the new file would be read into it.
        checkpoint_all(&self.conn)?;
        drop(self);
        for suffix in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_os_string();
            p.push(suffix);
            match std::fs::remove_file(PathBuf::from(&p)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(CoreError::io(
                        format!("cannot remove {}", p.to_string_lossy()),
                        e,
                    ));
                }
            }
        }
        // The snapshot's own WAL was emptied and removed when it closed.
        let mut wal = file.as_os_str().to_os_string();
        wal.push("-wal");
        if std::fs::metadata(PathBuf::from(&wal)).is_ok_and(|m| m.len() > 0) {
            return Err(CoreError::Conflict(format!(
                "{} still has a write-ahead log",
                file.display()
            )));
        }
        std::fs::rename(file, &path).map_err(|e| {
            CoreError::io(
                format!("cannot move {} to {}", file.display(), path.display()),
                e,
            )
        })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = std::fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Store {
    /// For the server's copy of a store that new tills download
    /// (`shopsync_server::snapshots`): syncs it through `feed` like a till.
    /// The first sync (cursor 0) is built as a new till's enrolment download
    /// is (indexes at the end, no fsync per page). Ends with the WAL emptied
    /// into the file, so that the file alone is the store.
    pub fn refresh_snapshot<T: super::client::Transport>(
        &mut self,
        feed: &T,
    ) -> Result<super::client::SyncReport, SyncError> {
        let first = self.sync_cursor()? == 0;
        if first {
            self.start_enrol_download();
        }
        let synced = self.sync_now(feed, &mut |_| {});
        let ended = self.end_enrol_download();
        let report = synced?;
        ended?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(CoreError::from)?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::InitOptions;

    fn shop(path: &Path, name: &str) -> Store {
        Store::init(
            path,
            InitOptions {
                store_name: name.into(),
                till_name: "T".into(),
                currency: "EUR".into(),
            },
        )
        .unwrap_or_else(|e| panic!("init {name}: {e}"))
    }

    #[test]
    fn a_download_left_by_a_stopped_enrolment_goes_at_the_next_open() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let path = dir.path().join("till.db");
        drop(shop(&path, "Corner Shop"));
        std::fs::write(download_path(&path), b"half a download")
            .map_err(|e| CoreError::io("write", e))?;
        drop(Store::open(&path)?);
        assert!(!download_path(&path).exists());
        Ok(())
    }

    #[test]
    fn another_stores_snapshot_changes_nothing() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let mine = dir.path().join("mine.db");
        let theirs = dir.path().join("theirs.db");
        let store = shop(&mine, "Corner Shop");
        let id = store.info().store_id.clone();
        drop(shop(&theirs, "Other Shop"));
        let file = download_path(&mine);
        std::fs::copy(&theirs, &file).map_err(|e| CoreError::io("copy", e))?;
        let info = SnapshotInfo {
            cursor: 0,
            epoch: String::new(),
            bytes: 0,
            sha256: String::new(),
        };
        let err = store.adopt_snapshot(&file, &info).err();
        assert!(
            matches!(&err, Some(CoreError::Conflict(m)) if m.contains("this till belongs to store")),
            "{err:?}"
        );
        assert!(!file.exists(), "the refused snapshot is removed");
        let store = Store::open(&mine)?;
        assert_eq!(store.info().store_id, id);
        assert_eq!(store.info().store_name, "Corner Shop");
        Ok(())
    }
}
