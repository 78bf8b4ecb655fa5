//! Token handling under the cases that broke it: a new authorization after a refused one, tokens
//! shorter-lived than the refresh margin, a token endpoint answering 500, a connection marked
//! "reauthorization required" by another process, and providers that echo credentials back in
//! their error bodies.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use integration_core::auth::{Basic, OAuth2Client, OAuth2Endpoints, OAuth2Source, TokenManager, TokenSet, TokenSource};
use integration_core::clock::{Clock as _, ManualClock};
use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::http::{HttpClient, HttpPolicy, ProviderClient, RetryPolicy};
use integration_core::store::MemoryStore;
use integration_core::*;
use integration_testkit::capture::capture_tracing;
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CLIENT_ID: &str = "client-4d2a";
const CLIENT_SECRET: &str = "cs-live-8e7d6c5b";

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("acme").expect("tenant"), ConnectionId::new("crm").expect("connection"))
}

fn fast_policy() -> HttpPolicy {
    HttpPolicy::standard().with_retry(
        RetryPolicy::standard().with_max_attempts(3).with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
    )
}

fn http(policy: HttpPolicy) -> ProviderClient {
    HttpClient::new().expect("client").provider_with(ProviderId::new("acme").expect("id"), policy)
}

fn oauth(server: &MockServer, policy: HttpPolicy) -> OAuth2Client {
    let endpoints = OAuth2Endpoints::new(None, format!("{}/oauth/token", server.uri()).parse().expect("url"));
    OAuth2Client::new(http(policy), CLIENT_ID, endpoints).with_client_secret(CLIENT_SECRET)
}

/// A store, a sealer and the connection's saved configuration (so its status can be marked).
struct Host {
    store: MemoryStore,
    sealer: Sealer,
    connections: Connections,
}

async fn host() -> Host {
    let store = MemoryStore::new();
    let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
    let connections = Connections::new(Arc::new(store.clone()), sealer.clone(), Arc::new(store.clone()));
    let (tenant, connection) = ids();
    let config = IntegrationConfig::new(tenant, connection, Domain::Crm, ProviderId::new("acme").expect("id"));
    connections.save(&config).await.expect("save");
    Host { store, sealer, connections }
}

impl Host {
    fn manager(&self, source: Arc<dyn TokenSource>) -> Arc<TokenManager> {
        Arc::new(
            TokenManager::builder(Arc::new(self.store.clone()), self.sealer.clone(), source)
                .connections(self.connections.clone())
                .peer_wait(Duration::from_secs(10), Duration::from_millis(5))
                .build(),
        )
    }

    async fn status(&self) -> ConnectionStatus {
        let (tenant, connection) = ids();
        self.connections.status(&tenant, &connection).await.expect("status").expect("saved")
    }
}

fn expired(access: &str, refresh: &str) -> TokenSet {
    TokenSet::new(access).with_refresh_token(refresh).with_expires_at(Utc::now() - TimeDelta::seconds(1))
}

/// A token endpoint that refuses `dead` with `invalid_grant` and rotates `alive` into a new pair.
async fn token_endpoint(server: &MockServer, dead: &str, alive: &str) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains(format!("refresh_token={dead}")))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains(format!("refresh_token={alive}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "at-fresh-77", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-fresh-77"}),
        ))
        .mount(server)
        .await;
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn a_new_authorization_after_a_refused_one_is_refreshed() {
    let server = MockServer::start().await;
    token_endpoint(&server, "rt-dead-1111", "rt-alive-2222").await;
    let host = host().await;
    let manager = host.manager(Arc::new(OAuth2Source::refresh_token(oauth(&server, fast_policy()))));
    let (tenant, connection) = ids();

    manager.store(&tenant, &connection, expired("at-1", "rt-dead-1111")).await.expect("store");
    let err = manager.access_token(&tenant, &connection).await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::AuthRevoked, "{err}");
    assert_eq!(host.status().await, ConnectionStatus::ReauthorizationRequired);

    // The host forgets the dead grant and stores the new authorization (its version starts at 1
    // again, as the refused one's did).
    manager.forget(&tenant, &connection).await.expect("forget");
    let version = manager.store(&tenant, &connection, expired("at-2", "rt-alive-2222")).await.expect("store");
    assert_eq!(version, 1);
    assert_eq!(host.status().await, ConnectionStatus::Active, "a new authorization marks the connection active");
    let (token, _) = manager.access_token(&tenant, &connection).await.expect("the new grant is refreshed");
    assert_eq!(secrecy::ExposeSecret::expose_secret(&token), "at-fresh-77");
    assert_eq!(requests(&server).await, 2, "one refused refresh, one refresh of the new grant");
}

/// Counts fetches; each token lives five minutes.
#[derive(Debug, Default)]
struct ShortLived {
    fetches: AtomicUsize,
}

#[async_trait]
impl TokenSource for ShortLived {
    async fn fetch(&self, _current: Option<&TokenSet>, now: DateTime<Utc>) -> Result<TokenSet> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst);
        Ok(TokenSet::new(format!("at-{n}")).with_expires_at(now + TimeDelta::seconds(300)))
    }
}

