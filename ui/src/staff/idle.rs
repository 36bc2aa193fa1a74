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

/// A moment on both clocks, in ms: the page's monotonic clock (which
/// ignores the wall clock being set back, but may stand still while the
/// machine sleeps) and the wall clock (which runs on through a sleep).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Moment {
    mono: f64,
    wall: f64,
}

impl Moment {
    /// Time since `earlier`, by whichever clock says more; a wall clock
    /// set back counts as no time.
    fn since(self, earlier: Moment) -> f64 {
        (self.mono - earlier.mono)
            .max(self.wall - earlier.wall)
            .max(0.0)
    }
}

thread_local! {
    static LAST_INPUT: Cell<Moment> = const { Cell::new(Moment { mono: 0.0, wall: 0.0 }) };
    /// When the shell was last told, on the monotonic clock only: a wall
    /// clock set back must not stop the touches.
    static LAST_TOUCH: Cell<f64> = const { Cell::new(0.0) };
}

fn now() -> Moment {
    let wall = js_sys::Date::now();
    let mono = web_sys::window()
        .and_then(|w| w.performance())
        .map_or(wall, |p| p.now());
    Moment { mono, wall }
}

/// Someone just signed in: the idle time starts now.
pub fn reset() {
    let t = now();
    LAST_INPUT.with(|l| l.set(t));
    LAST_TOUCH.with(|l| l.set(t.mono));
}

fn signed_in(ctx: Ctx) -> bool {
    ctx.staff
        .with_untracked(|s| s.as_ref().is_some_and(|s| s.signed_in.is_some()))
}

fn input(ctx: Ctx) {
    let t = now();
    LAST_INPUT.with(|l| l.set(t));
    if signed_in(ctx) && t.mono - LAST_TOUCH.with(Cell::get) > TOUCH_EVERY_MS {
        LAST_TOUCH.with(|l| l.set(t.mono));
        spawn(async move {
            if let Ok(false) = api::staff_touch().await {
                crate::staff::signed_out();
            }
        });
    }
}

/// Whether input last came so long ago (`last`) that the till locks.
fn idle_too_long(now: Moment, last: Moment, minutes: u32) -> bool {
    minutes > 0 && now.since(last) > f64::from(minutes) * 60_000.0
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
        if !signed_in(ctx) {
            return;
        }
        if idle_too_long(now(), LAST_INPUT.with(Cell::get), minutes) {
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

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: f64 = 60_000.0;

    fn at(mono: f64, wall: f64) -> Moment {
        Moment { mono, wall }
    }

    #[test]
    fn the_till_locks_after_the_idle_time_by_either_clock() {
        let start = at(1_000.0, 1_700_000_000_000.0);
        assert!(!idle_too_long(
            at(1_000.0 + 4.0 * MINUTE, start.wall + 4.0 * MINUTE),
            start,
            5
        ));
        assert!(idle_too_long(
            at(1_000.0 + 6.0 * MINUTE, start.wall + 6.0 * MINUTE),
            start,
            5
        ));
        // The wall clock set back an hour: six idle minutes still lock.
        assert!(idle_too_long(
            at(1_000.0 + 6.0 * MINUTE, start.wall - 54.0 * MINUTE),
            start,
            5
        ));
        // Asleep an hour: the monotonic clock stood still, the wall one did not.
        assert!(idle_too_long(
            at(1_000.0, start.wall + 60.0 * MINUTE),
            start,
            5
        ));
        // 0: never.
        assert!(!idle_too_long(at(1e9, start.wall + 1e9), start, 0));
    }
}
