//! Reminders and "starts in N minutes" as automation triggers: a scan of cached events over a
//! span of time gives the [`IntegrationEvent`]s falling due in it, each with a key that names
//! the occurrence and the lead, so the automation engine (`Engine::on_event(…, key)`) starts
//! each at most once however often — or however overlapping — the scans run.
//!
//! | event | when | payload |
//! |---|---|---|
//! | `calendar.reminder` | an event's reminder time (its start less `minutes_before`) | `event_id`, `summary`, `start`, `minutes_before`, `method` |
//! | `calendar.event_starting` | `lead` minutes before an occurrence starts, for each lead asked | `event_id`, `summary`, `start`, `minutes` |
//!
//! Series are expanded (bounded, as [`recurrence::expand`]), moved
//! occurrences where they moved to; cancelled events and occurrences neither remind nor start.
//!
//! ```
//! use chrono::{Duration, NaiveDate, TimeZone, Utc};
//! use integration_calendar::{Event, EventTime, Interval, Remote, Reminder, reminders};
//!
//! let nine = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap().and_hms_opt(9, 0, 0).unwrap();
//! let mut standup = Event::new("stand-up", EventTime::zoned(nine, "Europe/Berlin"),
//!                              EventTime::zoned(nine + Duration::minutes(15), "Europe/Berlin"));
//! standup.reminders = vec![Reminder::display(10)];
//! let events = [Remote::new("/ada/work/standup.ics", standup)];
//! // A scan from 07:45 to 07:55 UTC: the reminder at 07:50 UTC (08:50 in Berlin) falls due.
//! let scan = Interval::new(Utc.with_ymd_and_hms(2026, 12, 7, 7, 45, 0).unwrap(), Utc.with_ymd_and_hms(2026, 12, 7, 7, 55, 0).unwrap())?;
//! let due = reminders::due(&events, &scan, &[], chrono_tz::UTC)?;
//! assert_eq!(due.len(), 1);
//! assert_eq!(due[0].event.kind, "calendar.reminder");
//! assert_eq!(due[0].key, "/ada/work/standup.ics@2026-12-07T08:00:00+00:00:reminder:10");
//! # Ok::<(), integration_core::Error>(())
//! ```

use chrono::Duration;
use chrono_tz::Tz;
use integration_core::domain::Remote;
use integration_core::{IntegrationEvent, Result};
use serde_json::json;

use crate::model::Event;
use crate::recurrence;
use crate::time::Interval;

/// The longest lead looked ahead for (a reminder a week before).
pub const MAX_LEAD_MINUTES: i64 = 7 * 24 * 60;

/// An event falling due, and its key for the automation engine.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Due {
    /// The automation event.
    pub event: IntegrationEvent,
    /// `<event id>@<occurrence start>:<reminder|starting>:<minutes>`: the same occurrence and
    /// lead give the same key in every scan.
    pub key: String,
}

/// What falls due within `scan` among `events` (as cached): each reminder, and each
/// `starting_in` lead (in minutes) before an occurrence. Floating times and all-day events are
/// placed in `zone`.
///
/// # Errors
/// A `Validation` error for a lead outside `0..=`[`MAX_LEAD_MINUTES`]; an event whose series
/// cannot be expanded is skipped (it is logged), not fatal to the scan.
pub fn due(events: &[Remote<Event>], scan: &Interval, starting_in: &[i64], zone: Tz) -> Result<Vec<Due>> {
    if let Some(bad) = starting_in.iter().find(|m| !(0..=MAX_LEAD_MINUTES).contains(*m)) {
        return Err(integration_core::Error::validation(
            "starting_in",
            format!("{bad} minutes is not a lead of 0 to {MAX_LEAD_MINUTES}"),
        ));
    }
    let mut out = Vec::new();
    for record in events.iter().filter(|r| !r.remote_was_deleted) {
        let event = &record.fields;
        let longest = event
            .reminders
            .iter()
            .map(|r| r.minutes_before.clamp(0, MAX_LEAD_MINUTES))
            .chain(starting_in.iter().copied())
            .max()
            .unwrap_or(0);
        // Occurrences starting from the scan's start up to its end plus the longest lead.
        let ahead = Interval { start: scan.start, end: scan.end + Duration::minutes(longest) };
        let expansion = match recurrence::expand(event, &ahead, zone, recurrence::MAX_OCCURRENCES) {
            Ok(expansion) => expansion,
            Err(error) => {
                tracing::warn!(event = %record.remote_id, error = %error, "an event's occurrences could not be expanded; no reminders from it");
                continue;
            }
        };
        for occurrence in expansion.occurrences.iter().filter(|o| o.start >= scan.start) {
            let start = occurrence.start.to_rfc3339();
            let summary = occurrence.event.summary.clone();
            for reminder in &occurrence.event.reminders {
                let at = occurrence.start - Duration::minutes(reminder.minutes_before);
                if at >= scan.start && at < scan.end {
                    let mut event = IntegrationEvent::new(
                        "calendar.reminder",
                        json!({
                            "event_id": record.remote_id, "summary": summary, "start": start,
                            "minutes_before": reminder.minutes_before, "method": reminder.method,
                        }),
                    );
                    event.occurred_at = Some(at);
                    let key = format!("{}@{start}:reminder:{}", record.remote_id, reminder.minutes_before);
                    out.push(Due { event, key });
                }
            }
            for minutes in starting_in {
                let at = occurrence.start - Duration::minutes(*minutes);
                if at >= scan.start && at < scan.end {
                    let mut event = IntegrationEvent::new(
                        "calendar.event_starting",
                        json!({
                            "event_id": record.remote_id, "summary": summary, "start": start, "minutes": minutes,
                        }),
                    );
                    event.occurred_at = Some(at);
                    let key = format!("{}@{start}:starting:{minutes}", record.remote_id);
                    out.push(Due { event, key });
                }
            }
        }
    }
    out.sort_by(|a, b| a.event.occurred_at.cmp(&b.event.occurred_at).then_with(|| a.key.cmp(&b.key)));
    Ok(out)
}
