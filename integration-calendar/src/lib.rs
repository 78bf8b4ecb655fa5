//! The calendar domain: the [`Calendar`] trait, events with RFC 5545 semantics ([`Event`],
//! [`EventTime`]: a date, a local time in an IANA zone or floating, or a UTC instant), recurrence
//! expanded within a window and always bounded ([`recurrence`]), iCalendar read and written
//! ([`ical`]), and the free time common to several people ([`availability`]).
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use integration_calendar::{Event, EventTime, Interval, Recurrence, recurrence};
//!
//! // Every other Friday at 16:00 in Berlin, four times.
//! let start = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap().and_hms_opt(16, 0, 0).unwrap();
//! let mut retro = Event::new("retro", EventTime::zoned(start, "Europe/Berlin"),
//!                            EventTime::zoned(start + chrono::Duration::hours(1), "Europe/Berlin"));
//! retro.recurrence = Some(Recurrence::rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;COUNT=4"));
//! let spring = Interval::new(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
//!                            Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap())?;
//! let starts: Vec<String> = recurrence::expand(&retro, &spring, chrono_tz::UTC, 10)?
//!     .occurrences.iter().map(|o| o.start.format("%m-%d %H:%M").to_string()).collect();
//! // 16:00 CET is 15:00 UTC; after 29 March, 16:00 CEST is 14:00 UTC.
//! assert_eq!(starts, ["03-20 15:00", "04-03 14:00", "04-17 14:00", "05-01 14:00"]);
//! # Ok::<(), integration_core::Error>(())
//! ```
//!
//! Adapters — `caldav`, `google`, `microsoft` (one feature each) — implement
//! [`Integration`](integration_core::Integration) with `read` delegating to [`read`], and the
//! [`Calendar`] methods their provider supports.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
pub mod availability;
mod calendar;
#[cfg(any(feature = "caldav", feature = "google", feature = "microsoft"))]
mod conditional;
pub mod ical;
#[cfg(any(feature = "google", feature = "microsoft"))]
mod in_turn;
#[cfg(test)]
mod json_strategy;
mod mapped;
mod model;
pub mod notifications;
pub mod prelude;
pub mod recurrence;
pub mod reminders;
pub mod schedule;
pub mod streams;
pub mod time;
mod vocabulary;
pub mod windows_zones;

#[cfg(feature = "caldav")]
#[cfg_attr(docsrs, doc(cfg(feature = "caldav")))]
pub mod caldav;
#[cfg(feature = "google")]
#[cfg_attr(docsrs, doc(cfg(feature = "google")))]
pub mod google;
#[cfg(feature = "microsoft")]
#[cfg_attr(docsrs, doc(cfg(feature = "microsoft")))]
pub mod microsoft;

pub use adapter::{Adapter, AdapterFactory, build, descriptor, register_all};
pub use calendar::{Calendar, capability};
pub use integration_core::domain::{ListRequest, Listing, OperationKey, Remote};
pub use model::{Attendee, CalendarInfo, Event, FreeBusy, Recurrence, Reminder};
pub use streams::{STREAMS, read};
pub use time::{EventTime, Interval};
pub use vocabulary::{AccessRole, EventStatus, ResponseStatus, Transparency};
