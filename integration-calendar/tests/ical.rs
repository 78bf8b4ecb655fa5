//! iCalendar read and written: what servers send (exceptions, zones from other products,
//! alarms, attendees) is read; what is malformed is an error naming the property; writing then
//! reading gives the event back; arbitrary text never panics.

use chrono::{NaiveDate, TimeZone, Utc};
use integration_calendar::{
    Attendee, Event, EventStatus, EventTime, Recurrence, Reminder, ResponseStatus, Transparency, ical,
};
use proptest::prelude::*;

fn wrap(body: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n")
}

#[test]
fn a_series_with_its_exceptions_attendees_and_alarms_is_read() {
    let text = wrap(concat!(
        "BEGIN:VTIMEZONE\r\nTZID:/mozilla.org/20070129_1/Europe/Berlin\r\nEND:VTIMEZONE\r\n",
        "BEGIN:VEVENT\r\nUID:weekly@example.com\r\nDTSTAMP:20261201T000000Z\r\n",
        "DTSTART;TZID=/mozilla.org/20070129_1/Europe/Berlin:20261207T100000\r\n",
        "DTEND;TZID=/mozilla.org/20070129_1/Europe/Berlin:20261207T110000\r\n",
        "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nEXDATE;TZID=Europe/Berlin:20261221T100000,20261228T100000\r\n",
        "SUMMARY:Planning\r\nLOCATION:Room 1\\; 2nd floor\r\nTRANSP:OPAQUE\r\nSEQUENCE:3\r\n",
        "ORGANIZER;CN=Ada:mailto:ada@example.com\r\n",
        "ATTENDEE;CN=\"Lovelace, Ada\";PARTSTAT=ACCEPTED:mailto:ada@example.com\r\n",
        "ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:kai@example.com\r\n",
        "X-UNKNOWN-THING;FOO=bar:whatever\r\n",
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:soon\r\nEND:VALARM\r\n",
        "END:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:weekly@example.com\r\nDTSTAMP:20261201T000000Z\r\n",
        "RECURRENCE-ID;TZID=Europe/Berlin:20261214T100000\r\n",
        "DTSTART;TZID=Europe/Berlin:20261215T140000\r\nDURATION:PT30M\r\nSUMMARY:Planning (moved)\r\n",
        "END:VEVENT\r\n",
    ));
    let events = ical::parse(&text).expect("read");
    assert_eq!(events.len(), 1, "the exception is inside its series");
    let series = &events[0];
    let nine = |d, h| NaiveDate::from_ymd_opt(2026, 12, d).expect("d").and_hms_opt(h, 0, 0).expect("t");
    assert_eq!(series.start, EventTime::zoned(nine(7, 10), "Europe/Berlin"));
    assert_eq!(series.location.as_deref(), Some("Room 1; 2nd floor"));
    assert_eq!(series.sequence, Some(3));
    let recurrence = series.recurrence.as_ref().expect("a series");
    assert_eq!(recurrence.exceptions.len(), 2);
    assert_eq!(series.attendees[0].name.as_deref(), Some("Lovelace, Ada"));
    assert_eq!(series.attendees[0].response, Some(ResponseStatus::Accepted));
    assert!(series.attendees[1].optional);
    assert_eq!(series.organizer.as_ref().map(|o| o.email.as_str()), Some("ada@example.com"));
    assert_eq!(series.reminders, [Reminder::display(15)]);
    let moved = &series.exceptions[0];
    assert_eq!(moved.original_start, Some(EventTime::zoned(nine(14, 10), "Europe/Berlin")));
    assert_eq!(moved.end, EventTime::zoned(nine(15, 14) + chrono::Duration::minutes(30), "Europe/Berlin"));
}

