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

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use integration_core::config::{ConnectionStatus, Settings};
use integration_core::crypto::SealedBox;
use integration_core::descriptor::{Domain, SyncMode};
use integration_core::store::Recorded;
use integration_core::store::{
    AuditAction, AuditEvent, AuditSink, ChangeKind, Claim, ConfigStore, DeliveryOutcome, DeliveryQuery, DeliveryStatus,
    DeliveryStore, IdempotencyStore, PageWrite, RecordStore, RunCounts, RunQuery, RunStatus, StateStore, StoredConfig,
    StreamScope, SyncRun, TokenStore, WebhookDelivery,
};
use integration_core::{Checkpoint, ConnectionId, DeliveryId, ErrorKind, ProviderId, Record, RunId, TenantId};
use serde_json::json;

use crate::poll::eventually;

/// Everything a full store implements. Blanket-implemented.
pub trait Stores:
    ConfigStore + StateStore + TokenStore + IdempotencyStore + RecordStore + DeliveryStore + AuditSink + Clone + 'static
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
            audit_sink_accepts_events
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
    done.counts = RunCounts { processed: 10, added: 7, updated: 1, deleted: 1, failed: 1 };
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
    let sum = s.write_page(&sc, &first).await.expect("write");
    assert_eq!((sum.added, sum.updated, sum.unchanged, sum.deleted), (2, 0, 0, 0));

    let reordered: serde_json::Value = serde_json::from_str(r#"{"name":"Ada","id":"1"}"#).expect("json");
    let second = PageWrite::new(
        vec![Record::new("1", reordered), employee("2", "Grace Hopper"), Record::deleted("3"), employee("4", "Alan")],
        None,
        None,
    );
    let sum = s.write_page(&sc, &second).await.expect("write");
    assert_eq!((sum.added, sum.updated, sum.unchanged, sum.deleted), (1, 1, 2, 0));

    let sum = s
        .write_page(&sc, &PageWrite::new(vec![Record::deleted("1"), Record::deleted("1")], None, None))
        .await
        .expect("write");
    assert_eq!((sum.deleted, sum.unchanged), (1, 1), "a repeated tombstone changes nothing");
    let gone = RecordStore::record(&s, &sc, "1").await.expect("read").expect("kept, soft-deleted");
    assert!(gone.deleted);
    assert_eq!(gone.data["name"], "Ada", "the last live data is kept");

    let sum = s.write_page(&sc, &PageWrite::new(vec![employee("1", "Ada")], None, None)).await.expect("write");
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

/// A page's checkpoint is readable through the StateStore once the page is written, with the run.
pub async fn records_page_and_checkpoint_commit_together<S: Stores>(s: S) {
    let (t, c) = (tenant("t-rec-cp"), conn("hr"));
    let sc = scope(&t, &c, "employees");
    let run_id = RunId::new();
    let page = PageWrite::new(vec![employee("1", "Ada")], Some(Checkpoint::new(json!({"page": 2}))), Some(run_id));
    s.write_page(&sc, &page).await.expect("write");
    let cp = StateStore::checkpoint(&s, &sc).await.expect("read").expect("committed with the page");
    assert_eq!(cp.checkpoint.as_value(), &json!({"page": 2}));
    assert_eq!(cp.run, Some(run_id));
    let rec = RecordStore::record(&s, &sc, "1").await.expect("read").expect("written");
    assert_eq!(rec.seen_by, Some(run_id));
    // A page without a checkpoint leaves the committed one alone.
    s.write_page(&sc, &PageWrite::new(vec![employee("2", "Grace")], None, Some(run_id))).await.expect("write");
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
        &PageWrite::new(vec![employee("1", "Ada"), employee("2", "Grace"), employee("3", "Alan")], None, Some(old_run)),
    )
    .await
    .expect("write");
    s.write_page(&other, &PageWrite::new(vec![employee("d1", "R&D")], None, Some(old_run))).await.expect("write");
    let full = RunId::new();
    s.write_page(&sc, &PageWrite::new(vec![employee("1", "Ada"), employee("3", "Alan Turing")], None, Some(full)))
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
        s.write_page(&sc, &PageWrite::new(vec![employee(&format!("{i:02}"), "v1")], None, None)).await.expect("write");
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
    s.write_page(&sc, &PageWrite::new(vec![employee("00", "v2")], None, None)).await.expect("write");
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
        &PageWrite::new(vec![employee("1", "Ada")], Some(Checkpoint::new(json!(1))), None),
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
    s.write_page(&sc, &PageWrite::new(records, None, None)).await.expect("write");
    s.write_page(&sc, &PageWrite::new(vec![Record::deleted("r3")], None, None)).await.expect("write");
    let ids = |v: Vec<integration_core::store::StoredRecord>| v.into_iter().map(|r| r.remote_id).collect::<Vec<_>>();
    assert_eq!(ids(s.records(&sc, None, 3, false).await.expect("list")), ["r0", "r1", "r2"]);
    assert_eq!(ids(s.records(&sc, Some("r2"), 3, false).await.expect("list")), ["r4", "r5", "r6"]);
    assert_eq!(ids(s.records(&sc, Some("r2"), 3, true).await.expect("list")), ["r3", "r4", "r5"]);
    assert!(s.records(&sc, Some("r9"), 3, true).await.expect("list").is_empty());
    let unique: HashSet<String> = ids(s.records(&sc, None, 100, true).await.expect("list")).into_iter().collect();
    assert_eq!(unique.len(), 10);
}

fn delivery(t: &TenantId, event: &str) -> WebhookDelivery {
    let now = chrono::Utc::now();
    WebhookDelivery {
        id: DeliveryId::new(),
        tenant: t.clone(),
        connection: conn("hr"),
        provider: ProviderId::new("acmehr").expect("provider"),
        event_id: event.into(),
        headers: vec![("webhook-id".into(), event.into())],
        body: br#"{"type":"employee.hired"}"#.to_vec(),
        received_at: now,
        status: DeliveryStatus::Queued,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        rejection: None,
        outcome: None,
        completed_at: None,
    }
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
    assert_eq!((back.body.as_slice(), back.headers.as_slice()), (first.body.as_slice(), first.headers.as_slice()));
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

/// The audit sink accepts events of every shape.
pub async fn audit_sink_accepts_events<S: Stores>(s: S) {
    let t = tenant("t-audit");
    s.audit(AuditEvent::new(t.clone(), AuditAction::ConfigRead).connection(conn("hr"))).await.expect("audit");
    s.audit(AuditEvent::new(t, AuditAction::WebhookRejected).failed("bad signature")).await.expect("audit");
}
