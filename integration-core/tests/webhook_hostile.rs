//! The webhook paths under hostile input: stuffed signature headers, replays under a fresh
//! unsigned id, a malformed secret during a rotation, and a flood of unsigned requests.

use std::sync::Arc;

use ::http::{HeaderMap, HeaderValue, Method, StatusCode};
use base64::Engine as _;
use integration_core::clock::{Clock as _, ManualClock};
use integration_core::store::{AuditAction, DeliveryQuery, DeliveryStatus, DeliveryStore, MemoryStore};
use integration_core::webhook::{
    Endpoint, MAX_SIGNATURES, Rejection, RejectionLimit, StaticEndpoints, VerifyOptions, WebhookRouter, WebhookSecret,
};
use integration_core::*;

const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TS: i64 = 1_700_000_000;

fn tenant() -> TenantId {
    TenantId::new("acme").expect("tenant")
}

fn endpoint(provider: &str, scheme: WebhookScheme, secrets: Vec<WebhookSecret>) -> Endpoint {
    Endpoint::new(
        tenant(),
        ConnectionId::new("c1").expect("connection"),
        ProviderId::new(provider).expect("provider"),
        scheme,
        secrets,
    )
}

fn router(endpoints: Arc<StaticEndpoints>, store: &Arc<MemoryStore>, clock: &ManualClock) -> WebhookRouter {
    WebhookRouter::new(endpoints, store.clone(), store.clone()).with_clock(Arc::new(clock.clone()))
}

/// An Ed25519 key pair in Standard Webhooks form (`whsk_`, `whpk_`).
fn ed25519_pair() -> (WebhookSecret, WebhookSecret) {
    let seed = [7u8; 32];
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    let b64 = base64::engine::general_purpose::STANDARD;
    (
        WebhookSecret::new(format!("whsk_{}", b64.encode(seed))),
        WebhookSecret::new(format!("whpk_{}", b64.encode(public))),
    )
}

#[test]
fn only_the_first_signatures_of_a_stuffed_header_are_considered() {
    let (signing, public) = ed25519_pair();
    let body = br#"{"type":"x"}"#;
    let signed = WebhookScheme::StandardWebhooks.sign(&signing, body, TS, "msg_1").expect("sign");
    let valid = signed["webhook-signature"].to_str().expect("ascii").to_owned();
    // A forged v1a entry: well-formed, wrong.
    let junk = format!("v1a,{}", base64::engine::general_purpose::STANDARD.encode([1u8; 64]));
    let with = |position: usize| {
        let mut entries = vec![junk.clone(); 400];
        entries.insert(position, valid.clone());
        let mut headers = signed.clone();
        headers.insert("webhook-signature", HeaderValue::from_str(&entries.join(" ")).expect("header"));
        headers
    };
    let options = VerifyOptions::at(TS);
    let verify = |headers: &HeaderMap| {
        WebhookScheme::StandardWebhooks.verify(headers, body, std::slice::from_ref(&public), &options)
    };
    assert!(verify(&with(MAX_SIGNATURES - 1)).is_ok(), "within the first MAX_SIGNATURES entries");
    assert_eq!(verify(&with(MAX_SIGNATURES)), Err(Rejection::SignatureMismatch), "past them: not even looked at");
    // The same bound holds for HMAC lists.
    let hmac = WebhookSecret::new(SW_SECRET);
    let signed = WebhookScheme::StandardWebhooks.sign(&hmac, body, TS, "msg_1").expect("sign");
    let valid = signed["webhook-signature"].to_str().expect("ascii").to_owned();
    let mut entries = vec!["v1,AAAA".to_owned(); 400];
    entries.push(valid);
    let mut headers = signed.clone();
    headers.insert("webhook-signature", HeaderValue::from_str(&entries.join(" ")).expect("header"));
    assert_eq!(
        WebhookScheme::StandardWebhooks.verify(&headers, body, &[hmac], &options),
        Err(Rejection::SignatureMismatch)
    );
}

#[tokio::test]
async fn a_github_delivery_replayed_under_a_fresh_delivery_id_is_a_duplicate() {
    let clock = ManualClock::new();
    let store = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    let endpoints = Arc::new(StaticEndpoints::new());
    let secret = WebhookSecret::new("gh-secret");
    endpoints.add_endpoint("repo", endpoint("github", WebhookScheme::GitHub, vec![secret.clone()])).expect("endpoint");
    let router = router(endpoints, &store, &clock);
    let body = br#"{"action":"opened","number":7}"#;
    let first = WebhookScheme::GitHub.sign(&secret, body, 0, "guid-1").expect("sign");
    let mut replay = first.clone();
    replay.insert("x-github-delivery", HeaderValue::from_static("guid-attacker-2"));
    let r = router.handle(&Method::POST, "/github/repo", &first, body).await;
    assert!(r.body.contains("accepted"), "{}", r.body);
    let r = router.handle(&Method::POST, "/github/repo", &replay, body).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("duplicate"), "the replay is recognized: {}", r.body);
    let queued = store.list_deliveries(&tenant(), &DeliveryQuery::new().status(DeliveryStatus::Queued)).await;
    assert_eq!(queued.expect("list").len(), 1, "processed once");
}

