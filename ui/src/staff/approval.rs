//! The approval dialog: a write the signed-in role may not do alone
//! answers `ApprovalNeeded`; `api::call_approved` asks here for the PIN of
//! someone who may approve and runs the same command again with it. The
//! PIN approves that one call (the shell forgets it); Cancel does nothing.

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use shopsync_types::{ErrorCode, ErrorInfo};
use wasm_bindgen::JsValue;

use crate::app::Ctx;
use crate::staff::pin_pad::PinPad;
use crate::util::describe;

/// What the dialog shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalAsk {
    /// The role that may approve ("supervisor", "manager").
    pub role: String,
    /// What needs approving, as the shell said it.
    pub message: String,
    /// Why the last PIN did not approve, if one was tried.
    pub error: Option<String>,
}

thread_local! {
    static ASK: Cell<Option<RwSignal<Option<ApprovalAsk>>>> = const { Cell::new(None) };
    /// Resolves the waiting [`ask`]: a PIN, or null when cancelled.
    static ANSWER: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

fn cancelled() -> ErrorInfo {
    ErrorInfo {
        code: ErrorCode::ApprovalNeeded,
        message: tr!("approval-cancelled"),
        row: None,
        field: None,
    }
}

/// Cancels a question still waiting (the till locked under it).
pub fn cancel() {
    answer(None);
}

fn answer(pin: Option<String>) {
    if let Some(resolve) = ANSWER.with(|a| a.borrow_mut().take()) {
        let v = pin.map_or(JsValue::NULL, |p| JsValue::from_str(&p));
        let _ = resolve.call1(&JsValue::NULL, &v);
    }
}

/// Asks for an approver's PIN for `need` (an `ApprovalNeeded` answer);
/// `error`: why the previous PIN did not do. `Err` when cancelled.
pub async fn ask(need: &ErrorInfo, error: Option<&ErrorInfo>) -> Result<String, ErrorInfo> {
    let Some(shown) = ASK.with(Cell::get) else {
        return Err(need.clone());
    };
    // One question at a time: an older one still waiting is cancelled.
    answer(None);
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        ANSWER.with(|a| *a.borrow_mut() = Some(resolve));
    });
    shown.set(Some(ApprovalAsk {
        role: need.field.clone().unwrap_or_default(),
        message: need.message.clone(),
        error: error.map(describe),
    }));
    let got = wasm_bindgen_futures::JsFuture::from(promise).await;
    let _ = shown.try_set(None);
    got.ok()
        .and_then(|v| v.as_string())
        .filter(|p| !p.is_empty())
        .ok_or_else(cancelled)
}

#[component]
pub fn ApprovalDialog(ctx: Ctx) -> impl IntoView {
    let shown = RwSignal::new(None::<ApprovalAsk>);
    ASK.with(|a| a.set(Some(shown)));
    let pin = RwSignal::new(String::new());
    // The page's own dialog (payment) stays open under this one.
    let before = RwSignal::new(false);
    Effect::new(move |was_open: Option<bool>| {
        let open = shown.with(Option::is_some);
        if open && was_open != Some(true) {
            before.set(ctx.dialog_open.get_untracked());
            ctx.dialog_open.set(true);
            pin.set(String::new());
        } else if !open && was_open == Some(true) {
            // Cancelled with digits typed: they do not stay in memory.
            pin.set(String::new());
            ctx.dialog_open.set(before.get_untracked());
        }
        open
    });
    let submit = Callback::new(move |()| {
        let typed = pin.get_untracked();
        if typed.len() >= 4 {
            pin.set(String::new());
            answer(Some(typed));
        }
    });
    move || {
        shown.get().map(|a| {
            let role = crate::staff::role_label(&a.role);
            view! {
                <div class="overlay approval-overlay">
                    <div class="dialog pin-dialog" role="dialog" aria-modal="true" aria-labelledby="approval-title"
                        data-testid="approval-dialog" data-role=a.role.clone()
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { ev.prevent_default(); answer(None) }>
                        <h2 id="approval-title">{tr!("approval-title", role = role)}</h2>
                        <p data-testid="approval-message">{a.message.clone()}</p>
                        {a.error.clone().map(|e| view! { <p class="error" role="alert" data-testid="approval-error">{e}</p> })}
                        <PinPad pin=pin on_enter=submit label=tr!("approval-pin") testid="approval-pad" />
                        <div class="pay-row end">
                            <button class="big-btn" data-testid="approval-cancel" on:click=move |_| answer(None)>{tr!("approval-cancel")}</button>
                        </div>
                    </div>
                </div>
            }
        })
    }
}
