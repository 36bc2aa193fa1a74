//! Widgets shared by the pages.

pub mod chart;
pub mod sync;
