//! Hostile bodies: decoding an Automerge change from bytes that came from
//! outside (a sync request or answer, a bundle) without letting it allocate
//! or compute without bound.
//!
//! An Automerge change is a chunk: `85 6f 4a 83` magic, a 4-byte checksum, a
//! chunk type byte, a ULEB128 length and that many bytes of data. Type 1 is a
//! plain change; type 2 is the same change deflate-compressed, and
//! `automerge::Change::try_from` inflates it with no limit (a 3.7 MB change
//! can inflate to 3.8 GB). Its operations are run-length encoded with
//! unbounded run lengths, and `try_from` walks every one (a 69-byte change
//! can claim 134 million: 17 s of CPU). So every change from outside goes
//! through [`decode_change_bounded`] (or [`decode_change_within`]): it reads
//! the header itself, refuses every chunk type but 1 and 2, inflates type 2
//! into a buffer that may not pass the byte limit, then counts the
//! operations from the columns' run headers (`op_count`, never expanding a
//! run) and refuses a change past the operation limit. Only a change that
//! passed is handed to Automerge.

use std::io::Read;

use automerge::Change;

pub mod forge;
mod op_count;

/// The largest a change may be once inflated. Ledger records are small
/// scalars and a catalog edit touches a few fields; a whole-catalog import of
/// tens of thousands of products stays far below this.
pub const MAX_INFLATED_CHANGE_BYTES: usize = 8 * 1024 * 1024;

/// Operations one change from outside may hold. An honest ledger or order
/// change holds one record (one operation); the biggest catalog change, a
/// chunk of 2,000 imported products, 22,000 (the 100k-product demo store's
/// largest). A change of a few bytes can encode a hundred million repeated
/// operations, and Automerge walks each one to decode it (then the checks
/// decode each again, ~180 bytes apiece): refused before Automerge sees it.
/// Every column of the change is held to it (no column may hold more rows),
/// which bounds what decoding costs: predecessor lists included.
pub const MAX_OPS_PER_CHANGE: usize = 100_000;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeBytesError {
    #[error("not an Automerge change (bad magic bytes)")]
    BadMagic,
    #[error("the change is truncated")]
    Truncated,
    #[error("chunk type {0} is not a change")]
    NotAChange(u8),
    #[error("the change's length field is malformed")]
    BadLength,
    #[error("unexpected bytes after the end of the change")]
    TrailingBytes,
    #[error("the compressed change inflates to more than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the change holds more than {limit} operations")]
    TooManyOps { limit: usize },
    #[error("the compressed change does not inflate: {0}")]
    Deflate(String),
    #[error("the change does not decode: {0}")]
    Decode(String),
}

/// The parts of a chunk header this module needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    pub chunk_type: u8,
    /// Where the data starts.
    pub data_start: usize,
    pub data_len: usize,
}

/// Reads and checks a chunk header: magic, chunk type, a length that is
/// exactly the rest of `bytes`.
pub fn parse_header(bytes: &[u8]) -> Result<ChunkHeader, ChangeBytesError> {
    if bytes.len() < 4 {
        return Err(ChangeBytesError::Truncated);
    }
    if bytes[..4] != MAGIC {
        return Err(ChangeBytesError::BadMagic);
    }
    if bytes.len() < 9 {
        return Err(ChangeBytesError::Truncated);
    }
    let chunk_type = bytes[8];
    let (len, n) = uleb128(&bytes[9..])?;
    let data_start = 9 + n;
    let rest = (bytes.len() - data_start) as u64;
    if len > rest {
        return Err(ChangeBytesError::Truncated);
    }
    if len < rest {
        return Err(ChangeBytesError::TrailingBytes);
    }
    Ok(ChunkHeader {
        chunk_type,
        data_start,
        data_len: len as usize,
    })
}

fn uleb128(bytes: &[u8]) -> Result<(u64, usize), ChangeBytesError> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        let part = u64::from(b & 0x7f);
        let shift = 7 * i as u32;
        if shift == 63 && part > 1 {
            return Err(ChangeBytesError::BadLength);
        }
        value |= part << shift;
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    if bytes.len() < 10 {
        Err(ChangeBytesError::Truncated)
    } else {
        Err(ChangeBytesError::BadLength)
    }
}

