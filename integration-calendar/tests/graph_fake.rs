//! The Microsoft Graph adapter against the testkit's `FakeGraphCalendar` — what is Graph's own
//! beyond the contract: delta links across calendars and an expired one answered by a full
//! read that loses and duplicates nothing; series, their occurrences, exceptions and deleted
//! occurrences; patterns written as `RRULE`s expanding to exactly Graph's occurrences; Windows
//! zone names; a create whose answer is lost; getSchedule; calendar permissions; and
//! subscriptions through the webhook router — the validation handshake, `clientState`, renewal
//! in place and after a lapse.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use integration_calendar::{AccessRole, Calendar, Event, EventTime, Interval, ListRequest, OperationKey, Recurrence};
use integration_core::store::{MemoryStore, RunStatus, StreamScope};
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, ErrorKind, SyncEngine, SyncJob, SyncMode, TenantId,
};
use integration_testkit::fake::faults::Fault;
use integration_testkit::fake::graph_calendar::{DEFAULT_CALENDAR, FakeGraphCalendar, TEAM_CALENDAR, USER};
use serde_json::{Value, json};

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("acme").expect("tenant"), ConnectionId::new("outlook").expect("connection"))
}

fn connect(fake: &FakeGraphCalendar) -> Arc<dyn Calendar> {
    let (tenant, connection) = ids();
    let config =
        fake.config(tenant, connection).with_setting("sync_past_days", "3650").with_setting("sync_future_days", "3650");
    integration_calendar::build(&config, &BuildContext::default()).expect("built")
}

/// Graph's JSON for a one-hour meeting on `day` of December 2026 at 09:00 in `zone`.
fn meeting(id: &str, day: u32, subject: &str, zone: &str) -> Value {
    json!({"id": id, "subject": subject,
           "start": {"dateTime": format!("2026-12-{day:02}T09:00:00.0000000"), "timeZone": zone},
           "end": {"dateTime": format!("2026-12-{day:02}T10:00:00.0000000"), "timeZone": zone}})
}

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("a time")
}

fn december() -> Interval {
    Interval::new(utc(2026, 12, 1, 0), utc(2027, 1, 1, 0)).expect("a month")
}

