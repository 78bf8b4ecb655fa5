//! iCalendar (RFC 5545) objects read into [`Event`]s and written from them, through the
//! `icalendar` crate's parser and builder.
//!
//! Reading is tolerant where RFC 5545 allows it to be (unknown properties are skipped; the raw
//! text stays with the record) and strict where a wrong answer would follow (a start that is
//! not a date names `DTSTART`): an object that cannot be read is an error naming the property,
//! which a listing turns into a record rejected with its raw data.
//!
//! ```
//! use integration_calendar::ical;
//!
//! let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\nUID:standup-1\r\n\
//!             DTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261207T090000\r\nDURATION:PT15M\r\n\
//!             SUMMARY:Stand-up\\, daily\r\nRRULE:FREQ=DAILY;COUNT=5\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
//! let events = ical::parse(text)?;
//! assert_eq!(events[0].summary.as_deref(), Some("Stand-up, daily"));
//! assert_eq!(events[0].recurrence.as_ref().unwrap().rules, ["FREQ=DAILY;COUNT=5"]);
//! let again = ical::parse(&ical::write(&events[0]))?;
//! assert_eq!(again[0], events[0]);
//! # Ok::<(), integration_core::Error>(())
//! ```

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use icalendar::parser::{Component, Property, read_calendar, unfold};
use icalendar::{Component as _, EventLike as _};
use integration_core::{Error, Result};

use crate::model::{Attendee, Event, Recurrence, Reminder};
use crate::time::{EventTime, parse_zone};
use crate::vocabulary::{EventStatus, ResponseStatus, Transparency};

/// The largest iCalendar object read (a bigger one is refused).
pub const MAX_OBJECT_BYTES: usize = 1 << 20;

/// The most events one object may hold (a series and its exceptions).
pub const MAX_EVENTS: usize = 1_000;

fn refuse(property: &str, message: impl Into<String>) -> Error {
    Error::validation(property.to_owned(), message.into())
}

/// The events of an iCalendar object: each series with its exceptions (the `VEVENT`s sharing
/// its `UID` with a `RECURRENCE-ID`) inside it; an exception whose series is not in the object
/// stands alone, its `original_start` set.
///
/// # Errors
/// A `Validation` error naming the property that could not be read (`DTSTART`, `UID`,
/// `RRULE`…), or `VCALENDAR` for text that is not iCalendar.
pub fn parse(text: &str) -> Result<Vec<Event>> {
    if text.len() > MAX_OBJECT_BYTES {
        return Err(refuse("VCALENDAR", format!("an object larger than {MAX_OBJECT_BYTES} bytes")));
    }
    let unfolded = unfold(text);
    let calendar = read_calendar(&unfolded).map_err(|e| {
        let first = e.lines().take(3).collect::<Vec<_>>().join(" ");
        refuse("VCALENDAR", format!("not an iCalendar object: {}", first.chars().take(300).collect::<String>()))
    })?;
    let vevents: Vec<&Component<'_>> =
        calendar.components.iter().filter(|c| c.name.as_str().eq_ignore_ascii_case("VEVENT")).collect();
    if vevents.len() > MAX_EVENTS {
        return Err(refuse("VEVENT", format!("more than {MAX_EVENTS} events in one object")));
    }
    let mut masters: Vec<Event> = Vec::new();
    let mut exceptions: Vec<Event> = Vec::new();
    for component in vevents {
        let event = vevent(component)?;
        if event.original_start.is_some() { exceptions.push(event) } else { masters.push(event) }
    }
    for exception in exceptions {
        match masters.iter_mut().find(|m| m.uid == exception.uid && m.recurrence.is_some()) {
            Some(master) => master.exceptions.push(exception),
            None => masters.push(exception),
        }
    }
    Ok(masters)
}

/// A property's value (the parser has already unescaped TEXT values).
fn text(property: &Property<'_>) -> String {
    property.val.as_str().to_owned()
}

fn param<'a>(property: &'a Property<'_>, key: &str) -> Option<&'a str> {
    property.params.iter().find(|p| p.key.as_str().eq_ignore_ascii_case(key)).and_then(|p| p.val.as_ref()).map(|v| {
        let v = v.as_str();
        v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v)
    })
}

/// A `TZID` as an IANA zone: as written, or its IANA tail (`/mozilla.org/…/Europe/Berlin`).
fn zone_name(tzid: &str, property: &str) -> Result<String> {
    let mut rest = tzid.trim();
    loop {
        if parse_zone(rest).is_ok() {
            return Ok(rest.to_owned());
        }
        match rest.split_once('/') {
            Some((_, tail)) if !tail.is_empty() => rest = tail,
            _ => return Err(refuse(property, format!("time zone {tzid:?} is not an IANA zone"))),
        }
    }
}

