//! [`AutomationStore`] on SQL: the run queue, deduplicated by a unique constraint, claimed in one
//! transaction under a lease with a fencing token, and the step records of each run.
//!
//! Exactness under concurrency:
//! - enqueue runs in a write transaction: on PostgreSQL under a transaction-scoped advisory lock
//!   keyed on the tenant, on SQLite under the database's write lock (`BEGIN IMMEDIATE`), so the
//!   pending count it checks is the one it inserts against;
//! - claims are serialized (a transaction-scoped advisory lock on PostgreSQL, the write lock on
//!   SQLite): a claim counts the live leases, picks due runs oldest first within the request's
//!   limits, and leases them before the next claim looks;
//! - every write under a lease matches `lease_token`, so a worker whose run was taken over, or
//!   released, writes nothing.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use integration_core::store::{
    AutomationRun, AutomationRunQuery, AutomationRunStatus, AutomationStore, ClaimRequest, ClaimedRun, Enqueued,
    NewAutomationRun, RunLease, RunRelease, StepRecord, StepStatus, refusal,
};
use integration_core::{AutomationRunId, Result, TenantId};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Transaction};

use crate::codec::{corrupt, db, from_json, get, i64_of, int, micros, opt_text, opt_time, text, time, to_json, u64_of};
use crate::state::expiry_micros;
use crate::{Backend, SqlStore};

const RUN_COLUMNS: &str = "id, tenant, automation, trigger_key, trigger_data, status, due_at, created_at, started_at, completed_at, error, \
     dispatches";

const STEP_COLUMNS: &str =
    "run_id, step, action, status, attempts, idempotency_key, input, output, error, started_at, completed_at";

/// Which rows a claim may take at `$now`: due queued or waiting runs, and running ones whose
/// lease lapsed.
const CLAIMABLE: &str = "((status IN ('queued', 'waiting') AND due_at <= $1) \
                         OR (status = 'running' AND lease_expires_at <= $1))";

/// The statuses of a run not yet over.
const UNFINISHED: &str = "status IN ('queued', 'running', 'waiting')";

/// The first key of this module's PostgreSQL advisory locks (two-key form): an enqueue's lock
/// takes the tenant's hash as second key. ("auto" in ASCII.)
const ENQUEUE_LOCK: i32 = 0x6175_746f;
/// The claim lock's first key; its second is always 0. ("autc" in ASCII.)
const CLAIM_LOCK: i32 = 0x6175_7463;

/// At most this many candidates read per query while claiming.
const PAGE: usize = 200;
/// At most this many saturated tenants or automations excluded in the candidate query (the rest
/// are filtered in Rust).
const MAX_EXCLUDED: usize = 200;

/// FNV-1a of the tenant, as the second key of its enqueue lock (a collision only makes two
/// tenants' enqueues wait for each other).
fn tenant_lock_key(tenant: &TenantId) -> i32 {
    let hash = tenant.as_str().bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    i32::from_ne_bytes(hash.to_ne_bytes())
}

fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn decode_run(row: &AnyRow) -> Result<AutomationRun> {
    let status = text(row, "status")?;
    let tenant = TenantId::new(text(row, "tenant")?).map_err(|e| corrupt("automation run tenant", e))?;
    let trigger = from_json::<Value>("automation trigger", &text(row, "trigger_data")?)?;
    let new = NewAutomationRun::new(tenant, text(row, "automation")?, text(row, "trigger_key")?, trigger);
    let mut run = AutomationRun::queued(run_id(row, "id")?, &new, time(int(row, "created_at")?)?);
    run.status = AutomationRunStatus::parse(&status).ok_or_else(|| corrupt("automation run status", status))?;
    run.due_at = time(int(row, "due_at")?)?;
    run.started_at = opt_time(get::<Option<i64>, _>(row, "started_at")?)?;
    run.completed_at = opt_time(get::<Option<i64>, _>(row, "completed_at")?)?;
    run.error = opt_text(row, "error")?;
    run.dispatches = count(int(row, "dispatches")?);
    Ok(run)
}

fn decode_step(row: &AnyRow) -> Result<StepRecord> {
    let mut step = StepRecord::started(
        text(row, "step")?,
        text(row, "action")?,
        text(row, "idempotency_key")?,
        from_json("step input", &text(row, "input")?)?,
        time(int(row, "started_at")?)?,
    );
    let status = text(row, "status")?;
    step.status = StepStatus::parse(&status).ok_or_else(|| corrupt("step status", status))?;
    step.attempts = count(int(row, "attempts")?);
    step.output = opt_text(row, "output")?.map(|o| from_json("step output", &o)).transpose()?;
    step.error = opt_text(row, "error")?;
    step.completed_at = opt_time(get::<Option<i64>, _>(row, "completed_at")?)?;
    Ok(step)
}

