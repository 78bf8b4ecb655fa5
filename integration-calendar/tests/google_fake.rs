//! The Google Calendar adapter against the testkit's `FakeGoogleCalendar` — what is Google's
//! own beyond the contract: paging across calendars, an expired sync token answered by a full
//! read that loses and duplicates nothing, deletions and cancelled occurrences from another
//! client, and sharing (OAuth credentials kept out of errors and traces: `oauth_secrets.rs`).

use std::collections::BTreeSet;
use std::sync::Arc;

use integration_calendar::{AccessRole, Calendar, EventStatus, ListRequest};
use integration_core::store::{MemoryStore, RunStatus, StreamScope};
use integration_core::{BuildContext, CancellationToken, ConnectionId, SyncEngine, SyncJob, SyncMode, TenantId};
use integration_testkit::fake::google_calendar::{FakeGoogleCalendar, PRIMARY};
use serde_json::json;

const TEAM: &str = "team@group.calendar.google.com";

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("acme").expect("tenant"), ConnectionId::new("google").expect("connection"))
}

fn connect(fake: &FakeGoogleCalendar) -> Arc<dyn Calendar> {
    let (tenant, connection) = ids();
    integration_calendar::build(&fake.config(tenant, connection), &BuildContext::default()).expect("built")
}

fn event(id: &str, day: u32, summary: &str) -> serde_json::Value {
    json!({"id": id, "summary": summary, "status": "confirmed",
           "start": {"dateTime": format!("2026-12-{day:02}T09:00:00+01:00"), "timeZone": "Europe/Berlin"},
           "end": {"dateTime": format!("2026-12-{day:02}T10:00:00+01:00"), "timeZone": "Europe/Berlin"}})
}

