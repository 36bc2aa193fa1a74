//! The in-memory index against the full-text query it replaces: the same
//! products in the same order, on a generated catalog and after the catalog
//! changes (edits, archiving, new products, another process, a rebuild).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::demo::DemoOptions;
use crate::error::Result;
use crate::store::{InitOptions, Store};
use crate::{NewProduct, ProductEdit};

const QUERIES: &[&str] = &[
    "s",
    "c",
    "ch",
    "choc",
    "chocolate",
    "milk",
    "dark choc",
    "milk 1l",
    "milk 1L",
    "fresh brea",
    "organic 500g",
    "family size",
    "6 pack",
    "pack spic",
    "sparkling clas",
    "tea single",
    "creme",
    "cafe",
    "brulee creme",
    "apfel",
    "P0001",
    "zzz",
    "1",
    "milk milk",
];

fn store(dir: &tempfile::TempDir) -> Result<Store> {
    let mut s = Store::init(
        &dir.path().join("s.db"),
        InitOptions {
            store_name: "Shop".into(),
            till_name: "T1".into(),
            currency: "EUR".into(),
        },
    )?;
    s.demo(
        &DemoOptions {
            products: 1500,
            days: 0,
            tills: 1,
            sales_per_day: 0,
            seed: 3,
        },
        &mut |_| {},
    )?;
    for (sku, name) in [
        ("X-1", "Crème Brûlée"),
        ("X-2", "CAFÉ Noir 250g"),
        ("X-3", "Äpfel Braeburn 1kg"),
        ("X-4", "Milk Milk Milk"),
    ] {
        s.add_product(product(sku, name))?;
    }
    Ok(s)
}

fn product(sku: &str, name: &str) -> NewProduct {
    NewProduct {
        sku: sku.into(),
        name: name.into(),
        price: 100,
        ..NewProduct::default()
    }
}

fn words(q: &str) -> Vec<&str> {
    q.split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Both paths, for every query, limits 20 and 300 (the latter past the
/// 200 candidates), with and without archived products.
fn same_as_fts(s: &Store, when: &str) -> Result<()> {
    for q in QUERIES {
        let w = words(q);
        let prefixes = super::ascii_prefixes(&w).expect("ASCII queries");
        for limit in [20, 300] {
            for archived in [false, true] {
                let ids = |v: Vec<shopsync_types::Product>| -> Vec<String> {
                    v.into_iter()
                        .map(|p| format!("{} {}", p.sku, p.name))
                        .collect()
                };
                let fts = ids(s.search_names_fts(&w, limit, archived)?);
                let mem = ids(s.search_names_in_memory(&prefixes, limit, archived)?);
                assert_eq!(mem, fts, "{when}: {q:?} limit {limit} archived {archived}");
            }
        }
    }
    Ok(())
}

#[test]
fn the_index_finds_what_the_full_text_query_finds() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(&dir)?;
    same_as_fts(&s, "built")?;

    // Renames (to and from non-ASCII names), archiving, new products.
    let edit = |name: &str| ProductEdit {
        name: Some(name.into()),
        ..ProductEdit::default()
    };
    s.edit_product("P000001", edit("Crème Fraîche 250g"))?;
    s.edit_product("X-2", edit("Cafe Latte Chocolate"))?;
    // A name of no tokens at all.
    s.edit_product("P000002", edit("- + -"))?;
    for sku in ["P000003", "P000004", "P000010"] {
        s.archive_product(sku)?;
    }
    s.add_product(product("Y-1", "Dark Chocolate Sea Salt 100g"))?;
    s.add_product(product("Y-2", "Zzz Sleep Tea"))?;
    same_as_fts(&s, "after edits")?;

    // Another process writing the same file.
    let mut other = Store::open(&dir.path().join("s.db"))?;
    other.add_product(product("Z-1", "Milk Chocolate Buttons 1L"))?;
    other.edit_product("P000005", edit("Apfelsaft Naturtrüb 1L"))?;
    drop(other);
    same_as_fts(&s, "after another process")?;

    // A rebuild empties and refills `products` (new row numbers).
    s.rebuild(&mut |_| {})?;
    same_as_fts(&s, "after a rebuild")?;
    Ok(())
}

#[test]
fn the_index_size_grows_with_products_and_stays_small_per_product() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir)?;
    let rows = |s: &Store| -> i64 {
        s.conn
            .query_row("SELECT COUNT(*) FROM products", [], |r| r.get(0))
            .unwrap()
    };
    let (n1, bytes1) = (rows(&s), s.prepare_search()?);
    // Twice the products: each name again, plus one word.
    s.conn.execute_batch(
        "INSERT INTO products (id, sku, name, price, active)
         SELECT 'copy-' || id, 'copy-' || sku, name || ' copy', price, active FROM products",
    )?;
    let (n2, bytes2) = (rows(&s), s.prepare_search()?);
    assert_eq!(n2, 2 * n1);
    // Rows and postings double; the vocabulary barely grows.
    assert!(
        bytes2 as f64 > bytes1 as f64 * 1.5,
        "{bytes1} bytes for {n1} products, {bytes2} for {n2}"
    );
    for (n, bytes) in [(n1, bytes1), (n2, bytes2)] {
        let per = bytes as f64 / n as f64;
        // docs/PERFORMANCE.md: ~130 bytes a product at 100k products; a
        // small catalog pays more for its vocabulary.
        assert!((40.0..400.0).contains(&per), "{per} bytes a product ({n})");
    }
    Ok(())
}

