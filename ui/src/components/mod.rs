//! Widgets shared by the pages.

pub mod chart;
pub mod modal;
pub mod sync;
