//! The till UI: mounts the app; everything else lives in its modules.

#[macro_use]
mod i18n;
mod api;
mod app;
mod components;
mod guard;
mod pages;
mod print;
mod staff;
mod util;

fn main() {
    guard::install();
    components::modal::install();
    leptos::mount::mount_to_body(app::App);
}
