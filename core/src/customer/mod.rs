//! A customer's own document, `customer/{customer_id}`: profile, favourite
//! shops and shopping lists, edited offline on any of the customer's devices
//! and merged by Automerge. Functions here edit an [`automerge::AutoCommit`]
//! without committing (the caller commits, or rolls back on an error, as
//! `DocCache::commit_local` does); each checks its input and finds every
//! object it needs before its first write, so a bad input or a missing list
//! or item returns an error and leaves the document as it was.
//!
//! Layout (all root keys, like the catalog: nothing is created under a shared
//! parent object, so two devices that started the document independently
//! still merge without one object replacing another):
//!
//! | root key | value |
//! |---|---|
//! | `profile/name` | str, last writer wins |
//! | `profile/email` | str or null, last writer wins |
//! | `favourite/{store_id}` | `true`; removing deletes the key (add wins) |
//! | `list/{list_id}` | map: `name` (Text), `items` (map: item id → item map), `order` (list of item ids) |
//! | `ordered/{store_id}` | `true`: the customer sent this shop an order (`ordered.rs`) |
//!
//! Item map: `kind` (`"text"` / `"product"`), `text` (Text) or `store` +
//! `sku` (str), `qty` (int, last writer wins), `checked` (bool, last writer
//! wins). Why each choice: `lists.rs` (names, deletes), `items.rs`
//! (quantities, removal), `order.rs` (moves and the dedupe on read),
//! `favourites.rs`, `profile.rs`.

mod favourites;
mod input;
mod items;
mod layout;
mod lists;
mod order;
mod ordered;
mod profile;
mod read;
#[cfg(test)]
mod tests;

pub use favourites::{add as add_favourite, remove as remove_favourite};
pub use input::store_id as check_store_id;
pub use items::{
    add as add_item, remove as remove_item, set_checked, set_qty, set_text as set_item_text,
};
pub use lists::{create as create_list, delete as delete_list, rename as rename_list};
pub use order::{entry_counts as order_entry_counts, move_item};
pub use ordered::{add as add_ordered_shop, list as ordered_shops};
pub use profile::{set_email, set_name};
pub use read::{customer as read, list as read_list};
