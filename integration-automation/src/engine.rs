//! The engine: matches triggers to automations, enqueues runs, and executes them durably.
//!
//! Guarantees, over any [`AutomationStore`] (memory, SQLite, PostgreSQL):
//! - one run per trigger: the trigger key (a change's cursor, a delivery's event, a schedule's
//!   fire time, the host's key) deduplicates, so a redelivered or replayed trigger runs nothing
//!   twice;
//! - a step's start is saved before the action is called, and its result before the next step
//!   begins; a run taken over after a crash skips the steps that succeeded and repeats the one
//!   that was in flight with the same idempotency key (`<run id>:<step path>`);
//! - one worker at a time per run (a lease with a fencing token, renewed while a step runs);
//! - a retryable error (timeout, 5xx, 429) parks the run for the backoff — no worker waits — and
//!   the step runs again, up to its attempts; a final error runs the `on_failure` steps and ends
//!   the run failed;
//! - backpressure: at most `max_pending` unfinished runs per tenant (further triggers are
//!   refused with a `RateLimited` error and not lost: the change feed keeps its place), and a
//!   worker holds at most its concurrency in runs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use integration_core::clock::{Clock, SystemClock};
use integration_core::store::{
    AutomationRunStatus, AutomationStore, Change, ChangeCursor, ClaimRequest, ClaimedRun, Enqueued, NewAutomationRun,
    RecordStore, RunLease, RunRelease, StateStore, StepRecord, StepStatus, StreamScope,
};
use integration_core::{
    AutomationRunId, Checkpoint, ConnectionId, Error, ErrorKind, IntegrationEvent, Result, TenantId,
};
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

use crate::action::{ActionCall, Actions};
use crate::definition::{Automation, Step, StepKind, Trigger};
use crate::expression::{Expression, Scope};
use crate::run_log::for_log;

/// The connection id under which the change feed keeps its place in the [`StateStore`].
pub const FEED_CONNECTION: &str = "automation";
/// The stream name under which the change feed keeps its place.
pub const FEED_STREAM: &str = "change-feed";

/// Engine-wide limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// At most this many runs of one tenant at once, across workers (default none).
    pub per_tenant: Option<u32>,
    /// At most this many unfinished runs per tenant; further triggers are refused until some
    /// finish (default 100,000).
    pub max_pending: Option<u64>,
    /// The lease a worker holds on a run; renewed while a step runs (default 60 s).
    pub lease: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { per_tenant: None, max_pending: Some(100_000), lease: Duration::from_secs(60) }
    }
}

impl Limits {
    /// At most `limit` runs of one tenant at once.
    pub fn per_tenant(mut self, limit: u32) -> Self {
        self.per_tenant = Some(limit);
        self
    }

    /// At most `limit` unfinished runs per tenant.
    pub fn max_pending(mut self, limit: u64) -> Self {
        self.max_pending = Some(limit);
        self
    }

    /// Leases of `lease`.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }
}

/// Automations, their actions and their store. Clones share everything.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn AutomationStore>,
    actions: Actions,
    automations: BTreeMap<String, Arc<Automation>>,
    clock: Arc<dyn Clock>,
    limits: Limits,
}

/// A triggered automation: which one, and what the store did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triggered {
    /// The automation's id.
    pub automation: String,
    /// Created, or a duplicate of an earlier trigger.
    pub enqueued: Enqueued,
}

