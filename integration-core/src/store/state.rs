//! [`StateStore`]: checkpoints, the sync-run log and leases.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Lease, StreamScope};
use crate::descriptor::{Domain, SyncMode};
use crate::error::{Error, Result};
use crate::ids::{ConnectionId, ProviderId, RunId, TenantId};
use crate::integration::Checkpoint;

/// A committed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCheckpoint {
    /// The position reached.
    pub checkpoint: Checkpoint,
    /// The run that committed it, if any.
    pub run: Option<RunId>,
    /// When it was committed.
    pub updated_at: DateTime<Utc>,
}

/// Where a sync run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunStatus {
    /// In progress.
    Running,
    /// Completed; every record was written.
    Succeeded,
    /// Completed, with some records rejected (see [`RunCounts::failed`]).
    PartiallySucceeded,
    /// Stopped by an error (see [`SyncRun::error`]); resumes from the last checkpoint.
    Failed,
    /// Stopped on request at a page boundary.
    Cancelled,
    /// Its worker died (a killed task, a lost process) while it ran: found still running when
    /// the stream's lease was next taken. Its checkpoint is the one it had committed.
    Abandoned,
}

impl RunStatus {
    /// Whether the run has ended.
    pub const fn is_terminal(self) -> bool {
        !matches!(self, Self::Running)
    }

    /// The status's name (`"partially_succeeded"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::PartiallySucceeded => "partially_succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Abandoned => "abandoned",
        }
    }
}

/// Record counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    /// Records read from the provider.
    pub processed: u64,
    /// Records new to the cache.
    pub added: u64,
    /// Records whose content changed.
    pub updated: u64,
    /// Records deleted (tombstones, or unseen by a full refresh).
    pub deleted: u64,
    /// Records rejected by the adapter's mapping.
    pub failed: u64,
    /// Reads repeated because the provider's answer could not be used (a complete `200` whose
    /// body did not parse).
    #[serde(default)]
    pub retried_reads: u64,
}

/// Why a run failed: the error's kind and text (never a secret, as no error holds one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunError {
    /// [`ErrorKind::as_str`](crate::ErrorKind::as_str) of the error.
    pub kind: String,
    /// The error's `Display`.
    pub message: String,
}

impl From<&Error> for RunError {
    fn from(e: &Error) -> Self {
        Self { kind: e.kind().as_str().to_owned(), message: e.to_string() }
    }
}

/// One entry of the sync-run log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRun {
    /// The run's id.
    pub id: RunId,
    /// The tenant.
    pub tenant: TenantId,
    /// The connection.
    pub connection: ConnectionId,
    /// The domain.
    pub domain: Domain,
    /// The provider.
    pub provider: ProviderId,
    /// The stream.
    pub stream: String,
    /// The mode.
    pub mode: SyncMode,
    /// Whether it was a dry run (nothing written).
    pub dry_run: bool,
    /// Where it stands.
    pub status: RunStatus,
    /// Record counts so far.
    pub counts: RunCounts,
    /// Why it failed.
    pub error: Option<RunError>,
    /// The last checkpoint it committed.
    pub checkpoint: Option<Checkpoint>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub completed_at: Option<DateTime<Utc>>,
    /// Records the adapter could not map, with their raw data and why (the first
    /// [`MAX_REJECTED_KEPT`] of the run; [`RunCounts::failed`] counts them all).
    #[serde(default)]
    pub rejected: Vec<RejectedEntry>,
}

/// How many rejected records a run keeps in its log entry.
pub const MAX_REJECTED_KEPT: usize = 100;

/// A record the adapter could not map, as kept in the run log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedEntry {
    /// The provider's id for it, if it could be read.
    pub remote_id: Option<String>,
    /// The field at fault, if known.
    pub field: Option<String>,
    /// The error's kind.
    pub kind: String,
    /// The error's text.
    pub message: String,
    /// The raw record as received.
    pub raw: serde_json::Value,
}

/// Which runs [`StateStore::list_runs`] returns: newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunQuery {
    /// Only runs of this connection.
    pub connection: Option<ConnectionId>,
    /// Only runs of this stream.
    pub stream: Option<String>,
    /// Only runs started before this one (for paging).
    pub before: Option<RunId>,
    /// At most this many (default 50).
    pub limit: Option<usize>,
}

impl RunQuery {
    /// The newest runs of every connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only runs of `connection`.
    #[must_use]
    pub fn connection(mut self, connection: ConnectionId) -> Self {
        self.connection = Some(connection);
        self
    }

    /// Only runs of `stream`.
    #[must_use]
    pub fn stream(mut self, stream: impl Into<String>) -> Self {
        self.stream = Some(stream.into());
        self
    }

    /// Only runs older than `run`.
    #[must_use]
    pub fn before(mut self, run: RunId) -> Self {
        self.before = Some(run);
        self
    }

    /// At most `limit` runs.
    #[must_use]
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The effective limit.
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(50)
    }

    /// Whether `run` matches the filters (for implementations that filter in memory).
    pub fn matches(&self, run: &SyncRun) -> bool {
        self.connection.as_ref().is_none_or(|c| *c == run.connection)
            && self.stream.as_ref().is_none_or(|s| *s == run.stream)
            && self.before.is_none_or(|b| run.id < b)
    }
}

/// Stores checkpoints, the sync-run log and leases.
///
/// Contract (checked by the testkit's suite):
/// - a checkpoint read returns the last one committed, by [`StateStore::put_checkpoint`] or by
///   [`RecordStore::write_page`](crate::store::RecordStore::write_page) for the same scope;
/// - [`StateStore::create_run`] fails with [`Conflict`](crate::ErrorKind::Conflict) for an
///   existing id, [`StateStore::update_run`] with [`NotFound`](crate::ErrorKind::NotFound) for a
///   missing one; runs list newest first;
/// - at most one unexpired lease per (tenant, key); a new acquisition gets a larger token;
///   renewing or releasing a lease that was taken over fails with `Conflict` / returns `false`.
#[async_trait]
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// The last committed checkpoint of `scope`.
    async fn checkpoint(&self, scope: &StreamScope) -> Result<Option<StoredCheckpoint>>;

    /// Commits a checkpoint for `scope`.
    async fn put_checkpoint(&self, scope: &StreamScope, checkpoint: &Checkpoint, run: Option<RunId>) -> Result<()>;

    /// Forgets the checkpoint of `scope` (the next sync starts from the beginning).
    async fn clear_checkpoint(&self, scope: &StreamScope) -> Result<bool>;

    /// Adds a run to the log.
    async fn create_run(&self, run: &SyncRun) -> Result<()>;

    /// Replaces a run in the log.
    async fn update_run(&self, run: &SyncRun) -> Result<()>;

    /// One run of `tenant`.
    async fn run(&self, tenant: &TenantId, id: RunId) -> Result<Option<SyncRun>>;

    /// Runs of `tenant`, newest first.
    async fn list_runs(&self, tenant: &TenantId, query: &RunQuery) -> Result<Vec<SyncRun>>;

    /// Takes the lease on `key` for `holder` unless someone else holds an unexpired one.
    /// The same holder acquiring again gets a fresh lease (a new token).
    async fn acquire_lease(&self, tenant: &TenantId, key: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>>;

    /// Extends a lease still held; a [`Conflict`](crate::ErrorKind::Conflict) if it was lost.
    async fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<Lease>;

    /// Gives a lease up; `false` if it was no longer held.
    async fn release_lease(&self, lease: &Lease) -> Result<bool>;
}
