//! The screens.

pub mod account;
pub mod list;
pub mod lists;
pub mod orders;
pub mod shop;
pub mod shops;