#[tokio::test]
async fn a_malformed_secret_among_an_endpoints_secrets_is_skipped() {
    let typo = WebhookSecret::new("whsec_not*base64!");
    let good = WebhookSecret::new(SW_SECRET);
    // Refused when the endpoint is added, naming the secret.
    let endpoints = Arc::new(StaticEndpoints::new());
    let err = endpoints
        .add_endpoint("k", endpoint("acmehr", WebhookScheme::StandardWebhooks, vec![good.clone(), typo.clone()]))
        .expect_err("a malformed secret is refused");
    assert_eq!(err.field(), Some("secrets[1]"), "{err}");
    assert!(err.message().contains("not base64"), "{err}");
    assert!(!err.to_string().contains("not*base64"), "the secret's text never appears: {err}");
    let blank = endpoints.add_endpoint("k", endpoint("github", WebhookScheme::GitHub, vec![WebhookSecret::new(" ")]));
    assert_eq!(blank.expect_err("blank").field(), Some("secrets[0]"));

    // An endpoint that reached the router anyway (a host's own resolver) still verifies with the
    // good secret, and a forgery is a 401, not a 500.
    let body = br#"{"type":"x"}"#;
    let options = VerifyOptions::at(TS);
    let signed = WebhookScheme::StandardWebhooks.sign(&good, body, TS, "m").expect("sign");
    let both = [typo.clone(), good.clone()];
    assert!(WebhookScheme::StandardWebhooks.verify(&signed, body, &both, &options).is_ok());
    let forged = WebhookScheme::StandardWebhooks
        .sign(&WebhookSecret::new("whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"), body, TS, "m")
        .expect("sign");
    assert_eq!(
        WebhookScheme::StandardWebhooks.verify(&forged, body, &both, &options),
        Err(Rejection::SignatureMismatch)
    );
    // Only when no secret is usable is the endpoint misconfigured.
    let only_typo = WebhookScheme::StandardWebhooks.verify(&signed, body, &[typo], &options);
    assert!(matches!(only_typo, Err(Rejection::Misconfigured(_))), "{only_typo:?}");
}

#[tokio::test]
async fn a_flood_of_unsigned_requests_records_a_bounded_number() {
    let clock = ManualClock::new();
    let store = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    let endpoints = Arc::new(StaticEndpoints::new());
    endpoints
        .add_endpoint("k", endpoint("acmehr", WebhookScheme::StandardWebhooks, vec![WebhookSecret::new(SW_SECRET)]))
        .expect("endpoint");
    let limit = RejectionLimit { per_window: 10, window: std::time::Duration::from_secs(60) };
    let router = router(endpoints, &store, &clock).with_rejection_limit(limit);
    let body = br#"{"type":"x"}"#;
    for _ in 0..1_000 {
        let r = router.handle(&Method::POST, "/acmehr/k", &HeaderMap::new(), body).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "every one is still refused");
    }
    let rejected = store.list_deliveries(&tenant(), &DeliveryQuery::new().limit(10_000)).await.expect("list");
    assert_eq!(rejected.len(), 10, "the first of the window are recorded, the rest counted");
    let audited = |store: &MemoryStore| {
        store
            .audit_events(&tenant())
            .into_iter()
            .filter(|e| e.action == AuditAction::WebhookRejected)
            .collect::<Vec<_>>()
    };
    assert_eq!(audited(&store).len(), 11, "ten rejections and one notice that counting began");

    // The next window records again, and audits what the last one counted.
    clock.advance(std::time::Duration::from_secs(61));
    let r = router.handle(&Method::POST, "/acmehr/k", &HeaderMap::new(), body).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let events = audited(&store);
    assert_eq!(events.len(), 13);
    let summary = events.iter().map(|e| e.detail.clone()).find(|d| d.contains("990 rejected deliveries"));
    assert!(summary.is_some_and(|s| s.contains("missing_header 990")), "{events:?}");
    // A signed delivery is never held back by the flood.
    let good = WebhookScheme::StandardWebhooks
        .sign(&WebhookSecret::new(SW_SECRET), body, clock.now().timestamp(), "msg_ok")
        .expect("sign");
    assert_eq!(router.handle(&Method::POST, "/acmehr/k", &good, body).await.status, StatusCode::OK);
}
