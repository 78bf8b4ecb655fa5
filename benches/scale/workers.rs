//! Worker processes sharing one PostgreSQL database (issue 24, item 5).
//!
//! The bench starts the BambooHR fake, makes a new schema on the PostgreSQL server
//! (`INTEGRATIONS_TEST_POSTGRES_URL`, or `postgres://postgres@127.0.0.1:5432/postgres`), and
//! runs itself as `n` worker processes. Each worker schedules the same `SCALE_PG_TENANTS`
//! (1,000) connections of `SCALE_PG_RECORDS` (1,000) employees in its own `EmbeddedScheduler`
//! over its own pool, says it is ready, and on the word ticks once: every stream is due in every
//! worker, and the stream leases in the database decide who runs what. Each worker prints its
//! runs; the bench checks that every connection was synced exactly once (none starved, none
//! twice) and reports the time until all were done, the share each worker took, and the latency
//! from the word to each connection's run ending (p50 / p99 / the slowest). Once with one worker,
//! then with `SCALE_PG_WORKERS` (4), each in a fresh schema.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_core::schedule::{EmbeddedScheduler, Schedule, Scheduler};
use integration_core::store::RunStatus;
use integration_core::{BuildContext, ConnectionId, SyncEngine, SyncJob, SyncMode, TenantId};
use integration_store::SqlStore;
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::people::People;
use sqlx::Connection as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::report::{Cpu, Row, quantile, setting};

/// Set in a worker process: the URL of the schema to work in.
const WORKER_OF: &str = "SCALE_WORKER_OF";

fn postgres_url() -> String {
    std::env::var("INTEGRATIONS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

async fn admin() -> sqlx::PgConnection {
    let url = postgres_url();
    sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {url} is unavailable ({e}): start one or set INTEGRATIONS_TEST_POSTGRES_URL")
    })
}

/// Drops the schemas this bench made (`scale_…`), its own or an interrupted run's.
pub(crate) async fn drop_schemas() {
    let mut admin = admin().await;
    let old: Vec<(String,)> = sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'scale\\_%'")
        .fetch_all(&mut admin)
        .await
        .unwrap();
    for (name,) in old {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")))
            .execute(&mut admin)
            .await
            .unwrap();
    }
}

/// A new schema on the server; its URL. Schemas this bench left behind are dropped first.
pub(crate) async fn fresh_schema() -> String {
    let url = postgres_url();
    drop_schemas().await;
    let mut admin = admin().await;
    let schema = format!("scale_{}_{}", std::process::id(), chrono::Utc::now().timestamp_millis());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\""))).execute(&mut admin).await.unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}

fn tenant(t: usize) -> TenantId {
    TenantId::new(format!("tenant-{t:05}")).unwrap()
}

/// In a worker process: `Some(())` once it has done its work, `None` when this process is not
/// a worker.
pub(crate) fn worker_main() -> Option<()> {
    let url = std::env::var(WORKER_OF).ok()?;
    let name = std::env::var("SCALE_WORKER_NAME").unwrap();
    let fake_url = std::env::var("SCALE_FAKE_URL").unwrap();
    let tenants = setting("SCALE_PG_TENANTS", 1000);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let store = SqlStore::connect(&url, 8).await.unwrap();
        let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), name);
        let scheduler = EmbeddedScheduler::new(engine);
        let context = BuildContext::default();
        let connection = ConnectionId::new("hr").unwrap();
        for t in 0..tenants {
            let config = FakeBambooHr::config_at(&fake_url, tenant(t), connection.clone());
            let adapter = integration_hris::build(&config, &context).unwrap();
            let job = SyncJob::new(tenant(t), connection.clone(), "employees", SyncMode::Incremental);
            scheduler.add(Schedule::every(adapter, job, Duration::from_secs(3600)).with_jitter(Duration::ZERO));
        }
        let mut out = tokio::io::stdout();
        out.write_all(b"ready\n").await.unwrap();
        out.flush().await.unwrap();
        let mut word = String::new();
        BufReader::new(tokio::io::stdin()).read_line(&mut word).await.unwrap();
        let mut report = String::new();
        for run in scheduler.tick().await {
            let done = run.completed_at.map_or(0, |d| d.timestamp_millis());
            let ok = run.status == RunStatus::Succeeded;
            report.push_str(&format!(
                "run\t{}\t{}\t{done}\t{ok}\t{}\n",
                run.tenant,
                run.started_at.timestamp_millis(),
                run.counts.added
            ));
        }
        out.write_all(report.as_bytes()).await.unwrap();
        out.flush().await.unwrap();
    });
    Some(())
}

