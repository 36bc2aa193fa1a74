//! Change notices across several server instances on one PostgreSQL
//! database (docs/OPERATIONS.md, "Several instances").
//!
//! A write that stores new changes sends `NOTIFY shopsync_changes` right
//! after its transaction commits (postgres.rs), so a notice never announces
//! a rolled-back write and arrives only once the changes are visible. Each
//! PostgreSQL-backed instance runs [`run`]: one dedicated connection that
//! `LISTEN`s and feeds the instance's in-process broadcast channel, which the
//! notice streams (notices.rs) read.
//!
//! An instance tags its notices with its id and drops its own when they come
//! back: it has already broadcast them in process the moment its write
//! committed, so its own devices hear of its writes without a round trip and
//! even while the listening connection is down.
//!
//! SQLite has one writer process, so it never gets here: its notices stay
//! in process.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_postgres::{AsyncMessage, NoTls};

use crate::Notice;

/// The PostgreSQL channel notices go through.
pub const CHANNEL: &str = "shopsync_changes";

/// PostgreSQL refuses a payload of 8000 bytes or more; stay well below.
const MAX_PAYLOAD: usize = 7900;

/// The listening connection's `application_name` (for `pg_stat_activity`).
pub const APPLICATION_NAME: &str = "shopsync-notice-listener";

/// Reconnect delays: doubling from the first to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Listening this long counts as a working connection (the backoff starts
/// again from the first delay).
const STEADY: Duration = Duration::from_secs(30);

/// The listening connection is checked this often with a query (a link
/// that died silently is noticed within a check plus its timeout).
const PING_EVERY: Duration = Duration::from_secs(10);
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// One notice as it travels between instances (JSON, versioned by `v`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Payload {
    v: u32,
    /// The instance that wrote.
    from: String,
    store: i64,
    head: u64,
    /// The changed document ids; absent when they would not fit, which
    /// streams read as "any document of the store may have changed".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    docs: Option<Vec<String>>,
}

/// The payload for a write of `instance` to `store_pk`: with the document
/// ids if they fit, else without (a "store changed" notice).
pub fn encode(instance: &str, store_pk: i64, head: u64, docs: &[String]) -> String {
    let mut p = Payload {
        v: 1,
        from: instance.to_string(),
        store: store_pk,
        head,
        docs: Some(docs.to_vec()),
    };
    let text = serde_json::to_string(&p).unwrap_or_default();
    if !text.is_empty() && text.len() <= MAX_PAYLOAD {
        return text;
    }
    p.docs = None;
    serde_json::to_string(&p).unwrap_or_default()
}

/// The writing instance and the notice, from a payload (None if it is not
/// one of ours).
pub fn decode(text: &str) -> Option<(String, Notice)> {
    let p: Payload = serde_json::from_str(text).ok()?;
    if p.v != 1 {
        return None;
    }
    let notice = Notice {
        store_pk: Some(p.store),
        head: p.head,
        docs: p.docs.map(Arc::new),
    };
    Some((p.from, notice))
}

/// What [`run`] needs: where the database is and who this instance is.
#[derive(Clone)]
pub struct Listener {
    pub config: tokio_postgres::Config,
    /// This instance's id (its own notices are dropped).
    pub instance: Arc<str>,
}

