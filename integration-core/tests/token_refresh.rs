//! The token manager against a wiremock provider: one refresh for many concurrent requests, in
//! one process and across two; 401 → one refresh → one retry; a revoked grant marks the
//! connection; a rotated refresh token is stored before the new access token is used; JWT
//! bearer assertions; no token in logs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use integration_core::auth::{
    AuthEvent, JwtBearer, OAuth2Client, OAuth2Endpoints, OAuth2Source, ServiceAccountKey, TokenManager, TokenSet,
};
use integration_core::crypto::{KeyRing, SealedBox, Sealer, SealingKey};
use integration_core::http::{HttpClient, HttpPolicy, ProviderClient};
use integration_core::store::{AuditAction, Lease, MemoryStore, StoredToken, TokenStore};
use integration_core::*;
use integration_testkit::capture::capture_tracing;
use secrecy::ExposeSecret;
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const OLD_ACCESS: &str = "at-old-7f3e21";
const NEW_ACCESS: &str = "at-new-9c1d84";
const OLD_REFRESH: &str = "rt-old-2b8a55";
const NEW_REFRESH: &str = "rt-new-5e6f90";
const CLIENT_SECRET: &str = "cs-live-3a4b5c";

struct Fixture {
    server: MockServer,
    store: MemoryStore,
    sealer: Sealer,
    http: ProviderClient,
    client: OAuth2Client,
    tenant: TenantId,
    connection: ConnectionId,
}

async fn fixture() -> Fixture {
    let server = MockServer::start().await;
    let http =
        HttpClient::new().expect("client").provider_with(ProviderId::new("acme").expect("id"), HttpPolicy::standard());
    let endpoints = OAuth2Endpoints::new(None, format!("{}/oauth/token", server.uri()).parse().expect("url"));
    let client = OAuth2Client::new(http.clone(), "client-1", endpoints).with_client_secret(CLIENT_SECRET);
    Fixture {
        server,
        store: MemoryStore::new(),
        sealer: Sealer::new(KeyRing::new("k1", SealingKey::generate())),
        http,
        client,
        tenant: TenantId::new("acme").expect("id"),
        connection: ConnectionId::new("crm").expect("id"),
    }
}

impl Fixture {
    fn manager_over(&self, store: Arc<dyn TokenStore>) -> Arc<TokenManager> {
        let connections =
            Connections::new(Arc::new(self.store.clone()), self.sealer.clone(), Arc::new(self.store.clone()));
        Arc::new(
            TokenManager::builder(
                store,
                self.sealer.clone(),
                Arc::new(OAuth2Source::refresh_token(self.client.clone())),
            )
            .connections(connections)
            .audit(Arc::new(self.store.clone()))
            .peer_wait(Duration::from_secs(20), Duration::from_millis(5))
            .build(),
        )
    }

    fn manager(&self) -> Arc<TokenManager> {
        self.manager_over(Arc::new(self.store.clone()))
    }

    async fn store_old_token(&self, manager: &TokenManager, expires_in: TimeDelta) {
        let old = TokenSet::new(OLD_ACCESS).with_refresh_token(OLD_REFRESH).with_expires_at(Utc::now() + expires_in);
        manager.store(&self.tenant, &self.connection, old).await.expect("store");
    }

