//! Workers and failures on the SQL stores: four PostgreSQL workers with their own pools, one
//! killed mid-run; a store lost mid-run.

mod common;

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use integration_core::descriptor::SyncMode;
use integration_core::store::{RunQuery, RunStatus, StateStore, StreamScope};
use integration_core::{CancellationToken, ConnectionId, ErrorKind, SyncEngine, SyncJob, TenantId};
use integration_store::SqlStore;
use integration_testkit::memory_source::{MemorySource, STREAM};
use integration_testkit::poll::eventually;
use integration_testkit::sync_contract::cache;
use serde_json::json;

fn tenant() -> TenantId {
    TenantId::new("acme").expect("tenant")
}

fn job(connection: &str) -> SyncJob {
    SyncJob::new(tenant(), ConnectionId::new(connection).expect("connection"), STREAM, SyncMode::Incremental)
        .with_page_size(NonZeroU32::new(5).expect("non-zero"))
}

fn engine(store: &SqlStore, worker: &str) -> SyncEngine {
    SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), worker)
        // Ten heartbeats a lease: a loaded 2-core machine can delay one by hundreds of
        // milliseconds, and a lapsed lease fails the live worker's run. The victim's lapses in
        // 1.5 s.
        .with_lease(Duration::from_millis(1500), Duration::from_millis(150))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_workers_one_killed_every_stream_completes_once() {
    let Some(url) = common::postgres_schema().await else { return };
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(SqlStore::connect(&url, 2).await.expect("connect"));
    }
    let sources: BTreeMap<String, MemorySource> = (0..6)
        .map(|c| {
            let source = MemorySource::new();
            (0..30).for_each(|i| source.upsert(&format!("e{i:02}"), json!({ "c": c, "i": i })));
            (format!("c{c}"), source)
        })
        .collect();

    // Worker 0 takes c0 and dies after its first page.
    let victim_source = sources["c0"].clone();
    victim_source.hang_on_read(2);
    let victim = engine(&stores[0], "worker-0");
    let killed = tokio::spawn(async move { victim.run(&victim_source, &job("c0"), &CancellationToken::new()).await });
    let c0 = sources["c0"].clone();
    let hung = eventually(Duration::from_secs(10), || {
        let c0 = c0.clone();
        async move { (c0.reads() >= 2).then_some(()) }
    })
    .await;
    assert!(hung.is_some(), "worker 0 reached its second page");
    killed.abort();
    let _ = killed.await;
    sources["c0"].unhang();

    // Workers 1 to 3 share all six streams, each due once an hour.
    let mut workers = Vec::new();
    for (n, store) in stores.iter().enumerate().skip(1) {
        let (engine, sources, store) = (engine(store, &format!("worker-{n}")), sources.clone(), store.clone());
        workers.push(tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            let mut completed = Vec::new();
            while tokio::time::Instant::now() < deadline {
                for (connection, source) in &sources {
                    let hour = Duration::from_secs(3600);
                    if let Some(run) =
                        engine.run_due(source, &job(connection), hour, &CancellationToken::new()).await.expect("run")
                    {
                        assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
                        completed.push(connection.clone());
                    }
                }
                if all_done(&store, &sources).await {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            completed
        }));
    }
    let mut completed = Vec::new();
    for w in workers {
        completed.extend(w.await.expect("worker"));
    }
    completed.sort();
    assert_eq!(completed, ["c0", "c1", "c2", "c3", "c4", "c5"], "every stream completed exactly once");

    let store = &stores[1];
    for (connection, source) in &sources {
        let connection = ConnectionId::new(connection.as_str()).expect("connection");
        let scope = StreamScope::new(tenant(), connection.clone(), STREAM);
        assert_eq!(cache(store, &scope).await, source.snapshot(), "{connection}");
        let runs = store.list_runs(&tenant(), &RunQuery::new().connection(connection.clone())).await.expect("runs");
        let succeeded = runs.iter().filter(|r| r.status == RunStatus::Succeeded).count();
        assert_eq!(succeeded, 1, "{connection}: {runs:?}");
    }
}

/// Whether every stream has a succeeded run in the shared log.
async fn all_done(store: &SqlStore, sources: &BTreeMap<String, MemorySource>) -> bool {
    for connection in sources.keys() {
        let query = RunQuery::new().connection(ConnectionId::new(connection.as_str()).expect("connection"));
        let runs = store.list_runs(&tenant(), &query).await.expect("runs");
        if !runs.iter().any(|r| r.status == RunStatus::Succeeded) {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn a_store_lost_mid_run_fails_cleanly_and_the_next_run_resumes() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("integration-store");
    std::fs::create_dir_all(&dir).expect("temp folder");
    let path = dir.join(format!("lost-{}.db", uuid::Uuid::now_v7()));
    let store = SqlStore::sqlite(&path).await.expect("open");
    let source = MemorySource::new();
    (0..20).for_each(|i| source.upsert(&format!("e{i:02}"), json!({ "i": i })));
    source.hang_on_read(3);
    let (worker, src) = (engine(&store, "worker"), source.clone());
    let running = tokio::spawn(async move { worker.run(&src, &job("hr"), &CancellationToken::new()).await });
    let s = source.clone();
    let hung = eventually(Duration::from_secs(10), || {
        let s = s.clone();
        async move { (s.reads() >= 3).then_some(()) }
    })
    .await;
    assert!(hung.is_some());
    store.close().await; // the database goes away mid-run
    source.unhang();
    match running.await.expect("task") {
        Err(e) => assert_eq!(e.kind(), ErrorKind::Storage, "{e}"),
        Ok(run) => {
            assert_eq!(run.status, RunStatus::Failed);
            assert_eq!(run.error.expect("error").kind, ErrorKind::Storage.as_str());
        }
    }
    let reopened = SqlStore::sqlite(&path).await.expect("reopen");
    let run = engine(&reopened, "worker").run(&source, &job("hr"), &CancellationToken::new()).await;
    let run = run.expect("the next run");
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.counts.added, 10, "resumed after the two committed pages");
    let scope = StreamScope::new(tenant(), ConnectionId::new("hr").expect("c"), STREAM);
    assert_eq!(cache(&reopened, &scope).await, source.snapshot());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_over_one_database_share_the_work_without_double_runs() {
    use integration_core::schedule::{EmbeddedScheduler, Schedule, Scheduler};
    let Some(url) = common::postgres_schema().await else { return };
    let sources: Vec<MemorySource> = (0..6)
        .map(|c| {
            let source = MemorySource::new();
            (0..12).for_each(|i| source.upsert(&format!("e{i:02}"), json!({ "c": c, "i": i })));
            source
        })
        .collect();
    let mut schedulers = Vec::new();
    for n in 0..2 {
        let store = SqlStore::connect(&url, 2).await.expect("connect");
        let scheduler = EmbeddedScheduler::new(engine(&store, &format!("process-{n}")));
        for (c, source) in sources.iter().enumerate() {
            let job = job(&format!("c{c}"));
            scheduler.add(Schedule::every(Arc::new(source.clone()), job, Duration::from_secs(3600)));
        }
        schedulers.push(scheduler);
    }
    let (a, b) = tokio::join!(schedulers[0].tick(), schedulers[1].tick());
    let mut ran: Vec<String> = a.iter().chain(&b).map(|r| r.connection.to_string()).collect();
    ran.sort();
    assert_eq!(ran, ["c0", "c1", "c2", "c3", "c4", "c5"], "each stream once, between the two processes");
    let (a, b) = tokio::join!(schedulers[0].tick(), schedulers[1].tick());
    assert!(a.is_empty() && b.is_empty(), "nothing is due again");
}
