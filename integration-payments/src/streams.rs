//! The sync engine's streams, derived from the [`Payments`] methods.
//!
//! | stream | listing | capability |
//! |---|---|---|
//! | `customers` | [`Payments::customers`] | [`capability::LISTINGS`] |
//! | `payment_intents` | [`Payments::payment_intents`] | [`capability::LISTINGS`] |
//! | `refunds` | [`Payments::refunds`] | [`capability::LISTINGS`] |
//! | `disputes` | [`Payments::disputes`] | [`capability::DISPUTES`] |
//! | `payouts` | [`Payments::payouts`] | [`capability::PAYOUTS`] |
//! | `balance_transactions` | [`Payments::balance_transactions`] | [`capability::BALANCE_TRANSACTIONS`] |
//! | `subscriptions` | [`Payments::subscriptions`] | [`capability::SUBSCRIPTIONS`] |
//!
//! With [`capability::CHANGES`], every stream is incremental too (the same listing with
//! `request.since`). An adapter without listings (Adyen) still fills `payment_intents`,
//! `refunds` and `disputes` in the records cache from its notifications.

use integration_core::descriptor::{RunLimits, StreamDescriptor};
use integration_core::domain::{ListFn, ListRequest, ListingFuture, StreamSpec, StreamTable};
use integration_core::{Capability, Page, ReadRequest, Result};

use crate::payments::{Payments, capability};

/// How much one run of a payments stream may read: 50,000 pages, ten million records.
pub const RUN_LIMITS: RunLimits = RunLimits::new(50_000, 10_000_000);

macro_rules! listing_fns {
    ($($name:ident),+) => {
        $(fn $name(p: &dyn Payments, r: ListRequest) -> ListingFuture<'_> {
            Box::pin(async move { p.$name(r).await?.into_parts() })
        })+
    };
}

listing_fns!(customers, payment_intents, refunds, disputes, payouts, balance_transactions, subscriptions);

const fn stream(
    name: &'static str,
    description: &'static str,
    capability: Option<Capability>,
    list: ListFn<dyn Payments>,
) -> StreamSpec<dyn Payments> {
    StreamSpec { name, description, capability, list, changes: Some((capability::CHANGES, list)) }
}

/// The payments streams, declared once.
pub static STREAMS: StreamTable<dyn Payments> = StreamTable::new("payments", &SPECS).with_limits(RUN_LIMITS);

static SPECS: [StreamSpec<dyn Payments>; 7] = [
    stream("customers", "customers", Some(capability::LISTINGS), customers),
    stream("payment_intents", "payment intents and their outcome", Some(capability::LISTINGS), payment_intents),
    stream("refunds", "refunds", Some(capability::LISTINGS), refunds),
    stream("disputes", "disputes (chargebacks)", Some(capability::DISPUTES), disputes),
    stream("payouts", "payouts to the merchant's bank", Some(capability::PAYOUTS), payouts),
    stream(
        "balance_transactions",
        "balance movements with fees and net",
        Some(capability::BALANCE_TRANSACTIONS),
        balance_transactions,
    ),
    stream("subscriptions", "subscriptions", Some(capability::SUBSCRIPTIONS), subscriptions),
];

/// The stream descriptors for an adapter with `capabilities`.
pub fn descriptors(capabilities: &[Capability]) -> Vec<StreamDescriptor> {
    STREAMS.descriptors(capabilities)
}

/// [`Integration::read`](integration_core::Integration::read) for every payments adapter.
///
/// # Errors
/// An unknown stream, or the listing's error.
pub async fn read(adapter: &(dyn Payments + 'static), request: ReadRequest) -> Result<Page> {
    STREAMS.read(adapter, request).await
}
