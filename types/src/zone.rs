//! The store's time zone: where a shop's calendar day begins and ends.
//!
//! Reports, charts and "today" follow the store's zone (the catalog's
//! `time_zone` setting, an IANA name such as `Europe/Berlin`), not the zone
//! of the machine showing them: a till whose system clock is set to UTC, or
//! a manager's laptop in another country, must put a sale on the same Z
//! report as the shop's own till. A store that never set one uses the
//! machine's zone, as every till did before the setting existed.

use std::str::FromStr;

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The longest stretch of local time a zone has ever skipped is a whole day
/// (Samoa, 30 December 2011); a day start is searched for that far ahead.
const MAX_GAP_MINUTES: i64 = 24 * 60 + 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreZone {
    /// No zone set: the zone of the machine (or browser) running the code.
    #[default]
    Machine,
    Named(Tz),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a time zone this till knows (use an IANA name such as Europe/Berlin)")]
pub struct UnknownZone(pub String);

impl StoreZone {
    /// The zone a `time_zone` setting names; empty means the machine's.
    pub fn parse(name: &str) -> Result<Self, UnknownZone> {
        let name = name.trim();
        if name.is_empty() {
            return Ok(StoreZone::Machine);
        }
        Tz::from_str(name)
            .map(StoreZone::Named)
            .map_err(|_| UnknownZone(name.to_string()))
    }

    /// The IANA name, or an empty string for the machine's zone.
    pub fn name(&self) -> &'static str {
        match self {
            StoreZone::Machine => "",
            StoreZone::Named(tz) => tz.name(),
        }
    }

    /// Every zone name this build knows (aliases and `Etc/GMT±n` too).
    pub fn known_names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// The names a picker offers: `UTC` and the `Region/City` zones, without
    /// old aliases (`US/Eastern`, `EST5EDT`) and without `Etc/GMT+5`, whose
    /// sign is the reverse of what it reads (it is UTC−5).
    pub fn pickable_names() -> impl Iterator<Item = &'static str> {
        const REGIONS: &[&str] = &[
            "Africa/",
            "America/",
            "Antarctica/",
            "Asia/",
            "Atlantic/",
            "Australia/",
            "Europe/",
            "Indian/",
            "Pacific/",
        ];
        Self::known_names().filter(|n| *n == "UTC" || REGIONS.iter().any(|r| n.starts_with(r)))
    }

    /// The offset from UTC at `t`, as `UTC+05:45` or `UTC−08:00`.
    pub fn offset_text(&self, t: DateTime<Utc>) -> String {
        let s = self.offset_seconds(t);
        let sign = if s < 0 { '−' } else { '+' };
        let s = s.unsigned_abs();
        format!("UTC{sign}{:02}:{:02}", s / 3600, s % 3600 / 60)
    }

    /// The wall-clock time in the store at `t`.
    pub fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        match self {
            StoreZone::Machine => t.with_timezone(&Local).naive_local(),
            StoreZone::Named(tz) => t.with_timezone(tz).naive_local(),
        }
    }

    /// The store's calendar day at `t`.
    pub fn date_of(&self, t: DateTime<Utc>) -> NaiveDate {
        self.local(t).date()
    }

    /// The store's calendar day now.
    pub fn today(&self) -> NaiveDate {
        self.date_of(Utc::now())
    }

    /// The store's offset from UTC at `t`, in seconds east.
    pub fn offset_seconds(&self, t: DateTime<Utc>) -> i32 {
        match self {
            StoreZone::Machine => t.with_timezone(&Local).offset().fix().local_minus_utc(),
            StoreZone::Named(tz) => t.with_timezone(tz).offset().fix().local_minus_utc(),
        }
    }

    /// The first instant of the store's calendar day `date`, in UTC
    /// milliseconds. Where midnight does not exist (a clock change at
    /// midnight, or a skipped day) the day starts at the first local time
    /// that does, so consecutive days never overlap and never leave a gap.
    pub fn day_start_ms(&self, date: NaiveDate) -> i64 {
        let Some(midnight) = date.and_hms_opt(0, 0, 0) else {
            return i64::MIN;
        };
        (0..=MAX_GAP_MINUTES)
            .find_map(|m| self.earliest(midnight + chrono::Duration::minutes(m)))
            .unwrap_or_else(|| midnight.and_utc().timestamp_millis())
    }

    /// The first instant after the store's calendar day `date`.
    pub fn day_end_ms(&self, date: NaiveDate) -> i64 {
        date.succ_opt().map_or(i64::MAX, |d| self.day_start_ms(d))
    }

    fn earliest(&self, local: NaiveDateTime) -> Option<i64> {
        match self {
            StoreZone::Machine => Local.from_local_datetime(&local).earliest().map(ms),
            StoreZone::Named(tz) => tz.from_local_datetime(&local).earliest().map(ms),
        }
    }
}

