//! Fuzzing the parsers that take bytes from outside: the sync wire format,
//! bundles, ledger records, Automerge change chunks (the bounded decoder)
//! and CSV import. Property tests over arbitrary bytes and over mutations of
//! valid inputs: every input gets `Ok` or a typed error, never a panic, and
//! never an allocation past the limits (a hostile length field is refused
//! before anything of that size is reserved).
//!
//! Each target runs `FUZZ_CASES` cases (default 256, a few seconds each in
//! a debug build); `FUZZ_CASES=100000 cargo test -p shopsync-core --test
//! fuzz_parsers` fuzzes longer. Inputs that once failed are kept in
//! `tests/fuzz-corpus/{target}/` and replayed by `corpus_replays`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use common::{Till, product};
use proptest::prelude::*;
use shopsync_core::Store;
use shopsync_core::bundle::Bundle;
use shopsync_core::change_bytes::{self, MAX_INFLATED_CHANGE_BYTES};
use shopsync_core::records::Record;
use shopsync_core::sync::wire::{self, DocChanges, SyncRequest, SyncResponse};

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---- the targets: each must return, whatever the bytes ----

fn wire_target(data: &[u8]) {
    if let Ok(req) = SyncRequest::decode(data) {
        // What decodes re-encodes to the same bytes.
        assert_eq!(req.encode(), data);
    }
    if let Ok(resp) = SyncResponse::decode(data) {
        assert_eq!(resp.encode(), data);
    }
    let _ = wire::gunzip(data, 1 << 20);
}

fn bundle_target(data: &[u8]) {
    let _ = Bundle::decode(data);
}

fn record_target(data: &[u8]) {
    if let Ok(r) = Record::decode(data) {
        let again = Record::decode(&r.encode().unwrap()).unwrap();
        assert_eq!(again, r);
    }
}

fn change_target(data: &[u8]) {
    // A small limit, so a mutation that turns on compression cannot make
    // the fuzzer allocate much either.
    if let Ok(c) = change_bytes::decode_change_bounded(data, 1 << 20) {
        assert!(c.raw_bytes().len() <= (1 << 20) + 32);
    }
}

/// One store for every CSV case (each import either commits or changes
/// nothing; errors are fine, panics are not).
fn csv_store() -> &'static Mutex<(tempfile::TempDir, Store)> {
    static STORE: OnceLock<Mutex<(tempfile::TempDir, Store)>> = OnceLock::new();
    STORE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Till {
            file: "fuzz.db",
            store: "Fuzz",
            name: "T",
            ..Till::default()
        }
        .open(dir.path())
        .unwrap();
        Mutex::new((dir, store))
    })
}

fn csv_target(data: &[u8]) {
    let mut guard = csv_store().lock().unwrap_or_else(|e| e.into_inner());
    let _ = guard.1.import_products_reader(data, &mut |_| {});
}

// ---- valid inputs to mutate ----

fn valid_change() -> Vec<u8> {
    use automerge::{AutoCommit, ROOT, transaction::Transactable};
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "name", "Milk 1l").unwrap();
    doc.put(ROOT, "blob", automerge::ScalarValue::Bytes(vec![7u8; 600]))
        .unwrap();
    doc.commit();
    // Over 256 bytes: Automerge stores it compressed (chunk type 2).
    doc.get_last_local_change().unwrap().bytes().to_vec()
}

fn valid_request() -> Vec<u8> {
    SyncRequest::new(
        42,
        vec![DocChanges {
            doc_id: "store/s/catalog".into(),
            changes: vec![valid_change(), vec![1, 2, 3]],
        }],
    )
    .encode()
}

fn valid_bundle() -> &'static Vec<u8> {
    static BUNDLE: OnceLock<Vec<u8>> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Till {
            file: "b.db",
            store: "Bundle",
            name: "T",
            stock: vec![(product("P", "Product", 100), 0)],
            ..Till::default()
        }
        .open(dir.path())
        .unwrap();
        store.export_bundle().unwrap().encode().unwrap()
    })
}

/// A bundle's body mutated, with its checksum recomputed so the mutation
/// reaches the parser instead of stopping at the checksum.
fn reseal(mut body: Vec<u8>) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(&body);
    body.extend_from_slice(&digest);
    body
}

const VALID_RECORD: &[u8] = br#"{"kind":"receipt","id":"r1","at":1,"supplier_id":null,"lines":[]}"#;

fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut out = base.to_vec();
    for &(pos, byte, op) in edits {
        if out.is_empty() {
            out.push(byte);
            continue;
        }
        let i = pos % out.len();
        match op % 4 {
            0 => out[i] = byte,
            1 => out.insert(i, byte),
            2 => {
                out.remove(i);
            }
            _ => out.truncate(i),
        }
    }
    out
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn wire_arbitrary(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        wire_target(&data);
    }

    #[test]
    fn wire_mutated(e in edits()) {
        wire_target(&mutate(&valid_request(), &e));
        let mut with_magic = b"SSYQ\x01\x00".to_vec();
        with_magic.extend(mutate(&[0u8; 16], &e));
        wire_target(&with_magic);
    }

    #[test]
    fn bundle_arbitrary(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        bundle_target(&data);
        let mut framed = b"SHOPSYNC-BUNDLE\n".to_vec();
        framed.extend(&data);
        bundle_target(&reseal(framed));
    }

    #[test]
    fn bundle_mutated(e in edits()) {
        let valid = valid_bundle();
        let body = &valid[..valid.len() - 32];
        bundle_target(&reseal(mutate(body, &e)));
        bundle_target(&mutate(valid, &e));
    }

    #[test]
    fn record_arbitrary(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        record_target(&data);
        let mut v1 = vec![1u8];
        v1.extend(&data);
        record_target(&v1);
    }

    #[test]
    fn record_mutated(e in edits()) {
        let mut valid = vec![1u8];
        valid.extend_from_slice(VALID_RECORD);
        record_target(&mutate(&valid, &e));
    }

    #[test]
    fn change_arbitrary(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        change_target(&data);
        // Behind a valid header of each chunk type.
        for t in 0u8..4 {
            let mut framed = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, t];
            let mut len = data.len() as u64;
            loop {
                let b = (len & 0x7f) as u8;
                len >>= 7;
                if len == 0 { framed.push(b); break; }
                framed.push(b | 0x80);
            }
            framed.extend(&data);
            change_target(&framed);
        }
    }

    #[test]
    fn change_mutated(e in edits()) {
        change_target(&mutate(&valid_change(), &e));
    }

    #[test]
    fn csv_arbitrary(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        csv_target(&data);
    }

    #[test]
    fn csv_mutated(e in edits()) {
        let valid = b"sku,name,price,barcode,tax_class,cost\nA1,Apple,1.20,4006381333931,,0.50\n";
        csv_target(&mutate(valid, &e));
    }
}

/// Every file under `tests/fuzz-corpus/{target}/` through its target.
#[test]
fn corpus_replays() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    type Target = fn(&[u8]);
    let targets: [(&str, Target); 5] = [
        ("wire", wire_target),
        ("bundle", bundle_target),
        ("record", record_target),
        ("change", change_target),
        ("csv", csv_target),
    ];
    let mut replayed = 0;
    for (name, target) in targets {
        let dir = root.join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            target(&std::fs::read(&f).unwrap());
            replayed += 1;
        }
    }
    assert!(replayed >= 5, "the corpus is missing ({replayed} files)");
}

/// The regression inputs the corpus must keep answering with an error.
#[test]
fn corpus_bombs_are_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let bomb = std::fs::read(root.join("change/compressed-bomb.bin")).unwrap();
    assert_eq!(
        change_bytes::check_change_bytes(&bomb, MAX_INFLATED_CHANGE_BYTES),
        Err(change_bytes::ChangeBytesError::TooLarge {
            limit: MAX_INFLATED_CHANGE_BYTES
        })
    );
    let lying = std::fs::read(root.join("wire/lying-change-count.bin")).unwrap();
    assert!(SyncRequest::decode(&lying).is_err());
}

/// A hand-made bundle whose compressed changes (each within the per-change
/// limit) together inflate far past the bundle's size is refused.
#[test]
fn a_bundle_of_compressed_bombs_is_refused() {
    use automerge::{AutoCommit, ROOT, transaction::Transactable};
    let mut doc = AutoCommit::new();
    doc.put(
        ROOT,
        "blob",
        automerge::ScalarValue::Bytes(vec![0u8; 7 << 20]),
    )
    .unwrap();
    doc.commit();
    let one = doc.get_last_local_change().unwrap().bytes().to_vec();
    // The same change ten times: decoding counts each copy.
    let changes = vec![one; 10];
    let put = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b);
    };
    let mut body = b"SHOPSYNC-BUNDLE\n".to_vec();
    body.extend_from_slice(&1u32.to_le_bytes());
    put(&mut body, b"s1");
    body.extend_from_slice(&1u32.to_le_bytes());
    put(&mut body, b"store/s1/catalog");
    body.extend_from_slice(&(changes.len() as u32).to_le_bytes());
    for c in &changes {
        put(&mut body, c);
    }
    let bundle = reseal(body);
    assert!(bundle.len() < 1 << 20, "{}", bundle.len());
    let err = Bundle::decode(&bundle).err().unwrap();
    assert!(err.to_string().contains("inflate to more than"), "{err}");
}