/// Listens until `shutdown` turns true, reconnecting with backoff whenever
/// the connection fails. After every (re)connection it broadcasts a notice
/// for any store ([`Notice::any_store`]): notices sent while it was not
/// listening are lost, so every open stream is told to sync.
pub async fn run(
    listener: Listener,
    notices: broadcast::Sender<Notice>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut delay = BACKOFF_FIRST;
    loop {
        let started = std::time::Instant::now();
        let listened = tokio::select! {
            r = listen(&listener, &notices) => r,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        match listened {
            // It listened for a while: start the backoff again. A
            // connection cut right after LISTEN (a proxy that drops it, a
            // pooler that cannot LISTEN) keeps backing off: each reconnect
            // tells every stream to sync.
            Ok(()) if started.elapsed() >= STEADY => delay = BACKOFF_FIRST,
            Ok(()) => {}
            Err(e) => tracing::warn!("change notices from other instances: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        delay = (delay * 2).min(BACKOFF_MAX);
    }
}

/// One connection's life: connect, `LISTEN`, pass notices on until it
/// fails. `Ok` once it had been listening (the connection dropped later).
async fn listen(listener: &Listener, notices: &broadcast::Sender<Notice>) -> Result<(), String> {
    let mut config = listener.config.clone();
    config.application_name(APPLICATION_NAME);
    let target = crate::postgres::describe(&config);
    let (client, mut connection) = tokio::time::timeout(PING_TIMEOUT * 2, config.connect(NoTls))
        .await
        .map_err(|_| format!("cannot connect to {target}: no answer"))?
        .map_err(|e| {
            format!(
                "cannot connect to {target}: {}",
                crate::postgres::db_message(&e)
            )
        })?;
    // The connection is driven here: its notifications come out of
    // `poll_message`, and the task ends when the connection does.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(m) = messages.next().await {
            match m {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_string()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(
                        "the notice listener's connection failed: {}",
                        crate::postgres::db_message(&e)
                    );
                    return;
                }
            }
        }
    });
    let listening = client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .map_err(|e| format!("LISTEN on {target}: {}", crate::postgres::db_message(&e)));
    if let Err(e) = listening {
        driver.abort();
        return Err(e);
    }
    tracing::info!("listening for change notices of other instances on {target}");
    // Whatever was sent before this point was not heard: every stream syncs.
    let _ = notices.send(Notice::any_store());
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            payload = rx.recv() => match payload {
                Some(text) => forward(&text, &listener.instance, notices),
                None => break,
            },
            _ = ping.tick() => {
                let alive = tokio::time::timeout(PING_TIMEOUT, client.simple_query("SELECT 1")).await;
                if !matches!(alive, Ok(Ok(_))) {
                    tracing::warn!("the notice listener's connection to {target} stopped answering");
                    break;
                }
            }
        }
    }
    driver.abort();
    Ok(())
}

/// Broadcasts a notice of another instance (its own are already out).
fn forward(text: &str, instance: &str, notices: &broadcast::Sender<Notice>) {
    match decode(text) {
        Some((from, _)) if from == instance => {}
        Some((_, notice)) => {
            let _ = notices.send(notice);
        }
        None => tracing::warn!("an unreadable change notice on {CHANNEL}: {text:.200}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_names_its_documents_when_they_fit() {
        let docs = vec!["sale:1".to_string(), "stock:P".to_string()];
        let text = encode("me", 7, 42, &docs);
        let (from, n) = decode(&text).unwrap();
        assert_eq!(from, "me");
        assert_eq!(n.store_pk, Some(7));
        assert_eq!(n.head, 42);
        assert_eq!(n.docs.as_deref(), Some(&docs));
    }

    #[test]
    fn too_many_documents_become_a_store_changed_notice() {
        let docs: Vec<String> = (0..1000).map(|i| format!("sale:{i:032}")).collect();
        let text = encode("me", 7, 42, &docs);
        assert!(text.len() < 8000, "{} bytes", text.len());
        let (_, n) = decode(&text).unwrap();
        assert_eq!(n.store_pk, Some(7));
        assert_eq!(n.head, 42);
        assert!(n.docs.is_none());
    }

    #[test]
    fn foreign_payloads_are_not_notices() {
        assert!(decode("hello").is_none());
        assert!(decode(r#"{"v":2,"from":"x","store":1,"head":1}"#).is_none());
    }

    #[test]
    fn own_notices_are_dropped_and_others_passed_on() {
        let (tx, mut rx) = broadcast::channel(4);
        forward(&encode("me", 1, 1, &[]), "me", &tx);
        forward(&encode("other", 2, 5, &[]), "me", &tx);
        let n = rx.try_recv().unwrap();
        assert_eq!(n.store_pk, Some(2));
        assert!(rx.try_recv().is_err(), "the own notice was passed on");
    }
}
