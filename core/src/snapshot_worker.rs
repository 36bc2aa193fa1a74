//! Snapshots and WAL checkpoints off the sale path.
//!
//! A sale commits its change and returns. Saving a document's snapshot
//! (Automerge `save`: ~85 ms for a 20k-record partition, several hundred
//! under load) and copying the WAL back into the database file (a checkpoint,
//! with its fsync) are done here instead, on two threads, each with its own
//! connection to the same file. WAL lets them read and checkpoint while the
//! till keeps writing; the snapshot thread takes the write lock only to
//! store a finished snapshot, which is one row.
//!
//! Checkpoints have a thread of their own so that saving a snapshot
//! (Automerge `save`, ~100 ms) does not pause them, and the till's own
//! connection checkpoints only far past SQLite's usual threshold
//! ([`crate::store`]): a sale's commit that checkpoints copies the WAL with
//! two fsyncs (the slowest sales selling back-to-back were those, 33–57 ms).
//! Loading the document for a snapshot is still a read transaction: until it
//! ends, checkpoints copy only what it can see.
//!
//! The worker builds a snapshot from what is on disk (the last snapshot plus
//! the changes stored after it), never from the till's document in memory,
//! so a snapshot only ever holds committed changes. Losing a snapshot (a
//! crash, an error) costs nothing but a longer next load: it is retried when
//! the document has grown by another [`crate::docs::SNAPSHOT_EVERY`] changes.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

use crate::db;
use crate::docs;
use crate::error::{CoreError, Result};

/// Ask for a checkpoint after this many commits (a 3-line sale writes
/// ~20-60 WAL pages).
pub const CHECKPOINT_EVERY_COMMITS: u32 = 8;

/// A WAL this long (512 MB of 4 KB pages) is logged: it has not started over
/// for a long time.
const LARGE_WAL_FRAMES: i64 = 131_072;

/// The checkpoint connection's page cache (KiB, SQLite's negative form).
const CHECKPOINT_CACHE_KIB: i64 = -1_000;

/// The worker waits this long for the write lock to store a snapshot, then
/// gives the snapshot up (a later one is asked for): it must never keep a
/// closing store waiting behind another process's long write.
const WRITE_WAIT: Duration = Duration::from_millis(250);

enum Job {
    Snapshot(String),
    Checkpoint,
    /// Answered once every job queued before it is done.
    Barrier(Sender<()>),
    /// Keeps the thread busy until the sender is dropped or sends.
    #[cfg(test)]
    Hold(Receiver<()>),
}

pub struct Background {
    jobs: Option<Sender<Job>>,
    checkpoints: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
    stopping: Arc<AtomicBool>,
}

impl Background {
    /// Opens two more connections to the store at `path` and starts the
    /// snapshot and the checkpoint threads on them.
    pub fn start(path: &Path, till_id: &str) -> Result<Background> {
        let conn = open(path, till_id)?;
        let checkpoint_conn = open(path, till_id)?;
        // A checkpoint copies through a page-sized buffer, not the cache.
        checkpoint_conn.pragma_update(None, "cache_size", CHECKPOINT_CACHE_KIB)?;
        // Only the checkpoint thread checkpoints: SQLite's own checkpoint
        // after the snapshot thread's commits (the WAL is past 1,000 pages
        // whenever sales come fast) would copy and fsync there too, and take
        // the lock the checkpoint thread needs.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        checkpoint_conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (jobs, queue) = channel();
        let (checkpoints, checkpoint_queue) = channel();
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        let checkpointer = std::thread::Builder::new()
            .name("shopsync-checkpoints".into())
            .spawn(move || run(&checkpoint_conn, &checkpoint_queue, None, &stop))
            .map_err(|e| CoreError::io("cannot start the checkpoint thread".to_string(), e))?;
        let stop = stopping.clone();
        // A stored snapshot is MBs of WAL: copied without waiting for the
        // next sales to ask.
        let after_snapshot = checkpoints.clone();
        let snapshots = std::thread::Builder::new()
            .name("shopsync-snapshots".into())
            .spawn(move || run(&conn, &queue, Some(&after_snapshot), &stop))
            .map_err(|e| CoreError::io("cannot start the snapshot thread".to_string(), e))?;
        Ok(Background {
            jobs: Some(jobs),
            checkpoints: Some(checkpoints),
            threads: vec![snapshots, checkpointer],
            stopping,
        })
    }

    /// Whether a thread has stopped (it panicked).
    pub fn is_finished(&self) -> bool {
        self.threads.is_empty() || self.threads.iter().any(JoinHandle::is_finished)
    }

    /// Queues snapshots of these documents. `false` if the worker is gone.
    pub fn snapshot(&self, doc_ids: Vec<String>) -> bool {
        doc_ids.into_iter().all(|d| self.send(Job::Snapshot(d)))
    }

    /// Queues a WAL checkpoint. `false` if the worker is gone.
    pub fn checkpoint(&self) -> bool {
        self.checkpoints
            .as_ref()
            .is_some_and(|j| j.send(Job::Checkpoint).is_ok())
    }

    /// Waits until every job queued so far is done.
    pub fn wait_idle(&self) {
        for queue in [&self.jobs, &self.checkpoints].into_iter().flatten() {
            let (done, wait) = channel();
            if queue.send(Job::Barrier(done)).is_ok() {
                let _ = wait.recv();
            }
        }
    }

