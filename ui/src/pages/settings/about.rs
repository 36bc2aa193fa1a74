//! Settings → About: this build (version, commit, date), the platform, the
//! store file and the log folder; "Open log folder" and "Copy diagnostics"
//! (the block support asks for: put on the clipboard and shown here).

use leptos::prelude::*;
use shopsync_types::ipc::AboutView;

use crate::api;
use crate::app::Ctx;
use crate::util::spawn;

#[component]
pub fn AboutCard(ctx: Ctx) -> impl IntoView {
    let about = RwSignal::new(None::<AboutView>);
    let diagnostics = RwSignal::new(None::<String>);
    spawn(async move {
        match api::about().await {
            Ok(a) => about.set(Some(a)),
            Err(e) => ctx.error(&e),
        }
    });
    let open_logs = move || {
        spawn(async move {
            if let Err(e) = api::open_log_folder().await {
                ctx.error(&e);
            }
        })
    };
    let copy = move || {
        spawn(async move {
            match api::copy_diagnostics().await {
                Ok(d) => {
                    match d.copy_error {
                        None if d.copied => ctx.info(tr!("about-copied")),
                        err => ctx.info(tr!("about-copy-failed", error = err.unwrap_or_default())),
                    }
                    diagnostics.set(Some(d.text));
                }
                Err(e) => ctx.error(&e),
            }
        })
    };
    let field = move |label: String, testid: &'static str, get: fn(&AboutView) -> String| {
        view! {
            <tr><th>{label}</th><td data-testid=testid>{move || about.get().map(|a| get(&a)).unwrap_or_default()}</td></tr>
        }
    };
    view! {
        <div class="card about" data-testid="about">
            <h2>{tr!("about-title")}</h2>
            <table class="list">
                <tbody>
                    {field(tr!("about-version"), "about-version", |a| a.version.clone())}
                    {field(tr!("about-commit"), "about-commit", |a| a.commit.clone())}
                    {field(tr!("about-built"), "about-build-date", |a| a.build_date.clone())}
                    {field(tr!("about-platform"), "about-platform", |a| a.platform.clone())}
                    {field(tr!("about-store-file"), "about-db-path", |a| a.db_path.clone())}
                    {field(tr!("about-log-folder"), "about-log-dir", |a| a.log_dir.clone().unwrap_or_else(|| tr!("about-no-log-folder")))}
                </tbody>
            </table>
            <p class="muted small">{tr!("about-help")}</p>
            <button class="btn" data-testid="open-log-folder" on:click=move |_| open_logs()
                disabled=move || about.get().is_none_or(|a| a.log_dir.is_none())>{tr!("about-open-log-folder")}</button>
            " "
            <button class="btn" data-testid="copy-diagnostics" on:click=move |_| copy()>{tr!("about-copy-diagnostics")}</button>
            {move || diagnostics.get().map(|text| view! {
                <pre class="diagnostics" data-testid="diagnostics-text">{text}</pre>
            })}
        </div>
    }
}
