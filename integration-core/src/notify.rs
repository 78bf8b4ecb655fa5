//! Notifications: what a person should hear about, as typed events.
//!
//! A [`Notifier`] looks at a tenant's stores — connections, the sync-run log, webhook deliveries,
//! automation runs, stored tokens — and raises a [`Notification`] for each thing that needs a
//! person: a stream whose syncs keep failing, a connection the provider revoked, credentials that
//! expire soon, a webhook dead-lettered, an automation run that failed. Each is raised **once**:
//! its key is claimed in the host's [`IdempotencyStore`], so many workers checking the same tenant
//! raise it once between them, and a check repeated tomorrow does not raise it again.
//!
//! Raised notifications go to every [`subscribe`](Notifier::subscribe)d receiver and to every
//! [`NotificationSink`] (the automation crate's sink starts automations triggered by
//! `notification.<kind>` events: "email the admin" is an automation).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use integration_core::notify::{Notification, Notifier};
//! use integration_core::store::{ConfigStore, MemoryStore};
//! use integration_core::{ConnectionStatus, TenantId};
//! # use integration_core::{ConnectionId, Domain, ProviderId};
//! # use integration_core::crypto::{KeyRing, Sealer, SealingKey};
//! # use integration_core::{Connections, IntegrationConfig};
//!
//! let store = Arc::new(MemoryStore::new());
//! let tenant = TenantId::new("acme").unwrap();
//! # let sealer = Sealer::new(KeyRing::new("k", SealingKey::generate()));
//! # let connections = Connections::new(store.clone(), sealer, store.clone());
//! # let config = IntegrationConfig::new(tenant.clone(), ConnectionId::new("hr").unwrap(), Domain::Hris, ProviderId::new("bamboohr").unwrap());
//! # connections.save(&config).await.unwrap();
//! // The provider revoked the grant of connection "hr".
//! store.set_status(&tenant, &"hr".parse().unwrap(), ConnectionStatus::ReauthorizationRequired).await.unwrap();
//!
//! let notifier = Notifier::new(store.clone(), store.clone(), store.clone(), store.clone());
//! let mut heard = notifier.subscribe();
//! let raised = notifier.check(&tenant).await.unwrap();
//! assert!(matches!(&raised[..], [Notification::ReauthorizationRequired { .. }]));
//! assert_eq!(heard.try_recv().unwrap().kind(), "reauthorization_required");
//! assert!(notifier.check(&tenant).await.unwrap().is_empty(), "raised once");
//! # });
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::auth::TokenSet;
use crate::config::ConnectionStatus;
use crate::crypto::Sealer;
use crate::error::Result;
use crate::ids::{AutomationRunId, ConnectionId, DeliveryId, ProviderId, RunId, TenantId};
use crate::store::{
    AutomationRunQuery, AutomationRunStatus, AutomationStore, Claim, ConfigStore, DeliveryQuery, DeliveryStatus,
    DeliveryStore, IdempotencyStore, RunQuery, RunStatus, StateStore, StoredConfig, TokenStore,
};

/// The connection setting a host sets when it knows when a connection's credentials expire (an
/// API key or a client secret with an end date), as RFC 3339: `"2027-01-31T00:00:00Z"`.
pub const CREDENTIALS_EXPIRE_AT: &str = "credentials_expire_at";

/// The [`IdempotencyStore`] namespace notification keys are claimed in.
pub const NAMESPACE: &str = "notifications";

/// Something a person should hear about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Notification {
    /// A stream's last runs all failed.
    SyncFailing {
        /// The tenant.
        tenant: TenantId,
        /// The connection.
        connection: ConnectionId,
        /// The provider.
        provider: ProviderId,
        /// The stream.
        stream: String,
        /// How many runs in a row failed (at least the policy's threshold).
        consecutive_failures: u32,
        /// The latest run's error.
        error: String,
        /// The latest failed run.
        run: RunId,
    },
    /// The provider revoked the connection's grant: a person must authorize it again.
    ReauthorizationRequired {
        /// The tenant.
        tenant: TenantId,
        /// The connection.
        connection: ConnectionId,
        /// The provider.
        provider: ProviderId,
    },
    /// The connection's credentials expire soon and cannot be renewed without a person.
    CredentialsExpiring {
        /// The tenant.
        tenant: TenantId,
        /// The connection.
        connection: ConnectionId,
        /// The provider.
        provider: ProviderId,
        /// When they expire.
        expires_at: DateTime<Utc>,
    },
    /// A webhook delivery failed for good and waits for a replay.
    WebhookDeadLettered {
        /// The tenant.
        tenant: TenantId,
        /// The connection.
        connection: ConnectionId,
        /// The provider.
        provider: ProviderId,
        /// The delivery.
        delivery: DeliveryId,
        /// Its last error.
        error: String,
    },
    /// An automation run failed.
    AutomationFailed {
        /// The tenant.
        tenant: TenantId,
        /// The automation's id.
        automation: String,
        /// The run.
        run: AutomationRunId,
        /// Why.
        error: String,
        /// What triggered the failed run (`"event"`, `"change"`, `"notification"`...), so that
        /// a notifying automation that fails does not notify about itself forever.
        trigger: String,
    },
}