/// Checks that `bytes` is a change chunk whose inflated size (if it is
/// compressed) is at most `limit`, without keeping the inflated bytes.
/// Returns the inflated data size (the data size for a plain change).
pub fn check_change_bytes(bytes: &[u8], limit: usize) -> Result<usize, ChangeBytesError> {
    let header = parse_header(bytes)?;
    match header.chunk_type {
        CHUNK_CHANGE => {
            if header.data_len > limit {
                return Err(ChangeBytesError::TooLarge { limit });
            }
            Ok(header.data_len)
        }
        CHUNK_COMPRESSED => {
            let data = &bytes[header.data_start..];
            let mut decoder = flate2::bufread::DeflateDecoder::new(data).take(limit as u64 + 1);
            let inflated = std::io::copy(&mut decoder, &mut std::io::sink())
                .map_err(|e| ChangeBytesError::Deflate(e.to_string()))?;
            if inflated > limit as u64 {
                return Err(ChangeBytesError::TooLarge { limit });
            }
            Ok(inflated as usize)
        }
        other => Err(ChangeBytesError::NotAChange(other)),
    }
}

/// The operations of the change in `bytes`, counted from its columns
/// without expanding their runs: refused if it would inflate past
/// `limit_bytes`, if it (or any of its columns) holds more than `limit_ops`,
/// or if its columns cannot be read. Costs what reading its bytes costs.
pub fn count_change_ops(
    bytes: &[u8],
    limit_bytes: usize,
    limit_ops: usize,
) -> Result<usize, ChangeBytesError> {
    let header = parse_header(bytes)?;
    let data = bytes
        .get(header.data_start..)
        .ok_or(ChangeBytesError::Truncated)?;
    match header.chunk_type {
        CHUNK_CHANGE => {
            if header.data_len > limit_bytes {
                return Err(ChangeBytesError::TooLarge { limit: limit_bytes });
            }
            op_count::count_ops(data, limit_ops)
        }
        CHUNK_COMPRESSED => op_count::count_ops(&inflate_bounded(data, limit_bytes)?, limit_ops),
        other => Err(ChangeBytesError::NotAChange(other)),
    }
}

/// Inflates `deflated`, refusing it as soon as it passes `limit` bytes; the
/// buffer never grows past `limit` bytes.
fn inflate_bounded(deflated: &[u8], limit: usize) -> Result<Vec<u8>, ChangeBytesError> {
    let mut decoder = flate2::bufread::DeflateDecoder::new(deflated);
    let mut out = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ChangeBytesError::Deflate(e.to_string())),
        };
        let wanted = out.len().saturating_add(n);
        if wanted > limit {
            return Err(ChangeBytesError::TooLarge { limit });
        }
        if wanted > out.capacity() {
            // Doubling, but never past the limit.
            let cap = out.capacity().saturating_mul(2).max(wanted).min(limit);
            out.reserve_exact(cap - out.len());
        }
        out.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// Decodes a change from outside bytes, refusing one that would inflate
/// past `limit_bytes` or that holds more than `limit_ops` operations before
/// Automerge reads it. Returns the change and its operations (for callers
/// that spend a budget of them).
pub fn decode_change_within(
    bytes: &[u8],
    limit_bytes: usize,
    limit_ops: usize,
) -> Result<(Change, usize), ChangeBytesError> {
    count_change_ops(bytes, limit_bytes, limit_ops)?;
    let change = Change::try_from(bytes).map_err(|e| ChangeBytesError::Decode(e.to_string()))?;
    let ops = change.len();
    Ok((change, ops))
}