async fn cached(store: &MemoryStore) -> BTreeSet<String> {
    let (tenant, connection) = ids();
    integration_testkit::cache::cached_ids(store, &StreamScope::new(tenant, connection, "events")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_sync_token_is_answered_by_a_full_read_that_loses_and_duplicates_nothing() {
    let fake = FakeGoogleCalendar::start().await;
    for n in 0..5 {
        fake.put_event(PRIMARY, event(&format!("evt0000{n}"), 7 + n, "primary"));
    }
    fake.put_event(TEAM, event("team00001", 8, "team"));
    let calendar = connect(&fake);
    // Paging: two a page, every event once, both calendars.
    let (mut seen, mut request) = (Vec::new(), ListRequest::first().page_size(std::num::NonZeroU32::new(2)));
    loop {
        let page = calendar.events(request.clone()).await.expect("a page");
        seen.extend(page.items.into_iter().map(|e| e.remote_id));
        match page.next {
            Some(next) => request = request.at(Some(next)),
            None => break,
        }
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (6, 6), "{seen:?}");
    assert!(unique.contains(&format!("{TEAM}/team00001")));

    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "w1");
    let (tenant, connection) = ids();
    let job = SyncJob::new(tenant, connection, "events", SyncMode::Incremental);
    let first = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!((first.status, first.counts.added), (RunStatus::Succeeded, 6), "{:?}", first.error);

    // Another client changes one and deletes one; then every sync token expires.
    fake.put_event(PRIMARY, event("evt00000", 7, "renamed"));
    fake.delete_event(TEAM, "team00001");
    fake.expire_sync_tokens();
    let second = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!((second.counts.added, second.counts.updated, second.counts.deleted), (0, 1, 1), "{:?}", second.counts);
    let expected: BTreeSet<String> = (0..5).map(|n| format!("{PRIMARY}/evt0000{n}")).collect();
    assert_eq!(cached(&store).await, expected, "nothing lost, nothing twice");

    // And the tokens of the full read work again.
    fake.put_event(PRIMARY, event("evt00009", 20, "added"));
    let third = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!((third.counts.added, third.counts.updated, third.counts.deleted), (1, 0, 0), "{:?}", third.counts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_or_cancelled_occurrence_is_an_event_of_its_own() {
    let fake = FakeGoogleCalendar::start().await;
    let mut series = event("series001", 1, "weekly");
    series["recurrence"] = json!(["RRULE:FREQ=WEEKLY;COUNT=4", "EXDATE;TZID=Europe/Berlin:20261222T090000"]);
    fake.put_event(PRIMARY, series);
    let mut moved = event("series001_20261208T080000Z", 9, "weekly (moved)");
    moved["recurringEventId"] = json!("series001");
    moved["originalStartTime"] = json!({"dateTime": "2026-12-08T09:00:00+01:00", "timeZone": "Europe/Berlin"});
    fake.put_event(PRIMARY, moved);
    let mut cancelled = event("series001_20261215T080000Z", 15, "weekly");
    cancelled["status"] = json!("cancelled");
    cancelled["recurringEventId"] = json!("series001");
    cancelled["originalStartTime"] = json!({"dateTime": "2026-12-15T09:00:00+01:00", "timeZone": "Europe/Berlin"});
    fake.put_event(PRIMARY, cancelled);

    let calendar = connect(&fake);
    let page = calendar.events(ListRequest::first()).await.expect("a page");
    let by_id = |id: &str| page.items.iter().find(|e| e.remote_id == format!("{PRIMARY}/{id}")).expect(id);
    let series = by_id("series001");
    let recurrence = series.fields.recurrence.as_ref().expect("a series");
    assert_eq!((recurrence.rules.len(), recurrence.exceptions.len()), (1, 1));
    let moved = by_id("series001_20261208T080000Z");
    assert_eq!(moved.fields.recurring_event_id.as_deref(), Some(format!("{PRIMARY}/series001").as_str()));
    assert!(moved.fields.original_start.is_some());
    let cancelled = by_id("series001_20261215T080000Z");
    assert_eq!((cancelled.fields.status.clone(), cancelled.remote_was_deleted), (EventStatus::Cancelled, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendars_are_listed_and_shared() {
    let fake = FakeGoogleCalendar::start().await;
    let calendar = connect(&fake);
    assert_eq!(calendar.connect().await.expect("connected").account_id.as_deref(), Some(PRIMARY));
    let calendars = calendar.calendars(ListRequest::first()).await.expect("calendars");
    let shown: Vec<(&str, bool, Option<AccessRole>)> = calendars
        .items
        .iter()
        .map(|c| (c.fields.name.as_str(), c.fields.primary, c.fields.access_role.clone()))
        .collect();
    assert_eq!(shown, [("Ada", true, Some(AccessRole::Owner)), ("Team", false, Some(AccessRole::Writer))]);
    calendar.share(TEAM, "grace@example.com", AccessRole::FreeBusyReader).await.expect("shared");
    assert_eq!(fake.acl(TEAM).get("user:grace@example.com").map(String::as_str), Some("freeBusyReader"));
    calendar.unshare(TEAM, "grace@example.com").await.expect("unshared");
    calendar.unshare(TEAM, "grace@example.com").await.expect("unsharing twice is done");
    assert!(fake.acl(TEAM).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_announce_changes_through_the_router_and_are_renewed_before_they_lapse() {
    use integration_calendar::notifications::renew;
    use integration_core::WebhookScheme;
    use integration_core::http::{HeaderMap, Method};
    use integration_core::webhook::{Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret};
    use integration_core::{ProviderId, VerifiedWebhook};

    let fake = FakeGoogleCalendar::start().await;
    let calendar = connect(&fake);
    let (token, address) =
        ("a-channel-token-for-ada-0123456789abcdef", "https://hooks.example.com/google_calendar/ada");
    let channel = calendar.watch(PRIMARY, address, token, chrono::Duration::hours(1)).await.expect("watching");
    assert!(channel.expires_at.is_some_and(|at| at > chrono::Utc::now() + chrono::Duration::minutes(59)));
    assert_eq!(fake.channels(), [(channel.id.clone(), PRIMARY.to_owned())]);

    let store = Arc::new(MemoryStore::new());
    let endpoints = Arc::new(StaticEndpoints::new());
    let (tenant, connection) = ids();
    let endpoint = Endpoint::new(
        tenant,
        connection,
        ProviderId::new("google_calendar").expect("id"),
        WebhookScheme::GoogleChannel,
        vec![WebhookSecret::new(token)],
    );
    endpoints.add_endpoint("ada", endpoint).expect("endpoint");
    let router = WebhookRouter::new(endpoints, store.clone(), store.clone());
    let deliver = |headers: HeaderMap| {
        let router = &router;
        async move { router.handle(&Method::POST, "/google_calendar/ada", &headers, b"").await.status.as_u16() }
    };

    // The channel's first message says it exists: verified, nothing changed.
    let sent = fake.take_notifications();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, address);
    assert_eq!(deliver(sent[0].1.clone()).await, 200);
    let opened = calendar
        .handle_webhook(VerifiedWebhook::trusted(sent[0].1.clone(), Vec::new(), None, chrono::Utc::now()))
        .await;
    assert!(opened.expect("mapped").events.is_empty());

    // A change: announced, verified by its token, recorded once, mapped to an event naming the calendar.
    fake.put_event(PRIMARY, event("evt00001", 7, "new"));
    let sent = fake.take_notifications();
    assert_eq!(sent.len(), 1);
    assert_eq!(deliver(sent[0].1.clone()).await, 200);
    let outcome = calendar
        .handle_webhook(VerifiedWebhook::trusted(sent[0].1.clone(), Vec::new(), None, chrono::Utc::now()))
        .await
        .expect("mapped");
    assert_eq!(outcome.events.len(), 1);
    assert_eq!(
        (outcome.events[0].kind.as_str(), &outcome.events[0].payload["calendar_id"]),
        ("calendar.events_changed", &json!(PRIMARY))
    );
    let deliveries = integration_core::store::DeliveryStore::list_deliveries(
        store.as_ref(),
        &ids().0,
        &integration_core::store::DeliveryQuery::new().limit(10),
    )
    .await
    .expect("listed");
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliver(sent[0].1.clone()).await, 200, "the same message again: a duplicate, acknowledged");
    let again = integration_core::store::DeliveryStore::list_deliveries(
        store.as_ref(),
        &ids().0,
        &integration_core::store::DeliveryQuery::new().limit(10),
    )
    .await
    .expect("listed");
    assert_eq!(again.len(), 2, "recorded once");
    // Another token: refused.
    let mut forged = sent[0].1.clone();
    forged.insert("x-goog-channel-token", "not-the-token".parse().expect("a header"));
    forged.insert("x-goog-message-number", "99".parse().expect("a header"));
    assert_eq!(deliver(forged).await, 401);

    // Ten minutes before it expires, the channel is renewed: a new one, the old stopped.
    let expires = channel.expires_at.expect("an expiry");
    let renewal = renew(
        calendar.as_ref(),
        vec![channel.clone()],
        (address, token, chrono::Duration::hours(1)),
        expires - chrono::Duration::minutes(5),
        chrono::Duration::minutes(10),
    )
    .await
    .expect("renewed");
    assert!(renewal.lapsed.is_empty());
    assert_eq!(renewal.channels.len(), 1);
    assert_ne!(renewal.channels[0].id, channel.id);
    assert_eq!(fake.channels(), [(renewal.channels[0].id.clone(), PRIMARY.to_owned())]);
    // Not due: kept as it is.
    let kept = renew(
        calendar.as_ref(),
        renewal.channels.clone(),
        (address, token, chrono::Duration::hours(1)),
        chrono::Utc::now(),
        chrono::Duration::minutes(10),
    )
    .await
    .expect("kept");
    assert_eq!(kept.channels, renewal.channels);
    // Lapsed: made again, and its calendar named, so a sync fills the gap.
    fake.expire_channels();
    fake.take_notifications();
    fake.put_event(PRIMARY, event("evt00002", 8, "missed"));
    assert!(fake.take_notifications().is_empty(), "an expired channel announces nothing");
    let mut lapsed = kept.channels.clone();
    lapsed[0].expires_at = Some(chrono::Utc::now() - chrono::Duration::seconds(1));
    let renewal = renew(
        calendar.as_ref(),
        lapsed,
        (address, token, chrono::Duration::hours(1)),
        chrono::Utc::now(),
        chrono::Duration::minutes(10),
    )
    .await
    .expect("made again");
    assert_eq!(renewal.lapsed, [PRIMARY.to_owned()]);
    assert_eq!(fake.channels().len(), 1);
}
