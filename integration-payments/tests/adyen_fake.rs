//! The Adyen adapter against the testkit's `FakeAdyen` (Checkout API v71, which honours
//! idempotency keys as Adyen documents): stored cards pay or are refused with typed reasons,
//! captures and refunds are accepted and settled by notifications, a payment whose answer was
//! lost is made once, and the signed notifications go through the router into the records
//! cache — late ones never undoing newer ones.

use std::sync::Arc;

use integration_core::http::{HeaderMap, Method};
use integration_core::store::{DeliveryQuery, DeliveryStore, MemoryStore, RecordStore, StreamScope};
use integration_core::sync::SyncEngine;
use integration_core::webhook::{
    Adapters, ApplyToCache, DeliveryWorker, Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret,
};
use integration_core::{BuildContext, ConnectionId, ErrorKind, Integration, ProviderId, TenantId, WebhookScheme};
use integration_payments::{
    CaptureMethod, Confirmation, Currency, DeclineReason, IntentInput, IntentStatus, ListRequest, Money, OperationKey,
    Payments, RefundInput, RefundStatus,
};
use integration_testkit::fake::adyen::{API_KEY, FakeAdyen, HMAC_KEY};
use integration_testkit::fake::faults::Fault;

fn tenant() -> TenantId {
    TenantId::new("acme").expect("tenant")
}

fn connection() -> ConnectionId {
    ConnectionId::new("adyen").expect("connection")
}

fn connect(fake: &FakeAdyen) -> Arc<dyn Payments> {
    integration_payments::build(&fake.config(tenant(), connection()), &BuildContext::default())
        .expect("the typed build")
}

fn key(name: &str) -> OperationKey {
    OperationKey::new(format!("test:{name}:{}", fastrand::u64(..))).expect("a key")
}

fn eur(cents: i64) -> Money {
    Money::new(cents, Currency::EUR).expect("euros")
}

