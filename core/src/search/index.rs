//! The in-memory name index: for every product row, the terms FTS5's
//! tokenizer made of its name, plus a posting list per term.
//!
//! Rows live in "slots" numbered in ascending `products.pk` order, because
//! the search it replaces takes its candidates in FTS5's rowid order (see
//! `NAME_CANDIDATES` in `queries.rs`). A slot keeps its row number for good:
//! a deleted row leaves an empty slot that the same row number fills again.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

/// A row's position in the index (ascending with `products.pk`).
pub(crate) type Slot = u32;

/// What the index keeps of one `products` row.
pub(crate) struct Row {
    pub pk: i64,
    pub name: Box<str>,
    pub active: bool,
    /// Term ids of the name's tokens (one per token, repeats kept: bm25
    /// counts them). Empty for a deleted row.
    pub tokens: Box<[u32]>,
    pub live: bool,
}

/// A row as read from the store: name, active flag and the name's tokens.
pub(crate) struct RowData {
    pub name: String,
    pub active: bool,
    pub tokens: Vec<String>,
}

#[derive(Default)]
pub(crate) struct NameIndex {
    /// Term -> id. Ordered, so the terms starting with a prefix are one range.
    vocab: BTreeMap<Box<str>, u32>,
    /// `postings[term id]`: the slots whose name holds the term, ascending,
    /// each once.
    postings: Vec<Vec<Slot>>,
    rows: Vec<Row>,
    slot_of: HashMap<i64, Slot>,
    /// Live rows and their tokens: FTS5's row count and total size, which
    /// bm25 divides by.
    live_rows: u64,
    live_tokens: u64,
    /// Terms no live row holds any more (empty posting lists). Renames
    /// leave them behind; past half the vocabulary they are dropped
    /// (`compact`), so the index does not grow with every name ever seen.
    dead_terms: usize,
}

/// The index could not take a change in place (a new row number below the
/// highest one): the caller rebuilds it.
#[derive(Debug)]
pub(crate) struct NeedsRebuild;

impl NameIndex {
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn live_rows(&self) -> u64 {
        self.live_rows
    }

    pub fn live_tokens(&self) -> u64 {
        self.live_tokens
    }

    pub fn postings(&self, term: u32) -> &[Slot] {
        self.postings.get(term as usize).map_or(&[], Vec::as_slice)
    }

    pub fn term_count(&self) -> usize {
        self.postings.len()
    }

