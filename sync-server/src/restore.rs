//! A restored or cloned till, and a restored server (issue 7, parts 1 and 5).
//!
//! - Every stored change keeps its Automerge actor and sequence number; a
//!   change that would fork an actor (same document, actor and seq as a
//!   stored change, other hash) is refused with `409` and never stored.
//! - The database has an **epoch**, its identity for one lifetime. `backup`
//!   gives the copy a fresh epoch and `restore` gives the restored file
//!   another, so a till that meets a new epoch knows its cursor and its
//!   acknowledgements are no longer true and sends everything again.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::storage::{StorageError, StorageResult};

/// The response header carrying the server's epoch.
pub const EPOCH_HEADER: &str = shopsync_core::sync::epoch::EPOCH_HEADER;

/// The epoch of the database on `conn` (created by the migration).
pub fn epoch(conn: &Connection) -> StorageResult<String> {
    conn.query_row(
        "SELECT value FROM server_meta WHERE key = 'epoch'",
        [],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| StorageError::Backend("the database has no epoch".into()))
}

/// Gives the database a new epoch; returns it.
pub fn new_epoch(conn: &Connection) -> StorageResult<String> {
    let epoch = uuid::Uuid::new_v4().simple().to_string();
    conn.execute(
        "INSERT INTO server_meta (key, value) VALUES ('epoch', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [&epoch],
    )?;
    Ok(epoch)
}

/// Gives the database file at `path` (a backup, not in use) a new epoch.
pub fn new_epoch_in_file(path: &Path) -> StorageResult<String> {
    let conn = Connection::open(path)?;
    new_epoch(&conn)
}

/// Fills in actor and seq of changes stored before they were recorded
/// (a database from before migration 02-restore). Runs once; later opens
/// find nothing to do.
pub fn backfill_actors(conn: &mut Connection) -> StorageResult<u64> {
    let mut done = 0u64;
    loop {
        let tx = conn.transaction()?;
        let rows: Vec<(i64, Vec<u8>)> = {
            let mut stmt =
                tx.prepare("SELECT seq, bytes FROM changes WHERE actor IS NULL LIMIT 1000")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        if rows.is_empty() {
            return Ok(done);
        }
        {
            let mut set =
                tx.prepare("UPDATE changes SET actor = ?1, actor_seq = ?2 WHERE seq = ?3")?;
            for (seq, bytes) in rows {
                // Bounded: an old server may hold a decompression bomb; such
                // a row is marked (empty actor) instead of stopping start-up.
                match shopsync_core::change_bytes::decode_change_bounded(
                    &bytes,
                    shopsync_core::change_bytes::MAX_INFLATED_CHANGE_BYTES,
                ) {
                    Ok(change) => set.execute(params![
                        change.actor_id().to_bytes(),
                        change.seq() as i64,
                        seq
                    ])?,
                    Err(e) => {
                        tracing::warn!("stored change {seq} does not decode ({e}); not indexed");
                        set.execute(params![Vec::<u8>::new(), -1i64, seq])?
                    }
                };
                done += 1;
            }
        }
        tx.commit()?;
    }
}

/// Refuses `hash` if the document already has another change by the same
/// actor with the same seq. `Ok` when there is none or it is this change.
pub fn check_fork(
    conn: &Connection,
    doc_pk: i64,
    doc_id: &str,
    actor: &[u8],
    actor_seq: u64,
    hash: &[u8; 32],
) -> StorageResult<()> {
    let stored: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT hash FROM changes WHERE doc_pk = ?1 AND actor = ?2 AND actor_seq = ?3",
        )?
        .query_row(params![doc_pk, actor, actor_seq as i64], |r| r.get(0))
        .optional()?;
    match stored {
        Some(h) if h.as_slice() != hash.as_slice() => Err(fork_error(doc_id, actor, actor_seq)),
        _ => Ok(()),
    }
}

/// The `409` for a change that forks an actor.
pub fn fork_error(doc_id: &str, actor: &[u8], actor_seq: u64) -> StorageError {
    StorageError::Conflict(format!(
        "forked actor: document {doc_id} already has change {actor_seq} of actor {} with other content; \
         this till's file was restored from a backup or copied from another till while an older version \
         reused its actor. The change is refused and was not stored; the till keeps its sales locally",
        crate::sqlite::hex(actor)
    ))
}

