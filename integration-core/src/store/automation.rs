//! Automation runs: the durable queue and the run log the automation executor works through.
//!
//! A run is enqueued once per trigger (the `trigger_key` deduplicates), claimed under a lease by
//! one worker at a time, advanced step by step — each step's start and result saved before the
//! next begins — and released either to wait (a delay, a retry's backoff) or finished. A worker
//! whose lease lapsed can no longer save anything for the run: every write carries the lease's
//! fencing token.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Result;
use crate::ids::{AutomationRunId, TenantId};

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutomationRunStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker holds it.
    Running,
    /// Parked until its due time: a delay step, or the backoff before a step's retry.
    Waiting,
    /// Every step completed.
    Succeeded,
    /// A step failed for good (after its on-failure steps ran).
    Failed,
    /// Cancelled by the host.
    Cancelled,
}

impl AutomationRunStatus {
    /// Whether the run is over.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    /// The status as stored (`"queued"`, `"running"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Waiting => "waiting",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status from its stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Waiting, Self::Succeeded, Self::Failed, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl fmt::Display for AutomationRunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One run of one automation for one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AutomationRun {
    /// The run's id.
    pub id: AutomationRunId,
    /// The tenant it runs for.
    pub tenant: TenantId,
    /// The automation's id.
    pub automation: String,
    /// What triggered it, unique per (tenant, automation): a change's cursor, a delivery's event,
    /// a schedule's fire time, or the host's own key.
    pub trigger_key: String,
    /// The trigger's data: what conditions and input templates see as the event.
    pub trigger: Value,
    /// Where the run is.
    pub status: AutomationRunStatus,
    /// When a worker may take it next.
    pub due_at: DateTime<Utc>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When a worker first took it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub completed_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error: Option<String>,
    /// How many times a worker took it (more than one after waits, retries or a crash).
    pub dispatches: u32,
}

impl AutomationRun {
    /// A run as [`AutomationStore::enqueue_run`] creates it: `queued`, due at `new.due_at` (or
    /// `now`), created `now`, never dispatched. A store reading a run back builds it so, then
    /// sets the fields that moved on (all public).
    pub fn queued(id: AutomationRunId, new: &NewAutomationRun, now: DateTime<Utc>) -> Self {
        Self {
            id,
            tenant: new.tenant.clone(),
            automation: new.automation.clone(),
            trigger_key: new.trigger_key.clone(),
            trigger: new.trigger.clone(),
            status: AutomationRunStatus::Queued,
            due_at: new.due_at.unwrap_or(now),
            created_at: now,
            started_at: None,
            completed_at: None,
            error: None,
            dispatches: 0,
        }
    }
}

/// A run to enqueue.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewAutomationRun {
    /// The tenant.
    pub tenant: TenantId,
    /// The automation's id.
    pub automation: String,
    /// Deduplicates: a second run with the same key for the same tenant and automation is not
    /// created.
    pub trigger_key: String,
    /// The trigger's data.
    pub trigger: Value,
    /// The earliest time it may run; `None` for now.
    pub due_at: Option<DateTime<Utc>>,
}

impl NewAutomationRun {
    /// A run of `automation` for `tenant`, triggered by `trigger` under `trigger_key`.
    pub fn new(
        tenant: TenantId,
        automation: impl Into<String>,
        trigger_key: impl Into<String>,
        trigger: Value,
    ) -> Self {
        Self { tenant, automation: automation.into(), trigger_key: trigger_key.into(), trigger, due_at: None }
    }

    /// Not before `at`.
    pub fn due_at(mut self, at: DateTime<Utc>) -> Self {
        self.due_at = Some(at);
        self
    }
}

/// What [`AutomationStore::enqueue_run`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new run.
    Created(AutomationRunId),
    /// A run with this trigger key already exists (whatever its status); nothing was added.
    Duplicate(AutomationRunId),
    /// The tenant already has `pending` unfinished runs, the most allowed; nothing was added.
    /// Enqueue again later.
    Full {
        /// The tenant's unfinished runs.
        pending: u64,
    },
}

/// What a worker asks for when it claims runs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClaimRequest {
    /// The worker.
    pub holder: String,
    /// At most this many runs.
    pub limit: usize,
    /// The lease on each run; renew it before it lapses.
    pub lease: Duration,
    /// At most this many runs of one tenant held at once, by all workers together.
    pub per_tenant: Option<u32>,
    /// At most this many runs of an automation (by id) held at once, by all workers together.
    pub per_automation: BTreeMap<String, u32>,
}

impl ClaimRequest {
    /// Up to `limit` runs for `holder`, leased for `lease`, with no concurrency limits.
    pub fn new(holder: impl Into<String>, limit: usize, lease: Duration) -> Self {
        Self { holder: holder.into(), limit, lease, per_tenant: None, per_automation: BTreeMap::new() }
    }

    /// At most `limit` runs of one tenant at once.
    pub fn per_tenant(mut self, limit: u32) -> Self {
        self.per_tenant = Some(limit);
        self
    }

    /// At most `limit` runs of `automation` at once.
    pub fn per_automation(mut self, automation: impl Into<String>, limit: u32) -> Self {
        self.per_automation.insert(automation.into(), limit);
        self
    }
}

/// A worker's hold on a run. Every write for the run carries it; once another worker has taken
/// the run over (the lease lapsed), writes with the old token fail with a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLease {
    /// The run's tenant.
    pub tenant: TenantId,
    /// The run.
    pub run: AutomationRunId,
    /// The worker.
    pub holder: String,
    /// The fencing token: grows with every claim of any run in the store.
    pub token: u64,
    /// When it lapses unless renewed.
    pub expires_at: DateTime<Utc>,
}

