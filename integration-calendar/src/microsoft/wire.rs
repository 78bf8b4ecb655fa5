//! Microsoft Graph's event and calendar JSON and how it maps onto the common model
//! (<https://learn.microsoft.com/en-us/graph/api/resources/event>).
//!
//! Times: the adapter asks for them in UTC (`Prefer: outlook.timezone="UTC"`) and places each
//! in the zone the event was made in (`originalStartTimeZone`, a Windows or IANA name), so a
//! 09:00 meeting in Berlin reads as 09:00 `Europe/Berlin`. All-day events are dates.

use chrono::{DateTime, NaiveDateTime, Utc};
use integration_core::decode::Fields;
use integration_core::{Error, Result};
use serde_json::{Value, json};

use super::pattern;
use crate::prelude::*;
use crate::windows_zones;

/// The IANA zone a Graph `timeZone` names: a Windows name, an IANA name, or `UTC`.
pub(super) fn zone_of(name: &str) -> Option<(chrono_tz::Tz, String)> {
    let iana = windows_zones::iana(name).unwrap_or(name);
    let tz = crate::time::parse_zone(iana).ok()?;
    Some((tz, iana.to_owned()))
}

/// The name Graph is sent for IANA zone `zone`: its Windows name when it has one.
pub(super) fn graph_zone(zone: &str) -> String {
    windows_zones::windows(zone).unwrap_or(zone).to_owned()
}

/// A calendar.
pub(super) fn calendar(r: &Fields) -> Result<Remote<CalendarInfo>> {
    let role = if r.flag("canShare")?.unwrap_or(false) {
        AccessRole::Owner
    } else if r.flag("canEdit")?.unwrap_or(false) {
        AccessRole::Writer
    } else {
        AccessRole::Reader
    };
    let info = CalendarInfo {
        name: r.text("name")?.unwrap_or_default(),
        description: None,
        owner: r.text("owner.address")?,
        time_zone: None,
        access_role: Some(role),
        primary: r.flag("isDefaultCalendar")?.unwrap_or(false),
        color: r.text("hexColor")?.filter(|c| !c.is_empty()),
        version: r.text("changeKey")?,
    };
    Ok(Remote::new(r.id("id")?, info).with_remote_data(r.raw().clone()))
}

/// A `dateTime` as Graph writes it (`2026-12-07T08:00:00.0000000`, no offset).
fn local_time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// `start` or `end` (a `dateTimeTimeZone`): a date for an all-day event; else the instant,
/// placed in `display` (the event's own zone) when known.
fn time(r: &Fields, path: &str, all_day: bool, display: Option<&(chrono_tz::Tz, String)>) -> Result<Option<EventTime>> {
    let at = r.at(path);
    let Some(text) = at.text("dateTime")? else { return Ok(None) };
    let local = local_time(&text)
        .ok_or_else(|| Error::validation(format!("{path}.dateTime"), format!("{text:?} is not a date-time")))?;
    if all_day {
        return Ok(Some(EventTime::date(local.date())));
    }
    let zone = at.text("timeZone")?.unwrap_or_else(|| "UTC".into());
    let (tz, _) = zone_of(&zone)
        .ok_or_else(|| Error::validation(format!("{path}.timeZone"), format!("{zone:?} is not a zone known here")))?;
    let instant = chrono::TimeZone::from_local_datetime(&tz, &local)
        .earliest()
        .ok_or_else(|| Error::validation(format!("{path}.dateTime"), format!("{text} does not exist in {zone}")))?
        .to_utc();
    Ok(Some(match display {
        Some((tz, name)) => EventTime::zoned(instant.with_timezone(tz).naive_local(), name.clone()),
        None => EventTime::utc(instant),
    }))
}