#[tokio::test]
async fn tokens_shorter_lived_than_the_margin_are_not_refreshed_on_every_call() {
    let host = host().await;
    let clock = ManualClock::new();
    let source = Arc::new(ShortLived::default());
    let manager = Arc::new(
        TokenManager::builder(Arc::new(host.store.clone()), host.sealer.clone(), source.clone())
            .clock(Arc::new(clock.clone()))
            .build(),
    );
    let (tenant, connection) = ids();
    // 100 calls a second apart: under the default 5-minute margin, each would refresh a token
    // that lives 5 minutes. Capped at half its lifetime, one refresh serves 150 s.
    for _ in 0..100 {
        manager.access_token(&tenant, &connection).await.expect("token");
        clock.advance(Duration::from_secs(1));
    }
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(50)); // 150 s after the first: half its life
    manager.access_token(&tenant, &connection).await.expect("token");
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_token_endpoints_500_keeps_its_status_and_says_whether_a_retry_may_help() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .mount(&server)
        .await;
    let client = oauth(&server, fast_policy());

    // Client credentials are safe to ask for again: retried, and still retryable after.
    let err = client.client_credentials(&["read"]).await.expect_err("500");
    assert_eq!((err.kind(), err.status(), err.is_retryable()), (ErrorKind::Transient, Some(500), true), "{err}");
    assert_eq!(requests(&server).await, 3, "retried up to the policy's attempts");

    // A refresh may have rotated the refresh token before failing: not repeated, not retryable.
    let err = client.refresh(&secrecy::SecretString::from("rt-any-1234")).await.expect_err("500");
    assert_eq!((err.kind(), err.status(), err.is_retryable()), (ErrorKind::Transient, Some(500), false), "{err}");
    assert_eq!(requests(&server).await, 4, "the refresh was sent once");
}

#[tokio::test]
async fn a_connection_marked_by_another_process_does_not_present_the_dead_token_again() {
    let server = MockServer::start().await;
    token_endpoint(&server, "rt-dead-3333", "rt-unused-4444").await;
    let host = host().await;
    let source: Arc<dyn TokenSource> = Arc::new(OAuth2Source::refresh_token(oauth(&server, fast_policy())));
    let (one, two) = (host.manager(source.clone()), host.manager(source));
    let (tenant, connection) = ids();
    one.store(&tenant, &connection, expired("at-3", "rt-dead-3333")).await.expect("store");

    let err = one.access_token(&tenant, &connection).await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::AuthRevoked);
    assert_eq!(requests(&server).await, 1);
    // The other process has its own memory, but reads the connection's status under the lock.
    let err = two.access_token(&tenant, &connection).await.expect_err("still refused");
    assert_eq!(err.kind(), ErrorKind::AuthRevoked, "{err}");
    assert_eq!(requests(&server).await, 1, "the dead refresh token was not presented again");
}

/// Answers with everything it was sent: the way many providers explain a 400 or a 401.
struct Echo(u16);

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let headers: Vec<String> =
            request.headers.iter().map(|(n, v)| format!("{n}: {}", v.to_str().unwrap_or(""))).collect();
        let body = json!({
            "error": "invalid_request",
            "error_description": format!("bad request {} {}", request.url, String::from_utf8_lossy(&request.body)),
            "echo": {"headers": headers, "query": request.url.query(), "body": String::from_utf8_lossy(&request.body)},
        });
        ResponseTemplate::new(self.0).set_body_json(body)
    }
}

/// Every form a secret could be echoed in.
fn forms(secret: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![secret.to_owned(), url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(), b64.encode(secret)]
}

fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        for form in forms(secret) {
            assert!(!text.contains(&form), "{what} leaks {form:?}:\n{text}");
        }
    }
}

fn assert_error_clean(err: &Error, secrets: &[String]) {
    assert_clean("Display", &err.to_string(), secrets);
    assert_clean("Debug", &format!("{err:?}"), secrets);
    assert_clean("body", err.body().unwrap_or_default(), secrets);
    assert_clean("message", err.message(), secrets);
}

#[tokio::test]
async fn credentials_echoed_in_error_bodies_are_scrubbed_in_every_form() {
    let server = MockServer::start().await;
    Mock::given(path("/api")).respond_with(Echo(401)).mount(&server).await;
    Mock::given(path("/oauth/token")).respond_with(Echo(400)).mount(&server).await;
    let api_key = "key-live-5f4e3d2c1b";
    let basic_form = base64::engine::general_purpose::STANDARD.encode(format!("{api_key}:x"));
    let url = format!("{}/api?page=2", server.uri());

    let ((), logs) = capture_tracing(async {
        // An API key sent as the Basic user name (BambooHR's way).
        let client = http(fast_policy()).with_auth(Arc::new(Basic::new(api_key, "x")));
        let err = client.get(&url).send().await.expect_err("401");
        assert!(err.body().is_some_and(|b| b.contains("[REDACTED]")), "{err:?}");
        assert_error_clean(&err, &[api_key.to_owned(), basic_form.clone()]);

        // An API key in a query parameter.
        let client = http(fast_policy()).with_auth(Arc::new(auth::ApiKey::query("api_key", api_key)));
        let err = client.get(&url).send().await.expect_err("401");
        assert_error_clean(&err, &[api_key.to_owned()]);

        // A token endpoint echoing the refresh token, and the client's Basic credentials.
        let refresh = secrecy::SecretString::from("rt-live-9/8+7=6".to_owned());
        let err = oauth(&server, fast_policy()).refresh(&refresh).await.expect_err("400");
        let client_basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
        let secrets = ["rt-live-9/8+7=6".to_owned(), CLIENT_SECRET.to_owned(), client_basic];
        assert_error_clean(&err, &secrets);
        tracing::error!(error = %err, debug = ?err, "logged as a host would");
    })
    .await;
    assert_clean(
        "TRACE logs",
        &logs,
        &[api_key.to_owned(), basic_form, "rt-live-9/8+7=6".to_owned(), CLIENT_SECRET.to_owned()],
    );
    assert!(logs.contains("logged as a host would"), "the capture worked");
    let _ = ManualClock::new().now();
}
