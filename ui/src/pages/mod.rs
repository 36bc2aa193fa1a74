//! One module per screen.

pub mod drawer;
pub mod first_launch;
pub mod orders;
pub mod products;
pub mod purchasing;
pub mod sales;
pub mod sell;
pub mod settings;
pub mod stock;
pub mod suppliers;
