//! Availability for three attendees in three time zones equals a brute-force minute-by-minute
//! answer (property test, windows crossing daylight-saving changes), and the weekly busy report
//! counts overlaps once.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc, Weekday};
use integration_calendar::Interval;
use integration_calendar::availability::{Participant, WorkingHours, busy_per_week, first_slot, free_slots};
use proptest::prelude::*;

const ZONES: [&str; 3] = ["America/New_York", "Europe/Berlin", "Asia/Tokyo"];
const WEEK: [Weekday; 7] =
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

fn minute(start: DateTime<Utc>, m: i64) -> DateTime<Utc> {
    start + Duration::minutes(m)
}

/// Whether `at` is within `hours`, asked day by day as the definition says.
fn working(hours: &WorkingHours, at: DateTime<Utc>) -> bool {
    let zone: chrono_tz::Tz = hours.zone.parse().expect("a zone");
    let local = at.with_timezone(&zone).date_naive();
    (-1..=1).any(|offset| {
        let day = local + Duration::days(offset);
        let resolve = |t: NaiveTime| match zone.from_local_datetime(&day.and_time(t)) {
            chrono::LocalResult::Single(x) | chrono::LocalResult::Ambiguous(x, _) => x.with_timezone(&Utc),
            chrono::LocalResult::None => {
                let before =
                    chrono::Offset::fix(&zone.offset_from_utc_datetime(&(day.and_time(t) - Duration::days(1))));
                Utc.from_utc_datetime(&(day.and_time(t) - Duration::seconds(i64::from(before.local_minus_utc()))))
            }
        };
        hours.days.contains(&chrono::Datelike::weekday(&day)) && resolve(hours.start) <= at && at < resolve(hours.end)
    })
}

fn participant() -> impl Strategy<Value = (u32, u32, u32, Vec<bool>, Vec<(i64, i64)>)> {
    (
        0_u32..3,
        0_u32..22 * 60,
        30_u32..10 * 60,
        prop::collection::vec(any::<bool>(), 7),
        prop::collection::vec((0_i64..4 * 1440, 0_i64..300), 0..6),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The free minutes computed equal the minutes when everyone is working and not busy.
    #[test]
    fn three_time_zones_agree_with_a_minute_by_minute_answer(
        day in prop::sample::select(vec![(2026, 3, 6), (2026, 3, 27), (2026, 10, 23), (2026, 10, 30), (2026, 6, 1)]),
        offset in 0_i64..1440,
        people in prop::collection::vec(participant(), 3),
    ) {
        let start = Utc.with_ymd_and_hms(day.0, day.1, day.2, 0, 0, 0).single().expect("a day") + Duration::minutes(offset);
        let window = Interval::new(start, minute(start, 4 * 1440)).expect("a window");
        let mut participants = Vec::new();
        for (i, (zone, begins, length, days, busy)) in people.into_iter().enumerate() {
            let from = NaiveTime::from_hms_opt(begins / 60, begins % 60, 0).expect("a time");
            let until = (begins + length).min(24 * 60 - 1);
            let until = NaiveTime::from_hms_opt(until / 60, until % 60, 0).expect("a time");
            let days: Vec<Weekday> = WEEK.iter().zip(days).filter(|(_, on)| *on).map(|(d, _)| *d).collect();
            let hours = WorkingHours::new(ZONES[zone as usize], days, from, until).expect("hours");
            let busy: Vec<Interval> = busy.into_iter().filter(|(_, l)| *l > 0)
                .map(|(s, l)| Interval::new(minute(start, s), minute(start, s + l)).expect("busy")).collect();
            participants.push(Participant::new(format!("p{i}"), busy).with_hours(hours));
        }
        let slots = free_slots(&participants, &window, Duration::minutes(1)).expect("computed");
        for pair in slots.windows(2) {
            prop_assert!(pair[0].end < pair[1].start, "sorted, disjoint and not touching: {pair:?}");
        }
        for m in 0..4 * 1440 {
            let at = minute(start, m);
            let brute = participants.iter().all(|p| {
                p.hours.as_ref().is_none_or(|h| working(h, at)) && !p.busy.iter().any(|b| b.start <= at && at < b.end)
            });
            let computed = slots.iter().any(|s| s.start <= at && at < s.end);
            prop_assert_eq!(computed, brute, "minute {} ({})", m, at);
        }
    }
}

#[test]
fn the_first_common_slot_respects_each_zone_and_the_length() {
    let utc = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).single().expect("a time");
    let nine_to_five = |zone: &str| {
        WorkingHours::new(
            zone,
            WEEK[..5].to_vec(),
            NaiveTime::from_hms_opt(9, 0, 0).expect("9"),
            NaiveTime::from_hms_opt(17, 0, 0).expect("17"),
        )
        .expect("hours")
    };
    // New York 14:00–22:00 UTC, Berlin 08:00–16:00 UTC, Tokyo 00:00–08:00 UTC: New York and
    // Tokyo never meet on a weekday.
    let people: Vec<Participant> =
        ZONES.iter().map(|z| Participant::new(*z, vec![]).with_hours(nine_to_five(z))).collect();
    let week = Interval::new(utc(7, 0), utc(12, 0)).expect("a week");
    assert_eq!(first_slot(&people, &week, Duration::minutes(30)).expect("ok"), None);
    let two = &people[..2];
    let slot = first_slot(two, &week, Duration::hours(2)).expect("ok").expect("a slot");
    assert_eq!((slot.start, slot.end), (utc(7, 14), utc(7, 16)));
    // Busy at 14:00–15:00 on Monday: two hours do not fit that day any more.
    let mut busy = two.to_vec();
    busy[0].busy.push(Interval::new(utc(7, 14), utc(7, 15)).expect("busy"));
    let slot = first_slot(&busy, &week, Duration::hours(2)).expect("ok").expect("a slot");
    assert_eq!(slot.start, utc(8, 14));
    assert!(
        free_slots(&busy, &Interval::new(utc(1, 0), utc(1, 0) + Duration::days(400)).expect("w"), Duration::zero())
            .is_err(),
        "bounded window"
    );
}

#[test]
fn busy_time_per_week_counts_overlaps_once_and_splits_at_mondays() {
    let utc = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).single().expect("a time");
    let busy = [
        Interval::new(utc(7, 9), utc(7, 11)).expect("a"),
        Interval::new(utc(7, 10), utc(7, 12)).expect("overlapping"),
        Interval::new(utc(13, 22), utc(14, 2)).expect("across Monday"),
    ];
    let weeks = busy_per_week(&busy);
    let monday = |d| chrono::NaiveDate::from_ymd_opt(2026, 12, d).expect("a date");
    assert_eq!(weeks, [(monday(7), Duration::hours(5)), (monday(14), Duration::hours(2))]);
}
