//! Recurrence as Microsoft Graph writes it — a `patternedRecurrence`: a pattern (`daily`,
//! `weekly`, `absoluteMonthly`, `relativeMonthly`, `absoluteYearly`, `relativeYearly`, with an
//! interval, days of the week, a day of the month, a month, an index) and a range (`noEnd`,
//! `endDate`, `numbered`) — and the `RRULE` each stands for
//! (<https://learn.microsoft.com/en-us/graph/api/resources/patternedrecurrence>).
//!
//! The `RRULE`s read are in one canonical form: parts in the order `FREQ`, `INTERVAL` (when
//! not 1), `BYDAY`, `BYMONTHDAY`, `BYMONTH`, `BYSETPOS`, `WKST`, then `COUNT` or `UNTIL`; a part
//! that only repeats what the series' start says (a weekly series on its start's weekday) is
//! left out, so `FREQ=WEEKLY;COUNT=4` written is `FREQ=WEEKLY;COUNT=4` read.

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Weekday};
use integration_core::decode::Fields;
use integration_core::{Error, Result};
use serde_json::{Value, json};

use crate::model::Recurrence;
use crate::time::EventTime;

const DAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "MO", "monday"),
    (Weekday::Tue, "TU", "tuesday"),
    (Weekday::Wed, "WE", "wednesday"),
    (Weekday::Thu, "TH", "thursday"),
    (Weekday::Fri, "FR", "friday"),
    (Weekday::Sat, "SA", "saturday"),
    (Weekday::Sun, "SU", "sunday"),
];

const INDEXES: [(i32, &str); 5] = [(1, "first"), (2, "second"), (3, "third"), (4, "fourth"), (-1, "last")];

fn refused(message: impl Into<String>) -> Error {
    Error::validation("RRULE", message)
}

fn day_of(code: &str) -> Option<Weekday> {
    DAYS.iter().find(|(_, c, _)| c.eq_ignore_ascii_case(code)).map(|(d, _, _)| *d)
}

fn graph_day(day: Weekday) -> &'static str {
    DAYS.iter().find(|(d, _, _)| *d == day).map_or("monday", |(_, _, name)| name)
}

fn rrule_day(day: Weekday) -> &'static str {
    DAYS.iter().find(|(d, _, _)| *d == day).map_or("MO", |(_, code, _)| code)
}

/// A `BYDAY` entry: an optional ordinal and a day (`-1FR`, `TU`).
fn by_day(entry: &str) -> Result<(Option<i32>, Weekday)> {
    let split = entry.len().saturating_sub(2);
    let (ordinal, code) = entry.split_at_checked(split).ok_or_else(|| refused(format!("BYDAY {entry:?}")))?;
    let day = day_of(code).ok_or_else(|| refused(format!("{entry:?} is not a BYDAY day")))?;
    let ordinal = match ordinal.trim_start_matches('+') {
        "" => None,
        n => Some(n.parse::<i32>().map_err(|_| refused(format!("{entry:?} is not a BYDAY day")))?),
    };
    Ok((ordinal, day))
}

fn graph_index(ordinal: i32) -> Result<&'static str> {
    INDEXES.iter().find(|(n, _)| *n == ordinal).map(|(_, name)| *name).ok_or_else(|| {
        refused(format!(
            "Microsoft Graph names the first to fourth or the last weekday of a month, not number {ordinal}"
        ))
    })
}

