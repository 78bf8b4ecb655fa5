//! The payments contract: what every payments adapter must hold, run against its gateway's
//! test server — Stripe against the real localstripe, Adyen against
//! [`FakeAdyen`](crate::fake::adyen::FakeAdyen).
//!
//! | rule | what it checks |
//! |---|---|
//! | `a_good_card_pays_the_amount_asked_in_0_2_and_3_decimal_currencies` | JPY, EUR and KWD charges are paid (`Succeeded`) for exactly the amount asked |
//! | `a_decline_is_a_typed_outcome_not_an_error` | a card the issuer declines is `Confirmation::Declined` with the reason the gateway gives |
//! | `a_manual_capture_authorizes_then_captures_part` | `requires_capture`, then part of it captured (paid, or accepted where the gateway settles later) |
//! | `a_partial_refund_names_its_payment_and_amount` | the refund's amount and payment; succeeded, or pending where the gateway settles later |
//! | `stored_methods_show_only_what_may_be_shown` | the customer's tokens with brand and last four digits; no card number anywhere |
//! | `what_the_descriptor_does_not_declare_is_unsupported` | every optional operation the descriptor does not declare answers `Unsupported`; each declared listing is a stream, and is attempted |
//! | `bad_input_is_refused_before_anything_is_sent` | a zero charge, a negative refund: `Validation` errors |
//!
//! With a gateway that honours idempotency keys and a fake that can lose an answer
//! ([`IdempotentPaymentsFixture`]), [`payments_idempotency_suite!`](crate::payments_idempotency_suite)
//! adds:
//!
//! | rule | what it checks |
//! |---|---|
//! | `a_charge_whose_answer_was_lost_is_made_once` | the gateway applies a charge, its answer is lost, the adapter retries: one charge |
//! | `the_same_operation_twice_is_one_charge` | a caller repeating a charge with the same operation key gets the same payment; another key is another |
//!
//! A fixture whose peer cannot start on this machine answers `None` from
//! [`PaymentsFixture::start`]: the rule is skipped with the reason printed, and fails under
//! `CI=true` (the peer's start decides).

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::ErrorKind;
use integration_payments::{
    CaptureMethod, Confirmation, Currency, DeclineReason, IntentInput, IntentStatus, ListRequest, Money, OperationKey,
    Payments, RefundInput, RefundStatus, capability,
};

use crate::fake::faults::{Fault, Faults};

/// A payments adapter against its gateway's test server.
#[async_trait]
pub trait PaymentsFixture: Sized + Send + Sync {
    /// Starts the server and the adapter; `None` when the server cannot run here (the rule is
    /// then skipped — or fails under `CI=true`, as the server's start decides).
    async fn start() -> Option<Self>;
    /// The adapter.
    fn payments(&self) -> Arc<dyn Payments>;
    /// A customer and a saved card that pays: `(customer_id, payment_method_id)`.
    async fn payer(&self) -> (String, String);
    /// A customer and a saved card the issuer declines on a charge, and the reason the
    /// gateway gives.
    async fn decliner(&self) -> (String, String, DeclineReason);
    /// Whether captures and refunds are accepted now and settled later by a notification
    /// (Adyen) rather than settled in the answer (Stripe).
    fn settles_later(&self) -> bool {
        false
    }
}

/// A fixture whose gateway honours idempotency keys, on a fake that can lose an answer.
pub trait IdempotentPaymentsFixture: PaymentsFixture {
    /// The fake's fault queue.
    fn faults(&self) -> &Faults;
    /// How many payments the gateway has made.
    fn payments_made(&self) -> usize;
    /// The path of the charge request as the fake's faults see it.
    fn charge_path(&self) -> String;
}

