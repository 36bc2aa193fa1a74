//! The idle lock: no pointer or key input for the shop's
//! `lock_after_minutes` signs the till out (the PIN pad shows; the cart
//! stays). Input also keeps the shell's sign-in fresh, told at most every
//! [`TOUCH_EVERY_MS`] (the shell locks on its own a little later, so a UI
//! that failed to lock cannot write under a stale sign-in).

use std::cell::Cell;

use leptos::prelude::*;

use crate::api;
use crate::app::Ctx;
use crate::util::spawn;

/// How often input is passed on to the shell, at most.
const TOUCH_EVERY_MS: f64 = 10_000.0;

thread_local! {
    static LAST_INPUT: Cell<f64> = const { Cell::new(0.0) };
    static LAST_TOUCH: Cell<f64> = const { Cell::new(0.0) };
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Someone just signed in: the idle time starts now.
pub fn reset() {
    LAST_INPUT.with(|l| l.set(now()));
    LAST_TOUCH.with(|l| l.set(now()));
}

fn signed_in(ctx: Ctx) -> bool {
    ctx.staff
        .with_untracked(|s| s.as_ref().is_some_and(|s| s.signed_in.is_some()))
}

fn input(ctx: Ctx) {
    let t = now();
    LAST_INPUT.with(|l| l.set(t));
    if signed_in(ctx) && t - LAST_TOUCH.with(Cell::get) > TOUCH_EVERY_MS {
        LAST_TOUCH.with(|l| l.set(t));
        spawn(async move {
            if let Ok(false) = api::staff_touch().await {
                crate::staff::signed_out();
            }
        });
    }
}

/// Watches input and locks after the idle time; call once.
pub fn install(ctx: Ctx) {
    reset();
    let down = window_event_listener(leptos::ev::pointerdown, move |_| input(ctx));
    let key = window_event_listener(leptos::ev::keydown, move |_| input(ctx));
    std::mem::forget(down);
    std::mem::forget(key);
    let check = move || {
        let minutes = ctx
            .staff
            .with_untracked(|s| s.as_ref().map_or(0, |s| s.lock_after_minutes));
        if minutes == 0 || !signed_in(ctx) {
            return;
        }
        if now() - LAST_INPUT.with(Cell::get) > f64::from(minutes) * 60_000.0 {
            spawn(async move {
                match api::sign_out().await {
                    Ok(s) => ctx.staff.set(Some(s)),
                    Err(_) => crate::staff::signed_out(),
                }
            });
        }
    };
    let _ = set_interval_with_handle(check, std::time::Duration::from_secs(5));
}
