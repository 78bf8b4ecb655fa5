//! The sync engine's guarantees, checked against any store: a sync killed after any page resumes
//! to exactly the provider's records (none lost, none duplicated, the change stream consistent),
//! and records sharing a cursor value across page and run boundaries are neither lost nor
//! duplicated.
//!
//! ```no_run
//! use integration_core::store::MemoryStore;
//! use integration_testkit::sync_contract::{crash_and_resume, plans};
//! use proptest::prelude::*;
//!
//! proptest! {
//!     #[test]
//!     fn resumes(plan in plans()) {
//!         let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
//!         rt.block_on(crash_and_resume(MemoryStore::new(), plan));
//!     }
//! }
//! # fn main() {}
//! ```

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use integration_core::descriptor::SyncMode;
use integration_core::store::{ChangeKind, RecordStore, RunStatus, StreamScope};
use integration_core::{CancellationToken, ConnectionId, ErrorKind, SyncEngine, SyncJob, TenantId};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::memory_source::{MemorySource, STREAM};
use crate::store_contract::Stores;

/// One change to the source between sync cycles.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Create or update record `id` with `value`.
    Upsert(u8, u8),
    /// Delete record `id`.
    Delete(u8),
    /// Several writes sharing one cursor value.
    Batch(Vec<(u8, Option<u8>)>),
}

/// One cycle: change the source, sync in `mode` with a failure on read `crash_on` (which may
/// come after the sync has finished), then sync again to resume.
#[derive(Debug, Clone)]
pub struct Cycle {
    /// Changes before the sync.
    pub mutations: Vec<Mutation>,
    /// The sync mode.
    pub mode: SyncMode,
    /// Which read fails (1 = the first).
    pub crash_on: u64,
}

/// A generated scenario.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Records in the source before the first cycle.
    pub initial: u8,
    /// The page size.
    pub page_size: u32,
    /// Whether the source lets the engine read the next page while it writes one.
    pub read_ahead: bool,
    /// The cycles.
    pub cycles: Vec<Cycle>,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (0u8..40, any::<u8>()).prop_map(|(id, v)| Mutation::Upsert(id, v)),
        2 => (0u8..40).prop_map(Mutation::Delete),
        1 => proptest::collection::vec((0u8..40, proptest::option::of(any::<u8>())), 1..12).prop_map(Mutation::Batch),
    ]
}

fn cycle() -> impl Strategy<Value = Cycle> {
    (
        proptest::collection::vec(mutation(), 0..10),
        prop_oneof![Just(SyncMode::FullRefresh), Just(SyncMode::ResumableFullRefresh), Just(SyncMode::Incremental)],
        1u64..8,
    )
        .prop_map(|(mutations, mode, crash_on)| Cycle { mutations, mode, crash_on })
}

/// Scenarios for [`crash_and_resume`].
pub fn plans() -> impl Strategy<Value = Plan> {
    (0u8..30, 1u32..7, any::<bool>(), proptest::collection::vec(cycle(), 1..5))
        .prop_map(|(initial, page_size, read_ahead, cycles)| Plan { initial, page_size, read_ahead, cycles })
}

fn key(id: u8) -> String {
    format!("e{id:03}")
}

fn apply(source: &MemorySource, m: &Mutation) {
    match m {
        Mutation::Upsert(id, v) => source.upsert(&key(*id), json!({ "id": key(*id), "v": v })),
        Mutation::Delete(id) => source.delete(&key(*id)),
        Mutation::Batch(writes) => source.batch(|b| {
            for (id, v) in writes {
                match v {
                    Some(v) => b.upsert(&key(*id), json!({ "id": key(*id), "v": v })),
                    None => b.delete(&key(*id)),
                }
            }
        }),
    }
}

/// The cache's live records, by id.
pub async fn cache<S: RecordStore>(store: &S, scope: &StreamScope) -> BTreeMap<String, Value> {
    let records = store.records(scope, None, 100_000, false).await.expect("list the cache");
    records.into_iter().map(|r| (r.remote_id, r.data)).collect()
}

/// Folds the tenant's change stream into records by id, checking it never reports a change that
/// is not one.
pub async fn replay_changes<S: RecordStore>(store: &S, tenant: &TenantId) -> BTreeMap<String, Value> {
    let batch = store.changes_since(tenant, None, 1_000_000).await.expect("read changes");
    let mut state = BTreeMap::new();
    for change in batch.changes {
        match change.kind {
            ChangeKind::Added => {
                assert!(!state.contains_key(&change.remote_id), "added twice without a deletion: {}", change.remote_id);
                state.insert(change.remote_id, change.data);
            }
            ChangeKind::Updated => {
                assert_ne!(change.previous.as_ref(), Some(&change.data), "an update that changed nothing");
                assert!(state.contains_key(&change.remote_id), "updated before added: {}", change.remote_id);
                state.insert(change.remote_id, change.data);
            }
            ChangeKind::Deleted => {
                assert!(state.remove(&change.remote_id).is_some(), "deleted but not live: {}", change.remote_id);
            }
            _ => panic!("an unknown change kind"),
        }
    }
    state
}

