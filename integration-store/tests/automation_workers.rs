//! Automation workers on PostgreSQL: four stores with their own pools over one database enqueue
//! and claim 400 runs concurrently under per-tenant and per-automation limits. Every run finishes
//! exactly once and no limit is ever exceeded. (Skipped with a reason when no server answers,
//! except under `CI=true`.)

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use integration_core::store::{
    AutomationRunQuery, AutomationRunStatus, AutomationStore, ClaimRequest, Enqueued, NewAutomationRun, RunRelease,
    StepRecord, StepStatus,
};
use integration_core::{AutomationRunId, TenantId};
use integration_store::SqlStore;
use serde_json::json;

const TENANTS: usize = 4;
const RUNS_PER_TENANT: usize = 100;
const PER_TENANT: u32 = 3;
/// The "slow" automation may run at most this many times at once, all tenants together.
const SLOW_AT_ONCE: u32 = 2;
/// Every fifth run waits once (due again at once) before it finishes, so runs change workers.
const WAITS_EVERY: usize = 5;

fn tenant(n: usize) -> TenantId {
    TenantId::new(format!("tenant-{n}")).expect("tenant")
}

fn automation(i: usize) -> &'static str {
    if i.is_multiple_of(4) { "slow" } else { "fast" }
}

/// The most runs seen running at once, per tenant and for the slow automation.
#[derive(Default)]
struct Peaks {
    tenant: AtomicU32,
    slow: AtomicU32,
}

