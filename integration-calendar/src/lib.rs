//! The calendar domain.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod availability;
pub mod ical;
mod model;
pub mod recurrence;
pub mod time;
mod vocabulary;

pub use integration_core::domain::{ListRequest, Listing, Remote};
pub use model::{Attendee, CalendarInfo, Event, FreeBusy, Recurrence, Reminder};
pub use time::{EventTime, Interval};
pub use vocabulary::{AccessRole, EventStatus, ResponseStatus, Transparency};
