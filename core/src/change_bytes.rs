//! Hostile bodies: decoding an Automerge change from bytes that came from
//! outside (a sync request or answer, a bundle) without letting it allocate
//! without bound.
//!
//! An Automerge change is a chunk: `85 6f 4a 83` magic, a 4-byte checksum, a
//! chunk type byte, a ULEB128 length and that many bytes of data. Type 1 is a
//! plain change; type 2 is the same change deflate-compressed, and
//! `automerge::Change::try_from` inflates it with no limit (a 3.7 MB change
//! can inflate to 3.8 GB). So every change from outside goes through
//! [`decode_change_bounded`]: it reads the header itself, refuses every chunk
//! type but 1 and 2, and for type 2 inflates into a counting sink (nothing is
//! kept) and refuses the change as soon as the output passes the limit.
//! Only a change that passed is handed to Automerge.

use std::io::Read;

use automerge::Change;

/// The largest a change may be once inflated. Ledger records are small
/// scalars and a catalog edit touches a few fields; a whole-catalog import of
/// tens of thousands of products stays far below this.
pub const MAX_INFLATED_CHANGE_BYTES: usize = 8 * 1024 * 1024;

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

/// Decodes a change from outside bytes, refusing one that would inflate past
/// `limit` before Automerge inflates it.
pub fn decode_change_bounded(bytes: &[u8], limit: usize) -> Result<Change, ChangeBytesError> {
    check_change_bytes(bytes, limit)?;
    Change::try_from(bytes).map_err(|e| ChangeBytesError::Decode(e.to_string()))
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
}
