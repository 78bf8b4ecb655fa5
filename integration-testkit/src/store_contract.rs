//! The store contract suite: the behaviour every implementation of the store traits must have,
//! written once and run against each (memory here; SQLite and PostgreSQL in `integration-store`).
//!
//! Each check is a public `async fn` taking a fresh store. [`store_contract_suite!`] turns them
//! into one `#[tokio::test]` each:
//!
//! ```no_run
//! use integration_core::store::MemoryStore;
//!
//! integration_testkit::store_contract_suite!(async { Some(MemoryStore::new()) });
//! # fn main() {}
//! ```
//!
//! The expression yields `Option<store>`: `None` skips the suite's tests (a missing database on a
//! developer's laptop — the expression should print why, and fail instead under `CI=true`).
//!
//! Checks that need time to pass use short leases and poll with a deadline, so they hold for
//! stores that use the database's clock.
//!
//! [`store_contract_suite!`]: crate::store_contract_suite

use integration_core::mapping::{Check, FieldMapping, Mappings, Rule, Transform};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use integration_core::config::{ConnectionStatus, Settings};
use integration_core::crypto::SealedBox;
use integration_core::descriptor::{Domain, SyncMode};
use integration_core::store::Recorded;
use integration_core::store::{
    AuditAction, AuditEvent, AuditSink, AutomationRun, AutomationRunQuery, AutomationRunStatus, AutomationStore,
    ChangeKind, Claim, ClaimRequest, ClaimedRun, ConfigStore, DeliveryOutcome, DeliveryQuery, DeliveryStatus,
    DeliveryStore, Enqueued, FinishedDelivery, IdempotencyStore, NewAutomationRun, PageWrite, RecordStore, RunCounts,
    RunLease, RunQuery, RunRelease, RunStatus, StateStore, StepRecord, StepStatus, StoredConfig, StreamScope, SyncRun,
    TokenStore, WebhookDelivery,
};
use integration_core::{
    AutomationRunId, Checkpoint, ConnectionId, DeliveryId, ErrorKind, ProviderId, Record, RunId, TenantId,
};
use serde_json::json;

use crate::poll::eventually;

/// Everything a full store implements: the eight store traits. Blanket-implemented.
pub trait Stores:
    ConfigStore
    + StateStore
    + TokenStore
    + IdempotencyStore
    + RecordStore
    + DeliveryStore
    + AuditSink
    + AutomationStore
    + Clone
    + 'static
{
}

impl<T> Stores for T where
    T: ConfigStore
        + StateStore
        + TokenStore
        + IdempotencyStore
        + RecordStore
        + DeliveryStore
        + AuditSink
        + AutomationStore
        + Clone
        + 'static
{
}

/// The names of every check, for the macro.
#[macro_export]
macro_rules! store_contract_suite {
    ($make:expr) => {
        $crate::store_contract_suite!(@each $make;
            config_put_get_list_delete,
            config_put_is_compare_and_swap,
            config_targeted_updates_bump_the_revision,
            config_is_isolated_by_tenant,
            checkpoints_round_trip_and_are_isolated,
            runs_are_logged_newest_first,
            leases_are_exclusive_and_fenced,
            leases_expire,
            tokens_are_compare_and_swap,
            token_refresh_lock_is_exclusive_and_expires,
            tokens_are_isolated_by_tenant,
            idempotency_claim_then_complete,
            idempotency_concurrent_claims_acquire_once,
            idempotency_lapsed_claims_are_fenced,
            idempotency_release_allows_a_retry,
            idempotency_is_isolated_and_purgeable,
            records_count_added_updated_unchanged_deleted,
            records_page_and_checkpoint_commit_together,
            records_unseen_by_a_full_refresh_are_deleted,
            change_stream_reads_every_change_once,
            records_are_isolated_by_tenant,
            records_list_in_pages,
            deliveries_are_recorded_and_listed_by_tenant,
            deliveries_of_one_event_are_recorded_once,
            deliveries_are_claimed_once_and_fenced,
            deliveries_retry_dead_letter_and_replay,
            deliveries_are_finished_together_each_answered,
            records_of_a_large_page_are_applied_in_order,
            audit_sink_accepts_events,
            automation_enqueue_dedupes_by_trigger_key,
            automation_concurrent_enqueues_create_one_run,
            automation_max_pending_refuses_until_a_run_finishes,
            automation_claims_oldest_due_first_and_not_before_due,
            automation_concurrent_claims_take_each_run_once,
            automation_lapsed_runs_are_claimed_in_due_order,
            automation_claims_respect_per_automation_limits,
            automation_claims_respect_per_tenant_limits,
            automation_lapsed_leases_are_taken_over_and_fenced,
            automation_steps_are_replaced_in_first_saved_order,
            automation_wait_parks_and_finish_ends_a_run,
            automation_runs_are_isolated_and_listed_newest_first
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                match $make.await {
                    Some(store) => $crate::store_contract::$name(store).await,
                    None => {}
                }
            }
        )*
    };
}

fn tenant(name: &str) -> TenantId {
    TenantId::new(name).expect("valid tenant")
}

fn conn(name: &str) -> ConnectionId {
    ConnectionId::new(name).expect("valid connection")
}

/// A sealed box is opaque to stores: any well-formed text will do here.
fn sealed(tag: &str) -> SealedBox {
    SealedBox::parse(format!("v1.k1.{tag}")).expect("well-formed box")
}

fn config(t: &TenantId, c: &ConnectionId, revision: u64) -> StoredConfig {
    let mut settings = Settings::new();
    settings.insert("subdomain".into(), json!("acme"));
    StoredConfig {
        tenant: t.clone(),
        connection: c.clone(),
        domain: Domain::Hris,
        provider: ProviderId::new("bamboohr").expect("valid provider"),
        settings,
        sealed_secrets: sealed("c2VjcmV0cw"),
        status: ConnectionStatus::Pending,
        remote_account_id: None,
        last_sync_at: None,
        revision,
        updated_at: chrono::Utc::now(),
        mappings: Mappings::default(),
    }
}

fn run(t: &TenantId, c: &ConnectionId, stream: &str) -> SyncRun {
    SyncRun {
        id: RunId::new(),
        tenant: t.clone(),
        connection: c.clone(),
        domain: Domain::Hris,
        provider: ProviderId::new("bamboohr").expect("valid provider"),
        stream: stream.into(),
        mode: SyncMode::Incremental,
        dry_run: false,
        status: RunStatus::Running,
        counts: RunCounts::default(),
        error: None,
        checkpoint: None,
        started_at: chrono::Utc::now(),
        completed_at: None,
        rejected: Vec::new(),
    }
}

fn scope(t: &TenantId, c: &ConnectionId, stream: &str) -> StreamScope {
    StreamScope::new(t.clone(), c.clone(), stream)
}

fn employee(id: &str, name: &str) -> Record {
    Record::new(id, json!({ "id": id, "name": name }))
}

const SHORT: Duration = Duration::from_millis(50);
const LONG: Duration = Duration::from_secs(60);
const PATIENCE: Duration = Duration::from_secs(10);

/// put, get, list (ordered, scoped) and delete.
pub async fn config_put_get_list_delete<S: Stores>(s: S) {
    let t = tenant("t-config");
    for name in ["b", "a", "c"] {
        assert_eq!(s.put(&config(&t, &conn(name), 0)).await.expect("create"), 1);
    }
    let got = s.get(&t, &conn("a")).await.expect("get").expect("present");
    assert_eq!(got.revision, 1);
    assert_eq!(got.mappings, Mappings::default());
    let mappings = Mappings::default()
        .map(FieldMapping::new("employees", "/customFields/4021", "shirt_size").then(Transform::Trim))
        .rule(Rule::new("employees", "custom_fields.shirt_size", Check::OneOf { values: vec![json!("S"), json!(7)] }));
    let mapped = StoredConfig { mappings: mappings.clone(), ..got.clone() };
    assert_eq!(s.put(&mapped).await.expect("replace"), 2);
    assert_eq!(s.get(&t, &conn("a")).await.expect("get").expect("present").mappings, mappings, "mappings round-trip");
    assert_eq!(got.settings["subdomain"], "acme");
    assert_eq!(got.sealed_secrets, sealed("c2VjcmV0cw"));
    let listed: Vec<String> = s.list(&t).await.expect("list").into_iter().map(|c| c.connection.to_string()).collect();
    assert_eq!(listed, ["a", "b", "c"]);
    assert!(s.delete(&t, &conn("b")).await.expect("delete"));
    assert!(!s.delete(&t, &conn("b")).await.expect("delete again"));
    assert!(s.get(&t, &conn("b")).await.expect("get").is_none());
    assert_eq!(s.list(&t).await.expect("list").len(), 2);
}

/// Revision 0 creates once; a stale revision conflicts and writes nothing.
pub async fn config_put_is_compare_and_swap<S: Stores>(s: S) {
    let (t, c) = (tenant("t-cas"), conn("hr"));
    assert_eq!(s.put(&config(&t, &c, 0)).await.expect("create"), 1);
    let again = s.put(&config(&t, &c, 0)).await.expect_err("second create conflicts");
    assert_eq!(again.kind(), ErrorKind::Conflict);
    let mut next = config(&t, &c, 1);
    next.settings.insert("subdomain".into(), json!("globex"));
    assert_eq!(s.put(&next).await.expect("update at current revision"), 2);
    let mut stale = config(&t, &c, 1);
    stale.settings.insert("subdomain".into(), json!("stale"));
    assert_eq!(s.put(&stale).await.expect_err("stale").kind(), ErrorKind::Conflict);
    let stored = s.get(&t, &c).await.expect("get").expect("present");
    assert_eq!(stored.revision, 2);
    assert_eq!(stored.settings["subdomain"], "globex");
}