/// A claimed run, with the steps already recorded for it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClaimedRun {
    /// The run (status `Running`).
    pub run: AutomationRun,
    /// The hold on it.
    pub lease: RunLease,
    /// Its steps so far, in the order they were first saved.
    pub steps: Vec<StepRecord>,
}

impl ClaimedRun {
    /// A claimed run.
    pub fn new(run: AutomationRun, lease: RunLease, steps: Vec<StepRecord>) -> Self {
        Self { run, lease, steps }
    }
}

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Begun, result not yet saved: after a crash it runs again, with the same idempotency key.
    Started,
    /// Done; never run again.
    Succeeded,
    /// The last attempt failed with a retryable error; the run waits for the next attempt.
    Retrying,
    /// Failed for good (a final error, or no attempts left).
    Failed,
}

impl StepStatus {
    /// The status as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Succeeded => "succeeded",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
        }
    }

    /// The status from its stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Started, Self::Succeeded, Self::Retrying, Self::Failed].into_iter().find(|s| s.as_str() == text)
    }
}

/// One step of a run, as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StepRecord {
    /// The step's path in the automation (`"0"`, `"2.then.1"`, `"on_failure.0"`).
    pub step: String,
    /// What it does (an action's name, `"delay"`, `"branch"`).
    pub action: String,
    /// Where it is.
    pub status: StepStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// The key passed to the provider with every attempt of this step.
    pub idempotency_key: String,
    /// The input it was given (truncated, secrets redacted).
    pub input: Value,
    /// Its output once it succeeded (truncated, secrets redacted).
    pub output: Option<Value>,
    /// The last attempt's error.
    pub error: Option<String>,
    /// When the first attempt began.
    pub started_at: DateTime<Utc>,
    /// When it succeeded or last failed.
    pub completed_at: Option<DateTime<Utc>>,
}

impl StepRecord {
    /// A step begun now, on its first attempt.
    pub fn started(
        step: impl Into<String>,
        action: impl Into<String>,
        idempotency_key: impl Into<String>,
        input: Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            step: step.into(),
            action: action.into(),
            status: StepStatus::Started,
            attempts: 1,
            idempotency_key: idempotency_key.into(),
            input,
            output: None,
            error: None,
            started_at: at,
            completed_at: None,
        }
    }
}

/// How a worker lets go of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunRelease {
    /// Park it until `until` (status `Waiting`); any worker may take it then.
    Wait {
        /// When it is due again.
        until: DateTime<Utc>,
    },
    /// It is over.
    Finish {
        /// `Succeeded`, `Failed` or `Cancelled`.
        status: AutomationRunStatus,
        /// Why, for a failure.
        error: Option<String>,
    },
}

/// Which runs to list.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct AutomationRunQuery {
    /// Only this automation's.
    pub automation: Option<String>,
    /// Only runs in this status.
    pub status: Option<AutomationRunStatus>,
    /// At most this many, newest first (default 100).
    pub limit: Option<usize>,
}

impl AutomationRunQuery {
    /// Every run, newest first, up to 100.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only `automation`'s runs.
    pub fn automation(mut self, automation: impl Into<String>) -> Self {
        self.automation = Some(automation.into());
        self
    }

    /// Only runs in `status`.
    pub fn status(mut self, status: AutomationRunStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// At most `limit` runs.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// The automation executor's storage: a durable run queue with leases, and the run log.
///
/// Contract (checked by the `automation_*` rules of the testkit's `store_contract_suite!`):
/// - [`enqueue_run`](Self::enqueue_run) creates at most one run per (tenant, automation,
///   trigger key), also under concurrent calls; with `max_pending`, it refuses (`Full`) while
///   the tenant has that many unfinished runs;
/// - [`claim_runs`](Self::claim_runs) hands each due run (queued or waiting with `due_at` ≤ now,
///   or running with a lapsed lease) to one claimer at a time, oldest due first, and never more
///   runs of a tenant or an automation than the request's limits allow among live leases;
/// - [`save_step`](Self::save_step), [`renew_run_lease`](Self::renew_run_lease) and
///   [`release_run`](Self::release_run) fail with a `Conflict` error when the lease's token is
///   no longer the run's (the run was taken over, or released);
/// - a run is visible only to its tenant.
#[async_trait]
pub trait AutomationStore: Send + Sync + fmt::Debug {
    /// Adds a run unless one with its trigger key exists, or the tenant has `max_pending`
    /// unfinished runs.
    async fn enqueue_run(&self, run: &NewAutomationRun, max_pending: Option<u64>) -> Result<Enqueued>;

    /// Takes up to `request.limit` due runs under a lease.
    async fn claim_runs(&self, request: &ClaimRequest) -> Result<Vec<ClaimedRun>>;

    /// Extends a held lease by `ttl` from now.
    async fn renew_run_lease(&self, lease: &RunLease, ttl: Duration) -> Result<RunLease>;

    /// Saves a step's record (inserted, or replaced by its path) under a held lease.
    async fn save_step(&self, lease: &RunLease, step: &StepRecord) -> Result<()>;

    /// Lets go of a held run: parked until a time, or finished.
    async fn release_run(&self, lease: &RunLease, release: RunRelease) -> Result<()>;

    /// A run of `tenant`'s.
    async fn automation_run(&self, tenant: &TenantId, id: AutomationRunId) -> Result<Option<AutomationRun>>;

    /// A run's steps, in the order they were first saved.
    async fn automation_steps(&self, tenant: &TenantId, id: AutomationRunId) -> Result<Vec<StepRecord>>;

    /// `tenant`'s runs, newest first.
    async fn list_automation_runs(&self, tenant: &TenantId, query: &AutomationRunQuery) -> Result<Vec<AutomationRun>>;
}
