//! Three devices of one customer start from one document, edit it offline
//! at random (lists, items, favourites, profile), merge in random pairs as
//! they go and with everyone in a random order at the end. Then all three
//! read the same, and no edit is lost: every list and item created and never
//! deleted is there exactly once, a field written once (a rename, a quantity,
//! a tick, a text edit, the profile) holds what was written whatever was done
//! concurrently to the other fields, and favourites added and never removed
//! are there.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};

use automerge::AutoCommit;
use common::{customer_devices, merge_everyone, merge_into};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shopsync_core::customer;
use shopsync_core::types::{CustomerView, ItemWhat};

type BoxErr = Box<dyn std::error::Error>;

const DEVICES: u8 = 3;
const NAMES: [&str; 5] = ["Groceries", "Weekly shop", "Party", "Hardware", "Pharmacy"];
const TEXTS: [&str; 6] = ["milk", "bread", "eggs", "olive oil", "green tea", "rice"];
const STORES: [&str; 3] = ["s0", "s1", "s2"];
const EMAILS: [&str; 2] = ["ada@example.org", "ada@example.com"];

#[derive(Debug, Clone)]
enum Op {
    CreateList {
        name: usize,
    },
    RenameList {
        list: usize,
        name: usize,
    },
    DeleteList {
        list: usize,
    },
    AddText {
        list: usize,
        text: usize,
        qty: i64,
    },
    AddProduct {
        list: usize,
        store: usize,
        sku: u8,
        qty: i64,
    },
    SetQty {
        list: usize,
        item: usize,
        qty: i64,
    },
    Tick {
        list: usize,
        item: usize,
        checked: bool,
    },
    EditText {
        list: usize,
        item: usize,
        text: usize,
    },
    Remove {
        list: usize,
        item: usize,
    },
    Move {
        list: usize,
        item: usize,
        to: usize,
    },
    Favourite {
        store: usize,
        add: bool,
    },
    SetName {
        name: usize,
    },
    SetEmail {
        email: Option<usize>,
    },
    /// Device `from` syncs into the acting device.
    Merge {
        from: usize,
    },
}

#[derive(Debug, Clone)]
struct Step {
    device: usize,
    op: Op,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let n = NAMES.len();
    let t = TEXTS.len();
    let qty = prop_oneof![1i64..5, Just(10_000i64)];
    prop_oneof![
        1 => (0..n).prop_map(|name| Op::CreateList { name }),
        4 => (any::<usize>(), 0..n).prop_map(|(list, name)| Op::RenameList { list, name }),
        1 => any::<usize>().prop_map(|list| Op::DeleteList { list }),
        8 => (any::<usize>(), 0..t, qty.clone()).prop_map(|(list, text, qty)| Op::AddText { list, text, qty }),
        4 => (any::<usize>(), 0..STORES.len(), 0u8..4, qty.clone())
            .prop_map(|(list, store, sku, qty)| Op::AddProduct { list, store, sku, qty }),
        6 => (any::<usize>(), any::<usize>(), qty).prop_map(|(list, item, qty)| Op::SetQty { list, item, qty }),
        6 => (any::<usize>(), any::<usize>(), any::<bool>())
            .prop_map(|(list, item, checked)| Op::Tick { list, item, checked }),
        4 => (any::<usize>(), any::<usize>(), 0..t).prop_map(|(list, item, text)| Op::EditText { list, item, text }),
        4 => (any::<usize>(), any::<usize>()).prop_map(|(list, item)| Op::Remove { list, item }),
        8 => (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(list, item, to)| Op::Move { list, item, to }),
        4 => (0..STORES.len(), any::<bool>()).prop_map(|(store, add)| Op::Favourite { store, add }),
        2 => (0..n).prop_map(|name| Op::SetName { name }),
        2 => proptest::option::of(0..EMAILS.len()).prop_map(|email| Op::SetEmail { email }),
        8 => (0..DEVICES as usize).prop_map(|from| Op::Merge { from }),
    ]
}

fn scenario() -> impl Strategy<Value = (Vec<Step>, Vec<usize>)> {
    (
        proptest::collection::vec(
            (0..DEVICES as usize, op_strategy()).prop_map(|(device, op)| Step { device, op }),
            1..48,
        ),
        Just((0..DEVICES as usize).collect::<Vec<usize>>()).prop_shuffle(),
    )
}

