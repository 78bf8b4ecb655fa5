//! Security analytics: second factors accepted and refused (with the reason), a lockout,
//! sessions ended early and provisioning changes reach the host's audit sink — with user ids
//! and reasons, never a code or a token.

use std::sync::Arc;

use chrono::{Duration, Utc};
use integration_core::TenantId;
use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::store::{AuditAction, AuditOutcome, MemoryStore};
use integration_sso::mfa::store::MemoryMfaStore;
use integration_sso::mfa::totp::{Totp, TotpPolicy};
use integration_sso::mfa::{Lockout, Mfa};
use integration_sso::session::store::MemorySessionStore;
use integration_sso::session::{SessionPolicy, Sessions};
use secrecy::ExposeSecret;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_factors_lockouts_and_ended_sessions_are_audited() {
    let audit = Arc::new(MemoryStore::new());
    let tenant = TenantId::new("acme").expect("tenant");
    let mfa = Mfa::new(Arc::new(MemoryMfaStore::new()), Sealer::new(KeyRing::new("k1", SealingKey::generate())))
        .with_lockout(Lockout::new(2, Duration::minutes(5)))
        .with_audit(audit.clone());
    let enrolment = mfa.enroll(&tenant, "u1", "Acme", "ada@acme.example").await.expect("enrolled");
    let totp = Totp::new(&enrolment.secret_bytes().expect("bytes"), TotpPolicy::default()).expect("a TOTP");
    let now = Utc::now();
    let code = totp.code_at(now);
    mfa.confirm(&tenant, "u1", &code, now).await.expect("checked");
    mfa.verify(&tenant, "u1", &code, now).await.expect("checked");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    mfa.verify(&tenant, "u1", wrong, now).await.expect("checked");

    let sessions =
        Sessions::new(Arc::new(MemorySessionStore::new()), SessionPolicy::default()).with_audit(audit.clone());
    let (token, _) = sessions.start(&tenant, "u1", Default::default(), now).await.expect("started");
    sessions.logout(&token).await.expect("logged out");

    let events = audit.audit_events(&tenant);
    let seen: Vec<(AuditAction, AuditOutcome, String)> = events
        .iter()
        .map(|e| (e.action, e.outcome, e.detail.split(';').next().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(
        seen,
        [
            (AuditAction::MfaChecked, AuditOutcome::Success, "user=u1".to_owned()),
            (AuditAction::MfaChecked, AuditOutcome::Failure, "replayed".to_owned()),
            (AuditAction::MfaChecked, AuditOutcome::Failure, "wrong".to_owned()),
            (AuditAction::MfaLocked, AuditOutcome::Success, "user=u1".to_owned()),
            (AuditAction::SessionEnded, AuditOutcome::Success, "user=u1 reason=logout".to_owned()),
        ]
    );
    for event in &events {
        for secret in [code.as_str(), token.expose_secret(), enrolment.secret.expose_secret()] {
            assert!(!event.detail.contains(secret), "{event:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_changes_are_audited() {
    use integration_sso::scim::server::{ScimServer, StaticScimTokens};
    use integration_sso::scim::store::MemoryScimStore;
    use serde_json::json;

    let audit = Arc::new(MemoryStore::new());
    let tenant = TenantId::new("acme").expect("tenant");
    let token = "scim-token-for-acme-audit-0123";
    let (sink, tokens) = (audit.clone(), Arc::new(StaticScimTokens::new().with(token, tenant.clone())));
    let server = integration_testkit::fake::FakeServer::start_with(move |base| {
        let scim =
            ScimServer::new(Arc::new(MemoryScimStore::new()), tokens, format!("{base}/scim/v2")).with_audit(sink);
        axum::Router::new().nest("/scim/v2", scim.router())
    })
    .await;
    let http = reqwest::Client::new();
    let base = format!("{}/scim/v2", server.base_url());
    let send = |method: reqwest::Method, url: String, body: serde_json::Value| {
        http.request(method, url)
            .bearer_auth(token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
    };
    let made: serde_json::Value =
        send(reqwest::Method::POST, format!("{base}/Users"), json!({"userName": "ada", "active": true}))
            .await
            .expect("made")
            .json()
            .await
            .expect("JSON");
    let id = made["id"].as_str().expect("an id");
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    assert!(
        send(reqwest::Method::PATCH, format!("{base}/Users/{id}"), off).await.expect("patched").status().is_success()
    );
    let details: Vec<String> = audit
        .audit_events(&tenant)
        .into_iter()
        .filter(|e| e.action == AuditAction::Provisioned)
        .map(|e| e.detail)
        .collect();
    assert_eq!(details, [format!("scim.user.created id={id}"), format!("scim.user.deactivated id={id}")]);
}
