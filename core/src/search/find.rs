//! A name search over the in-memory index, with the full-text query's
//! semantics: `"w1"* "w2"* …` matches rows having, for every typed word, a
//! token starting with it; the first `candidates` matches in row order are
//! ranked by bm25, then name (then row order: the SQL left ties to chance).
//! Archived rows are dropped after the candidates are taken, as there.

use super::index::{NameIndex, Slot};
use super::rank;

/// A set of slots (rows) or term ids, one bit each.
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Self {
        Bits(vec![0; len.div_ceil(64)])
    }

    fn set(&mut self, i: u32) {
        if let Some(w) = self.0.get_mut(i as usize / 64) {
            *w |= 1 << (i % 64);
        }
    }

    fn has(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn count(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    fn and(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    /// The first `n` members, ascending.
    fn first(&self, n: usize) -> Vec<u32> {
        let mut out = Vec::with_capacity(n.min(256));
        for (i, &word) in self.0.iter().enumerate() {
            let mut w = word;
            while w != 0 && out.len() < n {
                out.push(i as u32 * 64 + w.trailing_zeros());
                w &= w - 1;
            }
            if out.len() >= n {
                break;
            }
        }
        out
    }
}

/// One typed word: the terms it matches and the rows holding any of them.
struct Phrase {
    terms: Bits,
    rows: Bits,
}

fn phrase(ix: &NameIndex, prefix: &str) -> Phrase {
    let mut terms = Bits::new(ix.term_count());
    let mut rows = Bits::new(ix.rows().len());
    for term in ix.terms_with_prefix(prefix) {
        terms.set(term);
        for &slot in ix.postings(term) {
            rows.set(slot);
        }
    }
    Phrase { terms, rows }
}

/// Row numbers (`products.pk`) of the best `limit` rows matching every
/// prefix (lower-case terms, as FTS5 folds them), best first.
pub(crate) fn find(
    ix: &NameIndex,
    prefixes: &[String],
    candidates: usize,
    limit: usize,
    include_archived: bool,
) -> Vec<i64> {
    if prefixes.is_empty() || limit == 0 {
        return Vec::new();
    }
    let phrases: Vec<Phrase> = prefixes.iter().map(|p| phrase(ix, p)).collect();
    let rows = ix.live_rows();
    let idf: Vec<f64> = phrases
        .iter()
        .map(|p| rank::idf(rows, p.rows.count()))
        .collect();
    let mut all = Bits(phrases[0].rows.0.clone());
    for p in &phrases[1..] {
        all.and(&p.rows);
    }
    // As FTS5 does: average length over every row, archived ones too.
    let avgdl = ix.live_tokens() as f64 / rows as f64;
    let mut freq = vec![0.0; phrases.len()];
    let mut ranked: Vec<(f64, Slot)> = Vec::new();
    for slot in all.first(candidates) {
        let row = &ix.rows()[slot as usize];
        if !include_archived && !row.active {
            continue;
        }
        for (f, p) in freq.iter_mut().zip(&phrases) {
            *f = row.tokens.iter().filter(|t| p.terms.has(**t)).count() as f64;
        }
        let score = rank::bm25(&idf, &freq, row.tokens.len() as f64, avgdl);
        ranked.push((score, slot));
    }
    let by = |&(score, slot): &(f64, Slot)| (score, &ix.rows()[slot as usize].name, slot);
    ranked.sort_by(|a, b| {
        let (a, b) = (by(a), by(b));
        a.0.total_cmp(&b.0)
            .then_with(|| a.1.cmp(b.1))
            .then(a.2.cmp(&b.2))
    });
    ranked
        .into_iter()
        .take(limit)
        .map(|(_, slot)| ix.rows()[slot as usize].pk)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::index::{NameIndex, NeedsRebuild, RowData};
    use super::*;

    fn index(names: &[(&str, bool)]) -> Result<NameIndex, NeedsRebuild> {
        let mut ix = NameIndex::default();
        for (i, (name, active)) in names.iter().enumerate() {
            let tokens = name.split(' ').map(str::to_lowercase).collect();
            ix.set(
                i as i64 + 1,
                Some(RowData {
                    name: (*name).into(),
                    active: *active,
                    tokens,
                }),
            )?;
        }
        Ok(ix)
    }

    fn words(q: &str) -> Vec<String> {
        q.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn every_word_must_start_a_token() -> Result<(), NeedsRebuild> {
        let ix = index(&[
            ("Dark Chocolate Bar", true),
            ("Milk Chocolate Bar", true),
            ("Whole Milk 1L", true),
            ("Old Chocolate", false),
        ])?;
        assert_eq!(find(&ix, &words("choc"), 200, 10, false).len(), 2);
        assert_eq!(find(&ix, &words("bar dark"), 200, 10, false), vec![1]);
        assert_eq!(find(&ix, &words("milk 1l"), 200, 10, false), vec![3]);
        assert_eq!(find(&ix, &words("choc"), 200, 10, true).len(), 3);
        assert!(find(&ix, &words("zzz"), 200, 10, true).is_empty());
        assert!(find(&ix, &words("choc zzz"), 200, 10, true).is_empty());
        assert!(find(&ix, &words("choc"), 200, 0, true).is_empty());
        assert!(find(&ix, &[], 200, 10, true).is_empty());
        Ok(())
    }

    #[test]
    fn candidates_are_taken_in_row_order_before_archived_ones_drop() -> Result<(), NeedsRebuild> {
        let ix = index(&[("Tea", false), ("Tea", true), ("Tea", true)])?;
        assert_eq!(find(&ix, &words("tea"), 2, 10, false), vec![2]);
        assert_eq!(find(&ix, &words("tea"), 2, 10, true), vec![1, 2]);
        Ok(())
    }

    #[test]
    fn shorter_names_rank_first_then_by_name() -> Result<(), NeedsRebuild> {
        let ix = index(&[
            ("Milk Chocolate Family Size", true),
            ("Milk", true),
            ("Milk Oat", true),
            ("Milk Barley", true),
        ])?;
        assert_eq!(find(&ix, &words("milk"), 200, 10, false), vec![2, 4, 3, 1]);
        Ok(())
    }

    #[test]
    fn bits_list_members_in_order() {
        let mut b = Bits::new(200);
        for i in [3, 64, 65, 199] {
            b.set(i);
        }
        b.set(500); // out of range: ignored
        assert_eq!(b.first(10), vec![3, 64, 65, 199]);
        assert_eq!(b.first(2), vec![3, 64]);
        assert_eq!(b.count(), 4);
        assert!(b.has(199) && !b.has(198) && !b.has(10_000));
    }
}
