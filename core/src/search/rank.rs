//! FTS5's `bm25()` (what `ORDER BY rank` sorts by), computed the way
//! SQLite's `fts5Bm25Function` computes it, operation for operation, so the
//! in-memory search orders names exactly as the full-text query did.

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// The inverse document frequency of a phrase matched by `hits` of `rows`
/// rows; FTS5 floors it at 1e-6 so a very common word never counts against
/// a row.
pub(crate) fn idf(rows: u64, hits: u64) -> f64 {
    let idf = (((rows as i64 - hits as i64) as f64 + 0.5) / (hits as f64 + 0.5)).ln();
    if idf <= 0.0 { 1e-6 } else { idf }
}

/// The rank of a row: `freq[i]` tokens of the row match phrase `i`, the row
/// has `len` tokens, the table `avgdl` on average. Lower is better.
pub(crate) fn bm25(idf: &[f64], freq: &[f64], len: f64, avgdl: f64) -> f64 {
    let mut score = 0.0;
    for (idf, f) in idf.iter().zip(freq) {
        score += idf * ((f * (K1 + 1.0)) / (f + K1 * (1.0 - B + B * len / avgdl)));
    }
    -score
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_phrases_weigh_almost_nothing() {
        assert_eq!(idf(10, 9), 1e-6);
        assert!(idf(100, 1) > idf(100, 10));
    }

    #[test]
    fn shorter_names_and_more_matches_rank_first() {
        let w = [idf(100, 10)];
        assert!(bm25(&w, &[1.0], 2.0, 3.0) < bm25(&w, &[1.0], 4.0, 3.0));
        assert!(bm25(&w, &[2.0], 4.0, 3.0) < bm25(&w, &[1.0], 4.0, 3.0));
    }
}
