//! Categories and the Sell screen's favourites grid (issue 10). Writes go
//! through the approval dialog like every other write.

use shopsync_types::categories::{
    CategoryArchiveInput, CategoryNameInput, CategoryProductsQuery, CategoryQuery, FavouriteInput,
};
use shopsync_types::ipc::IdInput;
use shopsync_types::{Category, Favourite, Product};

use super::{ApiResult, call, call_approved, call0};

pub async fn list(include_archived: bool) -> ApiResult<Vec<Category>> {
    call("categories", &CategoryQuery { include_archived }).await
}
/// Adds a category (`id` None) or renames one.
pub async fn save(id: Option<String>, name: String) -> ApiResult<Category> {
    call_approved("save_category", &CategoryNameInput { id, name }).await
}
pub async fn set_archived(id: String, archived: bool) -> ApiResult<Category> {
    call_approved("archive_category", &CategoryArchiveInput { id, archived }).await
}
/// The category's products whose name or SKU holds `query` (the core
/// filters before its limit, so typing finds any product of a big category).
pub async fn products(
    category: &str,
    query: &str,
    include_archived: bool,
) -> ApiResult<Vec<Product>> {
    let req = CategoryProductsQuery {
        category: category.to_string(),
        query: query.to_string(),
        limit: 200,
        include_archived,
    };
    call("category_products", &req).await
}
pub async fn favourites() -> ApiResult<Vec<Favourite>> {
    call0("favourites").await
}
pub async fn add_favourite(product: String) -> ApiResult<Vec<Favourite>> {
    call_approved("add_favourite", &FavouriteInput { product, pos: None }).await
}
pub async fn move_favourite(product: String, pos: i64) -> ApiResult<Vec<Favourite>> {
    let req = FavouriteInput {
        product,
        pos: Some(pos),
    };
    call_approved("move_favourite", &req).await
}
pub async fn remove_favourite(product: String) -> ApiResult<Vec<Favourite>> {
    call_approved("remove_favourite", &IdInput { id: product }).await
}