// Review fixes: a replaced file, one snapshot, stamps, vocabulary, first
// search, bad rows.

fn empty_store(path: &std::path::Path) -> Result<Store> {
    Store::init(
        path,
        InitOptions {
            store_name: "Shop".into(),
            till_name: "T1".into(),
            currency: "EUR".into(),
        },
    )
}

fn rename(name: &str) -> ProductEdit {
    ProductEdit {
        name: Some(name.into()),
        ..ProductEdit::default()
    }
}

/// The index's answer (built if need be) and the full-text table's.
fn both(s: &Store, q: &str) -> Result<(Vec<String>, Vec<String>)> {
    let w = words(q);
    let prefixes = super::ascii_prefixes(&w).expect("ASCII query");
    let names = |v: Vec<shopsync_types::Product>| v.into_iter().map(|p| p.name).collect();
    Ok((
        names(s.search_names_in_memory(&prefixes, 20, false)?),
        names(s.search_names_fts(&w, 20, false)?),
    ))
}

fn index_names(s: &Store, q: &str) -> Result<Vec<String>> {
    let prefixes = super::ascii_prefixes(&words(q)).expect("ASCII query");
    Ok(s.search_names_in_memory(&prefixes, 20, false)?
        .into_iter()
        .map(|p| p.name)
        .collect())
}

fn assert_same(s: &Store, queries: &[&str], when: &str) -> Result<()> {
    for q in queries {
        let (mem, fts) = both(s, q)?;
        assert_eq!(mem, fts, "{when}: {q:?}");
    }
    Ok(())
}

fn latest_stamp(s: &Store) -> i64 {
    s.conn
        .query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM products_changed",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

fn restore(path: &std::path::Path, backup: &std::path::Path) {
    let mut c = rusqlite::Connection::open(path).unwrap();
    c.restore(
        rusqlite::MAIN_DB,
        backup,
        None::<fn(rusqlite::backup::Progress)>,
    )
    .unwrap();
}

fn backup(s: &Store, to: &std::path::Path) {
    let _ = std::fs::remove_file(to);
    s.conn
        .execute("VACUUM INTO ?1", [to.to_str().unwrap()])
        .unwrap();
}

/// A file restored under the running process (SQLite's backup API, as
/// `sqlite3 till.db ".restore backup.db"` does), then written by another
/// process until its stamps pass the index's cursor: the index notices by
/// the stamp tag at its cursor and rebuilds.
#[test]
fn a_restored_file_is_noticed_after_others_write_past_the_cursor() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let (path, saved) = (dir.path().join("s.db"), dir.path().join("b.db"));
    let mut s = empty_store(&path)?;
    s.add_product(product("A", "Apple Juice"))?;
    s.add_product(product("B", "Banana Bread"))?;
    assert_eq!(index_names(&s, "banana")?, ["Banana Bread"]);
    backup(&s, &saved);
    s.edit_product("B", rename("Cherry Pie"))?;
    assert_eq!(index_names(&s, "cherry")?, ["Cherry Pie"]);
    let cursor = latest_stamp(&s);
    restore(&path, &saved);
    assert!(latest_stamp(&s) < cursor);
    let mut other = Store::open(&path)?;
    other.add_product(product("C", "Date Syrup"))?;
    other.add_product(product("D", "Elderflower Cordial"))?;
    drop(other);
    assert!(latest_stamp(&s) > cursor, "the stamps passed the cursor");
    let builds = s.search.builds();
    assert_same(
        &s,
        &["banana", "cherry", "date", "elder", "apple"],
        "restored",
    )?;
    assert_eq!(index_names(&s, "banana")?, ["Banana Bread"]);
    assert!(index_names(&s, "cherry")?.is_empty());
    assert_eq!(s.search.builds(), builds + 1);
    Ok(())
}