impl Engine {
    /// An engine with no automations yet.
    pub fn new(store: Arc<dyn AutomationStore>, actions: Actions) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                actions,
                automations: BTreeMap::new(),
                clock: Arc::new(SystemClock),
                limits: Limits::default(),
            }),
        }
    }

    fn inner_mut(&mut self) -> &mut Inner {
        Arc::get_mut(&mut self.inner).unwrap_or_else(|| unreachable!("configured before being shared"))
    }

    /// Adds `automation`, checked against the engine's actions; an id already used is a
    /// `Config` error.
    pub fn with_automation(mut self, automation: Automation) -> Result<Self> {
        automation.validate(&self.inner.actions)?;
        if Arc::strong_count(&self.inner) > 1 {
            return Err(Error::config("add automations before cloning the engine or starting workers"));
        }
        let inner = self.inner_mut();
        if inner.automations.contains_key(&automation.id) {
            return Err(Error::config(format!("an automation with id {:?} is already added", automation.id)));
        }
        inner.automations.insert(automation.id.clone(), Arc::new(automation));
        Ok(self)
    }

    /// Uses `clock` for due times, delays and backoffs (a `ManualClock` in tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        if Arc::strong_count(&self.inner) == 1 {
            self.inner_mut().clock = clock;
        }
        self
    }

    /// Sets the engine's limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        if Arc::strong_count(&self.inner) == 1 {
            self.inner_mut().limits = limits;
        }
        self
    }

    /// The automation with `id`.
    pub fn automation(&self, id: &str) -> Option<&Automation> {
        self.inner.automations.get(id).map(|a| &**a)
    }

    /// The automation with `id`, or a `NotFound` error naming it.
    fn find(&self, id: &str) -> Result<&Arc<Automation>> {
        self.inner.automations.get(id).ok_or_else(|| Error::not_found(format!("no automation with id {id:?}")))
    }

    /// The store runs are kept in.
    pub fn store(&self) -> &Arc<dyn AutomationStore> {
        &self.inner.store
    }

    /// A worker named `holder` (unique per process and machine) that executes runs.
    pub fn worker(&self, holder: impl Into<String>) -> Worker {
        Worker { engine: self.clone(), holder: holder.into(), concurrency: 16, poll: Duration::from_millis(500) }
    }

    // ---- triggers ------------------------------------------------------------------------

    /// Starts `automation` for `tenant` with `data`, once per `key`, if its conditions hold.
    /// Returns `None` when they do not.
    pub async fn trigger(
        &self,
        tenant: &TenantId,
        automation: &str,
        key: &str,
        data: Value,
    ) -> Result<Option<Enqueued>> {
        let found = self.find(automation)?;
        let data = Arc::new(data);
        if !conditions_hold(found, tenant, &data)? {
            return Ok(None);
        }
        self.enqueue(tenant, found, format!("manual:{key}"), data).await.map(Some)
    }

    /// Starts the automations a record change triggers.
    pub async fn on_change(&self, change: &Change) -> Result<Vec<Triggered>> {
        let mut data = Map::new();
        data.insert("trigger".into(), "record_change".into());
        data.insert("change".into(), change.kind.as_str().into());
        data.insert("stream".into(), change.scope.stream.clone().into());
        data.insert("connection".into(), change.scope.connection.as_str().into());
        data.insert("remote_id".into(), change.remote_id.clone().into());
        data.insert("record".into(), change.data.clone());
        if let Some(previous) = &change.previous {
            data.insert("previous".into(), previous.clone());
        }
        data.insert("at".into(), change.at.to_rfc3339().into());
        let data = Arc::new(Value::Object(data));
        let matching = self.inner.automations.values().filter(|a| match &a.trigger {
            Trigger::RecordChange { stream, changes, connection } => {
                *stream == change.scope.stream
                    && (changes.is_empty() || changes.contains(&change.kind))
                    && connection.as_deref().is_none_or(|c| c == change.scope.connection.as_str())
            }
            _ => false,
        });
        let key = format!("change:{}", change.cursor);
        self.enqueue_matching(&change.scope.tenant, matching, &key, &data).await
    }

    /// Starts the automations a provider event triggers; `key` identifies the event (a
    /// delivery id and the event's index in it).
    pub async fn on_event(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        event: &IntegrationEvent,
        key: &str,
    ) -> Result<Vec<Triggered>> {
        let data = Arc::new(json!({
            "trigger": "event",
            "event": event.kind,
            "connection": connection.as_str(),
            "payload": event.payload,
            "occurred_at": event.occurred_at.map(|t| t.to_rfc3339()),
        }));
        let matching = self.inner.automations.values().filter(|a| match &a.trigger {
            Trigger::Event { kind, connection: only } => {
                *kind == event.kind && only.as_deref().is_none_or(|c| c == connection.as_str())
            }
            _ => false,
        });
        self.enqueue_matching(tenant, matching, &format!("event:{key}"), &data).await
    }

    /// Starts the automations a notification triggers (their trigger is the event
    /// `notification.<kind>`); `episode` is the notification's unique key. See
    /// [`NotifyAutomations`](crate::notifications::NotifyAutomations).
    pub async fn on_notification(
        &self,
        tenant: &TenantId,
        connection: Option<&ConnectionId>,
        event: &IntegrationEvent,
        episode: &str,
    ) -> Result<Vec<Triggered>> {
        let data = Arc::new(json!({
            "trigger": "notification",
            "event": event.kind,
            "connection": connection.map(ConnectionId::as_str),
            "payload": event.payload,
        }));
        let matching = self.inner.automations.values().filter(|a| match &a.trigger {
            Trigger::Event { kind, connection: only } => {
                *kind == event.kind
                    && only.as_deref().is_none_or(|c| connection.is_some_and(|given| given.as_str() == c))
            }
            _ => false,
        });
        self.enqueue_matching(tenant, matching, &format!("notification:{episode}"), &data).await
    }

    /// Starts the scheduled automations whose schedule fires in `(from, to]`, for each of
    /// `tenants` (at most 1,000 fire times per automation per call).
    pub async fn on_schedule(
        &self,
        tenants: &[TenantId],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Triggered>> {
        let mut out = Vec::new();
        for automation in self.inner.automations.values() {
            let Trigger::Schedule { cron, timezone } = &automation.trigger else { continue };
            for at in cron.between(from, to, *timezone, 1000) {
                let data = Arc::new(json!({ "trigger": "schedule", "scheduled_at": at.to_rfc3339() }));
                for tenant in tenants {
                    if conditions_hold(automation, tenant, &data)? {
                        let key = format!("schedule:{}", at.to_rfc3339());
                        let enqueued = self.enqueue(tenant, automation, key, data.clone()).await?;
                        out.push(Triggered { automation: automation.id.clone(), enqueued });
                    }
                }
            }
        }
        Ok(out)
    }

    /// Reads `tenant`'s change stream from where it last stopped and triggers on each change,
    /// keeping its place in `state` after each batch. Returns how many changes it read.
    ///
    /// A crash between enqueueing and keeping the place re-reads some changes; their runs are
    /// deduplicated by the change's cursor. When the tenant's pending runs are at the limit it
    /// keeps its place before the refused change and returns the `RateLimited` error.
    pub async fn follow_changes(
        &self,
        records: &dyn RecordStore,
        state: &dyn StateStore,
        tenant: &TenantId,
    ) -> Result<usize> {
        let scope = StreamScope::new(tenant.clone(), ConnectionId::new(FEED_CONNECTION)?, FEED_STREAM);
        let mut cursor = state
            .checkpoint(&scope)
            .await?
            .and_then(|c| c.checkpoint.as_value()["cursor"].as_str().map(ChangeCursor::new));
        let mut read = 0;
        loop {
            let batch = records.changes_since(tenant, cursor.as_ref(), 500).await?;
            if batch.changes.is_empty() {
                return Ok(read);
            }
            for change in &batch.changes {
                if let Err(e) = self.on_change(change).await {
                    if let Some(done) = cursor.as_ref() {
                        state.put_checkpoint(&scope, &Checkpoint::new(json!({ "cursor": done })), None).await?;
                    }
                    return Err(e);
                }
                cursor = Some(change.cursor.clone());
                read += 1;
            }
            cursor = Some(batch.next.clone());
            state.put_checkpoint(&scope, &Checkpoint::new(json!({ "cursor": batch.next })), None).await?;
        }
    }

    async fn enqueue_matching(
        &self,
        tenant: &TenantId,
        matching: impl Iterator<Item = &Arc<Automation>>,
        key: &str,
        data: &Arc<Value>,
    ) -> Result<Vec<Triggered>> {
        let mut out = Vec::new();
        for automation in matching {
            if conditions_hold(automation, tenant, data)? {
                let enqueued = self.enqueue(tenant, automation, key.to_owned(), data.clone()).await?;
                out.push(Triggered { automation: automation.id.clone(), enqueued });
            }
        }
        Ok(out)
    }

    async fn enqueue(
        &self,
        tenant: &TenantId,
        automation: &Automation,
        key: String,
        data: Arc<Value>,
    ) -> Result<Enqueued> {
        let data = Arc::try_unwrap(data).unwrap_or_else(|shared| (*shared).clone());
        let run = NewAutomationRun::new(tenant.clone(), automation.id.clone(), key, data);
        match self.inner.store.enqueue_run(&run, self.inner.limits.max_pending).await? {
            Enqueued::Full { pending } => Err(Error::new(
                ErrorKind::RateLimited,
                format!(
                    "tenant {tenant} has {pending} automation runs waiting, the most allowed; the trigger was not accepted — try again once workers catch up"
                ),
            )
            .with_retry_after(Duration::from_secs(1))),
            enqueued => Ok(enqueued),
        }
    }

    // ---- dry run -------------------------------------------------------------------------

    /// What `automation` would do for `tenant` given trigger `data` — which conditions hold,
    /// which steps would run with which inputs — without calling anything or saving anything.
    pub fn dry_run(&self, automation: &str, tenant: &TenantId, data: Value) -> Result<DryRun> {
        let found = self.find(automation)?;
        let data = Arc::new(data);
        if let Some(unmet) = first_unmet(found, tenant, &data)? {
            return Ok(DryRun { matched: false, unmet: Some(unmet.source().to_owned()), steps: Vec::new() });
        }
        let scope = scope_for(&data, tenant, &Map::new(), None);
        let mut steps = Vec::new();
        self.plan(&found.steps, "", &scope, &mut steps);
        Ok(DryRun { matched: true, unmet: None, steps })
    }

    fn plan(&self, steps: &[Step], prefix: &str, scope: &Scope, out: &mut Vec<PlannedStep>) {
        for (i, step) in steps.iter().enumerate() {
            let path = format!("{prefix}{i}");
            match &step.kind {
                StepKind::Action { action, input, .. } => {
                    let schema = self.inner.actions.schema_of(action);
                    let secrets: Vec<&str> = schema.map(|s| s.secret_fields().collect()).unwrap_or_default();
                    let (input, note) = match input.render(scope) {
                        Ok(rendered) => {
                            let problem = schema.and_then(|s| s.check(&rendered, "input").err());
                            (Some(for_log(&rendered, &secrets)), problem.map(|e| format!("would fail: {e}")))
                        }
                        Err(e) => (None, Some(format!("would fail: {e}"))),
                    };
                    out.push(PlannedStep { step: path, action: action.clone(), input, note });
                }
                StepKind::Delay(d) => out.push(PlannedStep {
                    step: path,
                    action: "delay".into(),
                    input: None,
                    note: Some(format!("waits {}", humantime::format_duration(*d))),
                }),
                StepKind::Branch { condition, then, otherwise } => {
                    let (taken, note) = match condition.is_true(scope) {
                        Ok(true) => (Some((then, "then")), format!("{} holds: then", condition.source())),
                        Ok(false) => (Some((otherwise, "else")), format!("{} does not hold: else", condition.source())),
                        Err(e) => (None, format!("would fail: {e}")),
                    };
                    out.push(PlannedStep {
                        step: path.clone(),
                        action: "branch".into(),
                        input: None,
                        note: Some(note),
                    });
                    if let Some((list, name)) = taken {
                        self.plan(list, &format!("{path}.{name}."), scope, out);
                    }
                }
            }
        }
    }
}

