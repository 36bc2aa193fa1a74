//! Change chunks made by hand, as a hostile device could send them, for the
//! tests of every party that must refuse them (the core's, the server's).
//! Nothing in ShopSync writes changes this way: Automerge cannot build one
//! of a hundred million operations without holding them all.

use sha2::{Digest, Sha256};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_CHANGE: u8 = 1;

/// Column specs (id << 4 | type) of a change's operation columns.
pub const KEY_STRING: u32 = (1 << 4) | 5;
pub const INSERT: u32 = (3 << 4) | 4;
pub const ACTION: u32 = (4 << 4) | 2;
pub const VALUE_META: u32 = (5 << 4) | 6;
pub const PRED_GROUP: u32 = 7 << 4;
pub const PRED_ACTOR: u32 = (7 << 4) | 1;
pub const PRED_COUNTER: u32 = (7 << 4) | 3;

/// A plain change (chunk type 1) by `actor` of `n` operations, each a put
/// of null at root key `k`: one run per column, about 70 bytes whatever `n`.
/// Automerge decodes it to `n` operations, walking every one.
pub fn repeated_puts(actor: &[u8], seq: u64, n: u64) -> Vec<u8> {
    change_chunk(
        actor,
        seq,
        &[
            (KEY_STRING, run(n, &[&uleb(1)[..], b"k"].concat())),
            (INSERT, uleb(n)),
            // action 1: put
            (ACTION, run(n, &uleb(1))),
            // value metadata 0: null
            (VALUE_META, run(n, &uleb(0))),
            // no predecessors
            (PRED_GROUP, run(n, &uleb(0))),
        ],
    )
}

/// A plain change chunk by `actor` (no dependencies, start op 1, time 0, no
/// message) holding these (spec, data) columns, in the order given.
pub fn change_chunk(actor: &[u8], seq: u64, columns: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(uleb(0)); // dependencies
    body.extend(uleb(actor.len() as u64));
    body.extend(actor);
    body.extend(uleb(seq));
    body.extend(uleb(1)); // start op
    body.extend(sleb(0)); // time
    body.extend(uleb(0)); // message
    body.extend(uleb(0)); // other actors
    body.extend(uleb(columns.len() as u64));
    for (spec, data) in columns {
        body.extend(uleb(u64::from(*spec)));
        body.extend(uleb(data.len() as u64));
    }
    for (_, data) in columns {
        body.extend(data);
    }
    plain_chunk(&body)
}

/// The same change deflated (chunk type 2, as `Change::bytes` writes big
/// ones): same checksum, the data deflated. `chunk` must be a plain change.
pub fn deflated(chunk: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let Ok(header) = super::parse_header(chunk) else {
        return Vec::new();
    };
    let body = chunk.get(header.data_start..).unwrap_or_default();
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    let deflated = encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .unwrap_or_default();
    let mut out = chunk.get(..8).unwrap_or_default().to_vec();
    out.push(2);
    out.extend(uleb(deflated.len() as u64));
    out.extend(deflated);
    out
}

/// A plain change chunk around `body` (a change's data), with the header
/// Automerge writes: magic, the first four bytes of the hash as checksum,
/// the type, the length.
pub fn plain_chunk(body: &[u8]) -> Vec<u8> {
    let mut hashed = vec![CHUNK_CHANGE];
    hashed.extend(uleb(body.len() as u64));
    let hash = Sha256::new()
        .chain_update(&hashed)
        .chain_update(body)
        .finalize();
    let mut out = MAGIC.to_vec();
    out.extend(&hash[..4]);
    out.extend(hashed);
    out.extend(body);
    out
}

/// A run-length encoded run: `n` copies of one encoded value.
pub fn run(n: u64, value: &[u8]) -> Vec<u8> {
    let mut out = sleb(i64::try_from(n).unwrap_or(i64::MAX));
    out.extend(value);
    out
}

pub fn uleb(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

pub fn sleb(mut v: i64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        if done {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}
