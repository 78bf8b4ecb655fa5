//! [`TokenStore`]: OAuth token sets, sealed and versioned, and the refresh lock.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Lease;
use crate::crypto::SealedBox;
use crate::error::Result;
use crate::ids::{ConnectionId, TenantId};

/// A connection's token set as stored: sealed, with its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// The token set, sealed for this tenant and connection.
    pub sealed: SealedBox,
    /// The version; every write adds one.
    pub version: u64,
    /// When it was written.
    pub updated_at: DateTime<Utc>,
}

/// Stores token sets so that concurrent refreshers, in one process or many, agree.
///
/// Contract (checked by the testkit's suite):
/// - [`TokenStore::compare_and_swap`] writes only if the stored version equals `expected`
///   (`0` = no token stored) and returns the new version; otherwise it fails with
///   [`Conflict`](crate::ErrorKind::Conflict) and writes nothing;
/// - at most one unexpired refresh lock per connection; an expired one can be taken over.
#[async_trait]
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// The stored token set.
    async fn token(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Option<StoredToken>>;

    /// Writes `sealed` if the stored version is `expected`; returns the new version.
    async fn compare_and_swap(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        expected: u64,
        sealed: &SealedBox,
    ) -> Result<u64>;

    /// Deletes the token set; `false` if there was none.
    async fn delete_token(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<bool>;

    /// Takes the refresh lock for the connection unless it is held and unexpired.
    async fn acquire_refresh_lock(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>>;

    /// Releases the refresh lock; `false` if it was no longer held by this lease.
    async fn release_refresh_lock(&self, lease: &Lease) -> Result<bool>;
}
