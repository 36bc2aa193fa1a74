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
                        None if d.copied => ctx.info("Diagnostics copied to the clipboard."),
                        err => ctx.info(format!(
                            "Could not copy to the clipboard ({}): select the text below and copy it.",
                            err.unwrap_or_default()
                        )),
                    }
                    diagnostics.set(Some(d.text));
                }
                Err(e) => ctx.error(&e),
            }
        })
    };
    let field = move |label: &'static str, testid: &'static str, get: fn(&AboutView) -> String| {
        view! {
            <tr><th>{label}</th><td data-testid=testid>{move || about.get().map(|a| get(&a)).unwrap_or_default()}</td></tr>
        }
    };
    view! {
        <div class="card about" data-testid="about">
            <h2>"About"</h2>
            <table class="list">
                <tbody>
                    {field("Version", "about-version", |a| a.version.clone())}
                    {field("Commit", "about-commit", |a| a.commit.clone())}
                    {field("Built", "about-build-date", |a| a.build_date.clone())}
                    {field("Platform", "about-platform", |a| a.platform.clone())}
                    {field("Store file", "about-db-path", |a| a.db_path.clone())}
                    {field("Log folder", "about-log-dir", |a| a.log_dir.clone().unwrap_or_else(|| "none: the log goes to stderr only".into()))}
                </tbody>
            </table>
            <p class="muted small">"When you ask for help, copy the diagnostics and paste them into your message. They never include passwords or the device's sync token."</p>
            <button class="btn" data-testid="open-log-folder" on:click=move |_| open_logs()
                disabled=move || about.get().is_none_or(|a| a.log_dir.is_none())>"Open log folder"</button>
            " "
            <button class="btn" data-testid="copy-diagnostics" on:click=move |_| copy()>"Copy diagnostics"</button>
            {move || diagnostics.get().map(|text| view! {
                <pre class="diagnostics" data-testid="diagnostics-text">{text}</pre>
            })}
        </div>
    }
}
