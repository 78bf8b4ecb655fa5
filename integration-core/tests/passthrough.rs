//! Passthrough and spec paging against a fake OAuth2 API built from the fake kit, through a spec
//! written here: credentials injected, a 401 renewed once and retried once, 429 with
//! `Retry-After` honoured, status, headers and body kept, another origin refused before sending
//! (an absolute URL) or not followed (a redirect), no secret in the traces.

use std::collections::HashMap;

use axum::response::IntoResponse;
use axum::routing::{get, post};
use integration_core::spec::{Passthrough, ProviderSpec, SpecClient};
use integration_core::*;
use integration_testkit::capture::capture_tracing;
use integration_testkit::fake::FakeServer;
use integration_testkit::fake::app::FakeApi;
use integration_testkit::fake::auth::{Auth, TokenIssuer};
use integration_testkit::fake::collection::Collection;
use integration_testkit::fake::dataset::Dataset;
use integration_testkit::fake::faults::Fault;
use integration_testkit::fake::paging::Paging;
use integration_testkit::fake::receiver::Receiver;
use serde_json::{Value, json};

const SPEC: &str = r#"
id = "notely"
name = "Notely"
domains = ["other"]
docs = "https://notely.example.com/docs"
base_url = "https://api.notely.example.com"

[auth]
kind = "oauth2"
grants = ["authorization_code", "refresh_token"]
authorization_url = "https://notely.example.com/oauth/authorize"
token_url = "https://notely.example.com/oauth/token"
rotating_refresh_tokens = true
client_auth = "body"

[headers]
Accept = "application/json"

[version]
in = "header"
name = "Notely-Version"
value = "2026-01"

[pagination]
style = "cursor"
records = "/data"
limit_param = "limit"
max_limit = 100
cursor_param = "cursor"
next_cursor = "/next_cursor"

[check]
path = "/v1/notes"
"#;

const CLIENT_SECRET: &str = "notely-client-secret-7f3a9c";
const REFRESH: &str = "notely-refresh-token-0b1c2d";

struct Fake {
    server: FakeServer,
    api: FakeApi,
    issuer: TokenIssuer,
    notes: Dataset<String>,
    elsewhere: Receiver,
}