/// set_status and set_last_sync_at change one field, bump the revision, and fail on a missing
/// connection.
pub async fn config_targeted_updates_bump_the_revision<S: Stores>(s: S) {
    let (t, c) = (tenant("t-status"), conn("hr"));
    s.put(&config(&t, &c, 0)).await.expect("create");
    assert_eq!(s.set_status(&t, &c, ConnectionStatus::ReauthorizationRequired).await.expect("status"), 2);
    let at = chrono::Utc::now();
    assert_eq!(s.set_last_sync_at(&t, &c, at).await.expect("last sync"), 3);
    let stored = s.get(&t, &c).await.expect("get").expect("present");
    assert_eq!(stored.status, ConnectionStatus::ReauthorizationRequired);
    let kept = stored.last_sync_at.expect("last sync kept");
    assert!((kept - at).num_milliseconds().abs() <= 1, "timestamp kept to the millisecond");
    // An editor holding revision 1 must not overwrite the new status.
    assert_eq!(s.put(&config(&t, &c, 1)).await.expect_err("stale editor").kind(), ErrorKind::Conflict);
    let missing = s.set_status(&t, &conn("nope"), ConnectionStatus::Active).await.expect_err("missing");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    let missing = s.set_last_sync_at(&t, &conn("nope"), at).await.expect_err("missing");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

/// Tenant B can never read, list, overwrite or delete tenant A's configuration.
pub async fn config_is_isolated_by_tenant<S: Stores>(s: S) {
    let (a, b, c) = (tenant("t-a"), tenant("t-b"), conn("shared-name"));
    s.put(&config(&a, &c, 0)).await.expect("A creates");
    assert!(s.get(&b, &c).await.expect("get").is_none(), "B reads nothing");
    assert!(s.list(&b).await.expect("list").is_empty(), "B lists nothing");
    assert!(!s.delete(&b, &c).await.expect("delete"), "B deletes nothing");
    assert_eq!(s.set_status(&b, &c, ConnectionStatus::Paused).await.expect_err("B").kind(), ErrorKind::NotFound);
    // B creating the same connection id makes B's own, leaving A's alone.
    let mut theirs = config(&b, &c, 0);
    theirs.settings.insert("subdomain".into(), json!("b-corp"));
    assert_eq!(s.put(&theirs).await.expect("B creates its own"), 1);
    let ours = s.get(&a, &c).await.expect("get").expect("A's still there");
    assert_eq!(ours.settings["subdomain"], "acme");
    assert_eq!(ours.status, ConnectionStatus::Pending);
    assert_eq!(s.list(&a).await.expect("list").len(), 1);
}

/// Checkpoints: last write wins, clear forgets, other tenants see nothing.
pub async fn checkpoints_round_trip_and_are_isolated<S: Stores>(s: S) {
    let (a, b, c) = (tenant("t-cp-a"), tenant("t-cp-b"), conn("hr"));
    let sc = scope(&a, &c, "employees");
    assert!(StateStore::checkpoint(&s, &sc).await.expect("read").is_none());
    let run_id = RunId::new();
    s.put_checkpoint(&sc, &Checkpoint::new(json!({"page": 1})), Some(run_id)).await.expect("put");
    s.put_checkpoint(&sc, &Checkpoint::new(json!({"page": 2})), Some(run_id)).await.expect("put");
    let stored = StateStore::checkpoint(&s, &sc).await.expect("read").expect("present");
    assert_eq!(stored.checkpoint.as_value(), &json!({"page": 2}));
    assert_eq!(stored.run, Some(run_id));
    assert!(StateStore::checkpoint(&s, &scope(&b, &c, "employees")).await.expect("read").is_none());
    assert!(StateStore::checkpoint(&s, &scope(&a, &c, "departments")).await.expect("read").is_none());
    assert!(!s.clear_checkpoint(&scope(&b, &c, "employees")).await.expect("B clears nothing"));
    assert!(s.clear_checkpoint(&sc).await.expect("clear"));
    assert!(StateStore::checkpoint(&s, &sc).await.expect("read").is_none());
}

/// Runs: create once, update, read back, list newest first with filters; scoped by tenant.
pub async fn runs_are_logged_newest_first<S: Stores>(s: S) {
    let (a, b, c) = (tenant("t-run-a"), tenant("t-run-b"), conn("hr"));
    let mut ids = Vec::new();
    for stream in ["employees", "departments", "employees"] {
        let r = run(&a, &c, stream);
        s.create_run(&r).await.expect("create");
        ids.push(r.id);
    }
    let first = StateStore::run(&s, &a, ids[0]).await.expect("read").expect("present");
    assert_eq!(s.create_run(&first).await.expect_err("duplicate").kind(), ErrorKind::Conflict);
    let mut done = first.clone();
    done.status = RunStatus::PartiallySucceeded;
    done.counts = RunCounts { processed: 10, added: 7, updated: 1, deleted: 1, failed: 1, ..RunCounts::default() };
    done.checkpoint = Some(Checkpoint::new(json!({"since": "2026-01-01"})));
    done.completed_at = Some(chrono::Utc::now());
    s.update_run(&done).await.expect("update");
    let back = StateStore::run(&s, &a, ids[0]).await.expect("read").expect("present");
    assert_eq!(back.status, RunStatus::PartiallySucceeded);
    assert_eq!(back.counts, done.counts);
    assert_eq!(back.checkpoint, done.checkpoint);

    let all: Vec<RunId> = s.list_runs(&a, &RunQuery::new()).await.expect("list").iter().map(|r| r.id).collect();
    assert_eq!(all, [ids[2], ids[1], ids[0]], "newest first");
    let emp: Vec<RunId> =
        s.list_runs(&a, &RunQuery::new().stream("employees")).await.expect("list").iter().map(|r| r.id).collect();
    assert_eq!(emp, [ids[2], ids[0]]);
    let page: Vec<RunId> =
        s.list_runs(&a, &RunQuery::new().limit(1).before(ids[2])).await.expect("list").iter().map(|r| r.id).collect();
    assert_eq!(page, [ids[1]]);
    assert!(s.list_runs(&a, &RunQuery::new().connection(conn("other"))).await.expect("list").is_empty());

    assert!(s.list_runs(&b, &RunQuery::new()).await.expect("list").is_empty(), "B sees no runs of A");
    assert!(StateStore::run(&s, &b, ids[0]).await.expect("read").is_none());
    let mut foreign = done.clone();
    foreign.tenant = b.clone();
    assert_eq!(s.update_run(&foreign).await.expect_err("B updates nothing").kind(), ErrorKind::NotFound);
    let unknown = run(&a, &c, "employees");
    assert_eq!(s.update_run(&unknown).await.expect_err("missing").kind(), ErrorKind::NotFound);
}

/// One holder at a time; the next acquisition gets a larger token; the old holder's renew and
/// release fail.
pub async fn leases_are_exclusive_and_fenced<S: Stores>(s: S) {
    let (a, b) = (tenant("t-lease-a"), tenant("t-lease-b"));
    let key = "sync/hr/employees";
    let first = s.acquire_lease(&a, key, "worker-1", LONG).await.expect("acquire").expect("free");
    assert!(s.acquire_lease(&a, key, "worker-2", LONG).await.expect("acquire").is_none(), "held");
    let other_tenant = s.acquire_lease(&b, key, "worker-2", LONG).await.expect("acquire");
    assert!(other_tenant.is_some(), "tenants do not share lease keys");
    let renewed = s.renew_lease(&first, LONG).await.expect("renew while held");
    assert_eq!(renewed.token, first.token);
    assert!(renewed.expires_at >= first.expires_at);
    assert!(s.release_lease(&first).await.expect("release"));
    let second = s.acquire_lease(&a, key, "worker-2", LONG).await.expect("acquire").expect("free after release");
    assert!(second.token > first.token, "fencing tokens grow");
    assert_eq!(s.renew_lease(&first, LONG).await.expect_err("lost").kind(), ErrorKind::Conflict);
    assert!(!s.release_lease(&first).await.expect("release lost"), "an old lease releases nothing");
    assert!(s.acquire_lease(&a, key, "worker-1", LONG).await.expect("acquire").is_none(), "still held by worker-2");
}

/// An unrenewed lease lapses and another worker takes over; the lapsed one cannot renew.
pub async fn leases_expire<S: Stores>(s: S) {
    let t = tenant("t-lease-exp");
    let key = "sync/hr/employees";
    let dead = s.acquire_lease(&t, key, "dead-worker", SHORT).await.expect("acquire").expect("free");
    let taken =
        eventually(PATIENCE, || async { s.acquire_lease(&t, key, "live-worker", LONG).await.expect("acquire") })
            .await
            .expect("the lapsed lease is taken over");
    assert!(taken.token > dead.token);
    assert_eq!(s.renew_lease(&dead, LONG).await.expect_err("lapsed").kind(), ErrorKind::Conflict);
}

/// Token versions: create at 0, conflict on a stale version without writing, delete.
pub async fn tokens_are_compare_and_swap<S: Stores>(s: S) {
    let (t, c) = (tenant("t-token"), conn("hr"));
    assert!(s.token(&t, &c).await.expect("read").is_none());
    assert_eq!(s.compare_and_swap(&t, &c, 0, &sealed("b25l")).await.expect("create"), 1);
    assert_eq!(s.compare_and_swap(&t, &c, 0, &sealed("c3RhbGU")).await.expect_err("stale").kind(), ErrorKind::Conflict);
    assert_eq!(s.compare_and_swap(&t, &c, 1, &sealed("dHdv")).await.expect("swap"), 2);
    assert_eq!(s.compare_and_swap(&t, &c, 1, &sealed("c3RhbGU")).await.expect_err("stale").kind(), ErrorKind::Conflict);
    let stored = s.token(&t, &c).await.expect("read").expect("present");
    assert_eq!((stored.version, stored.sealed), (2, sealed("dHdv")));
    assert!(s.delete_token(&t, &c).await.expect("delete"));
    assert!(!s.delete_token(&t, &c).await.expect("delete again"));
    assert_eq!(s.compare_and_swap(&t, &c, 0, &sealed("YWdhaW4")).await.expect("create again"), 1);
}

/// The refresh lock: one holder; release frees it; a lapsed one is taken over.
pub async fn token_refresh_lock_is_exclusive_and_expires<S: Stores>(s: S) {
    let (t, c) = (tenant("t-lock"), conn("hr"));
    let first = s.acquire_refresh_lock(&t, &c, "p1", LONG).await.expect("lock").expect("free");
    assert!(s.acquire_refresh_lock(&t, &c, "p2", LONG).await.expect("lock").is_none());
    assert!(s.acquire_refresh_lock(&t, &conn("other"), "p2", LONG).await.expect("lock").is_some(), "per connection");
    assert!(s.release_refresh_lock(&first).await.expect("unlock"));
    assert!(!s.release_refresh_lock(&first).await.expect("unlock twice"));
    let short = s.acquire_refresh_lock(&t, &c, "p2", SHORT).await.expect("lock").expect("free");
    assert!(short.token > first.token);
    let third = eventually(PATIENCE, || async { s.acquire_refresh_lock(&t, &c, "p3", LONG).await.expect("lock") })
        .await
        .expect("a lapsed lock is taken over");
    assert!(!s.release_refresh_lock(&short).await.expect("lapsed unlock"), "a lapsed lock releases nothing");
    assert!(s.release_refresh_lock(&third).await.expect("unlock"));
}

/// Tenant B can never read, overwrite, delete or lock tenant A's token.
pub async fn tokens_are_isolated_by_tenant<S: Stores>(s: S) {
    let (a, b, c) = (tenant("t-tok-a"), tenant("t-tok-b"), conn("hr"));
    s.compare_and_swap(&a, &c, 0, &sealed("YQ")).await.expect("A creates");
    assert!(s.token(&b, &c).await.expect("read").is_none());
    assert!(!s.delete_token(&b, &c).await.expect("delete"));
    assert_eq!(s.compare_and_swap(&b, &c, 0, &sealed("Yg")).await.expect("B creates its own"), 1);
    let ours = s.token(&a, &c).await.expect("read").expect("present");
    assert_eq!((ours.version, ours.sealed), (1, sealed("YQ")));
    let lock = s.acquire_refresh_lock(&a, &c, "p1", LONG).await.expect("lock").expect("free");
    assert!(s.acquire_refresh_lock(&b, &c, "p1", LONG).await.expect("lock").is_some(), "B's lock is its own");
    let mut forged = lock.clone();
    forged.tenant = b.clone();
    forged.token += 1_000_000;
    assert!(!s.release_refresh_lock(&forged).await.expect("unlock"));
    assert!(s.acquire_refresh_lock(&a, &c, "p2", LONG).await.expect("lock").is_none(), "A's lock still held");
}

/// Claim, see it in progress, complete, see the outcome.
pub async fn idempotency_claim_then_complete<S: Stores>(s: S) {
    let t = tenant("t-idem");
    let Claim::Acquired(token) = s.claim(&t, "webhook:stripe", "evt_1", LONG).await.expect("claim") else {
        panic!("a fresh key is acquired");
    };
    assert!(matches!(s.claim(&t, "webhook:stripe", "evt_1", LONG).await.expect("claim"), Claim::InProgress { .. }));
    assert!(
        matches!(s.claim(&t, "webhook:github", "evt_1", LONG).await.expect("claim"), Claim::Acquired(_)),
        "namespaces are separate"
    );
    s.complete(&token, Some(json!({"status": 200}))).await.expect("complete");
    match s.claim(&t, "webhook:stripe", "evt_1", LONG).await.expect("claim") {
        Claim::Completed { outcome, .. } => assert_eq!(outcome, Some(json!({"status": 200}))),
        other => panic!("expected Completed, got {other:?}"),
    }
}

/// Of 32 concurrent claims on one key, exactly one acquires.
pub async fn idempotency_concurrent_claims_acquire_once<S: Stores>(s: S) {
    let t = Arc::new(tenant("t-idem-race"));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (s, t) = (s.clone(), t.clone());
            tokio::spawn(async move { s.claim(&t, "webhook", "evt_race", LONG).await.expect("claim") })
        })
        .collect();
    let mut acquired = 0;
    for task in tasks {
        if matches!(task.await.expect("task"), Claim::Acquired(_)) {
            acquired += 1;
        }
    }
    assert_eq!(acquired, 1);
}

