//! Arbitrary text as an iCalendar object from a server: read into events or refused with an
//! error naming a property — never a panic —, every event read expanded in a year's window
//! within the recurrence bounds, and what reads back from writing it is read again.
//!
//! `cargo fuzz run icalendar` (from this folder).

#![no_main]

use chrono::{TimeZone, Utc};
use integration_calendar::{Interval, ical, recurrence};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(events) = ical::parse(text) else { return };
    let window = Interval::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
    )
    .unwrap();
    for event in &events {
        if let Ok(expansion) = recurrence::expand(event, &window, chrono_tz::UTC, 1_000) {
            assert!(expansion.occurrences.len() <= 1_000);
        }
        let written = ical::write(event);
        assert!(ical::parse(&written).is_ok(), "our own output reads: {written}");
    }
});
