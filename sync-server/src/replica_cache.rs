//! The replicas kept open between derivations (`crate::public_derive`),
//! a bounded number of them. Each holds a SQLite connection (file handles,
//! a page cache of up to 32 MB) and its loaded documents; with `--nats`
//! every shop has a replica, so a server hosting thousands of shops cannot
//! keep them all open. The least recently used is closed; its file stays,
//! and it is opened again (`open_replica`) when its shop next changes.

use std::collections::HashMap;

use shopsync_core::Store;

/// Replicas kept open at most.
pub const OPEN_REPLICAS: usize = 64;

pub struct ReplicaCache {
    capacity: usize,
    /// store pk → (replica, when last put back).
    open: HashMap<i64, (Store, u64)>,
    clock: u64,
}

impl ReplicaCache {
    pub fn new(capacity: usize) -> Self {
        ReplicaCache {
            capacity: capacity.max(1),
            open: HashMap::new(),
            clock: 0,
        }
    }

    /// The store's open replica, taken out while it is in use.
    pub fn take(&mut self, store_pk: i64) -> Option<Store> {
        self.open.remove(&store_pk).map(|(store, _)| store)
    }

    /// Puts a replica back; returns the one closed to make room, if any,
    /// for the caller to drop off the async runtime (closing a SQLite
    /// store may checkpoint its WAL).
    pub fn put(&mut self, store_pk: i64, replica: Store) -> Option<Store> {
        self.clock += 1;
        self.open.insert(store_pk, (replica, self.clock));
        if self.open.len() <= self.capacity {
            return None;
        }
        let oldest = self
            .open
            .iter()
            .min_by_key(|(_, (_, used))| *used)
            .map(|(pk, _)| *pk)?;
        self.take(oldest)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.open.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(dir: &std::path::Path, name: &str) -> Store {
        Store::create_with_till(&dir.join(format!("{name}.db")), name, "T", name)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_least_recently_used_replica_is_closed_past_the_capacity() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut cache = ReplicaCache::new(2);
        assert!(cache.put(1, replica(dir.path(), "one")).is_none());
        assert!(cache.put(2, replica(dir.path(), "two")).is_none());
        // One is used again: two is now the least recently used.
        let one = cache.take(1).unwrap_or_else(|| panic!("one is open"));
        assert!(cache.put(1, one).is_none());
        let closed = cache.put(3, replica(dir.path(), "three"));
        assert_eq!(
            closed.map(|s| s.info().store_id.clone()).as_deref(),
            Some("two")
        );
        assert_eq!(cache.len(), 2);
        assert!(cache.take(2).is_none());
        assert!(cache.take(1).is_some() && cache.take(3).is_some());
        assert!(cache.is_empty());
    }
}
