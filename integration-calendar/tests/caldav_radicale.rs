//! The CalDAV adapter against the real Radicale (PyPI, pinned; started on 127.0.0.1 by the
//! test): discovery, create (`If-None-Match`, idempotent), update with `If-Match` and a stale
//! ETag refused, delete, incremental sync finding exactly the changes through
//! `sync-collection`, an expired token answered by a full read, and a weekly RRULE with COUNT
//! expanded by us as Radicale expands it in a time-range REPORT.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use integration_calendar::{Calendar, Event, EventTime, Interval, ListRequest, OperationKey, Recurrence, recurrence};
use integration_core::store::{MemoryStore, RecordStore, RunStatus, StreamScope};
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, Domain, ErrorKind, IntegrationConfig, ProviderId, SyncEngine,
    SyncJob, SyncMode, TenantId,
};
use integration_testkit::peers::Radicale;

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("acme").expect("tenant"), ConnectionId::new("calendar").expect("connection"))
}

fn connect_as(radicale: &Radicale, user: (&str, &str)) -> Arc<dyn Calendar> {
    let (tenant, connection) = ids();
    let config = IntegrationConfig::new(tenant, connection, Domain::Calendar, ProviderId::new("caldav").expect("id"))
        .with_setting("base_url", radicale.url())
        .with_setting("username", user.0)
        .with_secret("password", user.1);
    integration_calendar::build(&config, &BuildContext::default()).expect("the typed build")
}

fn key(name: &str) -> OperationKey {
    OperationKey::new(format!("test-{name}-{}", fastrand::u64(..))).expect("a key")
}

fn at(d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, d).expect("a date").and_hms_opt(h, 0, 0).expect("a time")
}

fn meeting(summary: &str, day: u32) -> Event {
    Event::new(summary, EventTime::zoned(at(day, 9), "Europe/Berlin"), EventTime::zoned(at(day, 10), "Europe/Berlin"))
}

async fn events_are_created_updated_with_if_match_and_deleted() {
    let Some(radicale) = Radicale::start() else { return };
    let work = radicale.make_calendar(Radicale::USER, "work", "Work").await;
    radicale.make_calendar(Radicale::USER, "home", "Home").await;
    let calendar = connect_as(&radicale, Radicale::USER);
    let info = calendar.connect().await.expect("discovered");
    assert_eq!(info.account_id.as_deref(), Some("/ada/"));
    let calendars = calendar.calendars(ListRequest::first()).await.expect("calendars");
    let names: Vec<(&str, &str)> =
        calendars.items.iter().map(|c| (c.remote_id.as_str(), c.fields.name.as_str())).collect();
    assert_eq!(names, [("/ada/home/", "Home"), ("/ada/work/", "Work")]);

    // Created; the same operation again is the same event.
    let operation = key("planning");
    let created = calendar.create_event(&work, &operation, &meeting("Planning", 7)).await.expect("created");
    let etag = created.fields.etag.clone().expect("an ETag");
    assert_eq!(created.fields.summary.as_deref(), Some("Planning"));
    assert_eq!(created.fields.start, EventTime::zoned(at(7, 9), "Europe/Berlin"));
    let again = calendar.create_event(&work, &operation, &meeting("Planning", 7)).await.expect("the same");
    assert_eq!(
        (again.remote_id.as_str(), again.fields.etag.as_deref()),
        (created.remote_id.as_str(), Some(etag.as_str()))
    );

    // Updated at its ETag; the old ETag is now stale: Conflict, and nothing changes.
    let mut moved = created.fields.clone();
    moved.summary = Some("Planning (moved)".into());
    moved.start = EventTime::zoned(at(8, 9), "Europe/Berlin");
    moved.end = EventTime::zoned(at(8, 10), "Europe/Berlin");
    let updated = calendar.update_event(&work, &created.remote_id, &moved).await.expect("updated");
    assert_ne!(updated.fields.etag.as_deref(), Some(etag.as_str()), "a new ETag");
    let mut stale = moved.clone();
    stale.summary = Some("lost update".into());
    let error = calendar.update_event(&work, &created.remote_id, &stale).await.expect_err("stale");
    assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");
    let read = calendar.event(&work, &created.remote_id).await.expect("read");
    assert_eq!(read.fields.summary.as_deref(), Some("Planning (moved)"));

    // Deleted at a stale ETag: refused; at its own: gone; again: done.
    let error = calendar.delete_event(&work, &created.remote_id, Some(&etag)).await.expect_err("stale");
    assert_eq!(error.kind(), ErrorKind::Conflict);
    calendar.delete_event(&work, &created.remote_id, read.fields.etag.as_deref()).await.expect("deleted");
    calendar.delete_event(&work, &created.remote_id, None).await.expect("already gone is done");
    assert_eq!(calendar.event(&work, &created.remote_id).await.expect_err("gone").kind(), ErrorKind::NotFound);

    // Another user's calendars are not this one's.
    let kai = connect_as(&radicale, Radicale::OTHER_USER);
    let error = kai.event(&work, &created.remote_id).await.expect_err("not kai's");
    assert!(matches!(error.kind(), ErrorKind::Forbidden | ErrorKind::NotFound), "{error}");
}