/// What a dry run found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct DryRun {
    /// Whether every condition holds.
    pub matched: bool,
    /// The first condition that does not.
    pub unmet: Option<String>,
    /// The steps that would run, in order (branches followed as they would be taken).
    pub steps: Vec<PlannedStep>,
}

/// One step a dry run would take.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PlannedStep {
    /// The step's path.
    pub step: String,
    /// The action, `"delay"` or `"branch"`.
    pub action: String,
    /// The rendered input (redacted as in the run log). Earlier steps' outputs are unknown in a
    /// dry run and read as undefined.
    pub input: Option<Value>,
    /// Why the step would fail, how long a delay waits, or which way a branch goes.
    pub note: Option<String>,
}

fn conditions_hold(automation: &Automation, tenant: &TenantId, data: &Arc<Value>) -> Result<bool> {
    Ok(first_unmet(automation, tenant, data)?.is_none())
}

/// The first of `automation`'s conditions that does not hold for `data`.
fn first_unmet<'a>(automation: &'a Automation, tenant: &TenantId, data: &Arc<Value>) -> Result<Option<&'a Expression>> {
    if automation.when.is_empty() {
        return Ok(None);
    }
    let scope = Scope::with_extras(data.clone(), vec![("tenant", Value::String(tenant.as_str().to_owned()))]);
    for condition in &automation.when {
        if !condition.is_true(&scope)? {
            return Ok(Some(condition));
        }
    }
    Ok(None)
}

