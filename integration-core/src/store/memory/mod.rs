//! [`MemoryStore`]: every store trait, in process memory.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    AuditEvent, AuditSink, AutomationRun, AutomationRunQuery, AutomationRunStatus, AutomationStore, Claim,
    ClaimRequest, ClaimToken, ClaimedRun, ConfigStore, Enqueued, IdempotencyStore, Lease, NewAutomationRun, RunLease,
    RunQuery, RunRelease, StateStore, StepRecord, StoredCheckpoint, StoredConfig, StoredToken, StreamScope, SyncRun,
    TokenStore, refusal,
};
use crate::clock::{Clock, SystemClock, expiry};
use crate::config::ConnectionStatus;
use crate::crypto::SealedBox;
use crate::error::{Error, Result};
use crate::ids::{AutomationRunId, ConnectionId, RunId, TenantId};
use crate::integration::Checkpoint;

mod deliveries;
mod records;

use deliveries::Deliveries;
use records::Records;

const CURSOR_PREFIX: &str = "mem:";

/// All eight store traits in memory: for tests, examples and single-process hosts that need no
/// durability. Clones share the same data.
///
/// It keeps every change in its change stream and every audit event until dropped; read the
/// audit trail back with [`MemoryStore::audit_events`].
#[derive(Debug, Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
}

#[derive(Debug, Default)]
struct State {
    configs: BTreeMap<(TenantId, ConnectionId), StoredConfig>,
    checkpoints: HashMap<StreamScope, StoredCheckpoint>,
    runs: BTreeMap<(TenantId, RunId), SyncRun>,
    leases: HashMap<(TenantId, String), Lease>,
    refresh_locks: HashMap<(TenantId, ConnectionId), Lease>,
    tokens: HashMap<(TenantId, ConnectionId), StoredToken>,
    /// By [`claim_key`]; the tenant is kept beside the state for purging.
    claims: HashMap<String, (TenantId, ClaimState)>,
    records: Records,
    audit: Vec<AuditEvent>,
    deliveries: Deliveries,
    next_token: u64,
    automation: AutomationRuns,
}

/// The automation run queue.
#[derive(Debug, Default)]
struct AutomationRuns {
    runs: HashMap<AutomationRunId, AutomationRun>,
    /// (tenant, automation, trigger key) to the run it created.
    by_trigger: HashMap<(TenantId, String, String), AutomationRunId>,
    /// Queued and waiting runs by due time.
    due: BTreeSet<(DateTime<Utc>, AutomationRunId)>,
    /// Runs a worker holds, with the lease.
    held: HashMap<AutomationRunId, RunLease>,
    steps: HashMap<AutomationRunId, Vec<StepRecord>>,
    /// Unfinished runs per tenant.
    pending: HashMap<TenantId, u64>,
}

#[derive(Debug, Clone)]
enum ClaimState {
    InProgress { token: u64, until: DateTime<Utc> },
    Completed { token: u64, outcome: Option<Value>, at: DateTime<Utc> },
}

