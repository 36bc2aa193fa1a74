//! The Sell screen's favourites grid: added, moved and removed in order,
//! refused when wrong, kept by a catalog edit's rules, and the same on two
//! tills that edited it offline.

mod common;

use common::{R, Till, add_staff, product, send, verify_clean};
use shopsync_core::{CoreError, ProductEdit, Store};

fn grid(s: &Store) -> Result<Vec<String>, CoreError> {
    Ok(s.favourites()?.into_iter().map(|f| f.sku).collect())
}

fn shop(dir: &std::path::Path) -> Result<Store, CoreError> {
    let mut s = Till::default().open(dir)?;
    for (sku, name, price) in [
        ("BUN", "Bun", 60),
        ("COFFEE", "Coffee", 250),
        ("TEA", "Tea", 180),
        ("CAKE", "Cake", 320),
    ] {
        s.add_product(product(sku, name, price))?;
    }
    Ok(s)
}

#[test]
fn favourites_are_added_moved_and_removed_in_order() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = shop(dir.path())?;
    assert!(s.favourites()?.is_empty());

    s.add_favourite("COFFEE", None)?;
    s.add_favourite("TEA", None)?;
    let list = s.add_favourite("BUN", Some(1))?;
    assert_eq!(grid(&s)?, vec!["BUN", "COFFEE", "TEA"]);
    assert_eq!(
        list.iter().map(|f| f.pos).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(list[1].name, "Coffee");
    assert_eq!(list[1].price.minor, 250);

    // A place past the end means last; moving closes up the gap.
    s.add_favourite("CAKE", Some(99))?;
    assert_eq!(grid(&s)?, vec!["BUN", "COFFEE", "TEA", "CAKE"]);
    s.move_favourite("CAKE", 2)?;
    assert_eq!(grid(&s)?, vec!["BUN", "CAKE", "COFFEE", "TEA"]);
    s.move_favourite("BUN", 4)?;
    assert_eq!(grid(&s)?, vec!["CAKE", "COFFEE", "TEA", "BUN"]);
    let list = s.remove_favourite("COFFEE")?;
    assert_eq!(grid(&s)?, vec!["CAKE", "TEA", "BUN"]);
    assert_eq!(
        list.iter().map(|f| f.pos).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );

    // An archived favourite leaves the grid and keeps its place.
    s.archive_product("TEA")?;
    assert_eq!(grid(&s)?, vec!["CAKE", "BUN"]);
    s.edit_product(
        "TEA",
        ProductEdit {
            active: Some(true),
            ..ProductEdit::default()
        },
    )?;
    assert_eq!(grid(&s)?, vec!["CAKE", "TEA", "BUN"]);
    // A product edit leaves the grid alone and is no conflict.
    let tea = s.edit_product(
        "TEA",
        ProductEdit {
            price: Some(190),
            ..ProductEdit::default()
        },
    )?;
    assert!(tea.conflicts.is_empty());
    assert_eq!(grid(&s)?, vec!["CAKE", "TEA", "BUN"]);
    verify_clean(&s)?;
    Ok(())
}

#[test]
fn many_moves_to_the_front_keep_the_order() -> R {
    // Each move to place 1 halves the room before the first favourite;
    // when none is left the grid is numbered afresh, in the same order.
    let dir = tempfile::tempdir()?;
    let mut s = shop(dir.path())?;
    let mut expected: Vec<&str> = vec!["BUN", "COFFEE", "TEA", "CAKE"];
    for sku in &expected {
        s.add_favourite(sku, None)?;
    }
    for round in 0..40 {
        let sku = expected[(round * 3 + 1) % expected.len()];
        expected.retain(|x| *x != sku);
        let to = round % 3;
        expected.insert(to, sku);
        s.move_favourite(sku, to as i64 + 1)?;
        assert_eq!(grid(&s)?, expected, "round {round}");
    }
    verify_clean(&s)?;
    Ok(())
}

#[test]
fn wrong_favourite_edits_are_refused_and_change_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = shop(dir.path())?;
    s.add_favourite("BUN", None)?;
    s.add_favourite("TEA", None)?;
    s.archive_product("CAKE")?;
    let before = s.favourites()?;

    assert!(matches!(
        s.add_favourite("BUN", None),
        Err(CoreError::Conflict(_))
    ));
    for pos in [0, -3] {
        assert!(s.add_favourite("COFFEE", Some(pos)).is_err(), "{pos}");
        assert!(s.move_favourite("BUN", pos).is_err(), "{pos}");
    }
    assert!(s.add_favourite("NOPE", None).is_err());
    assert!(s.add_favourite("CAKE", None).is_err(), "archived");
    assert!(s.move_favourite("COFFEE", 1).is_err(), "not a favourite");
    assert!(s.remove_favourite("COFFEE").is_err(), "not a favourite");
    assert!(s.remove_favourite("").is_err());
    assert_eq!(s.favourites()?, before);
    Ok(())
}