async fn fake() -> Fake {
    let notes = Dataset::starting_at(1);
    (0..7).for_each(|n| _ = notes.add(format!("note {n}")));
    let issuer = TokenIssuer::new("notely-client", CLIENT_SECRET).with_refresh_token(REFRESH).rotating();
    let api = FakeApi::new(Auth::OAuth2(issuer.clone()));
    let elsewhere = Receiver::start("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
    let steal = format!("{}/steal", elsewhere.base_url());
    let collection =
        Collection::new(notes.clone(), Paging::Cursor, |n| json!({"id": n.id.to_string(), "text": *n.value}));
    let guarded = api.guard(
        collection
            .router("/v1/notes")
            .route(
                "/v1/moved",
                get(move || async move { (axum::http::StatusCode::FOUND, [("location", steal)]).into_response() }),
            )
            .route(
                "/v1/echo-version",
                get(|headers: axum::http::HeaderMap| async move {
                    headers.get("notely-version").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
                }),
            ),
    );
    let token = issuer.clone();
    let app = guarded.route(
        "/oauth/token",
        post(move |headers: axum::http::HeaderMap, body: String| async move {
            let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
            token.answer(&headers, &form)
        }),
    );
    Fake { server: FakeServer::start(app).await, api, issuer, notes, elsewhere }
}

fn client(fake: &Fake) -> SpecClient {
    client_with(fake, SPEC)
}

/// A client of `fake` through the spec `text`.
fn client_with(fake: &Fake, text: &str) -> SpecClient {
    let spec = ProviderSpec::parse(text).expect("the spec");
    let config = IntegrationConfig::new(
        TenantId::new("acme").expect("tenant"),
        ConnectionId::new("notely").expect("connection"),
        Domain::Other,
        ProviderId::new("notely").expect("provider"),
    )
    .with_setting("base_url", fake.server.base_url())
    .with_setting("auth_base_url", fake.server.base_url())
    .with_secret("client_id", "notely-client")
    .with_secret("client_secret", CLIENT_SECRET)
    .with_secret("refresh_token", REFRESH);
    SpecClient::new(spec, &config, &BuildContext::default()).expect("connected")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_injects_credentials_renews_them_once_and_keeps_the_answer() {
    let fake = fake().await;
    let client = client(&fake);
    let (result, logs) = capture_tracing(async {
        client.check().await.expect("the credential check");
        let listed = client.passthrough(Passthrough::get("/v1/notes").query("limit", "3")).await.expect("an answer");
        assert_eq!(listed.status, 200);
        assert!(listed.headers.get("content-type").is_some_and(|v| v.to_str().unwrap_or("").contains("json")));
        let body: Value = serde_json::from_slice(&listed.body).expect("JSON");
        assert_eq!(body["data"].as_array().map(Vec::len), Some(3));

        // The access token expires: one renewal (the rotated refresh token stored), one retry.
        fake.api.faults().inject(Fault::ExpiredToken, 1);
        let renewed = client.passthrough(Passthrough::get("/v1/notes/2")).await.expect("an answer");
        assert_eq!((renewed.status.as_u16(), fake.issuer.requests()), (200, 2), "one refresh for the 401");
        assert!(fake.issuer.refresh_token().is_some_and(|r| r != REFRESH), "the refresh token rotated");

        // 429 with Retry-After: waited for, then answered.
        fake.api.faults().inject(Fault::TooManyRequests { retry_after_secs: 1 }, 1);
        let limited = client.passthrough(Passthrough::get("/v1/notes/3")).await.expect("an answer");
        assert_eq!(limited.status, 200);
        assert_eq!(fake.api.faults().served().last(), Some(&Fault::TooManyRequests { retry_after_secs: 1 }));

        // A provider error is an answer, kept as it came.
        let missing = client.passthrough(Passthrough::get("/v1/notes/999")).await.expect("an answer");
        assert_eq!(missing.status, 404);
        assert_eq!(serde_json::from_slice::<Value>(&missing.body).expect("JSON")["error"], "not_found");

        // The spec's version header goes with every request.
        let version = client.passthrough(Passthrough::get("/v1/echo-version")).await.expect("an answer");
        assert_eq!(version.body, "2026-01");
    })
    .await;
    let () = result;
    for secret in [CLIENT_SECRET, REFRESH] {
        assert!(!logs.contains(secret), "{secret} in the traces: {logs}");
    }
    for token in fake.issuer.issued() {
        assert!(!logs.contains(&token), "an access token in the traces");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_origin_is_refused_before_sending_and_a_redirect_there_is_not_followed() {
    let fake = fake().await;
    let client = client(&fake);
    let elsewhere = format!("{}/steal", fake.elsewhere.base_url());
    let refused = client.passthrough(Passthrough::get(elsewhere.clone())).await.expect_err("another origin");
    assert_eq!((refused.kind(), refused.field()), (ErrorKind::Validation, Some("path")), "{refused}");
    let credential = client.passthrough(Passthrough::get("/v1/notes").header("Authorization", "Bearer mine")).await;
    assert_eq!(credential.expect_err("no Authorization").field(), Some("headers"));
    let moved = client.passthrough(Passthrough::get("/v1/moved")).await.expect("the redirect itself");
    assert_eq!(moved.status, 302);
    assert_eq!(moved.headers.get("location").and_then(|v| v.to_str().ok()), Some(elsewhere.as_str()));
    assert_eq!(fake.elsewhere.connections(), 0, "nothing reached the other host");
    let on_base = format!("{}/v1/notes/1", fake.server.base_url());
    assert_eq!(client.passthrough(Passthrough::get(on_base)).await.expect("same origin").status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_passthrough_request_is_audited_without_its_query() {
    use integration_core::store::{AuditAction, MemoryStore};
    let fake = fake().await;
    let store = std::sync::Arc::new(MemoryStore::new());
    let client = client(&fake).with_audit(store.clone());
    client.passthrough(Passthrough::get("/v1/notes/1").query("ssn", "123-45-6789")).await.expect("an answer");
    client.passthrough(Passthrough::get("/v1/notes/404")).await.expect("an answer");
    let events: Vec<_> = store
        .audit_events(&TenantId::new("acme").expect("tenant"))
        .into_iter()
        .filter(|e| e.action == AuditAction::PassthroughRequest)
        .collect();
    let details: Vec<String> = events.iter().map(|e| e.detail.clone()).collect();
    assert_eq!(details, ["GET /v1/notes/1 → 200", "GET /v1/notes/404 → 404"]);
    assert!(!format!("{events:?}").contains("123-45-6789"), "the query is not kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_s_error_pointer_explains_a_failure() {
    let fake = fake().await;
    let spec = SPEC.replace("[check]", "[errors]\nmessage = \"/error\"\n\n[check]");
    let client = client_with(&fake, &spec);
    let missing = client.page("/v1/notes/abc", None, None).await.expect_err("no such note");
    assert_eq!(missing.status(), Some(404));
    assert!(missing.to_string().contains("not_found"), "the provider's explanation is kept: {missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_pages_by_the_spec() {
    let fake = fake().await;
    let client = client(&fake);
    let (mut ids, mut at) = (Vec::new(), None);
    for _ in 0..10 {
        let page = client.page("/v1/notes", at.as_deref(), Some(3)).await.expect("a page");
        ids.extend(page.records.iter().map(|r| r["id"].as_str().unwrap_or_default().to_owned()));
        match page.next {
            Some(next) => at = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = fake.notes.live().iter().map(|n| n.id.to_string()).collect();
    assert_eq!(ids, expected, "every record once, in order");
}