fn run_id(row: &AnyRow, column: &str) -> Result<AutomationRunId> {
    text(row, column)?.parse().map_err(|e| corrupt("automation run id", e))
}

/// Live leases counted per tenant and per automation.
#[derive(Default)]
struct Held {
    tenants: HashMap<String, u32>,
    automations: HashMap<String, u32>,
}

impl Held {
    fn tenant_full(&self, request: &ClaimRequest, tenant: &str) -> bool {
        request.per_tenant.is_some_and(|limit| self.tenants.get(tenant).copied().unwrap_or(0) >= limit)
    }

    fn automation_full(&self, request: &ClaimRequest, automation: &str) -> bool {
        request
            .per_automation
            .get(automation)
            .is_some_and(|limit| self.automations.get(automation).copied().unwrap_or(0) >= *limit)
    }

    fn add(&mut self, tenant: &str, automation: &str, n: u32) {
        *self.tenants.entry(tenant.to_owned()).or_default() += n;
        *self.automations.entry(automation.to_owned()).or_default() += n;
    }
}

/// A row a claim may take.
struct Candidate {
    id: String,
    tenant: String,
    automation: String,
    due_at: i64,
}

impl SqlStore {
    /// On PostgreSQL, waits for the transaction-scoped advisory lock (`first`, `second`), shared
    /// or exclusive. (SQLite's write transaction already excludes every other writer.)
    async fn advisory_lock(
        &self,
        tx: &mut Transaction<'static, Any>,
        first: i32,
        second: i32,
        shared: bool,
    ) -> Result<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let function = if shared { "pg_advisory_xact_lock_shared" } else { "pg_advisory_xact_lock" };
        sqlx::query(AssertSqlSafe(format!("SELECT 1 AS locked FROM {function}($1, $2)")))
            .bind(first)
            .bind(second)
            .execute(&mut **tx)
            .await
            .map_err(|e| db("take an automation lock", e))?;
        Ok(())
    }

    async fn existing_run(
        &self,
        tx: &mut Transaction<'static, Any>,
        run: &NewAutomationRun,
    ) -> Result<Option<AutomationRunId>> {
        let row =
            sqlx::query("SELECT id FROM automation_runs WHERE tenant = $1 AND automation = $2 AND trigger_key = $3")
                .bind(run.tenant.as_str())
                .bind(run.automation.as_str())
                .bind(run.trigger_key.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(|e| db("find an automation run by trigger", e))?;
        row.map(|r| run_id(&r, "id")).transpose()
    }

    /// The live leases, counted.
    async fn held_leases(&self, tx: &mut Transaction<'static, Any>, now: i64) -> Result<Held> {
        let rows = sqlx::query(
            "SELECT tenant, automation, COUNT(*) AS n FROM automation_runs \
             WHERE status = 'running' AND lease_expires_at > $1 GROUP BY tenant, automation",
        )
        .bind(now)
        .fetch_all(&mut **tx)
        .await
        .map_err(|e| db("count held automation runs", e))?;
        let mut held = Held::default();
        for row in &rows {
            held.add(&text(row, "tenant")?, &text(row, "automation")?, count(int(row, "n")?));
        }
        Ok(held)
    }

    /// The next page of claimable rows after (`due_at`, `id`), oldest due first, leaving out
    /// tenants and automations already at their limit.
    async fn candidates(
        &self,
        tx: &mut Transaction<'static, Any>,
        now: i64,
        after: Option<(i64, &str)>,
        excluded_tenants: &[&str],
        excluded_automations: &[&str],
    ) -> Result<Vec<Candidate>> {
        let mut sql = format!("SELECT id, tenant, automation, due_at FROM automation_runs WHERE {CLAIMABLE}");
        let mut next = 2;
        let mut list = |sql: &mut String, column: &str, n: usize| {
            if n > 0 {
                let params: Vec<String> = (next..next + n).map(|i| format!("${i}")).collect();
                sql.push_str(&format!(" AND {column} NOT IN ({})", params.join(", ")));
                next += n;
            }
        };
        list(&mut sql, "tenant", excluded_tenants.len());
        list(&mut sql, "automation", excluded_automations.len());
        if after.is_some() {
            sql.push_str(&format!(" AND (due_at > ${0} OR (due_at = ${0} AND id > ${1}))", next, next + 1));
        }
        sql.push_str(&format!(" ORDER BY due_at, id LIMIT {PAGE}"));
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(now);
        for value in excluded_tenants.iter().chain(excluded_automations) {
            query = query.bind(*value);
        }
        if let Some((due_at, id)) = after {
            query = query.bind(due_at).bind(id.to_owned());
        }
        let rows = query.fetch_all(&mut **tx).await.map_err(|e| db("find claimable automation runs", e))?;
        rows.iter()
            .map(|r| {
                Ok(Candidate {
                    id: text(r, "id")?,
                    tenant: text(r, "tenant")?,
                    automation: text(r, "automation")?,
                    due_at: int(r, "due_at")?,
                })
            })
            .collect()
    }

    /// Leases one candidate to `request.holder`, unless another transaction changed it since it
    /// was read.
    async fn lease_run(
        &self,
        tx: &mut Transaction<'static, Any>,
        request: &ClaimRequest,
        id: &str,
        now: i64,
    ) -> Result<Option<(AutomationRun, RunLease)>> {
        let token = self.next_token(tx).await?;
        let expires = expiry_micros(now, request.lease);
        let row = sqlx::query(AssertSqlSafe(format!(
            "UPDATE automation_runs SET status = 'running', holder = $2, lease_token = $3, lease_expires_at = $4, \
             started_at = COALESCE(started_at, $1), dispatches = dispatches + 1 \
             WHERE id = $5 AND {CLAIMABLE} RETURNING {RUN_COLUMNS}"
        )))
        .bind(now)
        .bind(request.holder.as_str())
        .bind(token)
        .bind(expires)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| db("lease an automation run", e))?;
        let Some(row) = row else { return Ok(None) };
        let run = decode_run(&row)?;
        let lease = RunLease {
            tenant: run.tenant.clone(),
            run: run.id,
            holder: request.holder.clone(),
            token: u64_of(token),
            expires_at: time(expires)?,
        };
        Ok(Some((run, lease)))
    }

    /// The steps of `runs`, each run's in first-saved order.
    async fn steps_of(
        &self,
        tx: &mut Transaction<'static, Any>,
        runs: &[AutomationRunId],
    ) -> Result<HashMap<AutomationRunId, Vec<StepRecord>>> {
        let mut steps: HashMap<AutomationRunId, Vec<StepRecord>> = HashMap::new();
        for chunk in runs.chunks(PAGE) {
            let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {STEP_COLUMNS} FROM automation_steps WHERE run_id IN ({}) ORDER BY run_id, ordinal",
                params.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.to_string());
            }
            for row in query.fetch_all(&mut **tx).await.map_err(|e| db("read automation steps", e))? {
                steps.entry(run_id(&row, "run_id")?).or_default().push(decode_step(&row)?);
            }
        }
        Ok(steps)
    }
}

