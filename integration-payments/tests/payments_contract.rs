//! The payments contract (`integration_testkit::contract::payments`), passed by both adapters:
//! Stripe against the real localstripe, Adyen against the testkit's `FakeAdyen`. Only Adyen's
//! fake runs the idempotency rules: localstripe ignores `Idempotency-Key`, and cannot lose an
//! answer on demand.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::{BuildContext, ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use integration_payments::{CustomerInput, DeclineReason, OperationKey, Payments};
use integration_testkit::contract::payments::{IdempotentPaymentsFixture, PaymentsFixture};
use integration_testkit::fake::adyen::FakeAdyen;
use integration_testkit::fake::faults::Faults;
use integration_testkit::peers::LocalStripe;

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("acme").expect("tenant"), ConnectionId::new("payments").expect("connection"))
}

struct StripeFixture {
    stripe: LocalStripe,
    adapter: Arc<dyn Payments>,
}

impl StripeFixture {
    /// A customer with card `number` attached, as Stripe.js and the adapter would make it.
    async fn customer_with(&self, number: &str) -> (String, String) {
        let key = OperationKey::new(format!("contract-customer:{}", fastrand::u64(..))).expect("a key");
        let customer = self.adapter.create_customer(&key, &CustomerInput::default()).await.expect("a customer");
        let card = self.stripe.card(number).await;
        self.adapter.attach_payment_method(&customer.remote_id, &card).await.expect("attached");
        (customer.remote_id, card)
    }
}

#[async_trait]
impl PaymentsFixture for StripeFixture {
    async fn start() -> Option<Self> {
        let stripe = LocalStripe::start()?;
        let (tenant, connection) = ids();
        let config = IntegrationConfig::new(tenant, connection, Domain::Payments, ProviderId::new("stripe").ok()?)
            .with_setting("base_url", stripe.url())
            .with_secret("api_key", LocalStripe::API_KEY);
        let adapter = integration_payments::build(&config, &BuildContext::default()).expect("the typed build");
        Some(Self { stripe, adapter })
    }

    fn payments(&self) -> Arc<dyn Payments> {
        self.adapter.clone()
    }

    async fn payer(&self) -> (String, String) {
        self.customer_with("4242424242424242").await
    }

    /// localstripe declines `4000000000000341` on a charge with Stripe's generic `card_declined`.
    async fn decliner(&self) -> (String, String, DeclineReason) {
        let (customer, card) = self.customer_with("4000000000000341").await;
        (customer, card, DeclineReason::Declined)
    }
}

struct AdyenFixture {
    fake: FakeAdyen,
    adapter: Arc<dyn Payments>,
}

#[async_trait]
impl PaymentsFixture for AdyenFixture {
    async fn start() -> Option<Self> {
        let fake = FakeAdyen::start().await;
        let (tenant, connection) = ids();
        let adapter = integration_payments::build(&fake.config(tenant, connection), &BuildContext::default())
            .expect("the typed build");
        Some(Self { fake, adapter })
    }

    fn payments(&self) -> Arc<dyn Payments> {
        self.adapter.clone()
    }

    /// Adyen's shopper is the host's `shopperReference`; the fake holds its stored cards.
    async fn payer(&self) -> (String, String) {
        ("shopper-1".into(), "TOKEN_VISA".into())
    }

    async fn decliner(&self) -> (String, String, DeclineReason) {
        ("shopper-1".into(), "TOKEN_NO_FUNDS".into(), DeclineReason::InsufficientFunds)
    }

    fn settles_later(&self) -> bool {
        true
    }
}

impl IdempotentPaymentsFixture for AdyenFixture {
    fn faults(&self) -> &Faults {
        self.fake.faults()
    }

    fn payments_made(&self) -> usize {
        self.fake.payments()
    }

    fn charge_path(&self) -> String {
        "/payments".into()
    }
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    use integration_testkit::{payments_contract_suite, payments_idempotency_suite};
    let mut adyen = payments_contract_suite!(trials "adyen", AdyenFixture);
    adyen.extend(payments_idempotency_suite!(trials "adyen", AdyenFixture));
    harness::run_groups(vec![
        (vec![Need::python("localstripe")], payments_contract_suite!(trials "stripe", StripeFixture)),
        (vec![], adyen),
    ])
}
