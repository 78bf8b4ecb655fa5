//! The [`Integration`] trait every adapter implements, and the values it exchanges.
//!
//! An adapter instance serves one connection: the [`Registry`](crate::Registry) builds it from
//! that connection's [`IntegrationConfig`](crate::IntegrationConfig), so its methods take no
//! tenant or credentials. The trait is object safe (`Arc<dyn Integration>`).
//!
//! - [`Integration::read`] returns one [`Page`] of one stream from an optional [`Checkpoint`].
//!   The sync engine writes the page, then commits the page's checkpoint, then asks for the next
//!   page — so the checkpoint must describe the position *after* this page.
//! - [`Integration::handle_webhook`] turns a verified delivery into record changes and events.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::descriptor::{Descriptor, SyncMode};
use crate::error::{Error, Result};

/// One provider, connected for one tenant.
///
/// Implement it on top of the shared HTTP and auth machinery; prove it with the testkit's
/// contract suite. Methods that the provider cannot do return an
/// [`Unsupported`](crate::ErrorKind::Unsupported) error (that is what the default
/// [`Integration::handle_webhook`] does).
#[async_trait]
pub trait Integration: Send + Sync + fmt::Debug {
    /// What this adapter is and supports.
    fn descriptor(&self) -> &Descriptor;

    /// Checks the credentials against the provider and returns what it says about the account.
    async fn connect(&self) -> Result<ConnectionInfo>;

    /// Releases what the connection holds at the provider (revokes tokens, removes webhook
    /// subscriptions). Idempotent. The default releases nothing: right for a connection that
    /// holds nothing at the provider (an API key); an adapter holding tokens or subscriptions
    /// overrides it.
    async fn disconnect(&self) -> Result<()> {
        Ok(())
    }

    /// A cheap call that shows whether the provider is reachable with these credentials. The
    /// default probes [`connect`](Self::connect): healthy when it succeeds, otherwise degraded
    /// or unhealthy by the error's kind.
    async fn health_check(&self) -> Result<Health> {
        Ok(Health::probe(self.connect()).await)
    }

    /// Reads one page of `request.stream`, starting after `request.checkpoint` (or from the
    /// beginning when there is none).
    async fn read(&self, request: ReadRequest) -> Result<Page>;

    /// Maps a verified webhook delivery to record changes and events.
    async fn handle_webhook(&self, delivery: VerifiedWebhook) -> Result<WebhookOutcome> {
        let _ = delivery;
        Err(self.unsupported("handle_webhook"))
    }

    /// Whether the adapter declares `capability` (a domain's `capability::…` constants).
    fn supports(&self, capability: &crate::Capability) -> bool {
        self.descriptor().supports(capability)
    }

    /// The error for `operation`, which this adapter does not support: `Unsupported`, naming
    /// the operation and the provider. A domain trait's default methods answer it.
    fn unsupported(&self, operation: &str) -> Error {
        Error::unsupported(operation).with_provider(self.descriptor().provider.as_str())
    }
}

/// What [`Integration::connect`] learned about the connected account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The provider's id for the account (company, realm, tenant), used to route webhooks.
    pub account_id: Option<String>,
    /// A human-readable account name.
    pub account_name: Option<String>,
    /// The scopes the provider actually granted.
    pub granted_scopes: Vec<String>,
}

impl ConnectionInfo {
    /// Info with the provider's account id.
    pub fn with_account(account_id: impl Into<String>, account_name: Option<String>) -> Self {
        Self { account_id: Some(account_id.into()), account_name, granted_scopes: Vec::new() }
    }
}

/// How a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HealthStatus {
    /// Working.
    Healthy,
    /// Working, with a problem worth a look (slow, throttled, a scope missing).
    Degraded,
    /// Not working.
    Unhealthy,
}

/// The result of a health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Health {
    /// The verdict.
    pub status: HealthStatus,
    /// Why, when not healthy.
    pub message: Option<String>,
    /// The error kind that made it unhealthy, if any.
    pub error_kind: Option<String>,
    /// When the check ran.
    pub checked_at: DateTime<Utc>,
    /// How long the check took.
    pub latency: Duration,
}

impl Health {
    /// A healthy result.
    pub fn healthy(latency: Duration) -> Self {
        Self { status: HealthStatus::Healthy, message: None, error_kind: None, checked_at: Utc::now(), latency }
    }

    /// A degraded result with the reason.
    pub fn degraded(message: impl Into<String>, latency: Duration) -> Self {
        Self { status: HealthStatus::Degraded, message: Some(message.into()), ..Self::healthy(latency) }
    }

    /// An unhealthy result from the error that caused it.
    pub fn unhealthy(error: &Error, latency: Duration) -> Self {
        Self {
            status: HealthStatus::Unhealthy,
            message: Some(error.to_string()),
            error_kind: Some(error.kind().as_str().to_owned()),
            ..Self::healthy(latency)
        }
    }