/// Expands to one `#[tokio::test]` per rule of the payments contract for fixture `$fixture`; with
/// `trials "label", $fixture`, to the rules as [`harness`](crate::harness) trials named
/// `label::rule` (a test file whose fixture needs a peer).
#[macro_export]
macro_rules! payments_contract_suite {
    (trials $label:literal, $fixture:ty) => {
        $crate::payments_contract_suite!(@rules (@trials $label,) $fixture)
    };
    ($fixture:ty) => {
        $crate::payments_contract_suite!(@rules (@each) $fixture);
    };
    (@rules ($($mode:tt)*) $fixture:ty) => {
        $crate::payments_contract_suite! { $($mode)* $fixture;
            a_good_card_pays_the_amount_asked_in_0_2_and_3_decimal_currencies,
            a_decline_is_a_typed_outcome_not_an_error,
            a_manual_capture_authorizes_then_captures_part,
            a_partial_refund_names_its_payment_and_amount,
            stored_methods_show_only_what_may_be_shown,
            what_the_descriptor_does_not_declare_is_unsupported,
            bad_input_is_refused_before_anything_is_sent
        }
    };
    (@trials $label:literal, $fixture:ty; $($name:ident),* $(,)?) => {
        vec![$(
            $crate::harness::Trial::test(
                concat!($label, "::", stringify!($name)),
                || $crate::harness::block_on($crate::contract::payments::$name::<$fixture>),
            )
        ),*]
    };
    (@each $fixture:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::contract::payments::$name::<$fixture>().await;
            }
        )*
    };
}

/// Expands to one `#[tokio::test]` per idempotency rule for fixture `$fixture`
/// ([`IdempotentPaymentsFixture`]).
#[macro_export]
macro_rules! payments_idempotency_suite {
    (trials $label:literal, $fixture:ty) => {
        $crate::payments_contract_suite! { @trials $label, $fixture;
            a_charge_whose_answer_was_lost_is_made_once,
            the_same_operation_twice_is_one_charge
        }
    };
    ($fixture:ty) => {
        $crate::payments_contract_suite!(@each $fixture;
            a_charge_whose_answer_was_lost_is_made_once,
            the_same_operation_twice_is_one_charge
        );
    };
}

fn key(id: &str) -> OperationKey {
    OperationKey::new(format!("contract:{id}:{}", fastrand::u64(..))).expect("a key")
}

fn charge(amount: Money, (customer, method): &(String, String)) -> IntentInput {
    let mut intent = IntentInput::new(amount);
    (intent.customer_id, intent.payment_method_id, intent.confirm) =
        (Some(customer.clone()), Some(method.clone()), true);
    intent
}

fn paid(outcome: Confirmation) -> Box<integration_payments::Remote<integration_payments::PaymentIntent>> {
    match outcome {
        Confirmation::Succeeded { intent } => intent,
        other => panic!("paid, not {other:?}"),
    }
}

/// JPY, EUR and KWD charges are paid for exactly the amount asked.
pub async fn a_good_card_pays_the_amount_asked_in_0_2_and_3_decimal_currencies<F: PaymentsFixture>() {
    let Some(fixture) = F::start().await else { return };
    let (payments, payer) = (fixture.payments(), fixture.payer().await);
    for (minor, currency) in [(500, Currency::JPY), (2_000, Currency::EUR), (1_250, Currency::KWD)] {
        let amount = Money::new(minor, currency).expect("an amount");
        let intent = paid(payments.create_intent(&key("pay"), &charge(amount, &payer)).await.expect("an outcome"));
        assert_eq!((intent.fields.status.clone(), intent.fields.amount), (IntentStatus::Succeeded, amount));
        assert!(!intent.remote_id.is_empty());
    }
}

/// A card the issuer declines is a typed outcome with the gateway's reason.
pub async fn a_decline_is_a_typed_outcome_not_an_error<F: PaymentsFixture>() {
    let Some(fixture) = F::start().await else { return };
    let (customer, method, expected) = fixture.decliner().await;
    let amount = Money::new(1_500, Currency::EUR).expect("an amount");
    let outcome = fixture.payments().create_intent(&key("decline"), &charge(amount, &(customer, method))).await;
    match outcome.expect("an outcome, not an error") {
        Confirmation::Declined { reason, intent_id, message } => {
            assert_eq!(reason, expected, "{message}");
            assert!(!intent_id.is_empty());
        }
        other => panic!("declined, not {other:?}"),
    }
}

