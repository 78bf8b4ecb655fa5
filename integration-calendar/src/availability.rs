//! Availability: the free time common to several people — each within their working hours, in
//! their own time zone, less their busy times — and the first slot long enough for a meeting.
//!
//! ```
//! use chrono::{NaiveTime, TimeZone, Utc, Weekday};
//! use integration_calendar::availability::{Participant, WorkingHours, first_slot};
//! use integration_calendar::Interval;
//!
//! let utc = |h, m| Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).unwrap();
//! let weekdays = vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];
//! let hours = |zone: &str| WorkingHours::new(zone, weekdays.clone(), NaiveTime::from_hms_opt(9, 0, 0).unwrap(), NaiveTime::from_hms_opt(17, 0, 0).unwrap());
//! let ada = Participant::new("ada@example.com", vec![Interval::new(utc(14, 0), utc(15, 30))?]).with_hours(hours("America/New_York")?);
//! let kai = Participant::new("kai@example.com", vec![]).with_hours(hours("Europe/Berlin")?);
//! // New York opens at 14:00 UTC, Berlin closes at 16:00 UTC; Ada is busy until 15:30.
//! let day = Interval::new(utc(0, 0), utc(23, 59))?;
//! let slot = first_slot(&[ada, kai], &day, chrono::Duration::minutes(30))?;
//! assert_eq!(slot, Some(Interval::new(utc(15, 30), utc(16, 0))?));
//! # Ok::<(), integration_core::Error>(())
//! ```

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use integration_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::time::{Interval, parse_zone, resolve};

/// The longest window availability is computed over.
pub const MAX_WINDOW_DAYS: i64 = 366;

/// When someone works: `start` to `end` local time on `days`, in IANA zone `zone`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkingHours {
    /// The IANA zone.
    pub zone: String,
    /// The working days.
    pub days: Vec<Weekday>,
    /// When the day starts (local time).
    pub start: NaiveTime,
    /// When it ends (local time, after `start`).
    pub end: NaiveTime,
}

impl WorkingHours {
    /// `start` to `end` on `days` in `zone`.
    ///
    /// # Errors
    /// A `Validation` error for an unknown zone, or an end not after the start.
    pub fn new(zone: &str, days: Vec<Weekday>, start: NaiveTime, end: NaiveTime) -> Result<Self> {
        let hours = Self { zone: zone.to_owned(), days, start, end };
        hours.check()?;
        Ok(hours)
    }

    fn check(&self) -> Result<Tz> {
        if self.end <= self.start {
            return Err(Error::validation(
                "end",
                format!("working hours end ({}) after they start ({})", self.end, self.start),
            ));
        }
        parse_zone(&self.zone)
    }

    /// The working spans within `window`.
    fn spans(&self, window: &Interval) -> Result<Vec<Interval>> {
        let zone = self.check()?;
        let first = window.start.with_timezone(&zone).date_naive() - Duration::days(1);
        let last = window.end.with_timezone(&zone).date_naive() + Duration::days(1);
        let mut spans = Vec::new();
        let mut day = first;
        while day <= last {
            if self.days.contains(&day.weekday()) {
                let (start, end) = (resolve(zone, day.and_time(self.start)), resolve(zone, day.and_time(self.end)));
                let (start, end) = (start.max(window.start), end.min(window.end));
                if start < end {
                    spans.push(Interval { start, end });
                }
            }
            day += Duration::days(1);
        }
        Ok(spans)
    }
}

/// Someone whose time is asked for: their busy spans and, when they have them, their working
/// hours (without, any time not busy is free).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Participant {
    /// Who (an email or calendar id).
    pub id: String,
    /// When they are busy.
    pub busy: Vec<Interval>,
    /// When they work.
    pub hours: Option<WorkingHours>,
}

impl Participant {
    /// `id`, busy during `busy`.
    pub fn new(id: impl Into<String>, busy: Vec<Interval>) -> Self {
        Self { id: id.into(), busy, hours: None }
    }

    /// Working `hours`.
    #[must_use]
    pub fn with_hours(mut self, hours: WorkingHours) -> Self {
        self.hours = Some(hours);
        self
    }

    /// When this participant is free within `window`, sorted.
    fn free(&self, window: &Interval) -> Result<Vec<Interval>> {
        let open = match &self.hours {
            Some(hours) => hours.spans(window)?,
            None => vec![*window],
        };
        Ok(subtract(&open, &merge(self.busy.clone())))
    }
}