/// A claim not completed in time lapses; the key is claimed again with a new token; the old
/// token cannot complete or release.
pub async fn idempotency_lapsed_claims_are_fenced<S: Stores>(s: S) {
    let t = tenant("t-idem-lapse");
    let Claim::Acquired(old) = s.claim(&t, "step", "run-1/step-1", SHORT).await.expect("claim") else {
        panic!("fresh key");
    };
    let new = eventually(PATIENCE, || async {
        match s.claim(&t, "step", "run-1/step-1", LONG).await.expect("claim") {
            Claim::Acquired(token) => Some(token),
            _ => None,
        }
    })
    .await
    .expect("a lapsed claim can be taken over");
    assert!(new.token > old.token);
    assert_eq!(s.complete(&old, None).await.expect_err("lapsed").kind(), ErrorKind::Conflict);
    assert!(!s.release(&old).await.expect("release"));
    s.complete(&new, None).await.expect("the new holder completes");
}

/// Releasing a claim lets the next attempt acquire at once.
pub async fn idempotency_release_allows_a_retry<S: Stores>(s: S) {
    let t = tenant("t-idem-release");
    let Claim::Acquired(first) = s.claim(&t, "step", "k", LONG).await.expect("claim") else { panic!("fresh") };
    assert!(s.release(&first).await.expect("release"));
    let Claim::Acquired(second) = s.claim(&t, "step", "k", LONG).await.expect("claim") else {
        panic!("a released key is acquired again");
    };
    assert!(second.token > first.token);
    s.complete(&second, None).await.expect("complete");
    assert!(!s.release(&second).await.expect("release"), "a completed claim is not released");
    assert!(matches!(s.claim(&t, "step", "k", LONG).await.expect("claim"), Claim::Completed { .. }));
}

/// Keys are per tenant; purging forgets old completed keys of one tenant only.
pub async fn idempotency_is_isolated_and_purgeable<S: Stores>(s: S) {
    let (a, b) = (tenant("t-idem-a"), tenant("t-idem-b"));
    let Claim::Acquired(ta) = s.claim(&a, "webhook", "evt", LONG).await.expect("claim") else { panic!("fresh") };
    s.complete(&ta, None).await.expect("complete");
    let Claim::Acquired(tb) = s.claim(&b, "webhook", "evt", LONG).await.expect("claim") else {
        panic!("B's key is its own");
    };
    s.complete(&tb, None).await.expect("complete");
    let mut forged = ta.clone();
    forged.tenant = b.clone();
    assert!(!s.release(&forged).await.expect("release"));
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    assert_eq!(s.purge_completed(&a, future).await.expect("purge"), 1);
    assert!(
        matches!(s.claim(&a, "webhook", "evt", LONG).await.expect("claim"), Claim::Acquired(_)),
        "A's key forgotten"
    );
    assert!(matches!(s.claim(&b, "webhook", "evt", LONG).await.expect("claim"), Claim::Completed { .. }), "B's kept");
}

