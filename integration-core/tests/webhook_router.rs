//! The webhook router and worker end to end on the in-memory stores: routing, rejections with
//! the right status and reason (recorded and audited), handshakes, deduplication under 1,000
//! concurrent duplicates, the durable queue with retries, dead letters and replay.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ::http::{HeaderMap, HeaderValue, Method, StatusCode};
use async_trait::async_trait;
use integration_core::clock::ManualClock;
use integration_core::store::{
    AuditAction, DeliveryQuery, DeliveryStatus, DeliveryStore, MemoryStore, WebhookDelivery,
};
use integration_core::webhook::{
    AppEndpoint, DeliveryHandler, DeliveryWorker, Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret,
};
use integration_core::*;
use serde_json::json;

const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Setup {
    store: Arc<MemoryStore>,
    endpoints: Arc<StaticEndpoints>,
    router: WebhookRouter,
    clock: ManualClock,
}

fn tenant() -> TenantId {
    TenantId::new("acme").expect("tenant")
}

fn setup() -> Setup {
    let clock = ManualClock::new();
    let store = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    let endpoints = Arc::new(StaticEndpoints::new());
    endpoints
        .add_endpoint(
            "k1",
            Endpoint::new(
                tenant(),
                ConnectionId::new("hr").expect("connection"),
                ProviderId::new("acmehr").expect("provider"),
                WebhookScheme::StandardWebhooks,
                vec![WebhookSecret::new(SW_SECRET)],
            ),
        )
        .expect("endpoint");
    let router =
        WebhookRouter::new(endpoints.clone(), store.clone(), store.clone()).with_clock(Arc::new(clock.clone()));
    Setup { store, endpoints, router, clock }
}

fn signed(setup: &Setup, body: &[u8], id: &str) -> HeaderMap {
    let now = setup.clock.now().timestamp();
    WebhookScheme::StandardWebhooks.sign(&WebhookSecret::new(SW_SECRET), body, now, id).expect("sign")
}

use integration_core::clock::Clock as _;

async fn deliveries(setup: &Setup, status: Option<DeliveryStatus>) -> Vec<WebhookDelivery> {
    let mut q = DeliveryQuery::new().limit(10_000);
    if let Some(s) = status {
        q = q.status(s);
    }
    setup.store.list_deliveries(&tenant(), &q).await.expect("list")
}

#[tokio::test]
async fn a_verified_delivery_is_recorded_then_acknowledged() {
    let s = setup();
    let body = br#"{"type":"employee.hired","id":"42"}"#;
    let mut headers = signed(&s, body, "msg_1");
    headers.insert("authorization", HeaderValue::from_static("Bearer not-to-be-kept"));
    let r = s.router.handle(&Method::POST, "/acmehr/k1", &headers, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("accepted"));
    let queued = deliveries(&s, Some(DeliveryStatus::Queued)).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].event_id, "msg_1");
    assert_eq!(&queued[0].body[..], &body[..]);
    assert!(queued[0].headers.iter().all(|(n, _)| n != "authorization"), "credentials are not kept");
    assert!(queued[0].headers.iter().any(|(n, _)| n == "webhook-signature"));
}

#[tokio::test]
async fn a_body_given_as_bytes_is_recorded_without_a_copy() {
    let s = setup();
    let body = bytes::Bytes::from(br#"{"type":"employee.hired","id":"43"}"#.to_vec());
    let headers = signed(&s, &body, "msg_2");
    let r = s.router.handle_bytes(&Method::POST, "/acmehr/k1", &headers, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let queued = deliveries(&s, Some(DeliveryStatus::Queued)).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].body.as_ptr(), body.as_ptr(), "the recorded body is the request's buffer");
    // The same event again, as borrowed bytes this time: a duplicate either way.
    let again = s.router.handle(&Method::POST, "/acmehr/k1", &headers, &body).await;
    assert!(again.body.contains("duplicate"), "{}", again.body);
}