/// Every successful write, from every device: what the merged document must
/// show.
#[derive(Default)]
struct Log {
    lists: Vec<String>,
    deleted_lists: HashSet<String>,
    /// List name as created, and every rename of it.
    names: HashMap<String, (String, Vec<String>)>,
    /// Item id → its list.
    items: HashMap<String, String>,
    removed: HashSet<String>,
    /// Item id → (value when added, values written later).
    qty: HashMap<String, (i64, Vec<i64>)>,
    checked: HashMap<String, Vec<bool>>,
    texts: HashMap<String, (String, Vec<String>)>,
    fav_added: HashSet<String>,
    fav_removed: HashSet<String>,
    profile_names: Vec<String>,
    emails: Vec<Option<String>>,
}

/// The list at `list`, the item at `item` of it, as device `doc` sees them.
fn pick(view: &CustomerView, list: usize, item: Option<usize>) -> Option<(String, Option<String>)> {
    if view.lists.is_empty() {
        return None;
    }
    let l = &view.lists[list % view.lists.len()];
    match item {
        None => Some((l.id.clone(), None)),
        Some(_) if l.items.is_empty() => None,
        Some(i) => Some((l.id.clone(), Some(l.items[i % l.items.len()].id.clone()))),
    }
}

fn apply(devices: &mut [AutoCommit], d: usize, op: &Op, log: &mut Log) -> Result<(), BoxErr> {
    if let Op::Merge { from } = op {
        merge_into(devices, *from, d)?;
        no_duplicates(&customer::read(&devices[d])?)?;
        return Ok(());
    }
    let view = customer::read(&devices[d])?;
    let doc = &mut devices[d];
    let list_of = |list: usize| pick(&view, list, None).map(|(l, _)| l);
    let item_of = |list: usize, item: usize| {
        pick(&view, list, Some(item)).and_then(|(l, i)| i.map(|i| (l, i)))
    };
    match op {
        Op::CreateList { name } => {
            let id = customer::create_list(doc, NAMES[*name])?;
            log.lists.push(id.clone());
            log.names.insert(id, (NAMES[*name].to_string(), Vec::new()));
        }
        Op::RenameList { list, name } => {
            if let Some(l) = list_of(*list) {
                customer::rename_list(doc, &l, NAMES[*name])?;
                if let Some((_, renames)) = log.names.get_mut(&l) {
                    renames.push(NAMES[*name].to_string());
                }
            }
        }
        Op::DeleteList { list } => {
            if let Some(l) = list_of(*list) {
                customer::delete_list(doc, &l)?;
                log.deleted_lists.insert(l);
            }
        }
        Op::AddText { list, text, qty } => {
            if let Some(l) = list_of(*list) {
                let what = ItemWhat::Text {
                    text: TEXTS[*text].to_string(),
                };
                let id = customer::add_item(doc, &l, &what, *qty)?;
                log.texts
                    .insert(id.clone(), (TEXTS[*text].to_string(), Vec::new()));
                log.qty.insert(id.clone(), (*qty, Vec::new()));
                log.items.insert(id, l);
            }
        }
        Op::AddProduct {
            list,
            store,
            sku,
            qty,
        } => {
            if let Some(l) = list_of(*list) {
                let what = ItemWhat::Product {
                    store_id: STORES[*store].to_string(),
                    sku: format!("SKU-{sku}"),
                };
                let id = customer::add_item(doc, &l, &what, *qty)?;
                log.qty.insert(id.clone(), (*qty, Vec::new()));
                log.items.insert(id, l);
            }
        }
        Op::SetQty { list, item, qty } => {
            if let Some((l, i)) = item_of(*list, *item) {
                customer::set_qty(doc, &l, &i, *qty)?;
                if let Some((_, w)) = log.qty.get_mut(&i) {
                    w.push(*qty);
                }
            }
        }
        Op::Tick {
            list,
            item,
            checked,
        } => {
            if let Some((l, i)) = item_of(*list, *item) {
                customer::set_checked(doc, &l, &i, *checked)?;
                log.checked.entry(i).or_default().push(*checked);
            }
        }
        Op::EditText { list, item, text } => {
            if let Some((l, i)) = item_of(*list, *item)
                && let Some((_, edits)) = log.texts.get_mut(&i)
            {
                customer::set_item_text(doc, &l, &i, TEXTS[*text])?;
                edits.push(TEXTS[*text].to_string());
            }
        }
        Op::Remove { list, item } => {
            if let Some((l, i)) = item_of(*list, *item) {
                customer::remove_item(doc, &l, &i)?;
                log.removed.insert(i);
            }
        }
        Op::Move { list, item, to } => {
            if let Some((l, i)) = item_of(*list, *item) {
                let len = view
                    .lists
                    .iter()
                    .find(|x| x.id == l)
                    .map_or(1, |x| x.items.len());
                customer::move_item(doc, &l, &i, to % len)?;
                // Moved where asked, on this device.
                let after = customer::read_list(doc, &l)?.ok_or("list vanished")?;
                if after.items.get(to % len).map(|x| x.id.as_str()) != Some(i.as_str()) {
                    return Err(format!("{i} is not at {} after the move", to % len).into());
                }
            }
        }
        Op::Favourite { store, add } => {
            let s = STORES[*store];
            if *add {
                customer::add_favourite(doc, s)?;
                log.fav_added.insert(s.to_string());
            } else {
                customer::remove_favourite(doc, s)?;
                log.fav_removed.insert(s.to_string());
            }
        }
        Op::SetName { name } => {
            customer::set_name(doc, NAMES[*name])?;
            log.profile_names.push(NAMES[*name].to_string());
        }
        Op::SetEmail { email } => {
            let e = email.map(|i| EMAILS[i]);
            customer::set_email(doc, e)?;
            log.emails.push(e.map(str::to_string));
        }
        Op::Merge { .. } => {}
    }
    doc.commit();
    Ok(())
}