fn scope_for(data: &Arc<Value>, tenant: &TenantId, outputs: &Map<String, Value>, error: Option<&str>) -> Scope {
    let mut extras =
        vec![("tenant", Value::String(tenant.as_str().to_owned())), ("steps", Value::Object(outputs.clone()))];
    if let Some(error) = error {
        extras.push(("error", Value::String(error.to_owned())));
    }
    Scope::with_extras(data.clone(), extras)
}

// ---- execution ---------------------------------------------------------------------------

/// Executes runs: claims due runs from the store and advances each until it finishes or waits.
#[derive(Debug, Clone)]
pub struct Worker {
    engine: Engine,
    holder: String,
    concurrency: usize,
    poll: Duration,
}

/// What a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerReport {
    /// Runs taken from the store.
    pub claimed: u64,
    /// Runs that finished, succeeded.
    pub succeeded: u64,
    /// Runs that finished, failed.
    pub failed: u64,
    /// Runs parked (a delay, a retry's backoff).
    pub parked: u64,
    /// Runs abandoned because the store failed or the lease was lost; another worker resumes
    /// them once the lease lapses.
    pub abandoned: u64,
}

impl WorkerReport {
    fn add(&mut self, other: WorkerReport) {
        self.claimed += other.claimed;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.parked += other.parked;
        self.abandoned += other.abandoned;
    }
}

