//! The sync engine's streams, derived from the [`Storage`] methods.
//!
//! | stream | listing | capability |
//! |---|---|---|
//! | `files` | [`Storage::entries`] (every file and folder under the root) | — ; incremental by the provider's change feed with [`capability::CHANGES`] |
//!
//! Without a change feed (S3, WebDAV) the engine finds what changed by comparing each full pass
//! with its cache: an entry whose ETag, size or time moved is a change, one no longer listed a
//! deletion, the rest unchanged.

use integration_core::descriptor::{RunLimits, StreamDescriptor};
use integration_core::domain::{ListRequest, ListingFuture, StreamSpec, StreamTable};
use integration_core::{Capability, Page, ReadRequest, Result};

use crate::storage::{Storage, capability};

/// How much one run of a storage stream may read: 100,000 pages, fifty million entries.
pub const RUN_LIMITS: RunLimits = RunLimits::new(100_000, 50_000_000);

fn entries(s: &dyn Storage, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { s.entries(r).await?.into_parts() })
}

fn changes(s: &dyn Storage, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { s.changes(r).await?.into_parts() })
}

/// The storage streams, declared once.
pub static STREAMS: StreamTable<dyn Storage> = StreamTable::new("storage", &SPECS).with_limits(RUN_LIMITS);

static SPECS: [StreamSpec<dyn Storage>; 1] = [StreamSpec {
    name: "files",
    description: "every file and folder under the connection's root",
    capability: None,
    list: entries,
    changes: Some((capability::CHANGES, changes)),
}];

/// The stream descriptors for an adapter with `capabilities`.
pub fn descriptors(capabilities: &[Capability]) -> Vec<StreamDescriptor> {
    STREAMS.descriptors(capabilities)
}

/// [`Integration::read`](integration_core::Integration::read) for every storage adapter.
///
/// # Errors
/// An unknown stream, or the listing's error.
pub async fn read(adapter: &(dyn Storage + 'static), request: ReadRequest) -> Result<Page> {
    STREAMS.read(adapter, request).await
}