impl Notification {
    /// The kind's name (`"sync_failing"`): the automation event is `notification.<kind>`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SyncFailing { .. } => "sync_failing",
            Self::ReauthorizationRequired { .. } => "reauthorization_required",
            Self::CredentialsExpiring { .. } => "credentials_expiring",
            Self::WebhookDeadLettered { .. } => "webhook_dead_lettered",
            Self::AutomationFailed { .. } => "automation_failed",
        }
    }

    /// The tenant it concerns.
    pub fn tenant(&self) -> &TenantId {
        match self {
            Self::SyncFailing { tenant, .. }
            | Self::ReauthorizationRequired { tenant, .. }
            | Self::CredentialsExpiring { tenant, .. }
            | Self::WebhookDeadLettered { tenant, .. }
            | Self::AutomationFailed { tenant, .. } => tenant,
        }
    }

    /// The connection it concerns, if one.
    pub fn connection(&self) -> Option<&ConnectionId> {
        match self {
            Self::SyncFailing { connection, .. }
            | Self::ReauthorizationRequired { connection, .. }
            | Self::CredentialsExpiring { connection, .. }
            | Self::WebhookDeadLettered { connection, .. } => Some(connection),
            Self::AutomationFailed { .. } => None,
        }
    }

    /// What the notification is about (`sync_failing/hr/employees`); an expiry date and a
    /// failed run are part of it. The [`Notifier`] claims it with its episode added — the
    /// streak's first failed run, the connection's revision at revocation, when a delivery was
    /// dead-lettered — so a new episode is news and a repeat is not.
    pub fn key(&self) -> String {
        match self {
            Self::SyncFailing { connection, stream, .. } => format!("sync_failing/{connection}/{stream}"),
            Self::ReauthorizationRequired { connection, .. } => format!("reauthorization_required/{connection}"),
            Self::CredentialsExpiring { connection, expires_at, .. } => {
                format!("credentials_expiring/{connection}/{}", expires_at.timestamp())
            }
            Self::WebhookDeadLettered { delivery, .. } => format!("webhook_dead_lettered/{delivery}"),
            Self::AutomationFailed { run, .. } => format!("automation_failed/{run}"),
        }
    }

    /// The notification as JSON (`{"kind": "sync_failing", "tenant": ..., ...}`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SyncFailing { connection, stream, consecutive_failures, error, .. } => write!(
                f,
                "the last {consecutive_failures} syncs of {stream} on connection {connection} failed: {error}"
            ),
            Self::ReauthorizationRequired { connection, provider, .. } => {
                write!(f, "{provider} revoked connection {connection}: someone must connect it again")
            }
            Self::CredentialsExpiring { connection, expires_at, .. } => {
                write!(f, "the credentials of connection {connection} expire at {expires_at}")
            }
            Self::WebhookDeadLettered { connection, delivery, error, .. } => {
                write!(f, "webhook delivery {delivery} for connection {connection} was dead-lettered: {error}")
            }
            Self::AutomationFailed { automation, run, error, .. } => {
                write!(f, "automation {automation} failed (run {run}): {error}")
            }
        }
    }
}

/// Where raised notifications go besides subscribers (the automation crate implements it).
#[async_trait]
pub trait NotificationSink: Send + Sync + fmt::Debug {
    /// Takes one raised notification; `episode` is the key it was raised under, the same for
    /// every worker and never reused (an idempotency key for what the sink starts). An error is
    /// logged; the notification stays raised.
    async fn notify(&self, notification: &Notification, episode: &str) -> Result<()>;
}

/// When things become notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotifyPolicy {
    /// How many runs of a stream in a row must fail (default 3).
    pub sync_failures: u32,
    /// How long before credentials expire to say so (default 7 days).
    pub expiring_within: Duration,
    /// How many recent runs, deliveries and automation runs a check reads per tenant (default
    /// 200).
    pub lookback: usize,
}

