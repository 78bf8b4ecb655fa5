//! The Stripe adapter against the real localstripe (PyPI, pinned; started on 127.0.0.1 by the
//! test): a customer, a card attached, an intent created and confirmed, declines as typed
//! outcomes, a partial refund, manual capture, list paging, and what localstripe does not do
//! (idempotency keys) said where it matters.

#![allow(clippy::unwrap_used)]

mod stripe;

use std::collections::BTreeSet;
use std::sync::Arc;

use integration_core::{ConnectionId, ErrorKind, TenantId};
use integration_payments::{
    CaptureMethod, Confirmation, CustomerInput, DeclineReason, IntentInput, IntentStatus, ListRequest, RefundInput,
    RefundStatus, decline_reason,
};
use integration_testkit::peers::LocalStripe;
use stripe::{connect, eur, key};

async fn a_card_is_charged_declined_refunded_and_listed() {
    let Some(stripe) = LocalStripe::start() else { return };
    let payments = connect(&stripe);
    payments.connect().await.expect("the key is accepted");

    let customer = payments
        .create_customer(&key("customer"), &CustomerInput::with_email("ada@example.com"))
        .await
        .expect("a customer");
    assert_eq!(customer.fields.email.as_deref(), Some("ada@example.com"));
    let card = stripe.card("4242424242424242").await;
    let method = payments.attach_payment_method(&customer.remote_id, &card).await.expect("attached");
    assert_eq!((method.fields.brand.as_deref(), method.fields.last4.as_deref()), (Some("visa"), Some("4242")));
    assert!(!format!("{method:?}").contains("4242424242424242"), "no card number in the model");

    // Created and confirmed: paid.
    let mut intent = IntentInput::new(eur(2_000));
    (intent.customer_id, intent.payment_method_id, intent.confirm) =
        (Some(customer.remote_id.clone()), Some(card.clone()), true);
    let Confirmation::Succeeded { intent: paid } =
        payments.create_intent(&key("charge"), &intent).await.expect("confirmed")
    else {
        panic!("the 4242 card pays");
    };
    assert_eq!((paid.fields.status.clone(), paid.fields.amount), (IntentStatus::Succeeded, eur(2_000)));

    // A partial refund.
    let refund =
        payments.refund(&key("refund"), &RefundInput::partial(&paid.remote_id, eur(500))).await.expect("refunded");
    assert_eq!((refund.fields.amount, refund.fields.status.clone()), (eur(500), RefundStatus::Succeeded));
    assert_eq!(refund.fields.payment_intent_id.as_deref(), Some(paid.remote_id.as_str()));

    // A card the issuer declines on confirm: a typed outcome, not an error.
    let declining = stripe.card("4000000000000341").await;
    payments.attach_payment_method(&customer.remote_id, &declining).await.expect("attached");
    intent.payment_method_id = Some(declining);
    match payments.create_intent(&key("declined"), &intent).await.expect("an outcome") {
        Confirmation::Declined { reason, message, intent_id } => {
            assert_eq!(reason, DeclineReason::Declined, "{message}");
            assert!(intent_id.starts_with("pi_"));
        }
        other => panic!("declined, not {other:?}"),
    }

    // A card refused on attach: an error whose decline reason says why.
    let refused = stripe.card("4000000000000002").await;
    let error = payments.attach_payment_method(&customer.remote_id, &refused).await.expect_err("refused");
    assert_eq!(decline_reason(&error), Some(DeclineReason::Declined), "{error}");
    assert!(!format!("{error:?} {error}").contains(LocalStripe::API_KEY), "the key is never in an error");

    // Paging: two intents per page, every one listed once.
    let (mut seen, mut request) = (BTreeSet::new(), ListRequest::first().page_size(std::num::NonZeroU32::new(1)));
    loop {
        let page = payments.payment_intents(request.clone()).await.expect("a page");
        for item in page.items {
            assert!(seen.insert(item.remote_id), "listed once");
        }
        match page.next {
            Some(next) => request = request.at(Some(next)),
            None => break,
        }
    }
    assert_eq!(seen.len(), 2, "both intents: {seen:?}");
}