/// Spans sorted and merged where they overlap or touch.
pub fn merge(mut spans: Vec<Interval>) -> Vec<Interval> {
    spans.retain(|s| s.start < s.end);
    spans.sort();
    let mut out: Vec<Interval> = Vec::with_capacity(spans.len());
    for span in spans {
        match out.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => out.push(span),
        }
    }
    out
}

/// `open` (sorted, disjoint) less `busy` (sorted, merged).
fn subtract(open: &[Interval], busy: &[Interval]) -> Vec<Interval> {
    let mut out = Vec::new();
    let mut b = 0;
    for span in open {
        let mut start = span.start;
        while b < busy.len() && busy[b].end <= start {
            b += 1;
        }
        let mut k = b;
        while k < busy.len() && busy[k].start < span.end {
            if busy[k].start > start {
                out.push(Interval { start, end: busy[k].start });
            }
            start = start.max(busy[k].end);
            k += 1;
        }
        if start < span.end {
            out.push(Interval { start, end: span.end });
        }
    }
    out
}

/// The common part of two sorted, disjoint lists.
fn intersect(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        let (start, end) = (a[i].start.max(b[j].start), a[i].end.min(b[j].end));
        if start < end {
            out.push(Interval { start, end });
        }
        if a[i].end < b[j].end { i += 1 } else { j += 1 }
    }
    out
}

/// The spans within `window` when every participant is free (within their working hours, not
/// busy), each at least `min` long, sorted.
///
/// # Errors
/// A `Validation` error for a window longer than [`MAX_WINDOW_DAYS`], an unknown zone, or
/// working hours that end before they start.
pub fn free_slots(participants: &[Participant], window: &Interval, min: Duration) -> Result<Vec<Interval>> {
    if window.duration() > Duration::days(MAX_WINDOW_DAYS) {
        return Err(Error::validation("window", format!("at most {MAX_WINDOW_DAYS} days")));
    }
    let mut common = vec![*window];
    for participant in participants {
        common = intersect(&common, &participant.free(window)?);
        if common.is_empty() {
            break;
        }
    }
    common.retain(|s| s.duration() >= min);
    Ok(common)
}

/// The first `length` of time within `window` when every participant is free.
///
/// # Errors
/// As [`free_slots`].
pub fn first_slot(participants: &[Participant], window: &Interval, length: Duration) -> Result<Option<Interval>> {
    let slots = free_slots(participants, window, length)?;
    Ok(slots.first().map(|s| Interval { start: s.start, end: s.start + length }))
}

/// The busy spans `events` take within `window`: each series expanded (at most
/// [`recurrence::MAX_OCCURRENCES`](crate::recurrence::MAX_OCCURRENCES) occurrences a series),
/// free (`TRANSPARENT`) and cancelled occurrences left out, floating and all-day times placed
/// in `zone`; merged. What [`Calendar::free_busy`](crate::Calendar::free_busy) answers by
/// default, and — over cached events — what [`busy_per_week`] reports on.
///
/// # Errors
/// The first event whose recurrence cannot be expanded, naming the property.
pub fn busy_of<'a>(
    events: impl IntoIterator<Item = &'a crate::Event>,
    window: &Interval,
    zone: Tz,
) -> Result<Vec<Interval>> {
    use crate::vocabulary::{EventStatus, Transparency};
    let mut busy = Vec::new();
    for event in events {
        let expansion = crate::recurrence::expand(event, window, zone, crate::recurrence::MAX_OCCURRENCES)?;
        for occurrence in expansion.occurrences {
            let blocks = occurrence.event.transparency == Transparency::Busy
                && occurrence.event.status != EventStatus::Cancelled;
            if blocks && occurrence.start < occurrence.end {
                busy.push(Interval { start: occurrence.start.max(window.start), end: occurrence.end.min(window.end) });
            }
        }
    }
    Ok(merge(busy))
}

/// Busy time per ISO week (from Monday 00:00 UTC) from `busy` spans, overlaps counted once:
/// what "busy hours per person per week" reports are built from.
pub fn busy_per_week(busy: &[Interval]) -> Vec<(chrono::NaiveDate, Duration)> {
    let mut weeks: std::collections::BTreeMap<chrono::NaiveDate, i64> = std::collections::BTreeMap::new();
    for span in merge(busy.to_vec()) {
        let mut start: DateTime<Utc> = span.start;
        while start < span.end {
            let day = start.date_naive();
            let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
            let next_week = (monday + Duration::days(7)).and_time(NaiveTime::MIN).and_utc();
            let end = span.end.min(next_week);
            *weeks.entry(monday).or_default() += (end - start).num_seconds();
            start = end;
        }
    }
    weeks.into_iter().map(|(week, seconds)| (week, Duration::seconds(seconds))).collect()
}
