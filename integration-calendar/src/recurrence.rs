//! Recurrence expanded within a window — RRULE, RDATE, EXDATE and a series' exceptions —
//! through the `rrule` crate, and always bounded: at most [`MAX_OCCURRENCES`] occurrences are
//! returned and at most [`MAX_STEPS`] are stepped through, so an unbounded rule (or one that
//! never lands in the window) never loops.
//!
//! Times keep their zone: a weekly 09:00 meeting in New York stays at 09:00 New York time on
//! both sides of a daylight-saving change.
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use integration_calendar::{Event, EventTime, Interval, Recurrence, recurrence};
//!
//! let nine = |d| NaiveDate::from_ymd_opt(2026, 10, d).unwrap().and_hms_opt(9, 0, 0).unwrap();
//! let mut standup = Event::new("stand-up", EventTime::zoned(nine(26), "America/New_York"),
//!                              EventTime::zoned(nine(26) + chrono::Duration::minutes(15), "America/New_York"));
//! standup.recurrence = Some(Recurrence::rule("FREQ=WEEKLY;COUNT=3"));
//! let window = Interval::new(Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap(),
//!                            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap())?;
//! let expansion = recurrence::expand(&standup, &window, chrono_tz::UTC, 100)?;
//! let starts: Vec<_> = expansion.occurrences.iter().map(|o| o.start.to_rfc3339()).collect();
//! // 09:00 EDT (13:00 UTC), then 09:00 EST (14:00 UTC) after the clocks change on 1 November.
//! assert_eq!(starts, ["2026-10-26T13:00:00+00:00", "2026-11-02T14:00:00+00:00", "2026-11-09T14:00:00+00:00"]);
//! # Ok::<(), integration_core::Error>(())
//! ```

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use integration_core::{Error, Result};
use rrule::{RRule, RRuleSet, Unvalidated};

use crate::model::{Event, Recurrence};
use crate::time::{EventTime, Interval, resolve};
use crate::vocabulary::EventStatus;

/// The most occurrences one expansion returns.
pub const MAX_OCCURRENCES: usize = 10_000;

/// The most occurrences one expansion steps through (those before the window included).
pub const MAX_STEPS: usize = 200_000;

/// The longest recurrence rule read (a longer one is refused).
pub const MAX_RULE_LEN: usize = 1_000;

/// One occurrence of an event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Occurrence<'a> {
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
    /// The start its series gives it (`RECURRENCE-ID`); `None` for a single event.
    pub recurrence_id: Option<EventTime>,
    /// The event it is an occurrence of: the series, or the exception that changed it.
    pub event: &'a Event,
}

/// The occurrences of an event in a window.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Expansion<'a> {
    /// The occurrences overlapping the window, by start.
    pub occurrences: Vec<Occurrence<'a>>,
    /// Whether there were more than the limit asked for.
    pub truncated: bool,
}

/// How the series' times are computed: in its zone, or (dates and floating times) as wall-clock
/// times computed in UTC and placed in the calendar's zone afterwards.
#[derive(Clone, Copy)]
enum Frame {
    Date,
    Floating,
    Zoned(Tz),
    Utc,
}

impl Frame {
    fn of(time: &EventTime) -> Result<Self> {
        Ok(match time {
            EventTime::Date { .. } => Self::Date,
            EventTime::Local { zone: None, .. } => Self::Floating,
            EventTime::Local { zone: Some(_), .. } => Self::Zoned(time.zone()?.unwrap_or(chrono_tz::UTC)),
            EventTime::Utc { .. } => Self::Utc,
        })
    }

    fn tz(self) -> rrule::Tz {
        match self {
            Self::Zoned(zone) => rrule::Tz::Tz(zone),
            _ => rrule::Tz::UTC,
        }
    }

    /// `time` in this frame's clock.
    fn to_frame(self, time: &EventTime, default_zone: Tz) -> Result<DateTime<rrule::Tz>> {
        let tz = self.tz();
        let naive = match (self, time) {
            (Self::Date | Self::Floating, EventTime::Date { date }) => date.and_time(NaiveTime::MIN),
            (Self::Date | Self::Floating, EventTime::Local { date_time, zone: None }) => *date_time,
            (Self::Zoned(zone), EventTime::Local { date_time, zone: Some(_) }) if time.zone()? == Some(zone) => {
                *date_time
            }
            // Another kind of time than the series': placed by its instant.
            _ => return Ok(time.instant(default_zone)?.with_timezone(&tz)),
        };
        let at = match self {
            Self::Zoned(zone) => resolve(zone, naive),
            _ => Utc.from_utc_datetime(&naive),
        };
        Ok(at.with_timezone(&tz))
    }

    /// An occurrence at `at` (in this frame's clock) as the series' kind of time.
    fn to_event_time(self, at: &DateTime<rrule::Tz>, like: &EventTime) -> EventTime {
        let local: NaiveDateTime = at.naive_local();
        match (self, like) {
            (Self::Date, _) => EventTime::date(local.date()),
            (Self::Floating, _) => EventTime::Local { date_time: local, zone: None },
            (Self::Zoned(_), EventTime::Local { zone, .. }) => {
                EventTime::Local { date_time: local, zone: zone.clone() }
            }
            _ => EventTime::utc(at.with_timezone(&Utc)),
        }
    }
}

