//! What conditional writes (`If-Match` an event's ETag) answer, the same for every adapter: a
//! stale ETag is a `Conflict` naming the event, and deleting what is already gone is done.

use integration_core::domain::gone_is_done;
use integration_core::{Error, Result};

/// The `Conflict` for an update of `event_id` made at `etag`, which is no longer its ETag.
pub(crate) fn stale_update(provider: &str, event_id: &str, etag: Option<&str>) -> Error {
    Error::conflict(format!("event {event_id} changed since it was read (its ETag is no longer {etag:?})"))
        .with_provider(provider)
        .with_record(event_id)
}

/// A delete's answer: done (also when the event was already gone), a `Conflict` when `stale`
/// says the provider refused the ETag, or the error as it is.
pub(crate) fn deleted<T>(
    answer: Result<T>,
    stale: impl Fn(&Error) -> bool,
    provider: &str,
    event_id: &str,
) -> Result<()> {
    match answer {
        Err(e) if stale(&e) => Err(Error::conflict(format!("event {event_id} changed since it was read; not deleted"))
            .with_provider(provider)
            .with_record(event_id)),
        other => gone_is_done(other),
    }
}
