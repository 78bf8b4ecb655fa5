//! Scheduling end to end: `cargo run --example calendar`. No credentials: it runs against the
//! testkit's Google Calendar fake on 127.0.0.1 (the CalDAV adapter books the same way against
//! a real server: see the calendar contract's tests against Radicale).
//!
//! 1. Ada's calendar (Berlin) holds a weekly team meeting, Monday 15:00–15:30 her time;
//! 2. Kai works 9–17 in New York and is busy 15:00–16:00 UTC on Monday; Mei works 9–17 in
//!    Lisbon;
//! 3. the first 30 minutes all three have free that week is found and booked in Ada's calendar,
//!    Kai and Mei invited;
//! 4. booking again with the same operation key answers the same event.

use std::error::Error;

use chrono::{Duration, NaiveTime, TimeZone, Utc, Weekday};
use integration_calendar::availability::{Participant, WorkingHours};
use integration_calendar::schedule::{Meeting, book};
use integration_calendar::{Interval, OperationKey};
use integration_core::{BuildContext, ConnectionId, TenantId};
use integration_testkit::fake::google_calendar::{FakeGoogleCalendar, PRIMARY};

fn nine_to_five(zone: &str) -> Result<WorkingHours, Box<dyn Error>> {
    let weekdays = vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];
    let (nine, five) = (NaiveTime::from_hms_opt(9, 0, 0), NaiveTime::from_hms_opt(17, 0, 0));
    Ok(WorkingHours::new(zone, weekdays, nine.ok_or("9:00")?, five.ok_or("17:00")?)?)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    let google = FakeGoogleCalendar::start().await;
    google.put_event(
        PRIMARY,
        serde_json::json!({
            "id": "teamweekly1", "summary": "Team", "status": "confirmed",
            "start": {"dateTime": "2026-12-07T15:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-12-07T15:30:00+01:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO"],
        }),
    );
    let config = google.config(TenantId::new("acme")?, ConnectionId::new("ada-google")?);
    let calendar = integration_calendar::build(&config, &BuildContext::default())?;

    let utc = |d, h| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).single().ok_or("a time");
    let week = Interval::new(utc(7, 0)?, utc(12, 0)?)?;
    let ada = Participant::new("ada@example.com", vec![]).with_hours(nine_to_five("Europe/Berlin")?);
    let kai = Participant::new("kai@example.com", vec![Interval::new(utc(7, 15)?, utc(7, 16)?)?])
        .with_hours(nine_to_five("America/New_York")?);
    let mei = Participant::new("mei@example.com", vec![]).with_hours(nine_to_five("Europe/Lisbon")?);
    let meeting = Meeting::new("Roadmap", Duration::minutes(30), week, ada).invite(kai).invite(mei);

    // Berlin works 08–16 UTC, New York 14–22, Lisbon 09–17: together 14–16 UTC. Ada's team
    // meeting takes 14:00–14:30, Kai is busy 15–16: the first half hour is 14:30.
    let operation = OperationKey::new("roadmap-2026-w50")?;
    let booked = book(calendar.as_ref(), PRIMARY, &operation, &meeting).await?.ok_or("a slot")?;
    println!(
        "booked {:?} at {:?} (until {:?}), inviting {}",
        booked.fields.summary.as_deref().unwrap_or_default(),
        booked.fields.start,
        booked.fields.end,
        booked.fields.attendees.iter().map(|a| a.email.as_str()).collect::<Vec<_>>().join(", ")
    );
    let start = booked.fields.start.instant(chrono_tz::UTC)?;
    assert_eq!(start, utc(7, 14)? + Duration::minutes(30));

    // Run again (a retry, a rerun step): the same event, not a second one.
    let again = book(calendar.as_ref(), PRIMARY, &operation, &meeting).await?.ok_or("a slot")?;
    assert_eq!(again.remote_id, booked.remote_id);
    let busy = calendar.free_busy(&[PRIMARY.to_owned()], &Interval::new(utc(7, 0)?, utc(8, 0)?)?).await?;
    println!(
        "Ada is busy on Monday: {:?}",
        busy[0]
            .busy
            .iter()
            .map(|b| format!("{}–{}", b.start.format("%H:%M"), b.end.format("%H:%M")))
            .collect::<Vec<_>>()
    );
    assert_eq!(busy[0].busy.len(), 1, "the team meeting and the roadmap, back to back");
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The example runs to the end; its assertions hold.
    #[test]
    fn the_example_runs() {
        super::main().expect("the example runs");
    }
}