/// Added, updated, unchanged (same content in another key order) and deleted are counted, and
/// only real changes reach the change stream, with the previous version.
pub async fn records_count_added_updated_unchanged_deleted<S: Stores>(s: S) {
    let (t, c) = (tenant("t-rec"), conn("hr"));
    let sc = scope(&t, &c, "employees");
    let first = PageWrite::new(vec![employee("1", "Ada"), employee("2", "Grace")], None, None);
    let sum = s.write_page(&sc, first).await.expect("write");
    assert_eq!((sum.added, sum.updated, sum.unchanged, sum.deleted), (2, 0, 0, 0));

    let reordered: serde_json::Value = serde_json::from_str(r#"{"name":"Ada","id":"1"}"#).expect("json");
    let second = PageWrite::new(
        vec![Record::new("1", reordered), employee("2", "Grace Hopper"), Record::deleted("3"), employee("4", "Alan")],
        None,
        None,
    );
    let sum = s.write_page(&sc, second).await.expect("write");
    assert_eq!((sum.added, sum.updated, sum.unchanged, sum.deleted), (1, 1, 2, 0));

    let sum = s
        .write_page(&sc, PageWrite::new(vec![Record::deleted("1"), Record::deleted("1")], None, None))
        .await
        .expect("write");
    assert_eq!((sum.deleted, sum.unchanged), (1, 1), "a repeated tombstone changes nothing");
    let gone = RecordStore::record(&s, &sc, "1").await.expect("read").expect("kept, soft-deleted");
    assert!(gone.deleted);
    assert_eq!(gone.data["name"], "Ada", "the last live data is kept");

    let sum = s.write_page(&sc, PageWrite::new(vec![employee("1", "Ada")], None, None)).await.expect("write");
    assert_eq!(sum.added, 1, "a record live again is added");

    let batch = s.changes_since(&t, None, 100).await.expect("changes");
    let seen: Vec<(&str, ChangeKind)> = batch.changes.iter().map(|ch| (ch.remote_id.as_str(), ch.kind)).collect();
    assert_eq!(
        seen,
        [
            ("1", ChangeKind::Added),
            ("2", ChangeKind::Added),
            ("2", ChangeKind::Updated),
            ("4", ChangeKind::Added),
            ("1", ChangeKind::Deleted),
            ("1", ChangeKind::Added),
        ]
    );
    let update = &batch.changes[2];
    assert_eq!(update.previous.as_ref().expect("previous")["name"], "Grace");
    assert_eq!(update.data["name"], "Grace Hopper");
    assert_eq!(update.scope, sc);
    assert!(batch.changes[0].previous.is_none());
}

/// A page far larger than any statement (a provider answering a report whole) is applied in
/// order: a record met again further on ends as its last version, each version logged once.
pub async fn records_of_a_large_page_are_applied_in_order<S: Stores>(s: S) {
    let (t, c) = (tenant("t-rec-large"), conn("hr"));
    let sc = scope(&t, &c, "employees");
    let mut records: Vec<Record> = (0..2500).map(|i| employee(&format!("e{i:04}"), &format!("Person {i}"))).collect();
    // e0007 again near the end (a later version), and deleted after its second write.
    records.insert(2200, employee("e0007", "Person 7, renamed"));
    records.push(employee("e0001", "Person 1"));
    let run = RunId::new();
    let sum = s.write_page(&sc, PageWrite::new(records, Some(Checkpoint::new(json!({"done": true}))), Some(run))).await;
    let sum = sum.expect("write");
    assert_eq!((sum.added, sum.updated, sum.unchanged), (2500, 1, 1));
    let renamed = RecordStore::record(&s, &sc, "e0007").await.expect("read").expect("there");
    assert_eq!(renamed.data["name"], "Person 7, renamed");
    let mut changes = Vec::new();
    let mut cursor = None;
    loop {
        let batch = s.changes_since(&t, cursor.as_ref(), 1000).await.expect("changes");
        if batch.changes.is_empty() {
            break;
        }
        changes.extend(batch.changes.into_iter().map(|ch| (ch.remote_id, ch.kind)));
        cursor = Some(batch.next);
    }
    assert_eq!(changes.len(), 2501);
    assert_eq!(changes[0], ("e0000".to_owned(), ChangeKind::Added));
    assert_eq!(changes[2200], ("e0007".to_owned(), ChangeKind::Updated), "in the page's order");
    assert_eq!(changes[2500], ("e2499".to_owned(), ChangeKind::Added));
    assert!(StateStore::checkpoint(&s, &sc).await.expect("read").is_some(), "the checkpoint with the page");
}

/// A page's checkpoint is readable through the StateStore once the page is written, with the run.
pub async fn records_page_and_checkpoint_commit_together<S: Stores>(s: S) {
    let (t, c) = (tenant("t-rec-cp"), conn("hr"));
    let sc = scope(&t, &c, "employees");
    let run_id = RunId::new();
    let page = PageWrite::new(vec![employee("1", "Ada")], Some(Checkpoint::new(json!({"page": 2}))), Some(run_id));
    s.write_page(&sc, page).await.expect("write");
    let cp = StateStore::checkpoint(&s, &sc).await.expect("read").expect("committed with the page");
    assert_eq!(cp.checkpoint.as_value(), &json!({"page": 2}));
    assert_eq!(cp.run, Some(run_id));
    let rec = RecordStore::record(&s, &sc, "1").await.expect("read").expect("written");
    assert_eq!(rec.seen_by, Some(run_id));
    // A page without a checkpoint leaves the committed one alone.
    s.write_page(&sc, PageWrite::new(vec![employee("2", "Grace")], None, Some(run_id))).await.expect("write");
    let cp = StateStore::checkpoint(&s, &sc).await.expect("read").expect("still there");
    assert_eq!(cp.checkpoint.as_value(), &json!({"page": 2}));
}

/// The end of a full refresh soft-deletes what the run did not see (unchanged records count as
/// seen), in this scope only.
pub async fn records_unseen_by_a_full_refresh_are_deleted<S: Stores>(s: S) {
    let (t, c) = (tenant("t-rec-sweep"), conn("hr"));
    let sc = scope(&t, &c, "employees");
    let other = scope(&t, &c, "departments");
    let old_run = RunId::new();
    s.write_page(
        &sc,
        PageWrite::new(vec![employee("1", "Ada"), employee("2", "Grace"), employee("3", "Alan")], None, Some(old_run)),
    )
    .await
    .expect("write");
    s.write_page(&other, PageWrite::new(vec![employee("d1", "R&D")], None, Some(old_run))).await.expect("write");
    let full = RunId::new();
    s.write_page(&sc, PageWrite::new(vec![employee("1", "Ada"), employee("3", "Alan Turing")], None, Some(full)))
        .await
        .expect("write");
    let done = Checkpoint::new(json!({"completed": true}));
    assert_eq!(s.delete_unseen(&sc, full, Some(&done)).await.expect("sweep"), 1);
    let live: Vec<String> =
        s.records(&sc, None, 10, false).await.expect("list").into_iter().map(|r| r.remote_id).collect();
    assert_eq!(live, ["1", "3"]);
    assert!(RecordStore::record(&s, &sc, "2").await.expect("read").expect("kept").deleted);
    assert!(
        !RecordStore::record(&s, &other, "d1").await.expect("read").expect("kept").deleted,
        "other streams untouched"
    );
    assert_eq!(StateStore::checkpoint(&s, &sc).await.expect("read").expect("committed").checkpoint, done);
    assert_eq!(s.delete_unseen(&sc, full, None).await.expect("sweep again"), 0, "idempotent");
    let last = s.changes_since(&t, None, 100).await.expect("changes").changes.pop().expect("a change");
    assert_eq!((last.remote_id.as_str(), last.kind), ("2", ChangeKind::Deleted));
}

/// Reading the change stream in small batches yields every change once, in order; an empty read
/// keeps the cursor; a foreign cursor is a validation error.
pub async fn change_stream_reads_every_change_once<S: Stores>(s: S) {
    let (t, c) = (tenant("t-changes"), conn("hr"));
    let sc = scope(&t, &c, "employees");
    for i in 0..25 {
        s.write_page(&sc, PageWrite::new(vec![employee(&format!("{i:02}"), "v1")], None, None)).await.expect("write");
    }
    let mut cursor = None;
    let mut seen = Vec::new();
    loop {
        let batch = s.changes_since(&t, cursor.as_ref(), 7).await.expect("changes");
        assert!(batch.changes.len() <= 7);
        if batch.changes.is_empty() {
            assert_eq!(Some(&batch.next), cursor.as_ref(), "an empty read keeps the cursor");
            break;
        }
        seen.extend(batch.changes.iter().map(|ch| ch.remote_id.clone()));
        cursor = Some(batch.next);
    }
    let expected: Vec<String> = (0..25).map(|i| format!("{i:02}")).collect();
    assert_eq!(seen, expected);
    // New changes after the end are picked up from the saved cursor.
    s.write_page(&sc, PageWrite::new(vec![employee("00", "v2")], None, None)).await.expect("write");
    let batch = s.changes_since(&t, cursor.as_ref(), 7).await.expect("changes");
    assert_eq!(batch.changes.len(), 1);
    assert_eq!(batch.changes[0].kind, ChangeKind::Updated);
    let bogus = integration_core::store::ChangeCursor::new("not-a-cursor");
    let err = s.changes_since(&t, Some(&bogus), 7).await.expect_err("foreign cursor");
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert_eq!(err.field(), Some("cursor"));
}

/// Tenant B sees none of A's records or changes.
pub async fn records_are_isolated_by_tenant<S: Stores>(s: S) {
    let (a, b, c) = (tenant("t-rec-a"), tenant("t-rec-b"), conn("hr"));
    s.write_page(
        &scope(&a, &c, "employees"),
        PageWrite::new(vec![employee("1", "Ada")], Some(Checkpoint::new(json!(1))), None),
    )
    .await
    .expect("write");
    let theirs = scope(&b, &c, "employees");
    assert!(RecordStore::record(&s, &theirs, "1").await.expect("read").is_none());
    assert!(s.records(&theirs, None, 10, true).await.expect("list").is_empty());
    assert!(s.changes_since(&b, None, 10).await.expect("changes").changes.is_empty());
    assert!(StateStore::checkpoint(&s, &theirs).await.expect("read").is_none());
    // B's full-refresh sweep of the same names deletes nothing of A's.
    assert_eq!(s.delete_unseen(&theirs, RunId::new(), None).await.expect("sweep"), 0);
    assert!(!RecordStore::record(&s, &scope(&a, &c, "employees"), "1").await.expect("read").expect("kept").deleted);
    // A cursor from A's stream does not unlock A's changes for B.
    let a_cursor = s.changes_since(&a, None, 10).await.expect("changes").next;
    let leak = s.changes_since(&b, Some(&a_cursor), 10).await;
    assert!(leak.map(|batch| batch.changes.is_empty()).unwrap_or(true), "no change of A reaches B");
}

/// Records list in remote-id order, after a key, up to a limit, with or without deleted ones.
pub async fn records_list_in_pages<S: Stores>(s: S) {
    let (t, c) = (tenant("t-rec-list"), conn("hr"));
    let sc = scope(&t, &c, "employees");
    let records = (0..10).map(|i| employee(&format!("r{i}"), "x")).collect();
    s.write_page(&sc, PageWrite::new(records, None, None)).await.expect("write");
    s.write_page(&sc, PageWrite::new(vec![Record::deleted("r3")], None, None)).await.expect("write");
    let ids = |v: Vec<integration_core::store::StoredRecord>| v.into_iter().map(|r| r.remote_id).collect::<Vec<_>>();
    assert_eq!(ids(s.records(&sc, None, 3, false).await.expect("list")), ["r0", "r1", "r2"]);
    assert_eq!(ids(s.records(&sc, Some("r2"), 3, false).await.expect("list")), ["r4", "r5", "r6"]);
    assert_eq!(ids(s.records(&sc, Some("r2"), 3, true).await.expect("list")), ["r3", "r4", "r5"]);
    assert!(s.records(&sc, Some("r9"), 3, true).await.expect("list").is_empty());
    let unique: HashSet<String> = ids(s.records(&sc, None, 100, true).await.expect("list")).into_iter().collect();
    assert_eq!(unique.len(), 10);
}

fn delivery(t: &TenantId, event: &str) -> WebhookDelivery {
    let provider = ProviderId::new("acmehr").expect("provider");
    let body = br#"{"type":"employee.hired"}"#.to_vec().into();
    let mut delivery = WebhookDelivery::queued(t.clone(), conn("hr"), provider, event, body, chrono::Utc::now());
    delivery.headers = [("webhook-id", event)].into_iter().collect();
    delivery
}

/// Deliveries are recorded once, read back whole, listed newest first, and scoped by tenant.
pub async fn deliveries_are_recorded_and_listed_by_tenant<S: Stores>(s: S) {
    let (a, b) = (tenant("t-dlv-a"), tenant("t-dlv-b"));
    let first = delivery(&a, "evt_1");
    s.record_delivery(first.clone()).await.expect("record");
    assert_eq!(s.record_delivery(first.clone()).await.expect_err("twice").kind(), ErrorKind::Conflict);
    let mut rejected = delivery(&a, "");
    rejected.status = DeliveryStatus::Rejected;
    rejected.rejection = Some("signature_mismatch".into());
    rejected.body.clear();
    s.record_delivery(rejected.clone()).await.expect("record");
    let back = s.delivery(&a, first.id).await.expect("read").expect("present");
    assert_eq!((&back.body, &back.headers), (&first.body, &first.headers));
    let ids: Vec<DeliveryId> =
        s.list_deliveries(&a, &DeliveryQuery::new()).await.expect("list").iter().map(|d| d.id).collect();
    assert_eq!(ids, [rejected.id, first.id]);
    let only: Vec<DeliveryId> = s
        .list_deliveries(&a, &DeliveryQuery::new().status(DeliveryStatus::Rejected))
        .await
        .expect("list")
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(only, [rejected.id]);
    assert!(s.delivery(&b, first.id).await.expect("read").is_none(), "B reads nothing of A");
    assert!(s.list_deliveries(&b, &DeliveryQuery::new()).await.expect("list").is_empty());
    assert_eq!(s.replay(&b, first.id).await.expect_err("B replays nothing").kind(), ErrorKind::NotFound);
    let outcome = DeliveryOutcome::Processed(json!({}));
    assert_eq!(s.finish_delivery(&b, first.id, 1, outcome).await.expect_err("B").kind(), ErrorKind::NotFound);
}

/// Of many deliveries of one event for one connection — concurrent ones included — exactly one
/// is recorded; other connections, providers and tenants, and rejected deliveries, are apart.
pub async fn deliveries_of_one_event_are_recorded_once<S: Stores>(s: S) {
    let t = tenant("t-dlv-dedupe");
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (s, d) = (s.clone(), delivery(&t, "evt_same"));
            tokio::spawn(async move { (d.id, s.record_delivery(d).await.expect("record")) })
        })
        .collect();
    let mut new = Vec::new();
    let mut existing = HashSet::new();
    for task in tasks {
        match task.await.expect("task") {
            (id, Recorded::New) => new.push(id),
            (_, Recorded::Duplicate { existing: first }) => {
                existing.insert(first);
            }
            (_, other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(new.len(), 1, "exactly one recorded");
    assert!(existing.iter().all(|id| *id == new[0]), "duplicates name the recorded one");
    let all = s.list_deliveries(&t, &DeliveryQuery::new().limit(100)).await.expect("list");
    assert_eq!(all.len(), 1);

    let mut other_conn = delivery(&t, "evt_same");
    other_conn.connection = conn("hr-2");
    assert_eq!(s.record_delivery(other_conn).await.expect("record"), Recorded::New);
    let mut other_provider = delivery(&t, "evt_same");
    other_provider.provider = ProviderId::new("otherhr").expect("provider");
    assert_eq!(s.record_delivery(other_provider).await.expect("record"), Recorded::New);
    assert_eq!(
        s.record_delivery(delivery(&tenant("t-dlv-dedupe-b"), "evt_same")).await.expect("record"),
        Recorded::New
    );
    for _ in 0..2 {
        let mut rejected = delivery(&t, "");
        rejected.status = DeliveryStatus::Rejected;
        assert_eq!(s.record_delivery(rejected).await.expect("record"), Recorded::New, "rejections are all kept");
    }
}

/// Of concurrent claimers each due delivery goes to one; a lapsed claim goes to the next, and the
/// first claimer's finish is refused.
pub async fn deliveries_are_claimed_once_and_fenced<S: Stores>(s: S) {
    let t = tenant("t-dlv-claim");
    let mut ids = HashSet::new();
    for i in 0..20 {
        let d = delivery(&t, &format!("evt_{i}"));
        ids.insert(d.id);
        s.record_delivery(d.clone()).await.expect("record");
    }
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.claim_due(100, LONG).await.expect("claim") })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.expect("task").into_iter().filter(|d| d.tenant.as_str() == "t-dlv-claim"));
    }
    let unique: HashSet<DeliveryId> = claimed.iter().map(|d| d.id).collect();
    assert_eq!((claimed.len(), unique), (20, ids), "each delivery claimed exactly once");
    assert!(claimed.iter().all(|d| d.status == DeliveryStatus::Processing && d.attempts == 1));
    assert!(s.claim_due(100, LONG).await.expect("claim").iter().all(|d| d.tenant != t), "nothing due while held");

    let lapsing = delivery(&t, "evt_lapse");
    s.record_delivery(lapsing.clone()).await.expect("record");
    let first = s.claim_due(100, SHORT).await.expect("claim");
    let first = first.into_iter().find(|d| d.id == lapsing.id).expect("claimed");
    let second = eventually(PATIENCE, || async {
        s.claim_due(100, LONG).await.expect("claim").into_iter().find(|d| d.id == lapsing.id)
    })
    .await
    .expect("a lapsed claim is claimed again");
    assert_eq!(second.attempts, 2);
    let late = s.finish_delivery(&t, first.id, first.attempts, DeliveryOutcome::Processed(json!({}))).await;
    assert_eq!(late.expect_err("fenced").kind(), ErrorKind::Conflict);
    s.finish_delivery(&t, second.id, second.attempts, DeliveryOutcome::Processed(json!({"changes": 1})))
        .await
        .expect("the current holder finishes");
    let done = s.delivery(&t, second.id).await.expect("read").expect("present");
    assert_eq!((done.status, done.outcome), (DeliveryStatus::Processed, Some(json!({"changes": 1}))));
    assert!(done.completed_at.is_some());
}

