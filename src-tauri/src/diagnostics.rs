//! The plain-text block support asks for ("Copy diagnostics" in Settings →
//! About): the build, the OS, the store file, the device's role and sync
//! state, and the log's last lines. Never a secret: the device token is not
//! among the facts, and any secret given is cut out of the finished text
//! (a log line or a server's error message could quote it).

use std::fmt::Write as _;
use std::path::PathBuf;

use shopsync_core::sync::SyncStatus;
use shopsync_types::StoreInfo;

/// How many log lines the block ends with.
pub const LOG_LINES: usize = 50;

/// What the block says, gathered by the caller.
#[derive(Debug, Default)]
pub struct Facts {
    /// When it was made (RFC 3339).
    pub now: String,
    pub db_path: PathBuf,
    /// The store file's size; `None` when it does not exist.
    pub db_size: Option<u64>,
    pub log_dir: Option<PathBuf>,
    pub store: Option<StoreInfo>,
    pub sync: Option<SyncStatus>,
    /// Why the sync status could not be read, if it could not.
    pub sync_problem: Option<String>,
    /// The background sync is running an attempt / gave up for good.
    pub syncing: bool,
    pub stopped: bool,
    /// A long job running (import, demo data, rebuild).
    pub busy: Option<String>,
    pub log_tail: Vec<String>,
    /// Strings that must not appear in the text (the device token).
    pub secrets: Vec<String>,
}

/// The block, secrets cut out.
pub fn render(f: &Facts) -> String {
    let mut t = String::new();
    // Writing to a String cannot fail.
    let _ = write_body(&mut t, f);
    redact(t, &f.secrets)
}

fn write_body(t: &mut String, f: &Facts) -> std::fmt::Result {
    writeln!(t, "ShopSync diagnostics ({})", f.now)?;
    writeln!(t, "app: {}", crate::about::version_line())?;
    writeln!(t, "platform: {}", crate::about::platform())?;
    let size = match f.db_size {
        Some(bytes) => format!("{bytes} bytes"),
        None => "does not exist".to_string(),
    };
    writeln!(t, "store file: {} ({size})", f.db_path.display())?;
    match &f.log_dir {
        Some(d) => writeln!(t, "log folder: {}", d.display())?,
        None => writeln!(t, "log folder: none (stderr only)")?,
    }
    match &f.store {
        Some(s) => writeln!(
            t,
            "store: {} (id {}), till: {} (id {}), currency {}",
            s.store_name, s.store_id, s.till_name, s.till_id, s.currency
        )?,
        None => writeln!(t, "store: none yet (first launch)")?,
    }
    if let Some(job) = &f.busy {
        writeln!(t, "running: {job}")?;
    }
    write_sync(t, f)?;
    writeln!(t, "--- last {} log lines ---", f.log_tail.len())?;
    for line in &f.log_tail {
        writeln!(t, "{line}")?;
    }
    Ok(())
}

fn write_sync(t: &mut String, f: &Facts) -> std::fmt::Result {
    if let Some(p) = &f.sync_problem {
        return writeln!(t, "device role: unknown (cannot read the sync status: {p})");
    }
    let Some(s) = f.sync.as_ref().filter(|s| s.enrolled) else {
        return writeln!(t, "device role: not enrolled (no sync server)");
    };
    let role = s.role.map_or("unknown".to_string(), |r| r.to_string());
    writeln!(t, "device role: {role}")?;
    writeln!(
        t,
        "sync server: {}, device id: {}",
        s.server.as_deref().map_or("?".into(), without_credentials),
        s.device_id.as_deref().unwrap_or("?")
    )?;
    let state = if f.stopped {
        "stopped (gave up)"
    } else if f.syncing {
        "syncing now"
    } else {
        match s.online {
            Some(true) => "online",
            Some(false) => "offline",
            None => "not tried yet",
        }
    };
    writeln!(t, "sync status: {state}")?;
    writeln!(t, "last sync: {}", time(s.last_success))?;
    writeln!(t, "last attempt: {}", time(s.last_attempt))?;
    writeln!(
        t,
        "last error: {}",
        s.last_error.as_deref().unwrap_or("none")
    )?;
    writeln!(t, "pending changes: {}", s.changes_waiting)?;
    writeln!(
        t,
        "quarantined: {}, refused changes: {}, clock flags: {}, held for others: {}",
        s.quarantined,
        s.refused_changes,
        s.clock_flags.len(),
        s.held_for_others.len()
    )
}