/// What a worker's lanes share: whether a lane found nothing due since the last claim, and the
/// signal that wakes an idle lane.
#[derive(Debug, Default)]
struct Lanes {
    drained: AtomicBool,
    wake: tokio::sync::Notify,
}

/// How a run's execution ended for this worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Succeeded,
    Failed,
    Parked,
}

impl Worker {
    /// At most `runs` runs at once (default 16).
    pub fn concurrency(mut self, runs: usize) -> Self {
        self.concurrency = runs.max(1);
        self
    }

    /// How long [`run`](Self::run) waits when nothing is due (default 500 ms).
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll = every;
        self
    }

    /// Executes due runs until none is due and none is in flight.
    pub async fn run_until_idle(&self) -> Result<WorkerReport> {
        self.run_lanes(None).await
    }

    /// Executes runs until `cancel` fires, polling the store when nothing is due. Runs in
    /// flight when it fires are finished first.
    pub async fn run(&self, cancel: integration_core::CancellationToken) -> Result<WorkerReport> {
        self.run_lanes(Some(cancel)).await
    }

    /// `concurrency` lanes, each claiming and executing one run after another, so a finished
    /// run hands its lane straight to the next one with no coordinator to wake in between.
    ///
    /// Until idle (`cancel` is `None`), a lane that finds nothing due stops; a lane about to look
    /// for its first run stops too once another found nothing, while lanes that just finished a
    /// run (and so freed capacity under the limits) look again. Otherwise idle lanes take
    /// turns polling — each every `poll × concurrency`, staggered, so the store sees one claim
    /// per `poll` — and a lane that claims a run wakes an idle one, which claims in turn while
    /// runs are due.
    async fn run_lanes(&self, cancel: Option<integration_core::CancellationToken>) -> Result<WorkerReport> {
        let shared = Arc::new(Lanes::default());
        let mut lanes = JoinSet::new();
        for lane in 0..self.concurrency {
            let (worker, cancel, shared) = (self.clone(), cancel.clone(), shared.clone());
            lanes.spawn(async move { worker.lane(lane, &shared, cancel).await });
        }
        let (mut report, mut failure) = (WorkerReport::default(), None);
        while let Some(joined) = lanes.join_next().await {
            match joined {
                Ok((lane, error)) => {
                    report.add(lane);
                    failure = failure.or(error);
                }
                Err(e) => tracing::error!(error = %e, "an automation worker lane stopped"),
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// One lane: what it did, and the store error that stopped it (until idle only).
    async fn lane(
        &self,
        index: usize,
        shared: &Lanes,
        cancel: Option<integration_core::CancellationToken>,
    ) -> (WorkerReport, Option<Error>) {
        use futures_util::FutureExt;
        let mut report = WorkerReport::default();
        let turn = self.poll.saturating_mul(u32::try_from(self.concurrency).unwrap_or(u32::MAX));
        let stagger = self.poll.saturating_mul(u32::try_from(index).unwrap_or(u32::MAX));
        let mut next_poll = tokio::time::Instant::now() + stagger;
        let mut should_claim = index == 0 || cancel.is_none();
        loop {
            if cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
                return (report, None);
            }
            if let (false, Some(cancel)) = (should_claim, &cancel) {
                tokio::select! {
                    () = cancel.cancelled() => return (report, None),
                    () = shared.wake.notified() => {}
                    () = tokio::time::sleep_until(next_poll) => next_poll += turn,
                }
                should_claim = true;
                continue;
            }
            let claimed = match &cancel {
                // A lane that has finished a run looks again (it freed capacity under the
                // limits); one that has not, stops once another found nothing.
                None if report.claimed == 0 && shared.drained.load(Ordering::SeqCst) => return (report, None),
                None => match self.claim().await {
                    Ok(claimed) => claimed,
                    Err(e) => return (report, Some(e)),
                },
                Some(_) => self.claim().await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "could not claim automation runs; polling again");
                    None
                }),
            };
            let Some(run) = claimed else {
                shared.drained.store(true, Ordering::SeqCst);
                if cancel.is_none() {
                    return (report, None);
                }
                let now = tokio::time::Instant::now();
                if next_poll <= now {
                    next_poll = now + turn;
                }
                should_claim = false;
                continue;
            };
            shared.drained.store(false, Ordering::SeqCst);
            // More may be due: let an idle lane look.
            shared.wake.notify_one();
            report.claimed += 1;
            // A panicking action abandons its run (the lease lapses and another worker resumes
            // it), not the lane.
            let outcome = std::panic::AssertUnwindSafe(self.execute(run)).catch_unwind().await;
            tally(&mut report, outcome.map_err(|_| ()));
        }
    }

    /// Claims the next due run within the limits, if any.
    async fn claim(&self) -> Result<Option<ClaimedRun>> {
        let inner = &self.engine.inner;
        let mut request = ClaimRequest::new(self.holder.clone(), 1, inner.limits.lease);
        if let Some(limit) = inner.limits.per_tenant {
            request = request.per_tenant(limit);
        }
        for automation in inner.automations.values() {
            if let Some(limit) = automation.concurrency {
                request = request.per_automation(automation.id.clone(), limit);
            }
        }
        Ok(inner.store.claim_runs(&request).await?.into_iter().next())
    }

    /// Advances one claimed run until it finishes or waits, then lets go of it.
    async fn execute(&self, claimed: ClaimedRun) -> Result<Ended> {
        let inner = &self.engine.inner;
        let Some(automation) = inner.automations.get(&claimed.run.automation).cloned() else {
            let error = format!("automation {:?} is not defined in this engine", claimed.run.automation);
            let release = RunRelease::Finish { status: AutomationRunStatus::Failed, error: Some(error) };
            inner.store.release_run(&claimed.lease, release).await?;
            integration_core::telemetry::automation_run(AutomationRunStatus::Failed.as_str());
            return Ok(Ended::Failed);
        };
        let mut run = Execution::new(self.engine.clone(), claimed);
        let release = match run.walk(&automation.steps, "").await {
            Ok(Flow::Done) => RunRelease::Finish { status: AutomationRunStatus::Succeeded, error: None },
            Ok(Flow::Park(until)) => RunRelease::Wait { until },
            Err(Stop::Store(e)) => return Err(e),
            Err(Stop::Failed(error)) => {
                run.error = Some(error.clone());
                match run.walk(&automation.on_failure, "on_failure.").await {
                    Ok(Flow::Park(until)) => RunRelease::Wait { until },
                    Ok(Flow::Done) | Err(Stop::Failed(_)) => {
                        RunRelease::Finish { status: AutomationRunStatus::Failed, error: Some(error) }
                    }
                    Err(Stop::Store(e)) => return Err(e),
                }
            }
        };
        let ended = match &release {
            RunRelease::Wait { .. } => Ended::Parked,
            RunRelease::Finish { status: AutomationRunStatus::Succeeded, .. } => Ended::Succeeded,
            RunRelease::Finish { .. } => Ended::Failed,
        };
        let status = match &release {
            RunRelease::Finish { status, .. } => Some(*status),
            _ => None,
        };
        inner.store.release_run(&run.lease, release).await?;
        if let Some(status) = status {
            integration_core::telemetry::automation_run(status.as_str());
        }
        Ok(ended)
    }
}