/// Stamps that went back (a restore, nothing written since): rebuilt.
#[test]
fn stamps_that_went_back_rebuild_the_index() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let (path, saved) = (dir.path().join("s.db"), dir.path().join("b.db"));
    let mut s = empty_store(&path)?;
    s.add_product(product("A", "Apple Juice"))?;
    backup(&s, &saved);
    s.prepare_search()?;
    s.add_product(product("B", "Banana Bread"))?;
    s.edit_product("A", rename("Apricot Jam"))?;
    assert_eq!(index_names(&s, "apricot")?, ["Apricot Jam"]);
    assert_eq!(s.search.builds(), 1, "caught up, not rebuilt");
    restore(&path, &saved);
    assert_same(&s, &["apple", "apricot", "banana"], "went back")?;
    assert_eq!(index_names(&s, "apple")?, ["Apple Juice"]);
    assert_eq!(s.search.builds(), 2);
    // The same stamp number with another history: a rebuild too.
    backup(&s, &saved);
    s.add_product(product("X", "Xigua Melon"))?;
    assert_eq!(index_names(&s, "xigua")?, ["Xigua Melon"]);
    let cursor = latest_stamp(&s);
    restore(&path, &saved);
    let mut other = Store::open(&path)?;
    other.add_product(product("F", "Fig Roll"))?;
    drop(other);
    assert_eq!(latest_stamp(&s), cursor);
    assert_same(&s, &["fig", "xigua", "apple"], "same number")?;
    assert_eq!(index_names(&s, "fig")?, ["Fig Roll"]);
    assert_eq!(s.search.builds(), 3);
    Ok(())
}

/// More changed rows than a catch-up is worth: one rebuild, right answers.
#[test]
fn many_changes_by_another_writer_rebuild_the_index() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = empty_store(&path)?;
    s.add_product(product("A", "Apple Juice"))?;
    s.prepare_search()?;
    let other = rusqlite::Connection::open(&path)?;
    other.execute_batch(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
         INSERT INTO products (id, sku, name, price, active)
         SELECT 'g' || i, 'G' || i, 'Gadget ' || i || CASE i % 2 WHEN 0 THEN ' even' ELSE '' END,
                100, 1 FROM n",
    )?;
    assert_same(&s, &["gadget", "gadget even", "apple", "gadget 12"], "many")?;
    assert_eq!(s.search.builds(), 2, "rebuilt, not caught up");
    // A few more: caught up.
    other.execute("UPDATE products SET name = 'Gizmo' WHERE sku = 'G7'", [])?;
    assert_same(&s, &["gizmo", "gadget even"], "few")?;
    assert_eq!(s.search.builds(), 2);
    Ok(())
}

/// The rows come from the snapshot the matches came from: a rename by
/// another writer between the two never returns a product that does not
/// match the query.
#[test]
fn rows_are_read_in_the_snapshot_they_matched_in() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = empty_store(&path)?;
    for (i, n) in ["Dark Chocolate", "Oat Milk", "Milk Chocolate", "Rye Bread"]
        .iter()
        .enumerate()
    {
        s.add_product(product(&format!("S{i}"), n))?;
    }
    s.prepare_search()?;
    let writer = path.clone();
    *s.search.after_find.lock().unwrap() = Some(Box::new(move || {
        let mut other = Store::open(&writer).unwrap();
        other.edit_product("S0", rename("Green Apple")).unwrap();
    }));
    let got = index_names(&s, "choc")?;
    assert!(
        s.search.after_find.lock().unwrap().is_none(),
        "the hook ran"
    );
    assert!(got.iter().all(|n| n.contains("Chocolate")), "{got:?}");
    // The next search sees the rename.
    assert_eq!(index_names(&s, "choc")?, ["Milk Chocolate"]);
    assert_eq!(index_names(&s, "green")?, ["Green Apple"]);
    // Inside the caller's transaction: no nested BEGIN.
    let tx = s.conn.unchecked_transaction()?;
    assert_eq!(index_names(&s, "apple")?, ["Green Apple"]);
    tx.commit()?;
    Ok(())
}