/// No list shows an item twice (a concurrent move leaves two order entries).
fn no_duplicates(view: &CustomerView) -> Result<(), BoxErr> {
    for l in &view.lists {
        let ids: HashSet<&str> = l.items.iter().map(|i| i.id.as_str()).collect();
        if ids.len() != l.items.len() {
            return Err(format!("list {} shows an item twice: {l:?}", l.id).into());
        }
    }
    Ok(())
}

/// The value a field must hold: what its one write wrote, the value it was
/// created with if nobody wrote it, or (several concurrent or successive
/// writes) any of those.
fn allowed<T: PartialEq + Clone>(initial: T, writes: &[T]) -> Vec<T> {
    match writes {
        [] => vec![initial],
        [one] => vec![one.clone()],
        many => std::iter::once(initial)
            .chain(many.iter().cloned())
            .collect(),
    }
}

fn check(view: &CustomerView, log: &Log) -> Result<(), BoxErr> {
    no_duplicates(view)?;
    let fail = |what: String| -> Result<(), BoxErr> { Err(what.into()) };

    // Lists: every one created and never deleted, and only those.
    let shown: BTreeSet<&str> = view.lists.iter().map(|l| l.id.as_str()).collect();
    let expected: BTreeSet<&str> = log
        .lists
        .iter()
        .filter(|l| !log.deleted_lists.contains(*l))
        .map(String::as_str)
        .collect();
    if shown != expected {
        return fail(format!("lists {shown:?}, expected {expected:?}"));
    }
    for l in &view.lists {
        let (created, renames) = &log.names[&l.id];
        if !allowed(created.clone(), renames).contains(&l.name) && renames.len() < 2 {
            return fail(format!(
                "list {} is named {:?}, expected {created:?} / {renames:?}",
                l.id, l.name
            ));
        }
        if l.name.is_empty() {
            return fail(format!("list {} lost its name", l.id));
        }
        // Items: every one added to this list and never removed, once.
        let shown: BTreeSet<&str> = l.items.iter().map(|i| i.id.as_str()).collect();
        let expected: BTreeSet<&str> = log
            .items
            .iter()
            .filter(|(id, list)| **list == l.id && !log.removed.contains(*id))
            .map(|(id, _)| id.as_str())
            .collect();
        if shown != expected {
            return fail(format!(
                "list {} shows {shown:?}, expected {expected:?}",
                l.id
            ));
        }
        for item in &l.items {
            let (q0, qs) = &log.qty[&item.id];
            if !allowed(*q0, qs).contains(&item.qty) {
                return fail(format!(
                    "item {} qty {}, expected one of {:?}",
                    item.id,
                    item.qty,
                    allowed(*q0, qs)
                ));
            }
            let ticks = log.checked.get(&item.id).map_or(&[][..], Vec::as_slice);
            if !allowed(false, ticks).contains(&item.checked) {
                return fail(format!(
                    "item {} checked {}, written {ticks:?}",
                    item.id, item.checked
                ));
            }
            if let ItemWhat::Text { text } = &item.what {
                let (t0, edits) = &log.texts[&item.id];
                if edits.len() < 2 && !allowed(t0.clone(), edits).contains(text) {
                    return fail(format!(
                        "item {} text {text:?}, expected {t0:?} / {edits:?}",
                        item.id
                    ));
                }
            }
        }
    }

    // Favourites: never added → absent; added and never removed → present.
    for s in STORES {
        let shown = view.favourites.iter().any(|f| f == s);
        let added = log.fav_added.contains(s);
        let removed = log.fav_removed.contains(s);
        if (shown && !added) || (added && !removed && !shown) {
            return fail(format!(
                "favourite {s}: shown {shown}, added {added}, removed {removed}"
            ));
        }
    }

    // Profile: last writer wins, so a value written once is the value.
    let name = view.profile.name.clone().unwrap_or_default();
    if !allowed(String::new(), &log.profile_names).contains(&name) {
        return fail(format!("name {name:?}, written {:?}", log.profile_names));
    }
    if !allowed(None, &log.emails).contains(&view.profile.email) {
        return fail(format!(
            "email {:?}, written {:?}",
            view.profile.email, log.emails
        ));
    }
    Ok(())
}