/// `recurrence` (one `RRULE`, no `RDATE` or `EXDATE`) as a `patternedRecurrence` for a series
/// starting at `start`, its range in `zone` (a name Graph accepts).
///
/// # Errors
/// A `Validation` error naming what Graph cannot represent: several rules, extra or excluded
/// dates (delete an occurrence after the series is made), `HOURLY` and finer frequencies,
/// `BYHOUR`, `BYWEEKNO`, `BYYEARDAY`, several months or days of the month, ordinals other than
/// 1–4 and -1.
pub(crate) fn to_graph(recurrence: &Recurrence, start: &EventTime, zone: &str, tz: chrono_tz::Tz) -> Result<Value> {
    if !recurrence.dates.is_empty() {
        return Err(Error::validation(
            "RDATE",
            "Microsoft Graph series have no extra dates: make them events of their own",
        ));
    }
    if !recurrence.exceptions.is_empty() {
        return Err(Error::validation(
            "EXDATE",
            "Microsoft Graph series are made without excluded dates: delete the occurrence after the series is made",
        ));
    }
    let [rule] = recurrence.rules.as_slice() else {
        return Err(refused("Microsoft Graph series follow exactly one rule"));
    };
    let (mut freq, mut interval, mut count, mut until) = (None, 1u32, None, None);
    let (mut days, mut month_days, mut months, mut set_pos, mut week_start) =
        (Vec::new(), Vec::new(), Vec::new(), None, Weekday::Mon);
    for part in rule.split(';').filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').ok_or_else(|| refused(format!("{part:?} is not KEY=VALUE")))?;
        let number = |v: &str| v.parse::<i64>().map_err(|_| refused(format!("{key}={v} is not a number")));
        match key.to_ascii_uppercase().as_str() {
            "FREQ" => freq = Some(value.to_ascii_uppercase()),
            "INTERVAL" => {
                interval =
                    u32::try_from(number(value)?).ok().filter(|n| *n >= 1).ok_or_else(|| refused("INTERVAL below 1"))?
            }
            "COUNT" => count = Some(number(value)?),
            "UNTIL" => until = Some(value.to_owned()),
            "BYDAY" => days = value.split(',').map(by_day).collect::<Result<_>>()?,
            "BYMONTHDAY" => month_days = value.split(',').map(number).collect::<Result<_>>()?,
            "BYMONTH" => months = value.split(',').map(number).collect::<Result<_>>()?,
            "BYSETPOS" => set_pos = Some(number(value)?),
            "WKST" => week_start = day_of(value).ok_or_else(|| refused(format!("WKST={value}")))?,
            other => {
                return Err(refused(format!("Microsoft Graph has no pattern for {other}")));
            }
        }
    }
    let local = start.instant(tz)?.with_timezone(&tz).date_naive();
    let start_date = match start {
        EventTime::Date { date } => *date,
        _ => local,
    };
    let plain_days = |days: &[(Option<i32>, Weekday)]| -> Result<Vec<&'static str>> {
        days.iter()
            .map(|(ordinal, day)| match ordinal {
                None => Ok(graph_day(*day)),
                Some(_) => Err(refused("an ordinal BYDAY belongs to a monthly or yearly rule")),
            })
            .collect()
    };
    let single = |values: &[i64], what: &str| -> Result<Option<i64>> {
        match values {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            _ => Err(refused(format!("Microsoft Graph repeats on one {what}, not several"))),
        }
    };
    let month_day = single(&month_days, "day of the month")?;
    if month_day.is_some_and(|d| !(1..=31).contains(&d)) {
        return Err(refused("Microsoft Graph repeats on days 1 to 31 of the month"));
    }
    // The relative part of a monthly or yearly rule: `BYDAY=2TU` or `BYDAY=MO,TU;BYSETPOS=2`.
    let relative = || -> Result<Option<(Vec<&'static str>, &'static str)>> {
        match (days.as_slice(), set_pos) {
            ([], None) => Ok(None),
            ([(Some(ordinal), day)], None) => Ok(Some((vec![graph_day(*day)], graph_index(*ordinal)?))),
            (days, Some(position)) if !days.is_empty() => {
                Ok(Some((plain_days(days)?, graph_index(i32::try_from(position).unwrap_or(0))?)))
            }
            _ => Err(refused("Microsoft Graph repeats on every given weekday only weekly")),
        }
    };
    let pattern = match freq.as_deref() {
        Some("DAILY") if days.is_empty() && month_days.is_empty() && months.is_empty() => {
            json!({"type": "daily", "interval": interval})
        }
        Some("WEEKLY") if month_days.is_empty() && months.is_empty() && set_pos.is_none() => {
            let days = if days.is_empty() { vec![graph_day(start_date.weekday())] } else { plain_days(&days)? };
            json!({"type": "weekly", "interval": interval, "daysOfWeek": days, "firstDayOfWeek": graph_day(week_start)})
        }
        Some("MONTHLY") if months.is_empty() => match (relative()?, month_day) {
            (Some(_), Some(_)) => {
                return Err(refused("Microsoft Graph repeats on a day of the month or a weekday, not both"));
            }
            (Some((days, index)), None) => {
                json!({"type": "relativeMonthly", "interval": interval, "daysOfWeek": days, "index": index})
            }
            (None, day) => json!({"type": "absoluteMonthly", "interval": interval,
                                  "dayOfMonth": day.unwrap_or(i64::from(start_date.day()))}),
        },
        Some("YEARLY") => {
            let month = single(&months, "month")?.unwrap_or(i64::from(start_date.month()));
            if !(1..=12).contains(&month) {
                return Err(refused("BYMONTH is 1 to 12"));
            }
            match (relative()?, month_day) {
                (Some(_), Some(_)) => {
                    return Err(refused("Microsoft Graph repeats on a day of the month or a weekday, not both"));
                }
                (Some((days, index)), None) => json!({"type": "relativeYearly", "interval": interval,
                                                      "daysOfWeek": days, "index": index, "month": month}),
                (None, day) => json!({"type": "absoluteYearly", "interval": interval, "month": month,
                                      "dayOfMonth": day.unwrap_or(i64::from(start_date.day()))}),
            }
        }
        Some(other @ ("DAILY" | "WEEKLY" | "MONTHLY")) => {
            return Err(refused(format!("Microsoft Graph has no {other} pattern with these parts: {rule}")));
        }
        Some(other) => {
            return Err(refused(format!("Microsoft Graph repeats daily, weekly, monthly or yearly, not {other}")));
        }
        None => return Err(refused("FREQ is required")),
    };
    let start_text = start_date.format("%Y-%m-%d").to_string();
    let range = match (count, until) {
        (Some(_), Some(_)) => return Err(refused("COUNT and UNTIL together")),
        (Some(n), None) => {
            let n = u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| refused("COUNT below 1"))?;
            json!({"type": "numbered", "startDate": start_text, "numberOfOccurrences": n, "recurrenceTimeZone": zone})
        }
        (None, Some(until)) => {
            let end = until_date(&until, tz)?;
            json!({"type": "endDate", "startDate": start_text, "endDate": end.format("%Y-%m-%d").to_string(),
                   "recurrenceTimeZone": zone})
        }
        (None, None) => json!({"type": "noEnd", "startDate": start_text, "recurrenceTimeZone": zone}),
    };
    Ok(json!({"pattern": pattern, "range": range}))
}