#[tokio::test]
async fn rejections_have_the_right_status_reason_record_and_audit() {
    let s = setup();
    let body = br#"{"type":"employee.hired"}"#;
    let good = signed(&s, body, "msg_1");
    let post = |path: &'static str, headers: HeaderMap, body: Vec<u8>| {
        let router = s.router.clone();
        async move { router.handle(&Method::POST, path, &headers, &body).await }
    };

    let r = post("/acmehr/nope", good.clone(), body.to_vec()).await;
    assert_eq!((r.status, r.body.contains("unknown_route")), (StatusCode::NOT_FOUND, true));
    let r = post("/unknown", good.clone(), body.to_vec()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post("/acmehr/k1/extra", good.clone(), body.to_vec()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = s.router.handle(&Method::GET, "/acmehr/k1", &good, body).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);

    let big = vec![b' '; integration_core::webhook::DEFAULT_BODY_LIMIT + 1];
    let r = post("/acmehr/k1", signed(&s, &big, "msg_big"), big).await;
    assert_eq!((r.status, r.body.contains("too_large")), (StatusCode::PAYLOAD_TOO_LARGE, true));

    let r = post("/acmehr/k1", good.clone(), br#"{"type":"employee.fired"}"#.to_vec()).await;
    assert_eq!((r.status, r.body.contains("signature_mismatch")), (StatusCode::UNAUTHORIZED, true));

    let mut no_sig = good.clone();
    no_sig.remove("webhook-signature");
    let r = post("/acmehr/k1", no_sig, body.to_vec()).await;
    assert_eq!((r.status, r.body.contains("missing_header")), (StatusCode::UNAUTHORIZED, true));

    let mut tampered_header = good.clone();
    tampered_header.insert("webhook-id", HeaderValue::from_static("msg_2"));
    let r = post("/acmehr/k1", tampered_header, body.to_vec()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let mut doubled = good.clone();
    doubled.append("webhook-timestamp", good["webhook-timestamp"].clone());
    let r = post("/acmehr/k1", doubled, body.to_vec()).await;
    assert_eq!((r.status, r.body.contains("duplicate_header")), (StatusCode::UNAUTHORIZED, true));

    let non_utf8 = vec![0xff, 0xfe, 0x00, 0x80];
    let mut h = signed(&s, &non_utf8, "msg_bin");
    let r = post("/acmehr/k1", h.clone(), vec![0xff, 0xfe, 0x00, 0x81]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "tampered binary body");
    h.insert("webhook-id", HeaderValue::from_bytes(b"msg_\xff").expect("opaque"));
    let r = post("/acmehr/k1", h, non_utf8.clone()).await;
    assert_eq!((r.status, r.body.contains("malformed_header")), (StatusCode::UNAUTHORIZED, true));

    let stale = good.clone();
    s.clock.advance(Duration::from_secs(301));
    let r = post("/acmehr/k1", stale, body.to_vec()).await;
    assert_eq!((r.status, r.body.contains("stale_timestamp")), (StatusCode::UNAUTHORIZED, true));
    let future = {
        let ts = s.clock.now().timestamp() + 301;
        WebhookScheme::StandardWebhooks.sign(&WebhookSecret::new(SW_SECRET), body, ts, "msg_f").expect("sign")
    };
    let r = post("/acmehr/k1", future, body.to_vec()).await;
    assert_eq!((r.status, r.body.contains("future_timestamp")), (StatusCode::UNAUTHORIZED, true));

    // Nothing was queued; every rejection at a known endpoint is in the log and the audit trail.
    assert!(deliveries(&s, Some(DeliveryStatus::Queued)).await.is_empty());
    let rejected = deliveries(&s, Some(DeliveryStatus::Rejected)).await;
    let mut reasons: Vec<String> = rejected.iter().filter_map(|d| d.rejection.clone()).collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "duplicate_header",
            "future_timestamp",
            "malformed_header",
            "missing_header",
            "signature_mismatch",
            "signature_mismatch",
            "signature_mismatch",
            "stale_timestamp",
            "too_large"
        ]
    );
    assert!(rejected.iter().all(|d| d.body.is_empty()), "unverified bodies are not kept");
    let audited =
        s.store.audit_events(&tenant()).into_iter().filter(|e| e.action == AuditAction::WebhookRejected).count();
    assert_eq!(audited, 9);
}