    /// Runs `check` — a cheap call to the provider — and reports healthy if it succeeds,
    /// unhealthy with its error if not, with the time it took either way.
    pub async fn probe<T>(check: impl std::future::Future<Output = Result<T>>) -> Self {
        let started = std::time::Instant::now();
        match check.await {
            Ok(_) => Self::healthy(started.elapsed()),
            Err(e) => Self::unhealthy(&e, started.elapsed()),
        }
    }
}

/// A position in a stream, defined by the adapter (a cursor value, a page token, or both).
///
/// Opaque to the engine and the stores, which persist it as JSON.
///
/// ```
/// use integration_core::Checkpoint;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct Position { since: String, page: Option<String> }
///
/// let cp = Checkpoint::from_state(&Position { since: "2026-01-01".into(), page: None }).unwrap();
/// let back: Position = cp.state().unwrap();
/// assert_eq!(back.since, "2026-01-01");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Checkpoint(Value);

impl Checkpoint {
    /// A checkpoint holding `value`.
    pub fn new(value: Value) -> Self {
        Self(value)
    }

    /// A checkpoint holding `state` serialized to JSON.
    pub fn from_state<T: Serialize>(state: &T) -> Result<Self> {
        serde_json::to_value(state).map(Self).map_err(|e| {
            Error::validation("checkpoint", "the checkpoint state does not serialize to JSON").with_source(e)
        })
    }

    /// The state, deserialized. A checkpoint written by another version of the adapter that no
    /// longer parses gives a [`Validation`](crate::ErrorKind::Validation) error on `checkpoint`.
    pub fn state<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.0).map_err(|e| {
            Error::validation("checkpoint", format!("the stored checkpoint does not have the expected shape: {e}"))
        })
    }

    /// The JSON value.
    pub fn as_value(&self) -> &Value {
        &self.0
    }
}

/// A request for one page of one stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReadRequest {
    /// The stream to read.
    pub stream: String,
    /// The sync mode of the run.
    pub mode: SyncMode,
    /// Where to continue from; `None` starts from the beginning.
    pub checkpoint: Option<Checkpoint>,
    /// A page size hint; the adapter may use the provider's maximum instead.
    pub page_size: Option<NonZeroU32>,
    /// Part of a dry run: the read must change nothing at the provider either. A stream whose
    /// reading consumes (a message queue acknowledged page by page) reads without consuming,
    /// and may end early rather than read the same data again.
    pub dry_run: bool,
}

impl ReadRequest {
    /// A request for the first page of `stream` in `mode`.
    pub fn new(stream: impl Into<String>, mode: SyncMode) -> Self {
        Self { stream: stream.into(), mode, checkpoint: None, page_size: None, dry_run: false }
    }

    /// Marks the read as part of a dry run.
    #[must_use]
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// Continues after `checkpoint`.
    #[must_use]
    pub fn after(mut self, checkpoint: Option<Checkpoint>) -> Self {
        self.checkpoint = checkpoint;
        self
    }

    /// Sets the page size hint.
    #[must_use]
    pub fn with_page_size(mut self, size: NonZeroU32) -> Self {
        self.page_size = Some(size);
        self
    }
}

/// One record as an adapter produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// The provider's id for the record.
    pub remote_id: String,
    /// The record in the domain's common model.
    pub data: Value,
    /// The provider's raw JSON, when kept.
    pub remote_data: Option<Value>,
    /// When the provider last changed it.
    pub modified_at: Option<DateTime<Utc>>,
    /// Whether the provider deleted it (a tombstone).
    pub deleted: bool,
}

impl Record {
    /// A live record.
    pub fn new(remote_id: impl Into<String>, data: Value) -> Self {
        Self { remote_id: remote_id.into(), data, remote_data: None, modified_at: None, deleted: false }
    }

    /// A tombstone: the provider deleted the record `remote_id`.
    pub fn deleted(remote_id: impl Into<String>) -> Self {
        Self { deleted: true, ..Self::new(remote_id, Value::Null) }
    }

    /// Keeps the provider's raw JSON.
    #[must_use]
    pub fn with_remote_data(mut self, raw: Value) -> Self {
        self.remote_data = Some(raw);
        self
    }

    /// Sets when the provider last changed it.
    #[must_use]
    pub fn with_modified_at(mut self, at: DateTime<Utc>) -> Self {
        self.modified_at = Some(at);
        self
    }
}

/// A record the adapter could not map, kept with its raw data and the reason.
#[derive(Debug)]
#[non_exhaustive]
pub struct RejectedRecord {
    /// The provider's id for it, if it could be read.
    pub remote_id: Option<String>,
    /// The raw JSON as received.
    pub raw: Value,
    /// Why it was rejected (naming the field).
    pub error: Error,
}