    /// Ids of the terms starting with `prefix` (FTS5's `"prefix"*`).
    pub fn terms_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = u32> + 'a {
        self.vocab
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(term, _)| term.starts_with(prefix))
            .map(|(_, id)| *id)
    }

    fn term_id(&mut self, term: &str) -> u32 {
        if let Some(id) = self.vocab.get(term) {
            return *id;
        }
        let id = self.postings.len() as u32;
        self.vocab.insert(term.into(), id);
        self.postings.push(Vec::new());
        // Dead until a row takes it (`set` counts it back).
        self.dead_terms += 1;
        id
    }

    /// Terms held by no live row.
    #[cfg(test)]
    pub fn dead_terms(&self) -> usize {
        self.dead_terms
    }

    /// Drops the dead terms once they are more than half the vocabulary
    /// (so the work, a pass over the index, is paid for by as many renames
    /// as there are live terms). Term ids change; rows and postings follow.
    fn compact_if_sparse(&mut self) {
        if self.dead_terms * 2 <= self.postings.len() {
            return;
        }
        let mut new_id = vec![u32::MAX; self.postings.len()];
        let old = std::mem::take(&mut self.postings);
        for (id, list) in old.into_iter().enumerate() {
            if !list.is_empty() {
                new_id[id] = self.postings.len() as u32;
                self.postings.push(list);
            }
        }
        self.postings.shrink_to_fit();
        self.vocab.retain(|_, id| {
            let new = new_id[*id as usize];
            *id = new;
            new != u32::MAX
        });
        for row in &mut self.rows {
            for t in row.tokens.iter_mut() {
                *t = new_id[*t as usize];
            }
        }
        self.dead_terms = 0;
    }

    /// Puts a row (`Some`) or removes it (`None`). Rows must arrive in
    /// ascending `pk` order when new, or take back a slot they had.
    pub fn set(&mut self, pk: i64, data: Option<RowData>) -> Result<(), NeedsRebuild> {
        let slot = match self.slot_of.get(&pk) {
            Some(slot) => *slot,
            None if data.is_none() => return Ok(()),
            None if self.rows.last().is_some_and(|r| r.pk > pk) => return Err(NeedsRebuild),
            None => {
                let slot = Slot::try_from(self.rows.len()).map_err(|_| NeedsRebuild)?;
                self.rows.push(Row {
                    pk,
                    name: "".into(),
                    active: false,
                    tokens: Box::new([]),
                    live: false,
                });
                self.slot_of.insert(pk, slot);
                slot
            }
        };
        self.clear(slot);
        let Some(data) = data else {
            self.compact_if_sparse();
            return Ok(());
        };
        let tokens: Box<[u32]> = data.tokens.iter().map(|t| self.term_id(t)).collect();
        for &term in tokens.iter() {
            let list = &mut self.postings[term as usize];
            if let Err(at) = list.binary_search(&slot) {
                if list.is_empty() {
                    self.dead_terms -= 1;
                }
                list.insert(at, slot);
            }
        }
        self.live_rows += 1;
        self.live_tokens += tokens.len() as u64;
        let row = &mut self.rows[slot as usize];
        row.name = data.name.into();
        row.active = data.active;
        row.tokens = tokens;
        row.live = true;
        self.compact_if_sparse();
        Ok(())
    }

    /// Takes a row out of the postings and the totals; its slot stays.
    fn clear(&mut self, slot: Slot) {
        let row = &mut self.rows[slot as usize];
        if !row.live {
            return;
        }
        row.live = false;
        let tokens = std::mem::take(&mut row.tokens);
        self.live_rows -= 1;
        self.live_tokens -= tokens.len() as u64;
        for &term in tokens.iter() {
            let list = &mut self.postings[term as usize];
            if let Ok(at) = list.binary_search(&slot) {
                list.remove(at);
                if list.is_empty() {
                    self.dead_terms += 1;
                }
            }
        }
    }

    /// Heap bytes held (capacities), for the memory figures in
    /// docs/PERFORMANCE.md. Approximate: map nodes are counted per entry.
    pub fn heap_bytes(&self) -> usize {
        let vocab: usize = self
            .vocab
            .keys()
            .map(|t| t.len() + size_of::<(Box<str>, u32)>() + size_of::<usize>())
            .sum();
        let postings: usize = self
            .postings
            .iter()
            .map(|p| p.capacity() * size_of::<Slot>() + size_of::<Vec<Slot>>())
            .sum();
        let rows: usize = self
            .rows
            .iter()
            .map(|r| r.name.len() + r.tokens.len() * size_of::<u32>())
            .sum::<usize>()
            + self.rows.capacity() * size_of::<Row>();
        let slot_of = self.slot_of.capacity() * (size_of::<(i64, Slot)>() + 1);
        vocab + postings + rows + slot_of
    }
}

/// Builds an index from every row at once: the rows in ascending `pk`
/// order, then their tokens in any order (FTS5's vocabulary table gives
/// them term by term).
#[derive(Default)]
pub(crate) struct Builder {
    ix: NameIndex,
    tokens: Vec<Vec<u32>>,
    last_term: Option<(Box<str>, u32)>,
}

impl Builder {
    pub fn row(&mut self, pk: i64, name: String, active: bool) -> Result<(), NeedsRebuild> {
        if self.ix.rows.last().is_some_and(|r| r.pk >= pk) {
            return Err(NeedsRebuild);
        }
        let slot = Slot::try_from(self.ix.rows.len()).map_err(|_| NeedsRebuild)?;
        self.ix.rows.push(Row {
            pk,
            name: name.into(),
            active,
            tokens: Box::new([]),
            live: true,
        });
        self.ix.slot_of.insert(pk, slot);
        self.tokens.push(Vec::new());
        Ok(())
    }

    /// One token of row `pk`'s name. A row the builder was not given is
    /// skipped (the full-text table and `products` change together, so it
    /// does not happen).
    pub fn token(&mut self, term: &str, pk: i64) {
        let Some(&slot) = self.ix.slot_of.get(&pk) else {
            return;
        };
        let term = match &self.last_term {
            Some((t, id)) if t.as_ref() == term => *id,
            _ => {
                let id = self.ix.term_id(term);
                self.last_term = Some((term.into(), id));
                id
            }
        };
        let list = &mut self.ix.postings[term as usize];
        if list.last() != Some(&slot) {
            list.push(slot);
        }
        self.tokens[slot as usize].push(term);
    }

    pub fn finish(mut self) -> NameIndex {
        for list in &mut self.ix.postings {
            // Already ascending when tokens came term by term in row order.
            if !list.is_sorted() {
                list.sort_unstable();
                list.dedup();
            }
            list.shrink_to_fit();
        }
        for (row, tokens) in self.ix.rows.iter_mut().zip(self.tokens) {
            self.ix.live_tokens += tokens.len() as u64;
            row.tokens = tokens.into_boxed_slice();
        }
        self.ix.live_rows = self.ix.rows.len() as u64;
        self.ix.dead_terms = self.ix.postings.iter().filter(|p| p.is_empty()).count();
        self.ix
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str, active: bool) -> Option<RowData> {
        Some(RowData {
            name: name.into(),
            active,
            tokens: name.split(' ').map(str::to_lowercase).collect(),
        })
    }

