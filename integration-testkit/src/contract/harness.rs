//! The generic contract: what every adapter of **any** domain must do against its fake, whatever
//! its records are. A domain's own suite then holds only its domain checks (see
//! [`hris`](super::hris) for one that adds termination, reference-data and write rules).
//!
//! A fixture implements [`Fixture`] — start the fake over a generated dataset, build the
//! adapter, and say how the dataset changes — and expands [`contract_suite!`](crate::contract_suite),
//! one test per rule:
//!
//! ```no_run
//! # use integration_testkit::contract::harness::Fixture;
//! # struct MyFixture;
//! // tests/contract.rs, with tokio (macros, rt-multi-thread) as a dev-dependency:
//! // integration_testkit::contract_suite!(MyFixture);
//! # fn main() {}
//! ```
//!
//! | rule | holds when |
//! |---|---|
//! | `full_sync_equals_the_dataset` | a full sync caches exactly the live records, each [checked](Fake::check) |
//! | `full_sync_recovers_from_transient_faults` | 429 with `Retry-After`, 503, a truncated body and latency are retried |
//! | `malformed_answers_are_read_again` | an unparsable `200` is read again, counted in the run log |
//! | `a_provider_garbling_a_third_of_its_answers_still_syncs` | 30 % unparsable answers, still exactly the dataset |
//! | `a_resumable_full_refresh_resumes_where_it_stopped` | a stopped pass resumes at the page it stopped at |
//! | `duplicates_across_pages_are_absorbed` | offset paging while records move: no duplicate, nothing lost |
//! | `incremental_sync_yields_exactly_the_changes` | an add, an edit and a deletion, and nothing else |
//! | `full_refresh_detects_deletions_and_restorations` | a deleted record leaves the cache; restored, it returns |
//! | `webhooks_map_to_changes` | a signed delivery verifies and maps to exactly the changes made |
//! | `malformed_records_are_kept_with_the_field_named` | a bad value rejects its record (raw data kept, field named), and does not delete its cached version |
//! | `malformed_json_is_reported_as_invalid_response` | a body that is never JSON fails with `invalid_response` |
//! | `expired_credentials_are_recovered_or_reported` | OAuth refreshes and goes on; a key reports an auth error |
//!
//! Rules on what the adapter does not declare (an incremental stream, webhooks) or the fake
//! cannot do (offset paging, restoring) are skipped with a printed reason.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integration_core::descriptor::RunLimits;
use integration_core::store::{ChangeKind, MemoryStore, RecordStore, RunStatus, StreamScope, SyncRun};
use integration_core::webhook::{VerifyOptions, WebhookSecret};
use integration_core::{
    CancellationToken, Capability, ConnectionId, ErrorKind, Integration, SyncEngine, SyncJob, SyncMode, TenantId,
    VerifiedWebhook, WebhookOutcome, WebhookScheme,
};
use serde_json::Value;

use crate::fake::dataset::Dataset;
use crate::fake::faults::{Fault, Faults};

/// A signed delivery as the provider would send it.
#[derive(Debug, Clone)]
pub struct SignedDelivery {
    /// How the provider signs.
    pub scheme: WebhookScheme,
    /// The secret it signed with.
    pub secret: WebhookSecret,
    /// The request headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

/// A provider value of the wrong shape, and the field the adapter's error must name.
#[derive(Debug, Clone)]
pub struct Malformed {
    /// The provider-format field to corrupt (see [`Dataset::corrupt`]).
    pub provider_field: &'static str,
    /// The value served instead.
    pub value: Value,
    /// The field the rejection must name (the adapter's path to it).
    pub expected_field: &'static str,
}

/// The parts of a fake's dataset the generic rules change, whatever its records are;
/// every [`Dataset`] is one.
pub trait Records: Send + Sync {
    /// The live records' ids, in order.
    fn live_ids(&self) -> Vec<u64>;
    /// Deletes record `id`.
    fn delete(&self, id: u64) -> bool;
    /// Restores deleted record `id`.
    fn restore(&self, id: u64) -> bool;
    /// Serves `value` for provider field `field` of record `id`.
    fn corrupt(&self, id: u64, field: &str, value: Value) -> bool;
}

impl<T: Clone + Send + Sync + 'static> Records for Dataset<T> {
    fn live_ids(&self) -> Vec<u64> {
        self.live().iter().map(|r| r.id).collect()
    }
    fn delete(&self, id: u64) -> bool {
        Dataset::delete(self, id)
    }
    fn restore(&self, id: u64) -> bool {
        Dataset::restore(self, id)
    }
    fn corrupt(&self, id: u64, field: &str, value: Value) -> bool {
        Dataset::corrupt(self, id, field, value)
    }
}

