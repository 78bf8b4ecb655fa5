//! The SCIM service provider: `scim2-tester` (a conformance checker written by others, installed
//! on first use) passes every check against it; tenant B's token neither reads nor changes
//! tenant A's users and groups; provisioning changes reach the host (a deactivation as such).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use integration_core::TenantId;
use integration_sso::scim::server::{Provisioned, ProvisioningChange, ScimEvents, ScimServer, StaticScimTokens};
use integration_sso::scim::store::{MemoryScimStore, ScimStore};
use integration_testkit::fake::FakeServer;
use integration_testkit::peers::ScimTester;
use serde_json::{Value, json};

const TOKEN_A: &str = "scim-token-for-acme-7f3a9c0b1d2e";
const TOKEN_B: &str = "scim-token-for-globex-0b1c2d3e4f";

#[derive(Debug, Default)]
struct Recorded(Mutex<Vec<(String, ProvisioningChange, String)>>);

impl Recorded {
    fn taken(&self) -> Vec<(String, ProvisioningChange, String)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait]
impl ScimEvents for Recorded {
    async fn provisioned(&self, change: Provisioned) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push((
            change.tenant.as_str().to_owned(),
            change.change,
            change.id,
        ));
    }
}

/// Our SCIM server on loopback at `/scim/v2` over the memory store: two tenants, a token each.
/// Its base URL.
async fn serve(events: Arc<Recorded>) -> (FakeServer, String) {
    serve_over(Arc::new(MemoryScimStore::new()), events).await
}

async fn serve_over(store: Arc<dyn ScimStore>, events: Arc<Recorded>) -> (FakeServer, String) {
    let tokens = Arc::new(
        StaticScimTokens::new()
            .with(TOKEN_A, TenantId::new("acme").expect("tenant"))
            .with(TOKEN_B, TenantId::new("globex").expect("tenant")),
    );
    let server = FakeServer::start_with(move |base| {
        let scim = ScimServer::new(store, tokens, format!("{base}/scim/v2")).with_events(events);
        axum::Router::new().nest("/scim/v2", scim.router())
    })
    .await;
    let base = format!("{}/scim/v2", server.base_url());
    (server, base)
}

