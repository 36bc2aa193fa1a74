//! Publishes the event outbox to NATS JetStream (docs/EVENTS.md): a task
//! `serve` starts with `--nats`. It reads the outbox in id order, derives
//! the events of each change entry from the stored change, publishes them
//! with `Nats-Msg-Id` = the event id, up to `WINDOW` at a time with their
//! acknowledgements awaited in order, and deletes an entry once all its
//! events are acknowledged. When NATS
//! cannot be reached it logs once, backs off (capped) and tries again; the
//! events wait in the outbox and syncs go on, never waiting for NATS.

use std::collections::VecDeque;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use async_nats::jetstream::{
    self,
    context::{PublishAckFuture, PublishError},
    message::PublishMessage,
    stream,
};

use crate::AppState;
use crate::events::{OutboxEvent, STREAM, STREAM_SUBJECTS};
use crate::nats_url::NatsTarget;
use crate::storage::{OutboxBacklog, OutboxEntry, OutboxRow, Storage, StorageError};

/// Outbox entries read at once (a sale's change gives a `sale.recorded`
/// and a `product.sold` per line).
const BATCH: u32 = 256;
/// Publishes sent before the oldest one's acknowledgement is awaited.
/// JetStream stores the messages of one connection in the order sent;
/// acknowledgements are awaited in that order, and nothing after the first
/// failure counts as done.
const WINDOW: usize = 256;
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
    /// Publishes JetStream acknowledged since the start (repeats included).
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
            "Entries waiting in the outbox (a change whose events are not all published yet, or one event; an estimate from the outbox ids).",
            backlog.events.to_string(),
        );
        line(
            "shopsync_events_lag_seconds",
            "gauge",
            "Age of the oldest entry waiting in the outbox (0 when none waits).",
            lag.to_string(),
        );
        line(
            "shopsync_events_published_total",
            "counter",
            "Publishes JetStream acknowledged, repeats included (an event sent again after a failure or by another instance counts again; JetStream stores it once).",
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
            "Events JetStream refused for good (table event_dead_letters) and changes whose events could not all be derived (event_change_dead_letters).",
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
    #[error("deriving events: {0}")]
    Derive(String),
}

/// The first event of the outbox that JetStream refused (its entry and
/// its place among the entry's events), and how many times in a row.
struct Refused {
    outbox_id: i64,
    index: u32,
    tries: u32,
}

