//! The console's JSON API and page: tenant scoping, CSRF and the host's check on every action,
//! what it shows (failed runs first, rejected records, deliveries, notifications) and that no
//! secret is ever in it.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use common::{World, acme, globex};
use integration_core::schedule::PAUSED_STREAMS;
use integration_core::store::{ConfigStore, DeliveryOutcome, DeliveryStatus, DeliveryStore, WebhookDelivery};
use integration_core::{CancellationToken, ConnectionId, ConnectionStatus, DeliveryId, ProviderId, SyncJob, SyncMode};
use reqwest::StatusCode;
use serde_json::Value;

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_session_sees_only_its_tenants() {
    let world = World::start().await;
    world.connect_bamboohr(acme(), "hr").await;
    world.connect_bamboohr(globex(), "globex-hr").await;

    let mine = json(world.get("alice", "api/tenants/acme/connections").await).await;
    let names: Vec<&str> =
        mine["connections"].as_array().unwrap().iter().map(|c| c["connection"].as_str().unwrap()).collect();
    assert_eq!(names, ["hr"]);

    for path in [
        "api/tenants/globex/connections",
        "api/tenants/globex/runs",
        "api/tenants/globex/deliveries",
        "api/tenants/globex/automation-runs",
        "api/tenants/globex/notifications",
        "?tenant=globex",
    ] {
        let answer = world.get("alice", path).await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path}");
        let text = answer.text().await.unwrap();
        assert!(!text.contains("globex-hr"), "{path} shows nothing of globex");
    }
    let page = world.get("alice", "").await.text().await.unwrap();
    assert!(page.contains(r#"data-connection="hr""#) && !page.contains("globex-hr"));

    // Acting on globex from alice's session changes nothing, whatever the token.
    let token = world.csrf("session-alice");
    for path in [
        "api/tenants/globex/connections/globex-hr/streams/employees/pause",
        "api/tenants/globex/connections/globex-hr/disconnect",
    ] {
        assert_eq!(world.post("alice", path, Some(&token)).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let theirs = world.store.get(&globex(), &ConnectionId::new("globex-hr").unwrap()).await.unwrap().unwrap();
    assert_eq!(theirs.status, ConnectionStatus::Active);
    assert!(!theirs.settings.contains_key(PAUSED_STREAMS));

    // A run id of globex's, asked for under acme, is not found (the store is scoped too).
    let source = integration_hris::build(
        &world.bamboohr.config(globex(), ConnectionId::new("globex-hr").unwrap()),
        &Default::default(),
    )
    .unwrap();
    let job = SyncJob::new(globex(), ConnectionId::new("globex-hr").unwrap(), "employees", SyncMode::FullRefresh);
    let run = world.engine.run(source.as_ref(), &job, &CancellationToken::new()).await.unwrap();
    let answer = world.get("alice", &format!("api/tenants/acme/runs/{}", run.id)).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_hosts_check_runs_on_every_request() {
    let world = World::start().await;
    let hr = world.connect_bamboohr(acme(), "hr").await;
    assert_eq!(world.get("", "api/tenants/acme/connections").await.status(), StatusCode::UNAUTHORIZED);
    let page = world.get("", "").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/login");
    assert_eq!(world.get("mallory", "").await.status(), StatusCode::FORBIDDEN);
    let token = world.csrf("session-alice");
    let path = "api/tenants/acme/connections/hr/streams/employees/pause";
    assert_eq!(world.post("", path, Some(&token)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(world.post("mallory", path, Some(&token)).await.status(), StatusCode::FORBIDDEN);
    let stored = world.store.get(&acme(), &hr).await.unwrap().unwrap();
    assert!(!stored.settings.contains_key(PAUSED_STREAMS), "nothing changed");
}

#[tokio::test]
async fn an_action_needs_its_sessions_csrf_token() {
    let world = World::start().await;
    let hr = world.connect_bamboohr(acme(), "hr").await;
    let path = "api/tenants/acme/connections/hr/streams/employees/pause";
    let other_session = world.csrf("session-alice-2");
    for token in [None, Some("forged"), Some(other_session.as_str())] {
        let answer = world.post("alice", path, token).await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{token:?}");
        assert!(json(answer).await["error"]["message"].as_str().unwrap().contains("CSRF"));
    }
    // A read-only session cannot act even with its own token.
    let viewer = world.csrf("session-viewer");
    assert_eq!(world.post("viewer", path, Some(&viewer)).await.status(), StatusCode::FORBIDDEN);
    let stored = world.store.get(&acme(), &hr).await.unwrap().unwrap();
    assert!(!stored.settings.contains_key(PAUSED_STREAMS), "nothing changed");

    // The session's token from the session API works.
    let session = json(world.get("alice", "api/session").await).await;
    let token = session["csrf_token"].as_str().unwrap();
    assert_eq!(session["tenants"], serde_json::json!(["acme"]));
    let answer = world.post("alice", path, Some(token)).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let stored = world.store.get(&acme(), &hr).await.unwrap().unwrap();
    assert_eq!(stored.settings[PAUSED_STREAMS], serde_json::json!(["employees"]));
    let view = json(world.get("alice", "api/tenants/acme/connections").await).await;
    let stream = &view["connections"][0]["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "employees")
        .unwrap()
        .clone();
    assert_eq!(stream["paused"], true);
    // Sync now refuses a paused stream; resume, then sync now runs it.
    assert_eq!(
        world.post("alice", "api/tenants/acme/connections/hr/streams/employees/sync", Some(token)).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        world.post("alice", "api/tenants/acme/connections/hr/streams/employees/resume", Some(token)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        world.post("alice", "api/tenants/acme/connections/hr/streams/employees/sync", Some(token)).await.status(),
        StatusCode::ACCEPTED
    );
    let done = integration_testkit::poll::eventually(Duration::from_secs(20), || async {
        let runs = json(world.get("alice", "api/tenants/acme/runs").await).await;
        runs["runs"].as_array().unwrap().iter().any(|r| r["status"] == "succeeded").then_some(())
    })
    .await;
    assert!(done.is_some(), "the sync started from the console ran");
    let audited = world.store.audit_events(&acme());
    assert!(audited.iter().any(|e| e.detail.starts_with("alice: paused stream employees")), "{audited:?}");
}

#[tokio::test]
async fn failed_runs_come_first_and_rejected_records_keep_their_raw_data() {
    let world = World::start().await;
    let hr = world.connect_bamboohr(acme(), "hr").await;
    let adapter = integration_hris::build(&world.bamboohr.config(acme(), hr.clone()), &Default::default()).unwrap();
    let job = SyncJob::new(acme(), hr.clone(), "employees", SyncMode::FullRefresh);
    let ok = world.engine.run(adapter.as_ref(), &job, &CancellationToken::new()).await.unwrap();
    world.bamboohr.faults().inject(integration_testkit::fake::faults::Fault::ServerError(400), 1);
    let failed = world.engine.run(adapter.as_ref(), &job, &CancellationToken::new()).await.unwrap();
    assert_eq!(failed.status, integration_core::store::RunStatus::Failed);
    let runs = json(world.get("alice", "api/tenants/acme/runs").await).await;
    let listed: Vec<&str> = runs["runs"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(listed, [failed.id.to_string(), ok.id.to_string()]);
    assert!(runs["runs"][0]["error"]["message"].as_str().unwrap().contains("400"), "{runs}");
    let view = json(world.get("alice", "api/tenants/acme/connections").await).await;
    assert_eq!(view["connections"][0]["standing"], "degraded");
    let page = world.get("alice", "").await.text().await.unwrap();
    assert!(page.find(r#"data-status="failed""#).unwrap() < page.find(r#"data-status="succeeded""#).unwrap());
}

fn delivery(tenant: integration_core::TenantId, connection: &str, body: &'static [u8]) -> WebhookDelivery {
    let (connection, provider) = (ConnectionId::new(connection).unwrap(), ProviderId::new("bamboohr").unwrap());
    let event = format!("evt-{}", DeliveryId::new());
    WebhookDelivery::queued(tenant, connection, provider, event, Bytes::from_static(body), Utc::now())
}

#[tokio::test]
async fn a_dead_letter_is_shown_notified_and_replayed() {
    let world = World::start().await;
    world.connect_bamboohr(acme(), "hr").await;
    let dead = delivery(acme(), "hr", br#"{"employees": []}"#);
    let id = dead.id;
    world.store.record_delivery(dead).await.unwrap();
    let claimed = world.store.claim_due(10, Duration::from_secs(60)).await.unwrap();
    let outcome = DeliveryOutcome::DeadLetter { error: "no such employee".into() };
    world.store.finish_delivery(&acme(), id, claimed[0].attempts, outcome).await.unwrap();

    let listed = json(world.get("alice", "api/tenants/acme/deliveries?status=dead_lettered").await).await;
    assert_eq!(listed["deliveries"][0]["id"], id.to_string());
    assert_eq!(listed["deliveries"][0]["last_error"], "no such employee");
    let notes = json(world.get("alice", "api/tenants/acme/notifications").await).await;
    assert_eq!(notes["notifications"][0]["kind"], "webhook_dead_lettered", "{notes}");
    // Bob cannot replay it.
    let bob = world.csrf("session-bob");
    assert_eq!(
        world.post("bob", &format!("api/tenants/acme/deliveries/{id}/replay"), Some(&bob)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(world.store.delivery(&acme(), id).await.unwrap().unwrap().status, DeliveryStatus::DeadLettered);
    let token = world.csrf("session-alice");
    let answer = world.post("alice", &format!("api/tenants/acme/deliveries/{id}/replay"), Some(&token)).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(world.store.delivery(&acme(), id).await.unwrap().unwrap().status, DeliveryStatus::Queued);
    let bad = world.get("alice", "api/tenants/acme/deliveries?status=lost").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn disconnect_marks_the_connection_and_stops_its_schedules() {
    let world = World::start().await;
    let hr = world.connect_bamboohr(acme(), "hr").await;
    let token = world.csrf("session-alice");
    let answer = world.post("alice", "api/tenants/acme/connections/hr/disconnect", Some(&token)).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(world.connections.status(&acme(), &hr).await.unwrap(), Some(ConnectionStatus::Disconnected));
    let view = json(world.get("alice", "api/tenants/acme/connections").await).await;
    assert_eq!(view["connections"][0]["standing"], "disconnected");
    let missing = world.post("alice", "api/tenants/acme/connections/nope/disconnect", Some(&token)).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_secret_is_in_any_page_or_answer() {
    let world = World::start().await;
    let hr = ConnectionId::new("hr").unwrap();
    let config = world.bamboohr.config(acme(), hr.clone()).with_secret("api_key", "bhr-SECRET-key-0123456789");
    world.connections.save(&config).await.unwrap();
    // A host that put something secret-looking in settings: not shown either.
    world
        .connections
        .update_settings(&acme(), &hr, |s| {
            s.insert("webhook_password".into(), "pw-SECRET-0987".into());
        })
        .await
        .unwrap();
    let adapter = integration_hris::build(&world.bamboohr.config(acme(), hr.clone()), &Default::default()).unwrap();
    let job = SyncJob::new(acme(), hr.clone(), "employees", SyncMode::FullRefresh);
    world.engine.run(adapter.as_ref(), &job, &CancellationToken::new()).await.unwrap();
    let secrets =
        ["bhr-SECRET-key-0123456789", "pw-SECRET-0987", integration_testkit::fake::google_drive::CLIENT_SECRET];
    for path in [
        "",
        "api/session",
        "api/catalog",
        "api/tenants/acme/connections",
        "api/tenants/acme/runs",
        "api/tenants/acme/deliveries",
        "api/tenants/acme/automation-runs",
        "api/tenants/acme/notifications",
        "connect/bamboohr?tenant=acme&csrf=x",
    ] {
        let text = world.get("alice", path).await.text().await.unwrap();
        for secret in secrets {
            assert!(!text.contains(secret), "{path} shows a secret");
        }
    }
    let token = world.csrf("session-alice");
    let form = world.get("alice", &format!("connect/bamboohr?tenant=acme&csrf={token}")).await.text().await.unwrap();
    assert!(form.contains(r#"type="password" name="field.api_key""#), "{form}");
}