#[tokio::test]
async fn repeats_are_acknowledged_without_being_recorded_again() {
    let s = setup();
    let body = br#"{"type":"employee.updated"}"#;
    let h = signed(&s, body, "msg_dup");
    for _ in 0..3 {
        let r = s.router.handle(&Method::POST, "/acmehr/k1", &h, body).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    // A retry by the provider carries a new timestamp and signature but the same event id.
    s.clock.advance(Duration::from_secs(60));
    let retry = signed(&s, body, "msg_dup");
    let r = s.router.handle(&Method::POST, "/acmehr/k1", &retry, body).await;
    assert!(r.body.contains("duplicate"), "{}", r.body);
    assert_eq!(deliveries(&s, None).await.len(), 1);
}

#[derive(Debug, Default)]
struct Counting {
    calls: AtomicUsize,
    fail_first: usize,
    kind: Option<ErrorKind>,
}

#[async_trait]
impl DeliveryHandler for Counting {
    async fn handle(&self, _d: &WebhookDelivery, webhook: VerifiedWebhook) -> Result<WebhookOutcome> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n < self.fail_first {
            return Err(Error::new(self.kind.unwrap_or(ErrorKind::Transient), format!("failure #{}", n + 1)));
        }
        let payload: serde_json::Value = webhook.json()?;
        let record = Record::new("42", payload);
        Ok(WebhookOutcome::new(vec![RecordChange::new("employees", record)], vec![]))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_deliveries_of_one_event_are_processed_once() {
    let s = setup();
    let body = br#"{"type":"employee.terminated","id":"7"}"#.to_vec();
    let headers = signed(&s, &body, "msg_storm");
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (router, headers, body) = (s.router.clone(), headers.clone(), body.clone());
            tokio::spawn(async move { router.handle(&Method::POST, "/acmehr/k1", &headers, &body).await })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        let r = task.await.expect("task");
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        accepted += usize::from(r.body.contains("accepted"));
    }
    assert_eq!(accepted, 1);
    let handler = Arc::new(Counting::default());
    let worker = DeliveryWorker::new(s.store.clone(), handler.clone());
    assert_eq!(worker.run_until_idle().await.expect("run"), 1);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 1, "processed exactly once");
    let done = deliveries(&s, Some(DeliveryStatus::Processed)).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].outcome, Some(json!({"changes": 1, "events": 0})));
}

#[tokio::test]
async fn failures_are_retried_with_backoff_then_dead_lettered_and_replayable() {
    let s = setup();
    let body = br#"{"type":"employee.updated"}"#;
    s.router.handle(&Method::POST, "/acmehr/k1", &signed(&s, body, "msg_retry"), body).await;
    let handler = Arc::new(Counting { fail_first: 100, ..Default::default() });
    let worker = DeliveryWorker::new(s.store.clone(), handler.clone())
        .with_max_attempts(3)
        .with_backoff(Duration::from_secs(10), Duration::from_secs(60))
        .with_clock(Arc::new(s.clock.clone()));

    assert_eq!(worker.run_until_idle().await.expect("run"), 1);
    let d = &deliveries(&s, None).await[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Retrying, 1));
    assert_eq!(d.last_error.as_deref(), Some("transient failure: failure #1"));
    let wait = (d.next_attempt_at - s.clock.now()).num_milliseconds();
    assert!((10_000..=60_000).contains(&wait), "backoff within bounds: {wait} ms");
    assert_eq!(worker.run_until_idle().await.expect("run"), 0, "not due yet");

    s.clock.advance(Duration::from_secs(61));
    worker.run_until_idle().await.expect("run");
    s.clock.advance(Duration::from_secs(61));
    worker.run_until_idle().await.expect("run");
    let d = &deliveries(&s, None).await[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::DeadLettered, 3));
    assert_eq!(handler.calls.load(Ordering::SeqCst), 3);
    s.clock.advance(Duration::from_secs(3600));
    assert_eq!(worker.run_until_idle().await.expect("run"), 0, "dead letters stay put");

    // The host sees the dead letter, fixes the cause, replays it.
    let dead = deliveries(&s, Some(DeliveryStatus::DeadLettered)).await;
    assert_eq!(dead.len(), 1);
    s.store.replay(&tenant(), dead[0].id).await.expect("replay");
    let fixed = Arc::new(Counting::default());
    let worker = DeliveryWorker::new(s.store.clone(), fixed.clone()).with_clock(Arc::new(s.clock.clone()));
    assert_eq!(worker.run_until_idle().await.expect("run"), 1);
    assert_eq!(deliveries(&s, None).await[0].status, DeliveryStatus::Processed);
}