async fn an_incremental_sync_finds_exactly_the_changes() {
    let Some(radicale) = Radicale::start() else { return };
    let work = radicale.make_calendar(Radicale::USER, "work", "Work").await;
    let home = radicale.make_calendar(Radicale::USER, "home", "Home").await;
    let calendar = connect_as(&radicale, Radicale::USER);
    let mut events = Vec::new();
    for (i, (cal, day)) in [(&work, 7), (&work, 8), (&home, 9)].into_iter().enumerate() {
        let event = calendar.create_event(cal, &key("e"), &meeting(&format!("event {i}"), day)).await.expect("made");
        events.push(event);
    }
    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "w1");
    let (tenant, connection) = ids();
    let job = SyncJob::new(tenant.clone(), connection.clone(), "events", SyncMode::Incremental);
    let first = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!((first.status, first.counts.added), (RunStatus::Succeeded, 3), "{:?}", first.error);

    // Another client adds one, changes one, deletes one.
    let added = calendar.create_event(&home, &key("new"), &meeting("added", 10)).await.expect("added");
    let mut renamed = events[0].fields.clone();
    renamed.summary = Some("renamed".into());
    calendar.update_event(&work, &events[0].remote_id, &renamed).await.expect("renamed");
    calendar.delete_event(&home, &events[2].remote_id, None).await.expect("deleted");

    let second = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!((second.counts.added, second.counts.updated, second.counts.deleted), (1, 1, 1), "{:?}", second.counts);
    let scope = StreamScope::new(tenant, connection, "events");
    let cached: BTreeSet<String> =
        store.records(&scope, None, 100, false).await.expect("cache").into_iter().map(|r| r.remote_id).collect();
    assert_eq!(
        cached,
        BTreeSet::from([events[0].remote_id.clone(), events[1].remote_id.clone(), added.remote_id.clone()])
    );
    // Nothing changed: nothing read as a change.
    let third = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!((third.counts.added, third.counts.updated, third.counts.deleted), (0, 0, 0), "{:?}", third.counts);

    // A token the server no longer knows: ResyncRequired, which the engine answers with a full read.
    let bogus = serde_json::json!({ work.clone(): "http://radicale.org/ns/sync/0000", home.clone(): "http://radicale.org/ns/sync/0000" });
    let request = ListRequest::first().since(Utc::now()).sync_token(Some(bogus.to_string()));
    let error = calendar.events(request).await.expect_err("an unknown token");
    assert_eq!(error.kind(), ErrorKind::ResyncRequired, "{error}");
}

