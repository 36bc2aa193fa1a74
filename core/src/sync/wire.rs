//! The sync protocol's wire format (see docs/PROTOCOL.md), shared by the
//! client and the server so the two cannot disagree.
//!
//! Bodies are binary, every integer little-endian:
//!
//! ```text
//! request  = "SSYQ" u16:version u64:since u32:ndocs { doc }
//! response = "SSYR" u16:version u64:cursor u64:head u8:more
//!            u32:nacked { 32 bytes:hash } u32:ndocs { doc }
//! doc      = u16:len doc-id-utf8 u32:nchanges { u32:len change-bytes }
//! ```
//!
//! Either body may be sent with `Content-Encoding: gzip`.

use std::io::Read;

use thiserror::Error;

pub const PROTOCOL_VERSION: u16 = 1;

/// The header carrying the server's epoch (see `epoch`), on answers and on
/// requests that name the epoch their cursors belong to.
pub const EPOCH_HEADER: &str = "shopsync-epoch";
pub const CONTENT_TYPE: &str = "application/x-shopsync-sync";
const REQUEST_MAGIC: &[u8; 4] = b"SSYQ";
const RESPONSE_MAGIC: &[u8; 4] = b"SSYR";

/// Limits every party enforces. A request past any of them is refused whole.
pub mod limits {
    /// Largest request body as sent (compressed).
    pub const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;
    /// Largest request body after decompression.
    pub const MAX_REQUEST_DECODED_BYTES: usize = 64 * 1024 * 1024;
    /// What all the changes of one request (or one answer page) may inflate
    /// to together: each change is bounded on its own too, but many small
    /// bodies that each inflate to the per-change limit would otherwise add
    /// up to gigabytes of memory and minutes of CPU.
    /// (16 times a client batch: far above what records compress to.)
    pub const MAX_REQUEST_INFLATED_BYTES: usize = 128 * 1024 * 1024;
    /// Operations all the changes of one upload may hold together (counted
    /// from their bytes before Automerge decodes them; one change may hold
    /// `change_bytes::MAX_OPS_PER_CHANGE`): decoding and checking them
    /// costs time and memory per operation. A till's upload page stops
    /// before it (the biggest honest change holds 22,000).
    pub const MAX_REQUEST_OPS: usize = 1_000_000;
    /// Changes a client puts in one request (it sends the rest next time).
    pub const CLIENT_BATCH_BYTES: usize = 8 * 1024 * 1024;
    /// Changes the server puts in one response page before `more`.
    pub const RESPONSE_PAGE_BYTES: usize = 8 * 1024 * 1024;
    /// Largest response body after decompression the client accepts.
    pub const MAX_RESPONSE_DECODED_BYTES: usize = 128 * 1024 * 1024;
    pub const MAX_DOCS: usize = 100_000;
    pub const MAX_CHANGES: usize = 1_000_000;
    pub const MAX_CHANGE_BYTES: usize = 4 * 1024 * 1024;
    pub const MAX_DOC_ID_BYTES: usize = 256;
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum WireError {
    #[error("not a ShopSync sync body (bad magic)")]
    BadMagic,
    #[error("protocol version {0} is not supported (this side speaks {PROTOCOL_VERSION})")]
    Version(u16),
    #[error("the body is truncated")]
    Truncated,
    #[error("unexpected bytes after the end of the body")]
    TrailingBytes,
    #[error("the body is over the limit of {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    Limit(String),
    #[error("a document id is not UTF-8")]
    BadText,
    #[error("the compressed body does not decompress: {0}")]
    Compression(String),
}

/// The changes of one document, as raw Automerge change bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocChanges {
    pub doc_id: String,
    pub changes: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncRequest {
    pub version: u16,
    /// The highest server sequence number the client has fully received.
    pub since: u64,
    /// Changes the server has not acknowledged yet.
    pub docs: Vec<DocChanges>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncResponse {
    pub version: u16,
    /// The client's new `since`.
    pub cursor: u64,
    /// The store's latest sequence number (for progress).
    pub head: u64,
    /// More changes wait: ask again with `since = cursor`.
    pub more: bool,
    /// Hashes of the request's changes the server now holds.
    pub acked: Vec<[u8; 32]>,
    pub docs: Vec<DocChanges>,
}

impl SyncRequest {
    pub fn new(since: u64, docs: Vec<DocChanges>) -> Self {
        SyncRequest {
            version: PROTOCOL_VERSION,
            since,
            docs,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + docs_size(&self.docs));
        out.extend_from_slice(REQUEST_MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.since.to_le_bytes());
        put_docs(&mut out, &self.docs);
        out
    }

    pub fn decode(data: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader { data, pos: 0 };
        r.magic(REQUEST_MAGIC)?;
        let version = r.u16()?;
        if version != PROTOCOL_VERSION {
            return Err(WireError::Version(version));
        }
        let since = r.u64()?;
        let docs = r.docs()?;
        r.end()?;
        Ok(SyncRequest {
            version,
            since,
            docs,
        })
    }

    pub fn change_count(&self) -> usize {
        self.docs.iter().map(|d| d.changes.len()).sum()
    }

    /// The body as a client sends it: gzip-compressed (`true`) above 512
    /// bytes, plain below.
    pub fn body(&self) -> (Vec<u8>, bool) {
        let body = self.encode();
        if body.len() > 512 {
            (gzip(&body), true)
        } else {
            (body, false)
        }
    }
}

impl SyncResponse {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + 32 * self.acked.len() + docs_size(&self.docs));
        out.extend_from_slice(RESPONSE_MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.cursor.to_le_bytes());
        out.extend_from_slice(&self.head.to_le_bytes());
        out.push(u8::from(self.more));
        out.extend_from_slice(&(self.acked.len() as u32).to_le_bytes());
        for h in &self.acked {
            out.extend_from_slice(h);
        }
        put_docs(&mut out, &self.docs);
        out
    }