/// The occurrence starting at `start` (the series' kind of time): its end keeps the series'
/// wall-clock length (a one-hour meeting is one hour of local time, whatever the offsets).
fn span(event: &Event, start: &EventTime, default_zone: Tz) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let length = match (&event.start, &event.end) {
        (EventTime::Date { date: a }, EventTime::Date { date: b }) => Duration::days((*b - *a).num_days().max(1)),
        (EventTime::Local { date_time: a, .. }, EventTime::Local { date_time: b, .. }) => {
            (*b - *a).max(Duration::zero())
        }
        _ => event.duration(default_zone)?,
    };
    let begins = start.instant(default_zone)?;
    let ends = start.shifted(length).instant(default_zone)?.max(begins);
    Ok((begins, ends))
}

fn refuse(property: &str, error: impl std::fmt::Display) -> Error {
    Error::validation(property.to_owned(), format!("cannot expand the recurrence: {error}"))
}

/// The occurrences of `event` overlapping `window`, at most `limit` (and at most
/// [`MAX_OCCURRENCES`]): the series' rules and extra dates less its excluded dates, with its
/// exceptions in place of the occurrences they change (a cancelled one left out). Dates and
/// floating times are placed in `default_zone` (the calendar's).
///
/// # Errors
/// A `Validation` error naming the property (`RRULE`, `DTSTART`, `zone`…) for a rule that
/// does not parse or validate, a zone that does not exist, or a series needing more than
/// [`MAX_STEPS`] steps to reach the end of the window.
pub fn expand<'a>(event: &'a Event, window: &Interval, default_zone: Tz, limit: usize) -> Result<Expansion<'a>> {
    let limit = limit.min(MAX_OCCURRENCES);
    let mut occurrences = Vec::new();
    let Some(recurrence) = &event.recurrence else {
        let (start, end) = span(event, &event.start, default_zone)?;
        if overlaps(start, end, window) && event.status != EventStatus::Cancelled && limit > 0 {
            occurrences.push(Occurrence { start, end, recurrence_id: None, event });
        }
        return Ok(Expansion { truncated: false, occurrences });
    };
    let (frame, set) = rule_set(event, recurrence, default_zone)?;
    // The instants the exceptions replace.
    let mut replaced = Vec::with_capacity(event.exceptions.len());
    for exception in &event.exceptions {
        if let Some(original) = &exception.original_start {
            replaced.push(original.instant(default_zone)?);
        }
    }
    let mut truncated = false;
    for (step, at) in set.into_iter().enumerate() {
        if step >= MAX_STEPS {
            return Err(refuse("RRULE", format!("more than {MAX_STEPS} occurrences before the window's end")));
        }
        let start = frame.to_event_time(&at, &event.start);
        let (begins, ends) = span(event, &start, default_zone)?;
        if begins >= window.end {
            break;
        }
        if !overlaps(begins, ends, window) || replaced.contains(&begins) {
            continue;
        }
        if occurrences.len() == limit {
            truncated = true;
            break;
        }
        occurrences.push(Occurrence { start: begins, end: ends, recurrence_id: Some(start), event });
    }
    for exception in &event.exceptions {
        if exception.status == EventStatus::Cancelled {
            continue;
        }
        let (start, end) = span(exception, &exception.start, default_zone)?;
        if overlaps(start, end, window) {
            if occurrences.len() == limit {
                truncated = true;
                break;
            }
            occurrences.push(Occurrence {
                start,
                end,
                recurrence_id: exception.original_start.clone(),
                event: exception,
            });
        }
    }
    occurrences.sort_by_key(|o| (o.start, o.end));
    Ok(Expansion { occurrences, truncated })
}

/// The series' rule set, built and validated (not iterated).
fn rule_set(event: &Event, recurrence: &Recurrence, default_zone: Tz) -> Result<(Frame, RRuleSet)> {
    let frame = Frame::of(&event.start)?;
    let dt_start = frame.to_frame(&event.start, default_zone)?;
    let mut set = RRuleSet::new(dt_start).limit();
    for text in &recurrence.rules {
        if text.len() > MAX_RULE_LEN {
            return Err(refuse("RRULE", format!("a rule longer than {MAX_RULE_LEN} characters")));
        }
        let text = text.trim().trim_start_matches("RRULE:");
        let rule: RRule<Unvalidated> = text.parse().map_err(|e| refuse("RRULE", e))?;
        set = set.rrule(rule.validate(dt_start).map_err(|e| refuse("RRULE", e))?);
    }
    if recurrence.rules.is_empty() {
        // RDATEs alone: DTSTART is the first occurrence.
        set = set.rdate(dt_start);
    }
    for date in &recurrence.dates {
        set = set.rdate(frame.to_frame(date, default_zone).map_err(|e| refuse("RDATE", e))?);
    }
    for date in &recurrence.exceptions {
        set = set.exdate(frame.to_frame(date, default_zone).map_err(|e| refuse("EXDATE", e))?);
    }
    Ok((frame, set))
}

/// Checks that `event`'s times and recurrence can be expanded: its zones exist and its rules
/// parse and validate (nothing is stepped through).
///
/// # Errors
/// As [`expand`], naming the property.
pub fn check(event: &Event) -> Result<()> {
    if let Some(recurrence) = &event.recurrence {
        rule_set(event, recurrence, chrono_tz::UTC)?;
    }
    Ok(())
}

fn overlaps(start: DateTime<Utc>, end: DateTime<Utc>, window: &Interval) -> bool {
    // A zero-length event at the window's start is in it.
    start < window.end && (end > window.start || (start == end && start >= window.start))
}