/// The local date of an `UNTIL` (a date, a UTC date-time or a floating one) in `tz`.
fn until_date(until: &str, tz: chrono_tz::Tz) -> Result<NaiveDate> {
    if let Ok(date) = NaiveDate::parse_from_str(until, "%Y%m%d") {
        return Ok(date);
    }
    let (text, utc) = match until.strip_suffix('Z') {
        Some(text) => (text, true),
        None => (until, false),
    };
    let local = chrono::NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S")
        .map_err(|_| refused(format!("UNTIL={until} is not a date or a date-time")))?;
    Ok(if utc { tz.from_utc_datetime(&local).date_naive() } else { local.date() })
}

/// The `RRULE` of Graph's `recurrence` (at `r`) for a series starting at `start`; `None`
/// when the event has none.
///
/// # Errors
/// A `Validation` error naming the field for a pattern or range that is not Graph's.
pub(crate) fn from_graph(r: &Fields, start: &EventTime, tz: chrono_tz::Tz) -> Result<Option<Recurrence>> {
    if r.get("pattern")?.is_none_or(Value::is_null) {
        return Ok(None);
    }
    let field = |name: &str| format!("recurrence.{name}");
    let start_date = match start {
        EventTime::Date { date } => *date,
        other => other.instant(tz)?.with_timezone(&tz).date_naive(),
    };
    let number = |path: &str| -> Result<Option<i64>> {
        r.parse(path, |t| t.parse::<i64>().map(Some).map_err(|_| format!("{t:?} is not a number")))
    };
    let kind = r.required_text("pattern.type")?;
    let interval = number("pattern.interval")?.unwrap_or(1).max(1);
    let mut days = Vec::new();
    for day in r.get("pattern.daysOfWeek")?.and_then(Value::as_array).into_iter().flatten() {
        let name = day.as_str().unwrap_or_default();
        let found = DAYS.iter().find(|(_, _, n)| n.eq_ignore_ascii_case(name)).map(|(d, _, _)| *d);
        days.push(
            found.ok_or_else(|| Error::validation(field("pattern.daysOfWeek"), format!("{name:?} is not a day")))?,
        );
    }
    let index = match r.text("pattern.index")? {
        None => 1,
        Some(name) => INDEXES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(&name))
            .map(|(i, _)| *i)
            .ok_or_else(|| Error::validation(field("pattern.index"), format!("{name:?} is not an index")))?,
    };
    let month = number("pattern.month")?.unwrap_or(0);
    let month_day = number("pattern.dayOfMonth")?.unwrap_or(0);
    let day_codes = |days: &[Weekday]| days.iter().map(|d| rrule_day(*d)).collect::<Vec<_>>().join(",");
    // `BYDAY=2TU`, or `BYDAY=MO,TU` with `BYSETPOS=2`; a yearly rule's `BYMONTH` between them.
    let relative = |days: &[Weekday], month: Option<i64>| {
        let month = month.map(|m| format!(";BYMONTH={m}")).unwrap_or_default();
        match days {
            [one] => format!(";BYDAY={index}{}{month}", rrule_day(*one)),
            many => format!(";BYDAY={}{month};BYSETPOS={index}", day_codes(many)),
        }
    };
    let mut rule = match kind.as_str() {
        "daily" => "FREQ=DAILY".to_owned(),
        "weekly" => "FREQ=WEEKLY".to_owned(),
        "absoluteMonthly" | "relativeMonthly" => "FREQ=MONTHLY".to_owned(),
        "absoluteYearly" | "relativeYearly" => "FREQ=YEARLY".to_owned(),
        other => return Err(Error::validation(field("pattern.type"), format!("{other:?} is not a Graph pattern"))),
    };
    if interval > 1 {
        rule.push_str(&format!(";INTERVAL={interval}"));
    }
    match kind.as_str() {
        "weekly" if days.is_empty() || days == [start_date.weekday()] => {}
        "weekly" => rule.push_str(&format!(";BYDAY={}", day_codes(&days))),
        "relativeMonthly" | "relativeYearly" if days.is_empty() => {
            return Err(Error::validation(field("pattern.daysOfWeek"), "a relative pattern needs its weekdays"));
        }
        "relativeMonthly" => rule.push_str(&relative(&days, None)),
        "relativeYearly" => {
            let month = if month > 0 { month } else { i64::from(start_date.month()) };
            rule.push_str(&relative(&days, Some(month)));
        }
        "absoluteMonthly" if month_day != i64::from(start_date.day()) && month_day > 0 => {
            rule.push_str(&format!(";BYMONTHDAY={month_day}"));
        }
        "absoluteYearly" => {
            let same = (month_day == 0 || month_day == i64::from(start_date.day()))
                && (month == 0 || month == i64::from(start_date.month()));
            if !same {
                let day = if month_day > 0 { month_day } else { i64::from(start_date.day()) };
                let month = if month > 0 { month } else { i64::from(start_date.month()) };
                rule.push_str(&format!(";BYMONTHDAY={day};BYMONTH={month}"));
            }
        }
        _ => {}
    }
    if kind == "weekly" && interval > 1 && days.len() > 1 {
        let first = r.text("pattern.firstDayOfWeek")?.unwrap_or_else(|| "sunday".into());
        let day = DAYS.iter().find(|(_, _, n)| n.eq_ignore_ascii_case(&first)).map_or(Weekday::Sun, |(d, _, _)| *d);
        if day != Weekday::Mon {
            rule.push_str(&format!(";WKST={}", rrule_day(day)));
        }
    }
    match r.text("range.type")?.as_deref() {
        Some("numbered") => {
            let n = number("range.numberOfOccurrences")?.filter(|n| *n >= 1).ok_or_else(|| {
                Error::validation(field("range.numberOfOccurrences"), "a numbered range needs a count")
            })?;
            rule.push_str(&format!(";COUNT={n}"));
        }
        Some("endDate") => {
            let end = r
                .date("range.endDate")?
                .ok_or_else(|| Error::validation(field("range.endDate"), "an endDate range needs its date"))?;
            match start {
                EventTime::Date { .. } => rule.push_str(&format!(";UNTIL={}", end.format("%Y%m%d"))),
                _ => {
                    // The range ends with its last day, in the series' zone.
                    let last = end.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default());
                    let at = tz.from_local_datetime(&last).latest().map(|t| t.to_utc());
                    let at = at.ok_or_else(|| Error::validation(field("range.endDate"), "not a time in the zone"))?;
                    rule.push_str(&format!(";UNTIL={}", at.format("%Y%m%dT%H%M%SZ")));
                }
            }
        }
        Some("noEnd") | None => {}
        Some(other) => return Err(Error::validation(field("range.type"), format!("{other:?} is not a Graph range"))),
    }
    Ok(Some(Recurrence::rule(rule)))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn start() -> EventTime {
        let at = NaiveDate::from_ymd_opt(2026, 12, 1).and_then(|d| d.and_hms_opt(9, 0, 0)).unwrap_or_default();
        EventTime::zoned(at, "Europe/Berlin")
    }

    fn graph(rule: &str) -> Result<Value> {
        to_graph(&Recurrence::rule(rule), &start(), "W. Europe Standard Time", chrono_tz::Europe::Berlin)
    }

    #[test]
    fn what_graph_cannot_hold_is_refused_naming_it() {
        for (rule, says) in [
            ("FREQ=HOURLY;COUNT=3", "HOURLY"),
            ("FREQ=DAILY;BYHOUR=9,17", "BYHOUR"),
            ("FREQ=MONTHLY;BYMONTHDAY=1,15", "several"),
            ("FREQ=MONTHLY;BYDAY=5MO", "number 5"),
            ("FREQ=YEARLY;BYMONTH=1,7", "several"),
            ("FREQ=MONTHLY;BYDAY=MO;BYMONTHDAY=3", "weekly"),
            ("FREQ=WEEKLY;COUNT=2;UNTIL=20270101", "together"),
        ] {
            let error = graph(rule).expect_err(rule);
            assert_eq!(error.field(), Some("RRULE"), "{rule}");
            assert!(error.message().contains(says), "{rule}: {error}");
        }
        let mut two = Recurrence::rule("FREQ=DAILY");
        two.rules.push("FREQ=WEEKLY".into());
        assert!(to_graph(&two, &start(), "UTC", chrono_tz::UTC).is_err());
        let mut excluded = Recurrence::rule("FREQ=DAILY");
        excluded.exceptions.push(start());
        let error = to_graph(&excluded, &start(), "UTC", chrono_tz::UTC).expect_err("EXDATE");
        assert_eq!(error.field(), Some("EXDATE"));
    }

    #[test]
    fn canonical_rules_come_back_as_they_went() {
        // 1 December 2026 is a Tuesday.
        for rule in [
            "FREQ=WEEKLY;COUNT=4",
            "FREQ=DAILY;INTERVAL=2",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;WKST=SU",
            "FREQ=WEEKLY;BYDAY=MO,FR;UNTIL=20270131T225959Z",
            "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=3",
            "FREQ=MONTHLY;BYDAY=-1FR",
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
            "FREQ=YEARLY",
            "FREQ=YEARLY;BYMONTHDAY=4;BYMONTH=7",
            "FREQ=YEARLY;BYDAY=4TH;BYMONTH=11",
        ] {
            let json = graph(rule).expect(rule);
            let back = from_graph(&Fields::new(&json), &start(), chrono_tz::Europe::Berlin).expect(rule);
            assert_eq!(back.map(|r| r.rules), Some(vec![rule.to_owned()]), "{json}");
        }
    }

    fn value() -> impl Strategy<Value = Value> {
        crate::json_strategy::field_value(vec![
            "daily",
            "weekly",
            "relativeMonthly",
            "absoluteYearly",
            "relativeYearly",
            "monday",
            "last",
            "numbered",
            "endDate",
            "noEnd",
            "2026-12-01",
            "2026-13-40",
        ])
    }

    proptest! {
        /// Whatever Graph's `recurrence` holds: an `RRULE` the recurrence module accepts, or an
        /// error naming the field — never a panic.
        #[test]
        fn any_graph_recurrence_is_mapped_or_refused(
            kind in value(), interval in value(), day in value(), index in value(), month in value(),
            month_day in value(), range in value(), count in value(), end in value(),
        ) {
            let json = json!({
                "pattern": {"type": kind, "interval": interval, "daysOfWeek": [day], "index": index,
                            "month": month, "dayOfMonth": month_day, "firstDayOfWeek": day},
                "range": {"type": range, "startDate": "2026-12-01", "numberOfOccurrences": count, "endDate": end},
            });
            match from_graph(&Fields::new(&json), &start(), chrono_tz::Europe::Berlin) {
                Ok(Some(recurrence)) => {
                    let mut event = crate::Event::new("x", start(), start().shifted(chrono::Duration::hours(1)));
                    event.recurrence = Some(recurrence);
                    // Mapped rules expand without error or are refused as RRULEs, bounded.
                    let window = crate::Interval::new(
                        chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
                        chrono::Utc.with_ymd_and_hms(2027, 12, 1, 0, 0, 0).unwrap(),
                    ).unwrap();
                    let _ = crate::recurrence::expand(&event, &window, chrono_tz::UTC, 500);
                }
                Ok(None) => {}
                Err(e) => prop_assert!(e.field().is_some_and(|f| ["recurrence", "pattern", "range"].iter().any(|p| f.starts_with(p))), "{e}"),
            }
        }
    }
}