    pub fn decode(data: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader { data, pos: 0 };
        r.magic(RESPONSE_MAGIC)?;
        let version = r.u16()?;
        if version != PROTOCOL_VERSION {
            return Err(WireError::Version(version));
        }
        let cursor = r.u64()?;
        let head = r.u64()?;
        let more = r.take(1)?[0] != 0;
        let n = r.u32()? as usize;
        if n > limits::MAX_CHANGES {
            return Err(WireError::Limit(format!("{n} acknowledgements")));
        }
        let mut acked = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            let mut h = [0u8; 32];
            h.copy_from_slice(r.take(32)?);
            acked.push(h);
        }
        let docs = r.docs()?;
        r.end()?;
        Ok(SyncResponse {
            version,
            cursor,
            head,
            more,
            acked,
            docs,
        })
    }

    pub fn change_count(&self) -> usize {
        self.docs.iter().map(|d| d.changes.len()).sum()
    }
}

fn docs_size(docs: &[DocChanges]) -> usize {
    docs.iter()
        .map(|d| 6 + d.doc_id.len() + d.changes.iter().map(|c| 4 + c.len()).sum::<usize>())
        .sum::<usize>()
        + 4
}

fn put_docs(out: &mut Vec<u8>, docs: &[DocChanges]) {
    out.extend_from_slice(&(docs.len() as u32).to_le_bytes());
    for d in docs {
        let id = d.doc_id.as_bytes();
        let len = id.len().min(u16::MAX as usize);
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&id[..len]);
        out.extend_from_slice(&(d.changes.len() as u32).to_le_bytes());
        for c in &d.changes {
            out.extend_from_slice(&(c.len() as u32).to_le_bytes());
            out.extend_from_slice(c);
        }
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or(WireError::Truncated)?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn magic(&mut self, magic: &[u8; 4]) -> Result<(), WireError> {
        let got = self.take(4).map_err(|_| WireError::BadMagic)?;
        if got != magic {
            return Err(WireError::BadMagic);
        }
        Ok(())
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn docs(&mut self) -> Result<Vec<DocChanges>, WireError> {
        let ndocs = self.u32()? as usize;
        if ndocs > limits::MAX_DOCS {
            return Err(WireError::Limit(format!(
                "{ndocs} documents in one body (at most {})",
                limits::MAX_DOCS
            )));
        }
        let mut docs = Vec::with_capacity(ndocs.min(1024));
        let mut total = 0usize;
        for _ in 0..ndocs {
            let len = self.u16()? as usize;
            if len > limits::MAX_DOC_ID_BYTES {
                return Err(WireError::Limit(format!(
                    "a document id of {len} bytes (at most {})",
                    limits::MAX_DOC_ID_BYTES
                )));
            }
            let doc_id = std::str::from_utf8(self.take(len)?)
                .map_err(|_| WireError::BadText)?
                .to_string();
            let n = self.u32()? as usize;
            total = total.saturating_add(n);
            if total > limits::MAX_CHANGES {
                return Err(WireError::Limit(format!(
                    "more than {} changes in one body",
                    limits::MAX_CHANGES
                )));
            }
            let mut changes = Vec::with_capacity(n.min(4096));
            for _ in 0..n {
                let clen = self.u32()? as usize;
                if clen > limits::MAX_CHANGE_BYTES {
                    return Err(WireError::Limit(format!(
                        "a change of {clen} bytes (at most {})",
                        limits::MAX_CHANGE_BYTES
                    )));
                }
                changes.push(self.take(clen)?.to_vec());
            }
            docs.push(DocChanges { doc_id, changes });
        }
        Ok(docs)
    }
    fn end(&self) -> Result<(), WireError> {
        if self.pos != self.data.len() {
            return Err(WireError::TrailingBytes);
        }
        Ok(())
    }
}

/// Gzip at the fast level (bodies are mostly already-compact change bytes).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Gunzip, refusing output past `limit` bytes (a zip bomb stops there).
pub fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(2).min(limit));
    flate2::read::GzDecoder::new(data)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| WireError::Compression(e.to_string()))?;
    if out.len() > limit {
        return Err(WireError::TooLarge(limit));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let req = SyncRequest::new(
            7,
            vec![DocChanges {
                doc_id: "store/s/catalog".into(),
                changes: vec![vec![1, 2, 3], vec![]],
            }],
        );
        assert_eq!(SyncRequest::decode(&req.encode()), Ok(req.clone()));
        let resp = SyncResponse {
            version: PROTOCOL_VERSION,
            cursor: 9,
            head: 12,
            more: true,
            acked: vec![[7u8; 32]],
            docs: req.docs.clone(),
        };
        assert_eq!(SyncResponse::decode(&resp.encode()), Ok(resp.clone()));
        let z = gzip(&resp.encode());
        assert_eq!(
            gunzip(&z, 1 << 20).map(|b| b.len()),
            Ok(resp.encode().len())
        );
        assert_eq!(gunzip(&z, 10), Err(WireError::TooLarge(10)));
    }

    #[test]
    fn rejects_bad_bodies() {
        let good = SyncRequest::new(1, vec![]).encode();
        assert_eq!(SyncRequest::decode(b"junk"), Err(WireError::BadMagic));
        assert_eq!(
            SyncRequest::decode(&good[..good.len() - 1]),
            Err(WireError::Truncated)
        );
        let mut v2 = good.clone();
        v2[4] = 2;
        assert_eq!(SyncRequest::decode(&v2), Err(WireError::Version(2)));
        let mut extra = good.clone();
        extra.push(0);
        assert_eq!(SyncRequest::decode(&extra), Err(WireError::TrailingBytes));
        // A count that promises more than is there.
        let mut lying = good[..good.len() - 4].to_vec();
        lying.extend_from_slice(&5u32.to_le_bytes());
        assert_eq!(SyncRequest::decode(&lying), Err(WireError::Truncated));
    }
}
