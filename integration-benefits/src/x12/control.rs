//! Interchange control numbers that never repeat, even across workers and crashes.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integration_core::store::{Claim, IdempotencyStore, StateStore, StreamScope};
use integration_core::{Checkpoint, ConnectionId, Error, Result, TenantId};

/// Hands out interchange control numbers (`ISA13`, also used as `GS06`), each once.
#[async_trait]
pub trait ControlNumbers: Send + Sync + std::fmt::Debug {
    /// The next control number for files from `sender` (`ISA06`) on `connection`: never one
    /// handed out before for the same three, from 1 up to 999,999,999.
    async fn next(&self, tenant: &TenantId, connection: &ConnectionId, sender: &str) -> Result<u32>;
}

/// [`ControlNumbers`] kept in the host's stores: each number is claimed in the
/// [`IdempotencyStore`] (of concurrent claims on a number exactly one wins, so two workers
/// never take the same one), and the highest taken is kept as a checkpoint in the
/// [`StateStore`], where the next search starts — so numbers keep growing even after old
/// claims are purged.
#[derive(Debug, Clone)]
pub struct StoredControlNumbers {
    claims: Arc<dyn IdempotencyStore>,
    state: Arc<dyn StateStore>,
}

/// How long a claim on a number lasts: the number is completed at once, so this only matters
/// if the process dies between the claim and its completion — and then the number is skipped
/// rather than handed out again (see below).
const CLAIM_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

impl StoredControlNumbers {
    /// Control numbers claimed in `claims`, their high-water mark kept in `state`.
    pub fn new(claims: Arc<dyn IdempotencyStore>, state: Arc<dyn StateStore>) -> Self {
        Self { claims, state }
    }

    fn scope(tenant: &TenantId, connection: &ConnectionId, sender: &str) -> StreamScope {
        StreamScope::new(tenant.clone(), connection.clone(), format!("x12-control:{sender}"))
    }
}

#[async_trait]
impl ControlNumbers for StoredControlNumbers {
    async fn next(&self, tenant: &TenantId, connection: &ConnectionId, sender: &str) -> Result<u32> {
        let scope = Self::scope(tenant, connection, sender);
        let namespace = format!("x12-control:{connection}:{sender}");
        let last: u32 = match self.state.checkpoint(&scope).await? {
            Some(stored) => stored.checkpoint.state().unwrap_or(0),
            None => 0,
        };
        let mut n = last;
        loop {
            n = n.checked_add(1).filter(|n| *n <= 999_999_999).ok_or_else(|| {
                Error::conflict(format!(
                    "every interchange control number for sender {sender:?} on {connection} has been used; \
                     agree a new sender id (ISA06) with the carrier"
                ))
            })?;
            // Numbers taken by others (completed, or claimed by a worker now) are skipped: a
            // claim that was never completed is never handed out again either.
            if let Claim::Acquired(token) = self.claims.claim(tenant, &namespace, &n.to_string(), CLAIM_TTL).await? {
                self.claims.complete(&token, None).await?;
                // A slower worker may lower the mark; the claims still keep numbers unique.
                self.state.put_checkpoint(&scope, &Checkpoint::from_state(&n)?, None).await?;
                return Ok(n);
            }
        }
    }
}