impl Default for NotifyPolicy {
    fn default() -> Self {
        Self { sync_failures: 3, expiring_within: Duration::from_secs(7 * 24 * 3600), lookback: 200 }
    }
}

impl NotifyPolicy {
    /// Notify after `n` failed runs in a row (at least 1).
    #[must_use]
    pub fn sync_failures(mut self, n: u32) -> Self {
        self.sync_failures = n.max(1);
        self
    }

    /// Notify `within` before credentials expire.
    #[must_use]
    pub fn expiring_within(mut self, within: Duration) -> Self {
        self.expiring_within = within;
        self
    }
}

/// Raises [`Notification`]s from a tenant's stores; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Notifier {
    configs: Arc<dyn ConfigStore>,
    state: Arc<dyn StateStore>,
    deliveries: Arc<dyn DeliveryStore>,
    once: Arc<dyn IdempotencyStore>,
    automations: Option<Arc<dyn AutomationStore>>,
    tokens: Option<(Arc<dyn TokenStore>, Sealer)>,
    sinks: Vec<Arc<dyn NotificationSink>>,
    policy: NotifyPolicy,
    sender: broadcast::Sender<Notification>,
}

impl Notifier {
    /// A notifier over connections (`configs`), the run log (`state`), webhook `deliveries`,
    /// raising each notification once through `once`.
    pub fn new(
        configs: Arc<dyn ConfigStore>,
        state: Arc<dyn StateStore>,
        deliveries: Arc<dyn DeliveryStore>,
        once: Arc<dyn IdempotencyStore>,
    ) -> Self {
        Self {
            configs,
            state,
            deliveries,
            once,
            automations: None,
            tokens: None,
            sinks: Vec::new(),
            policy: NotifyPolicy::default(),
            sender: broadcast::channel(256).0,
        }
    }

    /// Also watches automation runs.
    #[must_use]
    pub fn with_automations(mut self, store: Arc<dyn AutomationStore>) -> Self {
        self.automations = Some(store);
        self
    }

    /// Also watches stored OAuth tokens (opened with `sealer`): an access token without a
    /// refresh token expires, and only a person can authorize again.
    #[must_use]
    pub fn with_tokens(mut self, store: Arc<dyn TokenStore>, sealer: Sealer) -> Self {
        self.tokens = Some((store, sealer));
        self
    }

