//! Renewed certificates without a restart: the server loads its PEM files
//! again when they change (looked at every [`CHECK_EVERY`]) or on SIGHUP.
//! A pair that does not load (a renewal half-written, a key that does not
//! match) is logged and the old certificate kept; connections already open
//! keep theirs.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use axum_server::tls_rustls::RustlsConfig;
use tokio::sync::watch;

/// How often the files' modification times are compared.
pub const CHECK_EVERY: Duration = Duration::from_secs(30);

/// What tells a file changed: its modification time and size.
type Stamp = (SystemTime, u64);

/// The files' stamps (None when one cannot be read).
fn stamp(cert: &Path, key: &Path) -> Option<(Stamp, Stamp)> {
    let at = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| Ok((m.modified()?, m.len())))
            .ok()
    };
    Some((at(cert)?, at(key)?))
}

/// Resolves on SIGHUP (never elsewhere than on Unix).
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Hangup {
        #[cfg(unix)]
        {
            let signal =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            Hangup { signal }
        }
        #[cfg(not(unix))]
        Hangup {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = self.signal.as_mut() {
            s.recv().await;
            return;
        }
        std::future::pending::<()>().await
    }
}

/// Reloads `config` from the files until `shutdown` turns true.
pub async fn watch(
    config: RustlsConfig,
    cert: PathBuf,
    key: PathBuf,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut hangup = Hangup::new();
    let mut loaded = stamp(&cert, &key);
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.tick().await;
    loop {
        let asked = tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            _ = hangup.recv() => true,
            _ = tick.tick() => false,
        };
        let now = stamp(&cert, &key);
        if !asked && (now.is_none() || now == loaded) {
            continue;
        }
        match config.reload_from_pem_file(&cert, &key).await {
            Ok(()) => {
                loaded = now;
                tracing::info!(cert = %cert.display(), "TLS certificate loaded again");
            }
            Err(e) => {
                // Not marked loaded: the next look tries again.
                tracing::error!(
                    cert = %cert.display(),
                    key = %key.display(),
                    "the TLS certificate could not be loaded again, the old one is kept: {e}"
                );
            }
        }
    }
}
