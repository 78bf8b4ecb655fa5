//! [`DeliveryStore`]: every webhook delivery, recorded, and the durable queue that processes them.
//!
//! The router records a verified delivery as [`DeliveryStatus::Queued`] before it answers the
//! provider; workers claim due deliveries, process them, and finish each as processed, to retry
//! later, or dead-lettered. A host lists dead letters and replays them.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::DeliveryHeaders;
use crate::error::Result;
use crate::ids::{ConnectionId, DeliveryId, ProviderId, TenantId};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// Verified, recorded, waiting to be processed.
    Queued,
    /// A worker holds it (until its lease lapses).
    Processing,
    /// Processed; see the outcome.
    Processed,
    /// Processing failed; it will be tried again at `next_attempt_at`.
    Retrying,
    /// Processing failed too often or for good; waiting for the host to replay it.
    DeadLettered,
    /// Refused before processing (bad signature, stale, oversized); see `rejection`.
    Rejected,
}

impl DeliveryStatus {
    /// The status's name (`"dead_lettered"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Processing => "processing",
            Self::Processed => "processed",
            Self::Retrying => "retrying",
            Self::DeadLettered => "dead_lettered",
            Self::Rejected => "rejected",
        }
    }
}

/// One received webhook delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Our id for it.
    pub id: DeliveryId,
    /// The tenant it was routed to.
    pub tenant: TenantId,
    /// The connection it was routed to.
    pub connection: ConnectionId,
    /// The provider that sent it.
    pub provider: ProviderId,
    /// The provider's event id (or `sha256:` of the body), the deduplication key.
    pub event_id: String,
    /// The request headers, less credentials (`authorization`, `cookie`); values as text.
    pub headers: DeliveryHeaders,
    /// The raw body (empty for rejected deliveries: an unverified body is not kept). Shared,
    /// not copied, with the buffer the request was read into.
    pub body: Bytes,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Processing attempts so far (the current one included, while processing).
    pub attempts: u32,
    /// When it is next due (queued, retrying) or when the current claim lapses (processing).
    pub next_attempt_at: DateTime<Utc>,
    /// The last processing error.
    pub last_error: Option<String>,
    /// Why it was rejected (a [`Rejection`](crate::webhook::Rejection) reason code).
    pub rejection: Option<String>,
    /// What processing produced (a summary).
    pub outcome: Option<Value>,
    /// When it was processed, dead-lettered or rejected.
    pub completed_at: Option<DateTime<Utc>>,
}

impl WebhookDelivery {
    /// A delivery of `event_id` for `tenant`'s `connection` at `provider`, received at
    /// `received_at` with `body`, queued to be processed now: a new id, no headers (set
    /// `headers` for those kept), no attempts yet.
    pub fn queued(
        tenant: TenantId,
        connection: ConnectionId,
        provider: ProviderId,
        event_id: impl Into<String>,
        body: Bytes,
        received_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: DeliveryId::new(),
            tenant,
            connection,
            provider,
            event_id: event_id.into(),
            headers: DeliveryHeaders::new(),
            body,
            received_at,
            status: DeliveryStatus::Queued,
            attempts: 0,
            next_attempt_at: received_at,
            last_error: None,
            rejection: None,
            outcome: None,
            completed_at: None,
        }
    }
}

/// What [`DeliveryStore::record_delivery`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recorded {
    /// The delivery is new and now recorded.
    New,
    /// A delivery of the same event for the same connection is already recorded; nothing was
    /// written.
    Duplicate {
        /// The delivery recorded first.
        existing: DeliveryId,
    },
}

/// How a claimed delivery ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DeliveryOutcome {
    /// Processed, with a summary.
    Processed(Value),
    /// Failed; try again at `at`.
    Retry {
        /// The error.
        error: String,
        /// When to try again.
        at: DateTime<Utc>,
    },
    /// Failed for good (or too often): dead-letter it.
    DeadLetter {
        /// The error.
        error: String,
    },
}

/// One claim to end, for [`DeliveryStore::finish_deliveries`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FinishedDelivery {
    /// Whose delivery it is.
    pub tenant: TenantId,
    /// The delivery.
    pub id: DeliveryId,
    /// The attempt whose claim ends.
    pub attempt: u32,
    /// How it ended.
    pub outcome: DeliveryOutcome,
}