#[test]
fn malformed_objects_are_errors_naming_the_property() {
    let cases = [
        ("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:2026-12-07\r\nEND:VEVENT\r\n", "DTSTART"),
        ("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261307T090000Z\r\nEND:VEVENT\r\n", "DTSTART"),
        ("BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Mars/Olympus:20261207T090000\r\nEND:VEVENT\r\n", "DTSTART"),
        ("BEGIN:VEVENT\r\nDTSTART:20261207T090000Z\r\nEND:VEVENT\r\n", "UID"),
        ("BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:no start\r\nEND:VEVENT\r\n", "DTSTART"),
        ("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261207T090000Z\r\nDURATION:1 hour\r\nEND:VEVENT\r\n", "DURATION"),
        ("BEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20261207\r\nDTEND:20261207T100000Z\r\nEND:VEVENT\r\n", "DTEND"),
        ("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261207T090000Z\r\nSEQUENCE:many\r\nEND:VEVENT\r\n", "SEQUENCE"),
        ("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261207T090000Z\r\nEXDATE:yesterday\r\nEND:VEVENT\r\n", "EXDATE"),
    ];
    for (body, property) in cases {
        let error = ical::parse(&wrap(body)).expect_err(body);
        assert_eq!(error.field(), Some(property), "{body}: {error}");
    }
    let huge = format!(
        "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261207T090000Z\r\nRRULE:FREQ=DAILY;BYHOUR={}\r\nEND:VEVENT\r\n",
        vec!["1"; 2_000].join(",")
    );
    assert_eq!(ical::parse(&wrap(&huge)).expect_err("too long").field(), Some("RRULE"));
    assert_eq!(ical::parse("this is not iCalendar").map(|e| e.len()).unwrap_or(0), 0);
    assert!(ical::parse(&"X".repeat(ical::MAX_OBJECT_BYTES + 1)).is_err());
}

#[test]
fn all_day_events_end_the_next_day_and_floating_times_stay_floating() {
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20261225\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:f\r\nDTSTART:20261225T080000\r\nEND:VEVENT\r\n",
    );
    let events = ical::parse(&text).expect("read");
    let day = NaiveDate::from_ymd_opt(2026, 12, 25).expect("d");
    assert_eq!((events[0].all_day(), &events[0].end), (true, &EventTime::date(day.succ_opt().expect("next"))));
    assert_eq!(events[1].start, EventTime::Local { date_time: day.and_hms_opt(8, 0, 0).expect("t"), zone: None });
}

fn event() -> impl Strategy<Value = Event> {
    (
        "[a-zA-Z0-9@._-]{1,40}",
        "\\PC{0,60}",
        prop::option::of("\\PC{0,40}"),
        0_i64..10_000_000,
        1_i64..600,
        prop::sample::select(vec!["Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
        prop::sample::select(vec![
            None,
            Some("FREQ=DAILY;COUNT=3"),
            Some("FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20271231T000000Z"),
        ]),
        prop::collection::vec("[a-z]{1,8}@example\\.com", 0..3),
        any::<bool>(),
    )
        .prop_map(|(uid, summary, location, minutes, length, zone, rule, attendees, free)| {
            let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("t").naive_utc()
                + chrono::Duration::minutes(minutes);
            let mut event = Event::new(
                summary,
                EventTime::zoned(start, zone),
                EventTime::zoned(start + chrono::Duration::minutes(length), zone),
            );
            event.uid = uid;
            event.location = location;
            event.recurrence = rule.map(Recurrence::rule);
            event.attendees = attendees.into_iter().map(Attendee::new).collect();
            event.transparency = if free { Transparency::Free } else { Transparency::Busy };
            event.status = EventStatus::Tentative;
            event.reminders = vec![Reminder::display(10)];
            event
        })
}

proptest! {
    /// Written, then read: the same event (text with commas, semicolons, backslashes, newlines
    /// and any Unicode included).
    #[test]
    fn written_then_read_is_the_same_event(event in event()) {
        let text = ical::write(&event);
        let read = ical::parse(&text).expect("our own output reads");
        prop_assert_eq!(read.len(), 1);
        let mut expected = event.clone();
        // Text values are kept as written, except that lines end as iCalendar ends them.
        expected.summary = expected.summary.map(|s| s.replace("\r\n", "\n").replace('\r', "\n"));
        let mut got = read[0].clone();
        got.summary = got.summary.map(|s| s.replace('\r', "\n"));
        prop_assert_eq!(got, expected, "{}", text);
    }

    /// Arbitrary text: events or an error, never a panic.
    #[test]
    fn any_text_is_read_or_refused(body in "\\PC{0,400}", lines in prop::collection::vec("[A-Z-]{1,12}(;[A-Z]{1,5}=[^:\\r\\n]{0,10})?:[^\\r\\n]{0,40}", 0..12)) {
        let _ = ical::parse(&body);
        let event = format!("BEGIN:VEVENT\r\n{}\r\nEND:VEVENT\r\n", lines.join("\r\n"));
        let _ = ical::parse(&wrap(&event));
    }
}