async fn a_manual_capture_takes_part_of_what_was_authorized() {
    let Some(stripe) = LocalStripe::start() else { return };
    let payments = connect(&stripe);
    let customer = payments.create_customer(&key("c"), &CustomerInput::default()).await.expect("a customer");
    let card = stripe.card("4242424242424242").await;
    payments.attach_payment_method(&customer.remote_id, &card).await.expect("attached");
    let mut intent = IntentInput::new(eur(10_000));
    (intent.customer_id, intent.payment_method_id, intent.confirm) = (Some(customer.remote_id), Some(card), true);
    intent.capture_method = CaptureMethod::Manual;
    let Confirmation::Succeeded { intent: authorized } =
        payments.create_intent(&key("auth"), &intent).await.expect("authorized")
    else {
        panic!("authorized");
    };
    assert_eq!(authorized.fields.status, IntentStatus::RequiresCapture);
    let captured =
        payments.capture_intent(&key("capture"), &authorized.remote_id, Some(eur(7_500))).await.expect("captured");
    assert_eq!(captured.fields.status, IntentStatus::Succeeded);
    // localstripe captures the whole authorization whatever `amount_to_capture` says, and
    // reports no `amount_received`: Stripe does both; only the capture itself is checked here.
    assert_eq!(captured.fields.amount, eur(10_000));
}

async fn bad_input_is_refused_before_anything_is_sent() {
    let Some(stripe) = LocalStripe::start() else { return };
    let payments = connect(&stripe);
    let error = payments.create_intent(&key("zero"), &IntentInput::new(eur(0))).await.expect_err("nothing to collect");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Validation, Some("amount")));
    let mut confirm = IntentInput::new(eur(100));
    confirm.confirm = true;
    let error = payments.create_intent(&key("no-method"), &confirm).await.expect_err("no payment method");
    assert_eq!(error.field(), Some("payment_method_id"));
    let listed = payments.payment_intents(ListRequest::first()).await.expect("a listing");
    assert!(listed.items.is_empty(), "nothing reached localstripe");
    // localstripe ignores Idempotency-Key (PEERS.md): the adapter sends it, Stripe honours it;
    // the key derivation is checked where it is made, not here.
}

