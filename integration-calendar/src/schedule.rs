//! Scheduling: a meeting booked in the first slot its organizer and every invitee have free —
//! within each one's working hours, in their zone, outside their busy times and the organizer's
//! calendar's — and the invitees invited.
//!
//! Booking is idempotent by its operation key: run again (a retry, a rerun automation step),
//! it answers the event made the first time, even though that slot is now busy.

use chrono::Duration;
use integration_core::domain::{OperationKey, Remote};
use integration_core::{Error, Result};

use crate::availability::{Participant, first_slot, merge};
use crate::calendar::Calendar;
use crate::model::{Attendee, Event};
use crate::time::{EventTime, Interval};

/// A meeting to book.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Meeting {
    /// Its title.
    pub summary: String,
    /// How long it lasts.
    pub length: Duration,
    /// When it may take place.
    pub window: Interval,
    /// Who books it (`id`: their email), with their hours and any busy time beyond their
    /// calendar's.
    pub organizer: Participant,
    /// Who is invited (`id`: their email), each with their hours and busy times.
    pub invitees: Vec<Participant>,
}

impl Meeting {
    /// A meeting `summary` of `length` within `window`, booked by `organizer`.
    pub fn new(summary: impl Into<String>, length: Duration, window: Interval, organizer: Participant) -> Self {
        Self { summary: summary.into(), length, window, organizer, invitees: Vec::new() }
    }

    /// Invites `invitee`.
    #[must_use]
    pub fn invite(mut self, invitee: Participant) -> Self {
        self.invitees.push(invitee);
        self
    }
}

/// Books `meeting` in `calendar_id` of `calendar`: the organizer's busy times there (its
/// free/busy) and the ones given, the invitees', and everyone's working hours decide the first
/// slot; the event is created there with the invitees as attendees — at the organizer's local
/// time when their hours name a zone. `None` when no slot fits.
///
/// # Errors
/// A `Validation` error for a length that is not positive or a window too long; the
/// provider's errors.
pub async fn book(
    calendar: &(dyn Calendar + 'static),
    calendar_id: &str,
    operation: &OperationKey,
    meeting: &Meeting,
) -> Result<Option<Remote<Event>>> {
    if meeting.length <= Duration::zero() {
        return Err(Error::validation("length", "a meeting lasts some time"));
    }
    let own = calendar.free_busy(&[calendar_id.to_owned()], &meeting.window).await?;
    let mut organizer = meeting.organizer.clone();
    organizer.busy.extend(own.into_iter().flat_map(|f| f.busy));
    organizer.busy = merge(organizer.busy);
    let mut everyone = vec![organizer];
    everyone.extend(meeting.invitees.iter().cloned());
    let Some(slot) = first_slot(&everyone, &meeting.window, meeting.length)? else { return Ok(None) };
    let (start, end) = match meeting.organizer.hours.as_ref().map(|h| crate::time::parse_zone(&h.zone)).transpose()? {
        Some(zone) => {
            let name = zone.name().to_owned();
            (
                EventTime::zoned(slot.start.with_timezone(&zone).naive_local(), name.clone()),
                EventTime::zoned(slot.end.with_timezone(&zone).naive_local(), name),
            )
        }
        None => (EventTime::utc(slot.start), EventTime::utc(slot.end)),
    };
    let mut event = Event::new(meeting.summary.clone(), start, end);
    event.organizer =
        Some(Attendee { response: Some(crate::ResponseStatus::Accepted), ..Attendee::new(&meeting.organizer.id) });
    event.attendees = meeting.invitees.iter().map(|i| Attendee::new(&i.id)).collect();
    calendar.create_event(calendar_id, operation, &event).await.map(Some)
}
