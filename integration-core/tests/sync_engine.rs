//! The sync engine on the in-memory store: crash and resume (property), cursor boundaries, dry
//! runs, rejected records, cancellation, leases, and bad adapters.

mod common;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use common::{ReadOnly, Reads, engine, tenant};
use integration_core::descriptor::{Descriptor, SyncMode};
use integration_core::store::{MemoryStore, RecordStore, RunQuery, RunStatus, StateStore, StreamScope};
use integration_core::*;
use integration_testkit::memory_source::{MemorySource, STREAM};
use integration_testkit::sync_contract::{cache, crash_and_resume, cursor_boundaries, plans};
use proptest::prelude::*;
use serde_json::json;

fn conn() -> ConnectionId {
    ConnectionId::new("memory").expect("connection")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_sync_killed_after_any_page_resumes_to_exactly_the_source(plan in plans()) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(crash_and_resume(MemoryStore::new(), plan));
    }
}

#[tokio::test]
async fn records_sharing_a_cursor_value_are_neither_lost_nor_duplicated() {
    cursor_boundaries(MemoryStore::new()).await;
}

#[tokio::test]
async fn a_dry_run_reports_what_would_change_and_writes_nothing() {
    let store = MemoryStore::new();
    let source = MemorySource::new();
    (0..5).for_each(|i| source.upsert(&format!("e{i}"), json!({"v": 1})));
    let scope = StreamScope::new(tenant(), conn(), STREAM);
    let never = CancellationToken::new();
    let full = SyncJob::new(tenant(), conn(), STREAM, SyncMode::FullRefresh);
    engine(&store).run(&source, &full, &never).await.expect("run");
    source.upsert("e1", json!({"v": 2}));
    source.upsert("e9", json!({"v": 1}));
    let before = store.changes_since(&tenant(), None, 100).await.expect("changes").changes.len();
    let dry = engine(&store).run(&source, &full.clone().dry_run(), &never).await.expect("dry run");
    assert!(dry.dry_run);
    assert_eq!((dry.counts.added, dry.counts.updated, dry.counts.processed), (1, 1, 6));
    assert_eq!(
        store.changes_since(&tenant(), None, 100).await.expect("changes").changes.len(),
        before,
        "nothing written"
    );
    assert_eq!(cache(&store, &scope).await.len(), 5);
    assert!(store.record(&scope, "e9").await.expect("read").is_none());
}

/// Maps only records with a numeric `salary`, rejecting the rest with the field named.
#[derive(Debug)]
struct Strict(Descriptor);

#[async_trait]
impl Reads for Strict {
    fn descriptor(&self) -> &Descriptor {
        &self.0
    }
    async fn read(&self, _request: ReadRequest) -> Result<Page> {
        let raw =
            [json!({"id": "1", "salary": 10}), json!({"id": "2", "salary": "ten"}), json!({"id": "3", "salary": 30})];
        let (mut records, mut rejected) = (Vec::new(), Vec::new());
        for r in raw {
            let id = r["id"].as_str().unwrap_or_default().to_owned();
            match r["salary"].as_i64() {
                Some(s) => records.push(Record::new(id, json!({"salary": s})).with_remote_data(r.clone())),
                None => rejected.push(RejectedRecord::new(
                    Some(id.clone()),
                    r.clone(),
                    Error::validation("salary", "salary must be a number").with_record(id),
                )),
            }
        }
        Ok(Page::last(records, None).with_rejected(rejected))
    }
}

