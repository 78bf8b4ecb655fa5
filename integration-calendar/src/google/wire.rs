//! Google Calendar's JSON and how it maps onto the common model.

use chrono::{DateTime, Utc};
use integration_core::decode::Fields;
use integration_core::{Error, Result};
use serde_json::{Value, json};

use crate::ical;
use crate::prelude::*;

/// A calendar-list entry.
pub(super) fn calendar(r: &Fields) -> Result<Remote<CalendarInfo>> {
    let role = r.text("accessRole")?.map(|role| match role.as_str() {
        "freeBusyReader" => AccessRole::FreeBusyReader,
        "reader" => AccessRole::Reader,
        "writer" => AccessRole::Writer,
        "owner" => AccessRole::Owner,
        other => AccessRole::parse(other),
    });
    let info = CalendarInfo {
        name: r.text("summaryOverride")?.or(r.text("summary")?).unwrap_or_default(),
        description: r.text("description")?,
        owner: None,
        time_zone: r.text("timeZone")?,
        access_role: role,
        primary: r.flag("primary")?.unwrap_or(false),
        color: r.text("backgroundColor")?,
        version: r.text("etag")?,
    };
    Ok(Remote::new(r.id("id")?, info).with_remote_data(r.raw().clone()))
}

/// A `start` / `end` / `originalStartTime`: `{date}` or `{dateTime, timeZone}`.
fn time(r: &Fields, path: &str) -> Result<Option<EventTime>> {
    let at = r.at(path);
    if let Some(date) = at.date("date")? {
        return Ok(Some(EventTime::date(date)));
    }
    let Some(instant) = at.time("dateTime")? else { return Ok(None) };
    Ok(Some(match at.text("timeZone")? {
        Some(zone) => {
            let tz = crate::time::parse_zone(&zone)
                .map_err(|e| Error::validation(format!("{path}.timeZone"), e.message().to_owned()))?;
            EventTime::zoned(instant.with_timezone(&tz).naive_local(), zone)
        }
        None => EventTime::utc(instant),
    }))
}

