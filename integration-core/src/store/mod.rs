//! The storage traits a host application implements, and their in-memory implementation.
//!
//! | trait | holds |
//! |---|---|
//! | [`ConfigStore`] | connection configurations, secrets sealed |
//! | [`StateStore`] | checkpoints, sync-run log, leases |
//! | [`TokenStore`] | OAuth token sets, sealed, versioned (compare-and-swap) plus a refresh lock |
//! | [`IdempotencyStore`] | claims on keys (webhook event ids, automation steps) |
//! | [`RecordStore`] | the records cache and its change stream |
//! | [`DeliveryStore`] | webhook deliveries: the log, and the queue that processes them |
//! | [`AuditSink`] | audit events |
//! | [`AutomationStore`] | automation runs: the queue with leases, and each step's record |
//!
//! Every operation is scoped by [`TenantId`]: an implementation must never let one tenant read,
//! list, overwrite or delete another's data. [`MemoryStore`] implements all eight for tests and
//! single-process use; `integration-store` provides SQLite and PostgreSQL. The testkit's
//! `store_contract_suite!` runs the same contract tests against any implementation.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use integration_core::store::{MemoryStore, StateStore, StreamScope};
//! use integration_core::{Checkpoint, ConnectionId, TenantId};
//! use serde_json::json;
//!
//! let store = MemoryStore::new();
//! let scope = StreamScope::new(TenantId::new("acme").unwrap(), ConnectionId::new("hr").unwrap(), "employees");
//! store.put_checkpoint(&scope, &Checkpoint::new(json!({"since": "2026-01-01"})), None).await.unwrap();
//! let stored = store.checkpoint(&scope).await.unwrap().unwrap();
//! assert_eq!(stored.checkpoint.as_value()["since"], "2026-01-01");
//! # });
//! ```

mod audit;
mod automation;
mod config;
mod delivery;
mod delivery_headers;
mod idempotency;
mod memory;
mod record;
pub mod refusal;
mod state;
mod token;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ConnectionId, TenantId};

pub use audit::{AuditAction, AuditEvent, AuditOutcome, AuditSink, TracingAuditSink};
pub use automation::{
    AutomationRun, AutomationRunQuery, AutomationRunStatus, AutomationStore, ClaimRequest, ClaimedRun, Enqueued,
    NewAutomationRun, RunLease, RunRelease, StepRecord, StepStatus,
};
pub use config::{ConfigStore, StoredConfig};
pub use delivery::{
    DeliveryOutcome, DeliveryQuery, DeliveryStatus, DeliveryStore, FinishedDelivery, Recorded, WebhookDelivery,
};
pub use delivery_headers::DeliveryHeaders;
pub use idempotency::{Claim, ClaimToken, IdempotencyStore};
pub use memory::MemoryStore;
pub use record::{
    Change, ChangeBatch, ChangeCursor, ChangeKind, ContentHash, PageWrite, RecordStore, StoredRecord, WriteSummary,
};
pub use state::{
    MAX_REJECTED_KEPT, RejectedEntry, RunCounts, RunError, RunQuery, RunStatus, StateStore, StoredCheckpoint, SyncRun,
};
pub use token::{StoredToken, TokenStore};

/// One stream of one connection of one tenant: the key of checkpoints and cached records.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StreamScope {
    /// The tenant.
    pub tenant: TenantId,
    /// The connection.
    pub connection: ConnectionId,
    /// The stream's name.
    pub stream: String,
}

impl StreamScope {
    /// The scope of `stream` in `tenant`'s `connection`.
    pub fn new(tenant: TenantId, connection: ConnectionId, stream: impl Into<String>) -> Self {
        Self { tenant, connection, stream: stream.into() }
    }
}

impl fmt::Display for StreamScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.tenant, self.connection, self.stream)
    }
}

/// A lease: exclusive, time-limited ownership of a key within a tenant.
///
/// `token` grows with every acquisition of the key, so a holder whose lease expired and was
/// taken over can be told apart from the new holder (a fencing token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The tenant.
    pub tenant: TenantId,
    /// What is leased (`"sync/<connection>/<stream>"`, `"token-refresh/<connection>"`).
    pub key: String,
    /// Who holds it (a worker id).
    pub holder: String,
    /// The fencing token of this acquisition.
    pub token: u64,
    /// When it lapses unless renewed.
    pub expires_at: DateTime<Utc>,
}