#[tokio::test]
async fn records_that_fail_to_map_are_counted_and_kept_and_the_page_goes_on() {
    let store = MemoryStore::new();
    let adapter = ReadOnly(Strict(common::descriptor("strict")));
    let job = SyncJob::new(tenant(), conn(), "employees", SyncMode::FullRefresh);
    let run = engine(&store).run(&adapter, &job, &CancellationToken::new()).await.expect("run");
    assert_eq!(run.status, RunStatus::PartiallySucceeded);
    assert_eq!((run.counts.processed, run.counts.added, run.counts.failed), (2, 2, 1));
    let kept = &run.rejected[0];
    assert_eq!((kept.remote_id.as_deref(), kept.field.as_deref()), (Some("2"), Some("salary")));
    assert_eq!(kept.raw["salary"], "ten");
    let logged = store.run(&tenant(), run.id).await.expect("read").expect("logged");
    assert_eq!(logged.rejected, run.rejected, "kept in the run log");
}

#[tokio::test]
async fn cancellation_stops_at_a_page_boundary_with_a_consistent_checkpoint() {
    let store = MemoryStore::new();
    let source = MemorySource::new();
    (0..30).for_each(|i| source.upsert(&format!("e{i:02}"), json!({"v": i})));
    let cancel = CancellationToken::new();
    cancel.cancel();
    let job =
        SyncJob::new(tenant(), conn(), STREAM, SyncMode::Incremental).with_page_size(NonZeroU32::new(10).expect("nz"));
    let run = engine(&store).run(&source, &job, &cancel).await.expect("run");
    assert_eq!((run.status, run.counts.processed), (RunStatus::Cancelled, 0));
    // Cancelled between pages: what was written is consistent with the committed checkpoint.
    let run = engine(&store).run(&source, &job, &CancellationToken::new()).await.expect("run");
    assert_eq!((run.status, run.counts.added), (RunStatus::Succeeded, 30));
}

#[tokio::test]
async fn a_second_worker_cannot_run_the_same_stream() {
    let store = MemoryStore::new();
    let lease =
        store.acquire_lease(&tenant(), "sync/memory/employees", "worker-0", std::time::Duration::from_secs(60)).await;
    assert!(lease.expect("lease").is_some());
    let job = SyncJob::new(tenant(), conn(), STREAM, SyncMode::FullRefresh);
    let err = engine(&store).run(&MemorySource::new(), &job, &CancellationToken::new()).await.expect_err("busy");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(store.list_runs(&tenant(), &RunQuery::new()).await.expect("runs").is_empty(), "no run logged");
}

#[tokio::test]
async fn unknown_streams_and_unsupported_modes_are_refused_up_front() {
    let store = MemoryStore::new();
    let never = CancellationToken::new();
    let err = engine(&store)
        .run(&MemorySource::new(), &SyncJob::new(tenant(), conn(), "payroll", SyncMode::FullRefresh), &never)
        .await
        .expect_err("unknown stream");
    assert_eq!((err.kind(), err.field()), (ErrorKind::Validation, Some("stream")));
    let err = engine(&store)
        .run(&MemorySource::new(), &SyncJob::new(tenant(), conn(), STREAM, SyncMode::EventDriven), &never)
        .await
        .expect_err("event-driven is not a read mode");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

/// Claims more pages but never moves its checkpoint.
#[derive(Debug)]
struct Stuck(Descriptor, AtomicUsize);

#[async_trait]
impl Reads for Stuck {
    fn descriptor(&self) -> &Descriptor {
        &self.0
    }
    async fn read(&self, _request: ReadRequest) -> Result<Page> {
        self.1.fetch_add(1, Ordering::SeqCst);
        Ok(Page::more(vec![], Checkpoint::new(json!({"cursor": "same"}))))
    }
}

#[tokio::test]
async fn an_adapter_repeating_its_checkpoint_fails_instead_of_looping() {
    let store = MemoryStore::new();
    let stuck = ReadOnly(Stuck(common::descriptor("stuck"), AtomicUsize::new(0)));
    let job = SyncJob::new(tenant(), conn(), "employees", SyncMode::Incremental);
    let run = engine(&store).run(&stuck, &job, &CancellationToken::new()).await.expect("run");
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error.as_ref().map(|e| e.kind.as_str()), Some("invalid response"));
    assert_eq!(stuck.0.1.load(Ordering::SeqCst), 2, "stopped at the first repeat");
}