impl FinishedDelivery {
    /// Attempt `attempt` of `tenant`'s delivery `id` ended with `outcome`.
    pub fn new(tenant: TenantId, id: DeliveryId, attempt: u32, outcome: DeliveryOutcome) -> Self {
        Self { tenant, id, attempt, outcome }
    }
}

/// Which deliveries [`DeliveryStore::list_deliveries`] returns: newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryQuery {
    /// Only deliveries in this status.
    pub status: Option<DeliveryStatus>,
    /// Only deliveries older than this one (paging).
    pub before: Option<DeliveryId>,
    /// At most this many (default 50).
    pub limit: Option<usize>,
}

impl DeliveryQuery {
    /// The newest deliveries.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only deliveries in `status`.
    #[must_use]
    pub fn status(mut self, status: DeliveryStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only deliveries older than `id`.
    #[must_use]
    pub fn before(mut self, id: DeliveryId) -> Self {
        self.before = Some(id);
        self
    }

    /// At most `limit`.
    #[must_use]
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The effective limit.
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(50)
    }

    /// Whether `d` matches the filters.
    pub fn matches(&self, d: &WebhookDelivery) -> bool {
        self.status.is_none_or(|s| s == d.status) && self.before.is_none_or(|b| d.id < b)
    }
}

/// The delivery log and queue.
///
/// Contract (checked by the testkit's suite):
/// - [`DeliveryStore::record_delivery`] is the deduplication point: of deliveries with the same
///   tenant, connection, provider and event id (rejected ones aside), exactly one is recorded,
///   however many arrive concurrently — atomically, so an event is never recorded twice nor
///   marked seen without being recorded (a unique index, for SQL stores);
/// - [`DeliveryStore::claim_due`] hands each due delivery (queued or retrying with
///   `next_attempt_at <= now`, or processing with a lapsed claim) to one caller, marks it
///   processing until `now + lease`, and adds one to `attempts`;
/// - [`DeliveryStore::finish_delivery`] applies only if the delivery is still processing under
///   the same attempt number (else [`Conflict`](crate::ErrorKind::Conflict): the claim lapsed
///   and another worker took it);
/// - [`DeliveryStore::replay`] queues a dead-lettered, retrying or processed delivery again;
/// - reads are scoped by tenant. `claim_due` is the one cross-tenant call: a worker serves all
///   tenants.
#[async_trait]
pub trait DeliveryStore: Send + Sync + std::fmt::Debug {
    /// Records a delivery (queued or rejected) unless the same event is already recorded for
    /// the connection; a [`Conflict`](crate::ErrorKind::Conflict) if its id exists.
    async fn record_delivery(&self, delivery: WebhookDelivery) -> Result<Recorded>;

    /// Claims up to `limit` due deliveries for `lease`, about in the order they fell due (the
    /// SQL store: by due time, then id — reading only the rows it takes, however long the
    /// queue).
    async fn claim_due(&self, limit: usize, lease: Duration) -> Result<Vec<WebhookDelivery>>;

    /// Ends the claim of attempt `attempt` with `outcome`.
    async fn finish_delivery(
        &self,
        tenant: &TenantId,
        id: DeliveryId,
        attempt: u32,
        outcome: DeliveryOutcome,
    ) -> Result<()>;

    /// Ends several claims at once — in one transaction where the store has them, so a worker
    /// finishing many deliveries pays for one commit — and answers each as
    /// [`DeliveryStore::finish_delivery`] would, in order. By default, one after another.
    async fn finish_deliveries(&self, finished: Vec<FinishedDelivery>) -> Vec<Result<()>> {
        let mut results = Vec::with_capacity(finished.len());
        for f in finished {
            results.push(self.finish_delivery(&f.tenant, f.id, f.attempt, f.outcome).await);
        }
        results
    }

    /// One delivery of `tenant`.
    async fn delivery(&self, tenant: &TenantId, id: DeliveryId) -> Result<Option<WebhookDelivery>>;

    /// Deliveries of `tenant`, newest first.
    async fn list_deliveries(&self, tenant: &TenantId, query: &DeliveryQuery) -> Result<Vec<WebhookDelivery>>;

    /// Queues a delivery again, due now, with its attempts reset. A
    /// [`NotFound`](crate::ErrorKind::NotFound) for an unknown id; a
    /// [`Conflict`](crate::ErrorKind::Conflict) for one being processed or rejected.
    async fn replay(&self, tenant: &TenantId, id: DeliveryId) -> Result<()>;
}