/// A retry waits for its time; a dead letter stays until replayed; a replay is due at once.
pub async fn deliveries_retry_dead_letter_and_replay<S: Stores>(s: S) {
    let t = tenant("t-dlv-retry");
    let d = delivery(&t, "evt_r");
    s.record_delivery(d.clone()).await.expect("record");
    let mine = |batch: Vec<WebhookDelivery>| batch.into_iter().find(|x| x.id == d.id);
    let claimed = mine(s.claim_due(100, LONG).await.expect("claim")).expect("due");
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let retry = DeliveryOutcome::Retry { error: "timeout".into(), at: later };
    s.finish_delivery(&t, d.id, claimed.attempts, retry).await.expect("retry");
    let stored = s.delivery(&t, d.id).await.expect("read").expect("present");
    assert_eq!((stored.status, stored.last_error.as_deref()), (DeliveryStatus::Retrying, Some("timeout")));
    assert!(mine(s.claim_due(100, LONG).await.expect("claim")).is_none(), "not due for an hour");

    s.replay(&t, d.id).await.expect("a retrying delivery may be replayed now");
    let claimed = mine(s.claim_due(100, LONG).await.expect("claim")).expect("due after replay");
    assert_eq!(claimed.attempts, 1, "a replay resets the attempts");
    assert_eq!(s.replay(&t, d.id).await.expect_err("processing").kind(), ErrorKind::Conflict);
    let dead = DeliveryOutcome::DeadLetter { error: "gave up".into() };
    s.finish_delivery(&t, d.id, claimed.attempts, dead).await.expect("dead-letter");
    let stored = s.delivery(&t, d.id).await.expect("read").expect("present");
    assert_eq!(stored.status, DeliveryStatus::DeadLettered);
    assert!(mine(s.claim_due(100, LONG).await.expect("claim")).is_none(), "dead letters are not due");
    let listed = s.list_deliveries(&t, &DeliveryQuery::new().status(DeliveryStatus::DeadLettered)).await;
    assert_eq!(listed.expect("list").len(), 1);
    s.replay(&t, d.id).await.expect("replay");
    assert!(mine(s.claim_due(100, LONG).await.expect("claim")).is_some());
    assert_eq!(s.replay(&t, DeliveryId::new()).await.expect_err("unknown").kind(), ErrorKind::NotFound);
}

