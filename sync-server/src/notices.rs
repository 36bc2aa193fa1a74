//! Notice streams (server-sent events): a device hears that documents it
//! follows changed, a heartbeat, and that it was revoked. A till or a
//! manager follows its store; a customer's device follows its own
//! documents and the public catalogs of the shops it names.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use shopsync_core::ids::DocId;

use crate::error::ApiError;
use crate::storage::Storage;
use crate::{AppState, Notice, guard};

/// What a stream passes on.
pub enum Filter {
    /// Every change of this store's scope; the data is the store's head.
    Store(i64),
    /// A customer's own documents and orders, and the public catalogs of
    /// `watch` (store ids); the data is the changed document ids, spaced.
    Customer {
        customer: String,
        watch: HashSet<String>,
    },
}

impl Filter {
    /// The event data for a notice this stream passes on.
    pub fn wants(&self, n: &Notice) -> Option<String> {
        match self {
            // A store's stream: its head, or "0" when not known (a device
            // syncs on any `changed`, PROTOCOL.md).
            Filter::Store(pk) => match n.store_pk {
                Some(p) if p == *pk => Some(n.head.to_string()),
                Some(_) => None,
                None => Some("0".into()),
            },
            Filter::Customer { customer, watch } => {
                // Which documents changed is not known: pass it on
                // (conservatively, as after a lag).
                let Some(docs) = &n.docs else {
                    return Some("0".into());
                };
                let docs: Vec<&str> = docs
                    .iter()
                    .filter(|d| match DocId::parse(d) {
                        Some(DocId::Public { store }) => watch.contains(&store),
                        Some(id) => id.customer() == Some(customer.as_str()),
                        None => false,
                    })
                    .map(String::as_str)
                    .collect();
                (!docs.is_empty()).then(|| docs.join(" "))
            }
        }
    }
}

struct StreamState<S: Storage> {
    st: Arc<AppState<S>>,
    device_id: String,
    filter: Filter,
    rx: tokio::sync::broadcast::Receiver<Notice>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    heartbeat: tokio::time::Interval,
    check: tokio::time::Interval,
    done: bool,
}

impl<S: Storage> Drop for StreamState<S> {
    fn drop(&mut self) {
        self.st.metrics.event_streams.fetch_sub(1, Relaxed);
        self.st.streams.release(&self.device_id);
    }
}

/// Opens a notice stream for `device_id` (counted against its slots).
pub fn stream<S: Storage>(
    st: Arc<AppState<S>>,
    device_id: String,
    filter: Filter,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let g = &st.options.guard;
    st.streams
        .take(&device_id, g.streams_per_device, g.streams_total)
        .map_err(|refused| match refused {
            guard::SlotRefused::Device(n) => ApiError::Quota(format!(
                "this device has {n} notice streams open already (the most one device may hold)"
            )),
            guard::SlotRefused::Total(n) => ApiError::Quota(format!(
                "the server has {n} notice streams open (its limit): try again later"
            )),
        })?;
    st.metrics.event_streams.fetch_add(1, Relaxed);
    let mut heartbeat = tokio::time::interval(st.options.heartbeat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut check = tokio::time::interval(st.options.revocation_check);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = StreamState {
        rx: st.notices.subscribe(),
        shutdown: st.shutdown.clone(),
        st: st.clone(),
        device_id,
        filter,
        heartbeat,
        check,
        done: false,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        loop {
            tokio::select! {
                msg = s.rx.recv() => match msg {
                    Ok(n) => match s.filter.wants(&n) {
                        Some(data) => return Some((Ok(Event::default().event("changed").data(data)), s)),
                        None => continue,
                    },
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        return Some((Ok(Event::default().event("changed").data("0")), s));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
                _ = s.heartbeat.tick() => {
                    return Some((Ok(Event::default().event("heartbeat").data("")), s));
                }
                _ = s.check.tick() => {
                    // A revoked device loses its stream within a second.
                    match s.st.storage.device(s.device_id.clone()).await {
                        Ok(Some(d)) if !d.revoked => continue,
                        Ok(_) => {
                            s.done = true;
                            return Some((Ok(Event::default().event("revoked").data("")), s));
                        }
                        Err(e) => {
                            tracing::warn!("revocation check failed: {e}");
                            continue;
                        }
                    }
                }
                _ = s.shutdown.changed() => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(3600))))
}
