//! Payments end to end: `cargo run --example payments`. No credentials; it installs localstripe
//! (a Stripe-compatible server from PyPI, pinned) on first use and starts it on 127.0.0.1.
//!
//! 1. connects the Stripe adapter to localstripe;
//! 2. saves a customer's card (a token, as Stripe.js makes it: the card number never passes
//!    through the SDK), charges 20.00 EUR, refunds 5.00 EUR of it, and tries a card the issuer
//!    declines — a typed outcome, not an error;
//! 3. syncs payment intents, refunds and balance transactions into a store;
//! 4. prints the month's report from the cache: volume, failures, refunds, fees and net.

use std::error::Error;
use std::sync::Arc;

use integration_core::store::{MemoryStore, RecordStore, StreamScope};
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, Domain, IntegrationConfig, ProviderId, SyncEngine, SyncJob,
    SyncMode, TenantId,
};
use integration_payments::report::{Period, Report};
use integration_payments::{
    Confirmation, Currency, CustomerInput, IntentInput, Money, OperationKey, RefundInput, Remote,
};
use integration_testkit::peers::LocalStripe;

/// The cached records of `stream`, read back as the common model.
async fn cached<T: serde::de::DeserializeOwned>(
    store: &MemoryStore,
    tenant: &TenantId,
    connection: &ConnectionId,
    stream: &str,
) -> Result<Vec<Remote<T>>, Box<dyn Error>> {
    let scope = StreamScope::new(tenant.clone(), connection.clone(), stream);
    let records = store.records(&scope, None, 10_000, false).await?;
    Ok(records.iter().map(|r| integration_core::decode::decode(&r.data)).collect::<Result<_, _>>()?)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    let Some(stripe) = LocalStripe::start() else {
        println!("localstripe could not be installed or started here (the reason is printed above)");
        return Ok(());
    };
    let (tenant, connection) = (TenantId::new("acme")?, ConnectionId::new("payments")?);
    let config =
        IntegrationConfig::new(tenant.clone(), connection.clone(), Domain::Payments, ProviderId::new("stripe")?)
            .with_setting("base_url", stripe.url())
            .with_secret("api_key", LocalStripe::API_KEY);
    let gateway = integration_payments::build(&config, &BuildContext::default())?;

    let customer = gateway
        .create_customer(&OperationKey::new("example:customer:ada")?, &CustomerInput::with_email("ada@example.com"))
        .await?;
    let card = stripe.card("4242424242424242").await;
    let saved = gateway.attach_payment_method(&customer.remote_id, &card).await?;
    println!(
        "{} saved a {} card ending {}",
        customer.remote_id,
        saved.fields.brand.unwrap_or_default(),
        saved.fields.last4.unwrap_or_default()
    );

    let mut charge = IntentInput::new(Money::new(2_000, Currency::EUR)?);
    (charge.customer_id, charge.payment_method_id, charge.confirm) =
        (Some(customer.remote_id.clone()), Some(card), true);
    if let Confirmation::Succeeded { intent } =
        gateway.create_intent(&OperationKey::new("example:order-1")?, &charge).await?
    {
        println!("charged {} ({})", intent.fields.amount, intent.remote_id);
        let refund = RefundInput::partial(&intent.remote_id, Money::new(500, Currency::EUR)?);
        let refunded = gateway.refund(&OperationKey::new("example:order-1:refund")?, &refund).await?;
        println!("refunded {} ({})", refunded.fields.amount, refunded.fields.status);
    }
    let declining = stripe.card("4000000000000341").await;
    gateway.attach_payment_method(&customer.remote_id, &declining).await?;
    charge.payment_method_id = Some(declining);
    if let Confirmation::Declined { reason, message, .. } =
        gateway.create_intent(&OperationKey::new("example:order-2")?, &charge).await?
    {
        println!("declined: {reason} ({message})");
    }

    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "worker-1");
    for stream in ["payment_intents", "refunds", "balance_transactions"] {
        let job = SyncJob::new(tenant.clone(), connection.clone(), stream, SyncMode::FullRefresh);
        let run = engine.run(gateway.as_ref(), &job, &CancellationToken::new()).await?;
        println!("synced {stream}: {} records", run.counts.added);
    }
    let report = Report::build(
        Period::Month,
        &cached(&store, &tenant, &connection, "payment_intents").await?,
        &cached(&store, &tenant, &connection, "refunds").await?,
        &cached(&store, &tenant, &connection, "balance_transactions").await?,
    )?;
    print!("{}", report.table());
    let month = report.buckets.first().ok_or("a month of payments")?;
    assert_eq!((month.succeeded, month.failed, month.refunds), (1, 1, 1));
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The example runs to the end against localstripe; its assertions hold.
    #[test]
    fn the_example_runs() {
        super::main().expect("the example runs");
    }
}
