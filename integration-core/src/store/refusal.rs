//! The errors a store returns when its contract refuses an operation, written once so every
//! implementation (memory, SQLite, PostgreSQL, a host's own) says the same thing.

use crate::error::Error;
use crate::ids::{ConnectionId, DeliveryId, RunId, TenantId};
use crate::store::{ClaimToken, DeliveryStatus, Lease};

/// A [`NotFound`](crate::ErrorKind::NotFound): the tenant has no such connection.
pub fn no_connection(tenant: &TenantId, connection: &ConnectionId) -> Error {
    Error::not_found(format!("tenant {tenant} has no connection {connection}"))
}

/// A [`Conflict`](crate::ErrorKind::Conflict): a configuration write against a stale revision.
pub fn stale_revision(tenant: &TenantId, connection: &ConnectionId, current: u64, expected: u64) -> Error {
    Error::conflict(format!(
        "connection {connection} of tenant {tenant} is at revision {current}, not {expected}; reload it and apply the change again"
    ))
}

/// A [`Conflict`](crate::ErrorKind::Conflict): the lease expired or was taken over.
pub fn lost_lease(lease: &Lease) -> Error {
    Error::conflict(format!(
        "the lease on {:?} held by {:?} (token {}) was lost: it expired or was taken over",
        lease.key, lease.holder, lease.token
    ))
}

/// A [`Conflict`](crate::ErrorKind::Conflict): a run with this id is already logged.
pub fn run_exists(run: RunId) -> Error {
    Error::conflict(format!("sync run {run} already exists"))
}

/// A [`NotFound`](crate::ErrorKind::NotFound): the tenant has no such run.
pub fn no_run(tenant: &TenantId, run: RunId) -> Error {
    Error::not_found(format!("tenant {tenant} has no sync run {run}"))
}

/// A [`Conflict`](crate::ErrorKind::Conflict): a token write against a stale version.
pub fn stale_token(connection: &ConnectionId, current: u64, expected: u64) -> Error {
    Error::conflict(format!(
        "the token of connection {connection} is at version {current}, not {expected}: another refresh won"
    ))
}

/// A [`Conflict`](crate::ErrorKind::Conflict): the claim lapsed and was taken over.
pub fn lapsed_claim(claim: &ClaimToken) -> Error {
    Error::conflict(format!(
        "the claim on {}/{} (token {}) lapsed and was taken over; its work may run twice unless it is idempotent",
        claim.namespace, claim.key, claim.token
    ))
}

/// A [`Conflict`](crate::ErrorKind::Conflict): a delivery with this id is already recorded.
pub fn delivery_exists(id: DeliveryId) -> Error {
    Error::conflict(format!("delivery {id} is already recorded"))
}

/// A [`NotFound`](crate::ErrorKind::NotFound): the tenant has no such delivery.
pub fn no_delivery(tenant: &TenantId, id: DeliveryId) -> Error {
    Error::not_found(format!("tenant {tenant} has no delivery {id}"))
}

/// A [`Conflict`](crate::ErrorKind::Conflict): the delivery's claim lapsed and another worker
/// has it.
pub fn lapsed_delivery(id: DeliveryId, attempt: u32) -> Error {
    Error::conflict(format!(
        "delivery {id} is no longer held by attempt {attempt}: its claim lapsed and another worker took it"
    ))
}

/// A [`Conflict`](crate::ErrorKind::Conflict): only processed, retrying or dead-lettered
/// deliveries replay.
pub fn not_replayable(id: DeliveryId, status: DeliveryStatus) -> Error {
    Error::conflict(format!(
        "delivery {id} is {}: only processed, retrying or dead-lettered ones replay",
        status.as_str()
    ))
}

/// A [`Conflict`](crate::ErrorKind::Conflict): the worker no longer holds the automation run
/// (its lease lapsed and another worker took the run, or it was released).
pub fn lost_run_lease(lease: &crate::store::RunLease) -> Error {
    Error::conflict(format!(
        "worker {} no longer holds automation run {} (lease token {}): another worker took it over",
        lease.holder, lease.run, lease.token
    ))
}
