//! Calendar helpers: months as numbers, local days in the configured zone, and the instants that bound them.

use crate::excerpt::excerpt;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Milliseconds since the Unix epoch, UTC: the one representation of an instant inside the pipeline.
pub type EpochMillis = i64;

/// A calendar month, stored as `year * 12 + (month - 1)` so months compare and subtract as integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct YearMonth(i32);

impl YearMonth {
    /// The month `month` (1..=12) of `year`; `None` when `month` is out of range.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        (1..=12)
            .contains(&month)
            .then(|| Self(year * 12 + month as i32 - 1))
    }

    /// The month that holds `date`.
    pub fn of_date(date: NaiveDate) -> Self {
        Self(date.year() * 12 + date.month0() as i32)
    }

    /// The calendar year.
    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// The month of the year, 1..=12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    /// The quarter of the year, 1..=4.
    pub fn quarter(self) -> u32 {
        (self.month() - 1) / 3 + 1
    }

    /// The month `n` months later (earlier when `n` is negative).
    pub fn plus(self, n: i32) -> Self {
        Self(self.0 + n)
    }

    /// The number of months from `earlier` to `self`.
    pub fn months_since(self, earlier: Self) -> i32 {
        self.0 - earlier.0
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year(), self.month(), 1).expect("month is always valid")
    }

    /// The last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.plus(1)
            .first_day()
            .pred_opt()
            .expect("dates stay in range")
    }

    /// The number of days in the month.
    pub fn days(self) -> u32 {
        self.last_day().day()
    }

    /// The raw ordinal (`year * 12 + month0`), used as a compact key.
    pub fn ordinal(self) -> i32 {
        self.0
    }

    /// The month with the raw ordinal `ordinal`.
    pub fn from_ordinal(ordinal: i32) -> Self {
        Self(ordinal)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl FromStr for YearMonth {
    type Err = String;

    /// Parses `YYYY-MM`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected a month as YYYY-MM, got {:?}", excerpt(s));
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        Self::new(year, month).ok_or_else(|| format!("month must be 01..=12, got {s:?}"))
    }
}

impl From<YearMonth> for String {
    fn from(m: YearMonth) -> String {
        m.to_string()
    }
}

impl TryFrom<String> for YearMonth {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Local-calendar arithmetic in one time zone: which local day and month an instant falls in, and the
/// instants where local days and months begin.
#[derive(Debug, Clone, Copy)]
pub struct LocalCalendar {
    zone: Tz,
}

impl LocalCalendar {
    /// A calendar in `zone`.
    pub fn new(zone: Tz) -> Self {
        Self { zone }
    }

    /// The zone.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The local date of `at`.
    pub fn local_date(&self, at: EpochMillis) -> NaiveDate {
        let utc = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
        utc.with_timezone(&self.zone).date_naive()
    }

    /// The instant local `date` begins (the earliest instant, should the zone skip midnight).
    pub fn start_of(&self, date: NaiveDate) -> EpochMillis {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        match self.zone.from_local_datetime(&midnight) {
            chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
                t.timestamp_millis()
            }
            // A zone that skips midnight starts the day an hour later; one hour covers every real zone.
            chrono::LocalResult::None => self
                .zone
                .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
                .map(|t| t.timestamp_millis())
                .unwrap_or_default(),
        }
    }

    /// The first instant of `month`.
    pub fn month_start(&self, month: YearMonth) -> EpochMillis {
        self.start_of(month.first_day())
    }

    /// The first instant after `month` (the start of the next month).
    pub fn month_end(&self, month: YearMonth) -> EpochMillis {
        self.month_start(month.plus(1))
    }

    /// Formats `at` as RFC 3339 in this zone.
    pub fn rfc3339(&self, at: EpochMillis) -> String {
        let utc = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
        utc.with_timezone(&self.zone)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

/// [`LocalCalendar::local_date`] for a stream of nearly ordered instants: the zone's offset is looked up
/// once per 15-minute bucket (every zone's offsets and transitions fall on quarter hours) instead of once
/// per event.
#[derive(Debug, Clone)]
pub struct LocalDates {
    calendar: LocalCalendar,
    bucket: i64,
    offset_ms: i64,
    /// The last local day asked for, as days since 1970-01-01, and its date.
    day: i64,
    date: NaiveDate,
}

const QUARTER_HOUR_MS: i64 = 15 * 60 * 1000;
const DAY_MS: i64 = 86_400_000;

impl LocalDates {
    /// A cache over `calendar`.
    pub fn new(calendar: LocalCalendar) -> Self {
        Self {
            calendar,
            bucket: i64::MIN,
            offset_ms: 0,
            day: i64::MIN,
            date: NaiveDate::default(),
        }
    }

    /// The local date of `at`.
    pub fn local_date(&mut self, at: EpochMillis) -> NaiveDate {
        let bucket = at.div_euclid(QUARTER_HOUR_MS);
        if bucket != self.bucket {
            let utc = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
            let local = utc.with_timezone(&self.calendar.zone).naive_local();
            self.offset_ms = (local - utc.naive_utc()).num_milliseconds();
            self.bucket = bucket;
        }
        let days = (at + self.offset_ms).div_euclid(DAY_MS);
        if days != self.day {
            // Events come roughly in time order: most fall on the day of the one before.
            self.day = days;
            self.date =
                NaiveDate::from_num_days_from_ce_opt((days + 719_163) as i32).unwrap_or_default();
        }
        self.date
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_parsing_and_arithmetic() {
        let june: YearMonth = "2016-06".parse().unwrap();
        assert_eq!(june.to_string(), "2016-06");
        assert_eq!(june.days(), 30);
        assert_eq!(june.plus(7).to_string(), "2017-01");
        assert_eq!(june.quarter(), 2);
        assert!("2016-13".parse::<YearMonth>().is_err());
        assert!("2016-6".parse::<YearMonth>().is_err());
    }

    #[test]
    fn local_dates_in_shanghai() {
        let cal = LocalCalendar::new(chrono_tz::Asia::Shanghai);
        let last_june = DateTime::parse_from_rfc3339("2016-06-30T23:59:59+08:00").unwrap();
        let first_july = DateTime::parse_from_rfc3339("2016-06-30T16:30:00Z").unwrap();
        assert_eq!(
            cal.local_date(last_june.timestamp_millis()).to_string(),
            "2016-06-30"
        );
        assert_eq!(
            cal.local_date(first_july.timestamp_millis()).to_string(),
            "2016-07-01"
        );
        let june: YearMonth = "2016-06".parse().unwrap();
        assert_eq!(
            cal.rfc3339(cal.month_end(june)),
            "2016-07-01T00:00:00+08:00"
        );
    }

    proptest::proptest! {
        /// The cache gives the calendar's date for every instant, in order or not, across a zone's offset
        /// changes and across midnight.
        #[test]
        fn cached_local_dates_are_the_calendars(
            steps in proptest::collection::vec(-3 * DAY_MS..3 * DAY_MS, 1..200),
        ) {
            for zone in [chrono_tz::Asia::Shanghai, chrono_tz::Europe::Berlin, chrono_tz::America::St_Johns] {
                let calendar = LocalCalendar::new(zone);
                let mut dates = LocalDates::new(calendar);
                // Around the end of Berlin's summer time in 2016 (30 October, 01:00 UTC).
                let mut at = 1_477_789_200_000;
                for step in &steps {
                    at += step / 7;
                    proptest::prop_assert_eq!(dates.local_date(at), calendar.local_date(at), "{} at {}", zone, at);
                }
            }
        }
    }
}
