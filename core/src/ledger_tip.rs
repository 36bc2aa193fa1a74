//! Appending a record to a ledger partition without Automerge's op set.
//!
//! A record is one put of a fresh key at the partition's root. Made through
//! the loaded `AutoCommit`, that put, its commit and reading the change back
//! were ~60 µs of a ~300 µs sale (docs/PERFORMANCE.md, issue 13): the put
//! splices a dozen columns of the op set, with the CPU caches cold after the
//! sale's SQLite work. Yet the change depends on little: the partition's
//! heads, its highest op counter, and the writer's actor and sequence
//! number. A [`Tip`] keeps those (and the keys taken) and has Automerge's own
//! encoder build the change (`ExpandedChange` into `Change`), so its bytes,
//! and so its hash, are what a commit of the same put would have made (a
//! test compares them).
//!
//! A tip writes as its own actor, not the loaded document's: that actor
//! may have changes the tip does not know of (another code path), and an
//! actor must never use one sequence number twice. A tip made again for
//! the same loaded document (another process wrote the partition) goes on
//! as the last tip's actor; a document loaded anew (after a rollback, a
//! restart) gets a fresh one. Every actor costs each later load of the
//! partition a little, so they are not made per change.

use std::collections::HashSet;
use std::num::NonZeroU64;

use automerge::legacy::{Key, ObjectId, Op, OpType, SortedVec};
use automerge::{
    ActorId, AutoCommit, Change, ChangeHash, ExpandedChange, ROOT, ReadDoc, ScalarValue,
};

use crate::error::{CoreError, Result};

pub(crate) struct Tip {
    actor: ActorId,
    /// The tip actor's last sequence number (0 before its first change).
    seq: u64,
    /// The highest op counter in the partition.
    max_op: u64,
    heads: Vec<ChangeHash>,
    keys: HashSet<String>,
    /// `doc_changes.seq` of the partition's last change known here.
    pub(crate) last_seq: i64,
    /// `PRAGMA data_version` when the tip was last known to be current.
    pub(crate) version: i64,
    /// Changes made through this tip (not in the loaded `AutoCommit`).
    pub(crate) appended: u64,
}

impl Tip {
    /// The tip of `doc`, which holds every change up to `last_seq`.
    pub(crate) fn of(
        doc: &mut AutoCommit,
        last_seq: i64,
        version: i64,
        actor: ActorId,
        seq: u64,
    ) -> Result<Tip> {
        let mut heads = doc.get_heads();
        heads.sort_unstable();
        // Every change's start op is past every op it depends on (Automerge
        // makes local changes so, and only this till writes its partitions),
        // so the heads hold the highest counter.
        let mut max_op = 0;
        for head in &heads {
            let change = doc.get_change_by_hash(head).ok_or_else(|| {
                CoreError::Corrupt(format!("a head of a ledger partition is missing ({head})"))
            })?;
            max_op = max_op.max(change.max_op());
        }
        Ok(Tip {
            actor,
            seq,
            max_op,
            heads,
            keys: doc.keys(ROOT).collect(),
            last_seq,
            version,
            appended: 0,
        })
    }

    /// The tip's actor and its last sequence number, for the next tip of
    /// the same loaded document.
    pub(crate) fn writer(&self) -> (ActorId, u64) {
        (self.actor.clone(), self.seq)
    }