/// Claims ended together: each is answered as it would be alone — a lapsed claim is a
/// conflict and an unknown delivery not found — and the others are finished all the same.
pub async fn deliveries_are_finished_together_each_answered<S: Stores>(s: S) {
    let t = tenant("t-dlv-batch");
    let lapsing = delivery(&t, "evt_b_lapse");
    s.record_delivery(lapsing.clone()).await.expect("record");
    let first =
        s.claim_due(100, SHORT).await.expect("claim").into_iter().find(|d| d.id == lapsing.id).expect("claimed");
    for i in 0..3 {
        s.record_delivery(delivery(&t, &format!("evt_b{i}"))).await.expect("record");
    }
    let mut held: Vec<WebhookDelivery> = s.claim_due(100, LONG).await.expect("claim");
    held.retain(|d| d.tenant == t);
    // The short claim lapses and is claimed again: the first holder is fenced off.
    let again = match held.iter().position(|d| d.id == lapsing.id) {
        Some(at) => held.remove(at),
        None => eventually(PATIENCE, || async {
            s.claim_due(100, LONG).await.expect("claim").into_iter().find(|d| d.id == lapsing.id)
        })
        .await
        .expect("claimed again"),
    };
    assert_eq!(held.len(), 3, "the three others are held");
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let mut finished: Vec<FinishedDelivery> = held
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let outcome = match i {
                0 => DeliveryOutcome::Processed(json!({ "changes": 1 })),
                1 => DeliveryOutcome::Retry { error: "timeout".into(), at: later },
                _ => DeliveryOutcome::DeadLetter { error: "gave up".into() },
            };
            FinishedDelivery::new(t.clone(), d.id, d.attempts, outcome)
        })
        .collect();
    finished
        .insert(1, FinishedDelivery::new(t.clone(), first.id, first.attempts, DeliveryOutcome::Processed(json!({}))));
    finished.push(FinishedDelivery::new(t.clone(), DeliveryId::new(), 1, DeliveryOutcome::Processed(json!({}))));
    let results = s.finish_deliveries(finished).await;
    let kinds: Vec<Option<ErrorKind>> = results.iter().map(|r| r.as_ref().err().map(|e| e.kind())).collect();
    assert_eq!(kinds, [None, Some(ErrorKind::Conflict), None, None, Some(ErrorKind::NotFound)]);
    let status = |id| {
        let s = s.clone();
        let t = t.clone();
        async move { s.delivery(&t, id).await.expect("read").expect("present").status }
    };
    assert_eq!(status(held[0].id).await, DeliveryStatus::Processed);
    assert_eq!(status(held[1].id).await, DeliveryStatus::Retrying);
    assert_eq!(status(held[2].id).await, DeliveryStatus::DeadLettered);
    assert_eq!(status(again.id).await, DeliveryStatus::Processing, "the current holder's claim stands");
    assert!(s.finish_deliveries(Vec::new()).await.is_empty());
}

/// The audit sink accepts events of every shape.
pub async fn audit_sink_accepts_events<S: Stores>(s: S) {
    let t = tenant("t-audit");
    s.audit(AuditEvent::new(t.clone(), AuditAction::ConfigRead).connection(conn("hr"))).await.expect("audit");
    s.audit(AuditEvent::new(t, AuditAction::WebhookRejected).failed("bad signature")).await.expect("audit");
}

fn automation_run(t: &TenantId, automation: &str, key: &str) -> NewAutomationRun {
    NewAutomationRun::new(t.clone(), automation, key, json!({ "event": key }))
}

fn created(enqueued: Enqueued) -> AutomationRunId {
    match enqueued {
        Enqueued::Created(id) => id,
        other => panic!("expected a new run, got {other:?}"),
    }
}

async fn enqueue<S: Stores>(s: &S, run: NewAutomationRun) -> AutomationRunId {
    created(s.enqueue_run(&run, None).await.expect("enqueue"))
}

/// Up to `limit` runs for `holder`, under a lease that outlives the test.
fn take(holder: &str, limit: usize) -> ClaimRequest {
    ClaimRequest::new(holder, limit, LONG)
}

async fn claim<S: Stores>(s: &S, request: ClaimRequest) -> Vec<ClaimedRun> {
    s.claim_runs(&request).await.expect("claim runs")
}

fn run_ids(claimed: &[ClaimedRun]) -> Vec<AutomationRunId> {
    claimed.iter().map(|c| c.run.id).collect()
}

async fn stored_run<S: Stores>(s: &S, t: &TenantId, id: AutomationRunId) -> AutomationRun {
    s.automation_run(t, id).await.expect("read a run").expect("the run exists")
}

async fn listed<S: Stores>(s: &S, t: &TenantId, query: AutomationRunQuery) -> Vec<AutomationRunId> {
    s.list_automation_runs(t, &query).await.expect("list runs").iter().map(|r| r.id).collect()
}

async fn finish<S: Stores>(s: &S, lease: &RunLease, status: AutomationRunStatus) {
    s.release_run(lease, RunRelease::Finish { status, error: None }).await.expect("finish a held run");
}

fn conflict<T: std::fmt::Debug>(result: integration_core::Result<T>, what: &str) {
    assert_eq!(result.expect_err(what).kind(), ErrorKind::Conflict, "{what}");
}

/// Now, to the microsecond (what SQL stores keep), so times compare equal after a round trip.
fn now_micros() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros()).expect("in range")
}

fn step(path: &str, action: &str, run: AutomationRunId, at: chrono::DateTime<chrono::Utc>) -> StepRecord {
    StepRecord::started(path, action, format!("{run}/{path}"), json!({ "step": path }), at)
}

/// One run per (tenant, automation, trigger key), whatever its status; other tenants, automations
/// and keys are apart. A run reads back as enqueued.
pub async fn automation_enqueue_dedupes_by_trigger_key<S: Stores>(s: S) {
    let (a, b) = (tenant("t-auto-a"), tenant("t-auto-b"));
    let trigger = automation_run(&a, "welcome", "change:1");
    let id = enqueue(&s, trigger.clone()).await;
    assert_eq!(s.enqueue_run(&trigger, None).await.expect("again"), Enqueued::Duplicate(id));
    assert_eq!(s.enqueue_run(&trigger, Some(100)).await.expect("again, limited"), Enqueued::Duplicate(id));
    let run = stored_run(&s, &a, id).await;
    assert_eq!(
        (run.id, &run.tenant, run.automation.as_str(), run.trigger_key.as_str()),
        (id, &a, "welcome", "change:1")
    );
    assert_eq!(run.trigger, json!({ "event": "change:1" }));
    assert_eq!((run.status, run.dispatches), (AutomationRunStatus::Queued, 0));
    assert_eq!(run.due_at, run.created_at, "due at once by default");
    assert!(run.started_at.is_none() && run.completed_at.is_none() && run.error.is_none(), "{run:?}");

    let mut ids = HashSet::from([id]);
    for other in [
        automation_run(&a, "welcome", "change:2"),
        automation_run(&a, "offboard", "change:1"),
        automation_run(&b, "welcome", "change:1"),
    ] {
        assert!(ids.insert(enqueue(&s, other).await), "another key, automation or tenant is another run");
    }
    let claimed = claim(&s, take("w", 10)).await;
    let held = claimed.iter().find(|c| c.run.id == id).expect("claimed");
    finish(&s, &held.lease, AutomationRunStatus::Succeeded).await;
    assert_eq!(s.enqueue_run(&trigger, None).await.expect("after it finished"), Enqueued::Duplicate(id));
    assert_eq!(listed(&s, &a, AutomationRunQuery::new()).await.len(), 3);
    assert_eq!(listed(&s, &b, AutomationRunQuery::new()).await.len(), 1);
}

/// Of 16 concurrent enqueues of one trigger key, exactly one creates the run; the others are
/// told its id.
pub async fn automation_concurrent_enqueues_create_one_run<S: Stores>(s: S) {
    let t = tenant("t-auto-race");
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (s, run) = (s.clone(), automation_run(&t, "welcome", "evt_race"));
            let max_pending = (i % 2 == 1).then_some(1000);
            tokio::spawn(async move { s.enqueue_run(&run, max_pending).await.expect("enqueue") })
        })
        .collect();
    let (mut new, mut duplicates) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await.expect("task") {
            Enqueued::Created(id) => new.push(id),
            Enqueued::Duplicate(id) => duplicates.push(id),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((new.len(), duplicates.len()), (1, 15), "exactly one created");
    assert!(duplicates.iter().all(|id| *id == new[0]), "duplicates name the created run");
    assert_eq!(listed(&s, &t, AutomationRunQuery::new()).await, new);
}