#[test]
fn only_a_manager_changes_the_grid() -> R {
    use common::operator;
    use shopsync_core::staff::StaffRole;
    let dir = tempfile::tempdir()?;
    let mut s = shop(dir.path())?;
    add_staff(&mut s, None, "Mia", StaffRole::Manager, "9999")?;
    let boss = operator(&mut s, "9999", None)?;
    add_staff(&mut s, Some(&boss), "Cas", StaffRole::Cashier, "1111")?;
    let cashier = operator(&mut s, "1111", None)?;
    s.acting(Some(boss.clone()), |s| s.add_favourite("BUN", None))?;
    let before = s.favourites()?;

    let refused = s.acting(Some(cashier.clone()), |s| s.add_favourite("TEA", None));
    assert!(
        matches!(refused, Err(CoreError::ApprovalNeeded { .. })),
        "{refused:?}"
    );
    assert!(
        s.acting(Some(cashier.clone()), |s| s.remove_favourite("BUN"))
            .is_err()
    );
    assert_eq!(s.favourites()?, before);
    // With a manager's approval the cashier may.
    let approved = operator(&mut s, "1111", Some("9999"))?;
    s.acting(Some(approved), |s| s.add_favourite("TEA", None))?;
    assert_eq!(grid(&s)?, vec!["BUN", "TEA"]);
    Ok(())
}

#[test]
fn two_tills_editing_the_grid_offline_converge() -> R {
    let dir = tempfile::tempdir()?;
    let mut a = shop(dir.path())?;
    a.add_favourite("BUN", None)?;
    a.add_favourite("COFFEE", None)?;
    let mut b = common::till_from(dir.path(), &a, "B", None)?;

    // Offline: A adds Tea first and moves Coffee up; B adds Cake first and
    // removes Bun.
    a.add_favourite("TEA", Some(1))?;
    a.move_favourite("COFFEE", 1)?;
    b.add_favourite("CAKE", Some(1))?;
    b.remove_favourite("BUN")?;
    send(&a, &mut b)?;
    send(&b, &mut a)?;

    // Each till wrote only the products it placed or removed: every edit
    // survives, in one order on both tills.
    assert_eq!(a.favourites()?, b.favourites()?);
    assert_eq!(grid(&a)?, vec!["COFFEE", "CAKE", "TEA"]);
    // Places set on both tills are no product conflict.
    assert!(a.product("COFFEE")?.conflicts.is_empty());

    // Places are 1, 2, 3… whatever numbers the merge left.
    let after = a.move_favourite("CAKE", 3)?;
    assert_eq!(
        after.iter().map(|f| f.pos).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    send(&a, &mut b)?;
    assert_eq!(b.favourites()?, after);
    verify_clean(&a)?;
    verify_clean(&b)?;
    Ok(())
}

#[test]
fn a_grid_an_older_version_kept_is_shown_after_the_upgrade() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.db");
    {
        let mut s = shop(dir.path())?;
        s.add_favourite("TEA", None)?;
        s.add_favourite("BUN", Some(1))?;
    }
    // As a version-11 till left it: the numbers are in the catalog
    // document (synced from a newer till), with no column to project them.
    rusqlite::Connection::open(&path)?.execute_batch(&format!(
        "{} PRAGMA user_version = 11;",
        common::UNDO_MIGRATION_12
    ))?;
    let s = Store::open(&path)?;
    assert_eq!(grid(&s)?, vec!["BUN", "TEA"]);
    let due: i64 = s.connection().query_row(
        "SELECT COUNT(*) FROM meta WHERE key = 'projection.favourites_due'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(due, 0, "once");
    verify_clean(&s)?;
    Ok(())
}

#[test]
fn a_merge_hands_the_star_on_and_an_archived_favourite_can_be_taken_off() -> R {
    let dir = tempfile::tempdir()?;
    let mut s = shop(dir.path())?;
    s.add_favourite("COFFEE", None)?;
    s.add_favourite("TEA", None)?;
    // CAKE is merged into BUN: BUN had no place, it takes CAKE's.
    s.add_favourite("CAKE", Some(1))?;
    let (bun, cake) = (s.product("BUN")?.id, s.product("CAKE")?.id);
    s.merge_products(&bun, &cake)?;
    assert_eq!(grid(&s)?, vec!["BUN", "COFFEE", "TEA"]);
    // An archived favourite leaves the grid and can still be taken off it.
    s.archive_product("TEA")?;
    assert_eq!(grid(&s)?, vec!["BUN", "COFFEE"]);
    s.remove_favourite("TEA")?;
    s.edit_product(
        "TEA",
        ProductEdit {
            active: Some(true),
            ..ProductEdit::default()
        },
    )?;
    assert_eq!(
        grid(&s)?,
        vec!["BUN", "COFFEE"],
        "restored without its star"
    );
    verify_clean(&s)
}