impl RejectedRecord {
    /// A rejected record.
    pub fn new(remote_id: Option<String>, raw: Value, error: Error) -> Self {
        Self { remote_id, raw, error }
    }
}

/// One page of a stream.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Page {
    /// The records read.
    pub records: Vec<Record>,
    /// Records that could not be mapped; the page goes on without them.
    pub rejected: Vec<RejectedRecord>,
    /// The position after this page: pass it back to read the next page, or keep it to resume.
    pub checkpoint: Option<Checkpoint>,
    /// Whether another page follows in this run.
    pub has_more: bool,
    /// Prefixes of remote ids deleted with everything under them: the engine deletes the cached
    /// records of the stream whose ids start with one, before it writes the page's records (a
    /// provider that reports a deleted folder alone, keyed by path).
    pub deleted_under: Vec<String>,
}

impl Page {
    /// A page followed by more.
    pub fn more(records: Vec<Record>, checkpoint: Checkpoint) -> Self {
        Self { records, rejected: Vec::new(), checkpoint: Some(checkpoint), has_more: true, deleted_under: Vec::new() }
    }

    /// The last page of the run; `checkpoint` is where the next incremental run starts.
    pub fn last(records: Vec<Record>, checkpoint: Option<Checkpoint>) -> Self {
        Self { records, rejected: Vec::new(), checkpoint, has_more: false, deleted_under: Vec::new() }
    }

    /// Adds rejected records.
    #[must_use]
    pub fn with_rejected(mut self, rejected: Vec<RejectedRecord>) -> Self {
        self.rejected = rejected;
        self
    }

    /// Adds prefixes of remote ids deleted with everything under them
    /// ([`deleted_under`](Self::deleted_under)).
    #[must_use]
    pub fn with_deleted_under(mut self, prefixes: Vec<String>) -> Self {
        self.deleted_under.extend(prefixes.into_iter().filter(|p| !p.is_empty()));
        self
    }
}

/// A webhook delivery whose signature has been verified.
///
/// The webhook router constructs it after verification; adapters receive it in
/// [`Integration::handle_webhook`] and never see an unverified body.
#[derive(Debug, Clone)]
pub struct VerifiedWebhook {
    headers: http::HeaderMap,
    body: bytes::Bytes,
    event_id: Option<String>,
    received_at: DateTime<Utc>,
}

impl VerifiedWebhook {
    /// Wraps a delivery whose signature the caller has verified (the body as `Vec<u8>` or,
    /// without a copy, as `Bytes`).
    pub fn trusted(
        headers: http::HeaderMap,
        body: impl Into<bytes::Bytes>,
        event_id: Option<String>,
        received_at: DateTime<Utc>,
    ) -> Self {
        Self { headers, body: body.into(), event_id, received_at }
    }

    /// The request headers.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }

    /// The raw body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body parsed as JSON, or an [`InvalidResponse`](crate::ErrorKind::InvalidResponse)
    /// error saying where it is malformed.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::invalid_response(format!("the webhook body is not the expected JSON: {e}")).with_body(&self.body)
        })
    }

    /// The provider's event id, when the scheme carries one.
    pub fn event_id(&self) -> Option<&str> {
        self.event_id.as_deref()
    }

    /// When the delivery arrived.
    pub fn received_at(&self) -> DateTime<Utc> {
        self.received_at
    }
}

/// A record change carried by a webhook, applied through the same path as a read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordChange {
    /// The stream the record belongs to.
    pub stream: String,
    /// The record (a tombstone for a deletion).
    pub record: Record,
}

impl RecordChange {
    /// A change of `record` in `stream`.
    pub fn new(stream: impl Into<String>, record: Record) -> Self {
        Self { stream: stream.into(), record }
    }
}

/// Something that happened at the provider, for automations (`"employee.terminated"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IntegrationEvent {
    /// The event type, `"<resource>.<what happened>"`.
    pub kind: String,
    /// The event's data.
    pub payload: Value,
    /// When it happened at the provider.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl IntegrationEvent {
    /// An event of `kind` with `payload`.
    pub fn new(kind: impl Into<String>, payload: Value) -> Self {
        Self { kind: kind.into(), payload, occurred_at: None }
    }
}

/// What a webhook delivery amounted to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookOutcome {
    /// Record changes to apply to the cache.
    pub changes: Vec<RecordChange>,
    /// Events for automations.
    pub events: Vec<IntegrationEvent>,
}

impl WebhookOutcome {
    /// An outcome with `changes` and `events`.
    pub fn new(changes: Vec<RecordChange>, events: Vec<IntegrationEvent>) -> Self {
        Self { changes, events }
    }
}
