//! Scale, measured against the BambooHR fake on loopback with SQLite and PostgreSQL (issue 24):
//!
//! 1. `SCALE_TENANTS` tenants (1,000) with one HRIS connection each, all due at once in the
//!    `EmbeddedScheduler`: each sync reads `SCALE_RECORDS` employees (1,000) through the real
//!    BambooHR adapter and writes them to one SQLite file, 16 at a time (the scheduler's default
//!    `max_concurrent`). Reported: the time until all are done, per-sync latency p50 / p99 (a
//!    run's start to its end, as its log says, and from falling due to done), the peak resident
//!    size, open file descriptors and SQLite connections in use (sampled every 50 ms).
//! 2. Memory per idle connection: `SCALE_IDLE` (10,000) connections built and kept (configuration,
//!    adapter, its client state, in the webhook `Adapters` registry), the resident size before and
//!    after over their number.
//! 3. Change-to-cache latency by polling: one connection scheduled every 5 s; a hire at the fake
//!    until it is in the change stream, `SCALE_POLL_SAMPLES` times (10): p50 / p99.
//! 4. Webhook ingress through the axum mount at 1,000 requests a second for 60 s, then rising
//!    rates until one is not sustained ([`webhooks`]).
//! 5. Worker processes sharing one PostgreSQL database: one, then four ([`workers`]).
//! 6. One full sync of 50,000 BambooHR employees: the memory it takes, beside parsing the same
//!    report by hand ([`full_sync`]).
//!
//! `cargo bench --bench scale --features hris,sqlite,postgres,axum,testkit`; `SCALE_ONLY=syncs`,
//! `idle`, `polling`, `webhooks`, `workers` or `full` runs one part. The seeds' targets sit beside each
//! figure in the report.

#![allow(clippy::unwrap_used)]

#[path = "scale/baseline.rs"]
mod baseline;
#[path = "scale/full_sync.rs"]
mod full_sync;
#[path = "scale/report.rs"]
mod report;
#[path = "common/resident.rs"]
mod resident;
#[path = "scale/webhooks.rs"]
mod webhooks;
#[path = "scale/workers.rs"]
mod workers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_core::schedule::{EmbeddedScheduler, Schedule, Scheduler};
use integration_core::store::{ChangeCursor, RecordStore, RunStatus};
use integration_core::webhook::Adapters;
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, Integration, SyncEngine, SyncJob, SyncMode, TenantId,
};
use integration_store::SqlStore;
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::people::People;
use report::{Row, Sampler, quantile, setting};
use resident::{reset_peak, resident};

