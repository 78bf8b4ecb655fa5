//! Reminders and "starts in N minutes" from cached events: scans one after another cover each
//! reminder and lead exactly once, overlapping scans give the same keys (which the automation
//! engine starts once), series and moved or cancelled occurrences are respected, and the weekly
//! busy report counts what the events take.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use integration_calendar::availability::{busy_of, busy_per_week};
use integration_calendar::{
    Event, EventStatus, EventTime, Interval, Recurrence, Reminder, Remote, Transparency, reminders,
};

fn series() -> Remote<Event> {
    let nine = NaiveDate::from_ymd_opt(2026, 12, 7).expect("d").and_hms_opt(9, 0, 0).expect("t");
    let zone = "America/New_York";
    let mut event =
        Event::new("stand-up", EventTime::zoned(nine, zone), EventTime::zoned(nine + Duration::minutes(15), zone));
    event.recurrence = Some(Recurrence::rule("FREQ=DAILY;COUNT=5"));
    event.reminders = vec![Reminder::display(10)];
    let mut moved = Event::new(
        "stand-up (late)",
        EventTime::zoned(nine + Duration::days(1) + Duration::hours(2), zone),
        EventTime::zoned(nine + Duration::days(1) + Duration::hours(2) + Duration::minutes(15), zone),
    );
    moved.original_start = Some(EventTime::zoned(nine + Duration::days(1), zone));
    moved.reminders = vec![Reminder::display(10)];
    let mut cancelled = moved.clone();
    cancelled.original_start = Some(EventTime::zoned(nine + Duration::days(2), zone));
    cancelled.status = EventStatus::Cancelled;
    event.exceptions = vec![moved, cancelled];
    Remote::new("/ada/work/standup.ics", event)
}

#[test]
fn back_to_back_scans_fire_each_reminder_and_lead_once() {
    let events = [series()];
    let start = Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).single().expect("t");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for step in 0..(7 * 24 * 6) {
        let scan = Interval::new(start + Duration::minutes(10 * step), start + Duration::minutes(10 * (step + 1)))
            .expect("scan");
        for due in reminders::due(&events, &scan, &[5], chrono_tz::UTC).expect("scanned") {
            *seen.entry(due.key).or_default() += 1;
        }
    }
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    // Five days less one cancelled: four occurrences, each with a reminder and a 5-minute lead.
    assert_eq!(seen.len(), 8, "{seen:?}");
    // 09:00 New York is 14:00 UTC; the moved one starts at 11:00 (16:00 UTC) on the 8th.
    assert!(seen.contains_key("/ada/work/standup.ics@2026-12-07T14:00:00+00:00:reminder:10"));
    assert!(seen.contains_key("/ada/work/standup.ics@2026-12-08T16:00:00+00:00:starting:5"));
    assert!(!seen.keys().any(|k| k.contains("2026-12-09")), "the cancelled one neither reminds nor starts");
}

#[test]
fn overlapping_scans_give_the_same_keys() {
    let events = [series()];
    let at = |h, m| Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).single().expect("t");
    let first =
        reminders::due(&events, &Interval::new(at(13, 0), at(14, 0)).expect("s"), &[5], chrono_tz::UTC).expect("ok");
    let again =
        reminders::due(&events, &Interval::new(at(13, 30), at(14, 30)).expect("s"), &[5], chrono_tz::UTC).expect("ok");
    let keys = |due: &[reminders::Due]| due.iter().map(|d| d.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&first), keys(&again));
    assert_eq!(
        first.iter().map(|d| d.event.kind.as_str()).collect::<Vec<_>>(),
        ["calendar.reminder", "calendar.event_starting"]
    );
    assert_eq!(first[0].event.payload["minutes_before"], 10);
    assert_eq!(first[1].event.occurred_at, Some(at(13, 55)));
    assert!(reminders::due(&events, &Interval::new(at(13, 0), at(14, 0)).expect("s"), &[-1], chrono_tz::UTC).is_err());
}

#[test]
fn busy_hours_per_week_come_from_the_events() {
    let mut lunch = Event::new(
        "lunch",
        EventTime::utc(Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).single().expect("t")),
        EventTime::utc(Utc.with_ymd_and_hms(2026, 12, 7, 13, 0, 0).single().expect("t")),
    );
    lunch.transparency = Transparency::Free;
    let events = [series().fields, lunch];
    let december = Interval::new(
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().expect("t"),
        Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).single().expect("t"),
    )
    .expect("a month");
    let busy = busy_of(events.iter(), &december, chrono_tz::UTC).expect("busy");
    assert_eq!(busy.len(), 4, "four stand-ups; the free lunch does not count");
    let weeks = busy_per_week(&busy);
    assert_eq!(weeks, [(NaiveDate::from_ymd_opt(2026, 12, 7).expect("d"), Duration::minutes(60))]);
}
