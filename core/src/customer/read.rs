//! The read model: a customer document as plain structs. Reading never
//! fails on content: keys it does not know (a newer version) are ignored,
//! an item it cannot make sense of is skipped, a quantity outside
//! 1..=10,000 (only a foreign writer makes one) is shown clamped.

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc};
use shopsync_types::customer::{
    CustomerProfile, CustomerView, ItemWhat, ListItem, MAX_ITEM_QTY, ShoppingList,
};

use super::layout::{self, ListObjs};
use super::order;
use crate::error::Result;

/// Everything in the document.
pub fn customer(doc: &AutoCommit) -> Result<CustomerView> {
    let email = layout::string(doc, &ROOT, layout::PROFILE_EMAIL)?;
    let profile = CustomerProfile {
        name: layout::string(doc, &ROOT, layout::PROFILE_NAME)?,
        email,
    };
    let mut favourites = Vec::new();
    let mut lists = Vec::new();
    // Root keys come sorted, so favourites are sorted and lists (UUID v7
    // ids) come oldest first.
    for key in doc.keys(ROOT) {
        if let Some(store) = key.strip_prefix(layout::FAVOURITE) {
            favourites.push(store.to_string());
        } else if let Some(id) = key.strip_prefix(layout::LIST)
            && let Some(list) = list(doc, id)?
        {
            lists.push(list);
        }
    }
    Ok(CustomerView {
        profile,
        favourites,
        lists,
    })
}

/// One list, or `None` if there is no such list.
pub fn list(doc: &AutoCommit, list_id: &str) -> Result<Option<ShoppingList>> {
    let objs = match layout::list(doc, list_id) {
        Ok(objs) => objs,
        Err(crate::CoreError::NotFound { .. } | crate::CoreError::Corrupt(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut items = Vec::new();
    for (_, item_id) in order::visible(doc, &objs) {
        if let Some(item) = item(doc, &objs, &item_id)? {
            items.push(item);
        }
    }
    Ok(Some(ShoppingList {
        id: list_id.to_string(),
        name: doc.text(&objs.name)?,
        items,
    }))
}

fn item(doc: &AutoCommit, objs: &ListObjs, item_id: &str) -> Result<Option<ListItem>> {
    let Some(obj) = layout::object(doc, &objs.items, item_id, ObjType::Map)? else {
        return Ok(None);
    };
    let Some(what) = what(doc, &obj)? else {
        return Ok(None);
    };
    let qty = layout::int(doc, &obj, layout::ITEM_QTY)?
        .unwrap_or(1)
        .clamp(1, MAX_ITEM_QTY);
    Ok(Some(ListItem {
        id: item_id.to_string(),
        what,
        qty,
        checked: layout::boolean(doc, &obj, layout::ITEM_CHECKED)?.unwrap_or(false),
    }))
}

fn what(doc: &AutoCommit, obj: &ObjId) -> Result<Option<ItemWhat>> {
    Ok(
        match layout::string(doc, obj, layout::ITEM_KIND)?.as_deref() {
            Some(layout::KIND_TEXT) => {
                layout::text(doc, obj, layout::ITEM_TEXT)?.map(|text| ItemWhat::Text { text })
            }
            Some(layout::KIND_PRODUCT) => match (
                layout::string(doc, obj, layout::ITEM_STORE)?,
                layout::string(doc, obj, layout::ITEM_SKU)?,
            ) {
                (Some(store_id), Some(sku)) => Some(ItemWhat::Product { store_id, sku }),
                _ => None,
            },
            _ => None,
        },
    )
}