/// A fake provider as the generic rules see it: its dataset, its faults, and how its records
/// change (every fake of the fake kit can be one: `fake::notes::FakeNotes` is).
pub trait Fake: Send + Sync {
    /// The dataset.
    fn records(&self) -> &dyn Records;
    /// The fault queue.
    fn faults(&self) -> &Faults;
    /// Adds a record at the provider; its dataset id.
    fn add(&self) -> u64;
    /// Changes live record `id` at the provider (a field the adapter maps).
    fn edit(&self, id: u64) -> bool;
    /// Checks one cached record (the common model as JSON) against dataset record `id`;
    /// panics naming the difference. By default only the ids are compared.
    fn check(&self, id: u64, cached: &Value) {
        let _ = (id, cached);
    }
}

/// One adapter, of any domain, against its fake.
#[async_trait]
pub trait Fixture: Send + Sync + Sized + 'static {
    /// Starts the fake over `size` records generated from `seed` and builds the adapter.
    async fn start(seed: u64, size: usize) -> Self;
    /// The adapter.
    fn integration(&self) -> Arc<dyn Integration>;
    /// The stream the rules sync: the domain's main one; by default the adapter's first.
    fn stream(&self) -> String {
        self.integration().descriptor().streams.first().map(|s| s.name.clone()).unwrap_or_default()
    }
    /// The fake provider behind it: its dataset, faults and changes.
    fn fake(&self) -> &dyn Fake;
    /// The adapter's `remote_id` for dataset record `id`.
    fn remote_id(&self, id: u64) -> String {
        id.to_string()
    }
    /// Values of the wrong type or format for this provider, each rejected naming a field.
    fn malformed(&self) -> Vec<Malformed>;
    /// Whether the adapter recovers from expired credentials (OAuth: refresh and retry) or
    /// must report them (an API key: an auth error, the default).
    fn recovers_expired_credentials(&self) -> bool {
        false
    }
    /// Whether the provider pages by offset (so a record inserted ahead of a page repeats).
    fn pages_by_offset(&self) -> bool {
        false
    }
    /// The next signed webhook delivery carrying the dataset's queued changes, when the
    /// provider pushes webhooks.
    async fn take_webhook(&self) -> Option<SignedDelivery> {
        None
    }
}

/// Expands to one `#[tokio::test]` per rule of the generic contract for fixture type `$fixture`.
#[macro_export]
macro_rules! contract_suite {
    ($fixture:ty) => {
        $crate::contract_suite!(@each $fixture;
            full_sync_equals_the_dataset,
            full_sync_recovers_from_transient_faults,
            malformed_answers_are_read_again,
            a_provider_garbling_a_third_of_its_answers_still_syncs,
            a_resumable_full_refresh_resumes_where_it_stopped,
            duplicates_across_pages_are_absorbed,
            incremental_sync_yields_exactly_the_changes,
            full_refresh_detects_deletions_and_restorations,
            webhooks_map_to_changes,
            malformed_records_are_kept_with_the_field_named,
            malformed_json_is_reported_as_invalid_response,
            expired_credentials_are_recovered_or_reported
        );
    };
    (@each $fixture:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::contract::harness::$name::<$fixture>().await;
            }
        )*
    };
}