/// Runs `plan` against `store`: every cycle's first sync dies on its planned read (or finishes
/// before it), the second resumes; after each, the cache and the replayed change stream must equal
/// the source exactly.
pub async fn crash_and_resume<S: Stores>(store: S, plan: Plan) {
    let tenant = TenantId::new("t-sync").expect("tenant");
    let connection = ConnectionId::new("memory").expect("connection");
    let scope = StreamScope::new(tenant.clone(), connection.clone(), STREAM);
    let source = if plan.read_ahead { MemorySource::new().reading_ahead() } else { MemorySource::new() };
    source.batch(|b| {
        for i in 0..plan.initial {
            b.upsert(&key(i), json!({ "id": key(i), "v": 0 }));
        }
    });
    let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "worker-1");
    let page = NonZeroU32::new(plan.page_size.max(1)).expect("non-zero");
    let never = CancellationToken::new();
    let first = Cycle { mutations: vec![], mode: SyncMode::FullRefresh, crash_on: 2 };
    for (n, cycle) in std::iter::once(&first).chain(&plan.cycles).enumerate() {
        cycle.mutations.iter().for_each(|m| apply(&source, m));
        let job = SyncJob::new(tenant.clone(), connection.clone(), STREAM, cycle.mode).with_page_size(page);
        source.fail_on_read(cycle.crash_on);
        let killed = engine.run(&source, &job, &never).await.expect("the run starts");
        source.clear_failure();
        match killed.status {
            RunStatus::Failed => {
                let error = killed.error.as_ref().expect("a failed run says why");
                assert_eq!(error.kind, ErrorKind::Transient.as_str(), "cycle {n}: {error:?}");
            }
            RunStatus::Succeeded => {}
            other => panic!("cycle {n}: unexpected status {other:?}"),
        }
        let resumed = engine.run(&source, &job, &never).await.expect("the resumed run starts");
        assert_eq!(resumed.status, RunStatus::Succeeded, "cycle {n}: {resumed:?}");
        let expected = source.snapshot();
        assert_eq!(
            cache(&store, &scope).await,
            expected,
            "cycle {n} ({:?}): the cache differs from the source",
            cycle.mode
        );
        assert_eq!(
            replay_changes(&store, &tenant).await,
            expected,
            "cycle {n}: the change stream differs from the source"
        );
    }
}

/// Many records sharing one cursor value, across a page boundary and across runs: all arrive
/// once; reading the boundary again changes nothing; later changes arrive exactly.
pub async fn cursor_boundaries<S: Stores>(store: S) {
    let tenant = TenantId::new("t-boundary").expect("tenant");
    let connection = ConnectionId::new("memory").expect("connection");
    let scope = StreamScope::new(tenant.clone(), connection.clone(), STREAM);
    let source = MemorySource::new();
    source.batch(|b| (0..25).for_each(|i| b.upsert(&key(i), json!({ "id": key(i), "v": 1 }))));
    let engine = SyncEngine::new(Arc::new(store.clone()), Arc::new(store.clone()), "worker-1");
    let job = SyncJob::new(tenant.clone(), connection.clone(), STREAM, SyncMode::Incremental)
        .with_page_size(NonZeroU32::new(10).expect("non-zero"));
    let never = CancellationToken::new();

    let run = engine.run(&source, &job, &never).await.expect("run");
    assert_eq!((run.status, run.counts.processed, run.counts.added), (RunStatus::Succeeded, 25, 25));
    // The cursor is inclusive: the next run reads all 25 again, and nothing changes.
    let run = engine.run(&source, &job, &never).await.expect("run");
    assert_eq!((run.counts.processed, run.counts.added, run.counts.updated), (25, 0, 0));
    // A second batch at a new cursor value, touching some old records and adding new ones.
    source.batch(|b| {
        for i in [3, 11, 24] {
            b.upsert(&key(i), json!({ "id": key(i), "v": 2 }));
        }
        for i in 25..32 {
            b.upsert(&key(i), json!({ "id": key(i), "v": 1 }));
        }
        b.delete(&key(7));
    });
    let run = engine.run(&source, &job, &never).await.expect("run");
    assert_eq!((run.counts.added, run.counts.updated, run.counts.deleted), (7, 3, 1), "{run:?}");
    assert_eq!(cache(&store, &scope).await, source.snapshot());
    assert_eq!(replay_changes(&store, &tenant).await, source.snapshot());
    let changes = store.changes_since(&tenant, None, 1000).await.expect("changes").changes;
    assert_eq!(changes.len(), 25 + 7 + 3 + 1, "every change once, nothing twice");
}