fn tally(report: &mut WorkerReport, outcome: std::result::Result<Result<Ended>, ()>) {
    match outcome {
        Ok(Ok(Ended::Succeeded)) => report.succeeded += 1,
        Ok(Ok(Ended::Failed)) => report.failed += 1,
        Ok(Ok(Ended::Parked)) => report.parked += 1,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "abandoned an automation run; another worker resumes it when the lease lapses");
            report.abandoned += 1;
        }
        Err(()) => {
            tracing::error!("an automation run's action panicked; another worker resumes it when the lease lapses");
            report.abandoned += 1;
        }
    }
}

/// Where a walk over steps stopped.
enum Flow {
    /// Every step is done.
    Done,
    /// The run waits until then.
    Park(DateTime<Utc>),
}

/// Why a walk stopped early.
enum Stop {
    /// A step failed for good.
    Failed(String),
    /// The store refused a write (or the lease is lost): abandon the run without releasing it.
    Store(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Self::Store(e)
    }
}

/// One run being advanced by one worker.
struct Execution {
    engine: Engine,
    lease: RunLease,
    run_id: AutomationRunId,
    tenant: TenantId,
    data: Arc<Value>,
    records: BTreeMap<String, StepRecord>,
    outputs: Map<String, Value>,
    error: Option<String>,
}

