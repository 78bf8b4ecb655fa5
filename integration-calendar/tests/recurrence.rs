//! Recurrence expansion against RFC 5545 §3.8.5.3: each example's rule, from its DTSTART in
//! America/New_York, expands to the dates the RFC lists (at 09:00 local time, EDT or EST), and
//! bounded rules stay bounded.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use integration_calendar::recurrence::{self, MAX_STEPS};
use integration_calendar::{Event, EventTime, Interval, Recurrence};
use integration_core::ErrorKind;

const NY: &str = "America/New_York";

fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date").and_hms_opt(9, 0, 0).expect("a time")
}

fn series(start: NaiveDateTime, rule: &str) -> Event {
    let begins = EventTime::zoned(start, NY);
    let mut event = Event::new("rfc", begins.clone(), begins.shifted(chrono::Duration::hours(1)));
    event.recurrence = Some(Recurrence::rule(rule));
    event
}

fn window(from: (i32, u32, u32), to: (i32, u32, u32)) -> Interval {
    let utc = |(y, m, d): (i32, u32, u32)| Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single().expect("a time");
    Interval::new(utc(from), utc(to)).expect("a window")
}

/// The local dates (New York) of the first `count` occurrences, each checked to be at 09:00
/// New York time.
fn local_dates(event: &Event, count: usize) -> Vec<NaiveDate> {
    let zone: chrono_tz::Tz = NY.parse().expect("a zone");
    let expansion =
        recurrence::expand(event, &window((1996, 1, 1), (2006, 1, 1)), chrono_tz::UTC, count).expect("expanded");
    expansion
        .occurrences
        .iter()
        .map(|o| {
            let local = o.start.with_timezone(&zone);
            assert_eq!(local.time(), chrono::NaiveTime::from_hms_opt(9, 0, 0).expect("9:00"), "{local}");
            local.date_naive()
        })
        .collect()
}

fn dates(list: &[(i32, u32, u32)]) -> Vec<NaiveDate> {
    list.iter().map(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).expect("a date")).collect()
}

#[test]
fn daily_for_ten_occurrences() {
    let got = local_dates(&series(at(1997, 9, 2), "FREQ=DAILY;COUNT=10"), 100);
    assert_eq!(got, dates(&(2..=11).map(|d| (1997, 9, d)).collect::<Vec<_>>()));
}

#[test]
fn daily_until_december_24_crossing_the_end_of_daylight_time() {
    let got = local_dates(&series(at(1997, 9, 2), "FREQ=DAILY;UNTIL=19971224T000000Z"), 1000);
    assert_eq!(got.len(), 113, "Sep 2 – Dec 23");
    assert_eq!(got.first(), Some(&NaiveDate::from_ymd_opt(1997, 9, 2).expect("a date")));
    assert_eq!(got.last(), Some(&NaiveDate::from_ymd_opt(1997, 12, 23).expect("a date")));
}

#[test]
fn every_ten_days_five_occurrences() {
    let got = local_dates(&series(at(1997, 9, 2), "FREQ=DAILY;INTERVAL=10;COUNT=5"), 100);
    assert_eq!(got, dates(&[(1997, 9, 2), (1997, 9, 12), (1997, 9, 22), (1997, 10, 2), (1997, 10, 12)]));
}

#[test]
fn weekly_for_ten_occurrences_across_the_change_to_standard_time() {
    let event = series(at(1997, 9, 2), "FREQ=WEEKLY;COUNT=10");
    let got = local_dates(&event, 100);
    let expected = [
        (1997, 9, 2),
        (1997, 9, 9),
        (1997, 9, 16),
        (1997, 9, 23),
        (1997, 9, 30),
        (1997, 10, 7),
        (1997, 10, 14),
        (1997, 10, 21),
        (1997, 10, 28),
        (1997, 11, 4),
    ];
    assert_eq!(got, dates(&expected));
    // 09:00 EDT is 13:00 UTC; 09:00 EST is 14:00 UTC.
    let expansion = recurrence::expand(&event, &window((1997, 1, 1), (1998, 1, 1)), chrono_tz::UTC, 100).expect("ok");
    let utc_hours: Vec<u32> = expansion.occurrences.iter().map(|o| chrono::Timelike::hour(&o.start)).collect();
    assert_eq!(utc_hours, [13, 13, 13, 13, 13, 13, 13, 13, 14, 14]);
}

