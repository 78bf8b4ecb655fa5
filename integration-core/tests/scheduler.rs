//! The embedded scheduler on the in-memory store: due and not due, backoff after failures,
//! pause and resume, one run per stream at a time, and the run loop.

use std::sync::Arc;
use std::time::Duration;

use integration_core::descriptor::SyncMode;
use integration_core::schedule::{EmbeddedScheduler, Schedule, Scheduler};
use integration_core::store::{MemoryStore, RunQuery, RunStatus, StateStore};
use integration_core::*;
use integration_testkit::memory_source::{MemorySource, STREAM};
use integration_testkit::poll::eventually;
use serde_json::json;

fn tenant() -> TenantId {
    TenantId::new("acme").expect("tenant")
}

fn conn() -> ConnectionId {
    ConnectionId::new("hr").expect("connection")
}

fn setup(every: Duration) -> (MemoryStore, MemorySource, Arc<EmbeddedScheduler>) {
    let store = MemoryStore::new();
    let source = MemorySource::new();
    (0..5).for_each(|i| source.upsert(&format!("e{i}"), json!({"i": i})));
    let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "worker-1");
    let scheduler =
        Arc::new(EmbeddedScheduler::new(engine).with_backoff(Duration::from_millis(50), Duration::from_secs(5)));
    let job = SyncJob::new(tenant(), conn(), STREAM, SyncMode::Incremental);
    scheduler.add(Schedule::every(Arc::new(source.clone()), job, every).with_jitter(Duration::ZERO));
    (store, source, scheduler)
}

#[tokio::test]
async fn a_schedule_runs_when_due_and_not_before() {
    let (_, _, scheduler) = setup(Duration::from_secs(3600));
    let runs = scheduler.tick().await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Succeeded);
    assert!(scheduler.tick().await.is_empty());
    assert!(scheduler.remove(&tenant(), &conn(), STREAM));
    assert!(!scheduler.remove(&tenant(), &conn(), STREAM));
}

#[tokio::test]
async fn failures_back_off_exponentially() {
    let (store, source, scheduler) = setup(Duration::from_millis(10));
    let mut starts = Vec::new();
    for n in 1..=3u64 {
        source.fail_on_read(1);
        let run = eventually(Duration::from_secs(10), || {
            let s = scheduler.clone();
            async move { s.tick().await.pop() }
        })
        .await
        .expect("the schedule comes due again");
        assert_eq!(run.status, RunStatus::Failed, "attempt {n}");
        starts.push(tokio::time::Instant::now());
    }
    let first_gap = starts[1] - starts[0];
    let second_gap = starts[2] - starts[1];
    assert!(first_gap >= Duration::from_millis(50), "{first_gap:?}");
    assert!(second_gap >= Duration::from_millis(100), "the wait doubles: {second_gap:?}");
    source.clear_failure();
    let ok = eventually(Duration::from_secs(10), || {
        let s = scheduler.clone();
        async move { s.tick().await.pop() }
    })
    .await
    .expect("recovers");
    assert_eq!(ok.status, RunStatus::Succeeded);
    let runs = store.list_runs(&tenant(), &RunQuery::new()).await.expect("runs");
    assert_eq!(runs.len(), 4);
}

