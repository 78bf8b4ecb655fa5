//! The calendar contract: what every calendar adapter must hold, run against its provider's
//! test server — CalDAV against the real Radicale, Google Calendar against
//! [`FakeGoogleCalendar`](crate::fake::google_calendar::FakeGoogleCalendar), Microsoft Graph
//! against [`FakeGraphCalendar`](crate::fake::graph_calendar::FakeGraphCalendar).
//!
//! | rule | what it checks |
//! |---|---|
//! | `an_event_is_created_read_updated_and_deleted` | what was written reads back (times in their zone, attendees); an update at the event's ETag gives a new one; a deleted event is `NotFound` |
//! | `the_same_create_twice_is_one_event` | a create repeated with the same operation key answers the same event, and the calendar holds one |
//! | `a_stale_etag_is_a_conflict_and_changes_nothing` | an update at an ETag that has changed is `Conflict`, and the event is as it was |
//! | `an_incremental_sync_finds_exactly_the_changes` | through the sync engine: one addition, one change, one deletion are read as exactly that |
//! | `a_series_is_found_in_a_window_and_counted_busy` | a weekly series with `COUNT` is found by a window and its occurrences are its busy times |
//! | `bad_events_are_refused_before_anything_is_sent` | an end before the start, an unknown zone, a rule that is not one: `Validation` errors, nothing written |
//! | `what_the_descriptor_does_not_declare_is_unsupported` | sharing without `calendar.sharing` is `Unsupported`; with it, a grant and its removal succeed |
//!
//! A fixture whose server cannot start here answers `None` from [`CalendarFixture::start`]:
//! the rule is skipped with the reason printed, and fails under `CI=true` (the server's start
//! decides).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use integration_calendar::{
    AccessRole, Attendee, Calendar, Event, EventTime, Interval, ListRequest, OperationKey, Recurrence, capability,
};
use integration_core::store::{MemoryStore, RunStatus};
use integration_core::{CancellationToken, ConnectionId, ErrorKind, SyncEngine, SyncJob, SyncMode, TenantId};

/// A calendar adapter against its provider's test server.
#[async_trait]
pub trait CalendarFixture: Sized + Send + Sync {
    /// Starts the server and the adapter; `None` when the server cannot run here.
    async fn start() -> Option<Self>;
    /// The adapter.
    fn calendar(&self) -> Arc<dyn Calendar>;
    /// A calendar the account writes to, empty (its id).
    async fn writable(&self) -> String;
}

/// Expands to one `#[tokio::test]` per rule of the calendar contract for fixture `$fixture`; with
/// `trials "label", $fixture`, to the rules as [`harness`](crate::harness) trials named
/// `label::rule` (a test file whose fixture needs a peer).
#[macro_export]
macro_rules! calendar_contract_suite {
    (trials $label:literal, $fixture:ty) => {
        $crate::calendar_contract_suite!(@rules (@trials $label,) $fixture)
    };
    ($fixture:ty) => {
        $crate::calendar_contract_suite!(@rules (@each) $fixture);
    };
    (@rules ($($mode:tt)*) $fixture:ty) => {
        $crate::calendar_contract_suite! { $($mode)* $fixture;
            an_event_is_created_read_updated_and_deleted,
            the_same_create_twice_is_one_event,
            a_stale_etag_is_a_conflict_and_changes_nothing,
            an_incremental_sync_finds_exactly_the_changes,
            a_series_is_found_in_a_window_and_counted_busy,
            bad_events_are_refused_before_anything_is_sent,
            what_the_descriptor_does_not_declare_is_unsupported
        }
    };
    (@trials $label:literal, $fixture:ty; $($name:ident),* $(,)?) => {
        vec![$(
            $crate::harness::Trial::test(
                concat!($label, "::", stringify!($name)),
                || $crate::harness::block_on($crate::contract::calendar::$name::<$fixture>),
            )
        ),*]
    };
    (@each $fixture:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::contract::calendar::$name::<$fixture>().await;
            }
        )*
    };
}

fn key(id: &str) -> OperationKey {
    OperationKey::new(format!("contract-{id}-{}", fastrand::u64(..))).expect("a key")
}

fn at(day: u32, hour: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, day).expect("a date").and_hms_opt(hour, 0, 0).expect("a time")
}

fn meeting(summary: &str, day: u32) -> Event {
    let zone = "Europe/Berlin";
    let mut event = Event::new(summary, EventTime::zoned(at(day, 9), zone), EventTime::zoned(at(day, 10), zone));
    event.attendees = vec![Attendee::new("kai@example.com")];
    event
}

