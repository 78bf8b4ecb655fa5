//! Sessions and roles: idle and absolute timeouts, logout, the host's revocation, SCIM
//! deprovisioning ending a user's sessions through the SCIM server; tokens stored only as
//! digests; role rules checked and applied.

use std::sync::Arc;

use chrono::{Duration, Utc};
use integration_core::{ErrorKind, TenantId};
use integration_sso::roles::RoleRules;
use integration_sso::scim::server::{NoEvents, ScimServer, StaticScimTokens};
use integration_sso::scim::store::MemoryScimStore;
use integration_sso::session::store::{MemorySessionStore, SessionStore};
use integration_sso::session::{Check, Ended, RevokeOnDeprovisioning, SessionPolicy, Sessions};
use integration_testkit::fake::FakeServer;
use secrecy::ExposeSecret;
use serde_json::json;

fn sessions(store: Arc<MemorySessionStore>) -> Sessions {
    Sessions::new(store, SessionPolicy::new(Duration::minutes(30), Duration::hours(8)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_when_old_and_when_revoked() {
    let store = Arc::new(MemorySessionStore::new());
    let sessions = sessions(store.clone());
    let tenant = TenantId::new("acme").expect("tenant");
    let t0 = Utc::now();
    let (token, session) = sessions.start(&tenant, "u1", ["admin".to_owned()].into(), t0).await.expect("started");
    // The store holds the digest, never the token.
    assert!(store.get(token.expose_secret()).await.expect("read").is_none());
    assert_ne!(session.id, token.expose_secret());
    assert!(!format!("{session:?}").contains(token.expose_secret()));
    // Used every 25 minutes it lives on — until its absolute end.
    let mut at = t0;
    while at + Duration::minutes(25) < t0 + Duration::hours(8) {
        at += Duration::minutes(25);
        assert!(matches!(sessions.check(&token, at).await.expect("checked"), Check::Valid(_)), "at {at}");
    }
    assert_eq!(sessions.check(&token, t0 + Duration::hours(8)).await.expect("checked"), Check::Ended(Ended::Absolute));
    // Idle for more than 30 minutes: over.
    let (idle, _) = sessions.start(&tenant, "u1", Default::default(), t0).await.expect("started");
    assert_eq!(sessions.check(&idle, t0 + Duration::minutes(31)).await.expect("checked"), Check::Ended(Ended::Idle));
    // Logout, then the host ending the user's others.
    let (a, _) = sessions.start(&tenant, "u2", Default::default(), t0).await.expect("started");
    let (b, _) = sessions.start(&tenant, "u2", Default::default(), t0).await.expect("started");
    sessions.logout(&a).await.expect("logged out");
    sessions.logout(&a).await.expect("twice is done");
    assert_eq!(sessions.check(&a, t0).await.expect("checked"), Check::Ended(Ended::Revoked("logout".into())));
    assert_eq!(sessions.revoke_user(&tenant, "u2", "password changed").await.expect("revoked"), 1);
    assert_eq!(sessions.check(&b, t0).await.expect("checked"), Check::Ended(Ended::Revoked("password changed".into())));
    assert_eq!(sessions.revoke_user(&tenant, "u2", " ").await.expect_err("a reason").kind(), ErrorKind::Validation);
    let unknown = secrecy::SecretString::from("0".repeat(64));
    assert_eq!(sessions.check(&unknown, t0).await.expect("checked"), Check::Ended(Ended::Unknown));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_deactivated_through_scim_loses_their_sessions() {
    let store = Arc::new(MemorySessionStore::new());
    let sessions = sessions(store);
    let tenant = TenantId::new("acme").expect("tenant");
    let token = "scim-token-for-acme-0123456789";
    let scim_store = Arc::new(MemoryScimStore::new());
    let events = Arc::new(RevokeOnDeprovisioning::new(sessions.clone(), Arc::new(NoEvents)));
    let tokens = Arc::new(StaticScimTokens::new().with(token, tenant.clone()));
    let server = FakeServer::start_with(move |base| {
        let scim = ScimServer::new(scim_store, tokens, format!("{base}/scim/v2")).with_events(events);
        axum::Router::new().nest("/scim/v2", scim.router())
    })
    .await;
    let http = reqwest::Client::new();
    let base = format!("{}/scim/v2", server.base_url());
    let created: serde_json::Value = http
        .post(format!("{base}/Users"))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(json!({"userName": "ada", "active": true}).to_string())
        .send()
        .await
        .expect("created")
        .json()
        .await
        .expect("JSON");
    let id = created["id"].as_str().expect("an id").to_owned();
    let now = Utc::now();
    let (browser, _) = sessions.start(&tenant, &id, Default::default(), now).await.expect("signed in");
    let (other, _) = sessions.start(&tenant, "someone-else", Default::default(), now).await.expect("signed in");
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                            "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let status = http
        .patch(format!("{base}/Users/{id}"))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(deactivate.to_string())
        .send()
        .await
        .expect("patched")
        .status();
    assert_eq!(status, 200);
    assert_eq!(
        sessions.check(&browser, now).await.expect("checked"),
        Check::Ended(Ended::Revoked("deactivated by the identity provider".into()))
    );
    assert!(matches!(sessions.check(&other, now).await.expect("checked"), Check::Valid(_)));
}

#[test]
fn role_rules_are_checked_and_name_the_bad_rule() {
    for (rules, field) in [
        (json!([{"group": "Eng", "role": "dev"}, {"group": "Ops", "role": "has space"}]), "rules[1].role"),
        (json!([{"claim": " ", "equals": 1, "role": "x"}]), "rules[0].claim"),
    ] {
        let rules: RoleRules = serde_json::from_value(rules).expect("parsed");
        assert_eq!(rules.check().expect_err("refused").field(), Some(field));
    }
    assert!(serde_json::from_value::<RoleRules>(json!([{"role": "dev"}])).is_err(), "a rule needs a group or a claim");
    let rules: RoleRules =
        serde_json::from_value(json!([{"claim": "address.country", "equals": "CA", "role": "canada"}]))
            .expect("parsed");
    assert_eq!(rules.roles(&json!({"address": {"country": "CA"}})).len(), 1);
    assert!(rules.roles(&json!({"address": "CA"})).is_empty());
}
