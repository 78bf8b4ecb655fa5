//! An identity provider deactivates a user through the SCIM server; the offboarding automation
//! runs once — not on creation, not again when the same state is sent again — with the user's
//! id and name, and the user's sessions have ended before it runs.
#![cfg(feature = "sso")]

use std::sync::Arc;

use chrono::Utc;
use integration_automation::provisioning::TriggerOnProvisioning;
use integration_automation::{Actions, Engine, HostPolicy, HttpRequest, load};
use integration_core::store::MemoryStore;
use integration_core::{ConnectionId, TenantId};
use integration_sso::scim::server::{NoEvents, ScimServer, StaticScimTokens};
use integration_sso::scim::store::MemoryScimStore;
use integration_sso::session::store::MemorySessionStore;
use integration_sso::session::{Check, RevokeOnDeprovisioning, SessionPolicy, Sessions};
use integration_testkit::fake::FakeServer;
use integration_testkit::fake::receiver::Receiver;
use serde_json::{Value, json};

const TOKEN: &str = "scim-token-for-acme-offboarding-0123";

const OFFBOARD: &str = r#"{
  "id": "offboard",
  "trigger": { "event": { "type": "scim.user.deactivated", "connection": "scim" } },
  "steps": [
    { "action": "http.request",
      "input": { "url": "http://127.0.0.1:PORT/offboarded",
                 "body": { "user": "{{ payload.id }}", "name": "{{ payload.resource.userName }}", "tenant": "{{ payload.tenant }}" } } }
  ]
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivation_through_scim_starts_the_offboarding_automation_once() {
    let tenant = TenantId::new("acme").expect("tenant");
    let received = Receiver::start("HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
    let http = HttpRequest::new(HostPolicy::new().allow_host("127.0.0.1").allow_plain_http().allow_private_addresses());
    let actions = Actions::new().with(Arc::new(http)).expect("actions");
    let automation =
        load::from_json(&OFFBOARD.replace("PORT", &received.port().to_string()), &actions).expect("loaded");
    let engine = Engine::new(Arc::new(MemoryStore::new()), actions).with_automation(automation).expect("an engine");

    let sessions = Sessions::new(Arc::new(MemorySessionStore::new()), SessionPolicy::default());
    let revoke = Arc::new(RevokeOnDeprovisioning::new(sessions.clone(), Arc::new(NoEvents)));
    let events = Arc::new(TriggerOnProvisioning::new(revoke, engine.clone(), ConnectionId::new("scim").expect("id")));
    let tokens = Arc::new(StaticScimTokens::new().with(TOKEN, tenant.clone()));
    let server = FakeServer::start_with(move |base| {
        let scim =
            ScimServer::new(Arc::new(MemoryScimStore::new()), tokens, format!("{base}/scim/v2")).with_events(events);
        axum::Router::new().nest("/scim/v2", scim.router())
    })
    .await;
    let base = format!("{}/scim/v2", server.base_url());
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, url: String, body: Value| {
        http.request(method, url)
            .bearer_auth(TOKEN)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
    };

    let made: Value = send(reqwest::Method::POST, format!("{base}/Users"), json!({"userName": "ada", "active": true}))
        .await
        .expect("made")
        .json()
        .await
        .expect("JSON");
    let id = made["id"].as_str().expect("an id").to_owned();
    let (token, _) = sessions.start(&tenant, &id, Default::default(), Utc::now()).await.expect("a session");
    assert_eq!(engine.worker("w").run_until_idle().await.expect("ran").claimed, 0, "a creation offboards nobody");

    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    for _ in 0..2 {
        let answer = send(reqwest::Method::PATCH, format!("{base}/Users/{id}"), off.clone()).await.expect("patched");
        assert!(answer.status().is_success(), "{}", answer.status());
    }
    assert!(matches!(sessions.check(&token, Utc::now()).await.expect("checked"), Check::Ended(_)), "sessions ended");
    assert_eq!(engine.worker("w").run_until_idle().await.expect("ran").succeeded, 1);
    assert_eq!(engine.worker("w").run_until_idle().await.expect("ran").claimed, 0, "once");

    let requests = received.requests();
    assert_eq!(requests.len(), 1, "one offboarding call");
    let body: Value = serde_json::from_str(&requests[0].body).expect("JSON");
    assert_eq!(body, json!({"user": id, "name": "ada", "tenant": "acme"}));
}