/// Created, read back, updated at its ETag, deleted.
pub async fn an_event_is_created_read_updated_and_deleted<F: CalendarFixture>() {
    let Some(fixture) = F::start().await else { return };
    let (calendar, id) = (fixture.calendar(), fixture.writable().await);
    let created = calendar.create_event(&id, &key("crud"), &meeting("Planning", 7)).await.expect("created");
    let read = calendar.event(&id, &created.remote_id).await.expect("read back");
    assert_eq!(read.fields.summary.as_deref(), Some("Planning"));
    assert_eq!(read.fields.start, EventTime::zoned(at(7, 9), "Europe/Berlin"));
    assert_eq!(read.fields.end, EventTime::zoned(at(7, 10), "Europe/Berlin"));
    assert_eq!(read.fields.attendees.iter().map(|a| a.email.as_str()).collect::<Vec<_>>(), ["kai@example.com"]);
    let etag = read.fields.etag.clone().expect("an ETag");
    let mut changed = read.fields.clone();
    changed.summary = Some("Planning (moved)".into());
    let updated = calendar.update_event(&id, &created.remote_id, &changed).await.expect("updated");
    assert_eq!(updated.fields.summary.as_deref(), Some("Planning (moved)"));
    assert_ne!(updated.fields.etag.as_deref(), Some(etag.as_str()), "a new ETag");
    calendar.delete_event(&id, &created.remote_id, updated.fields.etag.as_deref()).await.expect("deleted");
    let gone = calendar.event(&id, &created.remote_id).await.expect_err("gone");
    assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone}");
    calendar.delete_event(&id, &created.remote_id, None).await.expect("deleting what is gone is done");
}

/// The same operation twice is one event.
pub async fn the_same_create_twice_is_one_event<F: CalendarFixture>() {
    let Some(fixture) = F::start().await else { return };
    let (calendar, id, operation) = (fixture.calendar(), fixture.writable().await, key("twice"));
    let first = calendar.create_event(&id, &operation, &meeting("Once", 8)).await.expect("created");
    let again = calendar.create_event(&id, &operation, &meeting("Once", 8)).await.expect("the same answer");
    assert_eq!(first.remote_id, again.remote_id);
    let week = Interval::new(
        Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).single().expect("t"),
        Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).single().expect("t"),
    )
    .expect("a week");
    let found = calendar.events_between(&id, &week).await.expect("listed");
    assert_eq!(found.len(), 1, "one event: {found:?}");
    let other = calendar.create_event(&id, &key("other"), &meeting("Once", 8)).await.expect("another");
    assert_ne!(other.remote_id, first.remote_id, "another operation is another event");
}

/// A stale ETag is a `Conflict`, and the event stays as it was.
pub async fn a_stale_etag_is_a_conflict_and_changes_nothing<F: CalendarFixture>() {
    let Some(fixture) = F::start().await else { return };
    let (calendar, id) = (fixture.calendar(), fixture.writable().await);
    let created = calendar.create_event(&id, &key("stale"), &meeting("Review", 9)).await.expect("created");
    let mut first = created.fields.clone();
    first.summary = Some("Review (first writer)".into());
    calendar.update_event(&id, &created.remote_id, &first).await.expect("the first writer wins");
    let mut second = created.fields.clone();
    second.summary = Some("Review (lost update)".into());
    let error = calendar.update_event(&id, &created.remote_id, &second).await.expect_err("stale");
    assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");
    let read = calendar.event(&id, &created.remote_id).await.expect("read");
    assert_eq!(read.fields.summary.as_deref(), Some("Review (first writer)"));
    let error =
        calendar.delete_event(&id, &created.remote_id, created.fields.etag.as_deref()).await.expect_err("stale");
    assert_eq!(error.kind(), ErrorKind::Conflict);
    assert!(calendar.event(&id, &created.remote_id).await.is_ok(), "not deleted");
}