/// One date or date-time value (`20261207`, `20261207T090000`, `20261207T090000Z`) with the
/// property's `VALUE` and `TZID`.
fn time_value(value: &str, property: &Property<'_>, name: &str) -> Result<EventTime> {
    let value = value.trim();
    let is_date = param(property, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE")) || value.len() == 8;
    if is_date {
        let date = NaiveDate::parse_from_str(value, "%Y%m%d")
            .map_err(|_| refuse(name, format!("{value:?} is not a date (YYYYMMDD)")))?;
        return Ok(EventTime::date(date));
    }
    let (local, utc) = match value.strip_suffix('Z').or_else(|| value.strip_suffix('z')) {
        Some(local) => (local, true),
        None => (value, false),
    };
    let date_time = NaiveDateTime::parse_from_str(local, "%Y%m%dT%H%M%S")
        .map_err(|_| refuse(name, format!("{value:?} is not a date-time (YYYYMMDDTHHMMSS[Z])")))?;
    if utc {
        return Ok(EventTime::utc(DateTime::from_naive_utc_and_offset(date_time, Utc)));
    }
    Ok(match param(property, "TZID") {
        Some(tzid) => EventTime::zoned(date_time, zone_name(tzid, name)?),
        None => EventTime::Local { date_time, zone: None },
    })
}

/// An RFC 5545 duration (`P1D`, `PT1H30M`, `-PT15M`, `P2W`).
///
/// # Errors
/// A `Validation` error naming `property`.
pub fn parse_duration(value: &str, property: &str) -> Result<Duration> {
    let bad = || refuse(property, format!("{value:?} is not a duration (P1D, PT1H30M…)"));
    let value = value.trim();
    let (negative, rest) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    let rest = rest.strip_prefix('P').ok_or_else(bad)?;
    let (mut total, mut number, mut in_time, mut any) = (0_i64, String::new(), false, false);
    for c in rest.chars() {
        match c {
            'T' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' if number.len() < 9 => number.push(c),
            'W' | 'D' | 'H' | 'M' | 'S' => {
                let n: i64 = number.parse().map_err(|_| bad())?;
                let unit = match (c, in_time) {
                    ('W', false) => 7 * 86_400,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return Err(bad()),
                };
                total = total.checked_add(n * unit).ok_or_else(bad)?;
                (number, any) = (String::new(), true);
            }
            _ => return Err(bad()),
        }
    }
    if !any || !number.is_empty() {
        return Err(bad());
    }
    Ok(Duration::seconds(if negative { -total } else { total }))
}

fn times(property: &Property<'_>, name: &str) -> Result<Vec<EventTime>> {
    // A PERIOD (`start/end`) counts by its start.
    property
        .val
        .as_str()
        .split(',')
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            let start = v.split('/').next().unwrap_or(v);
            time_value(start, property, name)
        })
        .collect()
}

fn person(property: &Property<'_>) -> Attendee {
    let value = property.val.as_str().trim();
    let email = value.strip_prefix("mailto:").or_else(|| value.strip_prefix("MAILTO:")).unwrap_or(value);
    Attendee {
        email: email.to_owned(),
        name: param(property, "CN").map(str::to_owned),
        response: param(property, "PARTSTAT").map(|p| ResponseStatus::parse(&p.to_ascii_lowercase().replace('-', "_"))),
        optional: param(property, "ROLE").is_some_and(|r| r.eq_ignore_ascii_case("OPT-PARTICIPANT")),
    }
}

fn reminder(alarm: &Component<'_>) -> Option<Reminder> {
    let trigger = alarm.properties.iter().find(|p| p.name.as_str().eq_ignore_ascii_case("TRIGGER"))?;
    let before = parse_duration(trigger.val.as_str(), "TRIGGER").ok()?;
    let method = alarm
        .properties
        .iter()
        .find(|p| p.name.as_str().eq_ignore_ascii_case("ACTION"))
        .map_or_else(|| "display".to_owned(), |p| p.val.as_str().trim().to_ascii_lowercase());
    Some(Reminder { minutes_before: -before.num_minutes(), method })
}

