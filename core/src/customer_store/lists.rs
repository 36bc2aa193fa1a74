//! The profile, and shopping lists and their items, on this device. Each
//! operation is one transaction on the customer's own document and returns
//! what the customer sees afterwards.

use shopsync_types::customer::{CustomerProfile, CustomerView, ItemWhat, ShoppingList};

use super::CustomerStore;
use super::resolve::{Candidate, pick};
use crate::customer;
use crate::error::{CoreError, Result};

impl CustomerStore {
    /// Everything in the customer's document.
    pub fn view(&mut self) -> Result<CustomerView> {
        let own = self.own_doc();
        customer::read(self.doc(&own)?)
    }

    pub fn profile(&mut self) -> Result<CustomerProfile> {
        Ok(self.view()?.profile)
    }

    pub fn set_name(&mut self, name: &str) -> Result<CustomerProfile> {
        self.edit_own(|doc| customer::set_name(doc, name))?;
        self.profile()
    }

    /// Sets the e-mail address, or clears it with `None`.
    pub fn set_email(&mut self, email: Option<&str>) -> Result<CustomerProfile> {
        self.edit_own(|doc| customer::set_email(doc, email))?;
        self.profile()
    }

    /// Every list, oldest first.
    pub fn lists(&mut self) -> Result<Vec<ShoppingList>> {
        Ok(self.view()?.lists)
    }

    /// The id of the list `list` names (id, name or prefix).
    pub fn resolve_list(&mut self, list: &str) -> Result<String> {
        let lists = self.lists()?;
        let candidates: Vec<Candidate<'_>> = lists
            .iter()
            .map(|l| Candidate {
                id: &l.id,
                names: vec![&l.name],
                label: format!("'{}' ({})", l.name, l.id),
            })
            .collect();
        pick("shopping list", "list", list, &candidates)
    }

    /// One list, by id, name or prefix.
    pub fn list(&mut self, list: &str) -> Result<ShoppingList> {
        let id = self.resolve_list(list)?;
        self.list_by_id(&id)
    }

    fn list_by_id(&mut self, id: &str) -> Result<ShoppingList> {
        let own = self.own_doc();
        customer::read_list(self.doc(&own)?, id)?
            .ok_or_else(|| CoreError::not_found("shopping list", id))
    }

    /// The id of the item `item` names in a list: id, its text (or SKU),
    /// or a prefix of either.
    fn resolve_item(list: &ShoppingList, item: &str) -> Result<String> {
        let candidates: Vec<Candidate<'_>> = list
            .items
            .iter()
            .map(|i| {
                let name: &str = match &i.what {
                    ItemWhat::Text { text } => text,
                    ItemWhat::Product { sku, .. } => sku,
                };
                Candidate {
                    id: &i.id,
                    names: vec![name],
                    label: format!("'{name}' ({})", i.id),
                }
            })
            .collect();
        pick("list item", "item", item, &candidates)
    }

    pub fn new_list(&mut self, name: &str) -> Result<ShoppingList> {
        let mut id = String::new();
        self.edit_own(|doc| {
            id = customer::create_list(doc, name)?;
            Ok(())
        })?;
        self.list_by_id(&id)
    }

    pub fn rename_list(&mut self, list: &str, name: &str) -> Result<ShoppingList> {
        let id = self.resolve_list(list)?;
        self.edit_own(|doc| customer::rename_list(doc, &id, name))?;
        self.list_by_id(&id)
    }

    /// Deletes a list; returns it as it was.
    pub fn delete_list(&mut self, list: &str) -> Result<ShoppingList> {
        let before = self.list(list)?;
        self.edit_own(|doc| customer::delete_list(doc, &before.id))?;
        Ok(before)
    }

    /// Adds an item at the end of a list; returns the list and the new
    /// item's id. A product of a shop whose catalog this device has synced
    /// must be in that catalog (its SKU is written as the shop spells it);
    /// a shop never synced is taken on trust (offline).
    pub fn add_item(
        &mut self,
        list: &str,
        what: &ItemWhat,
        qty: i64,
    ) -> Result<(ShoppingList, String)> {
        let id = self.resolve_list(list)?;
        let what = match what {
            ItemWhat::Product { store_id, sku } => {
                customer::check_store_id("store_id", store_id)?;
                let sku = self.catalog_sku(store_id, sku.trim())?;
                ItemWhat::Product {
                    store_id: store_id.clone(),
                    sku,
                }
            }
            t => t.clone(),
        };
        let mut item = String::new();
        self.edit_own(|doc| {
            item = customer::add_item(doc, &id, &what, qty)?;
            Ok(())
        })?;
        Ok((self.list_by_id(&id)?, item))
    }

    /// Sets an item's quantity (1..=10,000).
    pub fn set_qty(&mut self, list: &str, item: &str, qty: i64) -> Result<ShoppingList> {
        let l = self.list(list)?;
        let item = Self::resolve_item(&l, item)?;
        self.edit_own(|doc| customer::set_qty(doc, &l.id, &item, qty))?;
        self.list_by_id(&l.id)
    }

    /// Ticks (`true`) or unticks an item.
    pub fn set_checked(&mut self, list: &str, item: &str, checked: bool) -> Result<ShoppingList> {
        let l = self.list(list)?;
        let item = Self::resolve_item(&l, item)?;
        self.edit_own(|doc| customer::set_checked(doc, &l.id, &item, checked))?;
        self.list_by_id(&l.id)
    }

    pub fn remove_item(&mut self, list: &str, item: &str) -> Result<ShoppingList> {
        let l = self.list(list)?;
        let item = Self::resolve_item(&l, item)?;
        self.edit_own(|doc| customer::remove_item(doc, &l.id, &item))?;
        self.list_by_id(&l.id)
    }

    /// Moves an item to position `to` (0-based, among the items shown).
    pub fn move_item(&mut self, list: &str, item: &str, to: usize) -> Result<ShoppingList> {
        let l = self.list(list)?;
        let item = Self::resolve_item(&l, item)?;
        self.edit_own(|doc| customer::move_item(doc, &l.id, &item, to))?;
        self.list_by_id(&l.id)
    }
}