/// Counts the running runs per tenant and of the slow automation, and keeps the peaks.
async fn observe(store: &SqlStore, peaks: &Peaks) {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT tenant, automation, COUNT(*) FROM automation_runs WHERE status = 'running' GROUP BY tenant, automation",
    )
    .fetch_all(store.pool())
    .await
    .expect("count running runs");
    let mut per_tenant: HashMap<String, i64> = HashMap::new();
    let mut slow = 0;
    for (tenant, automation, n) in rows {
        *per_tenant.entry(tenant).or_default() += n;
        if automation == "slow" {
            slow += n;
        }
    }
    let most = per_tenant.values().copied().max().unwrap_or(0);
    peaks.tenant.fetch_max(u32::try_from(most).expect("count"), Ordering::SeqCst);
    peaks.slow.fetch_max(u32::try_from(slow).expect("count"), Ordering::SeqCst);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_workers_finish_every_run_once_within_the_limits() {
    let Some(url) = common::postgres_schema().await else { return };
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(SqlStore::connect(&url, 2).await.expect("connect"));
    }

    // Each store enqueues one tenant's runs, all at once, up to exactly the pending limit.
    let enqueuers: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(n, store)| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..RUNS_PER_TENANT {
                    let run = NewAutomationRun::new(tenant(n), automation(i), format!("event-{i}"), json!({ "i": i }));
                    match store.enqueue_run(&run, Some(RUNS_PER_TENANT as u64)).await.expect("enqueue") {
                        Enqueued::Created(id) => ids.push(id),
                        other => panic!("run {i} of tenant {n}: {other:?}"),
                    }
                }
                let extra = NewAutomationRun::new(tenant(n), "fast", "one-too-many", json!({}));
                let full = store.enqueue_run(&extra, Some(RUNS_PER_TENANT as u64)).await.expect("enqueue");
                assert_eq!(full, Enqueued::Full { pending: RUNS_PER_TENANT as u64 });
                ids
            })
        })
        .collect();
    let mut all = HashSet::new();
    for task in enqueuers {
        all.extend(task.await.expect("enqueuer"));
    }
    assert_eq!(all.len(), TENANTS * RUNS_PER_TENANT);

    let finished_total = Arc::new(AtomicUsize::new(0));
    let peaks = Arc::new(Peaks::default());
    let workers: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(n, store)| {
            let (store, finished_total, peaks) = (store.clone(), finished_total.clone(), peaks.clone());
            tokio::spawn(async move {
                let holder = format!("worker-{n}");
                let request = ClaimRequest::new(holder.as_str(), 4, Duration::from_secs(300))
                    .per_tenant(PER_TENANT)
                    .per_automation("slow", SLOW_AT_ONCE);
                let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
                let mut finished = Vec::new();
                while finished_total.load(Ordering::SeqCst) < TENANTS * RUNS_PER_TENANT {
                    assert!(tokio::time::Instant::now() < deadline, "{holder} ran out of time");
                    let claimed = store.claim_runs(&request).await.expect("claim");
                    observe(&store, &peaks).await;
                    if claimed.is_empty() {
                        // Every run is held by another worker or at a limit: ask again shortly.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    for c in claimed {
                        let i: usize = c.run.trigger["i"].as_u64().expect("i").try_into().expect("index");
                        let path = c.run.dispatches.to_string();
                        let mut step = StepRecord::started(
                            path.as_str(),
                            "work",
                            format!("{}/{path}", c.run.id),
                            json!({ "i": i }),
                            chrono::Utc::now(),
                        );
                        store.save_step(&c.lease, &step).await.expect("save a started step");
                        tokio::task::yield_now().await;
                        step.status = StepStatus::Succeeded;
                        step.completed_at = Some(chrono::Utc::now());
                        store.save_step(&c.lease, &step).await.expect("save a finished step");
                        if i.is_multiple_of(WAITS_EVERY) && c.run.dispatches == 1 {
                            let wait = RunRelease::Wait { until: chrono::Utc::now() };
                            store.release_run(&c.lease, wait).await.expect("wait");
                        } else {
                            let done = RunRelease::Finish { status: AutomationRunStatus::Succeeded, error: None };
                            store.release_run(&c.lease, done).await.expect("finish");
                            finished.push(c.run.id);
                            finished_total.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                finished
            })
        })
        .collect();
    let mut finished: Vec<AutomationRunId> = Vec::new();
    let mut by_worker = BTreeMap::new();
    for (n, task) in workers.into_iter().enumerate() {
        let mine = task.await.expect("worker");
        by_worker.insert(n, mine.len());
        finished.extend(mine);
    }
    println!("runs finished per worker: {by_worker:?}");

    let unique: HashSet<AutomationRunId> = finished.iter().copied().collect();
    assert_eq!((finished.len(), &unique), (TENANTS * RUNS_PER_TENANT, &all), "every run finished exactly once");
    let (tenant_peak, slow_peak) = (peaks.tenant.load(Ordering::SeqCst), peaks.slow.load(Ordering::SeqCst));
    println!("most runs at once: {tenant_peak} of one tenant (limit {PER_TENANT}), {slow_peak} slow ({SLOW_AT_ONCE})");
    assert!((1..=PER_TENANT).contains(&tenant_peak), "a tenant had {tenant_peak} runs at once");
    assert!((1..=SLOW_AT_ONCE).contains(&slow_peak), "the slow automation ran {slow_peak} times at once");

    let store = &stores[0];
    for n in 0..TENANTS {
        let runs =
            store.list_automation_runs(&tenant(n), &AutomationRunQuery::new().limit(1000)).await.expect("list runs");
        assert_eq!(runs.len(), RUNS_PER_TENANT);
        for run in &runs {
            let i: usize = run.trigger["i"].as_u64().expect("i").try_into().expect("index");
            let dispatches = if i.is_multiple_of(WAITS_EVERY) { 2 } else { 1 };
            assert_eq!((run.status, run.dispatches), (AutomationRunStatus::Succeeded, dispatches), "{run:?}");
            let steps = store.automation_steps(&tenant(n), run.id).await.expect("steps");
            assert_eq!(steps.len(), dispatches as usize, "one step per dispatch: {steps:?}");
            assert!(steps.iter().all(|s| s.status == StepStatus::Succeeded));
        }
    }
}