/// A price-only edit leaves the log alone; a rename stamps once.
#[test]
fn only_name_and_active_changes_stamp_once() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let mut s = empty_store(&dir.path().join("s.db"))?;
    s.add_product(product("A", "Apple Juice"))?;
    let before = latest_stamp(&s);
    s.edit_product(
        "A",
        ProductEdit {
            price: Some(250),
            ..ProductEdit::default()
        },
    )?;
    assert_eq!(latest_stamp(&s), before, "a price edit stamped");
    s.edit_product("A", rename("Apple Juice 1L"))?;
    assert_eq!(latest_stamp(&s), before + 1, "a rename stamps once");
    s.archive_product("A")?;
    assert_eq!(latest_stamp(&s), before + 2);
    Ok(())
}

/// 1,000 renames of one product leave an index the size of a fresh one.
#[test]
fn renames_keep_the_index_small() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = empty_store(&path)?;
    s.add_product(product("A", "Apple Juice"))?;
    s.add_product(product("B", "Banana Bread Wholemeal"))?;
    s.prepare_search()?;
    let writer = rusqlite::Connection::open(&path)?;
    for n in 0..1000 {
        writer.execute(
            "UPDATE products SET name = ?1 WHERE sku = 'A'",
            [format!("Apple Juice batch{n}")],
        )?;
        s.prepare_search()?;
        let (terms, dead) = s.search.terms();
        assert!(
            dead * 2 <= terms && terms <= 12,
            "{terms} terms, {dead} dead"
        );
    }
    let grown = s.prepare_search()?;
    let fresh = Store::open(&path)?.prepare_search()?;
    assert!(grown < fresh * 2, "{grown} bytes vs {fresh} built fresh");
    assert_eq!(s.search.builds(), 1, "caught up every time");
    assert_same(&s, &["apple", "batch999", "batch5", "bread"], "renamed")?;
    Ok(())
}

/// The first name search of a store is the full-text query (a one-shot
/// command never builds the index); the second builds it.
#[test]
fn the_first_name_search_does_not_build_the_index() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(store(&dir)?);
    let s = Store::open(&path)?;
    let first = s.search_products("dark choc", 20, false)?;
    assert_eq!(s.search.builds(), 0);
    let second = s.search_products("dark choc", 20, false)?;
    assert_eq!(s.search.builds(), 1);
    assert_eq!(first, second);
    s.search_products("milk", 20, false)?;
    assert_eq!(s.search.builds(), 1);
    // Prepared ahead: the first search uses it.
    let s = Store::open(&path)?;
    s.prepare_search()?;
    s.search_products("milk", 20, false)?;
    assert_eq!(s.search.builds(), 1);
    Ok(())
}

/// A name that is not UTF-8 (written by another tool) fails neither the
/// build nor a catch-up nor the searches that match it.
#[test]
fn a_name_that_is_not_utf8_fails_no_search() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = empty_store(&path)?;
    s.add_product(product("A", "Dark Chocolate"))?;
    s.add_product(product("B", "Milk Bar"))?;
    s.add_product(product("C", "Milk Chocolate"))?;
    let bad = "UPDATE products SET name = CAST(?1 AS TEXT) WHERE sku = ?2";
    let other = rusqlite::Connection::open(&path)?;
    other.execute(bad, rusqlite::params![b"Milk \xff Bar".to_vec(), "B"])?;
    // Built with the bad row.
    assert_eq!(index_names(&s, "dark")?, ["Dark Chocolate"]);
    assert_eq!(index_names(&s, "milk")?, ["Milk Chocolate"]);
    // Caught up with another.
    other.execute(bad, rusqlite::params![b"Dark \xfe Bar".to_vec(), "A"])?;
    assert_eq!(index_names(&s, "choc")?, ["Milk Chocolate"]);
    assert_eq!(index_names(&s, "bar")?, Vec::<String>::new());
    // The full-text query (a store's first name search) too.
    for q in ["dark", "milk", "bar", "choc"] {
        let (mem, fts) = both(&s, q)?;
        assert_eq!(mem, fts, "{q}");
        Store::open(&path)?.search_products(q, 20, false)?;
    }
    Ok(())
}