    fn send(&self, job: Job) -> bool {
        self.jobs.as_ref().is_some_and(|j| j.send(job).is_ok())
    }
}

impl Drop for Background {
    /// Lets the jobs in progress finish, drops the rest (a snapshot not
    /// written costs only a longer next load) and stops both threads.
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.jobs.take();
        self.checkpoints.take();
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!("a background thread of the store panicked");
            }
        }
    }
}

/// A connection to the same store: never creating a file, and refusing one
/// whose till is not `till_id` (the file was replaced since the store
/// opened).
fn open(path: &Path, till_id: &str) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    db::configure(&conn)?;
    conn.busy_timeout(WRITE_WAIT)?;
    // A snapshot need not survive a power cut (the changes it sums up
    // are durable already): storing one does not wait for an fsync while
    // a sale waits for the write lock. (The next sale's fsync of the WAL
    // covers it; checkpoints sync the WAL and the file whatever this says.)
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let found: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'till_id'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if found.as_deref() != Some(till_id) {
        return Err(CoreError::Corrupt(format!(
            "{} is no longer this till's store",
            path.display()
        )));
    }
    Ok(conn)
}

fn run(
    conn: &Connection,
    queue: &Receiver<Job>,
    checkpoint_after_snapshot: Option<&Sender<Job>>,
    stopping: &AtomicBool,
) {
    let mut wal_was_large = false;
    while let Ok(first) = queue.recv() {
        if stopping.load(Ordering::Relaxed) {
            return;
        }
        // Everything queued meanwhile, once: a document asked for twice is
        // saved once, and one checkpoint covers every commit before it.
        let mut snapshots = BTreeSet::new();
        let mut checkpoint = false;
        let mut barriers = Vec::new();
        for job in std::iter::once(first).chain(queue.try_iter()) {
            match job {
                Job::Snapshot(doc) => {
                    snapshots.insert(doc);
                }
                Job::Checkpoint => checkpoint = true,
                Job::Barrier(done) => barriers.push(done),
                #[cfg(test)]
                Job::Hold(release) => {
                    let _ = release.recv();
                }
            }
        }
        for doc in snapshots {
            if stopping.load(Ordering::Relaxed) {
                return;
            }
            match snapshot(conn, &doc) {
                Ok(()) => {
                    if let Some(checkpoints) = checkpoint_after_snapshot {
                        let _ = checkpoints.send(Job::Checkpoint);
                    }
                }
                Err(e) => {
                    tracing::warn!("could not write a snapshot of {doc} (will retry later): {e}")
                }
            }
        }
        if checkpoint {
            match self::checkpoint(conn) {
                // -1: another connection was checkpointing; nothing known.
                Ok(frames) if frames < 0 => {}
                Ok(frames) => {
                    let large = frames >= LARGE_WAL_FRAMES;
                    if large && !wal_was_large {
                        tracing::warn!(
                            "the WAL holds {frames} pages not started over (sales without a pause, or a long reader of the file)"
                        );
                    }
                    wal_was_large = large;
                }
                Err(e) => tracing::warn!("WAL checkpoint failed (will retry): {e}"),
            }
        }
        for done in barriers {
            let _ = done.send(());
        }
    }
}

/// Loads the document as stored, in one read transaction (a consistent view
/// while the till writes), saves it and stores the snapshot.
fn snapshot(conn: &Connection, doc: &str) -> Result<()> {
    let mut loaded = {
        let read = conn.unchecked_transaction()?;
        let loaded = docs::load(&read, doc, None)?;
        read.finish()?;
        loaded
    };
    let bytes = loaded.doc.save();
    let write = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    docs::store_snapshot(&write, doc, &bytes, loaded.upto_seq)?;
    write.commit()?;
    Ok(())
}

/// Copies the WAL into the database file until caught up
/// ([`db::checkpoint_until_caught_up`]). The till's own connection
/// checkpoints only if the WAL reaches [`crate::store`]'s fallback threshold
/// (thousands of sales without a pause). Returns the WAL's length in pages.
fn checkpoint(conn: &Connection) -> Result<i64> {
    Ok(db::checkpoint_until_caught_up(
        conn,
        db::CHECKPOINT_CATCH_UP_ROUNDS,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_does_not_wait_for_a_snapshot_in_progress() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let store = crate::store::test_store(&dir.path().join("t.db"))?;
        // Only the worker copies the WAL here.
        store.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let worker = Background::start(store.path(), &store.info().till_id)?;
        let (release, hold) = channel();
        assert!(worker.send(Job::Hold(hold)), "the snapshot thread is busy");
        store.conn.execute_batch(
            "CREATE TABLE filler(x BLOB); INSERT INTO filler VALUES (zeroblob(1048576));",
        )?;
        let file_len = || std::fs::metadata(store.path()).map_or(0, |m| m.len());
        let before = file_len();
        let asked = worker.checkpoint();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let copied = loop {
            if file_len() >= before + (1 << 20) {
                break true;
            }
            if std::time::Instant::now() > deadline {
                break false;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // Released before asserting: a held thread would hang the drop.
        let _ = release.send(());
        assert!(asked);
        assert!(
            copied,
            "the write was not copied into the file while a snapshot was in progress"
        );
        worker.wait_idle();
        assert!(!worker.is_finished());
        Ok(())
    }
}