/// A store and an engine for one test.
pub(crate) struct Harness {
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) engine: SyncEngine,
    pub(crate) tenant: TenantId,
    pub(crate) connection: ConnectionId,
}

impl Harness {
    pub(crate) fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let engine = SyncEngine::new(store.clone(), store.clone(), "contract");
        Self {
            store,
            engine,
            tenant: TenantId::new("contract").expect("tenant"),
            connection: ConnectionId::new("contract").expect("connection"),
        }
    }

    pub(crate) fn job(&self, stream: &str, mode: SyncMode, page: Option<u32>) -> SyncJob {
        let job = SyncJob::new(self.tenant.clone(), self.connection.clone(), stream, mode);
        match page.and_then(NonZeroU32::new) {
            Some(size) => job.with_page_size(size),
            None => job,
        }
    }

    pub(crate) async fn sync(
        &self,
        integration: &dyn Integration,
        stream: &str,
        mode: SyncMode,
        page: Option<u32>,
    ) -> SyncRun {
        let job = self.job(stream, mode, page);
        self.engine.run(integration, &job, &CancellationToken::new()).await.expect("the sync starts")
    }

    /// The cached records of `stream`: remote id → the common model as JSON.
    pub(crate) async fn cached(&self, stream: &str) -> BTreeMap<String, Value> {
        let scope = StreamScope::new(self.tenant.clone(), self.connection.clone(), stream);
        let records = self.store.records(&scope, None, 100_000, false).await.expect("cache");
        records.into_iter().map(|r| (r.remote_id, r.data)).collect()
    }
}

/// Verifies `delivery`'s signature as a host's webhook router would, then lets the adapter map it.
pub(crate) async fn handle(integration: &dyn Integration, delivery: SignedDelivery) -> WebhookOutcome {
    let secrets = std::slice::from_ref(&delivery.secret);
    delivery.scheme.verify(&delivery.headers, &delivery.body, secrets, &VerifyOptions::now()).expect("it verifies");
    let event_id = delivery.scheme.event_id(&delivery.headers, &delivery.body);
    let webhook = VerifiedWebhook::trusted(delivery.headers, delivery.body, Some(event_id), chrono::Utc::now());
    integration.handle_webhook(webhook).await.expect("the delivery maps")
}

pub(crate) fn skip(rule: &str, why: &str) {
    println!("skipped {rule}: {why}");
}

async fn sync<F: Fixture>(fixture: &F, harness: &Harness, mode: SyncMode, page: Option<u32>) -> SyncRun {
    harness.sync(fixture.integration().as_ref(), &fixture.stream(), mode, page).await
}

/// The cache of the fixture's stream holds exactly the dataset's live records, each checked.
async fn assert_cache_equals_dataset<F: Fixture>(fixture: &F, harness: &Harness) {
    let cached = harness.cached(&fixture.stream()).await;
    let ids = fixture.fake().records().live_ids();
    let expected: BTreeSet<String> = ids.iter().map(|id| fixture.remote_id(*id)).collect();
    let got: BTreeSet<String> = cached.keys().cloned().collect();
    assert_eq!(got, expected, "the cache holds exactly the dataset's records");
    for id in ids {
        fixture.fake().check(id, &cached[&fixture.remote_id(id)]);
    }
}

fn supports_incremental<F: Fixture>(fixture: &F) -> bool {
    let integration = fixture.integration();
    integration.descriptor().stream(&fixture.stream()).is_some_and(|s| s.supports(SyncMode::Incremental))
}