async fn concurrent_syncs(dir: &std::path::Path, rows: &mut Vec<Row>) {
    let (tenants, records) = (setting("SCALE_TENANTS", 1000), setting("SCALE_RECORDS", 1000));
    let fake = FakeBambooHr::start(People::generate(24, records)).await;
    let store = SqlStore::sqlite(dir.join("scale.db")).await.unwrap();
    let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "scale");
    let scheduler = EmbeddedScheduler::new(engine);
    let context = BuildContext::default();
    for t in 0..tenants {
        let tenant = TenantId::new(format!("tenant-{t:05}")).unwrap();
        let connection = ConnectionId::new("hr").unwrap();
        let adapter = integration_hris::build(&fake.config(tenant.clone(), connection.clone()), &context).unwrap();
        let job = SyncJob::new(tenant, connection, "employees", SyncMode::Incremental);
        scheduler.add(Schedule::every(adapter, job, Duration::from_secs(3600)).with_jitter(Duration::ZERO));
    }
    let (_, before) = resident();
    reset_peak();
    let sampler = Sampler::start(store.clone());
    let due_at = chrono::Utc::now();
    let started = Instant::now();
    let runs = scheduler.tick().await;
    let took = started.elapsed();
    let (peak_rss, peak_files, peak_connections) = sampler.finish();
    let (peak, _) = resident();
    let succeeded = runs.iter().filter(|r| r.status == RunStatus::Succeeded).count();
    let written: u64 = runs.iter().map(|r| r.counts.added).sum();
    let mut latencies: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.completed_at.map(|done| (done - r.started_at).num_milliseconds() as f64 / 1000.0))
        .collect();
    let (p50, p99) = (quantile(&mut latencies, 0.5), quantile(&mut latencies, 0.99));
    let mut since_due: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.completed_at.map(|done| (done - due_at).num_milliseconds() as f64 / 1000.0))
        .collect();
    let (due50, due99) = (quantile(&mut since_due, 0.5), quantile(&mut since_due, 0.99));
    let mut failures: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for run in runs.iter().filter(|r| r.status != RunStatus::Succeeded) {
        let why = run.error.as_ref().map(|e| e.message.chars().take(100).collect()).unwrap_or_default();
        *failures.entry(why).or_default() += 1;
    }
    for (why, n) in &failures {
        println!("failed {n}×: {why}");
    }
    rows.push(Row {
        what: format!("{tenants} connections × {records} records syncing at once (SQLite)"),
        result: format!(
            "{succeeded}/{tenants} succeeded, {written} records in {:.1} s ({:.0} records/s); a run, start to end: p50 {p50:.2} s, p99 {p99:.2} s; due to done: p50 {due50:.1} s, p99 {due99:.1} s",
            took.as_secs_f64(),
            written as f64 / took.as_secs_f64()
        ),
        target: "p99 under 5 s",
    });
    // The hand-written baseline in the same run: the same reports fetched with bare reqwest,
    // 16 at a time, and parsed into JSON values — no mapping, no store, no run log.
    let client = reqwest::Client::new();
    let turns = Arc::new(tokio::sync::Semaphore::new(16));
    let baseline_started = Instant::now();
    let mut fetches = tokio::task::JoinSet::new();
    for _ in 0..tenants {
        let (client, base_url, turns) = (client.clone(), fake.base_url(), turns.clone());
        fetches.spawn(async move {
            let _turn = turns.acquire_owned().await.unwrap();
            baseline::fetch_report(&client, &base_url).await
        });
    }
    let mut fetched = 0;
    while let Some(n) = fetches.join_next().await {
        fetched += n.unwrap();
    }
    let baseline = baseline_started.elapsed();
    rows.push(Row {
        what: "  baseline: the same reports by bare reqwest + serde_json".into(),
        result: format!(
            "{fetched} records in {:.1} s ({:.0} records/s); the SDK's syncs took {:.2}× as long",
            baseline.as_secs_f64(),
            fetched as f64 / baseline.as_secs_f64(),
            took.as_secs_f64() / baseline.as_secs_f64()
        ),
        target: "none set",
    });
    rows.push(Row {
        what: "  resources at the peak".into(),
        result: format!(
            "resident {:.0} MiB (peak {:.0} MiB, {:.0} MiB before); {peak_files} open files; {peak_connections} SQLite connections",
            peak_rss as f64 / 1024.0,
            peak as f64 / 1024.0,
            before as f64 / 1024.0
        ),
        target: "bounded",
    });
}

async fn idle_connections(rows: &mut Vec<Row>) {
    let count = setting("SCALE_IDLE", 10_000);
    let fake = FakeBambooHr::start(People::generate(25, 1)).await;
    let context = BuildContext::default();
    let adapters = Adapters::new();
    // One built first, so what every connection shares (the client pool, the spec) is not
    // counted against the rest.
    let first = integration_hris::build(
        &fake.config(TenantId::new("warm").unwrap(), ConnectionId::new("hr").unwrap()),
        &context,
    )
    .unwrap();
    drop(first);
    let (_, before) = resident();
    let mut kept: Vec<Arc<dyn Integration>> = Vec::with_capacity(count);
    for t in 0..count {
        let tenant = TenantId::new(format!("idle-{t:05}")).unwrap();
        let connection = ConnectionId::new("hr").unwrap();
        let adapter: Arc<dyn Integration> =
            integration_hris::build(&fake.config(tenant.clone(), connection.clone()), &context).unwrap();
        adapters.insert(tenant, connection, adapter.clone());
        kept.push(adapter);
    }
    let (_, after) = resident();
    let per = after.saturating_sub(before) as f64 * 1024.0 / count as f64;
    rows.push(Row {
        what: format!("memory per idle connection, {count} kept"),
        result: format!("{:.1} KB each ({:.1} MiB in all)", per / 1000.0, after.saturating_sub(before) as f64 / 1024.0),
        target: "under 10 KB",
    });
    drop(kept);
}