/// A time as Graph is sent it, and whether it is all-day.
pub(super) fn time_json(time: &EventTime) -> Value {
    match time {
        EventTime::Date { date } => {
            json!({ "dateTime": format!("{}T00:00:00", date.format("%Y-%m-%d")), "timeZone": "UTC" })
        }
        EventTime::Local { date_time, zone: Some(zone) } => {
            json!({ "dateTime": date_time.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": graph_zone(zone) })
        }
        // Graph has no floating times: one is written as UTC wall-clock time.
        EventTime::Local { date_time, zone: None } => {
            json!({ "dateTime": date_time.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC" })
        }
        EventTime::Utc { at } => json!({ "dateTime": at.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC" }),
    }
}

fn response(text: &str) -> ResponseStatus {
    match text {
        "none" | "notResponded" => ResponseStatus::NeedsAction,
        "accepted" | "organizer" => ResponseStatus::Accepted,
        "declined" => ResponseStatus::Declined,
        "tentativelyAccepted" => ResponseStatus::Tentative,
        other => ResponseStatus::parse(other),
    }
}

fn person(r: &Fields) -> Result<Option<Attendee>> {
    let Some(email) = r.text("emailAddress.address")? else { return Ok(None) };
    Ok(Some(Attendee {
        email,
        name: r.text("emailAddress.name")?.filter(|n| !n.is_empty()),
        response: r.text("status.response")?.map(|s| response(&s)),
        optional: r.text("type")?.as_deref() == Some("optional"),
    }))
}

/// An event of `calendar`: a single event, a series (`seriesMaster`, its `recurrence` as an
/// `RRULE`), or one occurrence or exception of a series (`seriesMasterId`, `originalStart`);
/// a delta listing's `@removed` entry is a tombstone.
pub(super) fn event(r: &Fields, calendar: &str) -> Result<Remote<Event>> {
    let id = r.id("id")?;
    if r.get("@removed")?.is_some() {
        return Ok(Remote::deleted(id));
    }
    let all_day = r.flag("isAllDay")?.unwrap_or(false);
    let display = match r.text("originalStartTimeZone")? {
        Some(name) => zone_of(&name),
        None => None,
    };
    let start = time(r, "start", all_day, display.as_ref())?
        .ok_or_else(|| Error::validation("start", "required, but missing"))?;
    let end_display = match r.text("originalEndTimeZone")? {
        Some(name) => zone_of(&name).or(display.clone()),
        None => display.clone(),
    };
    let end = time(r, "end", all_day, end_display.as_ref())?.unwrap_or_else(|| start.clone());
    let series_zone = display.as_ref().map_or(chrono_tz::UTC, |(tz, _)| *tz);
    let recurrence = pattern::from_graph(&r.at("recurrence"), &start, series_zone)?;
    let original_start = match r.time("originalStart")? {
        Some(at) if all_day => Some(EventTime::date(at.with_timezone(&series_zone).date_naive())),
        Some(at) => Some(match &display {
            Some((tz, name)) => EventTime::zoned(at.with_timezone(tz).naive_local(), name.clone()),
            None => EventTime::utc(at),
        }),
        None => None,
    };
    let mut attendees = Vec::new();
    for attendee in r.items("attendees")? {
        attendees.extend(person(&attendee)?);
    }
    let mut reminders = Vec::new();
    if r.flag("isReminderOn")?.unwrap_or(false) {
        let minutes = r.parse("reminderMinutesBeforeStart", |t| {
            t.parse::<i64>().map(Some).map_err(|_| format!("{t:?} is not minutes"))
        })?;
        reminders.push(Reminder::display(minutes.unwrap_or(15)));
    }
    let free = r.text("showAs")?.as_deref() == Some("free");
    let event = Event {
        calendar_id: Some(calendar.to_owned()),
        uid: r.text("iCalUId")?.unwrap_or_else(|| id.clone()),
        summary: r.text("subject")?,
        description: r.text("body.content")?.filter(|c| !c.is_empty()),
        location: r.text("location.displayName")?.filter(|l| !l.is_empty()),
        start,
        end,
        recurrence,
        original_start,
        recurring_event_id: r.text("seriesMasterId")?,
        exceptions: Vec::new(),
        status: if r.flag("isCancelled")?.unwrap_or(false) { EventStatus::Cancelled } else { EventStatus::Confirmed },
        organizer: person(&r.at("organizer"))?,
        attendees,
        reminders,
        transparency: if free { Transparency::Free } else { Transparency::Busy },
        conference_url: r.text("onlineMeeting.joinUrl")?.or(r.text("onlineMeetingUrl")?),
        sequence: None,
        // A key with a dot: looked up as a key, not as a path.
        etag: r.raw().get("@odata.etag").and_then(Value::as_str).map(str::to_owned),
        updated: r.time("lastModifiedDateTime")?,
    };
    let updated = event.updated;
    Ok(Remote::new(id, event).modified(updated).with_remote_data(r.raw().clone()))
}

/// `event` as Graph's JSON for a create (with its `transactionId`) or an update.
///
/// # Errors
/// A `Validation` error for a recurrence Graph cannot represent.
pub(super) fn event_json(event: &Event, transaction: Option<&str>) -> Result<Value> {
    let mut body = json!({
        "start": time_json(&event.start),
        "end": time_json(&event.end),
        "isAllDay": event.start.is_date(),
        "showAs": if event.transparency == Transparency::Free { "free" } else { "busy" },
    });
    if let Some(transaction) = transaction {
        body["transactionId"] = json!(transaction);
    }
    if let Some(summary) = &event.summary {
        body["subject"] = json!(summary);
    }
    if let Some(description) = &event.description {
        body["body"] = json!({ "contentType": "text", "content": description });
    }
    if let Some(location) = &event.location {
        body["location"] = json!({ "displayName": location });
    }
    if let Some(recurrence) = &event.recurrence {
        let (tz, zone) = match &event.start {
            EventTime::Local { zone: Some(zone), .. } => (crate::time::parse_zone(zone)?, graph_zone(zone)),
            _ => (chrono_tz::UTC, "UTC".to_owned()),
        };
        body["recurrence"] = pattern::to_graph(recurrence, &event.start, &zone, tz)?;
    }
    if !event.attendees.is_empty() {
        let attendees: Vec<Value> = event
            .attendees
            .iter()
            .map(|a| {
                let mut address = json!({ "address": a.email });
                if let Some(name) = &a.name {
                    address["name"] = json!(name);
                }
                json!({ "emailAddress": address, "type": if a.optional { "optional" } else { "required" } })
            })
            .collect();
        body["attendees"] = json!(attendees);
    }
    if let Some(reminder) = event.reminders.iter().min_by_key(|r| r.minutes_before) {
        body["isReminderOn"] = json!(true);
        body["reminderMinutesBeforeStart"] = json!(reminder.minutes_before);
    }
    Ok(body)
}

/// `at` as Graph's query parameters want it.
pub(super) fn iso(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn value() -> impl Strategy<Value = Value> {
        crate::json_strategy::field_value(vec![
            "2026-12-07T09:00:00.0000000",
            "2026-12-07T09:00:00Z",
            "W. Europe Standard Time",
            "Europe/Berlin",
            "tzone://Microsoft/Custom",
            "UTC",
            "free",
            "tentativelyAccepted",
            "seriesMaster",
        ])
    }

    proptest! {
        /// Whatever Graph's JSON holds in an event's fields: an event, a tombstone, or an error
        /// naming the field — never a panic.
        #[test]
        fn any_event_json_is_mapped_or_refused(
            start in value(), zone in value(), end in value(), all_day in value(), original in value(),
            original_zone in value(), show_as in value(), response in value(), minutes in value(), id in value(),
            removed in any::<bool>(),
        ) {
            let mut raw = json!({
                "id": id, "subject": "x", "isAllDay": all_day, "showAs": show_as,
                "start": {"dateTime": start, "timeZone": zone}, "end": {"dateTime": end, "timeZone": zone},
                "originalStartTimeZone": original_zone, "originalStart": original,
                "attendees": [{"emailAddress": {"address": "kai@example.com"}, "status": {"response": response}}],
                "isReminderOn": true, "reminderMinutesBeforeStart": minutes,
            });
            if removed {
                raw["@removed"] = json!({"reason": "deleted"});
            }
            if let Ok(event) = map_one(&raw, "id", |r| event(r, "calendar")) {
                prop_assert!(event.remote_was_deleted || event.fields.calendar_id.as_deref() == Some("calendar"));
            }
        }
    }

    #[test]
    fn times_are_placed_in_the_zone_the_event_was_made_in() {
        let raw = json!({"id": "e1", "@odata.etag": "W/\"1\"", "originalStartTimeZone": "W. Europe Standard Time",
                         "start": {"dateTime": "2026-12-07T08:00:00.0000000", "timeZone": "UTC"},
                         "end": {"dateTime": "2026-12-07T09:00:00.0000000", "timeZone": "UTC"}});
        let mapped = map_one(&raw, "id", |r| event(r, "c")).expect("mapped");
        let nine = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).and_then(|d| d.and_hms_opt(9, 0, 0)).expect("t");
        assert_eq!(mapped.fields.start, EventTime::zoned(nine, "Europe/Berlin"));
        assert_eq!(mapped.fields.etag.as_deref(), Some("W/\"1\""));
        assert_eq!(
            time_json(&mapped.fields.start),
            json!({"dateTime": "2026-12-07T09:00:00", "timeZone": "W. Europe Standard Time"})
        );
        // A custom zone Graph cannot name: the instant, in UTC.
        let custom = json!({"id": "e2", "originalStartTimeZone": "tzone://Microsoft/Custom",
                            "start": {"dateTime": "2026-12-07T08:00:00.0000000", "timeZone": "UTC"}});
        let mapped = map_one(&custom, "id", |r| event(r, "c")).expect("mapped");
        assert!(matches!(mapped.fields.start, EventTime::Utc { .. }));
        let gone = map_one(&json!({"id": "e3", "@removed": {"reason": "deleted"}}), "id", |r| event(r, "c"))
            .expect("a tombstone");
        assert!(gone.remote_was_deleted);
    }
}
