//! The sync engine's streams, derived from the [`Calendar`] methods.
//!
//! | stream | listing | capability |
//! |---|---|---|
//! | `calendars` | [`Calendar::calendars`] | — |
//! | `events` | [`Calendar::events`] (every calendar's) | — ; incremental by the provider's token with [`capability::CHANGES`] |

use integration_core::descriptor::{RunLimits, StreamDescriptor};
use integration_core::domain::{ListRequest, ListingFuture, StreamSpec, StreamTable};
use integration_core::{Capability, Page, ReadRequest, Result};

use crate::calendar::{Calendar, capability};

/// How much one run of a calendar stream may read: 100,000 pages, ten million records.
pub const RUN_LIMITS: RunLimits = RunLimits::new(100_000, 10_000_000);

fn calendars(c: &dyn Calendar, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { c.calendars(r).await?.into_parts() })
}

fn events(c: &dyn Calendar, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { c.events(r).await?.into_parts() })
}

/// The calendar streams, declared once.
pub static STREAMS: StreamTable<dyn Calendar> = StreamTable::new("calendar", &SPECS).with_limits(RUN_LIMITS);

static SPECS: [StreamSpec<dyn Calendar>; 2] = [
    StreamSpec {
        name: "calendars",
        description: "the account's calendars",
        capability: None,
        list: calendars,
        changes: None,
    },
    StreamSpec {
        name: "events",
        description: "events of every calendar, series with their exceptions",
        capability: None,
        list: events,
        changes: Some((capability::CHANGES, events)),
    },
];

/// The stream descriptors for an adapter with `capabilities`.
pub fn descriptors(capabilities: &[Capability]) -> Vec<StreamDescriptor> {
    STREAMS.descriptors(capabilities)
}

/// [`Integration::read`](integration_core::Integration::read) for every calendar adapter.
///
/// # Errors
/// An unknown stream, or the listing's error.
pub async fn read(adapter: &(dyn Calendar + 'static), request: ReadRequest) -> Result<Page> {
    STREAMS.read(adapter, request).await
}
