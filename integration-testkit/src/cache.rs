//! Reading what a sync left in the records cache, for assertions.

use std::collections::BTreeSet;

use integration_core::store::{RecordStore, StreamScope};

/// The remote ids of the live records of `scope` (up to 100,000).
///
/// # Panics
/// When the store cannot be read (a test's failure).
#[allow(clippy::expect_used)]
pub async fn cached_ids(store: &dyn RecordStore, scope: &StreamScope) -> BTreeSet<String> {
    let records = store.records(scope, None, 100_000, false).await.expect("the records cache is readable");
    records.into_iter().map(|r| r.remote_id).collect()
}