async fn polling_latency(dir: &std::path::Path, rows: &mut Vec<Row>) {
    let samples = setting("SCALE_POLL_SAMPLES", 10);
    let fake = FakeBambooHr::start(People::generate(26, 100)).await;
    let store = SqlStore::sqlite(dir.join("poll.db")).await.unwrap();
    let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "poll");
    let scheduler = Arc::new(EmbeddedScheduler::new(engine));
    let tenant = TenantId::new("poller").unwrap();
    let connection = ConnectionId::new("hr").unwrap();
    let adapter =
        integration_hris::build(&fake.config(tenant.clone(), connection.clone()), &BuildContext::default()).unwrap();
    let job = SyncJob::new(tenant.clone(), connection, "employees", SyncMode::Incremental);
    scheduler.add(Schedule::every(adapter, job, Duration::from_secs(5)).with_jitter(Duration::ZERO));
    let shutdown = CancellationToken::new();
    let (run, stop) = (scheduler.clone(), shutdown.clone());
    tokio::spawn(async move { run.run(stop).await });
    // The first sync reads everyone; changes are measured after it.
    let mut cursor: Option<ChangeCursor> = None;
    loop {
        let batch = store.changes_since(&tenant, cursor.as_ref(), 10_000).await.unwrap();
        let done = batch.changes.len() >= 100;
        cursor = Some(batch.next);
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut latencies = Vec::new();
    for n in 0..samples {
        // A point within the schedule's interval, spread by the clock's nanoseconds.
        let spread = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() % 5000;
        tokio::time::sleep(Duration::from_millis(u64::from(spread))).await;
        let hired = fake.people().hire("Scale", &format!("Sample{n}")).to_string();
        let changed = Instant::now();
        'seen: loop {
            let batch = store.changes_since(&tenant, cursor.as_ref(), 1000).await.unwrap();
            cursor = Some(batch.next.clone());
            if batch.changes.iter().any(|c| c.remote_id == hired) {
                break 'seen;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        latencies.push(changed.elapsed().as_secs_f64());
    }
    shutdown.cancel();
    let (p50, p99) = (quantile(&mut latencies, 0.5), quantile(&mut latencies, 0.99));
    rows.push(Row {
        what: format!("change to cache by polling every 5 s, {samples} changes"),
        result: format!("p50 {p50:.2} s, p99 {p99:.2} s"),
        target: "under 5 minutes (seeds); the interval plus one sync",
    });
}

fn main() {
    if workers::worker_main().is_some() || full_sync::child_main().is_some() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("integrations-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rows = Vec::new();
    runtime.block_on(async {
        let only = std::env::var("SCALE_ONLY").unwrap_or_default();
        if only.is_empty() || only == "syncs" {
            concurrent_syncs(&dir, &mut rows).await;
        }
        if only.is_empty() || only == "idle" {
            idle_connections(&mut rows).await;
        }
        if only.is_empty() || only == "polling" {
            polling_latency(&dir, &mut rows).await;
        }
        if only.is_empty() || only == "webhooks" {
            let backings = std::env::var("SCALE_WEBHOOK_STORES").unwrap_or_else(|_| "sqlite,normal,postgres".into());
            for backing in backings.split(',') {
                let backing = match backing {
                    "sqlite" => webhooks::Backing::Sqlite,
                    "normal" => webhooks::Backing::SqliteNormal,
                    _ => webhooks::Backing::Postgres,
                };
                webhooks::ingress(&dir, backing, &mut rows).await;
            }
            workers::drop_schemas().await;
        }
        if only.is_empty() || only == "workers" {
            workers::shared_postgres(&mut rows).await;
        }
        if only.is_empty() || only == "full" {
            full_sync::large_full_sync(&mut rows).await;
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\nscale ({} cores, the BambooHR fake on loopback in this process)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for row in rows {
        println!("  {:<62} {}  [target: {}]", row.what, row.result, row.target);
    }
}