/// Runs every check of scim2-tester against the server over `store`.
async fn conformance(store: Arc<dyn ScimStore>) {
    let Some(tester) = ScimTester::install() else { return };
    let (_server, base) = serve_over(store, Arc::new(Recorded::default())).await;
    let report = tokio::task::spawn_blocking(move || tester.run(&base, TOKEN_A)).await.expect("the checker ran");
    eprintln!("scim2-tester: {} checks passed, {} did not", report.passed.len(), report.failed.len());
    assert!(report.failed.is_empty(), "{} checks did not pass:\n{}", report.failed.len(), report.failed.join("\n"));
    assert!(report.passed.len() >= 100, "{} checks ran", report.passed.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim2_tester_passes_every_check() {
    conformance(Arc::new(MemoryScimStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim2_tester_passes_every_check_on_the_sqlite_store() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("integration-sso");
    std::fs::create_dir_all(&dir).expect("a folder");
    let path = dir.join(format!("scim-{}.db", uuid::Uuid::now_v7()));
    let store = integration_store::SqlStore::sqlite(&path).await.expect("SQLite");
    conformance(Arc::new(store)).await;
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.header("content-type", "application/scim+json").body(body.to_string());
    }
    let response = request.send().await.expect("answered");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_reaches_only_its_own_users_and_groups() {
    use reqwest::Method;
    let events = Arc::new(Recorded::default());
    let (_server, base) = serve(events.clone()).await;
    let http = reqwest::Client::new();
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada", "active": true});
    let (status, ada) = call(&http, Method::POST, format!("{base}/Users"), TOKEN_A, Some(user.clone())).await;
    assert_eq!(status, 201, "{ada}");
    let id = ada["id"].as_str().expect("an id").to_owned();
    // The same userName in another tenant is another user; in the same tenant it is taken.
    assert_eq!(call(&http, Method::POST, format!("{base}/Users"), TOKEN_B, Some(user.clone())).await.0, 201);
    let (status, taken) =
        call(&http, Method::POST, format!("{base}/Users"), TOKEN_A, Some(json!({"userName": "ADA"}))).await;
    assert_eq!((status, taken["scimType"].as_str()), (409, Some("uniqueness")));

    // Tenant B: cannot read, list, replace, patch or delete tenant A's user.
    assert_eq!(call(&http, Method::GET, format!("{base}/Users/{id}"), TOKEN_B, None).await.0, 404);
    let (_, listed) =
        call(&http, Method::GET, format!("{base}/Users?filter=userName%20eq%20%22ada%22"), TOKEN_B, None).await;
    assert_eq!(listed["totalResults"], 1);
    assert_ne!(listed["Resources"][0]["id"].as_str(), Some(id.as_str()), "B sees its own ada only");
    assert_eq!(call(&http, Method::PUT, format!("{base}/Users/{id}"), TOKEN_B, Some(user.clone())).await.0, 404);
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                            "Operations": [{"op": "replace", "path": "active", "value": false}]});
    assert_eq!(
        call(&http, Method::PATCH, format!("{base}/Users/{id}"), TOKEN_B, Some(deactivate.clone())).await.0,
        404
    );
    assert_eq!(call(&http, Method::DELETE, format!("{base}/Users/{id}"), TOKEN_B, None).await.0, 404);
    // Nor put tenant A's user into its own group.
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "B's",
                       "members": [{"value": id, "type": "User"}]});
    let (status, refused) = call(&http, Method::POST, format!("{base}/Groups"), TOKEN_B, Some(group)).await;
    assert_eq!((status, refused["scimType"].as_str()), (400, Some("invalidValue")), "{refused}");
    // No token, or an unknown one: 401.
    assert_eq!(call(&http, Method::GET, format!("{base}/Users"), "not-a-token", None).await.0, 401);

    // Tenant A deactivates ada: reported as such (what starts the offboarding automation), and
    // audited.
    events.taken();
    let (status, patched) = call(&http, Method::PATCH, format!("{base}/Users/{id}"), TOKEN_A, Some(deactivate)).await;
    assert_eq!((status, &patched["active"]), (200, &json!(false)), "{patched}");
    assert_eq!(events.taken(), [("acme".to_owned(), ProvisioningChange::Deactivated, id.clone())]);
    // A group of A's with ada in it shows in her groups.
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineers",
                       "members": [{"value": id, "type": "User"}]});
    let (status, engineers) = call(&http, Method::POST, format!("{base}/Groups"), TOKEN_A, Some(group)).await;
    assert_eq!(status, 201, "{engineers}");
    let (_, read) = call(&http, Method::GET, format!("{base}/Users/{id}"), TOKEN_A, None).await;
    assert_eq!(read["groups"][0]["value"], engineers["id"]);
    assert_eq!(read["groups"][0]["display"], json!("Engineers"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etags_guard_writes_and_spare_reads() {
    use reqwest::Method;
    let (_server, base) = serve(Arc::new(Recorded::default())).await;
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{base}/Users"))
        .bearer_auth(TOKEN_A)
        .header("content-type", "application/scim+json")
        .body(json!({"userName": "kai"}).to_string())
        .send()
        .await
        .expect("created");
    assert_eq!(created.status(), 201);
    let etag = created.headers().get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned();
    let location = created.headers().get("location").and_then(|v| v.to_str().ok()).expect("a Location").to_owned();
    assert!(location.starts_with(&base), "{location}");
    let unchanged = http.get(&location).bearer_auth(TOKEN_A).header("if-none-match", &etag).send().await.expect("read");
    assert_eq!(unchanged.status(), 304);
    let rename = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "displayName", "value": "Kai"}]});
    let patch_at = |tag: String| {
        http.patch(&location)
            .bearer_auth(TOKEN_A)
            .header("if-match", tag)
            .header("content-type", "application/scim+json")
            .body(rename.to_string())
            .send()
    };
    assert_eq!(patch_at(etag.clone()).await.expect("patched").status(), 200);
    let stale = patch_at(etag.clone()).await.expect("answered");
    assert_eq!(stale.status(), 412);
    let deleted = http.delete(&location).bearer_auth(TOKEN_A).header("if-match", &etag).send().await.expect("answered");
    assert_eq!(deleted.status(), 412, "a stale delete deletes nothing");
    assert_eq!(call(&http, Method::GET, location.clone(), TOKEN_A, None).await.0, 200);
    assert_eq!(http.delete(&location).bearer_auth(TOKEN_A).send().await.expect("deleted").status(), 204);
    let (status, gone) = call(&http, Method::GET, location, TOKEN_A, None).await;
    assert_eq!((status, gone["schemas"][0].as_str()), (404, Some("urn:ietf:params:scim:api:messages:2.0:Error")));
}

