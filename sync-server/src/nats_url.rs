//! `--nats`' URL split into the address and its credentials, so that a
//! password in `nats://user:password@host` never reaches a log or an error
//! message (the address connected to and shown carries none), and reaches
//! NATS through `ConnectOptions::user_and_password` (async-nats does not
//! read credentials from the URL).

use std::fmt;

use async_nats::ServerAddr;
use percent_encoding::percent_decode_str;

/// Where to publish events: the address without credentials, and those.
#[derive(Clone)]
pub struct NatsTarget {
    pub addr: ServerAddr,
    pub user_and_password: Option<(String, String)>,
}

/// Shows the address only.
impl fmt::Debug for NatsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsTarget")
            .field("addr", &self.addr.as_url_str())
            .field("credentials", &self.user_and_password.is_some())
            .finish()
    }
}

impl NatsTarget {
    /// Parses a NATS server URL. The error never contains the URL.
    pub fn parse(url: &str) -> Result<Self, String> {
        let addr: ServerAddr = url.parse().map_err(|e: std::io::Error| e.to_string())?;
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let user_and_password = addr
            .username()
            .map(|u| (decode(u), decode(addr.password().unwrap_or(""))));
        let mut bare = addr.into_inner();
        // Only fails for URLs that cannot have credentials (none here).
        let stripped = bare.set_username("").is_ok() && bare.set_password(None).is_ok();
        if !stripped {
            return Err("cannot take the credentials out of the URL".into());
        }
        let addr = ServerAddr::from_url(bare).map_err(|e| e.to_string())?;
        Ok(Self {
            addr,
            user_and_password,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_and_are_decoded() {
        let t = NatsTarget::parse("nats://ana:p%40ss%3Aw@127.0.0.1:4222").unwrap();
        assert_eq!(t.addr.as_url_str(), "nats://127.0.0.1:4222");
        assert_eq!(
            t.user_and_password,
            Some(("ana".to_string(), "p@ss:w".to_string()))
        );
        let shown = format!("{t:?}");
        assert!(
            !shown.contains("p%40ss") && !shown.contains("p@ss"),
            "{shown}"
        );
    }

    #[test]
    fn a_url_without_credentials_stays_as_it_is() {
        let t = NatsTarget::parse("nats://127.0.0.1:4222").unwrap();
        assert_eq!(t.addr.as_url_str(), "nats://127.0.0.1:4222");
        assert!(t.user_and_password.is_none());
    }

    #[test]
    fn a_bad_url_is_refused_without_repeating_it() {
        let e = NatsTarget::parse("http://ana:secret@host").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }
}
