//! Shopping lists: create, rename, delete.
//!
//! A list is a map under its own root key `list/{list_id}` (a fresh UUID v7),
//! created with all its parts in one change, so two devices never create the
//! same object concurrently (which would make one replace the other).
//! Its name is an Automerge Text and a rename edits it as a diff, so a rename
//! merges with a concurrent rename character by character instead of one
//! dropping the other (two devices renaming "Groceries" to "Weekly groceries"
//! and "Groceries Sat" give "Weekly groceries Sat"). Deleting a list deletes
//! its root key: the delete wins over edits made inside the list at the same
//! time on another device (they belonged to a list the customer threw away).

use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, transaction::Transactable};

use super::{input, layout};
use crate::error::Result;

/// Creates an empty list; returns its id.
pub fn create(doc: &mut AutoCommit, name: &str) -> Result<String> {
    let name = input::text("name", name)?;
    let id = crate::ids::new_id();
    let list = doc.put_object(ROOT, layout::list_key(&id), ObjType::Map)?;
    let text = doc.put_object(&list, layout::LIST_NAME, ObjType::Text)?;
    doc.splice_text(&text, 0, 0, name)?;
    doc.put_object(&list, layout::LIST_ITEMS, ObjType::Map)?;
    doc.put_object(&list, layout::LIST_ORDER, ObjType::List)?;
    Ok(id)
}

/// Renames a list (trimmed, 1..=1,000 bytes). Writes only what differs.
pub fn rename(doc: &mut AutoCommit, list_id: &str, name: &str) -> Result<()> {
    let name = input::text("name", name)?;
    let objs = layout::list(doc, list_id)?;
    if doc.text(&objs.name)? != name {
        doc.update_text(&objs.name, name)?;
    }
    Ok(())
}

/// Deletes a list and its items.
pub fn delete(doc: &mut AutoCommit, list_id: &str) -> Result<()> {
    layout::list(doc, list_id)?;
    doc.delete(ROOT, layout::list_key(list_id))?;
    Ok(())
}