fn charge(amount: Money, shopper: &str, token: &str) -> IntentInput {
    let mut intent = IntentInput::new(amount);
    (intent.customer_id, intent.payment_method_id, intent.confirm) = (Some(shopper.into()), Some(token.into()), true);
    intent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_cards_pay_or_are_refused_with_typed_reasons() {
    let fake = FakeAdyen::start().await;
    let payments = connect(&fake);
    assert_eq!(payments.connect().await.expect("the key is accepted").account_id.as_deref(), Some("AcmeECOM"));

    let methods = payments.payment_methods("shopper-1").await.expect("the shopper's cards");
    let shown: Vec<_> = methods
        .iter()
        .map(|m| (m.remote_id.as_str(), m.fields.brand.as_deref(), m.fields.last4.as_deref(), m.fields.exp_year))
        .collect();
    assert_eq!(
        shown,
        [
            ("TOKEN_NO_FUNDS", Some("mc"), Some("4444"), Some(2030)),
            ("TOKEN_VISA", Some("visa"), Some("1111"), Some(2030))
        ]
    );
    assert_eq!(methods[0].fields.kind, "card");

    let Confirmation::Succeeded { intent: paid } =
        payments.create_intent(&key("pay"), &charge(eur(2_000), "shopper-1", "TOKEN_VISA")).await.expect("paid")
    else {
        panic!("the visa token pays");
    };
    assert_eq!((paid.fields.status.clone(), paid.fields.amount), (IntentStatus::Succeeded, eur(2_000)));
    assert_eq!(paid.fields.amount_received, Some(eur(2_000)));
    assert_eq!(paid.remote_id.len(), 16, "a pspReference");

    for (shopper, token, reason) in [
        ("shopper-1", "TOKEN_NO_FUNDS", DeclineReason::InsufficientFunds),
        ("shopper-2", "TOKEN_EXPIRED", DeclineReason::ExpiredCard),
    ] {
        match payments.create_intent(&key("refused"), &charge(eur(2_000), shopper, token)).await.expect("an outcome") {
            Confirmation::Declined { reason: got, message, intent_id } => {
                assert_eq!(got, reason, "{message}");
                assert!(!intent_id.is_empty());
            }
            other => panic!("refused, not {other:?}"),
        }
    }
    // Another shopper's token is not this one's: Adyen's "Contract not found".
    let error = payments.create_intent(&key("x"), &charge(eur(100), "shopper-2", "TOKEN_VISA")).await.expect_err("no");
    assert_eq!((error.status(), error.code()), (Some(422), Some("800")), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_refunds_and_cancellations_are_accepted_then_settled() {
    let fake = FakeAdyen::start().await;
    let payments = connect(&fake);
    let mut intent = charge(eur(10_000), "shopper-1", "TOKEN_VISA");
    intent.capture_method = CaptureMethod::Manual;
    let Confirmation::Succeeded { intent: authorised } =
        payments.create_intent(&key("auth"), &intent).await.expect("authorised")
    else {
        panic!("authorised");
    };
    assert_eq!(authorised.fields.status, IntentStatus::RequiresCapture);
    assert_eq!(authorised.fields.amount_received, None);

    let captured =
        payments.capture_intent(&key("capture"), &authorised.remote_id, Some(eur(7_500))).await.expect("accepted");
    assert_eq!((captured.fields.status, captured.fields.amount), (IntentStatus::Processing, eur(7_500)));
    let error = payments.capture_intent(&key("all"), &authorised.remote_id, None).await.expect_err("no amount");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Validation, Some("amount")));

    let refund = payments
        .refund(&key("refund"), &RefundInput::partial(&authorised.remote_id, eur(2_500)))
        .await
        .expect("accepted");
    assert_eq!((refund.fields.amount, refund.fields.status.clone()), (eur(2_500), RefundStatus::Pending));
    assert_eq!(refund.fields.payment_intent_id.as_deref(), Some(authorised.remote_id.as_str()));
    assert_ne!(refund.remote_id, authorised.remote_id, "a refund has its own pspReference");
    let error = payments.refund(&key("full"), &RefundInput::full(&authorised.remote_id)).await.expect_err("no amount");
    assert_eq!(error.field(), Some("amount"));

    let mut other = charge(eur(3_000), "shopper-1", "TOKEN_VISA");
    other.capture_method = CaptureMethod::Manual;
    let Confirmation::Succeeded { intent: other } = payments.create_intent(&key("other"), &other).await.expect("ok")
    else {
        panic!("authorised");
    };
    let canceled = payments.cancel_intent(&other.remote_id).await.expect("accepted");
    assert_eq!(canceled.fields.status, IntentStatus::Processing);

    // The notifications say how each ended.
    let delivery: serde_json::Value =
        serde_json::from_slice(&fake.take_webhook().expect("notifications")).expect("JSON");
    let events: Vec<(String, String)> = delivery["notificationItems"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| &i["NotificationRequestItem"])
        .map(|i| {
            (
                i["eventCode"].as_str().unwrap_or_default().to_owned(),
                i["success"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("AUTHORISATION", "true"),
        ("CAPTURE", "true"),
        ("REFUND", "true"),
        ("AUTHORISATION", "true"),
        ("CANCELLATION", "true"),
    ];
    assert_eq!(events, expected.map(|(e, s)| (e.to_owned(), s.to_owned())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_whose_answer_was_lost_is_made_once() {
    let fake = FakeAdyen::start().await;
    let payments = connect(&fake);
    fake.faults().inject_on("/payments", Fault::TruncatedBody, 1);
    let operation = key("lost");
    let intent = charge(eur(4_990), "shopper-1", "TOKEN_VISA");
    let Confirmation::Succeeded { intent: paid } = payments.create_intent(&operation, &intent).await.expect("paid")
    else {
        panic!("paid");
    };
    assert_eq!(fake.faults().served(), [Fault::TruncatedBody], "the first answer was lost");
    assert_eq!(fake.payments(), 1, "one payment at Adyen, not two");
    // The caller repeating the operation gets the same payment.
    let Confirmation::Succeeded { intent: again } = payments.create_intent(&operation, &intent).await.expect("same")
    else {
        panic!("paid");
    };
    assert_eq!((again.remote_id.as_str(), fake.payments()), (paid.remote_id.as_str(), 1));
    payments.create_intent(&key("another"), &intent).await.expect("another payment");
    assert_eq!(fake.payments(), 2, "another operation is another payment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_are_sent_in_adyen_s_minor_units() {
    let fake = FakeAdyen::start().await;
    let payments = connect(&fake);
    // ISO and Adyen agree (JPY 0, EUR 2, KWD 3 decimals) and disagree (IDR: Adyen counts whole
    // rupiah; ISK: Adyen counts hundredths).
    let cases = [
        (Money::new(4_990, Currency::JPY), 4_990),
        (Money::new(4_990, Currency::EUR), 4_990),
        (Money::new(1_250, Currency::KWD), 1_250),
        (Money::new(1_500_000, Currency::IDR), 15_000),
        (Money::new(2_790, Currency::ISK), 279_000),
    ];
    for (amount, sent) in &cases {
        let sent = *sent;
        let amount = *amount.as_ref().expect("an amount");
        let Confirmation::Succeeded { intent } =
            payments.create_intent(&key("fx"), &charge(amount, "shopper-1", "TOKEN_VISA")).await.expect("paid")
        else {
            panic!("paid");
        };
        assert_eq!(intent.fields.amount, amount, "round trip of {amount}");
        let delivery: serde_json::Value = serde_json::from_slice(&fake.take_webhook().expect("one")).expect("JSON");
        let item = &delivery["notificationItems"][0]["NotificationRequestItem"];
        assert_eq!(item["amount"]["value"], sent, "{amount} is {sent} at Adyen");
        assert_eq!(item["amount"]["currency"], amount.currency().code());
    }
    // 15.50 IDR has no whole count at Adyen: refused before anything is sent.
    let odd = Money::new(1_550, Currency::IDR).expect("an amount");
    let error =
        payments.create_intent(&key("odd"), &charge(odd, "shopper-1", "TOKEN_VISA")).await.expect_err("refused");
    assert_eq!(error.field(), Some("amount"), "{error}");
    assert_eq!(fake.payments(), cases.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_adyen_has_not_is_unsupported_and_no_listing_stream_is_declared() {
    let fake = FakeAdyen::start().await;
    let payments = connect(&fake);
    let unsupported = [
        payments.customers(ListRequest::first()).await.map(drop),
        payments.payment_intents(ListRequest::first()).await.map(drop),
        payments.refunds(ListRequest::first()).await.map(drop),
        payments.payment_intent("8515131751004933").await.map(drop),
        payments.create_customer(&key("c"), &Default::default()).await.map(drop),
        payments.attach_payment_method("shopper-1", "tok").await.map(drop),
        payments.confirm_intent(&key("c"), "8515131751004933").await.map(drop),
        payments.payouts(ListRequest::first()).await.map(drop),
        payments.balance_transactions(ListRequest::first()).await.map(drop),
        payments.subscriptions(ListRequest::first()).await.map(drop),
        payments.disputes(ListRequest::first()).await.map(drop),
    ];
    for answer in unsupported {
        assert_eq!(answer.expect_err("unsupported").kind(), ErrorKind::Unsupported);
    }
    assert!(payments.descriptor().streams.is_empty(), "nothing to list: the cache fills from notifications");
    let mut unconfirmed = charge(eur(100), "shopper-1", "TOKEN_VISA");
    unconfirmed.confirm = false;
    let error = payments.create_intent(&key("u"), &unconfirmed).await.expect_err("Adyen authorises at once");
    assert_eq!(error.field(), Some("confirm"));
    assert_eq!(fake.payments(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_is_in_no_trace_error_or_debug_output() {
    use integration_testkit::capture::capture_tracing;

    let fake = FakeAdyen::start().await;
    let wrong = "AQEwrong-but-still-a-secret-adyen-key-987654";
    let ((), logs) = capture_tracing(async {
        let payments = connect(&fake);
        let paid = payments.create_intent(&key("p"), &charge(eur(100), "shopper-1", "TOKEN_VISA")).await;
        let refused = payments.create_intent(&key("r"), &charge(eur(100), "shopper-1", "TOKEN_NO_FUNDS")).await;
        let config = fake.config(tenant(), connection()).with_secret("api_key", wrong);
        let bad = integration_payments::build(&config, &BuildContext::default()).expect("built");
        let error = bad.connect().await.expect_err("refused");
        assert_eq!((error.kind(), error.code()), (ErrorKind::AuthInvalid, Some("000")), "{error}");
        let seen = format!("{paid:?} {refused:?} {error:?} {error} {payments:?} {bad:?}");
        for secret in [API_KEY, wrong] {
            assert!(!seen.contains(secret), "the key in an answer, error or Debug output");
        }
    })
    .await;
    for secret in [API_KEY, wrong] {
        assert!(!logs.contains(secret), "the key in the traces");
    }
    assert!(logs.contains("/payments"), "the traces were captured");
}

/// A router, worker and cache for the Adyen connection, as a host wires them.
struct Host {
    router: WebhookRouter,
    worker: DeliveryWorker,
    store: Arc<MemoryStore>,
}

impl Host {
    fn new(payments: Arc<dyn Payments>) -> Self {
        let store = Arc::new(MemoryStore::new());
        let endpoints = Arc::new(StaticEndpoints::new());
        let endpoint = Endpoint::new(
            tenant(),
            connection(),
            ProviderId::new("adyen").expect("provider"),
            WebhookScheme::Adyen,
            vec![WebhookSecret::new(HMAC_KEY)],
        );
        endpoints.add_endpoint("merchant", endpoint).expect("endpoint");
        let adapters = Arc::new(Adapters::new());
        let integration: Arc<dyn Integration> = payments;
        adapters.insert(tenant(), connection(), integration);
        let engine = SyncEngine::new(store.clone(), store.clone(), "tests");
        let worker = DeliveryWorker::new(store.clone(), Arc::new(ApplyToCache::new(adapters, engine)));
        Self { router: WebhookRouter::new(endpoints, store.clone(), store.clone()), worker, store }
    }

    async fn deliver(&self, body: &[u8]) -> (u16, String) {
        let answer = self.router.handle(&Method::POST, "/adyen/merchant", &HeaderMap::new(), body).await;
        self.worker.run_until_idle().await.expect("worker");
        (answer.status.as_u16(), answer.body)
    }

    async fn record(&self, stream: &str, id: &str) -> Option<serde_json::Value> {
        let scope = StreamScope::new(tenant(), connection(), stream);
        self.store.record(&scope, id).await.expect("read").map(|r| r.data)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_reach_the_cache_once_and_late_ones_change_nothing() {
    let fake = FakeAdyen::start().await;
    let payments = connect(&fake);
    let host = Host::new(payments.clone());
    let mut intent = charge(eur(10_000), "shopper-1", "TOKEN_VISA");
    intent.capture_method = CaptureMethod::Manual;
    let Confirmation::Succeeded { intent: paid } = payments.create_intent(&key("a"), &intent).await.expect("ok") else {
        panic!("authorised");
    };
    let authorisation = fake.take_webhook().expect("AUTHORISATION");
    assert_eq!(host.deliver(&authorisation).await, (200, "[accepted]".to_owned()));
    let cached = host.record("payment_intents", &paid.remote_id).await.expect("cached");
    assert_eq!(
        (cached["status"].as_str(), cached["customer_id"].as_str()),
        (Some("requires_capture"), Some("shopper-1"))
    );

    payments.capture_intent(&key("c"), &paid.remote_id, Some(eur(10_000))).await.expect("accepted");
    let capture = fake.take_webhook().expect("CAPTURE");
    payments.refund(&key("r"), &RefundInput::partial(&paid.remote_id, eur(4_000))).await.expect("accepted");
    payments.refund(&key("too much"), &RefundInput::partial(&paid.remote_id, eur(9_000))).await.expect("accepted");
    let refunds = fake.take_webhook().expect("REFUND twice");
    assert_eq!(host.deliver(&capture).await.0, 200);
    assert_eq!(host.deliver(&refunds).await.0, 200);
    let cached = host.record("payment_intents", &paid.remote_id).await.expect("cached");
    assert_eq!(
        (cached["status"].as_str(), cached["amount_received"]["minor"].as_i64()),
        (Some("succeeded"), Some(10_000))
    );

    let refunded: Vec<serde_json::Value> = host
        .store
        .records(&StreamScope::new(tenant(), connection(), "refunds"), None, 100, false)
        .await
        .expect("refunds")
        .into_iter()
        .map(|r| r.data)
        .collect();
    let mut statuses: Vec<(i64, String)> = refunded
        .iter()
        .map(|r| {
            (r["amount"]["minor"].as_i64().unwrap_or_default(), r["status"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [(4_000, "succeeded".to_owned()), (9_000, "failed".to_owned())],
        "the second was more than was left"
    );

    // Adyen retries a delivery it thinks was not accepted: acknowledged, recorded once.
    assert_eq!(host.deliver(&capture).await, (200, "[accepted]".to_owned()));
    let recorded = host.store.list_deliveries(&tenant(), &DeliveryQuery::new().limit(100)).await.expect("deliveries");
    assert_eq!(recorded.len(), 3, "authorisation, capture, refunds: each once");

    // Out of order: another payment's capture arrives before its authorisation, which then
    // does not undo it.
    let Confirmation::Succeeded { intent: second } = payments.create_intent(&key("b"), &intent).await.expect("ok")
    else {
        panic!("authorised");
    };
    let late_authorisation = fake.take_webhook().expect("AUTHORISATION");
    payments.capture_intent(&key("c2"), &second.remote_id, Some(eur(10_000))).await.expect("accepted");
    assert_eq!(host.deliver(&fake.take_webhook().expect("CAPTURE")).await.0, 200);
    assert_eq!(host.deliver(&late_authorisation).await.0, 200);
    let cached = host.record("payment_intents", &second.remote_id).await.expect("cached");
    assert_eq!(cached["status"].as_str(), Some("succeeded"), "{cached}");

    // Tampered: refused, nothing applied.
    let tampered = String::from_utf8(capture).expect("text").replace("\"value\":10000", "\"value\":1");
    assert_eq!(host.deliver(tampered.as_bytes()).await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_typed_events_for_automations() {
    let fake = FakeAdyen::start().await;
    let payments = connect(&fake);
    payments.create_intent(&key("ok"), &charge(eur(500), "shopper-1", "TOKEN_VISA")).await.expect("paid");
    payments.create_intent(&key("no"), &charge(eur(500), "shopper-1", "TOKEN_NO_FUNDS")).await.expect("refused");
    let body = fake.take_webhook().expect("two notifications");
    let webhook = integration_core::VerifiedWebhook::trusted(HeaderMap::new(), body, None, chrono::Utc::now());
    let outcome = payments.handle_webhook(webhook).await.expect("mapped");
    let kinds: Vec<&str> = outcome.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["payment.succeeded", "payment.failed"]);
    assert_eq!(outcome.events[1].payload["decline"], "insufficient_funds");
    assert!(outcome.events.iter().all(|e| e.occurred_at.is_some()), "each at its eventDate");

    // An item that cannot be read fails the delivery (kept for a retry), not half of it.
    let broken =
        br#"{"notificationItems":[{"NotificationRequestItem":{"eventCode":"AUTHORISATION","success":"true"}}]}"#;
    let webhook =
        integration_core::VerifiedWebhook::trusted(HeaderMap::new(), broken.to_vec(), None, chrono::Utc::now());
    assert!(payments.handle_webhook(webhook).await.is_err());
    // Other event codes are events named after them.
    let report = br#"{"notificationItems":[{"NotificationRequestItem":{"eventCode":"REPORT_AVAILABLE","pspReference":"r1","success":"true","reason":"https://ca-test.adyen.com/report.csv"}}]}"#;
    let webhook =
        integration_core::VerifiedWebhook::trusted(HeaderMap::new(), report.to_vec(), None, chrono::Utc::now());
    let outcome = payments.handle_webhook(webhook).await.expect("mapped");
    assert_eq!((outcome.changes.len(), outcome.events[0].kind.as_str()), (0, "adyen.report_available"));
}