/// A store at version 6 upgraded to 7 (an empty log) is searched right,
/// before and after others write.
/// What migration 08 (staff) added, undone, for a store taken back to an
/// older version.
const UNDO_08: &str = "DROP INDEX sales_staff; DROP INDEX refunds_staff; DROP TABLE staff;
    ALTER TABLE sales DROP COLUMN staff_id; ALTER TABLE sales DROP COLUMN approver_id;
    ALTER TABLE refunds DROP COLUMN staff_id; ALTER TABLE refunds DROP COLUMN approver_id;
    ALTER TABLE stock_records DROP COLUMN staff_id; ALTER TABLE stock_records DROP COLUMN approver_id;";

#[test]
fn a_store_upgraded_from_version_6_is_searched_right() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    {
        let mut s = empty_store(&path)?;
        s.add_product(product("A", "Apple Juice"))?;
        s.add_product(product("B", "Banana Bread"))?;
    }
    rusqlite::Connection::open(&path)?.execute_batch(BACK_TO_VERSION_6)?;
    rusqlite::Connection::open(&path)?.execute_batch(UNDO_08)?;
    let mut s = Store::open(&path)?;
    assert_eq!(index_names(&s, "apple")?, ["Apple Juice"]);
    let mut other = Store::open(&path)?;
    other.edit_product("A", rename("Apricot Jam"))?;
    assert_eq!(index_names(&s, "apri")?, ["Apricot Jam"]);
    s.add_product(product("C", "Apple Pie"))?;
    assert_eq!(index_names(&s, "apple")?, ["Apple Pie"]);
    Ok(())
}

/// Two stores upgraded from version 6 (empty logs): one put in the other's
/// place under a running process is noticed (stamp 0's mark differs).
#[test]
fn a_file_replaced_before_any_stamp_is_noticed() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = (dir.path().join("x.db"), dir.path().join("y.db"));
    for (path, names) in [
        (&x, ["Apple Juice", "Banana Bread"]),
        (&y, ["Cherry Pie", "Apple Cake"]),
    ] {
        {
            let mut s = empty_store(path)?;
            s.add_product(product("A", names[0]))?;
            s.add_product(product("B", names[1]))?;
        }
        rusqlite::Connection::open(path)?.execute_batch(BACK_TO_VERSION_6)?;
        rusqlite::Connection::open(path)?.execute_batch(UNDO_08)?;
    }
    let s = Store::open(&x)?;
    assert_eq!(latest_stamp(&s), 0, "no stamp since the upgrade");
    assert_eq!(index_names(&s, "apple")?, ["Apple Juice"]);
    drop(Store::open(&y)?);
    restore(&x, &y);
    assert_same(&s, &["apple", "cherry", "banana"], "after the swap")?;
    Ok(())
}

fn rnd(rng: &mut u64) -> usize {
    *rng = rng
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*rng >> 33) as usize
}