impl Execution {
    fn new(engine: Engine, claimed: ClaimedRun) -> Self {
        let records = claimed.steps.into_iter().map(|s| (s.step.clone(), s)).collect();
        Self {
            engine,
            run_id: claimed.run.id,
            tenant: claimed.run.tenant.clone(),
            data: Arc::new(claimed.run.trigger),
            lease: claimed.lease,
            records,
            outputs: Map::new(),
            error: None,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.engine.inner.clock.now()
    }

    fn scope(&self) -> Scope {
        scope_for(&self.data, &self.tenant, &self.outputs, self.error.as_deref())
    }

    async fn save(&mut self, record: StepRecord) -> Result<()> {
        self.engine.inner.store.save_step(&self.lease, &record).await?;
        self.records.insert(record.step.clone(), record);
        Ok(())
    }

    fn remember(&mut self, step: &Step, output: Option<&Value>) {
        if let Some(id) = &step.id {
            self.outputs.insert(id.clone(), output.cloned().unwrap_or(Value::Null));
        }
    }

    fn walk<'a>(
        &'a mut self,
        steps: &'a [Step],
        prefix: &'a str,
    ) -> std::pin::Pin<Box<dyn Future<Output = std::result::Result<Flow, Stop>> + Send + 'a>> {
        Box::pin(async move {
            for (i, step) in steps.iter().enumerate() {
                let path = format!("{prefix}{i}");
                let flow = match &step.kind {
                    StepKind::Action { action, input, .. } => self.action(step, &path, action, input).await?,
                    StepKind::Delay(wait) => self.delay(&path, *wait).await?,
                    StepKind::Branch { condition, then, otherwise } => {
                        let taken = match self.records.get(&path) {
                            Some(r) if r.status == StepStatus::Succeeded => {
                                r.output.as_ref().and_then(|o| o["branch"].as_str()) == Some("then")
                            }
                            _ => {
                                let holds = condition
                                    .is_true(&self.scope())
                                    .map_err(|e| Stop::Failed(format!("step {path} (branch): {e}")))?;
                                let mut record = StepRecord::started(
                                    path.clone(),
                                    "branch",
                                    self.key(&path),
                                    json!({ "if": condition.source() }),
                                    self.now(),
                                );
                                record.status = StepStatus::Succeeded;
                                record.output = Some(json!({ "branch": if holds { "then" } else { "else" } }));
                                record.completed_at = Some(self.now());
                                self.save(record).await?;
                                holds
                            }
                        };
                        let (list, name) = if taken { (then, "then") } else { (otherwise, "else") };
                        self.walk(list, &format!("{path}.{name}.")).await?
                    }
                };
                if let Flow::Park(until) = flow {
                    return Ok(Flow::Park(until));
                }
            }
            Ok(Flow::Done)
        })
    }

    fn key(&self, path: &str) -> String {
        format!("{}:{path}", self.run_id)
    }

    async fn delay(&mut self, path: &str, wait: Duration) -> std::result::Result<Flow, Stop> {
        let now = self.now();
        let until = match self.records.get(path) {
            Some(r) if r.status == StepStatus::Succeeded => return Ok(Flow::Done),
            Some(r) => r
                .output
                .as_ref()
                .and_then(|o| o["until"].as_str())
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now),
            None => {
                let until = integration_core::clock::expiry_after(now, wait);
                let mut record = StepRecord::started(
                    path,
                    "delay",
                    self.key(path),
                    json!({ "delay": humantime::format_duration(wait).to_string() }),
                    now,
                );
                record.output = Some(json!({ "until": until.to_rfc3339() }));
                self.save(record).await?;
                until
            }
        };
        if now < until {
            return Ok(Flow::Park(until));
        }
        if let Some(mut record) = self.records.get(path).cloned() {
            record.status = StepStatus::Succeeded;
            record.completed_at = Some(now);
            self.save(record).await?;
        }
        Ok(Flow::Done)
    }

    async fn action(
        &mut self,
        step: &Step,
        path: &str,
        action: &str,
        input: &crate::template::Template,
    ) -> std::result::Result<Flow, Stop> {
        let previous = self.records.get(path).cloned();
        if let Some(record) = &previous {
            match record.status {
                StepStatus::Succeeded => {
                    self.remember(step, record.output.as_ref());
                    return Ok(Flow::Done);
                }
                StepStatus::Failed => {
                    return Err(Stop::Failed(record.error.clone().unwrap_or_else(|| format!("step {path} failed"))));
                }
                StepStatus::Started | StepStatus::Retrying => {}
            }
        }
        let attempt = previous.as_ref().map_or(0, |r| r.attempts) + 1;
        let now = self.now();
        let started_at = previous.as_ref().map_or(now, |r| r.started_at);
        let key = self.key(path);
        if attempt > step.retry.max_attempts {
            let error = format!(
                "step {path} ({action}) gave up after {} attempts; the last one did not report back (its worker stopped)",
                step.retry.max_attempts
            );
            return self.fail(path, action, &key, Value::Null, started_at, step.retry.max_attempts, error).await;
        }
        let inner = self.engine.inner.clone();
        let (schema, handler) = match (inner.actions.schema_of(action), inner.actions.get(action)) {
            (Some(schema), Some(handler)) => (schema, handler.clone()),
            _ => {
                let error = format!("step {path}: no action named {action:?} is registered");
                return self.fail(path, action, &key, Value::Null, started_at, attempt, error).await;
            }
        };
        let secrets: Vec<&str> = schema.secret_fields().collect();
        let rendered = match input.render(&self.scope()).and_then(|v| schema.check(&v, "input").map(|()| v)) {
            Ok(v) => v,
            Err(e) => {
                let error = format!("step {path} ({action}): {e}");
                return self.fail(path, action, &key, Value::Null, started_at, attempt, error).await;
            }
        };
        let logged_input = for_log(&rendered, &secrets);
        let mut record = StepRecord::started(path, action, key.clone(), logged_input, started_at);
        record.attempts = attempt;
        self.save(record.clone()).await?;

        let mut call = ActionCall::new(self.tenant.clone(), self.run_id, path, rendered);
        call.idempotency_key = key;
        call.attempt = attempt;
        let outcome = self.call_with_heartbeat(handler.run(call), step.timeout, action).await?;
        let now = self.now();
        record.completed_at = Some(now);
        match outcome {
            Ok(output) => {
                let logged = for_log(&output, &[]);
                record.status = StepStatus::Succeeded;
                record.output = Some(logged.clone());
                record.error = None;
                self.save(record).await?;
                self.remember(step, Some(&logged));
                Ok(Flow::Done)
            }
            Err(e) if e.is_retryable() && attempt < step.retry.max_attempts => {
                let wait = e.retry_after().unwrap_or_else(|| {
                    integration_core::backoff::delay(step.retry.backoff, step.retry.max_backoff, attempt)
                });
                record.status = StepStatus::Retrying;
                record.error = Some(e.to_string());
                self.save(record).await?;
                tracing::info!(run = %self.run_id, step = path, action, attempt, wait_ms = wait.as_millis() as u64, error = %e, "step failed; retrying later");
                Ok(Flow::Park(integration_core::clock::expiry_after(now, wait)))
            }
            Err(e) => {
                let error = format!("step {path} ({action}) failed after {attempt} attempt(s): {e}");
                record.status = StepStatus::Failed;
                record.error = Some(error.clone());
                self.save(record).await?;
                Err(Stop::Failed(error))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn fail(
        &mut self,
        path: &str,
        action: &str,
        key: &str,
        input: Value,
        started_at: DateTime<Utc>,
        attempts: u32,
        error: String,
    ) -> std::result::Result<Flow, Stop> {
        let mut record = StepRecord::started(path, action, key, input, started_at);
        record.status = StepStatus::Failed;
        record.attempts = attempts;
        record.error = Some(error.clone());
        record.completed_at = Some(self.now());
        self.save(record).await?;
        Err(Stop::Failed(error))
    }

    /// Runs an action under its timeout, renewing the run's lease meanwhile. The outer error is
    /// a lost lease; the inner one the action's.
    async fn call_with_heartbeat(
        &mut self,
        call: impl Future<Output = Result<Value>>,
        timeout: Duration,
        action: &str,
    ) -> Result<Result<Value>> {
        let inner = self.engine.inner.clone();
        let ttl = inner.limits.lease;
        let call = tokio::time::timeout(timeout, call);
        tokio::pin!(call);
        // The first beat is one period away: an interval's immediate first tick would still wait
        // for the timer driver's next millisecond, a wait every run would pay.
        let period = (ttl / 3).max(Duration::from_millis(10));
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                done = &mut call => {
                    return Ok(done.unwrap_or_else(|_| Err(Error::new(
                        ErrorKind::Transient,
                        format!("{action} did not finish within {timeout:?}"),
                    ).with_delivery(integration_core::Delivery::MaybeSent))));
                }
                _ = beat.tick() => {
                    self.lease = inner.store.renew_run_lease(&self.lease, ttl).await?;
                }
            }
        }
    }
}
