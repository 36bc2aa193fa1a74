//! Categories and the Sell screen's favourites grid (issue 10): one-line
//! adapters over the core, acting as the signed-in staff member. Changing
//! either is a catalog edit: a manager, or a manager's approval
//! (`approve_pin`).

use shopsync_types::categories::{
    CategoryArchiveInput, CategoryNameInput, CategoryProductsQuery, CategoryQuery, FavouriteInput,
};
use shopsync_types::ipc::IdInput;
use shopsync_types::{Category, Favourite, Product};
use tauri::State;

use crate::state::{AppState, CmdResult};

type S<'a> = State<'a, AppState>;

#[tauri::command]
pub async fn categories(state: S<'_>, req: CategoryQuery) -> CmdResult<Vec<Category>> {
    state
        .with(move |s| s.categories(req.include_archived))
        .await
}

/// Adds a category, or renames the one `req.id` names.
#[tauri::command]
pub async fn save_category(
    state: S<'_>,
    req: CategoryNameInput,
    approve_pin: Option<String>,
) -> CmdResult<Category> {
    state
        .with_approval(approve_pin, move |s| match &req.id {
            Some(id) => s.rename_category(id, &req.name),
            None => s.add_category(&req.name),
        })
        .await
}

#[tauri::command]
pub async fn archive_category(
    state: S<'_>,
    req: CategoryArchiveInput,
    approve_pin: Option<String>,
) -> CmdResult<Category> {
    state
        .with_approval(approve_pin, move |s| {
            s.set_category_archived(&req.id, req.archived)
        })
        .await
}

#[tauri::command]
pub async fn category_products(
    state: S<'_>,
    req: CategoryProductsQuery,
) -> CmdResult<Vec<Product>> {
    state
        .with(move |s| {
            s.products_in_category(
                &req.category,
                &req.query,
                req.limit.min(500),
                req.include_archived,
            )
        })
        .await
}

#[tauri::command]
pub async fn favourites(state: S<'_>) -> CmdResult<Vec<Favourite>> {
    state.with(|s| s.favourites()).await
}

#[tauri::command]
pub async fn add_favourite(
    state: S<'_>,
    req: FavouriteInput,
    approve_pin: Option<String>,
) -> CmdResult<Vec<Favourite>> {
    state
        .with_approval(approve_pin, move |s| s.add_favourite(&req.product, req.pos))
        .await
}

/// Moves a favourite to place `req.pos` (required here).
#[tauri::command]
pub async fn move_favourite(
    state: S<'_>,
    req: FavouriteInput,
    approve_pin: Option<String>,
) -> CmdResult<Vec<Favourite>> {
    state
        .with_approval(approve_pin, move |s| {
            let pos = req.pos.ok_or_else(|| {
                shopsync_core::CoreError::invalid("position", "name the place to move it to")
            })?;
            s.move_favourite(&req.product, pos)
        })
        .await
}

#[tauri::command]
pub async fn remove_favourite(
    state: S<'_>,
    req: IdInput,
    approve_pin: Option<String>,
) -> CmdResult<Vec<Favourite>> {
    state
        .with_approval(approve_pin, move |s| s.remove_favourite(&req.id))
        .await
}