fn compare(s: &Store, all_names: &[String], when: &str, rng: &mut u64) -> Result<()> {
    let mut checked = 0;
    for _ in 0..150 {
        let nw = 1 + rnd(rng) % 3;
        let mut words = Vec::new();
        for _ in 0..nw {
            let n = &all_names[rnd(rng) % all_names.len()];
            let toks: Vec<&str> = n
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty() && w.is_ascii())
                .collect();
            if toks.is_empty() {
                continue;
            }
            let t = toks[rnd(rng) % toks.len()].to_ascii_lowercase();
            let l = 1 + rnd(rng) % t.len();
            words.push(t[..l].to_string());
        }
        if words.is_empty() {
            continue;
        }
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let prefixes = super::ascii_prefixes(&w).unwrap();
        for limit in [1, 5, 20, 300] {
            for archived in [false, true] {
                let f: Vec<String> = s
                    .search_names_fts(&w, limit, archived)?
                    .into_iter()
                    .map(|p| p.name)
                    .collect();
                let m: Vec<String> = s
                    .search_names_in_memory(&prefixes, limit, archived)?
                    .into_iter()
                    .map(|p| p.name)
                    .collect();
                assert_eq!(m, f, "{when}: {w:?} limit {limit} archived {archived}");
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "{when}");
    Ok(())
}

/// Review: both paths on crafted names, pk gaps, raw deletes/inserts (incl. an
/// explicit low pk), random prefix queries.
#[test]
fn the_index_agrees_with_fts_on_odd_names_and_raw_writes() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = empty_store(&path)?;
    let base = [
        "Milk 1L",
        "Milk 1.5L",
        "Milk Milk",
        "x-ray film",
        "O'Brien Crisps",
        "ÉCLAIR au café",
        "Eclair",
        "2x500ml Cola",
        "Cola Zero 2x500ml",
        "Straße Brot",
        "strasse",
        "ﬁsh ﬁngers",
        "fish fingers",
        "Ünïcödé Milk",
        "MILK milk Milk",
        "milk",
        "Milky Way",
        "a b c d e f g",
        "Chocolate 70% Dark",
        "dark-chocolate",
        "Über Tea",
        "UBER tea",
        "tea",
        "Tea for two",
        "  spaced   name  ",
        "日本 tea",
        "N°5 perfume",
        "½ price milk",
        "Ⅻ roman",
        "x",
    ];
    let mut rng = 12345u64;
    let mut all_names = Vec::new();
    for i in 0..400 {
        let a = base[rnd(&mut rng) % base.len()];
        let b = base[rnd(&mut rng) % base.len()];
        let n = if i % 3 == 0 {
            a.trim().to_string()
        } else {
            format!("{} {}", a.trim(), b.trim())
        };
        all_names.push(n.clone());
        s.add_product(product(&format!("F{i}"), &n))?;
        if i % 11 == 0 {
            s.archive_product(&format!("F{i}"))?;
        }
    }
    compare(&s, &all_names, "built", &mut rng)?;
    let c = rusqlite::Connection::open(&path)?;
    c.execute_batch("DELETE FROM products WHERE pk % 7 = 0;")?;
    compare(&s, &all_names, "after deletes", &mut rng)?;
    for (pk, n) in [
        (None, "Milk Shake"),
        (Some(7i64), "Tea Milk 1L"),
        (None, "Eclair milk"),
    ] {
        c.execute(
            "INSERT INTO products (pk, id, sku, name, price, active) VALUES (?1, ?2, ?2, ?3, 1, 1)",
            rusqlite::params![pk, format!("raw-{n}"), n],
        )?;
        all_names.push(n.to_string());
    }
    compare(&s, &all_names, "after raw inserts", &mut rng)?;
    let mut other = Store::open(&path)?;
    other.rebuild(&mut |_| {})?;
    drop(other);
    compare(&s, &all_names, "after rebuild elsewhere", &mut rng)?;
    Ok(())
}

/// Undoes migrations 07 (the search log), 09 (archived categories), 10
/// (drawer sessions), 11 (purchasing), 12 (favourites) and 13 (receipt costs); with `UNDO_08` (staff) the file is then as a till of
/// schema version 6 left it.
const BACK_TO_VERSION_6: &str =
    "DROP INDEX sales_drawer_session; DROP INDEX refunds_drawer_session;
     ALTER TABLE sales DROP COLUMN drawer_session; ALTER TABLE refunds DROP COLUMN drawer_session;
     DROP TABLE drawer_counts; DROP TABLE drawer_records;
     DROP TRIGGER products_changed_insert; DROP TRIGGER products_changed_update;
     DROP TRIGGER products_changed_delete; DROP TABLE products_changed;
     DROP TABLE products_changed_marks;
     DROP INDEX products_category; ALTER TABLE categories DROP COLUMN archived;
     DROP TABLE purchase_order_lines; DROP TABLE purchase_order_records;
     ALTER TABLE products DROP COLUMN reorder_target;
     DROP TABLE receipt_costs;
     DROP INDEX products_favourite; ALTER TABLE products DROP COLUMN favourite_pos;
     PRAGMA user_version = 6;";
