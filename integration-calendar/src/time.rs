//! When an event happens, as RFC 5545 says it: [`EventTime`] — a date (all day), a local
//! date-time in an IANA zone (or floating, in the viewer's zone), or a UTC instant — and
//! [`Interval`], a half-open span of instants.
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use integration_calendar::EventTime;
//!
//! // 09:00 in New York on 2026-03-09 is 13:00 UTC (daylight time began on the 8th).
//! let local = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap().and_hms_opt(9, 0, 0).unwrap();
//! let standup = EventTime::zoned(local, "America/New_York");
//! assert_eq!(standup.instant(chrono_tz::UTC)?, Utc.with_ymd_and_hms(2026, 3, 9, 13, 0, 0).unwrap());
//! // 02:30 that Sunday did not exist there: read with the offset before the gap, as RFC 5545 says.
//! let gap = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap().and_hms_opt(2, 30, 0).unwrap();
//! assert_eq!(EventTime::zoned(gap, "America/New_York").instant(chrono_tz::UTC)?, Utc.with_ymd_and_hms(2026, 3, 8, 7, 30, 0).unwrap());
//! # Ok::<(), integration_core::Error>(())
//! ```

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use integration_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// The start or end of an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventTime {
    /// A whole day (`VALUE=DATE`): an all-day event.
    Date {
        /// The day.
        date: NaiveDate,
    },
    /// A local date-time: in `zone` (an IANA name, `TZID`), or floating — the same wall-clock
    /// time wherever the viewer is — without one.
    Local {
        /// The wall-clock time.
        date_time: NaiveDateTime,
        /// The IANA zone (`America/New_York`); `None` for a floating time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
    /// An instant in UTC (`…Z`).
    Utc {
        /// The instant.
        at: DateTime<Utc>,
    },
}

impl EventTime {
    /// A whole day.
    pub fn date(date: NaiveDate) -> Self {
        Self::Date { date }
    }

    /// A wall-clock time in IANA zone `zone`.
    pub fn zoned(date_time: NaiveDateTime, zone: impl Into<String>) -> Self {
        Self::Local { date_time, zone: Some(zone.into()) }
    }

    /// An instant.
    pub fn utc(at: DateTime<Utc>) -> Self {
        Self::Utc { at }
    }

    /// Whether it is a whole day.
    pub fn is_date(&self) -> bool {
        matches!(self, Self::Date { .. })
    }

    /// Its IANA zone, read; `None` for a date, a floating time or UTC.
    ///
    /// # Errors
    /// A `Validation` error naming `zone` for a name that is not an IANA zone.
    pub fn zone(&self) -> Result<Option<Tz>> {
        match self {
            Self::Local { zone: Some(name), .. } => parse_zone(name).map(Some),
            _ => Ok(None),
        }
    }

    /// The instant it is: a date at midnight and a floating time in `default_zone` (the
    /// calendar's); a local time that occurs twice (autumn) is the first, one that does not
    /// occur (spring's gap) is read with the offset before the gap (RFC 5545 §3.3.5).
    ///
    /// # Errors
    /// A `Validation` error for an unknown zone.
    pub fn instant(&self, default_zone: Tz) -> Result<DateTime<Utc>> {
        match self {
            Self::Utc { at } => Ok(*at),
            Self::Date { date } => Ok(resolve(default_zone, date.and_time(NaiveTime::MIN))),
            Self::Local { date_time, zone } => {
                let zone = match zone {
                    Some(name) => parse_zone(name)?,
                    None => default_zone,
                };
                Ok(resolve(zone, *date_time))
            }
        }
    }

    /// The same kind of time `by` later (a date moves by whole days, rounded down).
    pub fn shifted(&self, by: Duration) -> Self {
        match self {
            Self::Date { date } => Self::Date { date: *date + Duration::days(by.num_days()) },
            Self::Local { date_time, zone } => Self::Local { date_time: *date_time + by, zone: zone.clone() },
            Self::Utc { at } => Self::Utc { at: *at + by },
        }
    }
}

/// An IANA zone by name.
///
/// # Errors
/// A `Validation` error naming `zone`.
pub fn parse_zone(name: &str) -> Result<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        Error::validation("zone", format!("{name:?} is not an IANA time zone (America/New_York, Europe/Berlin…)"))
    })
}

/// `local` in `zone` as an instant: the earlier of two, the offset before a gap.
pub(crate) fn resolve(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        chrono::LocalResult::Single(at) => at.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // In a gap: the offset in force before it (gaps are at most a day wide).
            let before = zone.offset_from_utc_datetime(&(local - Duration::days(1))).fix();
            Utc.from_utc_datetime(&(local - Duration::seconds(i64::from(before.local_minus_utc()))))
        }
    }
}

/// A half-open span of instants: `start` included, `end` not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Interval {
    /// The first instant in it.
    pub start: DateTime<Utc>,
    /// The first instant after it.
    pub end: DateTime<Utc>,
}

impl Interval {
    /// `[start, end)`.
    ///
    /// # Errors
    /// A `Validation` error naming `end` when it is not after `start`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self> {
        if end <= start {
            return Err(Error::validation("end", format!("{end} is not after {start}")));
        }
        Ok(Self { start, end })
    }

    /// How long it lasts.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// Whether the two share an instant.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }
}