#[async_trait]
impl AutomationStore for SqlStore {
    async fn enqueue_run(&self, new: &NewAutomationRun, max_pending: Option<u64>) -> Result<Enqueued> {
        let now = micros(self.now());
        let mut tx = self.begin().await?;
        self.advisory_lock(&mut tx, ENQUEUE_LOCK, tenant_lock_key(&new.tenant), false).await?;
        if let Some(max) = max_pending {
            // A duplicate is reported as one even when the tenant is full.
            if let Some(id) = self.existing_run(&mut tx, new).await? {
                return Ok(Enqueued::Duplicate(id));
            }
            let row = sqlx::query(AssertSqlSafe(format!(
                "SELECT COUNT(*) AS n FROM automation_runs WHERE tenant = $1 AND {UNFINISHED}"
            )))
            .bind(new.tenant.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db("count pending automation runs", e))?;
            let pending = u64_of(int(&row, "n")?);
            if pending >= max {
                return Ok(Enqueued::Full { pending });
            }
        }
        let id = AutomationRunId::new();
        let inserted = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO automation_runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, NULL, NULL, NULL, 0) \
             ON CONFLICT (tenant, automation, trigger_key) DO NOTHING RETURNING id"
        )))
        .bind(id.to_string())
        .bind(new.tenant.as_str())
        .bind(new.automation.as_str())
        .bind(new.trigger_key.as_str())
        .bind(to_json(&new.trigger)?)
        .bind(new.due_at.map_or(now, micros))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db("enqueue an automation run", e))?;
        let enqueued = if inserted.is_some() {
            Enqueued::Created(id)
        } else {
            let first = self.existing_run(&mut tx, new).await?;
            Enqueued::Duplicate(first.ok_or_else(|| corrupt("automation run", "its trigger conflicts with no run"))?)
        };
        tx.commit().await.map_err(|e| db("commit an automation run", e))?;
        Ok(enqueued)
    }

    async fn claim_runs(&self, request: &ClaimRequest) -> Result<Vec<ClaimedRun>> {
        if request.limit == 0 {
            return Ok(Vec::new());
        }
        let now = micros(self.now());
        let mut tx = self.begin().await?;
        self.advisory_lock(&mut tx, CLAIM_LOCK, 0, false).await?;
        let limited = request.per_tenant.is_some() || !request.per_automation.is_empty();
        let mut held = if limited { self.held_leases(&mut tx, now).await? } else { Held::default() };
        let mut claimed = Vec::new();
        let mut after: Option<(i64, String)> = None;
        while claimed.len() < request.limit {
            let full_tenants: Vec<&str> = held
                .tenants
                .keys()
                .filter(|t| held.tenant_full(request, t))
                .map(String::as_str)
                .take(MAX_EXCLUDED)
                .collect();
            let full_automations: Vec<&str> = held
                .automations
                .keys()
                .filter(|a| held.automation_full(request, a))
                .map(String::as_str)
                .take(MAX_EXCLUDED)
                .collect();
            let page = self
                .candidates(
                    &mut tx,
                    now,
                    after.as_ref().map(|(at, id)| (*at, id.as_str())),
                    &full_tenants,
                    &full_automations,
                )
                .await?;
            let Some(last) = page.last() else { break };
            after = Some((last.due_at, last.id.clone()));
            let exhausted = page.len() < PAGE;
            for candidate in &page {
                if claimed.len() >= request.limit {
                    break;
                }
                if held.tenant_full(request, &candidate.tenant) || held.automation_full(request, &candidate.automation)
                {
                    continue;
                }
                if let Some(taken) = self.lease_run(&mut tx, request, &candidate.id, now).await? {
                    held.add(&candidate.tenant, &candidate.automation, 1);
                    claimed.push(taken);
                }
            }
            if exhausted {
                break;
            }
        }
        let ids: Vec<AutomationRunId> = claimed.iter().map(|(run, _)| run.id).collect();
        let mut steps = if ids.is_empty() { HashMap::new() } else { self.steps_of(&mut tx, &ids).await? };
        tx.commit().await.map_err(|e| db("commit an automation claim", e))?;
        Ok(claimed
            .into_iter()
            .map(|(run, lease)| {
                let steps = steps.remove(&run.id).unwrap_or_default();
                ClaimedRun::new(run, lease, steps)
            })
            .collect())
    }

    async fn renew_run_lease(&self, lease: &RunLease, ttl: Duration) -> Result<RunLease> {
        let expires = expiry_micros(micros(self.now()), ttl);
        let mut tx = self.begin().await?;
        // Shared with other renewals, exclusive of claims: a lapsed lease revived by its holder
        // cannot slip past a claim's count of live leases.
        self.advisory_lock(&mut tx, CLAIM_LOCK, 0, true).await?;
        let row = sqlx::query(
            "UPDATE automation_runs SET lease_expires_at = $4 WHERE tenant = $1 AND id = $2 AND lease_token = $3 \
             RETURNING holder",
        )
        .bind(lease.tenant.as_str())
        .bind(lease.run.to_string())
        .bind(i64_of(lease.token))
        .bind(expires)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db("renew an automation lease", e))?;
        let Some(row) = row else { return Err(refusal::lost_run_lease(lease)) };
        tx.commit().await.map_err(|e| db("commit an automation lease", e))?;
        Ok(RunLease {
            holder: opt_text(&row, "holder")?.unwrap_or_else(|| lease.holder.clone()),
            expires_at: time(expires)?,
            ..lease.clone()
        })
    }

    async fn save_step(&self, lease: &RunLease, step: &StepRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        // The run's row stays locked until commit: a takeover waits for this save, and two saves
        // of one run number their steps one after the other.
        let held = sqlx::query(AssertSqlSafe(format!(
            "SELECT id FROM automation_runs WHERE tenant = $1 AND id = $2 AND lease_token = $3{}",
            self.for_update()
        )))
        .bind(lease.tenant.as_str())
        .bind(lease.run.to_string())
        .bind(i64_of(lease.token))
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db("check an automation lease", e))?;
        if held.is_none() {
            return Err(refusal::lost_run_lease(lease));
        }
        sqlx::query(
            "INSERT INTO automation_steps (run_id, step, tenant, ordinal, action, status, attempts, idempotency_key, \
             input, output, error, started_at, completed_at) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(ordinal), 0) + 1 FROM automation_steps WHERE run_id = $1), \
             $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (run_id, step) DO UPDATE SET action = excluded.action, status = excluded.status, \
             attempts = excluded.attempts, idempotency_key = excluded.idempotency_key, input = excluded.input, \
             output = excluded.output, error = excluded.error, started_at = excluded.started_at, \
             completed_at = excluded.completed_at",
        )
        .bind(lease.run.to_string())
        .bind(step.step.as_str())
        .bind(lease.tenant.as_str())
        .bind(step.action.as_str())
        .bind(step.status.as_str())
        .bind(i64::from(step.attempts))
        .bind(step.idempotency_key.as_str())
        .bind(to_json(&step.input)?)
        .bind(step.output.as_ref().map(to_json).transpose()?)
        .bind(step.error.clone())
        .bind(micros(step.started_at))
        .bind(step.completed_at.map(micros))
        .execute(&mut *tx)
        .await
        .map_err(|e| db("save an automation step", e))?;
        tx.commit().await.map_err(|e| db("commit an automation step", e))
    }

    async fn release_run(&self, lease: &RunLease, release: RunRelease) -> Result<()> {
        let released = "holder = NULL, lease_token = NULL, lease_expires_at = NULL";
        let held = "WHERE tenant = $1 AND id = $2 AND lease_token = $3";
        let query = match release {
            RunRelease::Wait { until } => sqlx::query(AssertSqlSafe(format!(
                "UPDATE automation_runs SET status = $4, due_at = $5, {released} {held}"
            )))
            .bind(lease.tenant.as_str())
            .bind(lease.run.to_string())
            .bind(i64_of(lease.token))
            .bind(AutomationRunStatus::Waiting.as_str())
            .bind(micros(until)),
            RunRelease::Finish { status, error } => {
                // Anything but a final status is a failure: the run is over either way.
                let status = if status.is_final() { status } else { AutomationRunStatus::Failed };
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE automation_runs SET status = $4, completed_at = $5, error = $6, {released} {held}"
                )))
                .bind(lease.tenant.as_str())
                .bind(lease.run.to_string())
                .bind(i64_of(lease.token))
                .bind(status.as_str())
                .bind(micros(self.now()))
                .bind(error)
            }
        };
        let done = query.execute(self.writer()).await.map_err(|e| db("release an automation run", e))?;
        if done.rows_affected() == 0 {
            return Err(refusal::lost_run_lease(lease));
        }
        Ok(())
    }

    async fn automation_run(&self, tenant: &TenantId, id: AutomationRunId) -> Result<Option<AutomationRun>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM automation_runs WHERE tenant = $1 AND id = $2"
        )))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db("read an automation run", e))?;
        row.as_ref().map(decode_run).transpose()
    }

    async fn automation_steps(&self, tenant: &TenantId, id: AutomationRunId) -> Result<Vec<StepRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {STEP_COLUMNS} FROM automation_steps WHERE tenant = $1 AND run_id = $2 ORDER BY ordinal"
        )))
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db("read automation steps", e))?;
        rows.iter().map(decode_step).collect()
    }

    async fn list_automation_runs(&self, tenant: &TenantId, query: &AutomationRunQuery) -> Result<Vec<AutomationRun>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM automation_runs WHERE tenant = $1 \
             AND (CAST($2 AS TEXT) IS NULL OR automation = $2) AND (CAST($3 AS TEXT) IS NULL OR status = $3) \
             ORDER BY id DESC LIMIT $4"
        )))
        .bind(tenant.as_str())
        .bind(query.automation.clone())
        .bind(query.status.map(|s| s.as_str()))
        .bind(i64::try_from(query.limit.unwrap_or(100)).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db("list automation runs", e))?;
        rows.iter().map(decode_run).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn tenant_lock_keys_are_stable_and_spread() {
        let key = |t: &str| tenant_lock_key(&TenantId::new(t).expect("tenant"));
        assert_eq!(key("acme"), key("acme"));
        let keys: HashSet<i32> = (0..1000).map(|i| key(&format!("tenant-{i}"))).collect();
        assert!(keys.len() > 990, "few collisions: {}", keys.len());
    }
}