fn ms<Z: TimeZone>(t: DateTime<Z>) -> i64 {
    t.timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc_ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn names_parse_and_unknown_names_are_refused() {
        assert_eq!(StoreZone::parse("").unwrap(), StoreZone::Machine);
        assert_eq!(
            StoreZone::parse(" Europe/Berlin ").unwrap().name(),
            "Europe/Berlin"
        );
        let err = StoreZone::parse("Mars/Olympus").unwrap_err();
        assert!(err.to_string().contains("Mars/Olympus"), "{err}");
        assert!(StoreZone::known_names().any(|n| n == "Pacific/Auckland"));
        let pickable: Vec<&str> = StoreZone::pickable_names().collect();
        assert!(pickable.contains(&"Asia/Kathmandu") && pickable.contains(&"UTC"));
        assert!(
            !pickable
                .iter()
                .any(|n| n.starts_with("Etc/") || n.starts_with("US/"))
        );
        assert!(!pickable.contains(&"EST5EDT"));
    }

    #[test]
    fn a_day_starts_at_the_store_midnight() {
        let auckland = StoreZone::parse("Pacific/Auckland").unwrap();
        // NZDT is UTC+13 in December.
        assert_eq!(
            auckland.day_start_ms(date(2026, 12, 2)),
            utc_ms("2026-12-01T11:00:00Z")
        );
        let la = StoreZone::parse("America/Los_Angeles").unwrap();
        assert_eq!(
            la.day_start_ms(date(2026, 12, 2)),
            utc_ms("2026-12-02T08:00:00Z")
        );
    }

    #[test]
    fn days_around_clock_changes_have_23_and_25_hours() {
        let berlin = StoreZone::parse("Europe/Berlin").unwrap();
        let hours = |d: NaiveDate| (berlin.day_end_ms(d) - berlin.day_start_ms(d)) / 3_600_000;
        assert_eq!(hours(date(2026, 3, 29)), 23);
        assert_eq!(hours(date(2026, 10, 25)), 25);
        assert_eq!(hours(date(2026, 10, 26)), 24);
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_at_the_first_real_time() {
        // Santiago moved its clocks from 00:00 to 01:00 on 2022-09-11.
        let santiago = StoreZone::parse("America/Santiago").unwrap();
        let start = santiago.day_start_ms(date(2022, 9, 11));
        assert_eq!(start, utc_ms("2022-09-11T04:00:00Z"));
        assert_eq!(santiago.day_end_ms(date(2022, 9, 10)), start);
        // Samoa skipped 30 December 2011 entirely: that day is empty.
        let apia = StoreZone::parse("Pacific/Apia").unwrap();
        assert_eq!(
            apia.day_start_ms(date(2011, 12, 30)),
            apia.day_end_ms(date(2011, 12, 30))
        );
    }

    #[test]
    fn local_dates_follow_the_zone() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let auckland = StoreZone::parse("Pacific/Auckland").unwrap();
        assert_eq!(auckland.date_of(t), date(2026, 12, 2));
        assert_eq!(auckland.offset_seconds(t), 13 * 3600);
        assert_eq!(auckland.offset_text(t), "UTC+13:00");
        let kathmandu = StoreZone::parse("Asia/Kathmandu").unwrap();
        assert_eq!(kathmandu.offset_text(t), "UTC+05:45");
        let la = StoreZone::parse("America/Los_Angeles").unwrap();
        assert_eq!(la.date_of(t), date(2026, 12, 1));
        assert_eq!(la.offset_text(t), "UTC−08:00");
    }
}
