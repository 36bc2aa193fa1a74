//! Counters for `GET /metrics` (Prometheus text format), kept in atomics.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds (seconds) of the sync latency histogram.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub responses_4xx: AtomicU64,
    pub responses_5xx: AtomicU64,
    pub sync_requests: AtomicU64,
    pub enrolments: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub changes_received: AtomicU64,
    pub changes_stored: AtomicU64,
    pub changes_sent: AtomicU64,
    pub event_streams: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
}

impl Metrics {
    pub fn observe_sync(&self, took: Duration) {
        let s = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.latency_buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
    }

    pub fn render(&self, documents: u64, changes: u64, devices: u64) -> String {
        let mut s = String::new();
        let mut counter = |name: &str, help: &str, v: u64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        counter(
            "shopsync_http_requests_total",
            "HTTP requests received.",
            self.requests.load(Relaxed),
        );
        counter(
            "shopsync_http_responses_4xx_total",
            "Requests refused with a 4xx status.",
            self.responses_4xx.load(Relaxed),
        );
        counter(
            "shopsync_http_responses_5xx_total",
            "Requests failed with a 5xx status.",
            self.responses_5xx.load(Relaxed),
        );
        counter(
            "shopsync_sync_requests_total",
            "Sync requests answered.",
            self.sync_requests.load(Relaxed),
        );
        counter(
            "shopsync_enrolments_total",
            "Devices enrolled.",
            self.enrolments.load(Relaxed),
        );
        counter(
            "shopsync_sync_bytes_in_total",
            "Sync request body bytes received (as sent).",
            self.bytes_in.load(Relaxed),
        );
        counter(
            "shopsync_sync_bytes_out_total",
            "Sync response body bytes sent (as sent).",
            self.bytes_out.load(Relaxed),
        );
        counter(
            "shopsync_changes_received_total",
            "Changes received in sync requests.",
            self.changes_received.load(Relaxed),
        );
        counter(
            "shopsync_changes_stored_total",
            "New changes stored (duplicates excluded).",
            self.changes_stored.load(Relaxed),
        );
        counter(
            "shopsync_changes_sent_total",
            "Changes sent to devices.",
            self.changes_sent.load(Relaxed),
        );
        let mut gauge = |name: &str, help: &str, v: u64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge("shopsync_documents", "Documents stored.", documents);
        gauge("shopsync_changes", "Changes stored.", changes);
        gauge("shopsync_devices", "Enrolled devices not revoked.", devices);
        gauge(
            "shopsync_event_streams",
            "Open notice streams.",
            self.event_streams.load(Relaxed),
        );
        let name = "shopsync_sync_latency_seconds";
        let _ = writeln!(
            s,
            "# HELP {name} Time to answer a sync request.\n# TYPE {name} histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                s,
                "{name}_bucket{{le=\"{b}\"}} {}",
                self.latency_buckets[i].load(Relaxed)
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(s, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            s,
            "{name}_sum {}",
            self.latency_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(s, "{name}_count {count}");
        s
    }
}
