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

use async_nats::jetstream::{self, context::PublishError, message::PublishMessage, stream};

use crate::AppState;
use crate::events::{STREAM, STREAM_SUBJECTS};
use crate::nats_url::NatsTarget;
use crate::storage::{OutboxBacklog, OutboxRow, Storage, StorageError};

/// Events read from the outbox at once (each published and acknowledged
/// before the next).
const BATCH: u32 = 256;
/// Refusals of one event before it goes to `event_dead_letters`.
const DEAD_LETTER_AFTER: u32 = 3;
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
    /// Events moved to `event_dead_letters` since the start.
    pub dead_letters: AtomicU64,
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
            "Events waiting in the outbox to be published to NATS (an estimate from the outbox ids).",
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
            "shopsync_events_dead_letters_total",
            "counter",
            "Events JetStream refused for good, moved to the table event_dead_letters.",
            self.dead_letters.load(Relaxed).to_string(),
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
    #[error("JetStream refused the event: {0}")]
    Refused(String),
    #[error("the outbox: {0}")]
    Outbox(#[from] StorageError),
}

/// The event at the head of the outbox that JetStream refused, and how
/// many times in a row.
struct Refused {
    outbox_id: i64,
    tries: u32,
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
    let mut refused = None;
    loop {
        if *shutdown.borrow() {
            return;
        }
        // Shutdown interrupts a publish (an event published but not yet
        // deleted goes out again after the restart: dropped by its id).
        let outcome = tokio::select! {
            outcome = publish_some(&st, status, &url, &mut session, &mut refused) => outcome,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        let pause = match outcome {
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
                let refusal = matches!(e, PublishFailure::Refused(_));
                if refusal {
                    tracing::warn!("{e}; retried, then set aside if refused again");
                } else if !failing {
                    tracing::warn!(
                        "cannot publish events to NATS ({e}); they wait in the outbox and are retried"
                    );
                }
                failing = true;
                // A fresh connection next time (the old one may be stuck),
                // unless JetStream answered (it refused this one event).
                if !refusal {
                    status.connected.store(false, Relaxed);
                    session = None;
                }
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

/// Publishes outbox events one at a time, each awaited before the next,
/// so JetStream stores them in outbox order even when one fails; returns
/// how many left the outbox (acknowledged or dead-lettered).
async fn publish_some<S: Storage>(
    st: &AppState<S>,
    status: &Status,
    url: &str,
    session: &mut Option<Session>,
    refused: &mut Option<Refused>,
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
    let mut acked: Option<&OutboxRow> = None;
    let mut failure = None;
    for row in &rows {
        match publish_one(&s.js, row).await {
            Ok(()) => acked = Some(row),
            Err(e) => {
                failure = Some((row, e));
                break;
            }
        }
    }
    let published: Vec<i64> = acked.map_or_else(Vec::new, |last| {
        rows.iter()
            .take_while(|r| r.id <= last.id)
            .map(|r| r.id)
            .collect()
    });
    let done = published.len();
    if !published.is_empty() {
        st.storage.outbox_delete(published).await?;
        status.published.fetch_add(done as u64, Relaxed);
        status
            .last_ack_ms
            .store(chrono::Utc::now().timestamp_millis(), Relaxed);
    }
    let Some((row, e)) = failure else {
        return Ok(done);
    };
    let PublishFailure::Refused(reason) = &e else {
        return Err(e);
    };
    // The same event refused again: after a few, it is set aside so the
    // events behind it flow on (a refusal is about this one message).
    let tries = match refused {
        Some(r) if r.outbox_id == row.id => r.tries + 1,
        _ => 1,
    };
    if tries < DEAD_LETTER_AFTER {
        *refused = Some(Refused {
            outbox_id: row.id,
            tries,
        });
        return Err(e);
    }
    *refused = None;
    st.storage
        .outbox_dead_letter(row.id, reason.clone())
        .await?;
    status.dead_letters.fetch_add(1, Relaxed);
    tracing::error!(
        event_id = %row.event_id,
        subject = %row.subject,
        "JetStream refused an event {tries} times ({reason}): moved to the table \
         event_dead_letters (docs/EVENTS.md); the events after it are published"
    );
    Ok(done + 1)
}

/// Publishes one event and waits for JetStream's acknowledgement.
async fn publish_one(js: &jetstream::Context, row: &OutboxRow) -> Result<(), PublishFailure> {
    let message = PublishMessage::build()
        .payload(row.payload.clone().into())
        .message_id(row.event_id.as_str());
    let ack = js
        .send_publish(row.subject.clone(), message)
        .await
        .map_err(classify)?;
    ack.await.map_err(classify)?;
    Ok(())
}

/// A refusal JetStream will repeat for this message (too large, invalid,
/// or an API error answering the request) versus a failure of the way
/// there (timeout, connection), which a retry can cure. A permission
/// refusal by the NATS server gets no answer: it looks like a timeout.
fn classify(e: PublishError) -> PublishFailure {
    use async_nats::jetstream::context::PublishErrorKind as Kind;
    let api_refusal = std::error::Error::source(&e)
        .and_then(|s| s.downcast_ref::<jetstream::Error>())
        .is_some_and(|api| (400..500).contains(&api.code()));
    if e.kind() == Kind::MaxPayloadExceeded || api_refusal {
        PublishFailure::Refused(e.to_string())
    } else {
        PublishFailure::Publish(e.to_string())
    }
}

async fn connect(url: &str) -> Result<Session, PublishFailure> {
    let target = NatsTarget::parse(url).map_err(PublishFailure::Connect)?;
    let mut options = async_nats::ConnectOptions::new()
        .name("shopsync-server")
        .connection_timeout(CONNECT_TIMEOUT);
    if let Some((user, password)) = target.user_and_password {
        options = options.user_and_password(user, password);
    }
    let client = options
        .connect(target.addr)
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
