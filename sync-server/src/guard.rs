//! Hostile bodies: per-device quotas, caps on open notice streams, request
//! timeouts and the small helpers that keep one device (or one stolen
//! token) from exhausting the server. See docs/PROTOCOL.md, "Limits".

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Largest `/v1/enrol` body (a few short JSON strings).
pub const ENROL_BODY_BYTES: usize = 4 * 1024;

/// The hostile-bodies part of [`crate::ServeOptions`].
#[derive(Debug, Clone)]
pub struct GuardOptions {
    /// A request (headers read, body read, answer ready) past this is
    /// answered 408. Notice streams are not cut: their answer is ready at once.
    pub request_timeout: Duration,
    /// Open `/v1/events` streams one device may hold (429 past it).
    pub streams_per_device: usize,
    /// Open `/v1/events` streams in total (429 past it).
    pub streams_total: usize,
    /// Ledger documents (partitions) one device's till may have (429 past it).
    pub documents_per_device: u64,
    /// Bytes of changes one device may upload per UTC day (429 past it).
    pub bytes_per_day: u64,
    /// `GET /metrics` on the public listener needs `Authorization: Bearer
    /// {token}`; with no token it is not served there (404). A separate
    /// listener (`serve_with_metrics`) serves it without a token.
    pub metrics_token: Option<String>,
}

impl Default for GuardOptions {
    fn default() -> Self {
        GuardOptions {
            request_timeout: Duration::from_secs(120),
            streams_per_device: 4,
            streams_total: 10_000,
            documents_per_device: 5_000,
            bytes_per_day: 1024 * 1024 * 1024,
            metrics_token: None,
        }
    }
}

/// Counts open notice streams, per device and in total.
#[derive(Default)]
pub struct StreamSlots {
    open: Mutex<(usize, HashMap<String, usize>)>,
}

/// Why a stream slot was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotRefused {
    Device(usize),
    Total(usize),
}

impl StreamSlots {
    /// Takes a slot for `device`, or says which cap is reached.
    pub fn take(&self, device: &str, per_device: usize, total: usize) -> Result<(), SlotRefused> {
        let Ok(mut open) = self.open.lock() else {
            return Err(SlotRefused::Total(total));
        };
        if open.0 >= total {
            return Err(SlotRefused::Total(total));
        }
        let mine = open.1.get(device).copied().unwrap_or(0);
        if mine >= per_device {
            return Err(SlotRefused::Device(per_device));
        }
        open.0 += 1;
        open.1.insert(device.to_string(), mine + 1);
        Ok(())
    }

    pub fn release(&self, device: &str) {
        if let Ok(mut open) = self.open.lock() {
            let Some(n) = open.1.get_mut(device) else {
                return;
            };
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.1.remove(device);
            }
            open.0 = open.0.saturating_sub(1);
        }
    }
}

/// Bytes of changes each device uploaded today (UTC), in memory: a restart
/// starts the day's count again.
#[derive(Default)]
pub struct DailyBytes {
    used: Mutex<HashMap<String, (i64, u64)>>,
}

impl DailyBytes {
    /// Adds `bytes` to `device`'s count for `day` if it stays within
    /// `limit`; otherwise changes nothing and returns what is used already.
    pub fn charge(&self, device: &str, day: i64, bytes: u64, limit: u64) -> Result<(), u64> {
        let Ok(mut used) = self.used.lock() else {
            return Err(limit);
        };
        if used.len() > 100_000 {
            used.retain(|_, (d, _)| *d == day);
        }
        let entry = used.entry(device.to_string()).or_insert((day, 0));
        if entry.0 != day {
            *entry = (day, 0);
        }
        let after = entry.1.saturating_add(bytes);
        if after > limit {
            return Err(entry.1);
        }
        entry.1 = after;
        Ok(())
    }
}

/// A name a device sent, made safe to print on a terminal or in a log line:
/// control characters (escape sequences, newlines, bidi overrides) are
/// shown escaped (`\u{1b}`), everything else as it is.
pub fn printable(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() || is_format_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Unicode format characters that reorder or hide text on a terminal.
fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
    )
}

/// A constant-time comparison of a presented bearer token with the
/// configured one.
pub fn token_matches(presented: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    let a = crate::auth::sha256(presented.as_bytes());
    let b = crate::auth::sha256(expected.as_bytes());
    a.ct_eq(&b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_control_characters_are_escaped() {
        assert_eq!(printable("Till 2"), "Till 2");
        assert_eq!(printable("Caisse é"), "Caisse é");
        let hostile = "T\u{1b}[2J\u{1b}]0;owned\u{7}\nroot\u{202e}x";
        let shown = printable(hostile);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert!(!shown.contains('\u{202e}'), "{shown:?}");
        assert!(shown.contains("\\u{1b}[2J"), "{shown:?}");
        assert!(shown.contains("\\u{a}root"), "{shown:?}");
    }

    #[test]
    fn stream_slots_cap_per_device_and_in_total() {
        let s = StreamSlots::default();
        assert_eq!(s.take("a", 2, 3), Ok(()));
        assert_eq!(s.take("a", 2, 3), Ok(()));
        assert_eq!(s.take("a", 2, 3), Err(SlotRefused::Device(2)));
        assert_eq!(s.take("b", 2, 3), Ok(()));
        assert_eq!(s.take("c", 2, 3), Err(SlotRefused::Total(3)));
        s.release("a");
        assert_eq!(s.take("c", 2, 3), Ok(()));
        s.release("zz");
        assert_eq!(s.take("d", 2, 3), Err(SlotRefused::Total(3)));
    }

    #[test]
    fn daily_bytes_refuse_past_the_limit_and_reset_next_day() {
        let d = DailyBytes::default();
        assert_eq!(d.charge("a", 1, 60, 100), Ok(()));
        assert_eq!(d.charge("a", 1, 50, 100), Err(60));
        assert_eq!(d.charge("b", 1, 100, 100), Ok(()));
        assert_eq!(d.charge("a", 1, 40, 100), Ok(()));
        assert_eq!(d.charge("a", 2, 100, 100), Ok(()));
    }
}
