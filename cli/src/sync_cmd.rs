//! `shopsync enrol` and `shopsync sync [--watch | status]`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use serde_json::json;
use shopsync_core::sync::client::{self, Client, SyncWorker, WorkerOptions, WorkerState};
use shopsync_core::types::Progress;
use shopsync_core::{Result, Store};

use crate::args::{EnrolArgs, SyncArgs, SyncCmd};
use crate::output::Output;

/// Progress on stderr when a person watches, or always with `SHOPSYNC_PROGRESS=1`.
fn progress() -> impl FnMut(Progress) {
    let show = std::io::stderr().is_terminal() || std::env::var_os("SHOPSYNC_PROGRESS").is_some();
    let mut last = std::time::Instant::now();
    move |p: Progress| {
        if show && (last.elapsed().as_millis() > 200 || p.done == p.total) {
            last = std::time::Instant::now();
            let pct = (p.done * 100).checked_div(p.total).unwrap_or(0);
            eprint!("\r{}: {}/{} ({pct}%)   ", p.stage, p.done, p.total);
            if p.done == p.total {
                eprintln!();
            }
        }
    }
}

fn when(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "never".into())
}

pub fn enrol(db: &Path, a: EnrolArgs) -> Result<Output> {
    let (_store, report) = client::enrol_with(
        db,
        &a.server,
        &a.code,
        a.till.as_deref(),
        a.allow_insecure_http,
        &mut progress(),
    )?;
    let what = if report.uploaded {
        format!(
            "uploaded this till's store: {} changes sent",
            report.sync.sent_changes
        )
    } else if let Some(cursor) = report.snapshot_cursor {
        format!(
            "downloaded the store from the server's snapshot (up to change {cursor}), then {} changes received",
            report.sync.received_new
        )
    } else {
        format!(
            "downloaded the store: {} changes received",
            report.sync.received_new
        )
    };
    let mut what = what;
    if let Some(note) = &report.catalog_note {
        what.push('\n');
        what.push_str(note);
    }
    Output::new(
        format!(
            "enrolled as {} device {} of store {} ({})\n{what}",
            report.role, report.device_id, report.store_name, report.store_id
        ),
        &report,
    )
}

pub fn sync(db: &Path, a: SyncArgs, json_mode: bool) -> Result<Output> {
    match a.cmd {
        Some(SyncCmd::Forget) => {
            let mut store = Store::open(db)?;
            let server = store.forget_sync_server()?;
            let human = match &server {
                Some(s) => format!(
                    "forgot {s}: every change will be sent again after the next `enrol` (use a code made for till {})",
                    store.info().till_id
                ),
                None => "this till was not enrolled".to_string(),
            };
            Output::new(
                human,
                &json!({ "forgot": server, "till_id": store.info().till_id }),
            )
        }
        Some(SyncCmd::Status) => {
            let store = Store::open(db)?;
            let s = store.sync_status()?;
            let human = if s.enrolled {
                format!(
                    "server:          {}\ndevice:          {} ({})\nstate:           {}\nlast success:    {}\nchanges waiting: {}\nlast error:      {}",
                    s.server.clone().unwrap_or_default(),
                    s.device_id.clone().unwrap_or_default(),
                    s.role.map(|r| r.as_str()).unwrap_or(""),
                    match s.online {
                        Some(true) => "online",
                        Some(false) => "offline",
                        None => "not synced yet",
                    },
                    when(s.last_success),
                    s.changes_waiting,
                    s.last_error.clone().unwrap_or_else(|| "none".into()),
                )
            } else {
                format!(
                    "not enrolled with a sync server ({} local changes)",
                    s.changes_waiting
                )
            };
            let human = human + &crate::output::clock_flags(&s.clock_flags);
            let human = format!("{human}{}", quarantine_lines(s.quarantined, &s.quarantine));
            let human = if s.refused_changes > 0 {
                format!(
                    "{human}\nrefused:         {} received change(s) not stored: a forked actor (an older version on a restored or cloned disk); see docs/OPERATIONS.md",
                    s.refused_changes
                )
            } else {
                human
            };
            let human = s.held_for_others.iter().fold(human, |h, held| {
                format!("{h}\nheld:            {}", held.message())
            });
            Output::new(human, &s)
        }
        // -- clocks (issue 7, part 2) --
        Some(SyncCmd::ClockLimit { minutes }) => {
            let mut store = Store::open(db)?;
            if let Some(m) = minutes {
                store.set_clock_skew_limit_ms(m.saturating_mul(60_000))?;
            }
            let ms = store.clock_skew_limit_ms()?;
            Output::new(
                format!(
                    "records dated more than {} ahead of this till's clock flag their till",
                    shopsync_core::clock::human_duration(ms)
                ),
                &json!({ "clock_limit_ms": ms }),
            )
        }
        None if a.watch => watch(db, json_mode),
        None => {
            let mut store = Store::open(db)?;
            let client = Client::for_store(&store)?;
            let report = store.sync_now(&client, &mut progress())?;
            let mut human = format!(
                "synced in {} ms: {} sent, {} received, {} round trip(s)",
                report.millis, report.acked, report.received_new, report.round_trips
            );
            if report.server_restored {
                // restore
                human.push_str(
                    "\nthe server had been restored from a backup: this till sent everything again",
                );
            }
            Output::new(human, &report)
        }
    }
}

/// Syncs in the background until interrupted (or revoked), printing a line
/// per attempt.
fn watch(db: &Path, json_mode: bool) -> Result<Output> {
    let (tx, rx) = std::sync::mpsc::channel::<WorkerState>();
    let worker = SyncWorker::spawn(db.to_path_buf(), WorkerOptions::default(), move |s| {
        let _ = tx.send(s.clone());
    })?;
    for state in rx {
        if state.syncing {
            continue;
        }
        let line = if json_mode {
            json!({
                "online": state.status.online,
                "changes_waiting": state.status.changes_waiting,
                "last_error": state.status.last_error,
                "report": state.last_report,
            })
            .to_string()
        } else {
            match (&state.last_report, &state.status.last_error) {
                (Some(r), _) => format!(
                    "{} synced: {} sent, {} received, {} waiting",
                    when(state.status.last_attempt),
                    r.acked,
                    r.received_new,
                    state.status.changes_waiting
                ),
                (None, Some(e)) => format!("{} {e}", when(state.status.last_attempt)),
                (None, None) => continue,
            }
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        if state.stopped {
            break;
        }
    }
    drop(worker);
    Err(shopsync_core::CoreError::Unauthorized(
        "sync stopped: the server no longer accepts this device".into(),
    ))
}

/// The quarantine, as `sync status` and `rebuild --verify` print it (issue 7,
/// part 3): the count and the first few records, with why.
pub fn quarantine_lines(count: u64, shown: &[shopsync_core::types::QuarantinedRecord]) -> String {
    if count == 0 {
        return String::new();
    }
    let mut out =
        format!("\nquarantined:     {count} record(s) kept but left out of the projections");
    for q in shown {
        out.push_str(&format!(
            "\n  {} in {}: {}: {}",
            printable(&q.record),
            printable(&q.document),
            printable(&q.rule),
            printable(&q.reason)
        ));
    }
    if count > shown.len() as u64 {
        out.push_str(&format!("\n  … and {} more", count - shown.len() as u64));
    }
    out
}

/// Text from another device, with control characters (terminal escapes)
/// shown as `?`.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