    /// The slots holding `term` (term ids change when the index compacts).
    fn slots(ix: &NameIndex, term: &str) -> Vec<Slot> {
        ix.vocab
            .get(term)
            .map_or_else(Vec::new, |id| ix.postings(*id).to_vec())
    }

    #[test]
    fn rows_keep_their_slot_and_postings_follow_changes() -> Result<(), NeedsRebuild> {
        let mut ix = NameIndex::default();
        ix.set(1, data("Dark Chocolate", true))?;
        ix.set(5, data("Milk Chocolate Chocolate", true))?;
        assert_eq!(ix.live_rows(), 2);
        assert_eq!(ix.live_tokens(), 5);
        assert_eq!(ix.terms_with_prefix("choc").count(), 1);
        assert_eq!(slots(&ix, "chocolate"), [0, 1]);
        // Rename, then delete, then the same row number comes back.
        ix.set(1, data("Oat Drink", false))?;
        assert_eq!(slots(&ix, "chocolate"), [1]);
        ix.set(5, None)?;
        assert_eq!(slots(&ix, "chocolate"), [] as [Slot; 0]);
        assert_eq!((ix.live_rows(), ix.live_tokens()), (1, 2));
        ix.set(5, data("Chocolate", true))?;
        assert_eq!(slots(&ix, "chocolate"), [1]);
        assert!(ix.rows()[0].name.as_ref() == "Oat Drink" && !ix.rows()[0].active);
        // A new row number below the highest cannot keep the order.
        assert!(ix.set(3, data("Tea", true)).is_err());
        // Deleting an unknown row is nothing to do.
        ix.set(2, None)?;
        Ok(())
    }

    #[test]
    fn renames_do_not_grow_the_vocabulary() -> Result<(), NeedsRebuild> {
        let mut ix = NameIndex::default();
        ix.set(1, data("Item v0", true))?;
        ix.set(2, data("Other thing", true))?;
        let start = ix.heap_bytes();
        for n in 1..20_000 {
            ix.set(1, data(&format!("Item v{n}"), true))?;
            // Dead terms never outnumber live ones (4 here).
            assert!(ix.dead_terms() <= 4, "{} dead after {n}", ix.dead_terms());
        }
        assert!(ix.term_count() <= 8, "{} terms", ix.term_count());
        assert!(
            ix.heap_bytes() < start * 3,
            "{} vs {start}",
            ix.heap_bytes()
        );
        // Still right after compacting: ids were renumbered.
        assert_eq!(slots(&ix, "v19999"), [0]);
        assert_eq!(slots(&ix, "item"), [0]);
        assert_eq!(slots(&ix, "thing"), [1]);
        assert!(slots(&ix, "v5").is_empty());
        let row_terms: Vec<u32> = ix.rows()[1].tokens.to_vec();
        let thing = ix.terms_with_prefix("thing").collect::<Vec<_>>();
        assert!(row_terms.contains(&thing[0]));
        // Deletes count too.
        ix.set(1, None)?;
        ix.set(2, None)?;
        assert_eq!(ix.term_count(), 0);
        Ok(())
    }

    #[test]
    fn prefix_ranges_stop_at_the_first_other_term() -> Result<(), NeedsRebuild> {
        let mut ix = NameIndex::default();
        ix.set(1, data("ca cab cabbage cb", true))?;
        assert_eq!(ix.terms_with_prefix("cab").count(), 2);
        assert_eq!(ix.terms_with_prefix("c").count(), 4);
        assert_eq!(ix.terms_with_prefix("d").count(), 0);
        assert_eq!(ix.terms_with_prefix("").count(), 4);
        Ok(())
    }
    #[test]
    fn a_built_index_equals_one_made_row_by_row() -> Result<(), NeedsRebuild> {
        let mut b = Builder::default();
        b.row(2, "Dark Chocolate".into(), true)?;
        b.row(7, "Milk Chocolate".into(), false)?;
        assert!(b.row(7, "again".into(), true).is_err());
        for (term, pk) in [
            ("chocolate", 2),
            ("chocolate", 7),
            ("dark", 2),
            ("milk", 7),
            ("x", 99),
        ] {
            b.token(term, pk);
        }
        let ix = b.finish();
        assert_eq!((ix.live_rows(), ix.live_tokens()), (2, 4));
        let ids: Vec<u32> = ix.terms_with_prefix("").collect();
        let lists: Vec<&[Slot]> = ids.iter().map(|t| ix.postings(*t)).collect();
        assert_eq!(lists, vec![&[0, 1][..], &[0][..], &[1][..]]);
        assert!(ix.heap_bytes() > 0);
        Ok(())
    }
}
