//! Publishes the event outbox to NATS JetStream (docs/EVENTS.md): a task
//! `serve` starts with `--nats`. It reads the outbox in id order, publishes
//! each event with `Nats-Msg-Id` = its event id, waits for JetStream's
//! acknowledgements and then deletes what was acknowledged. When NATS
//! cannot be reached it logs once, backs off (capped) and tries again; the
//! events wait in the outbox and syncs go on, never waiting for NATS.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};

use crate::AppState;
use crate::events::{STREAM, STREAM_SUBJECTS};
use crate::storage::{OutboxBacklog, Storage, StorageError};

/// Events read from the outbox and published before acks are awaited.
const BATCH: u32 = 256;
/// Waits between tries while NATS fails: doubling from the first, capped.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long a connection attempt or a JetStream acknowledgement may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// With nothing to publish, the outbox is looked at again after this even
/// without a wake-up (events queued by another process on the same file).
const IDLE_POLL: Duration = Duration::from_secs(1);

/// What the publisher tells `/readyz` and `/metrics`.
#[derive(Debug, Default)]
pub struct Status {
    pub connected: AtomicBool,
    /// Events JetStream acknowledged since the start.
    pub published: AtomicU64,
    /// Tries that failed since the start (each backs off).
    pub failures: AtomicU64,
    /// When JetStream last acknowledged an event (ms), 0 before the first.
    pub last_ack_ms: AtomicI64,
    /// Rung after events are queued, so they go out at once.
    pub wake: tokio::sync::Notify,
}

impl Status {
    /// The publisher's lines of `/metrics`: backlog, lag and counters.
    pub fn render(&self, out: &mut String, backlog: OutboxBacklog, now_ms: i64) {
        let lag = backlog
            .oldest_ms
            .map(|t| (now_ms - t).max(0) as f64 / 1000.0)
            .unwrap_or(0.0);
        let mut line = |name: &str, kind: &str, help: &str, v: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        };
        line(
            "shopsync_events_outbox",
            "gauge",
            "Events waiting in the outbox to be published to NATS.",
            backlog.events.to_string(),
        );
        line(
            "shopsync_events_lag_seconds",
            "gauge",
            "Age of the oldest event waiting in the outbox (0 when none waits).",
            lag.to_string(),
        );
        line(
            "shopsync_events_published_total",
            "counter",
            "Events JetStream acknowledged.",
            self.published.load(Relaxed).to_string(),
        );
        line(
            "shopsync_events_publish_failures_total",
            "counter",
            "Publishing tries that failed (NATS down or slow); each is retried.",
            self.failures.load(Relaxed).to_string(),
        );
        line(
            "shopsync_nats_connected",
            "gauge",
            "1 while the publisher is connected to NATS.",
            u8::from(self.connected.load(Relaxed)).to_string(),
        );
    }
}

#[derive(Debug, thiserror::Error)]
enum PublishFailure {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("cannot create or find the stream {STREAM}: {0}")]
    Stream(String),
    #[error("publishing failed: {0}")]
    Publish(String),
    #[error("the outbox: {0}")]
    Outbox(#[from] StorageError),
}

struct Session {
    client: async_nats::Client,
    js: jetstream::Context,
}

/// Runs until the server shuts down.
pub async fn run<S: Storage>(st: Arc<AppState<S>>, url: String) {
    let Some(status) = st.events.as_ref() else {
        return;
    };
    let mut shutdown = st.shutdown.clone();
    let mut session: Option<Session> = None;
    let mut backoff = FIRST_BACKOFF;
    let mut failing = false;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let pause = match publish_some(&st, status, &url, &mut session).await {
            Ok(published) => {
                if failing {
                    tracing::info!("NATS is reachable again: publishing the events that waited");
                    failing = false;
                }
                backoff = FIRST_BACKOFF;
                if published > 0 {
                    continue;
                }
                IDLE_POLL
            }
            Err(e) => {
                status.failures.fetch_add(1, Relaxed);
                status.connected.store(false, Relaxed);
                if !failing {
                    tracing::warn!(
                        "cannot publish events to NATS ({e}); they wait in the outbox and are retried"
                    );
                    failing = true;
                }
                // A fresh connection next time (the old one may be stuck).
                session = None;
                let pause = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                pause
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = status.wake.notified(), if !failing => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

/// Publishes one batch from the outbox; returns how many were acknowledged.
async fn publish_some<S: Storage>(
    st: &AppState<S>,
    status: &Status,
    url: &str,
    session: &mut Option<Session>,
) -> Result<usize, PublishFailure> {
    let s = match session {
        Some(s) => s,
        None => session.insert(connect(url).await?),
    };
    status.connected.store(
        s.client.connection_state() == async_nats::connection::State::Connected,
        Relaxed,
    );
    let rows = st.storage.outbox_batch(0, BATCH).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    // Sent in order on one connection, so JetStream stores them in order;
    // the acks are awaited after.
    let mut acks = Vec::with_capacity(rows.len());
    for row in &rows {
        let message = PublishMessage::build()
            .payload(row.payload.clone().into())
            .message_id(row.event_id.as_str());
        let ack =
            s.js.send_publish(row.subject.clone(), message)
                .await
                .map_err(|e| PublishFailure::Publish(e.to_string()))?;
        acks.push(ack);
    }
    let mut acked: usize = 0;
    let mut failure = None;
    for ack in acks {
        match ack.await {
            Ok(_) => acked += 1,
            Err(e) => {
                failure = Some(PublishFailure::Publish(e.to_string()));
                break;
            }
        }
    }
    // What was acknowledged goes, even if a later one failed (it is sent
    // again; JetStream and consumers drop a repeat by its id).
    if let Some(last) = acked.checked_sub(1).and_then(|i| rows.get(i)) {
        st.storage.outbox_delete(last.id).await?;
        status.published.fetch_add(acked as u64, Relaxed);
        status
            .last_ack_ms
            .store(chrono::Utc::now().timestamp_millis(), Relaxed);
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(acked),
    }
}

async fn connect(url: &str) -> Result<Session, PublishFailure> {
    let client = async_nats::ConnectOptions::new()
        .name("shopsync-server")
        .connection_timeout(CONNECT_TIMEOUT)
        .connect(url)
        .await
        .map_err(|e| PublishFailure::Connect(e.to_string()))?;
    let mut js = jetstream::new(client.clone());
    js.set_timeout(ACK_TIMEOUT);
    js.get_or_create_stream(stream::Config {
        name: STREAM.to_string(),
        subjects: vec![STREAM_SUBJECTS.to_string()],
        ..Default::default()
    })
    .await
    .map_err(|e| PublishFailure::Stream(e.to_string()))?;
    Ok(Session { client, js })
}
