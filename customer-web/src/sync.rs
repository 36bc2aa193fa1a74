//! The background sync: soon after an edit, when the server notices a
//! followed document changed, when the browser comes back online, and at
//! least every 30 seconds. One sync at a time; a request made while one
//! runs makes it go round once more. Nothing here blocks an edit.

use std::cell::Cell;

use leptos::prelude::*;
use shopsync_core::customer_device::Device;

use crate::net::{self, NetError};
use crate::session::{self, Ctx, SyncState};

/// Round trips one sync makes at most (a server that keeps saying `more`
/// cannot keep the page busy forever).
const MAX_ROUNDS: usize = 200;
const PERIOD_MS: i32 = 30_000;
/// Edits made within this time go in one request.
const DEBOUNCE_MS: i32 = 300;

thread_local! {
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    static AGAIN: Cell<bool> = const { Cell::new(false) };
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
    static STARTED: Cell<bool> = const { Cell::new(false) };
}

fn set_timeout(ms: i32, f: impl FnOnce() + 'static) {
    let cb = wasm_bindgen::closure::Closure::once_into_js(f);
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
            wasm_bindgen::JsCast::unchecked_ref(&cb),
            ms,
        );
    }
}

/// Asks for a sync shortly (edits close together share one).
pub fn soon(ctx: Ctx) {
    if SCHEDULED.with(|s| s.replace(true)) {
        return;
    }
    set_timeout(DEBOUNCE_MS, move || {
        SCHEDULED.with(|s| s.set(false));
        now(ctx);
    });
}

/// Starts a sync now (or once more after the running one).
pub fn now(ctx: Ctx) {
    if ctx.account.get_untracked().is_none() {
        return;
    }
    if RUNNING.with(|r| r.replace(true)) {
        AGAIN.with(|a| a.set(true));
        return;
    }
    leptos::task::spawn_local(async move {
        loop {
            AGAIN.with(|a| a.set(false));
            run(ctx).await;
            if !AGAIN.with(|a| a.get()) {
                break;
            }
        }
        RUNNING.with(|r| r.set(false));
    });
}

async fn run(ctx: Ctx) {
    let Some(token) = ctx.token() else { return };
    ctx.sync.update(|s| s.state = SyncState::Syncing);
    let result = pages(ctx, &token).await;
    let waiting = session::read(Device::changes_waiting).unwrap_or(0);
    ctx.sync.update(|s| {
        s.waiting = waiting;
        match &result {
            Ok(failed) => {
                s.state = if failed.is_none() {
                    SyncState::Synced
                } else {
                    SyncState::Error
                };
                s.last_sync = Some(js_sys::Date::now());
                s.message = failed.clone();
            }
            Err(NetError::Offline(_)) => {
                s.state = SyncState::Offline;
                s.message = None;
            }
            Err(NetError::Unauthorized(m)) => {
                s.state = SyncState::Revoked;
                s.message = Some(m.clone());
            }
            Err(e) => {
                s.state = SyncState::Error;
                s.message = Some(e.to_string());
            }
        }
    });
}

/// Request and answer until nothing is left to send or receive. `Ok` with
/// a message: some documents' changes did not apply (asked again next time).
async fn pages(ctx: Ctx, token: &str) -> Result<Option<String>, NetError> {
    let mut failed = None;
    for _ in 0..MAX_ROUNDS {
        let built = session::with_device(|d| d.sync_request());
        let (request, sent) = built.map_err(|e| NetError::Refused(e.to_string()))?;
        let known = session::read(|d| d.epoch().map(str::to_string)).flatten();
        let (answer, epoch) = net::sync(token, &request, known.as_deref()).await?;
        if let Some(epoch) = epoch {
            let reset = session::with_device(|d| d.note_epoch(&epoch))
                .map_err(|e| NetError::Refused(e.to_string()))?;
            if reset {
                // A restored server: its answer belongs to cursors this
                // device no longer has; everything is sent again.
                session::after_change(ctx);
                continue;
            }
        }
        let applied = session::with_device(|d| d.apply_answer(&sent, answer))
            .map_err(|e| NetError::Refused(e.to_string()))?;
        for r in &applied.refused {
            ctx.message.set(Some(refusal_text(&r.doc_id, &r.error)));
        }
        if let Some(f) = applied.failed.first() {
            failed = Some(format!(
                "changes to {} did not apply: {}",
                f.doc_id, f.error
            ));
        }
        if applied.new_changes > 0 || applied.acked > 0 || !applied.refused.is_empty() {
            session::after_change(ctx);
        }
        session::persist()
            .await
            .map_err(|e| NetError::Refused(e.to_string()))?;
        // A document that does not apply would come back the same on every
        // round: the next sync asks again.
        if (!applied.more && !sent.more_to_send) || !applied.failed.is_empty() {
            return Ok(failed);
        }
    }
    Ok(failed)
}

