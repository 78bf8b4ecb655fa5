//! No API key or card number in any trace, error or Debug output of the Stripe adapter, against
//! the real localstripe. One test, alone in its test binary: tracing decides once per call site
//! whether anyone listens, and tests running beside it in one process without a subscriber could
//! make that decision for it (the traces would then be empty).

#![allow(clippy::unwrap_used)]

mod stripe;

use integration_payments::{CustomerInput, IntentInput, ListRequest};
use integration_testkit::peers::LocalStripe;
use stripe::{connect, connect_with_key, eur, key};

async fn no_key_or_card_number_in_any_trace_error_or_debug_output() {
    use integration_testkit::capture::capture_tracing;

    let Some(stripe) = LocalStripe::start() else { return };
    let payments = connect(&stripe);
    let customer = payments.create_customer(&key("c"), &CustomerInput::default()).await.expect("a customer");
    let (cards, seen) = (
        [("4242424242424242", true), ("4000000000000341", true), ("4000000000000002", false)],
        std::sync::Mutex::new(String::new()),
    );
    let ((), logs) = capture_tracing(async {
        for (number, attaches) in cards {
            let token = stripe.card(number).await;
            let attached = payments.attach_payment_method(&customer.remote_id, &token).await;
            assert_eq!(attached.is_ok(), attaches, "{number}");
            let mut intent = IntentInput::new(eur(1_234));
            (intent.customer_id, intent.payment_method_id, intent.confirm) =
                (Some(customer.remote_id.clone()), Some(token), true);
            let outcome = payments.create_intent(&key("leak"), &intent).await;
            let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.push_str(&format!("{attached:?} {outcome:?} "));
            if let Err(e) = &attached {
                seen.push_str(&format!("{e} "));
            }
        }
        let bad = connect_with_key(&stripe, "sk_test_not_the_right_one_but_still_secret");
        let refused = bad.payment_intents(ListRequest::first()).await;
        seen.lock().unwrap_or_else(|p| p.into_inner()).push_str(&format!("{refused:?}"));
    })
    .await;
    let seen = seen.into_inner().unwrap_or_else(|p| p.into_inner());
    for secret in [
        LocalStripe::API_KEY,
        "sk_test_not_the_right_one_but_still_secret",
        "4242424242424242",
        "4000000000000341",
        "4000000000000002",
    ] {
        assert!(!logs.contains(secret), "{secret} in the traces");
        assert!(!seen.contains(secret), "{secret} in an answer, an error or Debug output");
    }
    assert!(logs.contains("/v1/payment_intents"), "the traces were captured: {logs}");
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("localstripe")],
        integration_testkit::trials![async no_key_or_card_number_in_any_trace_error_or_debug_output],
    )
}