/// Hostile requests: each a SCIM error with its type, none a panic; what a page holds is
/// bounded whatever `count` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_scim_errors_and_bounded_answers() {
    use reqwest::Method;
    let (_server, base) = serve(Arc::new(Recorded::default())).await;
    let http = reqwest::Client::new();
    let raw =
        |method: Method, url: String, body: Vec<u8>| http.request(method, url).bearer_auth(TOKEN_A).body(body).send();
    // A body over the limit, one that is not JSON, one that is not UTF-8, JSON of the wrong shape.
    let huge = format!("{{\"userName\": \"{}\"}}", "x".repeat(integration_sso::scim::server::MAX_BODY));
    for (body, status, scim_type) in [
        (huge.into_bytes(), 413, Some("tooMany")),
        (b"{not json".to_vec(), 400, Some("invalidSyntax")),
        (vec![0xff, 0xfe, 0x00], 400, Some("invalidSyntax")),
        (b"[1, 2, 3]".to_vec(), 400, Some("invalidSyntax")),
        (br#"{"userName": 42}"#.to_vec(), 400, Some("invalidValue")),
        (br#"{"userName": "ok", "emails": "not-a-list"}"#.to_vec(), 400, Some("invalidValue")),
        (
            br#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "x"}"#.to_vec(),
            400,
            Some("invalidSyntax"),
        ),
    ] {
        let answer = raw(Method::POST, format!("{base}/Users"), body).await.expect("answered");
        let got = answer.status().as_u16();
        let error: Value = answer.json().await.unwrap_or(Value::Null);
        assert_eq!((got, error["scimType"].as_str()), (status, scim_type), "{error}");
    }
    // A filter too long, one that does not parse, paging numbers out of range.
    let long = format!("userName eq \"{}\"", "y".repeat(5_000));
    let (status, error) = call(&http, Method::GET, format!("{base}/Users?filter={long}"), TOKEN_A, None).await;
    assert_eq!((status, error["scimType"].as_str()), (400, Some("invalidFilter")));
    let (status, _) = call(&http, Method::GET, format!("{base}/Users?count=abc"), TOKEN_A, None).await;
    assert_eq!(status, 400);
    for i in 0..3 {
        let made = json!({"userName": format!("u{i}")});
        assert_eq!(call(&http, Method::POST, format!("{base}/Users"), TOKEN_A, Some(made)).await.0, 201);
    }
    let (status, page) =
        call(&http, Method::GET, format!("{base}/Users?startIndex=-5&count=99999999"), TOKEN_A, None).await;
    assert_eq!((status, &page["startIndex"], &page["totalResults"]), (200, &json!(1), &json!(3)));
    // Ids that are paths, or nothing like an id: not found, never another resource.
    for id in ["..%2F..%2FGroups", "%00", "%E2%80%AE"] {
        assert_eq!(call(&http, Method::GET, format!("{base}/Users/{id}"), TOKEN_A, None).await.0, 404, "{id}");
    }
    let (status, error) = call(&http, Method::GET, format!("{base}/Bulk"), TOKEN_A, None).await;
    assert_eq!((status, error["schemas"][0].as_str()), (404, Some("urn:ietf:params:scim:api:messages:2.0:Error")));
}
