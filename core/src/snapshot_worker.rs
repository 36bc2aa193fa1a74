//! Snapshots and WAL checkpoints off the sale path.
//!
//! A sale commits its change and returns. Saving a document's snapshot
//! (Automerge `save`: ~85 ms for a 20k-record partition, several hundred
//! under load) and copying the WAL back into the database file (a checkpoint,
//! with its fsync) are done here instead, on one thread with its own
//! connection to the same file. WAL lets that thread read and checkpoint
//! while the till keeps writing; it takes the write lock only to store a
//! finished snapshot, which is one row.
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

/// The worker waits this long for the write lock to store a snapshot, then
/// gives the snapshot up (a later one is asked for): it must never keep a
/// closing store waiting behind another process's long write.
const WRITE_WAIT: Duration = Duration::from_millis(250);

enum Job {
    Snapshot(String),
    Checkpoint,
    /// Answered once every job queued before it is done.
    Barrier(Sender<()>),
}

pub struct Background {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    stopping: Arc<AtomicBool>,
}

impl Background {
    /// Opens a second connection to the store at `path` — the same store:
    /// never creating a file, and refusing one whose till is not `till_id`
    /// (the file was replaced since the store opened) — and starts the
    /// worker on it.
    pub fn start(path: &Path, till_id: &str) -> Result<Background> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        db::configure(&conn)?;
        conn.busy_timeout(WRITE_WAIT)?;
        // A snapshot need not survive a power cut (the changes it sums up
        // are durable already): storing one does not wait for an fsync while
        // a sale waits for the write lock. (The next sale's fsync of the WAL
        // covers it; checkpoints still sync.)
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
        let (jobs, queue) = channel();
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        let thread = std::thread::Builder::new()
            .name("shopsync-snapshots".into())
            .spawn(move || run(&conn, &queue, &stop))
            .map_err(|e| CoreError::io("cannot start the snapshot thread".to_string(), e))?;
        Ok(Background {
            jobs: Some(jobs),
            thread: Some(thread),
            stopping,
        })
    }

    /// Whether the thread has stopped (it panicked).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Queues snapshots of these documents. `false` if the worker is gone.
    pub fn snapshot(&self, doc_ids: Vec<String>) -> bool {
        doc_ids.into_iter().all(|d| self.send(Job::Snapshot(d)))
    }

    /// Queues a WAL checkpoint. `false` if the worker is gone.
    pub fn checkpoint(&self) -> bool {
        self.send(Job::Checkpoint)
    }

    /// Waits until every job queued so far is done.
    pub fn wait_idle(&self) {
        let (done, wait) = channel();
        if self.send(Job::Barrier(done)) {
            let _ = wait.recv();
        }
    }

    fn send(&self, job: Job) -> bool {
        self.jobs.as_ref().is_some_and(|j| j.send(job).is_ok())
    }
}

impl Drop for Background {
    /// Lets the job in progress finish, drops the rest (a snapshot not
    /// written costs only a longer next load) and stops the thread.
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.jobs.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the snapshot thread panicked");
        }
    }
}

fn run(conn: &Connection, queue: &Receiver<Job>, stopping: &AtomicBool) {
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
            }
        }
        for doc in snapshots {
            if stopping.load(Ordering::Relaxed) {
                return;
            }
            if let Err(e) = snapshot(conn, &doc) {
                tracing::warn!("could not write a snapshot of {doc} (will retry later): {e}");
            }
        }
        if checkpoint && let Err(e) = self::checkpoint(conn) {
            tracing::warn!("WAL checkpoint failed (will retry): {e}");
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

/// Copies the WAL into the database file without taking any lock a sale
/// needs (PASSIVE). Between sales this copies all of it, and the next sale
/// starts the WAL over; the till's own connection checkpoints only if the
/// WAL reaches [`crate::store`]'s fallback threshold (a till selling
/// back-to-back for minutes, or this thread stopped).
fn checkpoint(conn: &Connection) -> Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    Ok(())
}