/// An authorization waits for its capture; part of it is captured.
pub async fn a_manual_capture_authorizes_then_captures_part<F: PaymentsFixture>() {
    let Some(fixture) = F::start().await else { return };
    let payments = fixture.payments();
    let mut intent = charge(Money::new(10_000, Currency::EUR).expect("an amount"), &fixture.payer().await);
    intent.capture_method = CaptureMethod::Manual;
    let authorized = paid(payments.create_intent(&key("auth"), &intent).await.expect("an outcome"));
    assert_eq!(authorized.fields.status, IntentStatus::RequiresCapture);
    assert_eq!(authorized.fields.amount_received, None, "nothing taken yet");
    let part = Money::new(7_500, Currency::EUR).expect("an amount");
    let captured = payments.capture_intent(&key("capture"), &authorized.remote_id, Some(part)).await.expect("captured");
    assert_eq!(captured.remote_id, authorized.remote_id);
    let expected = if fixture.settles_later() { IntentStatus::Processing } else { IntentStatus::Succeeded };
    assert_eq!(captured.fields.status, expected);
    // What was received, where the gateway says (localstripe's intents carry no
    // `amount_received`), is the part captured.
    if !fixture.settles_later()
        && let Some(received) = captured.fields.amount_received
    {
        assert_eq!(received, part);
    }
}

/// A partial refund carries its amount and payment.
pub async fn a_partial_refund_names_its_payment_and_amount<F: PaymentsFixture>() {
    let Some(fixture) = F::start().await else { return };
    let payments = fixture.payments();
    let amount = Money::new(3_000, Currency::USD).expect("an amount");
    let payment = paid(payments.create_intent(&key("pay"), &charge(amount, &fixture.payer().await)).await.expect("ok"));
    let part = Money::new(1_000, Currency::USD).expect("an amount");
    let refund =
        payments.refund(&key("refund"), &RefundInput::partial(&payment.remote_id, part)).await.expect("refunded");
    assert_eq!(refund.fields.amount, part);
    assert_eq!(refund.fields.payment_intent_id.as_deref(), Some(payment.remote_id.as_str()));
    let expected = if fixture.settles_later() { RefundStatus::Pending } else { RefundStatus::Succeeded };
    assert_eq!(refund.fields.status, expected);
    assert_ne!(refund.remote_id, payment.remote_id);
}

/// A customer's saved cards: tokens, brand and last four digits; never a card number.
pub async fn stored_methods_show_only_what_may_be_shown<F: PaymentsFixture>() {
    let Some(fixture) = F::start().await else { return };
    let (customer, method) = fixture.payer().await;
    let methods = fixture.payments().payment_methods(&customer).await.expect("the customer's cards");
    let card = methods.iter().find(|m| m.remote_id == method).expect("the saved card is listed");
    assert_eq!(card.fields.kind, "card");
    assert!(card.fields.brand.is_some());
    let last4 = card.fields.last4.as_deref().expect("last four digits");
    assert!(last4.len() == 4 && last4.bytes().all(|b| b.is_ascii_digit()), "{last4}");
    let shown = format!("{methods:?} {}", serde_json::to_string(&card.fields).expect("JSON"));
    let longest_digits = shown.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    assert!(longest_digits < 12, "no card number in what is shown: {shown}");
}