/// A full sync caches exactly the dataset's records, each mapped right.
pub async fn full_sync_equals_the_dataset<F: Fixture>() {
    let fixture = F::start(11, 23).await;
    let harness = Harness::new();
    let run = sync(&fixture, &harness, SyncMode::FullRefresh, Some(5)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.counts.added, 23);
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// 429 with `Retry-After`, 5xx, latency and a truncated body are retried; the sync completes
/// with the same result as without them.
pub async fn full_sync_recovers_from_transient_faults<F: Fixture>() {
    let fixture = F::start(12, 12).await;
    let faults = fixture.fake().faults();
    // Three failures and a slow success: within the standard policy's four attempts even for a
    // provider that answers a sync in one request.
    faults.inject(Fault::TooManyRequests { retry_after_secs: 1 }, 1);
    faults.inject(Fault::ServerError(503), 1);
    faults.inject(Fault::TruncatedBody, 1);
    faults.inject(Fault::Latency(Duration::from_millis(50)), 1);
    let harness = Harness::new();
    let run = sync(&fixture, &harness, SyncMode::FullRefresh, Some(5)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(faults.served().len(), 4, "every fault was served: {:?}", faults.served());
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A complete answer whose body does not parse (a provider glitch) is read again: the run
/// succeeds, the retries counted in its log.
pub async fn malformed_answers_are_read_again<F: Fixture>() {
    let fixture = F::start(24, 9).await;
    fixture.fake().faults().inject(Fault::MalformedJson, 2);
    let harness = Harness::new();
    let run = sync(&fixture, &harness, SyncMode::FullRefresh, Some(5)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.counts.retried_reads, 2, "each unparsable answer was read again once");
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A provider that garbles 30 % of its answers (a complete `200` whose body does not parse, at
/// random): each answer is asked for again, and the sync ends with exactly the dataset.
pub async fn a_provider_garbling_a_third_of_its_answers_still_syncs<F: Fixture>() {
    let fixture = F::start(26, 40).await;
    let mut rng = fastrand::Rng::with_seed(26);
    for _ in 0..20_000 {
        let fault = if rng.f64() < 0.3 { Fault::MalformedJson } else { Fault::Latency(Duration::ZERO) };
        fixture.fake().faults().inject(fault, 1);
    }
    let harness = Harness::new();
    let run = sync(&fixture, &harness, SyncMode::FullRefresh, Some(10)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert!(run.counts.retried_reads > 0, "some answers were asked for again");
    fixture.fake().faults().clear();
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A resumable full refresh stopped after two pages resumes at the third, not the first, and
/// ends with exactly the dataset.
pub async fn a_resumable_full_refresh_resumes_where_it_stopped<F: Fixture>() {
    let fixture = F::start(25, 23).await;
    let harness = Harness::new();
    let integration = fixture.integration();
    let job = harness.job(&fixture.stream(), SyncMode::ResumableFullRefresh, Some(5));
    let never = CancellationToken::new();
    let limited = job.clone().with_limits(RunLimits::new(2, 1_000));
    let stopped = harness.engine.run(integration.as_ref(), &limited, &never).await.expect("run");
    if stopped.status == RunStatus::Succeeded {
        return skip("a_resumable_full_refresh_resumes_where_it_stopped", "the provider serves everything in one page");
    }
    assert_eq!(stopped.status, RunStatus::Failed, "stopped by its page limit");
    let read_before = stopped.counts.processed;
    let resumed = harness.engine.run(integration.as_ref(), &job, &never).await.expect("run");
    assert_eq!(resumed.status, RunStatus::Succeeded, "{:?}", resumed.error);
    assert_eq!(
        read_before + resumed.counts.processed,
        23,
        "the resumed run read only what the stopped one had not: {read_before} + {}",
        resumed.counts.processed
    );
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A page that repeats a record of the page before (offset paging while records move) yields
/// no duplicate and loses nothing.
pub async fn duplicates_across_pages_are_absorbed<F: Fixture>() {
    let fixture = F::start(13, 17).await;
    if !fixture.pages_by_offset() {
        return skip("duplicates_across_pages_are_absorbed", "the provider does not page by offset");
    }
    fixture.fake().faults().inject(Fault::DuplicateAcrossPages, 2);
    let harness = Harness::new();
    let run = sync(&fixture, &harness, SyncMode::FullRefresh, Some(5)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(fixture.fake().faults().pending(), 0, "both duplicates were served");
    assert_eq!(run.counts.added, 17, "a repeated record is not counted twice");
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// Changes made between two incremental syncs — an addition, an edit, a deletion: the second
/// sync yields exactly them.
pub async fn incremental_sync_yields_exactly_the_changes<F: Fixture>() {
    let fixture = F::start(14, 15).await;
    if !supports_incremental(&fixture) {
        return skip("incremental_sync_yields_exactly_the_changes", "the stream is not incremental");
    }
    let harness = Harness::new();
    let first = sync(&fixture, &harness, SyncMode::Incremental, Some(5)).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    let cursor = harness.store.changes_since(&harness.tenant, None, 100_000).await.expect("changes").next;

    let ids = fixture.fake().records().live_ids();
    let added = fixture.fake().add();
    assert!(fixture.fake().edit(ids[1]), "record {} can be edited", ids[1]);
    assert!(fixture.fake().records().delete(ids[3]), "record {} can be deleted", ids[3]);

    let second = sync(&fixture, &harness, SyncMode::Incremental, Some(5)).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    let changes = harness.store.changes_since(&harness.tenant, Some(&cursor), 100_000).await.expect("changes");
    let got: BTreeSet<(String, String)> =
        changes.changes.into_iter().map(|c| (c.remote_id, format!("{:?}", c.kind))).collect();
    let expected: BTreeSet<(String, String)> = [
        (fixture.remote_id(added), ChangeKind::Added),
        (fixture.remote_id(ids[1]), ChangeKind::Updated),
        (fixture.remote_id(ids[3]), ChangeKind::Deleted),
    ]
    .into_iter()
    .map(|(id, kind)| (id, format!("{kind:?}")))
    .collect();
    assert_eq!(got, expected, "exactly the changes made");
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A full refresh after a deletion drops the record; after it is restored, the next one brings
/// it back.
pub async fn full_refresh_detects_deletions_and_restorations<F: Fixture>() {
    let fixture = F::start(15, 10).await;
    let harness = Harness::new();
    let first = sync(&fixture, &harness, SyncMode::FullRefresh, None).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    let gone = fixture.fake().records().live_ids()[5];
    assert!(fixture.fake().records().delete(gone));
    let second = sync(&fixture, &harness, SyncMode::FullRefresh, None).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!((second.counts.updated, second.counts.deleted), (0, 1), "{:?}", second.counts);
    assert!(!harness.cached(&fixture.stream()).await.contains_key(&fixture.remote_id(gone)), "the deleted one is gone");
    assert_cache_equals_dataset(&fixture, &harness).await;
    assert!(fixture.fake().records().restore(gone));
    let third = sync(&fixture, &harness, SyncMode::FullRefresh, None).await;
    assert_eq!(third.status, RunStatus::Succeeded, "{:?}", third.error);
    assert_eq!((third.counts.added, third.counts.deleted), (1, 0), "{:?}", third.counts);
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A signed webhook about an addition, an edit and a deletion verifies, and maps to exactly
/// those record changes; applied, the cache equals the dataset.
pub async fn webhooks_map_to_changes<F: Fixture>() {
    let fixture = F::start(16, 8).await;
    let integration = fixture.integration();
    if !integration.descriptor().supports(&Capability::WEBHOOKS) {
        return skip("webhooks_map_to_changes", "no webhooks capability");
    }
    let harness = Harness::new();
    sync(&fixture, &harness, SyncMode::FullRefresh, None).await;
    let _ = fixture.take_webhook().await;
    let ids = fixture.fake().records().live_ids();
    let added = fixture.fake().add();
    assert!(fixture.fake().edit(ids[1]));
    assert!(fixture.fake().records().delete(ids[2]));
    let delivery = fixture.take_webhook().await.expect("a webhook for the queued changes");
    let outcome = handle(integration.as_ref(), delivery).await;
    let got: BTreeMap<String, bool> =
        outcome.changes.iter().map(|c| (c.record.remote_id.clone(), c.record.deleted)).collect();
    let expected: BTreeMap<String, bool> =
        [(fixture.remote_id(added), false), (fixture.remote_id(ids[1]), false), (fixture.remote_id(ids[2]), true)]
            .into();
    assert_eq!(got, expected, "one change per record, deletions as tombstones");
    harness.engine.apply_changes(&harness.tenant, &harness.connection, &outcome.changes).await.expect("apply");
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A record with a malformed value is rejected — kept with its raw data, naming the record and
/// the field — and the sync goes on with the others. A record cached before it turned bad is
/// not deleted by the full refresh that rejects it.
pub async fn malformed_records_are_kept_with_the_field_named<F: Fixture>() {
    let fixture = F::start(17, 9).await;
    let ids = fixture.fake().records().live_ids();
    let harness = Harness::new();
    let clean = sync(&fixture, &harness, SyncMode::FullRefresh, None).await;
    assert_eq!(clean.status, RunStatus::Succeeded, "{:?}", clean.error);
    for (n, bad) in fixture.malformed().into_iter().enumerate() {
        let id = ids[n];
        assert!(fixture.fake().records().corrupt(id, bad.provider_field, bad.value.clone()));
        let run = sync(&fixture, &harness, SyncMode::FullRefresh, None).await;
        assert_eq!(run.status, RunStatus::PartiallySucceeded, "{:?}", run.error);
        assert_eq!(run.counts.failed, n as u64 + 1, "every corrupted record so far is rejected");
        assert_eq!(run.counts.deleted, 0, "a rejected record is not a deleted one");
        let remote_id = fixture.remote_id(id);
        let entry = run
            .rejected
            .iter()
            .find(|r| r.remote_id.as_deref() == Some(remote_id.as_str()))
            .unwrap_or_else(|| panic!("{remote_id} is rejected: {:?}", run.rejected));
        assert_eq!(entry.field.as_deref(), Some(bad.expected_field), "{entry:?}");
        assert!(!entry.raw.is_null(), "the raw data is kept");
        let cached = harness.cached(&fixture.stream()).await;
        assert_eq!(cached.len(), 9, "the others are synced, the rejected ones stay as they were");
        assert!(cached.contains_key(&remote_id), "{remote_id} keeps its cached version");
        let fresh = Harness::new();
        let run = sync(&fixture, &fresh, SyncMode::FullRefresh, None).await;
        assert_eq!(fresh.cached(&fixture.stream()).await.len(), 9 - (n + 1), "a first sync caches the others");
        assert_eq!(run.counts.failed, n as u64 + 1);
    }
}

/// A body that is not JSON fails the run with `invalid_response`, not a panic or silence.
pub async fn malformed_json_is_reported_as_invalid_response<F: Fixture>() {
    let fixture = F::start(18, 4).await;
    fixture.fake().faults().inject(Fault::MalformedJson, 50);
    let harness = Harness::new();
    let run = sync(&fixture, &harness, SyncMode::FullRefresh, None).await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.expect("the run's error");
    assert_eq!(error.kind, ErrorKind::InvalidResponse.as_str(), "{error:?}");
    assert!(harness.cached(&fixture.stream()).await.is_empty());
}

/// Expired credentials: OAuth adapters renew them and go on; others report an auth error.
pub async fn expired_credentials_are_recovered_or_reported<F: Fixture>() {
    let fixture = F::start(19, 6).await;
    fixture.fake().faults().inject(Fault::ExpiredToken, 1);
    let harness = Harness::new();
    let run = sync(&fixture, &harness, SyncMode::FullRefresh, None).await;
    if fixture.recovers_expired_credentials() {
        assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
        assert_cache_equals_dataset(&fixture, &harness).await;
    } else {
        assert_eq!(run.status, RunStatus::Failed);
        let kind = run.error.expect("the run's error").kind;
        assert!(
            kind == ErrorKind::AuthInvalid.as_str() || kind == ErrorKind::AuthExpired.as_str(),
            "an auth error, not {kind}"
        );
    }
}
