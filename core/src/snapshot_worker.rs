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
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::db;
use crate::docs;
use crate::error::{CoreError, Result};

/// Ask for a checkpoint after this many commits: a 3-line sale writes
/// ~20-60 WAL pages, so SQLite's own checkpoint (at 1,000 pages) finds at
/// most a few sales' pages not yet copied.
pub const CHECKPOINT_EVERY_COMMITS: u32 = 8;

enum Job {
    Snapshot(String),
    Checkpoint,
}

pub struct Background {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Opens a second connection to `path` (already migrated by the caller's)
    /// and starts the worker on it.
    pub fn start(path: &Path) -> Result<Background> {
        let conn = Connection::open(path)?;
        db::configure(&conn)?;
        let (jobs, queue) = channel();
        let thread = std::thread::Builder::new()
            .name("shopsync-snapshots".into())
            .spawn(move || run(&conn, &queue))
            .map_err(|e| CoreError::io("cannot start the snapshot thread".to_string(), e))?;
        Ok(Background {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Queues snapshots of these documents. `false` if the worker is gone.
    pub fn snapshot(&self, doc_ids: Vec<String>) -> bool {
        doc_ids.into_iter().all(|d| self.send(Job::Snapshot(d)))
    }

    /// Queues a WAL checkpoint. `false` if the worker is gone.
    pub fn checkpoint(&self) -> bool {
        self.send(Job::Checkpoint)
    }

    fn send(&self, job: Job) -> bool {
        self.jobs.as_ref().is_some_and(|j| j.send(job).is_ok())
    }
}

impl Drop for Background {
    /// Finishes what is queued (a snapshot asked for is written before the
    /// store closes) and stops the thread.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the snapshot thread panicked");
        }
    }
}

fn run(conn: &Connection, queue: &Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        // Everything queued meanwhile, once: a document asked for twice is
        // saved once, and one checkpoint covers every commit before it.
        let mut snapshots = BTreeSet::new();
        let mut checkpoint = false;
        for job in std::iter::once(first).chain(queue.try_iter()) {
            match job {
                Job::Snapshot(doc) => {
                    snapshots.insert(doc);
                }
                Job::Checkpoint => checkpoint = true,
            }
        }
        for doc in snapshots {
            if let Err(e) = snapshot(conn, &doc) {
                tracing::warn!("could not write a snapshot of {doc} (will retry later): {e}");
            }
        }
        if checkpoint && let Err(e) = self::checkpoint(conn) {
            tracing::warn!("WAL checkpoint failed (will retry): {e}");
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
/// needs (PASSIVE). SQLite's own checkpoint after a commit (every 1,000 WAL
/// pages, on the till's connection) then finds the WAL already copied: it has
/// no pages to copy and no fsync to wait for, and the next write starts the
/// WAL over. SQLite's threshold stays as it is, so the WAL stays bounded even
/// if this thread falls behind or stops.
fn checkpoint(conn: &Connection) -> Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    Ok(())
}
