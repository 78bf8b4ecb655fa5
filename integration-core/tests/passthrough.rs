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
            .route("/v1/miscounted", get(|| async { axum::Json(json!({"data": [], "total": 50})) }))
            .route("/v1/empty", get(|| async { axum::http::StatusCode::NO_CONTENT }))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delta_pass_ends_with_a_sync_token_that_lists_what_changed_since() {
    let fake = fake().await;
    let delta = "[pagination]\nstyle = \"delta\"\nrecords = \"/data\"\nlimit_param = \"limit\"\nmax_limit = 100\n\
                 cursor_param = \"cursor\"\nnext_cursor = \"/next_cursor\"\nsync_token = \"/delta_token\"\n\
                 sync_param = \"delta_token\"\n\n[check]";
    let spec = SPEC
        .replace(&SPEC[SPEC.find("[pagination]").expect("paging")..SPEC.find("[check]").expect("check") + 7], delta);
    let client = client_with(&fake, &spec);
    let (mut seen, mut at, mut token) = (0, None, None);
    while token.is_none() {
        let page = client.page("/v1/notes", at.as_deref(), Some(3)).await.expect("a page");
        seen += page.records.len();
        (at, token) = (page.next, page.delta);
    }
    assert_eq!(seen, 7, "the whole pass, then its token");
    let token = token.expect("a sync token");
    let third = fake.notes.live()[2].id;
    assert!(fake.notes.update(third, &["text"], |r| r.value = "edited".to_owned()));
    let changes = client.changes("/v1/notes", &token, None).await.expect("the changes");
    let texts: Vec<&str> = changes.records.iter().filter_map(|r| r["text"].as_str()).collect();
    // The fake's tokens count whole seconds: notes added in the pass's second come back too.
    assert!(texts.contains(&"edited"), "what changed since the pass began: {texts:?}");
    assert!(changes.delta.is_some(), "and a token to go on from");
    // A spec that does not page by delta says so.
    let error = client_with(&fake, SPEC).changes("/v1/notes", &token, None).await.expect_err("not delta");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Config, Some("pagination.style")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_listings_refuse_a_foreign_cursor_and_end_on_an_empty_page_or_no_content() {
    let fake = fake().await;
    let offset = "[pagination]\nstyle = \"offset\"\nrecords = \"/data\"\nlimit_param = \"limit\"\nmax_limit = 100\n\
                  offset_param = \"offset\"\ntotal = \"/total\"\n\n[check]";
    let spec = SPEC
        .replace(&SPEC[SPEC.find("[pagination]").expect("paging")..SPEC.find("[check]").expect("check") + 7], offset);
    let client = client_with(&fake, &spec);
    let foreign = client.page("/v1/notes", Some("cursor-from-elsewhere"), None).await.expect_err("not an offset");
    assert_eq!((foreign.kind(), foreign.field()), (ErrorKind::Validation, Some("cursor")));
    // A total that says more, on an empty page, does not keep the listing asking.
    let miscounted = client.page("/v1/miscounted", Some("10"), None).await.expect("a page");
    assert!(miscounted.records.is_empty() && miscounted.next.is_none(), "{miscounted:?}");
    let empty = client.page("/v1/empty", None, None).await.expect("no content is no records");
    assert!(empty.records.is_empty() && empty.next.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_goes_into_the_path_as_one_segment() {
    let fake = fake().await;
    let client = client(&fake);
    let request =
        client.request_at(integration_core::http::Method::GET, "/v1/notes", &["1?x=y/../2"]).expect("a request");
    let answer = request.accept_any_status().send().await.expect("an answer");
    assert_eq!(answer.status(), 404, "no note has that id, and nothing else was asked for");
    let one = client.request_at(integration_core::http::Method::GET, "/v1/notes", &["1"]).expect("a request");
    let note: Value = one.send_json().await.expect("note 1");
    assert_eq!(note["id"], "1");
}

#[test]
fn a_mutual_tls_spec_takes_a_client_certificate_and_refuses_a_bad_one_by_name() {
    let spec = ProviderSpec::parse(&SPEC.replace("[auth]", "mutual_tls = true\n\n[auth]")).expect("the spec");
    let descriptor = spec.descriptor().expect("a descriptor");
    for key in ["client_certificate", "client_key"] {
        assert!(descriptor.config.field(key).is_some_and(|f| f.secret), "{key} is a secret it takes");
    }
    let config = IntegrationConfig::new(
        TenantId::new("acme").expect("tenant"),
        ConnectionId::new("notely").expect("connection"),
        Domain::Other,
        ProviderId::new("notely").expect("provider"),
    )
    .with_secret("client_id", "notely-client")
    .with_secret("client_secret", CLIENT_SECRET)
    .with_secret("client_certificate", "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n")
    .with_secret("client_key", "-----BEGIN PRIVATE KEY-----\nsecret-key-material\n-----END PRIVATE KEY-----\n");
    let error = SpecClient::new(spec, &config, &BuildContext::default()).expect_err("not a certificate");
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(matches!(error.field(), Some("secrets.client_certificate" | "secrets.client_key")), "{error}");
    assert!(!format!("{error} {error:?}").contains("secret-key-material"), "the key is never in the error");
}