/// Every optional operation outside the descriptor is `Unsupported`; every listing it declares
/// is a stream.
pub async fn what_the_descriptor_does_not_declare_is_unsupported<F: PaymentsFixture>() {
    let Some(fixture) = F::start().await else { return };
    let payments = fixture.payments();
    let descriptor = payments.descriptor().clone();
    let first = ListRequest::first;
    let checks = [
        (capability::LISTINGS, "customers", payments.customers(first()).await.map(drop)),
        (capability::LISTINGS, "payment_intents", payments.payment_intents(first()).await.map(drop)),
        (capability::LISTINGS, "refunds", payments.refunds(first()).await.map(drop)),
        (capability::DISPUTES, "disputes", payments.disputes(first()).await.map(drop)),
        (capability::PAYOUTS, "payouts", payments.payouts(first()).await.map(drop)),
        (
            capability::BALANCE_TRANSACTIONS,
            "balance_transactions",
            payments.balance_transactions(first()).await.map(drop),
        ),
        (capability::SUBSCRIPTIONS, "subscriptions", payments.subscriptions(first()).await.map(drop)),
    ];
    for (capability, stream, answer) in checks {
        let declared = descriptor.capabilities.contains(&capability);
        assert_eq!(descriptor.streams.iter().any(|s| s.name == stream), declared, "{stream} is a stream iff declared");
        // A declared listing is attempted (a test server may lack the endpoint: localstripe
        // has no disputes); an undeclared one is refused without a request.
        match answer {
            Err(e) if !declared => assert_eq!(e.kind(), ErrorKind::Unsupported, "{stream}: {e}"),
            Err(e) => assert_ne!(e.kind(), ErrorKind::Unsupported, "{stream} is declared, yet: {e}"),
            Ok(()) => assert!(declared, "{stream} answers without being declared"),
        }
    }
}

/// Bad input is a `Validation` error before any request.
pub async fn bad_input_is_refused_before_anything_is_sent<F: PaymentsFixture>() {
    let Some(fixture) = F::start().await else { return };
    let payments = fixture.payments();
    let payer = fixture.payer().await;
    let zero = Money::new(0, Currency::EUR).expect("zero");
    let error = payments.create_intent(&key("zero"), &charge(zero, &payer)).await.expect_err("nothing to collect");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Validation, Some("amount")));
    let negative = Money::new(-100, Currency::EUR).expect("an amount");
    let error = payments.refund(&key("neg"), &RefundInput::partial("any", negative)).await.expect_err("refused");
    assert_eq!((error.kind(), error.field()), (ErrorKind::Validation, Some("amount")));
}

/// The gateway applies a charge whose answer is then lost: the adapter's retry (same
/// idempotency key) gets the first answer, and there is one charge.
pub async fn a_charge_whose_answer_was_lost_is_made_once<F: IdempotentPaymentsFixture>() {
    let Some(fixture) = F::start().await else { return };
    let before = fixture.payments_made();
    fixture.faults().inject_on(&fixture.charge_path(), Fault::TruncatedBody, 1);
    let amount = Money::new(4_990, Currency::EUR).expect("an amount");
    let intent = charge(amount, &fixture.payer().await);
    let made = paid(fixture.payments().create_intent(&key("lost"), &intent).await.expect("paid after a retry"));
    assert_eq!(fixture.faults().served(), [Fault::TruncatedBody], "the answer was lost once");
    assert_eq!(fixture.payments_made(), before + 1, "one charge, not two");
    assert_eq!(made.fields.amount, amount);
}

/// The same operation twice is one charge; another operation is another.
pub async fn the_same_operation_twice_is_one_charge<F: IdempotentPaymentsFixture>() {
    let Some(fixture) = F::start().await else { return };
    let (payments, operation) = (fixture.payments(), key("twice"));
    let intent = charge(Money::new(1_000, Currency::EUR).expect("an amount"), &fixture.payer().await);
    let before = fixture.payments_made();
    let first = paid(payments.create_intent(&operation, &intent).await.expect("paid"));
    let again = paid(payments.create_intent(&operation, &intent).await.expect("the same answer"));
    assert_eq!((first.remote_id.as_str(), fixture.payments_made()), (again.remote_id.as_str(), before + 1));
    let other = paid(payments.create_intent(&key("other"), &intent).await.expect("another"));
    assert_ne!(other.remote_id, first.remote_id);
    assert_eq!(fixture.payments_made(), before + 2);
}