#[tokio::test]
async fn paused_connections_do_not_run_until_resumed() {
    let (_, _, scheduler) = setup(Duration::from_secs(3600));
    scheduler.pause(&tenant(), &conn());
    assert!(scheduler.tick().await.is_empty());
    scheduler.resume(&tenant(), &conn());
    assert_eq!(scheduler.tick().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_per_stream_at_a_time() {
    let (_, source, scheduler) = setup(Duration::from_secs(3600));
    source.hang_on_read(1);
    let first = tokio::spawn({
        let s = scheduler.clone();
        async move { s.tick().await }
    });
    let hung = eventually(Duration::from_secs(10), || {
        let src = source.clone();
        async move { (src.reads() >= 1).then_some(()) }
    })
    .await;
    assert!(hung.is_some());
    assert!(scheduler.tick().await.is_empty(), "the running stream is not started twice");
    source.unhang();
    assert_eq!(first.await.expect("tick").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_loop_syncs_at_its_interval_without_overlap() {
    let (store, source, scheduler) = setup(Duration::from_millis(50));
    let shutdown = CancellationToken::new();
    let running = tokio::spawn({
        let (s, stop) = (scheduler.clone(), shutdown.clone());
        async move { s.run(stop).await }
    });
    source.upsert("e9", json!({"i": 9}));
    let runs = eventually(Duration::from_secs(10), || {
        let store = store.clone();
        async move {
            let runs = store.list_runs(&tenant(), &RunQuery::new()).await.expect("runs");
            (runs.iter().filter(|r| r.status == RunStatus::Succeeded).count() >= 3).then_some(runs)
        }
    })
    .await
    .expect("three runs");
    shutdown.cancel();
    running.await.expect("the loop stops");
    let mut done: Vec<_> = runs.iter().filter(|r| r.completed_at.is_some()).collect();
    done.sort_by_key(|r| r.started_at);
    for pair in done.windows(2) {
        assert!(pair[1].started_at >= pair[0].completed_at.expect("completed"), "runs overlap: {pair:?}");
    }
}

#[tokio::test]
async fn a_paused_stream_is_skipped_until_resumed() {
    let (_, _, scheduler) = setup(Duration::from_millis(1));
    scheduler.pause_stream(&tenant(), &conn(), STREAM);
    assert!(scheduler.tick().await.is_empty(), "a paused stream does not run");
    assert!(!scheduler.run_now(&tenant(), &conn(), "departments"), "no such schedule");
    assert!(scheduler.run_now(&tenant(), &conn(), STREAM));
    assert!(scheduler.tick().await.is_empty(), "sync now does not override a pause");
    scheduler.resume_stream(&tenant(), &conn(), STREAM);
    assert_eq!(scheduler.tick().await.len(), 1);
}

#[tokio::test]
async fn sync_now_runs_a_stream_that_is_not_due() {
    let (store, _, scheduler) = setup(Duration::from_secs(3600));
    assert_eq!(scheduler.tick().await.len(), 1);
    assert!(scheduler.tick().await.is_empty(), "not due for an hour");
    assert!(scheduler.run_now(&tenant(), &conn(), STREAM));
    let runs = scheduler.tick().await;
    assert_eq!(runs.len(), 1, "sync now ran it");
    assert_eq!(runs[0].status, RunStatus::Succeeded);
    assert!(scheduler.tick().await.is_empty(), "once");
    let logged = store.list_runs(&tenant(), &RunQuery::new()).await.expect("runs");
    assert_eq!(logged.len(), 2);
}

#[tokio::test]
async fn no_more_than_the_allowed_runs_go_at_once() {
    let store = MemoryStore::new();
    let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "worker-1");
    let scheduler = EmbeddedScheduler::new(engine).with_max_concurrent(2);
    let source = MemorySource::new();
    (0..3).for_each(|i| source.upsert(&format!("e{i}"), json!({"i": i})));
    for c in 0..6 {
        let job = SyncJob::new(tenant(), ConnectionId::new(format!("c{c}")).unwrap(), STREAM, SyncMode::Incremental);
        scheduler
            .add(Schedule::every(Arc::new(source.clone()), job, Duration::from_secs(3600)).with_jitter(Duration::ZERO));
    }
    let runs = scheduler.tick().await;
    assert_eq!(runs.len(), 6);
    // Two at a time: no run started before two others had ended, after the first two.
    let mut spans: Vec<_> = runs.iter().map(|r| (r.started_at, r.completed_at.unwrap())).collect();
    spans.sort();
    for (i, (start, _)) in spans.iter().enumerate() {
        let overlapping = spans.iter().filter(|(s, e)| s <= start && e > start).count();
        assert!(overlapping <= 2, "run {i} started with {overlapping} running");
    }
}
