//! What the localstripe tests share: a Stripe connection to the peer, operation keys, euros.

use std::sync::Arc;

use integration_core::{BuildContext, ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use integration_payments::{Currency, Money, OperationKey, Payments};
use integration_testkit::peers::LocalStripe;

/// The Stripe adapter connected to `stripe` with `api_key`.
pub(crate) fn connect_with_key(stripe: &LocalStripe, api_key: &str) -> Arc<dyn Payments> {
    let config = IntegrationConfig::new(
        TenantId::new("acme").expect("tenant"),
        ConnectionId::new("payments").expect("connection"),
        Domain::Payments,
        ProviderId::new("stripe").expect("provider"),
    )
    .with_setting("base_url", stripe.url())
    .with_secret("api_key", api_key);
    integration_payments::build(&config, &BuildContext::default()).expect("the typed build")
}

/// The Stripe adapter connected to `stripe` with its API key.
pub(crate) fn connect(stripe: &LocalStripe) -> Arc<dyn Payments> {
    connect_with_key(stripe, LocalStripe::API_KEY)
}

/// A fresh operation key named `name`.
pub(crate) fn key(name: &str) -> OperationKey {
    OperationKey::new(format!("test:{name}:{}", fastrand::u64(..))).expect("a key")
}

/// `cents` euro cents.
pub(crate) fn eur(cents: i64) -> Money {
    Money::new(cents, Currency::EUR).expect("euros")
}