/// What the customer reads when the server refused what was sent.
fn refusal_text(doc_id: &str, why: &str) -> String {
    match shopsync_core::ids::DocId::parse(doc_id) {
        Some(shopsync_core::ids::DocId::OrderRequests { store, .. }) => format!(
            "Your order to {} was not delivered and is taken back: {why}",
            crate::catalogs::shop_name(&store)
        ),
        _ => format!("The server did not take changes to {doc_id}: {why}"),
    }
}

/// Starts the background triggers: every 30 s, when the browser is back
/// online, and the server's notices.
pub fn start(ctx: Ctx) {
    now(ctx);
    if STARTED.with(|s| s.replace(true)) {
        return;
    }
    tick(ctx);
    if let Some(w) = web_sys::window() {
        let cb = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || now(ctx));
        let _ = w.add_event_listener_with_callback(
            "online",
            wasm_bindgen::JsCast::unchecked_ref(cb.as_ref()),
        );
        cb.forget();
    }
    leptos::task::spawn_local(notices(ctx));
}

fn tick(ctx: Ctx) {
    set_timeout(PERIOD_MS, move || {
        now(ctx);
        tick(ctx);
    });
}

fn watched() -> Vec<String> {
    session::read(|d| d.view().map(|v| v.favourites).unwrap_or_default()).unwrap_or_default()
}

async fn sleep(ms: i32) {
    let (tx, rx) = futures_channel_oneshot();
    set_timeout(ms, move || tx(()));
    rx.await;
}

/// A one-shot: a setter and a future that resolves when it is called.
fn futures_channel_oneshot() -> (impl FnOnce(()), impl std::future::Future<Output = ()>) {
    let promise_resolve = std::rc::Rc::new(std::cell::RefCell::new(None::<js_sys::Function>));
    let keep = promise_resolve.clone();
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        *keep.borrow_mut() = Some(resolve);
    });
    let fire = move |_: ()| {
        if let Some(f) = promise_resolve.borrow_mut().take() {
            let _ = f.call0(&wasm_bindgen::JsValue::NULL);
        }
    };
    let fut = async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    };
    (fire, fut)
}

/// Follows `GET /v1/customer/events`: a sync on each `changed` notice;
/// reconnects (after a pause that grows while the server is away) when the
/// stream ends or the favourite shops change.
async fn notices(ctx: Ctx) {
    let mut pause = 1_000;
    // A revoked token is not tried again; a new account's is.
    let mut dead: Option<String> = None;
    loop {
        let Some(token) = ctx.token().filter(|t| Some(t) != dead.as_ref()) else {
            sleep(2_000).await;
            continue;
        };
        let watch = watched();
        let mut stop = false;
        let mut heard = false;
        let result = net::events(&token, &watch, |event, _data| {
            heard = true;
            match event {
                "changed" => now(ctx),
                "revoked" => {
                    ctx.sync.update(|s| {
                        s.state = SyncState::Revoked;
                        s.message = Some("this device was removed from the account".into());
                    });
                    stop = true;
                    return false;
                }
                _ => {}
            }
            // Favourites changed: follow the new set of shops.
            watched() == watch
        })
        .await;
        if stop || matches!(result, Err(NetError::Unauthorized(_))) {
            dead = Some(token);
            continue;
        }
        // A stream that worked starts again soon; one that never did waits
        // longer each time (the server is away).
        if heard {
            pause = 1_000;
        }
        if watched() != watch {
            pause = 0;
        }
        sleep(pause).await;
        pause = (pause * 2).clamp(1_000, 30_000);
        // Whatever was missed while the stream was down.
        now(ctx);
    }
}