/// Decodes a change from outside bytes, refusing one that would inflate past
/// `limit` or that holds more than [`MAX_OPS_PER_CHANGE`] operations before
/// Automerge reads it.
pub fn decode_change_bounded(bytes: &[u8], limit: usize) -> Result<Change, ChangeBytesError> {
    decode_change_within(bytes, limit, MAX_OPS_PER_CHANGE).map(|(change, _)| change)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use automerge::{AutoCommit, ROOT, transaction::Transactable};

    fn change_with(value_len: usize) -> Change {
        let mut doc = AutoCommit::new();
        doc.put(
            ROOT,
            "v",
            automerge::ScalarValue::Bytes(vec![0u8; value_len]),
        )
        .unwrap();
        doc.commit();
        doc.get_last_local_change().unwrap()
    }

    #[test]
    fn plain_and_compressed_changes_within_the_limit_decode_unchanged() {
        for len in [1, 300, 100_000] {
            let mut change = change_with(len);
            let bytes = change.bytes().to_vec();
            let decoded = decode_change_bounded(&bytes, MAX_INFLATED_CHANGE_BYTES).unwrap();
            assert_eq!(decoded.hash(), change.hash());
            let raw = change.raw_bytes().to_vec();
            let decoded = decode_change_bounded(&raw, MAX_INFLATED_CHANGE_BYTES).unwrap();
            assert_eq!(decoded.hash(), change.hash());
        }
        // A large value is stored compressed (chunk type 2).
        let mut big = change_with(100_000);
        assert_eq!(
            parse_header(&big.bytes()).unwrap().chunk_type,
            CHUNK_COMPRESSED
        );
    }

    #[test]
    fn a_change_that_inflates_past_the_limit_is_refused() {
        // A real, valid change of 1 MiB compresses to about 1 KiB. With a
        // limit of 64 KiB it is refused before Automerge sees it; unbounded
        // `Change::try_from` accepts it.
        let mut change = change_with(1 << 20);
        let bytes = change.bytes().to_vec();
        assert!(bytes.len() < 16 * 1024, "{}", bytes.len());
        assert!(Change::try_from(&bytes[..]).is_ok());
        assert_eq!(
            decode_change_bounded(&bytes, 64 * 1024).err(),
            Some(ChangeBytesError::TooLarge { limit: 64 * 1024 })
        );
        // The same for an uncompressed change over the limit.
        let raw = change.raw_bytes().to_vec();
        assert_eq!(
            decode_change_bounded(&raw, 64 * 1024).err(),
            Some(ChangeBytesError::TooLarge { limit: 64 * 1024 })
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        let mut change = change_with(10);
        let raw = change.bytes().to_vec();
        let lim = MAX_INFLATED_CHANGE_BYTES;
        assert_eq!(
            check_change_bytes(&[], lim),
            Err(ChangeBytesError::Truncated)
        );
        assert_eq!(
            check_change_bytes(b"junkjunkjunk", lim),
            Err(ChangeBytesError::BadMagic)
        );
        assert_eq!(
            check_change_bytes(&raw[..raw.len() - 1], lim),
            Err(ChangeBytesError::Truncated)
        );
        let mut extra = raw.clone();
        extra.push(0);
        assert_eq!(
            check_change_bytes(&extra, lim),
            Err(ChangeBytesError::TrailingBytes)
        );
        let mut doc_chunk = raw.clone();
        doc_chunk[8] = 0;
        assert_eq!(
            check_change_bytes(&doc_chunk, lim),
            Err(ChangeBytesError::NotAChange(0))
        );
        let mut endless = raw[..9].to_vec();
        endless.extend([0xff; 11]);
        assert_eq!(
            check_change_bytes(&endless, lim),
            Err(ChangeBytesError::BadLength)
        );
        let mut bad_deflate = raw[..8].to_vec();
        bad_deflate.extend([2, 3, 0xff, 0xff, 0xff]);
        assert!(matches!(
            check_change_bytes(&bad_deflate, lim),
            Err(ChangeBytesError::Deflate(_))
        ));
    }

    // -- counting operations --

    fn counted(bytes: &[u8]) -> Result<usize, ChangeBytesError> {
        count_change_ops(bytes, MAX_INFLATED_CHANGE_BYTES, MAX_OPS_PER_CHANGE)
    }

    fn committed(doc: &mut AutoCommit) -> Change {
        doc.commit();
        doc.get_last_local_change().unwrap()
    }

    /// Real changes of every shape Automerge writes: scalar puts, nested
    /// maps, list inserts, deletes, text, marks, counters, several actors
    /// and dependencies, a message and a time, an empty change, thousands of
    /// keys (stored compressed), more than 10,000 operations (encoded row by
    /// row). Made once (seconds in a debug build) for every test.
    fn real_changes() -> &'static [(&'static str, Change)] {
        static CHANGES: std::sync::OnceLock<Vec<(&'static str, Change)>> =
            std::sync::OnceLock::new();
        CHANGES.get_or_init(make_real_changes)
    }

    fn make_real_changes() -> Vec<(&'static str, Change)> {
        use automerge::marks::{ExpandMark, Mark};
        use automerge::transaction::CommitOptions;
        use automerge::{ObjType, ScalarValue};
        let mut out = Vec::new();
        let mut doc = AutoCommit::new();
        for (k, v) in [
            ("s", ScalarValue::Str("text".into())),
            ("i", ScalarValue::Int(-42)),
            ("u", ScalarValue::Uint(42)),
            ("f", ScalarValue::F64(1.5)),
            ("b", ScalarValue::Boolean(true)),
            ("n", ScalarValue::Null),
            ("x", ScalarValue::Bytes(vec![1, 2, 3])),
            ("t", ScalarValue::Timestamp(1_700_000_000_000)),
            ("c", ScalarValue::counter(5)),
        ] {
            doc.put(ROOT, k, v).unwrap();
        }
        out.push(("scalar puts", committed(&mut doc)));
        doc.increment(ROOT, "c", 3).unwrap();
        doc.increment(ROOT, "c", -1).unwrap();
        out.push(("counter increments", committed(&mut doc)));
        doc.delete(ROOT, "s").unwrap();
        doc.delete(ROOT, "n").unwrap();
        out.push(("deletes", committed(&mut doc)));
        let outer = doc.put_object(ROOT, "outer", ObjType::Map).unwrap();
        let inner = doc.put_object(&outer, "inner", ObjType::Map).unwrap();
        doc.put(&inner, "deep", 1).unwrap();
        out.push(("nested maps", committed(&mut doc)));
        let list = doc.put_object(ROOT, "list", ObjType::List).unwrap();
        for i in 0..50 {
            doc.insert(&list, i, i as i64).unwrap();
        }
        out.push(("list inserts", committed(&mut doc)));
        for _ in 0..10 {
            doc.delete(&list, 3).unwrap();
        }
        doc.insert(&list, 0, "head").unwrap();
        out.push((
            "list deletes and an insert at the head",
            committed(&mut doc),
        ));
        let text = doc.put_object(ROOT, "text", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "hello world").unwrap();
        out.push(("text", committed(&mut doc)));
        doc.splice_text(&text, 5, 6, ", there").unwrap();
        doc.mark(
            &text,
            Mark::new("bold".into(), true, 0, 5),
            ExpandMark::Both,
        )
        .unwrap();
        out.push(("text edits and a mark", committed(&mut doc)));
        doc.commit_with(
            CommitOptions::default()
                .with_message("a message".to_string())
                .with_time(1_234),
        );
        doc.put(ROOT, "m", "with message").unwrap();
        doc.commit_with(
            CommitOptions::default()
                .with_message("a message".to_string())
                .with_time(1_234),
        );
        out.push(("message and time", doc.get_last_local_change().unwrap()));
        let mut other = doc.fork().with_actor(automerge::ActorId::random());
        other.put(ROOT, "i", 7).unwrap();
        other.put(&outer, "theirs", "x").unwrap();
        other.commit();
        doc.put(ROOT, "i", 8).unwrap();
        doc.commit();
        doc.merge(&mut other).unwrap();
        doc.put(ROOT, "i", 9).unwrap();
        doc.put(&outer, "theirs", "y").unwrap();
        let merged = committed(&mut doc);
        assert!(merged.deps().len() >= 2, "two dependencies");
        assert!(!merged.other_actor_ids().is_empty(), "another actor");
        out.push(("over two actors' values, two dependencies", merged));
        let hash = doc.empty_change(CommitOptions::default());
        out.push(("an empty change", doc.get_change_by_hash(&hash).unwrap()));
        for i in 0..2_000 {
            doc.put(ROOT, format!("key{i}"), i as i64).unwrap();
        }
        out.push(("2,000 keys", committed(&mut doc)));
        for i in 0..12_000 {
            doc.put(ROOT, format!("k{}", i % 3), i as u64).unwrap();
        }
        out.push(("12,000 operations (row-wise encoding)", committed(&mut doc)));
        out
    }

    #[test]
    fn the_count_is_automerges_for_every_kind_of_real_change() {
        let mut compressed = 0;
        for (what, change) in real_changes() {
            let mut change = change.clone();
            for bytes in [change.raw_bytes().to_vec(), change.bytes().to_vec()] {
                if parse_header(&bytes).unwrap().chunk_type == CHUNK_COMPRESSED {
                    compressed += 1;
                }
                let decoded = Change::try_from(&bytes[..]).unwrap();
                assert_eq!(counted(&bytes), Ok(decoded.len()), "{what}");
                let (again, ops) =
                    decode_change_within(&bytes, MAX_INFLATED_CHANGE_BYTES, MAX_OPS_PER_CHANGE)
                        .unwrap();
                assert_eq!((again.hash(), ops), (change.hash(), change.len()), "{what}");
            }
        }
        assert!(compressed >= 2, "compressed changes were counted too");
    }

    #[test]
    fn a_forged_change_is_what_it_claims() {
        let bytes = forge::repeated_puts(&[7; 16], 1, 3);
        let change = Change::try_from(&bytes[..]).unwrap();
        assert_eq!(change.len(), 3);
        assert_eq!(counted(&bytes), Ok(3));
        let ops = change.decode().operations;
        assert!(ops.iter().all(|op| op.action
            == automerge::legacy::OpType::Put(automerge::ScalarValue::Null)));
        let deflated = forge::deflated(&bytes);
        assert_eq!(
            parse_header(&deflated).unwrap().chunk_type,
            CHUNK_COMPRESSED
        );
        assert_eq!(
            Change::try_from(&deflated[..]).unwrap().hash(),
            change.hash()
        );
        assert_eq!(counted(&deflated), Ok(3));
    }

    /// 69 bytes that Automerge decodes to 134 million operations (17 s of
    /// CPU): refused from its run headers at once, plain or compressed.
    #[test]
    fn a_change_claiming_134_million_operations_is_refused_at_once() {
        let bomb = forge::repeated_puts(&[7; 16], 1, 1 << 27);
        assert!(bomb.len() < 80, "{} bytes", bomb.len());
        let started = std::time::Instant::now();
        let too_many = Some(ChangeBytesError::TooManyOps {
            limit: MAX_OPS_PER_CHANGE,
        });
        assert_eq!(
            decode_change_bounded(&bomb, MAX_INFLATED_CHANGE_BYTES).err(),
            too_many
        );
        let deflated = forge::deflated(&bomb);
        assert_eq!(
            decode_change_bounded(&deflated, MAX_INFLATED_CHANGE_BYTES).err(),
            too_many
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            ChangeBytesError::TooManyOps { limit: 100_000 }.to_string(),
            "the change holds more than 100000 operations"
        );
    }

    #[test]
    fn the_limit_is_inclusive() {
        let at = forge::repeated_puts(&[7; 16], 1, MAX_OPS_PER_CHANGE as u64);
        let change = decode_change_bounded(&at, MAX_INFLATED_CHANGE_BYTES).unwrap();
        assert_eq!(change.len(), MAX_OPS_PER_CHANGE);
        let over = forge::repeated_puts(&[7; 16], 1, MAX_OPS_PER_CHANGE as u64 + 1);
        assert_eq!(
            decode_change_bounded(&over, MAX_INFLATED_CHANGE_BYTES).err(),
            Some(ChangeBytesError::TooManyOps {
                limit: MAX_OPS_PER_CHANGE
            })
        );
        // A caller's own, smaller budget.
        assert_eq!(
            decode_change_within(&at, MAX_INFLATED_CHANGE_BYTES, 10).err(),
            Some(ChangeBytesError::TooManyOps { limit: 10 })
        );
    }

    /// One put of null at key `k` with `preds` predecessors (read from runs
    /// of `preds` entries), then the `extra` columns.
    fn one_op_with(preds: u64, extra: Vec<(u32, Vec<u8>)>) -> Vec<u8> {
        let mut columns = vec![
            (forge::KEY_STRING, forge::run(1, b"\x01k")),
            (forge::INSERT, forge::uleb(1)),
            (forge::ACTION, forge::run(1, &forge::uleb(1))),
            (forge::VALUE_META, forge::run(1, &forge::uleb(0))),
            (forge::PRED_GROUP, forge::run(1, &forge::uleb(preds))),
        ];
        if preds > 0 {
            columns.push((forge::PRED_ACTOR, forge::run(preds, &forge::uleb(0))));
            columns.push((forge::PRED_COUNTER, forge::run(preds, &forge::sleb(1))));
        }
        columns.extend(extra);
        forge::change_chunk(&[7; 16], 1, &columns)
    }

    /// Automerge reads a row's predecessors from runs that may be longer than
    /// the operations: every column is held to the limit, not only the
    /// actions. An unknown column is ignored by Automerge, and held to it
    /// too (the safe side).
    #[test]
    fn every_column_is_held_to_the_limit() {
        let few = one_op_with(3, vec![]);
        assert_eq!(Change::try_from(&few[..]).unwrap().len(), 1);
        assert_eq!(counted(&few), Ok(1));
        let too_many = Err(ChangeBytesError::TooManyOps {
            limit: MAX_OPS_PER_CHANGE,
        });
        assert_eq!(counted(&one_op_with(1 << 40, vec![])), too_many);

        let unknown = (11 << 4) | 2;
        let small = one_op_with(0, vec![(unknown, forge::run(3, &forge::uleb(9)))]);
        assert_eq!(Change::try_from(&small[..]).unwrap().len(), 1);
        assert_eq!(counted(&small), Ok(1));
        let big = one_op_with(0, vec![(unknown, forge::run(1 << 40, &forge::uleb(9)))]);
        assert_eq!(counted(&big), too_many);

        // A boolean column, a null run, a literal run of i64::MIN values.
        for column in [
            (forge::INSERT, forge::uleb(1 << 40)),
            (
                forge::ACTION,
                [forge::sleb(0), forge::uleb(u64::MAX)].concat(),
            ),
            (forge::ACTION, forge::sleb(i64::MIN)),
        ] {
            let bytes = forge::change_chunk(&[7; 16], 1, std::slice::from_ref(&column));
            assert_eq!(counted(&bytes), too_many, "{column:?}");
        }
    }

    #[test]
    fn malformed_change_data_is_refused_without_panicking() {
        let change = forge::repeated_puts(&[7; 16], 1, 3);
        let raw = one_op_with(2, vec![]);
        let header = parse_header(&raw).unwrap();
        let body = &raw[header.data_start..];
        // Cut anywhere: the columns' declared lengths no longer fit.
        for len in 0..body.len() {
            let cut = forge::plain_chunk(&body[..len]);
            assert!(
                matches!(counted(&cut), Err(ChangeBytesError::Decode(_))),
                "{len}"
            );
        }
        assert_eq!(counted(&forge::plain_chunk(body)), Ok(1));
        // Counts and lengths far past the bytes allocate nothing.
        let huge = forge::uleb(1 << 60);
        let actor = [forge::uleb(16), vec![7; 16]].concat();
        for (what, body) in [
            ("dependencies", [huge.clone()].concat()),
            ("actor", [forge::uleb(0), huge.clone()].concat()),
            (
                "other actors",
                [
                    forge::uleb(0),
                    actor.clone(),
                    vec![1, 1, 0, 0],
                    huge.clone(),
                ]
                .concat(),
            ),
            (
                "columns",
                [
                    forge::uleb(0),
                    actor.clone(),
                    vec![1, 1, 0, 0, 0],
                    huge.clone(),
                ]
                .concat(),
            ),
            (
                "column length",
                [
                    forge::uleb(0),
                    actor.clone(),
                    vec![1, 1, 0, 0, 0, 1, 66],
                    huge,
                ]
                .concat(),
            ),
            (
                "start op zero",
                [forge::uleb(0), actor, vec![1, 0, 0, 0, 0, 0]].concat(),
            ),
        ] {
            let bytes = forge::plain_chunk(&body);
            assert!(
                matches!(counted(&bytes), Err(ChangeBytesError::Decode(_))),
                "{what}"
            );
            assert!(
                Change::try_from(&bytes[..]).is_err(),
                "Automerge refuses {what} too"
            );
        }
        // A deflated column: Automerge refuses those in a change.
        let deflated_column =
            forge::change_chunk(&[7; 16], 1, &[(forge::ACTION | 0b1000, vec![1, 1])]);
        assert!(matches!(
            counted(&deflated_column),
            Err(ChangeBytesError::Decode(_))
        ));
        assert!(Change::try_from(&deflated_column[..]).is_err());
        // The chunk header's own refusals still come first.
        assert_eq!(counted(b"junkjunkjunk"), Err(ChangeBytesError::BadMagic));
        assert_eq!(
            counted(&change[..change.len() - 1]),
            Err(ChangeBytesError::Truncated)
        );
    }

    #[test]
    fn inflation_never_holds_more_than_the_limit() {
        let mut change = change_with(1 << 20);
        let bytes = change.bytes().to_vec();
        let data = &bytes[parse_header(&bytes).unwrap().data_start..];
        let inflated = inflate_bounded(data, 2 << 20).unwrap();
        assert!(inflated.capacity() <= 2 << 20, "{}", inflated.capacity());
        let just = inflated.len();
        let exact = inflate_bounded(data, just).unwrap();
        assert_eq!(exact.capacity(), just);
        assert_eq!(
            inflate_bounded(data, just - 1).err(),
            Some(ChangeBytesError::TooLarge { limit: just - 1 })
        );
        assert_eq!(
            count_change_ops(&bytes, just - 1, MAX_OPS_PER_CHANGE),
            Err(ChangeBytesError::TooLarge { limit: just - 1 })
        );
    }

    /// Real changes with bytes overwritten, inserted or removed: the count
    /// never panics, and whenever it accepts a change Automerge decodes, the
    /// count is Automerge's (so its work is bounded by what was counted).
    /// Automerge only ever sees what the count accepted.
    mod mutated {
        use super::*;
        use proptest::prelude::*;
        use std::sync::OnceLock;

        fn bodies() -> &'static [Vec<u8>] {
            static BODIES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
            BODIES.get_or_init(|| {
                real_changes()
                    .iter()
                    .filter(|(_, c)| c.len() < 100)
                    .map(|(_, c)| {
                        let raw = c.raw_bytes();
                        raw[parse_header(raw).unwrap().data_start..].to_vec()
                    })
                    .chain(
                        [one_op_with(2, vec![]), forge::repeated_puts(&[7; 16], 1, 5)].map(
                            |chunk| chunk[parse_header(&chunk).unwrap().data_start..].to_vec(),
                        ),
                    )
                    .collect()
            })
        }

        #[derive(Debug, Clone)]
        enum Edit {
            Set(usize, u8),
            Insert(usize, u8),
            Remove(usize),
        }

        fn edit() -> impl Strategy<Value = Edit> {
            prop_oneof![
                4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
                1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
                1 => any::<usize>().prop_map(Edit::Remove),
            ]
        }

        fn apply(body: &mut Vec<u8>, edit: &Edit) {
            let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
            match *edit {
                Edit::Set(i, b) if !body.is_empty() => {
                    let i = at(i, body.len());
                    body[i] = b;
                }
                Edit::Insert(i, b) => {
                    let i = at(i, body.len() + 1);
                    body.insert(i, b);
                }
                Edit::Remove(i) if !body.is_empty() => {
                    let i = at(i, body.len());
                    body.remove(i);
                }
                _ => {}
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3_000))]
            #[test]
            fn never_panics_and_never_undercounts(
                which in any::<usize>(),
                edits in proptest::collection::vec(edit(), 1..6),
                compress in any::<bool>(),
            ) {
                let mut body = bodies()[which % bodies().len()].clone();
                for e in &edits {
                    apply(&mut body, e);
                }
                let mut bytes = forge::plain_chunk(&body);
                if compress {
                    bytes = forge::deflated(&bytes);
                }
                if let Ok(count) = counted(&bytes)
                    && let Ok(change) = Change::try_from(&bytes[..])
                {
                    prop_assert!(change.len() <= count, "Automerge found {} ops, counted {count}", change.len());
                }
            }
        }

        /// A case the property found: one byte set to 64, after which the
        /// counter counts 11 operations and Automerge decodes none. Counting
        /// more than Automerge does is safe (a budget spent early); the
        /// property holds the counter to never counting less.
        #[test]
        fn a_mutated_column_spec_is_not_undercounted() {
            let all = bodies();
            let mut body = all[12_227_379_881_234_810_674_u64 as usize % all.len()].clone();
            apply(
                &mut body,
                &Edit::Set(7_022_506_232_612_645_376_u64 as usize, 64),
            );
            let bytes = forge::plain_chunk(&body);
            let count = counted(&bytes).expect("the counter reads it");
            let change = Change::try_from(&bytes[..]).expect("Automerge reads it");
            assert_eq!((change.len(), count), (0, 11));
            assert!(
                change.len() <= count,
                "Automerge found {} ops, counted {count}",
                change.len()
            );
        }
    }
}