#[test]
fn every_other_week_on_monday_wednesday_friday_until_december_24() {
    let rule = "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR";
    let got = local_dates(&series(at(1997, 9, 1), rule), 100);
    let expected = [
        (1997, 9, 1),
        (1997, 9, 3),
        (1997, 9, 5),
        (1997, 9, 15),
        (1997, 9, 17),
        (1997, 9, 19),
        (1997, 9, 29),
        (1997, 10, 1),
        (1997, 10, 3),
        (1997, 10, 13),
        (1997, 10, 15),
        (1997, 10, 17),
        (1997, 10, 27),
        (1997, 10, 29),
        (1997, 10, 31),
        (1997, 11, 10),
        (1997, 11, 12),
        (1997, 11, 14),
        (1997, 11, 24),
        (1997, 11, 26),
        (1997, 11, 28),
        (1997, 12, 8),
        (1997, 12, 10),
        (1997, 12, 12),
        (1997, 12, 22),
    ];
    assert_eq!(got, dates(&expected));
}

#[test]
fn monthly_on_the_first_friday_for_ten_occurrences() {
    let got = local_dates(&series(at(1997, 9, 5), "FREQ=MONTHLY;COUNT=10;BYDAY=1FR"), 100);
    let expected = [
        (1997, 9, 5),
        (1997, 10, 3),
        (1997, 11, 7),
        (1997, 12, 5),
        (1998, 1, 2),
        (1998, 2, 6),
        (1998, 3, 6),
        (1998, 4, 3),
        (1998, 5, 1),
        (1998, 6, 5),
    ];
    assert_eq!(got, dates(&expected));
}

#[test]
fn every_other_month_on_the_first_and_last_sunday() {
    let got = local_dates(&series(at(1997, 9, 7), "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU"), 100);
    let expected = [
        (1997, 9, 7),
        (1997, 9, 28),
        (1997, 11, 2),
        (1997, 11, 30),
        (1998, 1, 4),
        (1998, 1, 25),
        (1998, 3, 1),
        (1998, 3, 29),
        (1998, 5, 3),
        (1998, 5, 31),
    ];
    assert_eq!(got, dates(&expected));
}

#[test]
fn monthly_on_the_second_to_last_monday_for_six_months() {
    let got = local_dates(&series(at(1997, 9, 22), "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO"), 100);
    let expected = [(1997, 9, 22), (1997, 10, 20), (1997, 11, 17), (1997, 12, 22), (1998, 1, 19), (1998, 2, 16)];
    assert_eq!(got, dates(&expected));
}

#[test]
fn monday_of_week_number_twenty() {
    let got = local_dates(&series(at(1997, 5, 12), "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO"), 3);
    assert_eq!(got, dates(&[(1997, 5, 12), (1998, 5, 11), (1999, 5, 17)]));
}

#[test]
fn the_third_tuesday_wednesday_or_thursday_of_the_month_by_setpos() {
    let got = local_dates(&series(at(1997, 9, 4), "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3"), 100);
    assert_eq!(got, dates(&[(1997, 9, 4), (1997, 10, 7), (1997, 11, 6)]));
}

#[test]
fn the_second_to_last_weekday_of_the_month() {
    let got = local_dates(&series(at(1997, 9, 29), "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2"), 7);
    let expected =
        [(1997, 9, 29), (1997, 10, 30), (1997, 11, 27), (1997, 12, 30), (1998, 1, 29), (1998, 2, 26), (1998, 3, 30)];
    assert_eq!(got, dates(&expected));
}

#[test]
fn every_friday_the_thirteenth_without_the_start_excluded() {
    let mut event = series(at(1997, 9, 2), "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13");
    if let Some(recurrence) = event.recurrence.as_mut() {
        recurrence.exceptions.push(EventTime::zoned(at(1997, 9, 2), NY));
    }
    let got = local_dates(&event, 5);
    assert_eq!(got, dates(&[(1998, 2, 13), (1998, 3, 13), (1998, 11, 13), (1999, 8, 13), (2000, 10, 13)]));
}

#[test]
fn us_presidential_election_day() {
    let rule = "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8";
    let got = local_dates(&series(at(1996, 11, 5), rule), 3);
    assert_eq!(got, dates(&[(1996, 11, 5), (2000, 11, 7), (2004, 11, 2)]));
}

#[test]
fn yearly_in_june_and_july_for_ten_occurrences() {
    let got = local_dates(&series(at(1997, 6, 10), "FREQ=YEARLY;COUNT=10;BYMONTH=6,7"), 100);
    let expected: Vec<(i32, u32, u32)> = (1997..=2001).flat_map(|y| [(y, 6, 10), (y, 7, 10)]).collect();
    assert_eq!(got, dates(&expected));
}

#[test]
fn a_weekly_nine_o_clock_meeting_stays_at_nine_across_both_changes() {
    let event = series(
        NaiveDate::from_ymd_opt(2026, 1, 5).expect("a date").and_hms_opt(9, 0, 0).expect("9:00"),
        "FREQ=WEEKLY;BYDAY=MO",
    );
    let expansion = recurrence::expand(&event, &window((2026, 1, 1), (2027, 1, 1)), chrono_tz::UTC, 100).expect("ok");
    let zone: chrono_tz::Tz = NY.parse().expect("a zone");
    assert_eq!(expansion.occurrences.len(), 52);
    let mut offsets = std::collections::BTreeSet::new();
    for occurrence in &expansion.occurrences {
        let local = occurrence.start.with_timezone(&zone);
        assert_eq!(chrono::Timelike::hour(&local), 9, "{local}");
        assert_eq!(occurrence.end - occurrence.start, chrono::Duration::hours(1));
        offsets.insert(chrono::Timelike::hour(&occurrence.start));
    }
    assert_eq!(offsets.into_iter().collect::<Vec<_>>(), [13, 14], "EDT and EST both seen");
}

