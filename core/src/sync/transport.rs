//! Hostile networks: a device token or an enrolment code never crosses a
//! network in clear. The till speaks `http://` only to a loopback address
//! (a server on the same machine, or a TLS-terminating proxy beside it),
//! unless told otherwise explicitly: `--allow-insecure-http` at enrolment
//! (remembered for this till) or `SHOPSYNC_ALLOW_HTTP=1`.

use std::net::IpAddr;

use crate::error::{CoreError, Result};
use crate::store::Store;

/// Set to `1` to allow `http://` to a non-loopback server.
pub const ALLOW_HTTP_ENV: &str = "SHOPSYNC_ALLOW_HTTP";

const KEY_ALLOW_HTTP: &str = "sync.allow_insecure_http";

/// Whether the environment allows plain HTTP to any server.
pub fn env_allows_http() -> bool {
    std::env::var(ALLOW_HTTP_ENV).is_ok_and(|v| v.trim() == "1")
}

/// Whether `host` (as written in a URL) is this machine.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") || h.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a server address that would send secrets in clear: `http://`
/// to anything but loopback, unless `allow_insecure_http`.
pub fn check_server_url(url: &str, allow_insecure_http: bool) -> Result<()> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Ok(());
    };
    if allow_insecure_http {
        return Ok(());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if host_port.starts_with('[') {
        host_port
            .split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or("").to_string()
    };
    if is_loopback_host(&host) {
        return Ok(());
    }
    Err(CoreError::invalid(
        "server",
        format!(
            "refusing http://{host}: the device token and enrolment code would cross the network in clear. \
             Use https:// (see docs/OPERATIONS.md), or, on a network you trust, pass --allow-insecure-http \
             (or set {ALLOW_HTTP_ENV}=1)"
        ),
    ))
}

impl Store {
    /// Whether this till was enrolled with `--allow-insecure-http`.
    pub fn sync_allows_insecure_http(&self) -> Result<bool> {
        Ok(self.meta_get(KEY_ALLOW_HTTP)?.as_deref() == Some("1"))
    }

    /// Remembers (or forgets) that plain HTTP was allowed explicitly.
    pub fn set_sync_allows_insecure_http(&self, allow: bool) -> Result<()> {
        if allow {
            self.meta_set(KEY_ALLOW_HTTP, "1")
        } else {
            self.meta_del(KEY_ALLOW_HTTP)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        for ok in [
            "https://sync.example.com",
            "http://127.0.0.1:8787",
            "http://127.9.9.9",
            "http://localhost:8787/",
            "http://[::1]:8787",
            "http://user@127.0.0.1:1",
        ] {
            assert!(check_server_url(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://sync.example.com",
            "http://0.0.0.0:8787",
            "http://192.168.1.10:8787",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com:80",
            "http://[::2]:8787",
            "http://127.0.0.1@evil.com",
        ] {
            let err = check_server_url(bad, false).err();
            assert!(
                err.as_ref()
                    .is_some_and(|e| e.to_string().contains("allow-insecure-http")),
                "{bad}: {err:?}"
            );
            assert!(check_server_url(bad, true).is_ok(), "{bad}");
        }
    }
}