/// A time as Google writes it.
pub(super) fn time_json(time: &EventTime) -> Value {
    match time {
        EventTime::Date { date } => json!({ "date": date.format("%Y-%m-%d").to_string() }),
        EventTime::Local { date_time, zone: Some(zone) } => {
            json!({ "dateTime": date_time.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": zone })
        }
        // Google has no floating times: one is written as UTC wall-clock time.
        EventTime::Local { date_time, zone: None } => {
            json!({ "dateTime": date_time.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC" })
        }
        EventTime::Utc { at } => json!({ "dateTime": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) }),
    }
}

fn response(text: &str) -> ResponseStatus {
    match text {
        "needsAction" => ResponseStatus::NeedsAction,
        "accepted" => ResponseStatus::Accepted,
        "declined" => ResponseStatus::Declined,
        "tentative" => ResponseStatus::Tentative,
        other => ResponseStatus::parse(other),
    }
}

fn response_json(status: &ResponseStatus) -> &str {
    match status {
        ResponseStatus::NeedsAction => "needsAction",
        ResponseStatus::Accepted => "accepted",
        ResponseStatus::Declined => "declined",
        ResponseStatus::Tentative => "tentative",
        other => other.as_str(),
    }
}

fn person(r: &Fields) -> Result<Option<Attendee>> {
    let Some(email) = r.text("email")? else { return Ok(None) };
    Ok(Some(Attendee {
        email,
        name: r.text("displayName")?,
        response: r.text("responseStatus")?.map(|s| response(&s)),
        optional: r.flag("optional")?.unwrap_or(false),
    }))
}

/// An event of `calendar`. A deletion (`status: cancelled` of an event that is not an
/// exception of a series) is a tombstone; a cancelled exception is kept, cancelled.
pub(super) fn event(r: &Fields, calendar: &str) -> Result<Remote<Event>> {
    let id = r.id("id")?;
    let remote_id = format!("{calendar}/{id}");
    let status = r.text("status")?.map(|s| EventStatus::parse(&s)).unwrap_or(EventStatus::Confirmed);
    let original_start = time(r, "originalStartTime")?;
    if status == EventStatus::Cancelled && original_start.is_none() && r.get("start")?.is_none() {
        return Ok(Remote::deleted(remote_id));
    }
    let start = time(r, "start")?.ok_or_else(|| Error::validation("start", "required, but missing"))?;
    let end = time(r, "end")?.unwrap_or_else(|| start.clone());
    let lines: Vec<String> = match r.get("recurrence")? {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let recurrence = if lines.is_empty() { None } else { Some(ical::parse_recurrence_lines(&lines)?) };
    let mut attendees = Vec::new();
    for attendee in r.items("attendees")? {
        attendees.extend(person(&attendee)?);
    }
    let mut reminders = Vec::new();
    for reminder in r.items("reminders.overrides")? {
        let minutes =
            reminder.parse("minutes", |t| t.parse::<i64>().map(Some).map_err(|_| format!("{t:?} is not minutes")))?;
        if let Some(minutes) = minutes {
            reminders.push(Reminder {
                minutes_before: minutes,
                method: reminder.text("method")?.unwrap_or_else(|| "popup".into()),
            });
        }
    }
    let conference = r.first_of("conferenceData.entryPoints", |p| {
        Ok(if p.text("entryPointType")?.as_deref() == Some("video") { p.text("uri")? } else { None })
    })?;
    let recurring = r.text("recurringEventId")?.map(|series| format!("{calendar}/{series}"));
    let event = Event {
        calendar_id: Some(calendar.to_owned()),
        uid: r.text("iCalUID")?.unwrap_or_else(|| id.clone()),
        summary: r.text("summary")?,
        description: r.text("description")?,
        location: r.text("location")?,
        start,
        end,
        recurrence,
        original_start,
        recurring_event_id: recurring,
        exceptions: Vec::new(),
        status,
        organizer: person(&r.at("organizer"))?,
        attendees,
        reminders,
        transparency: if r.text("transparency")?.as_deref() == Some("transparent") {
            Transparency::Free
        } else {
            Transparency::Busy
        },
        conference_url: conference.or(r.text("hangoutLink")?),
        sequence: r
            .parse("sequence", |t| t.parse::<u32>().map(Some).map_err(|_| format!("{t:?} is not a sequence")))?,
        etag: r.text("etag")?,
        updated: r.time("updated")?,
    };
    let updated = event.updated;
    Ok(Remote::new(remote_id, event).modified(updated).with_remote_data(r.raw().clone()))
}

/// `event` as Google's JSON for an insert (with `id`) or an update.
pub(super) fn event_json(event: &Event, id: Option<&str>) -> Value {
    let mut body = json!({
        "start": time_json(&event.start),
        "end": time_json(&event.end),
        "status": event.status.as_str(),
        "transparency": if event.transparency == Transparency::Free { "transparent" } else { "opaque" },
    });
    if let Some(id) = id {
        body["id"] = json!(id);
    }
    for (key, value) in
        [("summary", &event.summary), ("description", &event.description), ("location", &event.location)]
    {
        if let Some(value) = value {
            body[key] = json!(value);
        }
    }
    if let Some(recurrence) = &event.recurrence {
        body["recurrence"] = json!(ical::recurrence_lines(recurrence));
    }
    if let Some(original) = &event.original_start {
        body["originalStartTime"] = time_json(original);
    }
    if !event.attendees.is_empty() {
        let attendees: Vec<Value> = event
            .attendees
            .iter()
            .map(|a| {
                let mut attendee = json!({ "email": a.email, "optional": a.optional });
                if let Some(name) = &a.name {
                    attendee["displayName"] = json!(name);
                }
                if let Some(status) = &a.response {
                    attendee["responseStatus"] = json!(response_json(status));
                }
                attendee
            })
            .collect();
        body["attendees"] = json!(attendees);
    }
    if !event.reminders.is_empty() {
        let overrides: Vec<Value> = event
            .reminders
            .iter()
            .map(|r| json!({ "method": if r.method == "email" { "email" } else { "popup" }, "minutes": r.minutes_before }))
            .collect();
        body["reminders"] = json!({ "useDefault": false, "overrides": overrides });
    }
    if let Some(sequence) = event.sequence {
        body["sequence"] = json!(sequence);
    }
    body
}

/// Google's RFC 3339 for `at`.
pub(super) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn value() -> impl Strategy<Value = Value> {
        crate::json_strategy::field_value(vec![
            "2026-12-07",
            "2026-12-07T09:00:00+01:00",
            "Europe/Berlin",
            "Mars/Base",
            "cancelled",
            "transparent",
            "RRULE:FREQ=DAILY;COUNT=2",
            "EXDATE;TZID=Europe/Berlin:20261208T090000",
        ])
    }

    proptest! {
        /// Whatever Google's JSON holds in an event's fields: an event, a tombstone, or an
        /// error naming the field — never a panic.
        #[test]
        fn any_event_json_is_mapped_or_refused(
            start_date in value(), start_time in value(), zone in value(), end_time in value(),
            status in value(), recurrence in prop::collection::vec(value(), 0..3),
            attendee in value(), minutes in value(), sequence in value(), id in value(),
        ) {
            let raw = json!({
                "id": id, "status": status, "summary": "x",
                "start": {"date": start_date, "dateTime": start_time, "timeZone": zone},
                "end": {"dateTime": end_time, "timeZone": zone},
                "recurrence": recurrence, "attendees": [{"email": attendee, "responseStatus": attendee}],
                "reminders": {"overrides": [{"method": "popup", "minutes": minutes}]}, "sequence": sequence,
                "originalStartTime": {"dateTime": start_time},
            });
            if let Ok(event) = map_one(&raw, "id", |r| event(r, "primary")) {
                prop_assert!(event.remote_id.starts_with("primary/"));
            }
        }
    }

    #[test]
    fn times_keep_their_zone_and_dates_stay_dates() {
        let raw = json!({"id": "e1", "start": {"dateTime": "2026-12-07T09:00:00+01:00", "timeZone": "Europe/Berlin"},
                         "end": {"date": "2026-12-08"}});
        let error = map_one(&raw, "id", |r| event(r, "c")).map(|e| e.fields.validate());
        // Mapped (a date end with a date-time start is the provider's to answer), but not writable.
        assert!(matches!(error, Ok(Err(_))));
        let raw = json!({"id": "e2", "start": {"dateTime": "2026-12-07T09:00:00+01:00", "timeZone": "Europe/Berlin"},
                         "end": {"dateTime": "2026-12-07T10:00:00+01:00", "timeZone": "Europe/Berlin"}});
        let mapped = map_one(&raw, "id", |r| event(r, "c")).expect("mapped");
        let nine = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).and_then(|d| d.and_hms_opt(9, 0, 0)).expect("t");
        assert_eq!(mapped.fields.start, EventTime::zoned(nine, "Europe/Berlin"));
        assert_eq!(
            time_json(&mapped.fields.start),
            json!({"dateTime": "2026-12-07T09:00:00", "timeZone": "Europe/Berlin"})
        );
        let gone = map_one(&json!({"id": "e3", "status": "cancelled"}), "id", |r| event(r, "c")).expect("a tombstone");
        assert!(gone.remote_was_deleted);
    }
}
