//! The sync engine's streams, derived from the [`Accounting`] methods: an adapter's
//! [`Integration::read`](integration_core::Integration::read) is one call to [`read`], so a
//! typed listing and a sync share one code path.
//!
//! | stream | listing | capability |
//! |---|---|---|
//! | `accounts` | [`Accounting::accounts`] | — |
//! | `contacts` | [`Accounting::contacts`] | — |
//! | `invoices` | [`Accounting::invoices`] | — |
//! | `items` | [`Accounting::items`] | [`capability::ITEMS`] |
//! | `tax_rates` | [`Accounting::tax_rates`] | [`capability::TAX_RATES`] |
//! | `tracking_categories` | [`Accounting::tracking_categories`] | [`capability::TRACKING_CATEGORIES`] |
//! | `credit_notes` | [`Accounting::credit_notes`] | [`capability::CREDIT_NOTES`] |
//! | `payments` | [`Accounting::payments`] | [`capability::PAYMENTS`] |
//! | `journal_entries` | [`Accounting::journal_entries`] | [`capability::JOURNAL_ENTRIES`] |
//! | `bank_transactions` | [`Accounting::bank_transactions`] | [`capability::BANK_TRANSACTIONS`] |
//!
//! With [`capability::CHANGES`], every stream is incremental too: the same listing with
//! `request.since`, after a first full pass. Every stream offers resumable full refreshes.

use integration_core::descriptor::{RunLimits, StreamDescriptor};
use integration_core::domain::{ListRequest, ListingFuture, StreamSpec, StreamTable};
use integration_core::{Capability, Page, ReadRequest, Result};

use crate::accounting::{Accounting, capability};

/// How much one run of an accounting stream may read before it stops, failed: 20,000 pages
/// and five million records (a large company's decade of invoices).
pub const RUN_LIMITS: RunLimits = RunLimits::new(20_000, 5_000_000);

macro_rules! listing_fns {
    ($($name:ident),+) => {
        $(fn $name(a: &dyn Accounting, r: ListRequest) -> ListingFuture<'_> {
            Box::pin(async move { a.$name(r).await?.into_parts() })
        })+
    };
}

listing_fns!(
    accounts,
    contacts,
    invoices,
    items,
    tax_rates,
    tracking_categories,
    credit_notes,
    payments,
    journal_entries,
    bank_transactions
);

const fn stream(
    name: &'static str,
    description: &'static str,
    capability: Option<Capability>,
    list: integration_core::domain::ListFn<dyn Accounting>,
) -> StreamSpec<dyn Accounting> {
    StreamSpec { name, description, capability, list, changes: Some((capability::CHANGES, list)) }
}

/// The accounting streams, declared once.
pub static STREAMS: StreamTable<dyn Accounting> = StreamTable::new("accounting", &SPECS).with_limits(RUN_LIMITS);

static SPECS: [StreamSpec<dyn Accounting>; 10] = [
    stream("accounts", "the chart of accounts", None, accounts),
    stream("contacts", "customers and suppliers", None, contacts),
    stream("invoices", "invoices and bills, their lines and payments", None, invoices),
    stream("items", "products and services", Some(capability::ITEMS), items),
    stream("tax_rates", "tax rates and codes", Some(capability::TAX_RATES), tax_rates),
    stream(
        "tracking_categories",
        "classes, departments and other tracking",
        Some(capability::TRACKING_CATEGORIES),
        tracking_categories,
    ),
    stream("credit_notes", "credit notes", Some(capability::CREDIT_NOTES), credit_notes),
    stream("payments", "payments and what they pay", Some(capability::PAYMENTS), payments),
    stream("journal_entries", "journal entries", Some(capability::JOURNAL_ENTRIES), journal_entries),
    stream("bank_transactions", "bank lines", Some(capability::BANK_TRANSACTIONS), bank_transactions),
];

/// The stream descriptors for an adapter with `capabilities`.
pub fn descriptors(capabilities: &[Capability]) -> Vec<StreamDescriptor> {
    STREAMS.descriptors(capabilities)
}

/// [`Integration::read`](integration_core::Integration::read) for every accounting adapter.
///
/// # Errors
/// An unknown stream, or the listing's error.
pub async fn read(adapter: &(dyn Accounting + 'static), request: ReadRequest) -> Result<Page> {
    STREAMS.read(adapter, request).await
}
