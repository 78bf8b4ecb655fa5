//! The common calendar model. Each record is a [`Remote<T>`](crate::Remote) around the fields
//! here. An event is one iCalendar object: its series (recurrence rules, extra dates, excluded
//! dates) and its exceptions — single occurrences moved, changed or cancelled — travel with it,
//! so expanding it needs nothing else.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::time::EventTime;
use crate::vocabulary::{AccessRole, EventStatus, ResponseStatus, Transparency};

/// A calendar of the connected account (it may hold several).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CalendarInfo {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Who owns it (an email or principal).
    pub owner: Option<String>,
    /// Its IANA time zone: where floating times and all-day events are placed.
    pub time_zone: Option<String>,
    /// What the connected account may do with it.
    pub access_role: Option<AccessRole>,
    /// Whether it is the account's main calendar.
    pub primary: bool,
    /// Its color (`#RRGGBB`).
    pub color: Option<String>,
    /// The provider's version tag (a CalDAV `getctag` / sync-token, Google's etag).
    pub version: Option<String>,
}

/// Someone invited to an event, or its organizer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attendee {
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: Option<String>,
    /// Their answer.
    pub response: Option<ResponseStatus>,
    /// Whether attending is optional.
    pub optional: bool,
}

impl Attendee {
    /// `email`, not answered yet.
    pub fn new(email: impl Into<String>) -> Self {
        Self { email: email.into(), name: None, response: Some(ResponseStatus::NeedsAction), optional: false }
    }
}

/// A reminder: `minutes_before` the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reminder {
    /// How long before the start.
    pub minutes_before: i64,
    /// How: `display`, `email`, `audio`.
    pub method: String,
}

impl Reminder {
    /// A pop-up `minutes_before` the start.
    pub fn display(minutes_before: i64) -> Self {
        Self { minutes_before, method: "display".into() }
    }
}

/// The recurrence of a series: its rules (`RRULE` values, `FREQ=WEEKLY;COUNT=10`), extra dates
/// (`RDATE`) and excluded dates (`EXDATE`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recurrence {
    /// The `RRULE` values.
    pub rules: Vec<String>,
    /// Extra occurrences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<EventTime>,
    /// Excluded occurrences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<EventTime>,
}

impl Recurrence {
    /// A series following `rule`.
    pub fn rule(rule: impl Into<String>) -> Self {
        Self { rules: vec![rule.into()], ..Self::default() }
    }
}

/// An event: one occurrence, or a series with its exceptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// The calendar it is in.
    pub calendar_id: Option<String>,
    /// Its iCalendar `UID` (shared by a series and its exceptions).
    pub uid: String,
    /// Its title.
    pub summary: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Where.
    pub location: Option<String>,
    /// When it starts.
    pub start: EventTime,
    /// When it ends (exclusive; an all-day event ends the day after its last day).
    pub end: EventTime,
    /// The series' recurrence; `None` for a single event or an exception.
    pub recurrence: Option<Recurrence>,
    /// For an exception: the start the occurrence had in its series (`RECURRENCE-ID`).
    pub original_start: Option<EventTime>,
    /// For an exception kept as a record of its own (Google): its series' id.
    pub recurring_event_id: Option<String>,
    /// A series' exceptions (CalDAV keeps them in the series' object): occurrences moved,
    /// changed or cancelled (status `cancelled`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Event>,
    /// Where it stands.
    pub status: EventStatus,
    /// Who organizes it.
    pub organizer: Option<Attendee>,
    /// Who is invited.
    pub attendees: Vec<Attendee>,
    /// Reminders.
    pub reminders: Vec<Reminder>,
    /// Whether it blocks time.
    pub transparency: Transparency,
    /// A video conference link.
    pub conference_url: Option<String>,
    /// Its revision (`SEQUENCE`).
    pub sequence: Option<u32>,
    /// The provider's version of it (an ETag): what a conditional update or delete names.
    pub etag: Option<String>,
    /// When it was last changed (`LAST-MODIFIED`).
    pub updated: Option<DateTime<Utc>>,
}

impl Default for Event {
    fn default() -> Self {
        let start = EventTime::utc(DateTime::<Utc>::UNIX_EPOCH);
        Self {
            calendar_id: None,
            uid: String::new(),
            summary: None,
            description: None,
            location: None,
            end: start.clone(),
            start,
            recurrence: None,
            original_start: None,
            recurring_event_id: None,
            exceptions: Vec::new(),
            status: EventStatus::Confirmed,
            organizer: None,
            attendees: Vec::new(),
            reminders: Vec::new(),
            transparency: Transparency::Busy,
            conference_url: None,
            sequence: None,
            etag: None,
            updated: None,
        }
    }
}

impl Event {
    /// An event `summary` from `start` to `end`.
    pub fn new(summary: impl Into<String>, start: EventTime, end: EventTime) -> Self {
        Self { summary: Some(summary.into()), start, end, ..Self::default() }
    }

    /// Whether it lasts whole days.
    pub fn all_day(&self) -> bool {
        self.start.is_date()
    }

    /// Checks the event before it is written: its zones exist, a date start has a date end (and
    /// a date-time one a date-time end), it does not end before it starts, its `UID` is at most
    /// 1,000 characters, its recurrence parses and validates; the same for its exceptions.
    ///
    /// # Errors
    /// A `Validation` error naming the field (`zone`, `end`, `uid`, `RRULE`…).
    pub fn validate(&self) -> integration_core::Result<()> {
        use integration_core::Error;
        self.start.zone()?;
        self.end.zone()?;
        if self.start.is_date() != self.end.is_date() {
            return Err(Error::validation("end", "a date start needs a date end, a date-time start a date-time end"));
        }
        if self.end.instant(chrono_tz::UTC)? < self.start.instant(chrono_tz::UTC)? {
            return Err(Error::validation("end", "the event ends before it starts"));
        }
        if self.uid.len() > 1_000 {
            return Err(Error::validation("uid", "at most 1,000 characters"));
        }
        crate::recurrence::check(self)?;
        self.exceptions.iter().try_for_each(Event::validate)
    }

    /// How long one occurrence lasts (zero when the end is not after the start).
    pub fn duration(&self, zone: chrono_tz::Tz) -> integration_core::Result<Duration> {
        let (start, end) = (self.start.instant(zone)?, self.end.instant(zone)?);
        Ok((end - start).max(Duration::zero()))
    }
}

/// The busy times of a calendar or a person in a window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FreeBusy {
    /// The calendar or person.
    pub id: String,
    /// The busy spans, sorted, not overlapping.
    pub busy: Vec<crate::time::Interval>,
}
