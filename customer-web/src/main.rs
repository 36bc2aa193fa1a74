//! The customer's web app: mounts the app shell; the device and its sync
//! live in `session` and `sync`, the screens in `pages`.

mod app;
mod catalogs;
mod net;
mod pages;
mod persist;
mod route;
mod session;
mod sync;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