#[tokio::test]
async fn errors_that_cannot_succeed_later_are_dead_lettered_at_once() {
    let s = setup();
    let body = b"not json at all";
    s.router.handle(&Method::POST, "/acmehr/k1", &signed(&s, body, "msg_bad"), body).await;
    let handler = Arc::new(Counting::default());
    DeliveryWorker::new(s.store.clone(), handler).run_until_idle().await.expect("run");
    let d = &deliveries(&s, None).await[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::DeadLettered, 1));
    assert!(d.last_error.as_deref().unwrap_or_default().contains("invalid response"), "{:?}", d.last_error);
}

#[tokio::test]
async fn the_worker_wakes_when_a_delivery_is_queued() {
    let s = setup();
    let handler = Arc::new(Counting::default());
    let worker = DeliveryWorker::new(s.store.clone(), handler.clone());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let wake = s.router.wake_handle();
    let running = tokio::spawn(async move {
        worker.run(wake, Duration::from_secs(3600), async { stop_rx.await.unwrap_or(()) }).await;
    });
    let body = br#"{"type":"employee.hired"}"#;
    s.router.handle(&Method::POST, "/acmehr/k1", &signed(&s, body, "msg_wake"), body).await;
    let processed = integration_testkit::poll::eventually(Duration::from_secs(10), || {
        let h = handler.clone();
        async move { (h.calls.load(Ordering::SeqCst) == 1).then_some(()) }
    })
    .await;
    assert!(processed.is_some(), "the hour-long poll interval was not waited out");
    stop_tx.send(()).expect("stop");
    running.await.expect("worker stops");
}

fn xero_setup() -> (Setup, WebhookSecret) {
    let s = setup();
    let key = WebhookSecret::new("xero-webhook-key");
    let xero = ProviderId::new("xero").expect("provider");
    s.endpoints
        .add_app(AppEndpoint::new(xero.clone(), WebhookScheme::Xero, vec![key.clone()], "/events/*/tenantId"))
        .expect("app");
    s.endpoints.add_account(&xero, "xt-1", tenant(), ConnectionId::new("books-1").expect("c"));
    s.endpoints.add_account(&xero, "xt-2", TenantId::new("globex").expect("t"), ConnectionId::new("books").expect("c"));
    (s, key)
}

