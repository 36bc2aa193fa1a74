//! The always-visible sync indicator: small and calm, never a dialog.

use leptos::prelude::*;
use shopsync_types::ipc::{EVENT_SYNC_STATE, SyncState, SyncStatusView};

use crate::api;
use crate::app::Ctx;
use crate::util::spawn;

#[component]
pub fn SyncIndicator(ctx: Ctx) -> impl IntoView {
    let status = RwSignal::new(None::<SyncStatusView>);
    let refresh = move || {
        if ctx.info.get_untracked().is_none() {
            return;
        }
        spawn(async move {
            if let Ok(s) = api::sync_status().await {
                status.set(Some(s));
            }
        });
    };
    Effect::new(move |_| {
        ctx.info.track();
        ctx.data_version.track();
        refresh();
    });
    spawn(async move {
        api::listen::<SyncStatusView>(EVENT_SYNC_STATE, move |s| status.set(Some(s))).await;
    });
    let handle = set_interval_with_handle(refresh, std::time::Duration::from_secs(3)).ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
    move || {
        let s = status.get();
        // Clocks (issue 7, part 2): another till's records arrived dated
        // too far ahead of this till's clock.
        let clocks = s
            .as_ref()
            .map(|s| s.clock_warnings.join("\n"))
            .filter(|w| !w.is_empty())
            .map(|w| {
                let title = w.clone();
                view! {
                    <span class="clock-warning" data-testid="clock-warning" title=title>
                        " · " {tr!("sync-clock-wrong")} " " {w}
                    </span>
                }
            });
        let (class, text) = match &s {
            None => ("sync offline", tr!("sync-offline")),
            Some(s) => {
                let mut waiting = if s.pending_changes > 0 {
                    format!(" · {}", tr!("sync-waiting", count = s.pending_changes))
                } else {
                    String::new()
                };
                // Quarantined records (issue 7, part 3): shown, never hidden.
                if s.quarantined > 0 {
                    waiting.push_str(&format!(
                        " · {}",
                        tr!("sync-quarantined", count = s.quarantined)
                    ));
                }
                match s.state {
                    SyncState::Online => {
                        ("sync online", format!("{}{waiting}", tr!("sync-online")))
                    }
                    SyncState::Syncing => {
                        ("sync syncing", format!("{}{waiting}", tr!("sync-syncing")))
                    }
                    SyncState::Offline => {
                        ("sync offline", format!("{}{waiting}", tr!("sync-offline")))
                    }
                    SyncState::Error => (
                        "sync error",
                        format!(
                            "{}{waiting}: {}",
                            tr!("sync-error"),
                            s.message.clone().unwrap_or_default()
                        ),
                    ),
                }
            }
        };
        let title = match &s {
            Some(s) if s.quarantined > 0 => {
                let mut t = format!(
                    "{}\n{}",
                    tr!("sync-title"),
                    tr!("sync-title-quarantine", count = s.quarantined)
                );
                for q in &s.quarantine {
                    t.push('\n');
                    t.push_str(&tr!(
                        "sync-quarantine-line",
                        record = q.record.clone(),
                        document = q.document.clone(),
                        reason = q.reason.clone()
                    ));
                }
                t
            }
            _ => tr!("sync-title"),
        };
        view! {
            <button type="button" class=class data-testid="sync-indicator" title=title
                on:click=move |_| spawn(async move {
                    match api::sync_now().await {
                        Ok(true) => ctx.info(tr!("sync-started")),
                        Ok(false) => ctx.info(tr!("sync-not-connected")),
                        Err(e) => ctx.error(&e),
                    }
                })>
                <span class="dot"></span>
                {text}
                {clocks}
            </button>
        }
    }
}
