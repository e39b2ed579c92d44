//! The current time, injectable so that tests can move it.

use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Today's date in England, where deadlines are counted.
    fn today(&self) -> NaiveDate {
        // Europe/London is UTC or UTC+1; a deadline day turns at midnight UK
        // time, so in summer we are an hour ahead of UTC.
        let now = self.now();
        let bst = is_british_summer_time(now);
        let local = if bst {
            now + chrono::Duration::hours(1)
        } else {
            now
        };
        local.date_naive()
    }
}

/// British Summer Time runs from 01:00 UTC on the last Sunday of March to
/// 01:00 UTC on the last Sunday of October.
pub fn is_british_summer_time(t: DateTime<Utc>) -> bool {
    use chrono::{Datelike, TimeZone, Weekday};
    let year = t.year();
    let last_sunday = |month: u32| {
        let mut d =
            NaiveDate::from_ymd_opt(year, month, 31).expect("March and October have 31 days");
        while d.weekday() != Weekday::Sun {
            d = d.pred_opt().expect("valid date");
        }
        Utc.from_utc_datetime(&d.and_hms_opt(1, 0, 0).expect("valid time"))
    };
    t >= last_sunday(3) && t < last_sunday(10)
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move (tests).
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(at))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn uk_day_turns_at_local_midnight() {
        // 23:30 UTC on 1 July is 00:30 on 2 July in London.
        assert_eq!(
            FixedClock::new(at("2024-07-01T23:30:00Z"))
                .today()
                .to_string(),
            "2024-07-02"
        );
        // In winter London is on UTC.
        assert_eq!(
            FixedClock::new(at("2024-01-01T23:30:00Z"))
                .today()
                .to_string(),
            "2024-01-01"
        );
        // The 2024 change: 31 March 01:00 UTC and 27 October 01:00 UTC.
        assert!(!is_british_summer_time(at("2024-03-31T00:59:59Z")));
        assert!(is_british_summer_time(at("2024-03-31T01:00:00Z")));
        assert!(is_british_summer_time(at("2024-10-27T00:59:59Z")));
        assert!(!is_british_summer_time(at("2024-10-27T01:00:00Z")));
    }
}