#[test]
fn exceptions_move_or_cancel_single_occurrences() {
    let mut event = series(at(2026, 12, 7), "FREQ=DAILY;COUNT=5");
    let mut moved = Event::new(
        "moved",
        EventTime::zoned(at(2026, 12, 8) + chrono::Duration::hours(5), NY),
        EventTime::zoned(at(2026, 12, 8) + chrono::Duration::hours(6), NY),
    );
    moved.original_start = Some(EventTime::zoned(at(2026, 12, 8), NY));
    let mut cancelled = moved.clone();
    cancelled.original_start = Some(EventTime::zoned(at(2026, 12, 9), NY));
    cancelled.status = integration_calendar::EventStatus::Cancelled;
    event.exceptions = vec![moved, cancelled];
    let expansion = recurrence::expand(&event, &window((2026, 12, 1), (2027, 1, 1)), chrono_tz::UTC, 100).expect("ok");
    let zone: chrono_tz::Tz = NY.parse().expect("a zone");
    let got: Vec<String> =
        expansion.occurrences.iter().map(|o| o.start.with_timezone(&zone).format("%d %H:%M").to_string()).collect();
    assert_eq!(got, ["07 09:00", "08 14:00", "10 09:00", "11 09:00"]);
    assert_eq!(expansion.occurrences[1].event.summary.as_deref(), Some("moved"));
}

#[test]
fn unbounded_and_impossible_rules_stay_bounded() {
    let started = std::time::Instant::now();
    // Forever: cut at the limit, said so.
    let forever = series(at(2026, 1, 1), "FREQ=DAILY");
    let expansion = recurrence::expand(&forever, &window((2026, 1, 1), (2100, 1, 1)), chrono_tz::UTC, 50).expect("ok");
    assert_eq!((expansion.occurrences.len(), expansion.truncated), (50, true));
    // Never (30 February): nothing, and it ends.
    let never = series(at(2026, 1, 30), "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30");
    if let Ok(expansion) = recurrence::expand(&never, &window((2026, 1, 1), (2100, 1, 1)), chrono_tz::UTC, 50) {
        assert!(expansion.occurrences.is_empty());
    }
    // Every second since 1970, asked about 2026: refused rather than stepped through.
    let mut seconds = series(at(1970, 1, 1), "FREQ=SECONDLY");
    seconds.end = seconds.start.shifted(chrono::Duration::seconds(1));
    let error =
        recurrence::expand(&seconds, &window((2026, 1, 1), (2026, 1, 2)), chrono_tz::UTC, 50).expect_err("bounded");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Validation, Some("RRULE")));
    assert!(error.to_string().contains(&MAX_STEPS.to_string()), "{error}");
    // A rule that is not one names the property.
    let bad = series(at(2026, 1, 1), "FREQ=FORTNIGHTLY");
    let error = recurrence::expand(&bad, &window((2026, 1, 1), (2027, 1, 1)), chrono_tz::UTC, 50).expect_err("refused");
    assert_eq!(error.field(), Some("RRULE"));
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "bounded time");
}

#[test]
fn all_day_series_stay_on_their_dates_in_the_calendar_s_zone() {
    let day = NaiveDate::from_ymd_opt(2026, 3, 6).expect("a date");
    let mut event = Event::new("payday", EventTime::date(day), EventTime::date(day.succ_opt().expect("next")));
    event.recurrence = Some(Recurrence::rule("FREQ=WEEKLY;INTERVAL=2;COUNT=3"));
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().expect("a zone");
    let expansion = recurrence::expand(&event, &window((2026, 1, 1), (2027, 1, 1)), berlin, 10).expect("ok");
    let got: Vec<(DateTime<Utc>, i64)> =
        expansion.occurrences.iter().map(|o| (o.start, (o.end - o.start).num_hours())).collect();
    let midnight = |d: u32, m: u32, offset: u32| {
        Utc.with_ymd_and_hms(2026, m, d, 0, 0, 0).single().expect("t") - chrono::Duration::hours(offset.into())
    };
    // Midnight in Berlin: UTC+1 in March, UTC+2 after summer time began on 29 March.
    assert_eq!(got, [(midnight(6, 3, 1), 24), (midnight(20, 3, 1), 24), (midnight(3, 4, 2), 24)]);
}