/// One run a worker reported.
struct Reported {
    worker: usize,
    started: i64,
    done: i64,
    ok: bool,
    added: u64,
}

async fn round(fake: &FakeBambooHr, workers: usize, tenants: usize, rows: &mut Vec<Row>) -> f64 {
    let url = fresh_schema().await;
    // Migrated once, before the workers connect.
    drop(SqlStore::connect(&url, 1).await.unwrap());
    let mut children = Vec::new();
    for w in 0..workers {
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .env(WORKER_OF, &url)
            .env("SCALE_WORKER_NAME", format!("worker-{w}"))
            .env("SCALE_FAKE_URL", fake.base_url())
            .env("SCALE_PG_TENANTS", tenants.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("ready"), "worker {w} did not start");
        children.push((child, lines));
    }
    let word_at = chrono::Utc::now().timestamp_millis();
    let (started, cpu) = (Instant::now(), Cpu::now());
    for (child, _) in &mut children {
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all(b"go\n").await.unwrap();
        stdin.flush().await.unwrap();
    }
    let mut reported = Vec::new();
    let mut waiting = Vec::new();
    for (w, (mut child, mut lines)) in children.into_iter().enumerate() {
        waiting.push(tokio::spawn(async move {
            let mut runs = Vec::new();
            while let Some(line) = lines.next_line().await.unwrap() {
                let f: Vec<&str> = line.split('\t').collect();
                if f.first() == Some(&"run") {
                    let tenant = f[1].to_owned();
                    let run = Reported {
                        worker: w,
                        started: f[2].parse().unwrap(),
                        done: f[3].parse().unwrap(),
                        ok: f[4] == "true",
                        added: f[5].parse().unwrap(),
                    };
                    runs.push((tenant, run));
                }
            }
            assert!(child.wait().await.unwrap().success(), "worker {w} failed");
            runs
        }));
    }
    for w in waiting {
        reported.extend(w.await.unwrap());
    }
    let took = started.elapsed().as_secs_f64();
    let cpu = Cpu::now().since(cpu);
    let mut by_tenant: BTreeMap<String, Vec<Reported>> = BTreeMap::new();
    for (t, run) in reported {
        by_tenant.entry(t).or_default().push(run);
    }
    let starved = tenants - by_tenant.len();
    let twice = by_tenant.values().filter(|runs| runs.len() > 1).count();
    let overlapping = by_tenant
        .values()
        .filter(|runs| {
            runs.iter().enumerate().any(|(i, a)| runs[i + 1..].iter().any(|b| a.started < b.done && b.started < a.done))
        })
        .count();
    let failed = by_tenant.values().flatten().filter(|r| !r.ok).count();
    let records: u64 = by_tenant.values().flatten().map(|r| r.added).sum();
    let mut share = vec![0usize; workers];
    for run in by_tenant.values().flatten() {
        share[run.worker] += 1;
    }
    let mut to_done: Vec<f64> = by_tenant.values().flatten().map(|r| (r.done - word_at) as f64 / 1000.0).collect();
    let (p50, p99) = (quantile(&mut to_done, 0.5), quantile(&mut to_done, 0.99));
    let slowest = to_done.last().copied().unwrap_or(f64::NAN);
    rows.push(Row {
        what: format!("{workers} worker process(es) over PostgreSQL, {tenants} connections"),
        result: format!(
            "{records} records in {took:.1} s ({:.0} records/s); runs per worker {share:?}; {failed} failed, {starved} never synced, {twice} synced twice, {overlapping} at once; word to done p50 {p50:.1} s, p99 {p99:.1} s, slowest {slowest:.1} s; {cpu}",
            records as f64 / took
        ),
        target: "each once, none at once, none starved",
    });
    took
}

pub(crate) async fn shared_postgres(rows: &mut Vec<Row>) {
    let (tenants, records) = (setting("SCALE_PG_TENANTS", 1000), setting("SCALE_PG_RECORDS", 1000));
    let fake = FakeBambooHr::start(People::generate(28, records)).await;
    let one = round(&fake, 1, tenants, rows).await;
    let workers = setting("SCALE_PG_WORKERS", 4);
    let many = round(&fake, workers, tenants, rows).await;
    rows.push(Row {
        what: format!("  {workers} workers against one"),
        result: format!("{:.2}× the throughput (all on one 2-core machine, the fake included)", one / many),
        target: "scales with workers",
    });
    drop_schemas().await;
}