#[tokio::test]
async fn xero_intent_to_receive_and_account_routing() {
    let (s, key) = xero_setup();
    let itr = br#"{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"YSXRDVPTOOLGPNZMVCFT"}"#;
    let sig = WebhookScheme::Xero.sign(&key, itr, 0, "").expect("sign");
    let r = s.router.handle(&Method::POST, "/xero", &sig, itr).await;
    assert_eq!(r.status, StatusCode::OK, "a valid intent-to-receive gets 200");
    let bad = WebhookScheme::Xero.sign(&WebhookSecret::new("other"), itr, 0, "").expect("sign");
    assert_eq!(s.router.handle(&Method::POST, "/xero", &bad, itr).await.status, StatusCode::UNAUTHORIZED);

    // One delivery with events of two tenants reaches both, each once.
    let body = br#"{"events":[{"tenantId":"xt-1","eventType":"UPDATE"},{"tenantId":"xt-2","eventType":"CREATE"},{"tenantId":"xt-unknown"}]}"#;
    let sig = WebhookScheme::Xero.sign(&key, body, 0, "").expect("sign");
    let r = s.router.handle(&Method::POST, "/xero", &sig, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ours = deliveries(&s, Some(DeliveryStatus::Queued)).await;
    assert_eq!((ours.len(), ours[0].connection.as_str()), (1, "books-1"));
    let globex = TenantId::new("globex").expect("t");
    let theirs = s.store.list_deliveries(&globex, &DeliveryQuery::new()).await.expect("list");
    assert_eq!(theirs.len(), 1);
    let again = s.router.handle(&Method::POST, "/xero", &sig, body).await;
    assert!(again.body.contains("duplicate"), "{}", again.body);

    let not_json = b"<xml/>";
    let sig = WebhookScheme::Xero.sign(&key, not_json, 0, "").expect("sign");
    assert_eq!(s.router.handle(&Method::POST, "/xero", &sig, not_json).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn slack_url_verification_challenge() {
    let s = setup();
    let secret = WebhookSecret::new("slack-signing-secret");
    let slack = ProviderId::new("slack").expect("provider");
    s.endpoints.add_app(AppEndpoint::new(slack, WebhookScheme::Slack, vec![secret.clone()], "/team_id")).expect("app");
    let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let headers = WebhookScheme::Slack.sign(&secret, body, s.clock.now().timestamp(), "").expect("sign");
    let r = s.router.handle(&Method::POST, "/slack", &headers, body).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "text/plain");
    assert_eq!(r.body, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    let forged =
        WebhookScheme::Slack.sign(&WebhookSecret::new("x"), body, s.clock.now().timestamp(), "").expect("sign");
    assert_eq!(s.router.handle(&Method::POST, "/slack", &forged, body).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn secrets_of_an_endpoint_can_rotate() {
    let s = setup();
    let new = WebhookSecret::new("whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY");
    s.endpoints
        .add_endpoint(
            "k1",
            Endpoint::new(
                tenant(),
                ConnectionId::new("hr").expect("connection"),
                ProviderId::new("acmehr").expect("provider"),
                WebhookScheme::StandardWebhooks,
                vec![new.clone(), WebhookSecret::new(SW_SECRET)],
            ),
        )
        .expect("endpoint");
    let body = br#"{"type":"employee.hired"}"#;
    let old_signed = signed(&s, body, "msg_old");
    assert_eq!(s.router.handle(&Method::POST, "/acmehr/k1", &old_signed, body).await.status, StatusCode::OK);
    let new_signed =
        WebhookScheme::StandardWebhooks.sign(&new, body, s.clock.now().timestamp(), "msg_new").expect("sign");
    assert_eq!(s.router.handle(&Method::POST, "/acmehr/k1", &new_signed, body).await.status, StatusCode::OK);
}

/// An Adyen notification with each item signed as Adyen signs it.
fn adyen_notification(key: &WebhookSecret, items: &[(&str, i64, &str)]) -> Vec<u8> {
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|(psp, value, event)| {
            let mut item = json!({
                "pspReference": psp, "originalReference": "", "merchantAccountCode": "AcmeECOM",
                "merchantReference": format!("order-{psp}"), "amount": {"value": value, "currency": "EUR"},
                "eventCode": event, "eventDate": "2026-12-07T10:00:00+01:00", "success": "true",
                "paymentMethod": "visa", "reason": "", "additionalData": {},
            });
            let signature = integration_core::webhook::adyen::item_signature(key, &item).expect("a hex key");
            item["additionalData"]["hmacSignature"] = json!(signature);
            json!({ "NotificationRequestItem": item })
        })
        .collect();
    serde_json::to_vec(&json!({ "live": "false", "notificationItems": items })).expect("JSON")
}

#[tokio::test]
async fn adyen_notifications_are_verified_item_by_item_and_answered_accepted() {
    let s = setup();
    let key = WebhookSecret::new("44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056");
    let adyen = ProviderId::new("adyen").expect("provider");
    let endpoint = |keys: Vec<WebhookSecret>| {
        Endpoint::new(
            tenant(),
            ConnectionId::new("pay").expect("connection"),
            adyen.clone(),
            WebhookScheme::Adyen,
            keys,
        )
    };
    s.endpoints.add_endpoint("merchant", endpoint(vec![key.clone()])).expect("endpoint");
    assert!(
        s.endpoints.add_endpoint("bad", endpoint(vec![WebhookSecret::new("not hex at all")])).is_err(),
        "a key that is not hex is refused when added"
    );

    let body =
        adyen_notification(&key, &[("8515131751004933", 1_130, "AUTHORISATION"), ("8515131751004934", 500, "REFUND")]);
    let answer = s.router.handle(&Method::POST, "/adyen/merchant", &HeaderMap::new(), &body).await;
    assert_eq!(
        (answer.status, answer.content_type, answer.body.as_str()),
        (StatusCode::OK, "text/plain", "[accepted]")
    );
    assert_eq!(deliveries(&s, None).await.len(), 1);
    // Sent again (Adyen retries until it is accepted): accepted, recorded once.
    let again = s.router.handle(&Method::POST, "/adyen/merchant", &HeaderMap::new(), &body).await;
    assert_eq!((again.status, again.body.as_str()), (StatusCode::OK, "[accepted]"));
    assert_eq!(deliveries(&s, None).await.len(), 1, "applied once");

    // One item's amount changed after signing: the delivery is refused.
    let tampered = String::from_utf8(body.clone()).expect("text").replacen("\"value\":500", "\"value\":50000", 1);
    let refused = s.router.handle(&Method::POST, "/adyen/merchant", &HeaderMap::new(), tampered.as_bytes()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    // Signed with another key, or not at all.
    let other =
        adyen_notification(&WebhookSecret::new("00112233445566778899AABBCCDDEEFF"), &[("1", 1, "AUTHORISATION")]);
    assert_eq!(
        s.router.handle(&Method::POST, "/adyen/merchant", &HeaderMap::new(), &other).await.status,
        StatusCode::UNAUTHORIZED
    );
    let unsigned = br#"{"live":"false","notificationItems":[{"NotificationRequestItem":{"pspReference":"1","eventCode":"AUTHORISATION","success":"true"}}]}"#;
    assert_eq!(
        s.router.handle(&Method::POST, "/adyen/merchant", &HeaderMap::new(), unsigned).await.status,
        StatusCode::UNAUTHORIZED
    );
    let accepted = deliveries(&s, None).await.into_iter().filter(|d| d.status != DeliveryStatus::Rejected).count();
    assert_eq!(accepted, 1, "the refused ones are recorded as rejections only");
    assert_eq!(deliveries(&s, Some(DeliveryStatus::Rejected)).await.len(), 3);
}

#[tokio::test]
async fn graph_validation_is_echoed_and_notifications_need_their_client_state() {
    let s = setup();
    let state = WebhookSecret::new("client-state-of-the-subscription-0123456789");
    let endpoint = Endpoint::new(
        tenant(),
        ConnectionId::new("outlook").expect("connection"),
        ProviderId::new("microsoft_outlook").expect("provider"),
        WebhookScheme::GraphClientState,
        vec![state],
    );
    s.endpoints.add_endpoint("ada", endpoint).expect("endpoint");

    // Graph's check of the endpoint: its token back, as text, nothing recorded.
    let check = s
        .router
        .handle(
            &Method::POST,
            "/microsoft_outlook/ada?validationToken=Validation%3A%20Testing%20client%20application",
            &HeaderMap::new(),
            b"",
        )
        .await;
    assert_eq!(
        (check.status, check.content_type, check.body.as_str()),
        (StatusCode::OK, "text/plain", "Validation: Testing client application")
    );
    // Not for an endpoint that does not exist.
    let unknown =
        s.router.handle(&Method::POST, "/microsoft_outlook/nobody?validationToken=x", &HeaderMap::new(), b"").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(deliveries(&s, None).await.iter().all(|d| d.status == DeliveryStatus::Rejected));

    let body = br#"{"value":[{"subscriptionId":"s-1","clientState":"client-state-of-the-subscription-0123456789","changeType":"updated","resource":"Users/u-1/Events/e-1","subscriptionExpirationDateTime":"2026-12-09T10:00:00Z","tenantId":"t-1"}]}"#;
    let answer = s.router.handle(&Method::POST, "/microsoft_outlook/ada", &HeaderMap::new(), body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let again = s.router.handle(&Method::POST, "/microsoft_outlook/ada", &HeaderMap::new(), body).await;
    assert_eq!(again.status, StatusCode::OK);
    let accepted: Vec<_> =
        deliveries(&s, None).await.into_iter().filter(|d| d.status != DeliveryStatus::Rejected).collect();
    assert_eq!(accepted.len(), 1, "Graph's retry of the same body is recorded once");
    let forged = String::from_utf8(body.to_vec())
        .expect("text")
        .replace("client-state-of-the-subscription-0123456789", "guessed");
    let refused = s.router.handle(&Method::POST, "/microsoft_outlook/ada", &HeaderMap::new(), forged.as_bytes()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // A validation token on a delivery with a body is not an echo: the body is checked.
    let sneaky = s
        .router
        .handle(&Method::POST, "/microsoft_outlook/ada?validationToken=x", &HeaderMap::new(), forged.as_bytes())
        .await;
    assert_eq!(sneaky.status, StatusCode::UNAUTHORIZED);
}