async fn localstripe_s_signed_webhooks_become_changes_and_typed_events() {
    use integration_core::WebhookScheme;
    use integration_core::webhook::{VerifyOptions, WebhookSecret};
    use integration_testkit::fake::receiver::Receiver;

    let Some(stripe) = LocalStripe::start() else { return };
    let receiver = Receiver::start("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
    let secret = "whsec_integrations_test_secret";
    stripe.register_webhook("tests", &format!("{}/stripe", receiver.base_url()), secret).await;
    let payments = connect(&stripe);
    let customer = payments.create_customer(&key("c"), &CustomerInput::default()).await.expect("a customer");
    let card = stripe.card("4242424242424242").await;
    payments.attach_payment_method(&customer.remote_id, &card).await.expect("attached");
    let mut intent = IntentInput::new(eur(4_200));
    (intent.customer_id, intent.payment_method_id, intent.confirm) = (Some(customer.remote_id), Some(card), true);
    let Confirmation::Succeeded { intent: paid } = payments.create_intent(&key("hooked"), &intent).await.expect("paid")
    else {
        panic!("paid");
    };

    // localstripe sends each event about a second later, once.
    let succeeded = integration_testkit::poll::eventually(std::time::Duration::from_secs(20), || {
        let requests = receiver.requests();
        async move { requests.into_iter().find(|r| r.body.contains("\"payment_intent.succeeded\"")) }
    })
    .await
    .expect("localstripe delivered payment_intent.succeeded");
    let mut headers = integration_core::http::HeaderMap::new();
    let signature = succeeded.header("stripe-signature").expect("signed");
    headers.insert("stripe-signature", signature.parse().expect("a header value"));
    let body = succeeded.body.clone().into_bytes();
    WebhookScheme::Stripe
        .verify(&headers, &body, &[WebhookSecret::new(secret)], &VerifyOptions::now())
        .expect("verified");
    let tampered = succeeded.body.replace("4200", "4201").into_bytes();
    assert!(
        WebhookScheme::Stripe
            .verify(&headers, &tampered, &[WebhookSecret::new(secret)], &VerifyOptions::now())
            .is_err()
    );

    let webhook = integration_core::VerifiedWebhook::trusted(headers, body, None, chrono::Utc::now());
    let outcome = payments.handle_webhook(webhook).await.expect("mapped");
    assert_eq!(outcome.changes.len(), 1);
    assert_eq!(
        (outcome.changes[0].stream.as_str(), outcome.changes[0].record.remote_id.as_str()),
        ("payment_intents", paid.remote_id.as_str())
    );
    assert_eq!(outcome.events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["payment.succeeded"]);
}

async fn an_incremental_sync_reads_exactly_the_changes_from_the_events_api() {
    use integration_core::store::{MemoryStore, RecordStore, RunStatus, StreamScope};
    use integration_core::{CancellationToken, SyncEngine, SyncJob, SyncMode};

    let Some(stripe) = LocalStripe::start() else { return };
    let payments = connect(&stripe);
    let (ada, grace) = (
        payments.create_customer(&key("ada"), &CustomerInput::with_email("ada@example.com")).await.expect("ada"),
        payments.create_customer(&key("grace"), &CustomerInput::with_email("grace@example.com")).await.expect("grace"),
    );
    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "w1");
    let (tenant, connection) =
        (TenantId::new("acme").expect("tenant"), ConnectionId::new("payments").expect("connection"));
    let job = SyncJob::new(tenant.clone(), connection.clone(), "customers", SyncMode::Incremental);
    let first = engine.run(payments.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!((first.status, first.counts.added), (RunStatus::Succeeded, 2), "{:?}", first.error);

    // At the gateway: one new customer, one renamed, one deleted.
    let alan =
        payments.create_customer(&key("alan"), &CustomerInput::with_email("alan@example.com")).await.expect("alan");
    let renamed = stripe.post(&format!("/v1/customers/{}", ada.remote_id), &[("name", "Ada Lovelace")]).await;
    assert_eq!(renamed["name"], "Ada Lovelace");
    let deleted = stripe.delete(&format!("/v1/customers/{}", grace.remote_id)).await;
    assert_eq!(deleted["deleted"], true);

    let second = engine.run(payments.as_ref(), &job, &CancellationToken::new()).await.expect("a run");
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!((second.counts.added, second.counts.updated, second.counts.deleted), (1, 1, 1), "{:?}", second.counts);
    let scope = StreamScope::new(tenant, connection, "customers");
    let cached: BTreeSet<String> =
        store.records(&scope, None, 100, false).await.expect("cache").into_iter().map(|r| r.remote_id).collect();
    assert_eq!(cached, BTreeSet::from([ada.remote_id, alan.remote_id]));
}

async fn a_scheduled_occurrence_run_by_two_workers_at_once_charges_once() {
    use integration_core::store::MemoryStore;
    use integration_payments::schedule::{Occurrence, OccurrenceOutcome, RetryPolicy, ScheduledCharges};

    let Some(stripe) = LocalStripe::start() else { return };
    let store = Arc::new(MemoryStore::new());
    let tenant = TenantId::new("acme").expect("tenant");
    // Two workers: each its own connection to the gateway, one store of claims between them.
    let (first, second) = (connect(&stripe), connect(&stripe));
    let customer = first.create_customer(&key("c"), &CustomerInput::default()).await.expect("a customer");
    let card = stripe.card("4242424242424242").await;
    first.attach_payment_method(&customer.remote_id, &card).await.expect("attached");
    let now = chrono::Utc::now();
    let rent = Occurrence::new("lease-42", 3, now, eur(120_000), customer.remote_id.clone(), card);
    let policy = RetryPolicy::new(3, std::time::Duration::from_secs(3600));
    let workers =
        [first.clone(), second].map(|gateway| ScheduledCharges::new(gateway, store.clone(), tenant.clone(), policy));
    // localstripe ignores idempotency keys (PEERS.md): the claims alone keep this to one charge.
    let (a, b) = tokio::join!(workers[0].run(&rent, now), workers[1].run(&rent, now));
    let outcomes = [a.expect("ran"), b.expect("ran")];
    let charged: Vec<&String> = outcomes
        .iter()
        .filter_map(|o| match o {
            OccurrenceOutcome::Charged { intent_id } | OccurrenceOutcome::AlreadyCharged { intent_id } => {
                Some(intent_id)
            }
            _ => None,
        })
        .collect();
    assert!(
        !charged.is_empty()
            && outcomes.iter().all(|o| matches!(
                o,
                OccurrenceOutcome::Charged { .. } | OccurrenceOutcome::AlreadyCharged { .. } | OccurrenceOutcome::Busy
            )),
        "{outcomes:?}"
    );
    let listed = first.payment_intents(ListRequest::first()).await.expect("a listing");
    assert_eq!(listed.items.len(), 1, "one charge for two workers: {outcomes:?}");
    // A rerun later: already charged, nothing more at the gateway.
    let rerun = workers[1].run(&rent, now).await.expect("ran");
    assert!(matches!(rerun, OccurrenceOutcome::AlreadyCharged { .. }), "{rerun:?}");
    assert_eq!(first.payment_intents(ListRequest::first()).await.expect("a listing").items.len(), 1);
    // An occurrence not yet due is not charged.
    let next = Occurrence::new(
        "lease-42",
        4,
        now + chrono::Duration::days(30),
        eur(120_000),
        customer.remote_id,
        rent.payment_method_id.clone(),
    );
    assert!(matches!(workers[0].run(&next, now).await.expect("ran"), OccurrenceOutcome::NotDue { .. }));
}

async fn a_declined_occurrence_retries_by_policy_then_raises_an_event() {
    use integration_core::store::MemoryStore;
    use integration_payments::schedule::{Occurrence, OccurrenceOutcome, RetryPolicy, ScheduledCharges};

    let Some(stripe) = LocalStripe::start() else { return };
    let gateway = connect(&stripe);
    let customer = gateway.create_customer(&key("c"), &CustomerInput::default()).await.expect("a customer");
    let card = stripe.card("4000000000000341").await; // attaches, declines on confirm
    gateway.attach_payment_method(&customer.remote_id, &card).await.expect("attached");
    let day = std::time::Duration::from_secs(24 * 3600);
    let charges = ScheduledCharges::new(
        gateway,
        Arc::new(MemoryStore::new()),
        TenantId::new("acme").expect("tenant"),
        RetryPolicy::new(2, day),
    );
    let due = chrono::Utc::now();
    let rent = Occurrence::new("lease-7", 1, due, eur(9_900), customer.remote_id, card);
    let first = charges.run(&rent, due).await.expect("ran");
    let OccurrenceOutcome::Declined { attempt: 1, retry_at, .. } = first else { panic!("declined: {first:?}") };
    assert_eq!(retry_at, due + chrono::Duration::days(1));
    assert!(matches!(charges.run(&rent, due).await.expect("ran"), OccurrenceOutcome::NotDue { .. }), "the retry waits");
    let last = charges.run(&rent, retry_at).await.expect("ran");
    let OccurrenceOutcome::Failed { reason, event } = last else { panic!("failed: {last:?}") };
    assert_eq!((reason.as_str(), event.kind.as_str()), ("card_declined", "payment.schedule_failed"));
    assert_eq!(event.payload["schedule"], "lease-7");
    let again = charges.run(&rent, retry_at).await.expect("ran");
    assert!(matches!(again, OccurrenceOutcome::AlreadyFailed { .. }), "the event is raised once: {again:?}");
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("localstripe")],
        integration_testkit::trials![async a_card_is_charged_declined_refunded_and_listed, async a_manual_capture_takes_part_of_what_was_authorized, async bad_input_is_refused_before_anything_is_sent, async localstripe_s_signed_webhooks_become_changes_and_typed_events, async an_incremental_sync_reads_exactly_the_changes_from_the_events_api, async a_scheduled_occurrence_run_by_two_workers_at_once_charges_once, async a_declined_occurrence_retries_by_policy_then_raises_an_event],
    )
}