fn vevent(component: &Component<'_>) -> Result<Event> {
    let mut event = Event::default();
    let (mut start, mut end, mut duration) = (None, None, None);
    let mut recurrence = Recurrence::default();
    for property in &component.properties {
        let name = property.name.as_str().to_ascii_uppercase();
        let value = property.val.as_str();
        match name.as_str() {
            "UID" => event.uid = text(property),
            "SUMMARY" => event.summary = Some(text(property)),
            "DESCRIPTION" => event.description = Some(text(property)),
            "LOCATION" => event.location = Some(text(property)),
            "DTSTART" => start = Some(time_value(value, property, "DTSTART")?),
            "DTEND" => end = Some(time_value(value, property, "DTEND")?),
            "DURATION" => duration = Some(parse_duration(value, "DURATION")?),
            "RECURRENCE-ID" => event.original_start = Some(time_value(value, property, "RECURRENCE-ID")?),
            "RRULE" => {
                if value.len() > crate::recurrence::MAX_RULE_LEN {
                    return Err(refuse("RRULE", "a rule longer than 1000 characters"));
                }
                recurrence.rules.push(value.trim().to_owned());
            }
            "RDATE" => recurrence.dates.extend(times(property, "RDATE")?),
            "EXDATE" => recurrence.exceptions.extend(times(property, "EXDATE")?),
            "STATUS" => event.status = EventStatus::parse(&value.trim().to_ascii_lowercase()),
            "TRANSP" => {
                event.transparency = if value.trim().eq_ignore_ascii_case("TRANSPARENT") {
                    Transparency::Free
                } else {
                    Transparency::Busy
                };
            }
            "ORGANIZER" => event.organizer = Some(person(property)),
            "ATTENDEE" => event.attendees.push(person(property)),
            "SEQUENCE" => {
                event.sequence =
                    Some(value.trim().parse().map_err(|_| refuse("SEQUENCE", format!("{value:?} is not a number")))?);
            }
            "LAST-MODIFIED" => {
                if let EventTime::Utc { at } = time_value(value, property, "LAST-MODIFIED")? {
                    event.updated = Some(at);
                }
            }
            "CONFERENCE" | "X-GOOGLE-CONFERENCE" => event.conference_url = Some(value.trim().to_owned()),
            "URL" if event.conference_url.is_none() => event.conference_url = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    if event.uid.trim().is_empty() {
        return Err(refuse("UID", "an event has a UID"));
    }
    let start = start.ok_or_else(|| refuse("DTSTART", "an event has a start"))?.clone();
    event.end = match (end, duration) {
        (Some(end), _) => end,
        (None, Some(duration)) => start.shifted(duration),
        // RFC 5545 §3.6.1: a date lasts the day; a date-time, no time.
        (None, None) if start.is_date() => start.shifted(Duration::days(1)),
        (None, None) => start.clone(),
    };
    if start.is_date() != event.end.is_date() {
        return Err(refuse("DTEND", "a date start needs a date end, a date-time start a date-time end"));
    }
    event.start = start;
    event.reminders = component
        .components
        .iter()
        .filter(|c| c.name.as_str().eq_ignore_ascii_case("VALARM"))
        .filter_map(reminder)
        .collect();
    if !recurrence.rules.is_empty() || !recurrence.dates.is_empty() {
        event.recurrence = Some(recurrence);
    }
    Ok(event)
}

fn time_property(name: &str, time: &EventTime) -> icalendar::Property {
    let mut property = match time {
        EventTime::Date { date } => {
            let mut p = icalendar::Property::new(name, date.format("%Y%m%d").to_string());
            p.add_parameter("VALUE", "DATE");
            p
        }
        EventTime::Local { date_time, zone } => {
            let mut p = icalendar::Property::new(name, date_time.format("%Y%m%dT%H%M%S").to_string());
            if let Some(zone) = zone {
                p.add_parameter("TZID", zone);
            }
            p
        }
        EventTime::Utc { at } => icalendar::Property::new(name, at.format("%Y%m%dT%H%M%SZ").to_string()),
    };
    property.done()
}

fn times_property(name: &str, times: &[EventTime]) -> Option<icalendar::Property> {
    let first = times.first()?;
    let mut property = time_property(name, first);
    let value: Vec<String> = times.iter().map(|t| time_property(name, t).value().to_owned()).collect();
    let mut list = icalendar::Property::new(name, value.join(","));
    for (key, parameter) in property.params() {
        list.add_parameter(key, parameter.value());
    }
    property = list;
    Some(property)
}

fn person_property(name: &str, person: &Attendee) -> icalendar::Property {
    let mut property = icalendar::Property::new(name, format!("mailto:{}", person.email));
    if let Some(cn) = &person.name {
        property.add_parameter("CN", cn);
    }
    if let Some(response) = &person.response {
        property.add_parameter("PARTSTAT", &response.as_str().to_ascii_uppercase().replace('_', "-"));
    }
    if person.optional {
        property.add_parameter("ROLE", "OPT-PARTICIPANT");
    }
    property.done()
}

fn to_vevent(event: &Event) -> icalendar::Event {
    let mut vevent = icalendar::Event::new();
    vevent.uid(&event.uid).timestamp(Utc::now());
    vevent.append_property(time_property("DTSTART", &event.start));
    vevent.append_property(time_property("DTEND", &event.end));
    if let Some(original) = &event.original_start {
        vevent.append_property(time_property("RECURRENCE-ID", original));
    }
    if let Some(summary) = &event.summary {
        vevent.summary(summary);
    }
    if let Some(description) = &event.description {
        vevent.description(description);
    }
    if let Some(location) = &event.location {
        vevent.location(location);
    }
    if let Some(recurrence) = &event.recurrence {
        for rule in &recurrence.rules {
            vevent.append_multi_property(icalendar::Property::new("RRULE", rule.as_str()));
        }
        for (name, list) in [("RDATE", &recurrence.dates), ("EXDATE", &recurrence.exceptions)] {
            for time in list {
                if let Some(property) = times_property(name, std::slice::from_ref(time)) {
                    vevent.append_multi_property(property);
                }
            }
        }
    }
    vevent.add_property("STATUS", event.status.as_str().to_ascii_uppercase());
    vevent.add_property("TRANSP", if event.transparency == Transparency::Free { "TRANSPARENT" } else { "OPAQUE" });
    if let Some(organizer) = &event.organizer {
        vevent.append_property(person_property("ORGANIZER", organizer));
    }
    for attendee in &event.attendees {
        vevent.append_multi_property(person_property("ATTENDEE", attendee));
    }
    if let Some(sequence) = event.sequence {
        vevent.sequence(sequence);
    }
    if let Some(url) = &event.conference_url {
        vevent
            .append_property(icalendar::Property::new("CONFERENCE", url.as_str()).add_parameter("VALUE", "URI").done());
    }
    for reminder in &event.reminders {
        let trigger = icalendar::Alarm::display(
            event.summary.as_deref().unwrap_or("Reminder"),
            -Duration::minutes(reminder.minutes_before),
        );
        vevent.alarm(trigger);
    }
    vevent.done()
}

/// `event` (with its exceptions) as an iCalendar object.
pub fn write(event: &Event) -> String {
    let mut calendar = icalendar::Calendar::empty();
    calendar.append_property(icalendar::Property::new("VERSION", "2.0"));
    calendar.append_property(icalendar::Property::new("PRODID", "-//integrations//calendar//EN"));
    calendar.push(to_vevent(event));
    for exception in &event.exceptions {
        let mut exception = exception.clone();
        exception.uid.clone_from(&event.uid);
        calendar.push(to_vevent(&exception));
    }
    calendar.done().to_string()
}

/// A recurrence from iCalendar property lines as APIs carry them (Google's `recurrence`:
/// `RRULE:FREQ=WEEKLY`, `EXDATE;TZID=Europe/Berlin:20261221T100000`, `RDATE;VALUE=DATE:…`).
///
/// # Errors
/// A `Validation` error naming the property, or `recurrence` for a line with a line break.
pub fn parse_recurrence_lines(lines: &[String]) -> Result<Recurrence> {
    if lines.iter().any(|l| l.contains(['\r', '\n'])) {
        return Err(refuse("recurrence", "a recurrence line holds a line break"));
    }
    let text = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:recurrence\r\nDTSTART:19700101T000000Z\r\n{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        lines.join("\r\n")
    );
    Ok(parse(&text)?.into_iter().next().and_then(|e| e.recurrence).unwrap_or_default())
}

/// One time as an iCalendar property line (`EXDATE;TZID=Europe/Berlin:20261221T100000`).
fn time_line(name: &str, time: &EventTime) -> String {
    match time {
        EventTime::Date { date } => format!("{name};VALUE=DATE:{}", date.format("%Y%m%d")),
        EventTime::Local { date_time, zone: Some(zone) } => {
            format!("{name};TZID={zone}:{}", date_time.format("%Y%m%dT%H%M%S"))
        }
        EventTime::Local { date_time, zone: None } => format!("{name}:{}", date_time.format("%Y%m%dT%H%M%S")),
        EventTime::Utc { at } => format!("{name}:{}", at.format("%Y%m%dT%H%M%SZ")),
    }
}

/// A recurrence as iCalendar property lines: the inverse of [`parse_recurrence_lines`].
pub fn recurrence_lines(recurrence: &Recurrence) -> Vec<String> {
    let rules = recurrence.rules.iter().map(|r| format!("RRULE:{}", r.trim().trim_start_matches("RRULE:")));
    let dates = recurrence.dates.iter().map(|t| time_line("RDATE", t));
    let exceptions = recurrence.exceptions.iter().map(|t| time_line("EXDATE", t));
    rules.chain(dates).chain(exceptions).collect()
}