/// With `max_pending`, enqueue refuses while the tenant has that many unfinished runs (waiting
/// ones included) and accepts again once one finishes; concurrent enqueues never exceed it.
pub async fn automation_max_pending_refuses_until_a_run_finishes<S: Stores>(s: S) {
    let (t, other) = (tenant("t-auto-full"), tenant("t-auto-full-b"));
    let mut first = Vec::new();
    for i in 0..3 {
        let run = automation_run(&t, "sync", &format!("k{i}"));
        first.push(created(s.enqueue_run(&run, Some(3)).await.expect("enqueue")));
    }
    let full = s.enqueue_run(&automation_run(&t, "sync", "k3"), Some(3)).await.expect("enqueue");
    assert_eq!(full, Enqueued::Full { pending: 3 });
    let again = s.enqueue_run(&automation_run(&t, "sync", "k0"), Some(3)).await.expect("enqueue");
    assert_eq!(again, Enqueued::Duplicate(first[0]), "a duplicate is reported as one, full or not");
    created(s.enqueue_run(&automation_run(&other, "sync", "k3"), Some(3)).await.expect("other tenant"));

    let claimed = claim(&s, take("w", 10)).await;
    assert_eq!(claimed.len(), 4);
    let lease = |id: AutomationRunId| claimed.iter().find(|c| c.run.id == id).expect("claimed").lease.clone();
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    s.release_run(&lease(first[0]), RunRelease::Wait { until: later }).await.expect("wait");
    let full = s.enqueue_run(&automation_run(&t, "sync", "k3"), Some(3)).await.expect("enqueue");
    assert_eq!(full, Enqueued::Full { pending: 3 }, "a waiting run is unfinished");
    finish(&s, &lease(first[1]), AutomationRunStatus::Failed).await;
    created(s.enqueue_run(&automation_run(&t, "sync", "k3"), Some(3)).await.expect("room after a run finished"));
    let full = s.enqueue_run(&automation_run(&t, "sync", "k4"), Some(3)).await.expect("enqueue");
    assert_eq!(full, Enqueued::Full { pending: 3 });
    created(s.enqueue_run(&automation_run(&t, "sync", "k5"), None).await.expect("no limit, no refusal"));
    let full = s.enqueue_run(&automation_run(&t, "sync", "k6"), Some(3)).await.expect("enqueue");
    assert_eq!(full, Enqueued::Full { pending: 4 });

    // Rounds of concurrent enqueues of distinct keys, most of them while the tenant is almost full.
    for round in 0..4 {
        let racing = tenant(&format!("t-auto-full-race-{round}"));
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (s, run) = (s.clone(), automation_run(&racing, "sync", &format!("r{i:02}")));
                tokio::spawn(async move { s.enqueue_run(&run, Some(2)).await.expect("enqueue") })
            })
            .collect();
        let (mut new, mut refused) = (0, 0);
        for task in tasks {
            match task.await.expect("task") {
                Enqueued::Created(_) => new += 1,
                Enqueued::Full { pending } => {
                    assert_eq!(pending, 2, "refused only at the limit");
                    refused += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((new, refused), (2, 14), "concurrent enqueues stop exactly at max_pending");
        assert_eq!(listed(&s, &racing, AutomationRunQuery::new()).await.len(), 2);
    }
}

/// Claims hand out due runs oldest due first, never one due in the future; a claimed run is
/// running, dispatched once, under a lease with its own token.
pub async fn automation_claims_oldest_due_first_and_not_before_due<S: Stores>(s: S) {
    let t = tenant("t-auto-due");
    let now = chrono::Utc::now();
    let ago = |minutes: i64| now - chrono::Duration::minutes(minutes);
    let future = enqueue(&s, automation_run(&t, "a", "future").due_at(now + chrono::Duration::hours(1))).await;
    let mid = enqueue(&s, automation_run(&t, "a", "mid").due_at(ago(2))).await;
    let newest = enqueue(&s, automation_run(&t, "b", "newest").due_at(ago(1))).await;
    let oldest = enqueue(&s, automation_run(&t, "b", "oldest").due_at(ago(3))).await;
    let immediate = enqueue(&s, automation_run(&t, "a", "now")).await;

    let first = claim(&s, take("w-1", 2)).await;
    assert_eq!(run_ids(&first), [oldest, mid], "oldest due first, up to the limit");
    let second = claim(&s, take("w-2", 10)).await;
    assert_eq!(run_ids(&second), [newest, immediate], "not the run due in an hour");
    assert!(claim(&s, take("w-3", 10)).await.is_empty(), "held runs and future runs are not claimed");

    let mut tokens = HashSet::new();
    for (c, holder) in first.iter().map(|c| (c, "w-1")).chain(second.iter().map(|c| (c, "w-2"))) {
        assert_eq!((c.run.status, c.run.dispatches), (AutomationRunStatus::Running, 1), "{c:?}");
        assert!(c.run.started_at.is_some() && c.steps.is_empty());
        assert_eq!((c.lease.run, &c.lease.tenant, c.lease.holder.as_str()), (c.run.id, &t, holder));
        assert!(c.lease.expires_at > now + chrono::Duration::seconds(30), "leased for the request's duration");
        assert!(tokens.insert(c.lease.token), "every claim has its own token");
        let stored = stored_run(&s, &t, c.run.id).await;
        assert_eq!((stored.status, stored.dispatches), (AutomationRunStatus::Running, 1));
    }
    let waiting = stored_run(&s, &t, future).await;
    assert_eq!((waiting.status, waiting.dispatches), (AutomationRunStatus::Queued, 0));
    assert!((waiting.due_at - (now + chrono::Duration::hours(1))).num_milliseconds().abs() <= 1);
}

/// Of 8 workers claiming concurrently until nothing is left, each of 50 runs goes to exactly one.
pub async fn automation_concurrent_claims_take_each_run_once<S: Stores>(s: S) {
    let t = tenant("t-auto-claim-race");
    let mut all = HashSet::new();
    for i in 0..50 {
        all.insert(enqueue(&s, automation_run(&t, "bulk", &format!("k{i:02}"))).await);
    }
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = claim(&s, take(&format!("w-{w}"), 4)).await;
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch);
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.expect("task"));
    }
    let unique: HashSet<AutomationRunId> = claimed.iter().map(|c| c.run.id).collect();
    assert_eq!((claimed.len(), unique), (50, all), "every run claimed exactly once");
    assert!(claimed.iter().all(|c| c.run.status == AutomationRunStatus::Running && c.run.dispatches == 1));
    let tokens: HashSet<u64> = claimed.iter().map(|c| c.lease.token).collect();
    assert_eq!(tokens.len(), 50, "one token per claim");
    assert!(claim(&s, take("late", 100)).await.is_empty());
}

/// A run whose lease lapsed is claimed again in due order among the queued ones, not before them.
pub async fn automation_lapsed_runs_are_claimed_in_due_order<S: Stores>(s: S) {
    let t = tenant("t-auto-lapsed-order");
    let now = chrono::Utc::now();
    let ago = |minutes: i64| now - chrono::Duration::minutes(minutes);
    let lapsed = enqueue(&s, automation_run(&t, "a", "lapsed").due_at(ago(2))).await;
    let dead = claim(&s, ClaimRequest::new("dead-worker", 1, SHORT)).await.pop().expect("claimed");
    assert_eq!(dead.run.id, lapsed);
    let older = enqueue(&s, automation_run(&t, "a", "older").due_at(ago(3))).await;
    let newer = enqueue(&s, automation_run(&t, "a", "newer").due_at(ago(1))).await;
    // Waiting on the clock rather than claiming: a claim before the lapse would take the others.
    let margin = dead.lease.expires_at + SHORT;
    eventually(PATIENCE, || async { (chrono::Utc::now() > margin).then_some(()) }).await.expect("the lease lapsed");
    let batch = claim(&s, take("live-worker", 10)).await;
    assert_eq!(run_ids(&batch), [older, lapsed, newer], "oldest due first, lapsed or queued");
    assert_eq!(batch[1].run.dispatches, 2);
    assert!(batch[1].lease.token > dead.lease.token);
}

/// `per_automation` bounds the live leases of an automation across tenants and workers.
pub async fn automation_claims_respect_per_automation_limits<S: Stores>(s: S) {
    let (a, b) = (tenant("t-auto-pa-a"), tenant("t-auto-pa-b"));
    let mail = [
        enqueue(&s, automation_run(&a, "mail", "m1")).await,
        enqueue(&s, automation_run(&a, "mail", "m2")).await,
        enqueue(&s, automation_run(&b, "mail", "m3")).await,
    ];
    let crm: HashSet<AutomationRunId> =
        [enqueue(&s, automation_run(&a, "crm", "c1")).await, enqueue(&s, automation_run(&a, "crm", "c2")).await].into();
    let limited = |holder: &str| take(holder, 10).per_automation("mail", 1);

    let first = claim(&s, limited("w-1")).await;
    let (first_mail, others): (Vec<&ClaimedRun>, Vec<&ClaimedRun>) =
        first.iter().partition(|c| c.run.automation == "mail");
    assert_eq!(first_mail.iter().map(|c| c.run.id).collect::<Vec<_>>(), [mail[0]], "one mail run, the oldest");
    assert_eq!(others.iter().map(|c| c.run.id).collect::<HashSet<_>>(), crm, "other automations are not limited");
    assert!(claim(&s, limited("w-2")).await.is_empty(), "another worker's lease counts too");

    finish(&s, &first_mail[0].lease, AutomationRunStatus::Succeeded).await;
    assert_eq!(run_ids(&claim(&s, limited("w-2")).await), [mail[1]], "room for one once it finished");
    assert!(claim(&s, limited("w-3")).await.is_empty());
    assert_eq!(run_ids(&claim(&s, take("w-3", 10)).await), [mail[2]], "no limit, no wait");
}

/// `per_tenant` bounds the live leases of a tenant across workers.
pub async fn automation_claims_respect_per_tenant_limits<S: Stores>(s: S) {
    let (a, b) = (tenant("t-auto-pt-a"), tenant("t-auto-pt-b"));
    let a0 = enqueue(&s, automation_run(&a, "x", "a0")).await;
    let a1 = enqueue(&s, automation_run(&a, "y", "a1")).await;
    let a2 = enqueue(&s, automation_run(&a, "x", "a2")).await;
    let b0 = enqueue(&s, automation_run(&b, "x", "b0")).await;
    let limited = |holder: &str| take(holder, 10).per_tenant(2);

    let first = claim(&s, limited("w-1")).await;
    assert_eq!(run_ids(&first), [a0, a1, b0], "two of A's, and B's own");
    assert!(claim(&s, limited("w-2")).await.is_empty(), "A is at its limit");
    finish(&s, &first[0].lease, AutomationRunStatus::Succeeded).await;
    assert_eq!(run_ids(&claim(&s, limited("w-2")).await), [a2]);
    assert!(claim(&s, limited("w-3")).await.is_empty());
}