#[tokio::test]
async fn webhook_changes_take_the_same_write_path() {
    let store = MemoryStore::new();
    let changes = vec![
        RecordChange::new(STREAM, Record::new("e1", json!({"v": 1}))),
        RecordChange::new(STREAM, Record::new("e1", json!({"v": 1}))),
        RecordChange::new("departments", Record::new("d1", json!({"name": "R&D"}))),
    ];
    let summary = engine(&store).apply_changes(&tenant(), &conn(), &changes).await.expect("apply");
    assert_eq!((summary[STREAM].added, summary[STREAM].unchanged), (1, 1));
    assert_eq!(summary["departments"].added, 1);
}

#[tokio::test]
async fn a_late_webhook_never_undoes_a_newer_state() {
    let store = MemoryStore::new();
    let at = |minute: u32| {
        chrono::DateTime::parse_from_rfc3339(&format!("2026-12-07T10:{minute:02}:00Z")).expect("a time").to_utc()
    };
    let change = |v: &str, minute: u32| {
        let mut record = Record::new("pay-1", json!({"status": v}));
        record.modified_at = Some(at(minute));
        RecordChange::new("payment_intents", record)
    };
    let engine = engine(&store);
    // Captured at 10:05, then the authorisation of 10:01 arrives late: the capture stays.
    engine.apply_changes(&tenant(), &conn(), &[change("captured", 5)]).await.expect("apply");
    let late = engine.apply_changes(&tenant(), &conn(), &[change("authorised", 1)]).await.expect("apply");
    assert!(late.get("payment_intents").is_none_or(|s| s.added + s.updated == 0), "{late:?}");
    // Within one delivery too, whatever the order.
    engine.apply_changes(&tenant(), &conn(), &[change("refunded", 9), change("captured", 5)]).await.expect("apply");
    let scope = StreamScope::new(tenant(), conn(), "payment_intents");
    let stored = store.record(&scope, "pay-1").await.expect("read").expect("kept");
    assert_eq!(stored.data["status"], "refunded");
    // A newer one is applied; one without a time is applied as before.
    engine.apply_changes(&tenant(), &conn(), &[change("disputed", 30)]).await.expect("apply");
    assert_eq!(store.record(&scope, "pay-1").await.expect("read").expect("kept").data["status"], "disputed");
    let untimed = RecordChange::new("payment_intents", Record::new("pay-1", json!({"status": "untimed"})));
    engine.apply_changes(&tenant(), &conn(), &[untimed]).await.expect("apply");
    assert_eq!(store.record(&scope, "pay-1").await.expect("read").expect("kept").data["status"], "untimed");
}

#[tokio::test]
async fn the_run_log_tells_what_happened() {
    let store = MemoryStore::new();
    let source = MemorySource::new();
    (0..3).for_each(|i| source.upsert(&format!("e{i}"), json!({"v": i})));
    let job = SyncJob::new(tenant(), conn(), STREAM, SyncMode::FullRefresh);
    engine(&store).run(&source, &job, &CancellationToken::new()).await.expect("run");
    source.delete("e1");
    source.fail_on_read(1);
    let failed = engine(&store).run(&source, &job, &CancellationToken::new()).await.expect("run");
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed.error.as_ref().expect("error").message.contains("injected failure"));
    let ok = engine(&store).run(&source, &job, &CancellationToken::new()).await.expect("run");
    assert_eq!((ok.status, ok.counts.deleted), (RunStatus::Succeeded, 1));
    let runs = store.list_runs(&tenant(), &RunQuery::new()).await.expect("runs");
    let statuses: Vec<RunStatus> = runs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [RunStatus::Succeeded, RunStatus::Failed, RunStatus::Succeeded]);
    assert!(runs.iter().all(|r| r.completed_at.is_some() && r.provider.as_str() == "memory"));
}