/// An outbox entry ready to publish: its events from the first not yet
/// handled, and why some could not be derived.
struct Planned {
    id: i64,
    /// The index of `events[0]` among the entry's events.
    first: u32,
    events: Vec<OutboxEvent>,
    problem: Option<String>,
    /// The change entry's store and seq, for the log.
    change: Option<(i64, i64)>,
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
    // The outbox (the database) failing: logged once until it answers.
    let mut outbox_failing = false;
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
                outbox_failing = false;
                backoff = FIRST_BACKOFF;
                if published > 0 {
                    continue;
                }
                IDLE_POLL
            }
            Err(e) => {
                status.failures.fetch_add(1, Relaxed);
                let refusal = matches!(e, PublishFailure::Refused(_));
                // Not NATS's fault: the connection is kept.
                let local = matches!(e, PublishFailure::Derive(_) | PublishFailure::Outbox(_));
                if refusal {
                    tracing::warn!("{e}; retried, then set aside if refused again");
                } else if let PublishFailure::Derive(_) = e {
                    tracing::error!("{e}; the events wait in the outbox and are retried");
                } else if let PublishFailure::Outbox(_) = e {
                    if !outbox_failing {
                        tracing::error!("cannot read or update the event outbox ({e}); retried");
                    }
                    outbox_failing = true;
                } else if !failing {
                    tracing::warn!(
                        "cannot publish events to NATS ({e}); they wait in the outbox and are retried"
                    );
                }
                // "NATS is reachable again" is for NATS failures only.
                failing |= !local;
                // A fresh connection next time (the old one may be stuck),
                // unless JetStream answered (it refused this one event).
                if !refusal && !local {
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

/// Derives the events of the change entries (CPU: run off the runtime).
fn plan(rows: Vec<OutboxRow>) -> Vec<Planned> {
    rows.into_iter()
        .map(|row| plan_row(row, crate::events::stored_change_events))
        .collect()
}

/// One entry's events. A panic while deriving them (a stored change no
/// code path expected) becomes the entry's problem, so it goes to
/// `event_change_dead_letters` instead of stopping every store's events.
fn plan_row(row: OutboxRow, derive: fn(&str, &[u8]) -> crate::events::Derived) -> Planned {
    match row.entry {
        OutboxEntry::Event(e) => Planned {
            id: row.id,
            first: 0,
            events: vec![e],
            problem: None,
            change: None,
        },
        OutboxEntry::Change {
            store_pk,
            seq,
            handled,
            stored,
        } => {
            let derived = match stored {
                Some(c) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    derive(&c.doc_id, &c.bytes)
                }))
                .unwrap_or_else(|panic| crate::events::Derived {
                    events: Vec::new(),
                    problem: Some(format!(
                        "deriving the events panicked: {}",
                        panic_message(panic.as_ref())
                    )),
                }),
                None => crate::events::Derived {
                    events: Vec::new(),
                    problem: Some(format!(
                        "the change (store {store_pk}, seq {seq}) is not in the database"
                    )),
                },
            };
            Planned {
                id: row.id,
                first: handled,
                events: derived.events.into_iter().skip(handled as usize).collect(),
                problem: derived.problem,
                change: Some((store_pk, seq)),
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Publishes a batch of the outbox: up to `WINDOW` events in flight, their
/// acknowledgements awaited in order, so a failure leaves everything from
/// the first unacknowledged event to be sent again (in order; the repeats
/// of what JetStream already stored are dropped by their id). Returns how
/// many entries left the outbox (all their events acknowledged or set
/// aside).
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
    if rows.is_empty() {
        return Ok(0);
    }
    let planned = tokio::task::spawn_blocking(move || plan(rows))
        .await
        .map_err(|e| PublishFailure::Derive(e.to_string()))?;

    // (entry, event) of each publish in flight, oldest first.
    let mut inflight: VecDeque<(usize, usize, PublishAckFuture)> = VecDeque::new();
    // Acknowledgements are awaited in order: the first `acked` events of
    // the batch are in the stream.
    let mut acked = 0usize;
    let mut failure: Option<(usize, usize, PublishFailure)> = None;
    'send: for (i, p) in planned.iter().enumerate() {
        for (j, e) in p.events.iter().enumerate() {
            if inflight.len() >= WINDOW
                && let Some((ei, ej, ack)) = inflight.pop_front()
            {
                if let Err(err) = ack.await {
                    failure = Some((ei, ej, classify(err)));
                    // Nothing after a failed acknowledgement counts.
                    inflight.clear();
                    break 'send;
                }
                acked += 1;
            }
            let message = PublishMessage::build()
                .payload(e.payload.clone().into())
                .message_id(e.event_id.as_str());
            match s.js.send_publish(e.subject.clone(), message).await {
                Ok(ack) => inflight.push_back((i, j, ack)),
                Err(err) => {
                    failure = Some((i, j, classify(err)));
                    break 'send;
                }
            }
        }
    }
    // What was sent before a failure to send may still be acknowledged.
    while let Some((ei, ej, ack)) = inflight.pop_front() {
        if let Err(err) = ack.await {
            failure = Some((ei, ej, classify(err)));
            break;
        }
        acked += 1;
    }
    drop(inflight);
    // Entries whose events all lie within the acknowledged prefix (an
    // entry with none, before the first failure, too).
    let mut end = 0usize;
    let done_entries = planned
        .iter()
        .take_while(|p| {
            end += p.events.len();
            end <= acked
        })
        .count();
    let acked_events = acked as u64;

    let done: Vec<i64> = planned[..done_entries].iter().map(|p| p.id).collect();
    let dead: Vec<(i64, String)> = planned[..done_entries]
        .iter()
        .filter_map(|p| p.problem.clone().map(|why| (p.id, why)))
        .collect();
    for p in &planned[..done_entries] {
        if let (Some(why), Some((store_pk, seq))) = (&p.problem, p.change) {
            tracing::error!(
                store_pk,
                seq,
                "the events of a stored change could not all be derived ({why}): it is \
                 recorded in the table event_change_dead_letters (docs/EVENTS.md); the \
                 entries after it are published"
            );
        }
    }
    let left = done.len();
    if !done.is_empty() {
        let buried = st.storage.outbox_delete(done, dead).await?;
        status.dead_letters.fetch_add(buried, Relaxed);
    }
    if let Some((id, handled)) = partial_progress(&planned, done_entries, acked) {
        st.storage.outbox_progress(id, handled).await?;
    }
    if acked_events > 0 {
        status.published.fetch_add(acked_events, Relaxed);
        status
            .last_ack_ms
            .store(chrono::Utc::now().timestamp_millis(), Relaxed);
    }
    let Some((fi, fj, e)) = failure else {
        return Ok(left);
    };
    let PublishFailure::Refused(reason) = &e else {
        return Err(e);
    };
    let p = &planned[fi];
    let index = p.first.saturating_add(fj as u32);
    let event = &p.events[fj];
    // The same event refused again: after a few, it is set aside so the
    // events behind it flow on (a refusal is about this one message).
    let tries = match refused {
        Some(r) if r.outbox_id == p.id && r.index == index => r.tries + 1,
        _ => 1,
    };
    if tries < DEAD_LETTER_AFTER {
        *refused = Some(Refused {
            outbox_id: p.id,
            index,
            tries,
        });
        return Err(e);
    }
    *refused = None;
    let written = st
        .storage
        .outbox_dead_letter(p.id, index.saturating_add(1), event.clone(), reason.clone())
        .await?;
    if written {
        status.dead_letters.fetch_add(1, Relaxed);
    }
    tracing::error!(
        event_id = %event.event_id,
        subject = %event.subject,
        "JetStream refused an event {tries} times ({reason}): moved to the table \
         event_dead_letters (docs/EVENTS.md); the events after it are published"
    );
    Ok(left + 1)
}

/// The change entry a batch stopped in, and how many of its events are
/// then handled, if some of them are in the stream: saved, so a change
/// with more events than go out between two NATS failures still advances.
fn partial_progress(planned: &[Planned], done_entries: usize, acked: usize) -> Option<(i64, u32)> {
    let p = planned.get(done_entries)?;
    p.change?;
    let before: usize = planned[..done_entries].iter().map(|p| p.events.len()).sum();
    let in_row = acked.saturating_sub(before).min(p.events.len());
    if in_row == 0 {
        return None;
    }
    let handled = p
        .first
        .saturating_add(u32::try_from(in_row).unwrap_or(u32::MAX));
    Some((p.id, handled))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StoredChange;

    fn change_row(id: i64, handled: u32) -> OutboxRow {
        OutboxRow {
            id,
            created_ms: 0,
            entry: OutboxEntry::Change {
                store_pk: 1,
                seq: 7,
                handled,
                stored: Some(StoredChange {
                    doc_id: "store/s/ledger/t/2026-05".into(),
                    hash: [0; 32],
                    bytes: vec![1],
                }),
            },
        }
    }

    fn two_events(_: &str, _: &[u8]) -> crate::events::Derived {
        let e = |id: &str| OutboxEvent {
            event_id: id.into(),
            subject: "shopsync.s.sale.recorded".into(),
            payload: "{}".into(),
        };
        crate::events::Derived {
            events: vec![e("a"), e("b")],
            problem: None,
        }
    }

    #[allow(clippy::panic)]
    fn panics(_: &str, _: &[u8]) -> crate::events::Derived {
        panic!("a record no code path expected")
    }

    /// A panic deriving one change's events makes that entry a dead
    /// letter with the reason, instead of failing the whole batch.
    #[test]
    fn a_panic_while_deriving_becomes_the_entrys_problem() {
        let p = plan_row(change_row(3, 0), panics);
        assert_eq!(p.id, 3);
        assert!(p.events.is_empty());
        let why = p.problem.unwrap_or_default();
        assert!(why.contains("panicked"), "{why}");
        assert!(why.contains("a record no code path expected"), "{why}");
        assert_eq!(p.change, Some((1, 7)));
    }

    /// A batch that failed partway through a change keeps what of that
    /// change is in the stream; entries done before it, or an event entry,
    /// or nothing acknowledged in it, save nothing.
    #[test]
    fn a_failure_partway_through_a_change_saves_its_acknowledged_events() {
        let planned = plan(vec![change_row(1, 0), change_row(2, 0), change_row(3, 0)])
            .into_iter()
            .map(|mut p| {
                p.events = two_events("", &[]).events;
                p
            })
            .collect::<Vec<_>>();
        let mut resumed = plan_row(change_row(2, 1), two_events);
        resumed.events.extend(two_events("", &[]).events);
        // Entry 1 done (2 events), 1 of entry 2's acknowledged.
        assert_eq!(partial_progress(&planned, 1, 3), Some((2, 1)));
        assert_eq!(partial_progress(&planned, 1, 2), None);
        assert_eq!(partial_progress(&planned, 3, 6), None);
        // Resumed from its second event: handled counts from the change's
        // first event.
        assert_eq!(partial_progress(&[resumed], 0, 2), Some((2, 3)));
        let event_entry = Planned {
            id: 9,
            first: 0,
            events: two_events("", &[]).events,
            problem: None,
            change: None,
        };
        assert_eq!(partial_progress(&[event_entry], 0, 1), None);
    }

    /// Events already handled are skipped, from `handled` on.
    #[test]
    fn a_change_is_published_from_its_handled_events_on() {
        let p = plan_row(change_row(3, 1), two_events);
        assert_eq!(p.first, 1);
        let ids: Vec<&str> = p.events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["b"]);
        assert!(p.problem.is_none());
    }
}