/// One addition, one change and one deletion, read as exactly that by an incremental sync.
pub async fn an_incremental_sync_finds_exactly_the_changes<F: CalendarFixture>() {
    let Some(fixture) = F::start().await else { return };
    let (calendar, id) = (fixture.calendar(), fixture.writable().await);
    let mut made = Vec::new();
    for day in [7, 8] {
        made.push(calendar.create_event(&id, &key("sync"), &meeting("synced", day)).await.expect("made"));
    }
    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "contract");
    let (tenant, connection) =
        (TenantId::new("acme").expect("tenant"), ConnectionId::new("calendar").expect("connection"));
    let job = SyncJob::new(tenant, connection, "events", SyncMode::Incremental);
    let first = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!((first.status, first.counts.added), (RunStatus::Succeeded, 2), "{:?}", first.error);
    calendar.create_event(&id, &key("added"), &meeting("added", 9)).await.expect("added");
    let mut renamed = made[0].fields.clone();
    renamed.summary = Some("renamed".into());
    calendar.update_event(&id, &made[0].remote_id, &renamed).await.expect("renamed");
    calendar.delete_event(&id, &made[1].remote_id, None).await.expect("deleted");
    let second = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!((second.counts.added, second.counts.updated, second.counts.deleted), (1, 1, 1), "{:?}", second.counts);
}

/// A weekly series with `COUNT`: found by a window, its occurrences its busy times.
pub async fn a_series_is_found_in_a_window_and_counted_busy<F: CalendarFixture>() {
    let Some(fixture) = F::start().await else { return };
    let (calendar, id) = (fixture.calendar(), fixture.writable().await);
    let mut series = meeting("weekly", 1);
    series.attendees.clear();
    series.recurrence = Some(Recurrence::rule("FREQ=WEEKLY;COUNT=4"));
    let made = calendar.create_event(&id, &key("series"), &series).await.expect("made");
    let december = Interval::new(
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().expect("t"),
        Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).single().expect("t"),
    )
    .expect("a month");
    let found = calendar.events_between(&id, &december).await.expect("found");
    assert_eq!(found.iter().map(|e| e.remote_id.as_str()).collect::<Vec<_>>(), [made.remote_id.as_str()]);
    assert_eq!(
        found[0].fields.recurrence.as_ref().map(|r| r.rules.clone()),
        Some(vec!["FREQ=WEEKLY;COUNT=4".to_owned()])
    );
    let busy = calendar.free_busy(std::slice::from_ref(&id), &december).await.expect("free/busy");
    let starts: Vec<String> = busy[0].busy.iter().map(|b| b.start.format("%d %H:%M").to_string()).collect();
    assert_eq!(starts, ["01 08:00", "08 08:00", "15 08:00", "22 08:00"], "09:00 in Berlin is 08:00 UTC in December");
    assert!(busy[0].busy.iter().all(|b| b.duration() == Duration::hours(1)));
}

/// Bad events are refused before anything is written.
pub async fn bad_events_are_refused_before_anything_is_sent<F: CalendarFixture>() {
    let Some(fixture) = F::start().await else { return };
    let (calendar, id) = (fixture.calendar(), fixture.writable().await);
    let mut backwards = meeting("backwards", 10);
    std::mem::swap(&mut backwards.start, &mut backwards.end);
    let mut nowhere = meeting("nowhere", 10);
    nowhere.start = EventTime::zoned(at(10, 9), "Mars/Olympus_Mons");
    let mut unruly = meeting("unruly", 10);
    unruly.recurrence = Some(Recurrence::rule("FREQ=FORTNIGHTLY"));
    for (event, field) in [(backwards, "end"), (nowhere, "zone"), (unruly, "RRULE")] {
        let error = calendar.create_event(&id, &key("bad"), &event).await.expect_err("refused");
        assert_eq!((error.kind(), error.field()), (ErrorKind::Validation, Some(field)), "{error}");
    }
    let week = Interval::new(
        Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).single().expect("t"),
        Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).single().expect("t"),
    )
    .expect("a week");
    assert!(calendar.events_between(&id, &week).await.expect("listed").is_empty(), "nothing written");
}

/// Sharing is declared, or `Unsupported`.
pub async fn what_the_descriptor_does_not_declare_is_unsupported<F: CalendarFixture>() {
    let Some(fixture) = F::start().await else { return };
    let (calendar, id) = (fixture.calendar(), fixture.writable().await);
    let declared = calendar.descriptor().capabilities.contains(&capability::SHARING);
    let shared = calendar.share(&id, "grace@example.com", AccessRole::Reader).await;
    let unshared = calendar.unshare(&id, "grace@example.com").await;
    if declared {
        shared.expect("shared");
        unshared.expect("unshared");
    } else {
        assert_eq!(shared.expect_err("unsupported").kind(), ErrorKind::Unsupported);
        assert_eq!(unshared.expect_err("unsupported").kind(), ErrorKind::Unsupported);
    }
    assert!(calendar.calendars(ListRequest::first()).await.expect("calendars").items.iter().any(|c| c.remote_id == id));
}
