//! [`IdempotencyStore`]: claims that make an effect happen once (a webhook event processed, an
//! automation step executed) however often it is attempted.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Result;
use crate::ids::TenantId;

/// Proof of a claim, needed to complete or release it (a fencing token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimToken {
    /// The tenant.
    pub tenant: TenantId,
    /// The namespace (`"webhook:stripe"`, `"automation-step"`).
    pub namespace: String,
    /// The key within the namespace.
    pub key: String,
    /// Grows with every claim of the key.
    pub token: u64,
}

/// The answer to [`IdempotencyStore::claim`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Claim {
    /// The caller owns the key now: do the work, then [`IdempotencyStore::complete`].
    Acquired(ClaimToken),
    /// Someone else is doing the work; their claim lapses at `until`.
    InProgress {
        /// When the other claim expires and the key can be claimed again.
        until: DateTime<Utc>,
    },
    /// The work is done; here is what it recorded.
    Completed {
        /// The outcome recorded at completion.
        outcome: Option<Value>,
        /// When it completed.
        at: DateTime<Utc>,
    },
}

/// Claims on keys, per tenant and namespace.
///
/// Contract (checked by the testkit's suite):
/// - of any number of concurrent claims on a fresh key, exactly one is `Acquired`;
/// - a claim not completed within its `ttl` lapses and the key can be claimed again (with a new
///   token); completing or releasing with the lapsed token fails with
///   [`Conflict`](crate::ErrorKind::Conflict) / returns `false`;
/// - once completed, every claim answers `Completed` with the outcome.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + std::fmt::Debug {
    /// Claims `key` in `namespace` for `ttl`.
    async fn claim(&self, tenant: &TenantId, namespace: &str, key: &str, ttl: Duration) -> Result<Claim>;

    /// Marks the claimed work done, recording `outcome`.
    async fn complete(&self, claim: &ClaimToken, outcome: Option<Value>) -> Result<()>;

    /// Gives a claim up without completing it, so the work can be tried again at once.
    async fn release(&self, claim: &ClaimToken) -> Result<bool>;

    /// Forgets keys of `tenant` completed before `before`; returns how many.
    async fn purge_completed(&self, tenant: &TenantId, before: DateTime<Utc>) -> Result<u64>;
}
