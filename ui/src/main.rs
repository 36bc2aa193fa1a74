//! The till UI: mounts the app; everything else lives in its modules.

mod api;
mod app;
mod components;
mod pages;
mod util;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