fn time(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map_or("never".to_string(), |t| t.to_rfc3339())
}

/// A server URL with any `user:password@` cut out (a shop may have typed
/// one into the enrolment address).
fn without_credentials(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let host_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..host_end].rfind('@') {
        Some(at) => format!("{}[redacted]@{}", &url[..start], &url[start + at + 1..]),
        None => url.to_string(),
    }
}

/// `text` with every secret replaced. Short strings are left alone: they
/// would cut out ordinary words, and a token is long.
fn redact(mut text: String, secrets: &[String]) -> String {
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        text = text.replace(s.as_str(), "[redacted]");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "dev-token-5f1c0a9e8b7d6c5b4a39";

    fn enrolled() -> SyncStatus {
        SyncStatus {
            enrolled: true,
            server: Some("https://sync.example.test".into()),
            device_id: Some("dev-1".into()),
            role: Some(shopsync_core::access::Role::Manager),
            online: Some(false),
            last_success: Some(1_764_633_600_000),
            last_attempt: Some(1_764_633_660_000),
            last_error: Some(format!("401 for bearer {TOKEN}")),
            changes_waiting: 7,
            cursor: 3,
            clock_flags: Vec::new(),
            quarantined: 0,
            quarantine: Vec::new(),
            refused_changes: 0,
            held_for_others: Vec::new(),
        }
    }

    #[test]
    fn the_block_has_the_version_and_never_the_token() {
        let facts = Facts {
            now: "2026-12-02T03:00:00+00:00".into(),
            db_path: "/shop/till.db".into(),
            db_size: Some(4096),
            log_dir: Some("/logs".into()),
            sync: Some(enrolled()),
            log_tail: vec![
                "INFO sync: started".into(),
                format!("WARN sync: token {TOKEN} refused"),
            ],
            secrets: vec![TOKEN.into()],
            ..Facts::default()
        };
        let text = render(&facts);
        assert!(text.contains(crate::about::VERSION), "{text}");
        assert!(text.contains(crate::about::COMMIT), "{text}");
        assert!(
            text.contains("store file: /shop/till.db (4096 bytes)"),
            "{text}"
        );
        assert!(text.contains("device role: manager"), "{text}");
        assert!(text.contains("pending changes: 7"), "{text}");
        assert!(text.contains("INFO sync: started"), "{text}");
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains("5f1c0a9e"), "{text}");
        assert_eq!(text.matches("[redacted]").count(), 2, "{text}");
    }

    #[test]
    fn a_server_address_loses_its_credentials() {
        assert_eq!(
            without_credentials("https://shop:s3cret@sync.example.test/x@y"),
            "https://[redacted]@sync.example.test/x@y"
        );
        assert_eq!(
            without_credentials("https://sync.example.test/path?a=b@c"),
            "https://sync.example.test/path?a=b@c"
        );
        let mut status = enrolled();
        status.server = Some("http://u:p4ss@127.0.0.1:8080".into());
        let text = render(&Facts {
            sync: Some(status),
            ..Facts::default()
        });
        assert!(!text.contains("p4ss"), "{text}");
        assert!(text.contains("http://[redacted]@127.0.0.1:8080"), "{text}");
    }

    #[test]
    fn a_first_launch_says_so() {
        let text = render(&Facts {
            db_path: "/shop/new.db".into(),
            ..Facts::default()
        });
        assert!(text.contains("store file: /shop/new.db (does not exist)"));
        assert!(text.contains("store: none yet"));
        assert!(text.contains("device role: not enrolled"));
        assert!(text.contains("log folder: none"));
    }
}