    /// Records (root keys) in the partition.
    pub(crate) fn records(&self) -> u64 {
        self.keys.len() as u64
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// The change putting `value` under the fresh `key`, made at `time_s`
    /// (seconds), as the next change of this tip. [`Tip::advance`] once it
    /// is stored.
    pub(crate) fn change(&self, key: &str, value: Vec<u8>, time_s: i64) -> Result<Change> {
        let start_op = NonZeroU64::new(self.max_op + 1).ok_or_else(|| {
            CoreError::Corrupt("a ledger partition's op counter overflowed".into())
        })?;
        let put = Op {
            action: OpType::Put(ScalarValue::Bytes(value)),
            obj: ObjectId::Root,
            key: Key::Map(key.into()),
            pred: SortedVec::new(),
            insert: false,
        };
        Ok(Change::from(ExpandedChange {
            operations: vec![put],
            actor_id: self.actor.clone(),
            hash: None,
            seq: self.seq + 1,
            start_op,
            time: time_s,
            message: None,
            deps: self.heads.clone(),
            extra_bytes: Vec::new(),
            author: None,
        }))
    }

    /// `change` (made by [`Tip::change`] for `key`) is stored as `doc_changes.seq` `stored_seq`.
    pub(crate) fn advance(&mut self, key: &str, change: &Change, stored_seq: i64) {
        self.seq = change.seq();
        self.max_op = change.max_op();
        self.heads = vec![change.hash()];
        self.keys.insert(key.to_string());
        self.last_seq = stored_seq;
        self.appended += 1;
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::{CommitOptions, Transactable};

    use super::*;

    fn put_and_commit(doc: &mut AutoCommit, key: &str, value: &[u8], time_s: i64) -> Change {
        doc.put(ROOT, key, ScalarValue::Bytes(value.to_vec()))
            .unwrap();
        doc.commit_with(CommitOptions::default().with_time(time_s))
            .unwrap();
        doc.get_last_local_change().unwrap()
    }

    /// The tip's change is byte for byte the change Automerge's own commit
    /// makes for the same put, after history by other actors (concurrent
    /// heads included) and after the tip's own earlier changes.
    #[test]
    fn a_tip_change_is_what_a_commit_would_make() {
        let tip_actor = ActorId::from([9u8; 16]);
        let mut a = AutoCommit::new().with_actor(ActorId::from([1u8; 16]));
        put_and_commit(&mut a, "r1", b"{\"one\":1}", 100);
        let mut b = a.fork().with_actor(ActorId::from([2u8; 16]));
        put_and_commit(&mut a, "r2", &[7u8; 700], 101);
        put_and_commit(&mut b, "r3", b"x", 99);
        put_and_commit(&mut b, "r4", b"y", 98);
        a.merge(&mut b).unwrap();
        assert_eq!(a.get_heads().len(), 2, "two concurrent heads");

        let mut tip = Tip::of(&mut a, 4, 0, tip_actor.clone(), 0).unwrap();
        assert_eq!(tip.records(), 4);
        assert!(tip.has("r3") && !tip.has("r5"));
        let mut reference = a.fork().with_actor(tip_actor);
        for (i, time_s) in [(5, 1_764_000_000i64), (6, -3), (7, 0)] {
            let key = format!("r{i}");
            let value = format!("{{\"sale\":{i},\"lines\":[1,2,3]}}").into_bytes();
            let made = tip.change(&key, value.clone(), time_s).unwrap();
            let expected = put_and_commit(&mut reference, &key, &value, time_s);
            assert_eq!(made.raw_bytes(), expected.raw_bytes(), "change {i}");
            assert_eq!(made.hash(), expected.hash());
            tip.advance(&key, &made, 4 + i);
        }
        assert_eq!(tip.records(), 7);
        assert_eq!(tip.appended, 3);
        // A tip made again from the caught-up document goes on as the same
        // actor, as a commit by that actor would.
        let (actor, seq) = tip.writer();
        let mut caught_up = reference.fork();
        let mut again = Tip::of(&mut caught_up, 7, 0, actor, seq).unwrap();
        let made = again.change("r8", b"eight".to_vec(), 7).unwrap();
        let expected = put_and_commit(&mut reference, "r8", b"eight", 7);
        assert_eq!(made.raw_bytes(), expected.raw_bytes(), "change 8");
        again.advance("r8", &made, 12);
        // And the document takes them: a third party applies them all.
        let mut other = a.fork();
        other
            .apply_changes(reference.get_changes(&a.get_heads()))
            .unwrap();
        assert_eq!(other.keys(ROOT).count(), 8);
    }

    #[test]
    fn the_tip_of_an_empty_partition_starts_at_op_one() {
        let mut doc = AutoCommit::new();
        let tip = Tip::of(&mut doc, 0, 0, ActorId::from([3u8; 16]), 0).unwrap();
        let change = tip.change("k", b"v".to_vec(), 5).unwrap();
        assert_eq!(change.start_op().get(), 1);
        assert!(change.deps().is_empty());
        assert_eq!(change.seq(), 1);
    }
}