impl ClaimState {
    fn token(&self) -> u64 {
        match self {
            Self::InProgress { token, .. } | Self::Completed { token, .. } => *token,
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store on `clock` (a [`ManualClock`](crate::clock::ManualClock) in tests, to
    /// expire leases and claims without sleeping).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self { state: Arc::new(Mutex::new(State::default())), clock }
    }

    /// The audit events recorded for `tenant`, oldest first.
    pub fn audit_events(&self, tenant: &TenantId) -> Vec<AuditEvent> {
        self.lock().audit.iter().filter(|e| &e.tenant == tenant).cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Changes one field of a stored configuration, bumping its revision.
    fn update_config(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        change: impl FnOnce(&mut StoredConfig),
    ) -> Result<u64> {
        let now = self.now();
        let mut state = self.lock();
        let c = state
            .configs
            .get_mut(&(tenant.clone(), connection.clone()))
            .ok_or_else(|| refusal::no_connection(tenant, connection))?;
        change(c);
        c.revision += 1;
        c.updated_at = now;
        Ok(c.revision)
    }
}

#[async_trait]
impl ConfigStore for MemoryStore {
    async fn put(&self, config: &StoredConfig) -> Result<u64> {
        let now = self.now();
        let mut state = self.lock();
        let key = (config.tenant.clone(), config.connection.clone());
        let current = state.configs.get(&key).map_or(0, |c| c.revision);
        if current != config.revision {
            return Err(refusal::stale_revision(&config.tenant, &config.connection, current, config.revision));
        }
        let mut stored = config.clone();
        stored.revision = current + 1;
        stored.updated_at = now;
        state.configs.insert(key, stored);
        Ok(current + 1)
    }

    async fn get(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Option<StoredConfig>> {
        Ok(self.lock().configs.get(&(tenant.clone(), connection.clone())).cloned())
    }

    async fn list(&self, tenant: &TenantId) -> Result<Vec<StoredConfig>> {
        Ok(self.lock().configs.iter().filter(|((t, _), _)| t == tenant).map(|(_, c)| c.clone()).collect())
    }

    async fn delete(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<bool> {
        Ok(self.lock().configs.remove(&(tenant.clone(), connection.clone())).is_some())
    }

    async fn set_status(&self, tenant: &TenantId, connection: &ConnectionId, status: ConnectionStatus) -> Result<u64> {
        self.update_config(tenant, connection, |c| c.status = status)
    }

    async fn set_last_sync_at(&self, tenant: &TenantId, connection: &ConnectionId, at: DateTime<Utc>) -> Result<u64> {
        self.update_config(tenant, connection, |c| c.last_sync_at = Some(at))
    }
}

/// Grants the lease in `slot` to `holder` unless another holder's lease there is unexpired.
#[allow(clippy::too_many_arguments)]
fn grant<K: std::hash::Hash + Eq>(
    leases: &mut HashMap<K, Lease>,
    slot: K,
    next_token: &mut u64,
    tenant: &TenantId,
    key: &str,
    holder: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Option<Lease> {
    if leases.get(&slot).is_some_and(|held| held.expires_at > now && held.holder != holder) {
        return None;
    }
    *next_token += 1;
    let lease = Lease {
        tenant: tenant.clone(),
        key: key.to_owned(),
        holder: holder.to_owned(),
        token: *next_token,
        expires_at: expiry(now, ttl),
    };
    leases.insert(slot, lease.clone());
    Some(lease)
}

#[async_trait]
impl StateStore for MemoryStore {
    async fn checkpoint(&self, scope: &StreamScope) -> Result<Option<StoredCheckpoint>> {
        Ok(self.lock().checkpoints.get(scope).cloned())
    }

    async fn put_checkpoint(&self, scope: &StreamScope, checkpoint: &Checkpoint, run: Option<RunId>) -> Result<()> {
        let now = self.now();
        self.lock()
            .checkpoints
            .insert(scope.clone(), StoredCheckpoint { checkpoint: checkpoint.clone(), run, updated_at: now });
        Ok(())
    }

    async fn clear_checkpoint(&self, scope: &StreamScope) -> Result<bool> {
        Ok(self.lock().checkpoints.remove(scope).is_some())
    }

    async fn create_run(&self, run: &SyncRun) -> Result<()> {
        let mut state = self.lock();
        let key = (run.tenant.clone(), run.id);
        if state.runs.contains_key(&key) {
            return Err(refusal::run_exists(run.id));
        }
        state.runs.insert(key, run.clone());
        Ok(())
    }

    async fn update_run(&self, run: &SyncRun) -> Result<()> {
        let mut state = self.lock();
        let slot =
            state.runs.get_mut(&(run.tenant.clone(), run.id)).ok_or_else(|| refusal::no_run(&run.tenant, run.id))?;
        *slot = run.clone();
        Ok(())
    }

    async fn run(&self, tenant: &TenantId, id: RunId) -> Result<Option<SyncRun>> {
        Ok(self.lock().runs.get(&(tenant.clone(), id)).cloned())
    }

    async fn list_runs(&self, tenant: &TenantId, query: &RunQuery) -> Result<Vec<SyncRun>> {
        let state = self.lock();
        Ok(state
            .runs
            .iter()
            .rev()
            .filter(|((t, _), run)| t == tenant && query.matches(run))
            .take(query.effective_limit())
            .map(|(_, run)| run.clone())
            .collect())
    }

    async fn acquire_lease(&self, tenant: &TenantId, key: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>> {
        let now = self.now();
        let state = &mut *self.lock();
        let slot = (tenant.clone(), key.to_owned());
        Ok(grant(&mut state.leases, slot, &mut state.next_token, tenant, key, holder, now, ttl))
    }

    async fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<Lease> {
        let now = self.now();
        let mut state = self.lock();
        match state.leases.get_mut(&(lease.tenant.clone(), lease.key.clone())) {
            Some(held) if held.token == lease.token && held.expires_at > now => {
                held.expires_at = expiry(now, ttl);
                Ok(held.clone())
            }
            _ => Err(refusal::lost_lease(lease)),
        }
    }

    async fn release_lease(&self, lease: &Lease) -> Result<bool> {
        let mut state = self.lock();
        let slot = (lease.tenant.clone(), lease.key.clone());
        if state.leases.get(&slot).is_some_and(|held| held.token == lease.token) {
            state.leases.remove(&slot);
            return Ok(true);
        }
        Ok(false)
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn token(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<Option<StoredToken>> {
        Ok(self.lock().tokens.get(&(tenant.clone(), connection.clone())).cloned())
    }

    async fn compare_and_swap(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        expected: u64,
        sealed: &SealedBox,
    ) -> Result<u64> {
        let now = self.now();
        let mut state = self.lock();
        let key = (tenant.clone(), connection.clone());
        let current = state.tokens.get(&key).map_or(0, |t| t.version);
        if current != expected {
            return Err(refusal::stale_token(connection, current, expected));
        }
        state.tokens.insert(key, StoredToken { sealed: sealed.clone(), version: current + 1, updated_at: now });
        Ok(current + 1)
    }

    async fn delete_token(&self, tenant: &TenantId, connection: &ConnectionId) -> Result<bool> {
        Ok(self.lock().tokens.remove(&(tenant.clone(), connection.clone())).is_some())
    }

    async fn acquire_refresh_lock(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>> {
        let now = self.now();
        let state = &mut *self.lock();
        let slot = (tenant.clone(), connection.clone());
        let key = format!("token-refresh/{connection}");
        Ok(grant(&mut state.refresh_locks, slot, &mut state.next_token, tenant, &key, holder, now, ttl))
    }

    async fn release_refresh_lock(&self, lease: &Lease) -> Result<bool> {
        let mut state = self.lock();
        let found = state
            .refresh_locks
            .iter()
            .find(|((t, _), held)| *t == lease.tenant && held.token == lease.token)
            .map(|(k, _)| k.clone());
        Ok(found.is_some_and(|k| state.refresh_locks.remove(&k).is_some()))
    }
}

/// One allocation per lookup: length prefixes make the key unambiguous whatever the parts
/// contain. (No `format!`: this is on the webhook hot path.)
fn composite_key(parts: &[&str]) -> String {
    let mut key = String::with_capacity(parts.iter().map(|p| p.len() + 9).sum());
    let mut digits = itoa::Buffer::new();
    for part in parts {
        key.push_str(digits.format(part.len()));
        key.push(':');
        key.push_str(part);
    }
    key
}

fn claim_key(tenant: &TenantId, namespace: &str, key: &str) -> String {
    composite_key(&[tenant.as_str(), namespace, key])
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim(&self, tenant: &TenantId, namespace: &str, key: &str, ttl: Duration) -> Result<Claim> {
        let now = self.now();
        let slot = claim_key(tenant, namespace, key);
        let mut state = self.lock();
        match state.claims.get(&slot) {
            Some((_, ClaimState::Completed { outcome, at, .. })) => {
                return Ok(Claim::Completed { outcome: outcome.clone(), at: *at });
            }
            Some((_, ClaimState::InProgress { until, .. })) if *until > now => {
                return Ok(Claim::InProgress { until: *until });
            }
            _ => {}
        }
        state.next_token += 1;
        let token = state.next_token;
        state.claims.insert(slot, (tenant.clone(), ClaimState::InProgress { token, until: expiry(now, ttl) }));
        Ok(Claim::Acquired(ClaimToken {
            tenant: tenant.clone(),
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            token,
        }))
    }

    async fn complete(&self, claim: &ClaimToken, outcome: Option<Value>) -> Result<()> {
        let now = self.now();
        let slot = claim_key(&claim.tenant, &claim.namespace, &claim.key);
        let mut state = self.lock();
        match state.claims.get_mut(&slot) {
            Some((_, c @ ClaimState::InProgress { .. })) if c.token() == claim.token => {
                *c = ClaimState::Completed { token: claim.token, outcome, at: now };
                Ok(())
            }
            Some((_, c @ ClaimState::Completed { .. })) if c.token() == claim.token => Ok(()),
            _ => Err(refusal::lapsed_claim(claim)),
        }
    }

    async fn release(&self, claim: &ClaimToken) -> Result<bool> {
        let slot = claim_key(&claim.tenant, &claim.namespace, &claim.key);
        let mut state = self.lock();
        if matches!(state.claims.get(&slot), Some((_, c @ ClaimState::InProgress { .. })) if c.token() == claim.token) {
            state.claims.remove(&slot);
            return Ok(true);
        }
        Ok(false)
    }

    async fn purge_completed(&self, tenant: &TenantId, before: DateTime<Utc>) -> Result<u64> {
        let mut state = self.lock();
        let len = state.claims.len();
        state
            .claims
            .retain(|_, (t, c)| !(t == tenant && matches!(c, ClaimState::Completed { at, .. } if *at < before)));
        Ok((len - state.claims.len()) as u64)
    }
}

impl State {
    fn commit_checkpoint(
        &mut self,
        scope: &StreamScope,
        checkpoint: Option<&Checkpoint>,
        run: Option<RunId>,
        now: DateTime<Utc>,
    ) {
        if let Some(cp) = checkpoint {
            self.checkpoints.insert(scope.clone(), StoredCheckpoint { checkpoint: cp.clone(), run, updated_at: now });
        }
    }
}

#[async_trait]
impl AuditSink for MemoryStore {
    async fn audit(&self, event: AuditEvent) -> Result<()> {
        self.lock().audit.push(event);
        Ok(())
    }
}

impl AutomationRuns {
    /// The live lease on the run `lease` names, if `lease` is it.
    fn check(&self, lease: &RunLease) -> Result<()> {
        match self.held.get(&lease.run) {
            Some(held) if held.token == lease.token && held.tenant == lease.tenant => Ok(()),
            _ => Err(refusal::lost_run_lease(lease)),
        }
    }

    /// Whether `run` may be claimed given the live leases counted in `tenants` and `automations`.
    fn within_limits(
        request: &ClaimRequest,
        run: &AutomationRun,
        tenants: &HashMap<TenantId, u32>,
        automations: &HashMap<String, u32>,
    ) -> bool {
        let tenant_ok = request.per_tenant.is_none_or(|limit| tenants.get(&run.tenant).copied().unwrap_or(0) < limit);
        let automation_ok = request
            .per_automation
            .get(&run.automation)
            .is_none_or(|limit| automations.get(&run.automation).copied().unwrap_or(0) < *limit);
        tenant_ok && automation_ok
    }
}

#[async_trait]
impl AutomationStore for MemoryStore {
    async fn enqueue_run(&self, new: &NewAutomationRun, max_pending: Option<u64>) -> Result<Enqueued> {
        let now = self.now();
        let mut state = self.lock();
        let runs = &mut state.automation;
        let key = (new.tenant.clone(), new.automation.clone(), new.trigger_key.clone());
        if let Some(id) = runs.by_trigger.get(&key) {
            return Ok(Enqueued::Duplicate(*id));
        }
        let pending = runs.pending.get(&new.tenant).copied().unwrap_or(0);
        if max_pending.is_some_and(|max| pending >= max) {
            return Ok(Enqueued::Full { pending });
        }
        let id = AutomationRunId::new();
        let run = AutomationRun::queued(id, new, now);
        let due_at = run.due_at;
        runs.by_trigger.insert(key, id);
        runs.due.insert((due_at, id));
        runs.runs.insert(id, run);
        *runs.pending.entry(new.tenant.clone()).or_default() += 1;
        Ok(Enqueued::Created(id))
    }

    async fn claim_runs(&self, request: &ClaimRequest) -> Result<Vec<ClaimedRun>> {
        let now = self.now();
        let mut guard = self.lock();
        let state = &mut *guard;
        let runs = &mut state.automation;
        let (mut tenants, mut automations) = (HashMap::<TenantId, u32>::new(), HashMap::<String, u32>::new());
        let mut lapsed = Vec::new();
        for lease in runs.held.values() {
            if lease.expires_at > now {
                let run = &runs.runs[&lease.run];
                *tenants.entry(run.tenant.clone()).or_default() += 1;
                *automations.entry(run.automation.clone()).or_default() += 1;
            } else {
                lapsed.push((runs.runs[&lease.run].due_at, lease.run));
            }
        }
        // Oldest due first, whether queued, waiting or held under a lapsed lease: the (few)
        // lapsed runs merged into the due index as it is read, which stops at the limit.
        lapsed.sort_unstable();
        let mut lapsed = lapsed.into_iter().peekable();
        let mut due = runs.due.iter().take_while(|(at, _)| *at <= now).copied().peekable();
        let mut chosen = Vec::new();
        while chosen.len() < request.limit {
            let next = match (lapsed.peek(), due.peek()) {
                (Some(l), Some(d)) if l <= d => lapsed.next(),
                (_, Some(_)) => due.next(),
                (Some(_), None) => lapsed.next(),
                (None, None) => None,
            };
            let Some((due_at, id)) = next else { break };
            let run = &runs.runs[&id];
            if !AutomationRuns::within_limits(request, run, &tenants, &automations) {
                continue;
            }
            *tenants.entry(run.tenant.clone()).or_default() += 1;
            *automations.entry(run.automation.clone()).or_default() += 1;
            chosen.push((due_at, id));
        }
        let mut claimed = Vec::with_capacity(chosen.len());
        for (due_at, id) in chosen {
            runs.due.remove(&(due_at, id));
            state.next_token += 1;
            let run = runs.runs.get_mut(&id).ok_or_else(|| Error::conflict("automation run vanished"))?;
            run.status = AutomationRunStatus::Running;
            run.started_at.get_or_insert(now);
            run.dispatches += 1;
            let lease = RunLease {
                tenant: run.tenant.clone(),
                run: id,
                holder: request.holder.clone(),
                token: state.next_token,
                expires_at: expiry(now, request.lease),
            };
            runs.held.insert(id, lease.clone());
            let steps = runs.steps.get(&id).cloned().unwrap_or_default();
            claimed.push(ClaimedRun::new(run.clone(), lease, steps));
        }
        Ok(claimed)
    }

    async fn renew_run_lease(&self, lease: &RunLease, ttl: Duration) -> Result<RunLease> {
        let now = self.now();
        let mut state = self.lock();
        state.automation.check(lease)?;
        let held = state.automation.held.get_mut(&lease.run).ok_or_else(|| refusal::lost_run_lease(lease))?;
        held.expires_at = expiry(now, ttl);
        Ok(held.clone())
    }

    async fn save_step(&self, lease: &RunLease, step: &StepRecord) -> Result<()> {
        let mut state = self.lock();
        state.automation.check(lease)?;
        let steps = state.automation.steps.entry(lease.run).or_default();
        match steps.iter_mut().find(|s| s.step == step.step) {
            Some(existing) => *existing = step.clone(),
            None => steps.push(step.clone()),
        }
        Ok(())
    }

    async fn release_run(&self, lease: &RunLease, release: RunRelease) -> Result<()> {
        let now = self.now();
        let mut state = self.lock();
        let runs = &mut state.automation;
        runs.check(lease)?;
        runs.held.remove(&lease.run);
        let run = runs.runs.get_mut(&lease.run).ok_or_else(|| refusal::lost_run_lease(lease))?;
        match release {
            RunRelease::Wait { until } => {
                run.status = AutomationRunStatus::Waiting;
                run.due_at = until;
                runs.due.insert((until, lease.run));
            }
            RunRelease::Finish { status, error } => {
                run.status = if status.is_final() { status } else { AutomationRunStatus::Failed };
                run.error = error;
                run.completed_at = Some(now);
                if let Some(pending) = runs.pending.get_mut(&run.tenant) {
                    *pending = pending.saturating_sub(1);
                }
            }
        }
        Ok(())
    }

    async fn automation_run(&self, tenant: &TenantId, id: AutomationRunId) -> Result<Option<AutomationRun>> {
        Ok(self.lock().automation.runs.get(&id).filter(|r| &r.tenant == tenant).cloned())
    }

    async fn automation_steps(&self, tenant: &TenantId, id: AutomationRunId) -> Result<Vec<StepRecord>> {
        let state = self.lock();
        if state.automation.runs.get(&id).is_none_or(|r| &r.tenant != tenant) {
            return Ok(Vec::new());
        }
        Ok(state.automation.steps.get(&id).cloned().unwrap_or_default())
    }

    async fn list_automation_runs(&self, tenant: &TenantId, query: &AutomationRunQuery) -> Result<Vec<AutomationRun>> {
        let state = self.lock();
        let mut runs: Vec<AutomationRun> = state
            .automation
            .runs
            .values()
            .filter(|r| &r.tenant == tenant)
            .filter(|r| query.automation.as_ref().is_none_or(|a| &r.automation == a))
            .filter(|r| query.status.is_none_or(|s| r.status == s))
            .cloned()
            .collect();
        runs.sort_by_key(|r| std::cmp::Reverse(r.id));
        runs.truncate(query.limit.unwrap_or(100));
        Ok(runs)
    }
}