    /// Also sends raised notifications to `sink`.
    #[must_use]
    pub fn with_sink(mut self, sink: Arc<dyn NotificationSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Uses `policy`.
    #[must_use]
    pub fn with_policy(mut self, policy: NotifyPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Receives every notification raised from now on (a receiver that falls 256 behind loses
    /// the oldest: see [`broadcast`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.sender.subscribe()
    }

    /// Everything about `tenant` that needs a person now, less what was raised before: each
    /// returned notification has just been raised (subscribers and sinks have it).
    ///
    /// # Errors
    /// A store's error; what was raised before it stays raised.
    pub async fn check(&self, tenant: &TenantId) -> Result<Vec<Notification>> {
        // Each notification with the key of its episode, made from what was read to find it.
        let mut found: Vec<(Notification, String)> = Vec::new();
        let configs = self.configs.list(tenant).await?;
        for config in &configs {
            found.extend(self.connection_notifications(config).await?);
        }
        let dead = DeliveryQuery::new().status(DeliveryStatus::DeadLettered).limit(self.policy.lookback);
        for d in self.deliveries.list_deliveries(tenant, &dead).await? {
            // One episode per dead-lettering: a replay that fails again is news.
            let when = d.completed_at.map(|t| t.timestamp_micros()).unwrap_or_default();
            let notification = Notification::WebhookDeadLettered {
                tenant: d.tenant,
                connection: d.connection,
                provider: d.provider,
                delivery: d.id,
                error: d.last_error.unwrap_or_default(),
            };
            let episode = format!("{}/{when}", notification.key());
            found.push((notification, episode));
        }
        if let Some(automations) = &self.automations {
            let failed = AutomationRunQuery::new().status(AutomationRunStatus::Failed).limit(self.policy.lookback);
            for run in automations.list_automation_runs(tenant, &failed).await? {
                let trigger = run.trigger.get("trigger").and_then(Value::as_str).unwrap_or("manual").to_owned();
                let notification = Notification::AutomationFailed {
                    tenant: run.tenant,
                    automation: run.automation,
                    run: run.id,
                    error: run.error.unwrap_or_default(),
                    trigger,
                };
                let episode = notification.key();
                found.push((notification, episode));
            }
        }
        let mut raised = Vec::new();
        for (notification, episode) in found {
            if self.raise_once(&notification, &episode).await? {
                raised.push(notification);
            }
        }
        Ok(raised)
    }

    async fn connection_notifications(&self, config: &StoredConfig) -> Result<Vec<(Notification, String)>> {
        let (tenant, connection, provider) = (&config.tenant, &config.connection, &config.provider);
        let mut found = Vec::new();
        if config.status == ConnectionStatus::ReauthorizationRequired {
            // One episode per revocation: the connection's revision moves when it is connected again.
            let notification = Notification::ReauthorizationRequired {
                tenant: tenant.clone(),
                connection: connection.clone(),
                provider: provider.clone(),
            };
            let episode = format!("{}/{}", notification.key(), config.revision);
            found.push((notification, episode));
        }
        if matches!(config.status, ConnectionStatus::Paused | ConnectionStatus::Disconnected) {
            return Ok(found);
        }
        let soon =
            Utc::now() + chrono::Duration::from_std(self.policy.expiring_within).unwrap_or(chrono::Duration::MAX);
        let mut expiring = config
            .settings
            .get(CREDENTIALS_EXPIRE_AT)
            .and_then(Value::as_str)
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .map(|at| at.with_timezone(&Utc));
        if let Some((store, sealer)) = &self.tokens
            && let Some(stored) = store.token(tenant, connection).await?
        {
            match TokenSet::open(sealer, &stored.sealed, tenant, connection).await {
                Ok(token) if token.refresh_token.is_none() => {
                    expiring = match (expiring, token.expires_at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(%tenant, %connection, error = %e, "a stored token could not be opened"),
            }
        }
        if let Some(expires_at) = expiring.filter(|at| *at <= soon) {
            let notification = Notification::CredentialsExpiring {
                tenant: tenant.clone(),
                connection: connection.clone(),
                provider: provider.clone(),
                expires_at,
            };
            let episode = notification.key();
            found.push((notification, episode));
        }
        let query = RunQuery { limit: Some(self.policy.lookback), ..RunQuery::new().connection(connection.clone()) };
        let runs = self.state.list_runs(tenant, &query).await?;
        // Newest first: each stream's streak of failures up to its latest run, and the streak's
        // first failed run (its episode).
        let mut streaks: BTreeMap<&str, Streak<'_>> = BTreeMap::new();
        for run in runs.iter().filter(|r| r.status.is_terminal() && !r.dry_run) {
            let streak = streaks.entry(run.stream.as_str()).or_insert(Streak {
                failures: 0,
                open: true,
                latest: run,
                first: None,
            });
            if !streak.open {
                continue;
            }
            if run.status == RunStatus::Failed {
                streak.failures += 1;
                streak.first = Some(run.id);
            } else if run.status != RunStatus::Cancelled {
                streak.open = false;
            }
        }
        for (stream, streak) in streaks {
            if streak.failures >= self.policy.sync_failures {
                let notification = Notification::SyncFailing {
                    tenant: tenant.clone(),
                    connection: connection.clone(),
                    provider: provider.clone(),
                    stream: stream.to_owned(),
                    consecutive_failures: streak.failures,
                    error: streak.latest.error.as_ref().map(|e| e.message.clone()).unwrap_or_default(),
                    run: streak.latest.id,
                };
                let first = streak.first.map(|id| id.to_string()).unwrap_or_default();
                let episode = format!("{}/{first}", notification.key());
                found.push((notification, episode));
            }
        }
        Ok(found)
    }

    /// Claims the notification's `episode` key and, when this caller is the first, raises it.
    /// Whether it was raised now.
    async fn raise_once(&self, notification: &Notification, episode: &str) -> Result<bool> {
        let claim = self.once.claim(notification.tenant(), NAMESPACE, episode, Duration::from_secs(3600)).await?;
        let Claim::Acquired(token) = claim else {
            return Ok(false);
        };
        crate::telemetry::notification(notification.kind());
        tracing::warn!(tenant = %notification.tenant(), kind = notification.kind(), "{notification}");
        let _ = self.sender.send(notification.clone());
        for sink in &self.sinks {
            if let Err(e) = sink.notify(notification, episode).await {
                tracing::error!(error = %e, kind = notification.kind(), "a notification sink failed");
            }
        }
        self.once.complete(&token, Some(notification.to_json())).await?;
        Ok(true)
    }
}

/// A stream's failures in a row, newest first: how many, whether the streak is still being
/// counted, its latest run and its first failed one.
struct Streak<'a> {
    failures: u32,
    open: bool,
    latest: &'a crate::store::SyncRun,
    first: Option<RunId>,
}