async fn cached(store: &MemoryStore) -> BTreeSet<String> {
    let (tenant, connection) = ids();
    integration_testkit::cache::cached_ids(store, &StreamScope::new(tenant, connection, "events")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_delta_link_is_answered_by_a_full_read_that_loses_and_duplicates_nothing() {
    let fake = FakeGraphCalendar::start().await;
    for n in 0..5 {
        fake.put_event(DEFAULT_CALENDAR, meeting(&format!("evt{n}"), 7 + n, "default", "W. Europe Standard Time"));
    }
    fake.put_event(TEAM_CALENDAR, meeting("team1", 8, "team", "Eastern Standard Time"));
    let calendar = connect(&fake);
    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "w1");
    let (tenant, connection) = ids();
    let job = SyncJob::new(tenant, connection, "events", SyncMode::Incremental);
    let first = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!((first.status, first.counts.added), (RunStatus::Succeeded, 6), "{:?}", first.error);

    // Incremental: one changed, one deleted — read through the delta links.
    fake.put_event(DEFAULT_CALENDAR, meeting("evt0", 7, "renamed", "W. Europe Standard Time"));
    fake.delete_event(TEAM_CALENDAR, "team1");
    let second = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!((second.counts.added, second.counts.updated, second.counts.deleted), (0, 1, 1), "{:?}", second.counts);

    // Another change, and every delta link expires: a full read, nothing lost, nothing twice.
    fake.put_event(DEFAULT_CALENDAR, meeting("evt1", 8, "renamed too", "W. Europe Standard Time"));
    fake.delete_event(DEFAULT_CALENDAR, "evt4");
    fake.expire_delta_links();
    let third = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!(third.status, RunStatus::Succeeded, "{:?}", third.error);
    assert_eq!((third.counts.added, third.counts.updated, third.counts.deleted), (0, 1, 1), "{:?}", third.counts);
    let expected: BTreeSet<String> = (0..4).map(|n| format!("evt{n}")).collect();
    assert_eq!(cached(&store).await, expected);

    // The links of the full read work again.
    fake.put_event(TEAM_CALENDAR, meeting("team2", 20, "added", "Eastern Standard Time"));
    let fourth = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!((fourth.counts.added, fourth.counts.updated, fourth.counts.deleted), (1, 0, 0), "{:?}", fourth.counts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_zone_names_read_as_iana_zones_and_are_written_back() {
    let fake = FakeGraphCalendar::start().await;
    fake.put_event(TEAM_CALENDAR, meeting("west", 9, "west coast", "Pacific Standard Time"));
    let calendar = connect(&fake);
    let read = calendar.event(TEAM_CALENDAR, "west").await.expect("read");
    let nine = NaiveDate::from_ymd_opt(2026, 12, 9).and_then(|d| d.and_hms_opt(9, 0, 0)).expect("t");
    assert_eq!(read.fields.start, EventTime::zoned(nine, "America/Los_Angeles"));
    assert_eq!(read.fields.start.instant(chrono_tz::UTC).expect("an instant"), utc(2026, 12, 9, 17));
    // Written back: the Windows name again.
    let updated = calendar.update_event(TEAM_CALENDAR, "west", &read.fields).await.expect("updated");
    assert_eq!(
        updated.remote_data.as_ref().and_then(|r| r["originalStartTimeZone"].as_str()),
        Some("Pacific Standard Time")
    );
    // An all-day event is a date.
    fake.put_event(
        TEAM_CALENDAR,
        json!({"id": "allday", "subject": "offsite", "isAllDay": true,
               "start": {"dateTime": "2026-12-10T00:00:00.0000000", "timeZone": "UTC"},
               "end": {"dateTime": "2026-12-12T00:00:00.0000000", "timeZone": "UTC"}}),
    );
    let offsite = calendar.event(TEAM_CALENDAR, "allday").await.expect("read");
    assert_eq!(offsite.fields.start, EventTime::date(NaiveDate::from_ymd_opt(2026, 12, 10).expect("d")));
    assert_eq!(offsite.fields.end, EventTime::date(NaiveDate::from_ymd_opt(2026, 12, 12).expect("d")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_reads_once_with_its_exception_and_without_its_deleted_occurrence() {
    let fake = FakeGraphCalendar::start().await;
    let calendar = connect(&fake);
    let zone = "Europe/Berlin";
    let at = |day: u32, hour: u32| {
        NaiveDate::from_ymd_opt(2026, 12, day).and_then(|d| d.and_hms_opt(hour, 0, 0)).expect("t")
    };
    let mut weekly = Event::new("standup", EventTime::zoned(at(1, 9), zone), EventTime::zoned(at(1, 10), zone));
    weekly.recurrence = Some(Recurrence::rule("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8"));
    let key = OperationKey::new("series-1").expect("key");
    let series = calendar.create_event(DEFAULT_CALENDAR, &key, &weekly).await.expect("made");
    let rule = series.fields.recurrence.as_ref().map(|r| r.rules.clone());
    assert_eq!(rule, Some(vec!["FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8".to_owned()]));

    // Another client moves the 3 December occurrence to 11:00 and deletes the 10th's.
    let moved_id = format!("{}_20261203", series.remote_id);
    let occurrence = calendar.event(DEFAULT_CALENDAR, &moved_id).await.expect("an occurrence");
    assert_eq!(occurrence.fields.recurring_event_id.as_deref(), Some(series.remote_id.as_str()));
    assert_eq!(occurrence.fields.original_start, Some(EventTime::zoned(at(3, 9), zone)));
    let mut later = occurrence.fields.clone();
    (later.start, later.end) = (EventTime::zoned(at(3, 11), zone), EventTime::zoned(at(3, 12), zone));
    calendar.update_event(DEFAULT_CALENDAR, &moved_id, &later).await.expect("moved");
    calendar.delete_event(DEFAULT_CALENDAR, &format!("{}_20261210", series.remote_id), None).await.expect("deleted");

    let found = calendar.events_between(DEFAULT_CALENDAR, &december()).await.expect("found");
    assert_eq!(found.len(), 1, "the series once: {found:?}");
    let event = &found[0].fields;
    assert_eq!(event.exceptions.len(), 1);
    assert_eq!(event.recurrence.as_ref().map(|r| r.exceptions.clone()), Some(vec![EventTime::zoned(at(10, 9), zone)]));
    let expansion =
        integration_calendar::recurrence::expand(event, &december(), chrono_tz::UTC, 100).expect("expanded");
    let starts: Vec<String> = expansion.occurrences.iter().map(|o| o.start.format("%d %H:%M").to_string()).collect();
    assert_eq!(starts, ["01 08:00", "03 10:00", "08 08:00", "15 08:00", "17 08:00", "22 08:00", "24 08:00"]);
    // Busy times agree.
    let busy = calendar.free_busy(&[DEFAULT_CALENDAR.to_owned()], &december()).await.expect("busy");
    assert_eq!(busy[0].busy.len(), 7);

    // The sync stream holds the occurrences Graph lists: the instances, not the series.
    let page = calendar.events(ListRequest::first()).await.expect("a page");
    let instances: Vec<&str> = page.items.iter().map(|e| e.remote_id.as_str()).collect();
    assert_eq!(instances.len(), 7, "{instances:?}");
    assert!(page.items.iter().all(|e| e.fields.recurrence.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_is_lost_is_one_event() {
    let fake = FakeGraphCalendar::start().await;
    let calendar = connect(&fake);
    let zone = "Europe/Berlin";
    let at = |hour: u32| NaiveDate::from_ymd_opt(2026, 12, 14).and_then(|d| d.and_hms_opt(hour, 0, 0)).expect("t");
    let event = Event::new("lost answer", EventTime::zoned(at(9), zone), EventTime::zoned(at(10), zone));
    fake.faults().inject(Fault::TruncatedBody, 1);
    let made =
        calendar.create_event(TEAM_CALENDAR, &OperationKey::new("lost-1").expect("key"), &event).await.expect("made");
    fake.faults().inject(Fault::ServerError(503), 1);
    let again =
        calendar.create_event(TEAM_CALENDAR, &OperationKey::new("lost-1").expect("key"), &event).await.expect("again");
    assert_eq!(made.remote_id, again.remote_id);
    assert_eq!(fake.event_ids(TEAM_CALENDAR), std::slice::from_ref(&made.remote_id), "one event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_asked_through_get_schedule_and_calendars_are_shared() {
    let fake = FakeGraphCalendar::start().await;
    let calendar = connect(&fake);
    fake.put_event(DEFAULT_CALENDAR, meeting("mine", 7, "mine", "UTC"));
    fake.set_schedule(
        "grace@contoso.example",
        vec![
            (utc(2026, 12, 7, 13), utc(2026, 12, 7, 14), "busy"),
            (utc(2026, 12, 7, 15), utc(2026, 12, 7, 16), "free"),
        ],
    );
    let day = Interval::new(utc(2026, 12, 7, 0), utc(2026, 12, 8, 0)).expect("a day");
    let people = [USER.to_owned(), "grace@contoso.example".to_owned()];
    let busy = calendar.free_busy(&people, &day).await.expect("free/busy");
    let spans: Vec<(u32, u32)> = busy
        .iter()
        .map(|b| (b.busy[0].start.format("%H").to_string().parse().unwrap_or(0), b.busy.len() as u32))
        .collect();
    assert_eq!(spans, [(9, 1), (13, 1)]);
    let nobody = calendar.free_busy(&["nobody@contoso.example".to_owned()], &day).await.expect_err("unknown");
    assert_eq!(nobody.kind(), ErrorKind::Provider, "{nobody}");

    calendar.share(TEAM_CALENDAR, "grace@contoso.example", AccessRole::Reader).await.expect("shared");
    calendar.share(TEAM_CALENDAR, "grace@contoso.example", AccessRole::Writer).await.expect("changed, not doubled");
    assert_eq!(fake.permissions(TEAM_CALENDAR).get("grace@contoso.example").map(String::as_str), Some("write"));
    let owner = calendar.share(TEAM_CALENDAR, "grace@contoso.example", AccessRole::Owner).await.expect_err("no owner");
    assert_eq!(owner.kind(), ErrorKind::Validation);
    calendar.unshare(TEAM_CALENDAR, "grace@contoso.example").await.expect("unshared");
    calendar.unshare(TEAM_CALENDAR, "grace@contoso.example").await.expect("unsharing twice is done");
    assert!(!fake.permissions(TEAM_CALENDAR).contains_key("grace@contoso.example"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_pass_the_handshake_announce_changes_and_are_renewed_in_place() {
    use integration_calendar::notifications::renew;
    use integration_core::webhook::{Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret};
    use integration_core::{ProviderId, VerifiedWebhook, WebhookScheme};

    let fake = FakeGraphCalendar::start().await;
    let calendar = connect(&fake);
    let secret = "graph-client-state-for-ada-0123456789";
    let store = Arc::new(MemoryStore::new());
    let endpoints = Arc::new(StaticEndpoints::new());
    let (tenant, connection) = ids();
    let provider = ProviderId::new("microsoft_calendar").expect("id");
    let endpoint = Endpoint::new(
        tenant.clone(),
        connection,
        provider,
        WebhookScheme::GraphClientState,
        vec![WebhookSecret::new(secret)],
    );
    endpoints.add_endpoint("ada", endpoint).expect("endpoint");
    let router = Arc::new(WebhookRouter::new(endpoints, store.clone(), store.clone()));
    let server = integration_testkit::fake::FakeServer::start(integration_core::webhook::axum::routes(router)).await;
    let address = format!("{}/microsoft_calendar/ada", server.base_url());
    let ttl = Duration::hours(2);

    // Graph checks the endpoint first: the router echoes its validation token.
    let channel = calendar.watch(TEAM_CALENDAR, &address, secret, ttl).await.expect("subscribed");
    assert_eq!(fake.subscriptions().len(), 1);
    // An endpoint that does not answer the check gets no subscription.
    let refused = calendar.watch(TEAM_CALENDAR, &format!("{}/nowhere", fake.base_url()), secret, ttl).await;
    assert_eq!(refused.expect_err("refused").status(), Some(400));

    // A change is announced with the clientState: verified, recorded, mapped.
    fake.put_event(TEAM_CALENDAR, meeting("new1", 7, "new", "UTC"));
    let sent = fake.take_notifications();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, address);
    let http = reqwest::Client::new();
    let post = |body: &Value| http.post(&address).json(body).send();
    assert!(post(&sent[0].1).await.expect("posted").status().is_success(), "acknowledged");
    let outcome = calendar
        .handle_webhook(VerifiedWebhook::trusted(
            Default::default(),
            serde_json::to_vec(&sent[0].1).expect("json"),
            None,
            Utc::now(),
        ))
        .await
        .expect("mapped");
    assert_eq!(outcome.events.len(), 1);
    assert_eq!(outcome.events[0].kind, "calendar.events_changed");
    assert_eq!(outcome.events[0].payload["channel_id"], json!(channel.id));
    assert_eq!(outcome.events[0].payload["event_id"], json!("new1"));
    // Another clientState: refused.
    let mut forged = sent[0].1.clone();
    forged["value"][0]["clientState"] = json!("not-the-secret");
    assert_eq!(post(&forged).await.expect("posted").status(), 401);

    // Near its expiry it is renewed in place: the same subscription, later.
    let expires = channel.expires_at.expect("an expiry");
    let renewal = renew(
        calendar.as_ref(),
        vec![channel.clone()],
        (&address, secret, Duration::hours(24)),
        expires - Duration::minutes(5),
        Duration::minutes(10),
    )
    .await
    .expect("renewed");
    assert!(renewal.lapsed.is_empty());
    assert_eq!(renewal.channels[0].id, channel.id);
    assert!(renewal.channels[0].expires_at > channel.expires_at);
    assert_eq!(fake.subscriptions().len(), 1);

    // Once Graph has let it go, it is made anew and its calendar named for a sync, which
    // finds what changed while nobody was told.
    let engine = SyncEngine::new(store.clone(), store.clone(), "w1");
    let job = SyncJob::new(tenant, ids().1, "events", SyncMode::Incremental);
    let before = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!((before.status, before.counts.added), (RunStatus::Succeeded, 1), "{:?}", before.error);
    fake.expire_subscriptions();
    fake.put_event(TEAM_CALENDAR, meeting("missed", 8, "missed", "UTC"));
    assert!(fake.take_notifications().is_empty(), "a lapsed subscription announces nothing");
    let mut gone = renewal.channels.clone();
    gone[0].expires_at = Some(Utc::now() - Duration::seconds(1));
    let renewal = renew(calendar.as_ref(), gone, (&address, secret, ttl), Utc::now(), Duration::minutes(10))
        .await
        .expect("remade");
    assert_eq!(renewal.lapsed, [TEAM_CALENDAR.to_owned()]);
    assert_ne!(renewal.channels[0].id, channel.id);
    let gap = engine.run(calendar.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!(
        (gap.counts.added, gap.counts.updated, gap.counts.deleted),
        (1, 0, 0),
        "the missed event: {:?}",
        gap.counts
    );
    assert!(cached(&store).await.contains("missed"));
    calendar.stop_watching(&renewal.channels[0]).await.expect("stopped");
    calendar.stop_watching(&renewal.channels[0]).await.expect("stopping twice is done");
    assert!(fake.subscriptions().is_empty());
}

mod patterns {
    use proptest::prelude::*;

    use super::*;

    const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

    /// The rules Graph can hold, in every shape: daily, weekly on some days (with a week start),
    /// monthly on a day or the nth weekday, yearly likewise; a count or an end date.
    fn rules() -> impl Strategy<Value = String> {
        let days = prop::sample::subsequence(DAYS.to_vec(), 1..=7).prop_map(|d| d.join(","));
        let ordinal = prop::sample::select(vec![1, 2, 3, 4, -1]);
        let day = prop::sample::select(DAYS.to_vec());
        let shape = prop_oneof![
            (1u32..4).prop_map(|i| format!("FREQ=DAILY;INTERVAL={i}")),
            (1u32..4, days.clone(), prop::sample::select(vec!["MO", "SU"]))
                .prop_map(|(i, d, w)| format!("FREQ=WEEKLY;INTERVAL={i};BYDAY={d};WKST={w}")),
            (1u32..4, 1u32..=28).prop_map(|(i, d)| format!("FREQ=MONTHLY;INTERVAL={i};BYMONTHDAY={d}")),
            (1u32..4, ordinal.clone(), day.clone())
                .prop_map(|(i, n, d)| format!("FREQ=MONTHLY;INTERVAL={i};BYDAY={n}{d}")),
            (days, ordinal.clone()).prop_map(|(d, n)| format!("FREQ=MONTHLY;BYDAY={d};BYSETPOS={n}")),
            (1u32..3, 1u32..=12, 1u32..=28)
                .prop_map(|(i, m, d)| format!("FREQ=YEARLY;INTERVAL={i};BYMONTH={m};BYMONTHDAY={d}")),
            (1u32..=12, ordinal, day).prop_map(|(m, n, d)| format!("FREQ=YEARLY;BYMONTH={m};BYDAY={n}{d}")),
        ];
        let end =
            prop_oneof![(1u32..12).prop_map(|n| format!("COUNT={n}")), (30i64..700).prop_map(|d| format!("UNTIL+{d}"))];
        (shape, end).prop_map(|(shape, end)| format!("{shape};{end}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        /// A rule written as an `RRULE` and stored by Graph as a pattern: the occurrences Graph
        /// lists (the fake walks its pattern day by day) are exactly those the `RRULE` read
        /// back expands to.
        #[test]
        fn patterns_written_as_rrules_expand_to_exactly_graphs_occurrences(
            rule in rules(),
            offset in 0i64..500,
            hour in 8u32..20,
            zone in prop::sample::select(vec!["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"]),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async {
                let fake = FakeGraphCalendar::start().await;
                let calendar = connect(&fake);
                let first = NaiveDate::from_ymd_opt(2026, 1, 1).expect("d") + Duration::days(offset);
                let candidate = first.and_hms_opt(hour, 0, 0).expect("t");
                let rule = match rule.split_once(";UNTIL+") {
                    Some((head, days)) => {
                        let until = first + Duration::days(days.parse::<i64>().expect("days"));
                        format!("{head};UNTIL={}T235959Z", until.format("%Y%m%d"))
                    }
                    None => rule,
                };
                // The series starts on the rule's first occurrence from the candidate.
                let mut probe = Event::new("probe", EventTime::zoned(candidate, zone), EventTime::zoned(candidate + Duration::minutes(30), zone));
                probe.recurrence = Some(Recurrence::rule(rule.clone()));
                // Inside the synced calendar view (ten years either side of now).
                let wide = Interval::new(utc(2025, 1, 1, 0), utc(2036, 6, 1, 0)).expect("a window");
                let tz: chrono_tz::Tz = zone.parse().expect("a zone");
                let Some(begins) = integration_calendar::recurrence::expand(&probe, &wide, tz, 10_000)
                    .expect("expanded").occurrences.first().map(|o| o.start.with_timezone(&tz).naive_local())
                else {
                    return Ok(());
                };
                let mut series = probe.clone();
                (series.start, series.end) = (EventTime::zoned(begins, zone), EventTime::zoned(begins + Duration::minutes(30), zone));
                let made = calendar
                    .create_event(TEAM_CALENDAR, &OperationKey::new("pattern").expect("key"), &series)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("{rule}: {e}")))?;
                let read = calendar.event(TEAM_CALENDAR, &made.remote_id).await.expect("read");
                let expected: Vec<DateTime<Utc>> = integration_calendar::recurrence::expand(&read.fields, &wide, tz, 10_000)
                    .expect("expanded").occurrences.iter().map(|o| o.start).collect();
                let mut listed = Vec::new();
                let mut request = ListRequest::first();
                loop {
                    let page = calendar.events(request.clone()).await.expect("a page");
                    for item in &page.items {
                        listed.push(item.fields.start.instant(tz).expect("an instant"));
                    }
                    match page.next {
                        Some(next) => request = request.at(Some(next)),
                        None => break,
                    }
                }
                listed.retain(|at| wide.start <= *at && *at < wide.end);
                listed.sort();
                let rule_read = read.fields.recurrence.as_ref().map(|r| r.rules.join(" ")).unwrap_or_default();
                prop_assert_eq!(listed, expected, "{} (read back as {}) from {} in {}", rule, rule_read, begins, zone);
                Ok(())
            })?;
        }
    }
}

/// The catalog's spec alone (no adapter) pages Graph's calendar view delta: the page size as
/// `Prefer: odata.maxpagesize`, next links followed, the delta link ending the round and
/// listing what changed since.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_spec_pages_the_delta_round_by_preference() {
    use integration_core::spec::{SpecClient, catalog_spec};

    let fake = FakeGraphCalendar::start().await;
    for n in 0..5 {
        fake.put_event(DEFAULT_CALENDAR, meeting(&format!("evt{n}"), 7 + n, "default", "UTC"));
    }
    let (tenant, connection) = ids();
    let spec = catalog_spec("microsoft_calendar").expect("in the catalog");
    let client = SpecClient::new(spec, &fake.config(tenant, connection), &BuildContext::default()).expect("a client");
    let path = format!(
        "/me/calendars/{DEFAULT_CALENDAR}/calendarView/delta?startDateTime=2026-12-01T00:00:00Z&endDateTime=2027-01-01T00:00:00Z"
    );
    let (mut pages, mut seen, mut at, mut delta) = (0, 0, None, None);
    while delta.is_none() {
        let page = client.page(&path, at.as_deref(), Some(2)).await.expect("a page");
        assert!(page.records.len() <= 2, "the preference is the page size");
        (pages, seen) = (pages + 1, seen + page.records.len());
        (at, delta) = (page.next, page.delta);
    }
    assert_eq!((pages, seen), (3, 5));
    fake.delete_event(DEFAULT_CALENDAR, "evt2");
    let changes = client.changes(&path, &delta.expect("a delta link"), Some(2)).await.expect("the changes");
    assert_eq!(
        changes.records,
        [json!({"@odata.type": "#microsoft.graph.event", "id": "evt2", "@removed": {"reason": "deleted"}})]
    );
}