#[tokio::test]
async fn an_abandoned_run_lets_its_lease_lapse_so_another_worker_takes_over() {
    let store = MemoryStore::new();
    let source = MemorySource::new();
    (0..20).for_each(|i| source.upsert(&format!("e{i:02}"), json!({"v": i})));
    let short = |name: &str| {
        SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), name)
            .with_lease(std::time::Duration::from_millis(200), std::time::Duration::from_millis(50))
    };
    let job =
        SyncJob::new(tenant(), conn(), STREAM, SyncMode::Incremental).with_page_size(NonZeroU32::new(5).expect("nz"));
    source.hang_on_read(2);
    let dead = short("dead");
    let (source2, job2) = (source.clone(), job.clone());
    let abandoned = tokio::spawn(async move { dead.run(&source2, &job2, &CancellationToken::new()).await });
    let hung = integration_testkit::poll::eventually(std::time::Duration::from_secs(10), || {
        let s = source.clone();
        async move { (s.reads() >= 2).then_some(()) }
    })
    .await;
    assert!(hung.is_some(), "the first worker reached its second page");
    abandoned.abort(); // the worker dies mid-run
    let _ = abandoned.await;
    source.unhang();
    let live = short("live");
    let took_over = integration_testkit::poll::eventually(std::time::Duration::from_secs(10), || {
        let (live, source, job) = (live.clone(), source.clone(), job.clone());
        async move {
            match live.run(&source, &job, &CancellationToken::new()).await {
                Ok(run) => Some(run),
                Err(e) if e.kind() == ErrorKind::Conflict => None,
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("the lapsed lease is taken over");
    assert_eq!(took_over.status, RunStatus::Succeeded);
    assert_eq!(took_over.counts.added, 15, "resumed after the first committed page, not from scratch");
    let scope = StreamScope::new(tenant(), conn(), STREAM);
    assert_eq!(cache(&store, &scope).await, source.snapshot());
}

#[tokio::test]
async fn run_due_skips_a_stream_synced_within_the_interval() {
    let store = MemoryStore::new();
    let source = MemorySource::new();
    source.upsert("e1", json!({"v": 1}));
    let job = SyncJob::new(tenant(), conn(), STREAM, SyncMode::Incremental);
    let hour = std::time::Duration::from_secs(3600);
    let first = engine(&store).run_due(&source, &job, hour, &CancellationToken::new()).await.expect("run");
    assert_eq!(first.map(|r| r.status), Some(RunStatus::Succeeded));
    let second = engine(&store).run_due(&source, &job, hour, &CancellationToken::new()).await.expect("run");
    assert!(second.is_none(), "not due again within the hour");
    let third = engine(&store).run_due(&source, &job, std::time::Duration::ZERO, &CancellationToken::new()).await;
    assert!(third.expect("run").is_some(), "due with a zero interval");
}

/// A records store that notes, as each page is written, how many reads the source has served.
#[derive(Debug, Clone)]
struct Watching {
    inner: MemoryStore,
    source: MemorySource,
    seen: Arc<std::sync::Mutex<Vec<u64>>>,
}

#[async_trait]
impl RecordStore for Watching {
    async fn write_page(
        &self,
        scope: &StreamScope,
        page: integration_core::store::PageWrite,
    ) -> Result<integration_core::store::WriteSummary> {
        // A store's write takes a while (it yields): long enough for a read sent beside it.
        tokio::task::yield_now().await;
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).push(self.source.reads());
        self.inner.write_page(scope, page).await
    }
    async fn delete_unseen(&self, scope: &StreamScope, run: RunId, checkpoint: Option<&Checkpoint>) -> Result<u64> {
        self.inner.delete_unseen(scope, run, checkpoint).await
    }
    async fn record(
        &self,
        scope: &StreamScope,
        remote_id: &str,
    ) -> Result<Option<integration_core::store::StoredRecord>> {
        self.inner.record(scope, remote_id).await
    }
    async fn records(
        &self,
        scope: &StreamScope,
        after: Option<&str>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<integration_core::store::StoredRecord>> {
        self.inner.records(scope, after, limit, include_deleted).await
    }
    async fn changes_since(
        &self,
        tenant: &TenantId,
        cursor: Option<&integration_core::store::ChangeCursor>,
        limit: usize,
    ) -> Result<integration_core::store::ChangeBatch> {
        self.inner.changes_since(tenant, cursor, limit).await
    }
}

#[tokio::test]
async fn a_stream_that_reads_ahead_is_read_while_the_page_before_is_written() {
    for (read_ahead, expected) in [(false, [1, 2, 3]), (true, [2, 3, 3])] {
        let source = if read_ahead { MemorySource::new().reading_ahead() } else { MemorySource::new() };
        (0..5).for_each(|i| source.upsert(&format!("e{i}"), json!({"v": i})));
        let store = MemoryStore::new();
        let watching = Watching { inner: store.clone(), source: source.clone(), seen: Arc::default() };
        let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(watching.clone()), "worker-1");
        let job = SyncJob::new(tenant(), conn(), STREAM, SyncMode::Incremental)
            .with_page_size(NonZeroU32::new(2).expect("nz"));
        let run = engine.run(&source, &job, &CancellationToken::new()).await.expect("run");
        assert_eq!((run.status, run.counts.added), (RunStatus::Succeeded, 5));
        // Reads served when pages 1, 2 and 3 were written: reading ahead, the next page was
        // already read; otherwise only the page being written. No read more either way.
        assert_eq!(*watching.seen.lock().expect("seen"), expected, "read ahead: {read_ahead}");
        assert_eq!(source.reads(), 3, "read ahead: {read_ahead}");
    }
}

#[tokio::test]
async fn a_read_ahead_that_fails_stops_the_run_after_the_page_before_is_committed() {
    let source = MemorySource::new().reading_ahead();
    (0..6).for_each(|i| source.upsert(&format!("e{i}"), json!({"v": i})));
    let store = MemoryStore::new();
    let job =
        SyncJob::new(tenant(), conn(), STREAM, SyncMode::Incremental).with_page_size(NonZeroU32::new(2).expect("nz"));
    source.fail_on_read(2); // read while page 1 is written
    let run = engine(&store).run(&source, &job, &CancellationToken::new()).await.expect("run");
    assert_eq!((run.status, run.counts.added), (RunStatus::Failed, 2), "{run:?}");
    let committed = store.checkpoint(&StreamScope::new(tenant(), conn(), STREAM)).await.expect("read");
    assert!(committed.is_some(), "page 1 and its checkpoint were committed before the failure stopped the run");
    source.clear_failure();
    let run = engine(&store).run(&source, &job, &CancellationToken::new()).await.expect("run");
    assert_eq!((run.status, run.counts.added), (RunStatus::Succeeded, 4), "resumed after page 1: {run:?}");
}

/// A source that has forgotten the changes before its checkpoints, as QuickBooks does after 30
/// days and Google after a sync token expires: an incremental read from one is
/// `ResyncRequired`.
#[derive(Debug)]
struct Forgetful {
    source: MemorySource,
    forgotten: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Reads for Forgetful {
    fn descriptor(&self) -> &Descriptor {
        self.source.descriptor()
    }
    async fn read(&self, request: ReadRequest) -> Result<Page> {
        if request.mode == SyncMode::Incremental
            && request.checkpoint.is_some()
            && self.forgotten.load(Ordering::SeqCst)
        {
            return Err(Error::resync_required("changes since the checkpoint are no longer kept"));
        }
        self.source.read(request).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_forgot_the_checkpoint_is_read_again_in_full_deletions_included() {
    let store = MemoryStore::new();
    let source = MemorySource::new();
    (0..25).for_each(|n| source.upsert(&format!("e{n:02}"), json!({"n": n})));
    let adapter = ReadOnly(Forgetful { source: source.clone(), forgotten: false.into() });
    let job =
        SyncJob::new(tenant(), conn(), STREAM, SyncMode::Incremental).with_page_size(NonZeroU32::MIN.saturating_add(6));
    let never = CancellationToken::new();
    let first = engine(&store).run(&adapter, &job, &never).await.expect("run");
    assert_eq!((first.status, first.counts.added), (RunStatus::Succeeded, 25));

    // Deleted at the provider, and the change feed forgotten: only a full pass finds out.
    source.delete("e03");
    source.delete("e17");
    source.upsert("e30", json!({"n": 30}));
    adapter.0.forgotten.store(true, Ordering::SeqCst);
    let resync = engine(&store).run(&adapter, &job, &never).await.expect("run");
    assert_eq!(resync.status, RunStatus::Succeeded, "{:?}", resync.error);
    assert_eq!((resync.counts.added, resync.counts.deleted), (1, 2), "{:?}", resync.counts);
    let scope = StreamScope::new(tenant(), conn(), STREAM);
    let expected: std::collections::BTreeMap<String, serde_json::Value> = source.snapshot();
    assert_eq!(cache(&store, &scope).await, expected, "the cache equals the source");

    // The next incremental run goes on from the full pass.
    adapter.0.forgotten.store(false, Ordering::SeqCst);
    source.upsert("e31", json!({"n": 31}));
    let next = engine(&store).run(&adapter, &job, &never).await.expect("run");
    assert_eq!((next.status, next.counts.added, next.counts.deleted), (RunStatus::Succeeded, 1, 0));
}

/// Reports a folder `/a` and what it holds, then — as Dropbox does — only the folder's deletion,
/// naming `/a/` as a prefix deleted with it.
#[derive(Debug)]
struct FolderGone(Descriptor, AtomicUsize);

#[async_trait]
impl Reads for FolderGone {
    fn descriptor(&self) -> &Descriptor {
        &self.0
    }
    async fn read(&self, _request: ReadRequest) -> Result<Page> {
        let checkpoint = Some(Checkpoint::new(json!({"at": 1})));
        Ok(match self.1.fetch_add(1, Ordering::SeqCst) {
            0 => Page::last(
                ["/a", "/a/x", "/a/y/z", "/a-b", "/b"].map(|id| Record::new(id, json!({"id": id}))).into(),
                checkpoint,
            ),
            _ => Page::last(vec![Record::deleted("/a"), Record::new("/a/y/z", json!({"id": "back"}))], checkpoint)
                .with_deleted_under(vec!["/a/".into()]),
        })
    }
}

#[tokio::test]
async fn a_prefix_deleted_with_a_folder_takes_its_cached_records_and_nothing_else() {
    let store = MemoryStore::new();
    let source = ReadOnly(FolderGone(common::descriptor("folders"), AtomicUsize::new(0)));
    let job = SyncJob::new(tenant(), conn(), "employees", SyncMode::Incremental);
    let never = CancellationToken::new();
    let first = engine(&store).run(&source, &job, &never).await.expect("run");
    assert_eq!(first.counts.added, 5);
    let second = engine(&store).run(&source, &job, &never).await.expect("run");
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    let scope = StreamScope::new(tenant(), conn(), "employees");
    let live: Vec<String> = cache(&store, &scope).await.into_keys().collect();
    assert_eq!(
        live,
        ["/a-b", "/a/y/z", "/b"],
        "the folder and what it held are gone; a record the page brought back stays"
    );
    assert_eq!(
        (second.counts.deleted, second.counts.updated),
        (2, 1),
        "/a and /a/x gone, /a/y/z changed: {:?}",
        second.counts
    );
}