/// Once a lease lapses another worker takes the run with a larger token; from then on the old
/// lease's writes are refused and the new holder's accepted. A released lease is refused too.
pub async fn automation_lapsed_leases_are_taken_over_and_fenced<S: Stores>(s: S) {
    let t = tenant("t-auto-fence");
    let id = enqueue(&s, automation_run(&t, "welcome", "k")).await;
    let dead = claim(&s, ClaimRequest::new("dead-worker", 1, SHORT)).await.pop().expect("claimed");
    let first = step("0", "send_email", id, now_micros());
    s.save_step(&dead.lease, &first).await.expect("saved while held");

    let live = eventually(PATIENCE, || async {
        claim(&s, ClaimRequest::new("live-worker", 1, LONG).per_tenant(1)).await.pop()
    })
    .await
    .expect("a lapsed lease is taken over, and counts against no limit");
    assert_eq!((live.run.id, live.run.status, live.run.dispatches), (id, AutomationRunStatus::Running, 2));
    assert!(live.lease.token > dead.lease.token, "fencing tokens grow");
    assert_eq!(live.lease.holder, "live-worker");
    assert_eq!(live.steps, std::slice::from_ref(&first), "the steps saved so far come with the run");

    let late = step("1", "send_email", id, now_micros());
    conflict(s.save_step(&dead.lease, &late).await, "the old lease saves nothing");
    conflict(s.renew_run_lease(&dead.lease, LONG).await, "the old lease renews nothing");
    let done = RunRelease::Finish { status: AutomationRunStatus::Succeeded, error: None };
    conflict(s.release_run(&dead.lease, done.clone()).await, "the old lease finishes nothing");
    let park = RunRelease::Wait { until: chrono::Utc::now() };
    conflict(s.release_run(&dead.lease, park).await, "the old lease parks nothing");
    let run = stored_run(&s, &t, id).await;
    assert_eq!((run.status, run.completed_at), (AutomationRunStatus::Running, None));
    assert_eq!(s.automation_steps(&t, id).await.expect("steps"), std::slice::from_ref(&first));

    let renewed = s.renew_run_lease(&live.lease, LONG).await.expect("the holder renews");
    assert_eq!((renewed.run, renewed.token, &renewed.tenant), (id, live.lease.token, &t));
    assert!(renewed.expires_at >= live.lease.expires_at);
    let mut succeeded = first.clone();
    succeeded.status = StepStatus::Succeeded;
    succeeded.output = Some(json!({ "message": "msg_1" }));
    succeeded.completed_at = Some(now_micros());
    s.save_step(&renewed, &succeeded).await.expect("the holder saves");
    s.release_run(&renewed, done.clone()).await.expect("the holder finishes");
    conflict(s.save_step(&renewed, &late).await, "a released lease saves nothing");
    conflict(s.renew_run_lease(&renewed, LONG).await, "a released lease renews nothing");
    conflict(s.release_run(&renewed, done).await, "a released lease releases nothing");
    assert_eq!(s.automation_steps(&t, id).await.expect("steps"), [succeeded]);
    assert_eq!(stored_run(&s, &t, id).await.status, AutomationRunStatus::Succeeded);
}

/// A step's record is inserted, then replaced by its path, keeping the order steps were first
/// saved in; every field round-trips; the next claim brings the steps along.
pub async fn automation_steps_are_replaced_in_first_saved_order<S: Stores>(s: S) {
    let t = tenant("t-auto-steps");
    let id = enqueue(&s, automation_run(&t, "onboard", "k")).await;
    let held = claim(&s, take("w", 1)).await.pop().expect("claimed");
    assert!(held.steps.is_empty());
    let at = now_micros();
    let create = step("0", "create_ticket", id, at);
    let delay = step("1", "delay", id, at);
    let mut failed = create.clone();
    failed.status = StepStatus::Failed;
    failed.error = Some("timeout".into());
    failed.completed_at = Some(at + chrono::Duration::seconds(1));
    let mut nested = step("2.then.0", "branch", id, at);
    nested.input = json!(null);
    let mut created_ticket = create.clone();
    created_ticket.status = StepStatus::Succeeded;
    created_ticket.attempts = 2;
    created_ticket.output = Some(json!({ "ticket": 42, "tags": ["new"] }));
    created_ticket.completed_at = Some(at + chrono::Duration::seconds(2));
    for record in [&create, &delay, &failed, &nested, &created_ticket] {
        s.save_step(&held.lease, record).await.expect("save a step");
    }
    let expected = vec![created_ticket, delay, nested];
    assert_eq!(s.automation_steps(&t, id).await.expect("steps"), expected, "replaced in place, first-saved order");

    s.release_run(&held.lease, RunRelease::Wait { until: at }).await.expect("wait");
    let again = claim(&s, take("w-2", 1)).await.pop().expect("due again");
    assert_eq!((again.run.id, again.run.dispatches), (id, 2));
    assert_eq!(again.steps, expected, "a claim returns the steps saved so far");
}

/// Wait parks a run until its time; Finish ends it with its status, time and error; a finished
/// run is never claimed again.
pub async fn automation_wait_parks_and_finish_ends_a_run<S: Stores>(s: S) {
    let t = tenant("t-auto-release");
    let parked = enqueue(&s, automation_run(&t, "a", "parked")).await;
    let soon = enqueue(&s, automation_run(&t, "a", "soon")).await;
    let failed = enqueue(&s, automation_run(&t, "a", "failed")).await;
    let cancelled = enqueue(&s, automation_run(&t, "a", "cancelled")).await;
    let held: BTreeMap<AutomationRunId, ClaimedRun> =
        claim(&s, take("w", 10)).await.into_iter().map(|c| (c.run.id, c)).collect();
    assert_eq!(held.len(), 4);

    let later = now_micros() + chrono::Duration::hours(1);
    s.release_run(&held[&parked].lease, RunRelease::Wait { until: later }).await.expect("wait");
    let run = stored_run(&s, &t, parked).await;
    assert_eq!((run.status, run.due_at, run.completed_at), (AutomationRunStatus::Waiting, later, None));
    let until = now_micros() + SHORT;
    s.release_run(&held[&soon].lease, RunRelease::Wait { until }).await.expect("wait");
    let error = Some("step 2 failed: 422 Unprocessable Entity".to_owned());
    let fail = RunRelease::Finish { status: AutomationRunStatus::Failed, error: error.clone() };
    s.release_run(&held[&failed].lease, fail).await.expect("fail");
    finish(&s, &held[&cancelled].lease, AutomationRunStatus::Cancelled).await;

    let run = stored_run(&s, &t, failed).await;
    assert_eq!((run.status, &run.error), (AutomationRunStatus::Failed, &error));
    assert!(run.completed_at.is_some_and(|at| Some(at) >= run.started_at), "{run:?}");
    let run = stored_run(&s, &t, cancelled).await;
    assert_eq!((run.status, run.error.as_deref()), (AutomationRunStatus::Cancelled, None));
    assert!(run.completed_at.is_some());

    let again = eventually(PATIENCE, || async {
        let batch = claim(&s, take("w-2", 10)).await;
        (!batch.is_empty()).then_some(batch)
    })
    .await
    .expect("the short wait ends");
    assert_eq!(run_ids(&again), [soon], "only the run whose wait is over");
    assert_eq!((again[0].run.status, again[0].run.dispatches), (AutomationRunStatus::Running, 2));
    assert_eq!(again[0].run.started_at, held[&soon].run.started_at, "started when first taken");
    finish(&s, &again[0].lease, AutomationRunStatus::Succeeded).await;
    let run = stored_run(&s, &t, soon).await;
    assert_eq!((run.status, run.error), (AutomationRunStatus::Succeeded, None));
    assert!(run.completed_at.is_some());

    assert!(claim(&s, take("w-3", 10)).await.is_empty(), "finished runs are never claimed; the parked one is not due");
    assert_eq!(listed(&s, &t, AutomationRunQuery::new().status(AutomationRunStatus::Waiting)).await, [parked]);
}

/// Runs, steps and leases are visible to their tenant only; runs list newest first, filtered by
/// automation and status, up to a limit.
pub async fn automation_runs_are_isolated_and_listed_newest_first<S: Stores>(s: S) {
    let (a, b) = (tenant("t-auto-iso-a"), tenant("t-auto-iso-b"));
    let k1 = enqueue(&s, automation_run(&a, "mail", "k1")).await;
    let k2 = enqueue(&s, automation_run(&a, "crm", "k2")).await;
    let k3 = enqueue(&s, automation_run(&a, "mail", "k3")).await;
    let theirs = enqueue(&s, automation_run(&b, "mail", "k1")).await;
    assert_eq!(listed(&s, &a, AutomationRunQuery::new()).await, [k3, k2, k1], "newest first");
    assert_eq!(listed(&s, &a, AutomationRunQuery::new().automation("mail")).await, [k3, k1]);
    assert_eq!(listed(&s, &a, AutomationRunQuery::new().limit(2)).await, [k3, k2]);

    let held = claim(&s, take("w", 1)).await.pop().expect("claimed");
    assert_eq!(held.run.id, k1);
    let saved = step("0", "send_email", k1, now_micros());
    s.save_step(&held.lease, &saved).await.expect("save");
    let status = |st| AutomationRunQuery::new().status(st);
    assert_eq!(listed(&s, &a, status(AutomationRunStatus::Running)).await, [k1]);
    assert_eq!(listed(&s, &a, status(AutomationRunStatus::Queued)).await, [k3, k2]);
    assert_eq!(listed(&s, &a, status(AutomationRunStatus::Queued).automation("mail")).await, [k3]);
    assert!(listed(&s, &a, status(AutomationRunStatus::Succeeded)).await.is_empty());

    assert!(s.automation_run(&b, k1).await.expect("read").is_none(), "B reads none of A's runs");
    assert!(s.automation_steps(&b, k1).await.expect("steps").is_empty(), "nor their steps");
    assert_eq!(listed(&s, &b, AutomationRunQuery::new()).await, [theirs], "B lists its own only");
    assert!(s.automation_run(&a, theirs).await.expect("read").is_none());
    assert!(s.automation_run(&a, AutomationRunId::new()).await.expect("read").is_none());
    assert!(s.automation_steps(&a, AutomationRunId::new()).await.expect("steps").is_empty());

    let mut forged = held.lease.clone();
    forged.tenant = b.clone();
    conflict(s.save_step(&forged, &step("1", "x", k1, now_micros())).await, "a lease moved to B saves nothing");
    conflict(s.renew_run_lease(&forged, LONG).await, "nor renews");
    let done = RunRelease::Finish { status: AutomationRunStatus::Succeeded, error: None };
    conflict(s.release_run(&forged, done).await, "nor releases");
    assert_eq!(stored_run(&s, &a, k1).await.status, AutomationRunStatus::Running);
    assert_eq!(s.automation_steps(&a, k1).await.expect("steps"), [saved]);
}