fn run(steps: &[Step], final_order: &[usize]) -> Result<(), BoxErr> {
    // Reproducible item and list ids for a failing case.
    shopsync_core::ids::seed_ids_on_this_thread(Some(7));
    let mut log = Log::default();
    let mut origin = AutoCommit::new().with_actor(automerge::ActorId::from([0xAA; 16]));
    customer::set_name(&mut origin, "Ada")?;
    customer::add_favourite(&mut origin, "s0")?;
    let list = customer::create_list(&mut origin, "Groceries")?;
    log.profile_names.push("Ada".into());
    log.fav_added.insert("s0".into());
    log.lists.push(list.clone());
    log.names
        .insert(list.clone(), ("Groceries".into(), Vec::new()));
    for (text, qty) in [("milk", 2), ("bread", 1), ("eggs", 12)] {
        let what = ItemWhat::Text { text: text.into() };
        let id = customer::add_item(&mut origin, &list, &what, qty)?;
        log.texts.insert(id.clone(), (text.into(), Vec::new()));
        log.qty.insert(id.clone(), (qty, Vec::new()));
        log.items.insert(id, list.clone());
    }
    origin.commit();
    let mut devices = customer_devices(&mut origin, DEVICES);

    for (k, step) in steps.iter().enumerate() {
        apply(&mut devices, step.device, &step.op, &mut log)
            .map_err(|e| format!("step {k} ({step:?}) on device {}: {e}", step.device))?;
    }
    merge_everyone(&mut devices, final_order)?;

    let views: Vec<CustomerView> = devices
        .iter()
        .map(customer::read)
        .collect::<Result<_, _>>()?;
    for (i, v) in views.iter().enumerate().skip(1) {
        if v != &views[0] {
            return Err(format!("device {i} reads {v:?}\nagainst device 0: {:?}", views[0]).into());
        }
    }
    let reloaded = AutoCommit::load(&devices[0].save())?;
    if customer::read(&reloaded)? != views[0] {
        return Err("the saved and reloaded document reads differently".into());
    }
    check(&views[0], &log)
}

proptest! {
    #![proptest_config(ProptestConfig {
        // PROPTEST_CASES=2000 for a longer local run.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(128),
        max_shrink_iters: 500,
        ..ProptestConfig::default()
    })]

    #[test]
    fn customer_devices_converge_without_losing_edits((steps, order) in scenario()) {
        run(&steps, &order).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