    /// The token endpoint: rotates the old refresh token into the new pair, slowly enough that
    /// concurrent callers overlap.
    async fn mount_token_endpoint(&self) {
        Mock::given(method("POST"))
            .and(path("/oauth/token"))
            .and(body_string_contains("grant_type=refresh_token"))
            .and(body_string_contains(format!("refresh_token={OLD_REFRESH}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({
                        "access_token": NEW_ACCESS, "token_type": "Bearer", "expires_in": 3600, "refresh_token": NEW_REFRESH
                    }))
                    .set_delay(Duration::from_millis(200)),
            )
            .mount(&self.server)
            .await;
    }

    /// The API: accepts only the new access token.
    async fn mount_api(&self) {
        Mock::given(method("GET"))
            .and(path("/api/me"))
            .and(header("authorization", format!("Bearer {NEW_ACCESS}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
            .mount(&self.server)
            .await;
        Mock::given(path("/api/me"))
            .respond_with(
                ResponseTemplate::new(401).insert_header("www-authenticate", r#"Bearer error="invalid_token""#),
            )
            .mount(&self.server)
            .await;
    }

    async fn count(&self, wanted: &str) -> usize {
        self.server.received_requests().await.expect("recorded").iter().filter(|r| r.url.path() == wanted).count()
    }

    fn api(&self, manager: &Arc<TokenManager>) -> ProviderClient {
        self.http.clone().with_auth(manager.authenticator(self.tenant.clone(), self.connection.clone()))
    }
}

async fn call_concurrently(fixture: &Fixture, clients: &[ProviderClient], n: usize) {
    let url = format!("{}/api/me", fixture.server.uri());
    let mut tasks = Vec::new();
    for i in 0..n {
        let (client, url) = (clients[i % clients.len()].clone(), url.clone());
        tasks.push(tokio::spawn(async move { client.get(url).send_json::<serde_json::Value>().await }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task").expect("the request succeeds")["ok"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_requests_on_an_expired_token_cause_exactly_one_refresh() {
    let f = fixture().await;
    f.mount_token_endpoint().await;
    f.mount_api().await;
    let manager = f.manager();
    f.store_old_token(&manager, TimeDelta::seconds(-10)).await;
    call_concurrently(&f, &[f.api(&manager)], 100).await;
    assert_eq!(f.count("/oauth/token").await, 1, "exactly one refresh request reached the provider");
    assert_eq!(f.count("/api/me").await, 100, "and no request went out with the expired token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_over_one_store_still_refresh_once_and_both_end_with_the_new_token() {
    let f = fixture().await;
    f.mount_token_endpoint().await;
    f.mount_api().await;
    let (one, two) = (f.manager(), f.manager());
    f.store_old_token(&one, TimeDelta::seconds(-10)).await;
    call_concurrently(&f, &[f.api(&one), f.api(&two)], 100).await;
    assert_eq!(f.count("/oauth/token").await, 1);
    for manager in [&one, &two] {
        let (token, version) = manager.access_token(&f.tenant, &f.connection).await.expect("token");
        assert_eq!(token.expose_secret(), NEW_ACCESS);
        assert_eq!(version, 2);
    }
    let stored = TokenStore::token(&f.store, &f.tenant, &f.connection).await.expect("read").expect("stored");
    assert_eq!(stored.version, 2, "one write after the first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_causes_one_refresh_and_one_retry_however_many_requests_see_it() {
    let f = fixture().await;
    f.mount_token_endpoint().await;
    f.mount_api().await;
    let manager = f.manager();
    let mut events = manager.subscribe();
    // Not expired by the clock, but revoked at the provider: only a 401 tells.
    f.store_old_token(&manager, TimeDelta::hours(1)).await;
    let (_, logs) = capture_tracing(call_concurrently(&f, &[f.api(&manager)], 50)).await;
    assert_eq!(f.count("/oauth/token").await, 1);
    let api = f.count("/api/me").await;
    assert!((51..=100).contains(&api), "each request retried at most once: {api}");
    assert!(matches!(events.try_recv(), Ok(AuthEvent::Refreshed { version: 2, .. })));
    let audit = f.store.audit_events(&f.tenant);
    assert_eq!(audit.iter().filter(|e| e.action == AuditAction::TokenRefreshed).count(), 1);
    for secret in [OLD_ACCESS, NEW_ACCESS, OLD_REFRESH, NEW_REFRESH, CLIENT_SECRET] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}

#[tokio::test]
async fn a_token_refused_again_after_the_refresh_is_an_error_not_a_loop() {
    let f = fixture().await;
    f.mount_token_endpoint().await;
    Mock::given(path("/api/me")).respond_with(ResponseTemplate::new(401)).mount(&f.server).await;
    let manager = f.manager();
    f.store_old_token(&manager, TimeDelta::hours(1)).await;
    let err = f.api(&manager).get(format!("{}/api/me", f.server.uri())).send().await.expect_err("401 twice");
    assert_eq!(err.kind(), ErrorKind::AuthInvalid);
    assert_eq!(f.count("/oauth/token").await, 1);
    assert_eq!(f.count("/api/me").await, 2);
}

#[tokio::test]
async fn invalid_grant_marks_the_connection_raises_an_event_and_stops_asking() {
    let f = fixture().await;
    Mock::given(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_grant", "error_description": "grant revoked"})),
        )
        .mount(&f.server)
        .await;
    let connections = Connections::new(Arc::new(f.store.clone()), f.sealer.clone(), Arc::new(f.store.clone()));
    let config = IntegrationConfig::new(
        f.tenant.clone(),
        f.connection.clone(),
        Domain::Crm,
        ProviderId::new("acme").expect("id"),
    );
    connections.save(&config).await.expect("save");
    let manager = f.manager();
    let mut events = manager.subscribe();
    f.store_old_token(&manager, TimeDelta::seconds(-1)).await;

    let err = manager.access_token(&f.tenant, &f.connection).await.expect_err("revoked");
    assert_eq!(err.kind(), ErrorKind::AuthRevoked);
    assert_eq!(err.code(), Some("invalid_grant"));
    assert!(err.message().contains("authorized again"), "{err}");
    assert_eq!(
        connections.load(&f.tenant, &f.connection).await.expect("load").status,
        ConnectionStatus::ReauthorizationRequired
    );
    assert!(
        matches!(events.try_recv(), Ok(AuthEvent::ReauthorizationRequired { reason, .. }) if reason == "invalid_grant")
    );
    assert!(f.store.audit_events(&f.tenant).iter().any(|e| e.action == AuditAction::TokenRevoked));

    for _ in 0..5 {
        assert_eq!(
            manager.access_token(&f.tenant, &f.connection).await.expect_err("still").kind(),
            ErrorKind::AuthRevoked
        );
    }
    assert_eq!(f.count("/oauth/token").await, 1, "the dead refresh token is not presented again");

    // A new authorization clears it.
    manager
        .store(&f.tenant, &f.connection, TokenSet::new("at-fresh").with_expires_at(Utc::now() + TimeDelta::hours(1)))
        .await
        .expect("store");
    assert_eq!(manager.access_token(&f.tenant, &f.connection).await.expect("fresh").0.expose_secret(), "at-fresh");
}

/// A token store whose writes can be made to fail.
#[derive(Debug)]
struct FailingWrites {
    inner: MemoryStore,
    fail: AtomicBool,
}

#[async_trait]
impl TokenStore for FailingWrites {
    async fn token(&self, t: &TenantId, c: &ConnectionId) -> Result<Option<StoredToken>> {
        self.inner.token(t, c).await
    }
    async fn compare_and_swap(&self, t: &TenantId, c: &ConnectionId, expected: u64, sealed: &SealedBox) -> Result<u64> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(Error::storage("disk full"));
        }
        self.inner.compare_and_swap(t, c, expected, sealed).await
    }
    async fn delete_token(&self, t: &TenantId, c: &ConnectionId) -> Result<bool> {
        self.inner.delete_token(t, c).await
    }
    async fn acquire_refresh_lock(
        &self,
        t: &TenantId,
        c: &ConnectionId,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>> {
        self.inner.acquire_refresh_lock(t, c, holder, ttl).await
    }
    async fn release_refresh_lock(&self, lease: &Lease) -> Result<bool> {
        self.inner.release_refresh_lock(lease).await
    }
}

#[tokio::test]
async fn a_rotated_token_is_stored_before_it_is_used() {
    let f = fixture().await;
    f.mount_token_endpoint().await;
    f.mount_api().await;
    let store = Arc::new(FailingWrites { inner: f.store.clone(), fail: AtomicBool::new(false) });
    let manager = f.manager_over(store.clone());
    f.store_old_token(&manager, TimeDelta::seconds(-1)).await;
    store.fail.store(true, Ordering::SeqCst);
    let err = f.api(&manager).get(format!("{}/api/me", f.server.uri())).send().await.expect_err("not stored");
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert_eq!(f.count("/api/me").await, 0, "a token that was not stored was not used");

    // Stored: the refresh token on file is the rotated one.
    let f = fixture().await;
    f.mount_token_endpoint().await;
    f.mount_api().await;
    let manager = f.manager();
    f.store_old_token(&manager, TimeDelta::seconds(-1)).await;
    f.api(&manager).get(format!("{}/api/me", f.server.uri())).send().await.expect("ok");
    let stored = TokenStore::token(&f.store, &f.tenant, &f.connection).await.expect("read").expect("stored");
    assert!(!stored.sealed.as_str().contains(NEW_REFRESH), "sealed at rest");
    let other = TokenManager::builder(
        Arc::new(f.store.clone()),
        f.sealer.clone(),
        Arc::new(OAuth2Source::refresh_token(f.client.clone())),
    )
    .build();
    assert_eq!(other.access_token(&f.tenant, &f.connection).await.expect("token").0.expose_secret(), NEW_ACCESS);
}

/// Checks the assertion as a provider would, with the service account's public key.
struct VerifyAssertion {
    public_pem: Vec<u8>,
    audience: String,
}

impl Respond for VerifyAssertion {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(&request.body).into_owned().collect();
        if form.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
            return ResponseTemplate::new(400).set_body_json(json!({"error": "unsupported_grant_type"}));
        }
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(&self.public_pem).expect("public key");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&["robot@acme.iam.example.com"]);
        match jsonwebtoken::decode::<serde_json::Value>(&form["assertion"], &key, &validation) {
            Ok(data)
                if data.claims["scope"] == "calendar.read"
                    && data.claims["sub"] == "admin@acme.example"
                    && data.header.kid.as_deref() == Some("key-1") =>
            {
                let lifetime = data.claims["exp"].as_i64().unwrap_or(0) - data.claims["iat"].as_i64().unwrap_or(0);
                assert_eq!(lifetime, 3600);
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": "sa-token", "token_type": "Bearer", "expires_in": 3599}))
            }
            _ => ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_grant", "error_description": "bad assertion"})),
        }
    }
}

#[tokio::test]
async fn jwt_bearer_assertions_are_signed_and_traded_for_a_token() {
    let f = fixture().await;
    let token_url: url::Url = format!("{}/oauth/token", f.server.uri()).parse().expect("url");
    let public_pem = include_bytes!("fixtures/service-account-test-key.pub.pem").to_vec();
    Mock::given(path("/oauth/token"))
        .respond_with(VerifyAssertion { public_pem, audience: token_url.to_string() })
        .mount(&f.server)
        .await;
    let key_file = json!({
        "type": "service_account",
        "client_email": "robot@acme.iam.example.com",
        "private_key_id": "key-1",
        "private_key": include_str!("fixtures/service-account-test-key.pem"),
        "token_uri": token_url.as_str(),
    })
    .to_string();
    let key = ServiceAccountKey::from_google_json(&key_file).expect("key file");
    assert!(!format!("{key:?}").contains("PRIVATE KEY"));
    let source = JwtBearer::new(f.http.clone(), key.clone(), token_url.clone())
        .with_scopes(&["calendar.read"])
        .with_subject("admin@acme.example");
    let token = source.token().await.expect("token");
    assert_eq!(token.access_token.expose_secret(), "sa-token");
    assert!(token.expires_at.is_some_and(|at| at > Utc::now() + TimeDelta::minutes(59)));

    // Through the manager: minted on first use, no refresh token needed.
    let manager = TokenManager::builder(Arc::new(f.store.clone()), f.sealer.clone(), Arc::new(source)).build();
    assert_eq!(manager.access_token(&f.tenant, &f.connection).await.expect("minted").0.expose_secret(), "sa-token");

    let wrong_subject = JwtBearer::new(f.http.clone(), key, token_url).with_scopes(&["calendar.read"]);
    let err = wrong_subject.token().await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::AuthInvalid);
    assert_eq!(err.code(), Some("invalid_grant"));

    let err = ServiceAccountKey::from_google_json(r#"{"client_email": "x"}"#).expect_err("no key");
    assert_eq!(err.field(), Some("service_account.private_key"));
}

#[tokio::test]
async fn a_client_credentials_request_is_retried_after_a_503_but_a_refresh_is_not() {
    let f = fixture().await;
    let policy = HttpPolicy::standard().with_retry(
        integration_core::http::RetryPolicy::standard()
            .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
    );
    let http = HttpClient::new().expect("client").provider_with(ProviderId::new("acme").expect("id"), policy);
    let endpoints = OAuth2Endpoints::new(None, format!("{}/oauth/token", f.server.uri()).parse().expect("url"));
    let client = OAuth2Client::new(http, "client-1", endpoints).with_client_secret(CLIENT_SECRET);
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&f.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": NEW_ACCESS, "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&f.server)
        .await;
    let token = client.client_credentials(&[]).await.expect("the second attempt");
    assert_eq!(token.access_token.expose_secret(), NEW_ACCESS);
    assert_eq!(f.server.received_requests().await.expect("recorded").len(), 2);

    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&f.server)
        .await;
    client.refresh(&secrecy::SecretString::from(OLD_REFRESH)).await.expect_err("503");
    assert_eq!(f.server.received_requests().await.expect("recorded").len(), 3, "a refresh is sent once");
}