/// Puts the backup at `backup` in place of the database at `db` (the server
/// must be stopped), removing stale WAL files, and gives it a new epoch.
pub fn restore_file(backup: &Path, db: &Path) -> StorageResult<String> {
    if !backup.is_file() {
        return Err(StorageError::NotFound(format!(
            "no backup at {}",
            backup.display()
        )));
    }
    // A backup of a file migrate-storage moved would replace the live
    // database with one no server opens: refuse before touching anything.
    {
        let b = Connection::open_with_flags(backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        crate::sqlite::refuse_moved(&b).map_err(|e| {
            StorageError::Invalid(format!(
                "{} is a copy of a database moved to PostgreSQL, not a backup to restore: {e}",
                backup.display()
            ))
        })?;
    }
    let tmp = db.with_extension("restoring");
    std::fs::copy(backup, &tmp).map_err(|e| {
        StorageError::Backend(format!(
            "cannot copy {} to {}: {e}",
            backup.display(),
            tmp.display()
        ))
    })?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::rename(&tmp, db).map_err(|e| {
        StorageError::Backend(format!(
            "cannot move {} to {}: {e}",
            tmp.display(),
            db.display()
        ))
    })?;
    // Migrations (an old backup) run on open; then the new lifetime begins.
    let storage = crate::sqlite::SqliteStorage::open(db)?;
    drop(storage);
    let conn = Connection::open(db)?;
    new_epoch(&conn)
}

/// A sync request made for another lifetime of this database: the till
/// names an epoch that is not this one, or names this one with a cursor
/// past this database's head (a restored file that kept its epoch). Such a request
/// stores nothing (its changes may depend on changes this database lost)
/// and gets an empty answer carrying the current epoch and head; the till
/// then resets its cursor and sends everything again.
pub async fn stale_request<S: crate::storage::Storage>(
    st: &crate::AppState<S>,
    headers: &axum::http::HeaderMap,
    since: u64,
    store_pk: i64,
) -> Result<Option<axum::response::Response>, crate::error::ApiError> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    use shopsync_core::sync::wire::{self, SyncResponse};

    let epoch = st.storage.epoch();
    // A request that names no epoch (a device that has not seen one yet)
    // keeps version 1's rule: a cursor above the head counts as 0.
    let Some(named) = headers.get(EPOCH_HEADER) else {
        return Ok(None);
    };
    let other_epoch = named.to_str().map_or(true, |e| e != epoch);
    let head = st.storage.head(store_pk).await?;
    if !other_epoch && since <= head {
        return Ok(None);
    }
    tracing::info!(
        since,
        head,
        "a sync request from another server lifetime: answered empty"
    );
    let body = SyncResponse {
        version: wire::PROTOCOL_VERSION,
        cursor: 0,
        head,
        more: false,
        acked: Vec::new(),
        docs: Vec::new(),
    }
    .encode();
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(wire::CONTENT_TYPE),
        )],
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&epoch) {
        response.headers_mut().insert(EPOCH_HEADER, v);
    }
    Ok(Some(response))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ROOT};

    use super::*;

    /// A change by `actor` putting `value`.
    fn change(actor: &ActorId, value: i64) -> automerge::Change {
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        doc.put(ROOT, "x", value).unwrap();
        doc.get_last_local_change().unwrap().clone()
    }

    #[test]
    fn changes_stored_before_the_migration_get_their_actor_and_an_old_fork_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        drop(crate::sqlite::SqliteStorage::open(&path).unwrap());
        let actor = ActorId::random();
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                // Store pk 1000: a fresh database's pk 1 is the reserved
                // `~customers` row (migration 04-customers).
                "INSERT INTO stores (pk, store_id, name, created_at) VALUES (1000, 's', 'S', 0);
                 INSERT INTO documents (pk, store_pk, doc_id, heads) VALUES (1, 1000, 'd', x'');",
            )
            .unwrap();
            // As an older server stored them: no actor, and a fork.
            for v in [1, 2] {
                let mut c = change(&actor, v);
                conn.execute(
                    "INSERT INTO changes (store_pk, doc_pk, hash, bytes) VALUES (1000, 1, ?1, ?2)",
                    params![c.hash().0.as_slice(), c.bytes().to_vec()],
                )
                .unwrap();
            }
        }
        let storage = crate::sqlite::SqliteStorage::open(&path).unwrap();
        drop(storage);
        let conn = Connection::open(&path).unwrap();
        let filled: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM changes WHERE actor = ?1 AND actor_seq = 1",
                [actor.to_bytes()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(filled, 2);
        let third = change(&actor, 3);
        let err = check_fork(&conn, 1, "d", actor.to_bytes(), 1, &third.hash().0).unwrap_err();
        assert!(matches!(err, StorageError::Conflict(m) if m.contains("forked actor")));
    }

    #[test]
    fn a_backup_and_a_restore_each_start_a_new_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("live.db");
        let storage = crate::sqlite::SqliteStorage::open(&live).unwrap();
        let first = crate::storage::Storage::epoch(&storage);
        let backup = dir.path().join("backup.db");
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(crate::storage::Storage::backup(&storage, &backup))
            .unwrap();
        drop(storage);
        let in_backup = epoch(&Connection::open(&backup).unwrap()).unwrap();
        assert_ne!(in_backup, first);
        let restored = restore_file(&backup, &live).unwrap();
        assert_ne!(restored, in_backup);
        assert_ne!(restored, first);
        let reopened = crate::sqlite::SqliteStorage::open(&live).unwrap();
        assert_eq!(crate::storage::Storage::epoch(&reopened), restored);
    }
}