async fn a_weekly_count_rule_expands_as_radicale_expands_it() {
    let Some(radicale) = Radicale::start() else { return };
    let work = radicale.make_calendar(Radicale::USER, "work", "Work").await;
    let calendar = connect_as(&radicale, Radicale::USER);
    // Tokyo keeps one offset all year: Radicale's UTC stepping and ours agree (see the peer's
    // notes for daylight-saving zones).
    let start = NaiveDate::from_ymd_opt(2026, 11, 3).expect("a date").and_hms_opt(10, 30, 0).expect("a time");
    let mut series = Event::new(
        "1:1",
        EventTime::zoned(start, "Asia/Tokyo"),
        EventTime::zoned(start + chrono::Duration::minutes(45), "Asia/Tokyo"),
    );
    series.recurrence = Some(Recurrence::rule("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=9"));
    let made = calendar.create_event(&work, &key("series"), &series).await.expect("made");

    let window = Interval::new(
        Utc.with_ymd_and_hms(2026, 11, 10, 0, 0, 0).single().expect("t"),
        Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).single().expect("t"),
    )
    .expect("a window");
    let ours: Vec<String> = recurrence::expand(&made.fields, &window, chrono_tz::UTC, 100)
        .expect("expanded")
        .occurrences
        .iter()
        .map(|o| o.start.format("%Y%m%dT%H%M%SZ").to_string())
        .collect();
    let report = r#"<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-data><c:expand start="20261110T000000Z" end="20261231T000000Z"/></c:calendar-data></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20261110T000000Z" end="20261231T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#;
    let (status, _, body) = radicale.send(Radicale::USER, "REPORT", &work, &[("Depth", "1")], report).await;
    assert_eq!(status, 207, "{body}");
    let theirs: Vec<String> = body
        .lines()
        .filter_map(|l| l.trim().strip_prefix("DTSTART:"))
        .map(str::to_owned)
        .filter(|s| s.as_str() >= "20261110T000000Z")
        .collect();
    assert_eq!(ours.len(), 7, "nine from 3 November, two before the window: {ours:?}");
    assert_eq!(ours, theirs);

    // The window asked of the server finds the series; free/busy counts its occurrences.
    let found = calendar.events_between(&work, &window).await.expect("found");
    assert_eq!(found.iter().map(|e| e.remote_id.as_str()).collect::<Vec<_>>(), [made.remote_id.as_str()]);
    let busy = calendar.free_busy(std::slice::from_ref(&work), &window).await.expect("free/busy");
    assert_eq!(busy[0].busy.len(), 7);
    assert!(busy[0].busy.iter().all(|b| b.duration() == chrono::Duration::minutes(45)));
}

async fn the_health_check_asks_the_server_every_time() {
    let Some(radicale) = Radicale::start() else { return };
    let calendar = connect_as(&radicale, Radicale::USER);
    calendar.connect().await.expect("discovered");
    let healthy = calendar.health_check().await.expect("a health");
    assert_eq!(healthy.status, integration_core::HealthStatus::Healthy, "{healthy:?}");
    drop(radicale);
    let down = calendar.health_check().await.expect("a health");
    assert_ne!(down.status, integration_core::HealthStatus::Healthy, "the server is gone: {down:?}");
}

async fn a_wrong_password_is_an_auth_error_that_does_not_show_it() {
    let Some(radicale) = Radicale::start() else { return };
    let calendar = connect_as(&radicale, ("ada", "not-lovelace-but-secret"));
    let error = calendar.connect().await.expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::AuthInvalid, "{error}");
    let shown = format!("{error} {error:?} {calendar:?}");
    assert!(!shown.contains("not-lovelace-but-secret"), "{shown}");
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("radicale")],
        integration_testkit::trials![async events_are_created_updated_with_if_match_and_deleted, async an_incremental_sync_finds_exactly_the_changes, async a_weekly_count_rule_expands_as_radicale_expands_it, async the_health_check_asks_the_server_every_time, async a_wrong_password_is_an_auth_error_that_does_not_show_it],
    )
}
