//! The HRIS contract: what every [`Hris`] adapter must do, checked against its fake provider.
//!
//! An adapter's test file implements [`HrisFixture`] (start the fake, build the adapter against
//! it) and expands [`hris_contract_suite!`](crate::hris_contract_suite), one test per rule:
//!
//! ```no_run
//! # use integration_testkit::contract::hris::HrisFixture;
//! # struct MyFixture;
//! // tests/contract.rs of an adapter crate, with tokio (macros, rt-multi-thread) as a dev-dependency:
//! // integration_testkit::hris_contract_suite!(MyFixture);
//! # fn main() {}
//! ```
//!
//! Rules on capabilities the adapter does not declare are skipped with a printed reason; a
//! declared one done wrong fails. The same rules run against a real sandbox when a fixture
//! builds the adapter from credentials in the environment instead of a fake (see the adapters'
//! `tests/sandbox.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use integration_core::descriptor::RunLimits;
use integration_core::store::{ChangeKind, MemoryStore, RecordStore, RunStatus, StreamScope, SyncRun};
use integration_core::webhook::{VerifyOptions, WebhookSecret};
use integration_core::{
    CancellationToken, Capability, ConnectionId, ErrorKind, SyncEngine, SyncJob, SyncMode, TenantId, VerifiedWebhook,
    WebhookScheme,
};
use integration_hris::{Employee, EmployeeUpdate, EmploymentStatus, Hris, HrisStream, Remote, capability};
use serde_json::Value;

use crate::fake::faults::{Fault, Faults};
use crate::fake::people::{DEPARTMENTS, JOBS, People, Person, Status};

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
    /// The provider-format field to corrupt (see [`People::corrupt`]).
    pub provider_field: &'static str,
    /// The value served instead.
    pub value: Value,
    /// The field the rejection must name (the adapter's path to it).
    pub expected_field: &'static str,
}

/// One adapter against its fake.
#[async_trait]
pub trait HrisFixture: Send + Sync + Sized + 'static {
    /// Starts the fake over `people` and builds the adapter against it.
    async fn start(people: People) -> Self;
    /// The adapter.
    fn hris(&self) -> Arc<dyn Hris>;
    /// The dataset behind the fake.
    fn people(&self) -> &People;
    /// The fake's fault queue.
    fn faults(&self) -> &Faults;
    /// The adapter's `remote_id` for dataset person `id`.
    fn remote_id(&self, person: u64) -> String {
        person.to_string()
    }
    /// Values of the wrong type or format for this provider, each rejected naming a field.
    fn malformed(&self) -> Vec<Malformed>;
    /// Whether the adapter recovers from expired credentials (OAuth: refresh and retry) or
    /// must report them (an API key: an auth error).
    fn recovers_expired_credentials(&self) -> bool;
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

/// Expands to one `#[tokio::test]` per rule of the HRIS contract for fixture type `$fixture`.
#[macro_export]
macro_rules! hris_contract_suite {
    ($fixture:ty) => {
        $crate::hris_contract_suite!(@each $fixture;
            full_sync_equals_the_dataset,
            full_sync_recovers_from_transient_faults,
            malformed_answers_are_read_again,
            a_provider_garbling_a_third_of_its_answers_still_syncs,
            a_resumable_full_refresh_resumes_where_it_stopped,
            duplicates_across_pages_are_absorbed,
            incremental_sync_yields_exactly_the_changes,
            full_refresh_detects_terminations_and_deletions,
            webhooks_map_to_changes,
            malformed_records_are_kept_with_the_field_named,
            malformed_json_is_reported_as_invalid_response,
            expired_credentials_are_recovered_or_reported,
            departments_jobs_and_time_off_match_the_dataset,
            employee_updates_are_read_back
        );
    };
    (@each $fixture:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::contract::hris::$name::<$fixture>().await;
            }
        )*
    };
}

/// A store, an engine and the scope of one stream, for one test.
struct Harness {
    store: Arc<MemoryStore>,
    engine: SyncEngine,
    tenant: TenantId,
    connection: ConnectionId,
}

impl Harness {
    fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let engine = SyncEngine::new(store.clone(), store.clone(), "contract");
        Self {
            store,
            engine,
            tenant: TenantId::new("contract").expect("tenant"),
            connection: ConnectionId::new("hris").expect("connection"),
        }
    }

    async fn sync(&self, hris: &dyn Hris, stream: HrisStream, mode: SyncMode, page: Option<u32>) -> SyncRun {
        let mut job = SyncJob::new(self.tenant.clone(), self.connection.clone(), stream.name(), mode);
        if let Some(size) = page.and_then(NonZeroU32::new) {
            job = job.with_page_size(size);
        }
        self.engine.run(hris, &job, &CancellationToken::new()).await.expect("the sync starts")
    }

    fn scope(&self, stream: HrisStream) -> StreamScope {
        StreamScope::new(self.tenant.clone(), self.connection.clone(), stream.name())
    }

    async fn employees(&self) -> BTreeMap<String, Remote<Employee>> {
        let records =
            self.store.records(&self.scope(HrisStream::Employees), None, 100_000, false).await.expect("cache");
        records
            .into_iter()
            .map(|r| {
                let employee: Remote<Employee> =
                    integration_core::decode::decode(&r.data).expect("the cache holds the common model");
                (r.remote_id, employee)
            })
            .collect()
    }

    async fn count(&self, stream: HrisStream) -> usize {
        self.store.records(&self.scope(stream), None, 100_000, false).await.expect("cache").len()
    }
}

fn skip(rule: &str, why: &str) {
    println!("skipped {rule}: {why}");
}

/// Checks one cached employee against the dataset's person.
fn assert_matches(person: &Person, employee: &Remote<Employee>) {
    let e = &employee.fields;
    let who = format!("person {} ({})", person.id, employee.remote_id);
    assert_eq!(e.first_name.as_deref(), Some(person.first_name.as_str()), "{who}: first name");
    assert_eq!(e.last_name.as_deref(), Some(person.last_name.as_str()), "{who}: last name");
    assert_eq!(e.work_email.as_deref(), Some(person.work_email.as_str()), "{who}: work email");
    let status = match person.status {
        Status::Active => EmploymentStatus::Active,
        Status::OnLeave => EmploymentStatus::OnLeave,
        Status::Terminated => EmploymentStatus::Terminated,
    };
    assert_eq!(e.employment.status, status, "{who}: employment status");
    if let Some(start) = e.employment.start_date {
        assert_eq!(start, person.hire_date, "{who}: start date");
    }
    if person.status == Status::Terminated
        && let Some(end) = e.employment.termination_date
    {
        assert_eq!(Some(end), person.termination_date, "{who}: termination date");
    }
}

async fn assert_cache_equals_dataset<F: HrisFixture>(fixture: &F, harness: &Harness) {
    let cached = harness.employees().await;
    let people = fixture.people().people();
    let expected: BTreeSet<String> = people.iter().map(|p| fixture.remote_id(p.id)).collect();
    let got: BTreeSet<String> = cached.keys().cloned().collect();
    assert_eq!(got, expected, "the cache holds exactly the dataset's people");
    for person in &people {
        assert_matches(person, &cached[&fixture.remote_id(person.id)]);
    }
}

/// A full sync caches exactly the dataset's employees, each mapped right.
pub async fn full_sync_equals_the_dataset<F: HrisFixture>() {
    let fixture = F::start(People::generate(11, 23)).await;
    let harness = Harness::new();
    let run = harness.sync(fixture.hris().as_ref(), HrisStream::Employees, SyncMode::FullRefresh, Some(5)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.counts.added, 23);
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// 429 with `Retry-After`, 5xx, latency and a truncated body are retried; the sync completes
/// with the same result as without them.
pub async fn full_sync_recovers_from_transient_faults<F: HrisFixture>() {
    let fixture = F::start(People::generate(12, 12)).await;
    let faults = fixture.faults();
    // Three failures and a slow success: within the standard policy's four attempts even for a
    // provider that answers a sync in one request.
    faults.inject(Fault::TooManyRequests { retry_after_secs: 1 }, 1);
    faults.inject(Fault::ServerError(503), 1);
    faults.inject(Fault::TruncatedBody, 1);
    faults.inject(Fault::Latency(Duration::from_millis(50)), 1);
    let harness = Harness::new();
    let run = harness.sync(fixture.hris().as_ref(), HrisStream::Employees, SyncMode::FullRefresh, Some(5)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(faults.served().len(), 4, "every fault was served: {:?}", faults.served());
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A complete answer whose body does not parse (a provider glitch) is read again: the run
/// succeeds, the retries counted in its log.
pub async fn malformed_answers_are_read_again<F: HrisFixture>() {
    let fixture = F::start(People::generate(24, 9)).await;
    fixture.faults().inject(Fault::MalformedJson, 2);
    let harness = Harness::new();
    let run = harness.sync(fixture.hris().as_ref(), HrisStream::Employees, SyncMode::FullRefresh, Some(5)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.counts.retried_reads, 2, "each unparsable answer was read again once");
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A provider that garbles 30 % of its answers (a complete `200` whose body does not parse, at
/// random): each answer is asked for again, and the sync ends with exactly the dataset.
pub async fn a_provider_garbling_a_third_of_its_answers_still_syncs<F: HrisFixture>() {
    let fixture = F::start(People::generate(26, 40)).await;
    let mut rng = fastrand::Rng::with_seed(26);
    for _ in 0..20_000 {
        let fault = if rng.f64() < 0.3 { Fault::MalformedJson } else { Fault::Latency(Duration::ZERO) };
        fixture.faults().inject(fault, 1);
    }
    let harness = Harness::new();
    let run = harness.sync(fixture.hris().as_ref(), HrisStream::Employees, SyncMode::FullRefresh, Some(10)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert!(run.counts.retried_reads > 0, "some answers were asked for again");
    fixture.faults().clear();
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A resumable full refresh stopped after two pages resumes at the third, not the first, and
/// ends with exactly the dataset.
pub async fn a_resumable_full_refresh_resumes_where_it_stopped<F: HrisFixture>() {
    let fixture = F::start(People::generate(25, 23)).await;
    let harness = Harness::new();
    let hris = fixture.hris();
    let job = |limits: Option<RunLimits>| {
        let job = SyncJob::new(
            harness.tenant.clone(),
            harness.connection.clone(),
            HrisStream::Employees.name(),
            SyncMode::ResumableFullRefresh,
        )
        .with_page_size(NonZeroU32::new(5).expect("5"));
        match limits {
            Some(limits) => job.with_limits(limits),
            None => job,
        }
    };
    let never = CancellationToken::new();
    let stopped = harness.engine.run(hris.as_ref(), &job(Some(RunLimits::new(2, 1_000))), &never).await.expect("run");
    if stopped.status == RunStatus::Succeeded {
        return skip("a_resumable_full_refresh_resumes_where_it_stopped", "the provider serves everything in one page");
    }
    assert_eq!(stopped.status, RunStatus::Failed, "stopped by its page limit");
    let read_before = stopped.counts.processed;
    let resumed = harness.engine.run(hris.as_ref(), &job(None), &never).await.expect("run");
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
pub async fn duplicates_across_pages_are_absorbed<F: HrisFixture>() {
    let fixture = F::start(People::generate(13, 17)).await;
    if !fixture.pages_by_offset() {
        return skip("duplicates_across_pages_are_absorbed", "the provider does not page by offset");
    }
    fixture.faults().inject(Fault::DuplicateAcrossPages, 2);
    let harness = Harness::new();
    let run = harness.sync(fixture.hris().as_ref(), HrisStream::Employees, SyncMode::FullRefresh, Some(5)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(fixture.faults().pending(), 0, "both duplicates were served");
    assert_eq!(run.counts.added, 17, "a repeated record is not counted twice");
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// Changes made between two incremental syncs: the second yields exactly them.
pub async fn incremental_sync_yields_exactly_the_changes<F: HrisFixture>() {
    let fixture = F::start(People::generate(14, 15)).await;
    let hris = fixture.hris();
    if !hris.supports(&capability::EMPLOYEE_CHANGES) {
        return skip("incremental_sync_yields_exactly_the_changes", "no hris.employee_changes capability");
    }
    let harness = Harness::new();
    let first = harness.sync(hris.as_ref(), HrisStream::Employees, SyncMode::Incremental, Some(5)).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    let cursor = harness.store.changes_since(&harness.tenant, None, 100_000).await.expect("changes").next;

    let people = fixture.people();
    let hired = people.hire("Grace", "Hopper");
    assert!(people.update(101, &["last_name"], |p| p.last_name = "Renamed".into()));
    assert!(people.terminate(102, NaiveDate::from_ymd_opt(2026, 11, 30).expect("date")));
    assert!(people.delete(103));

    let second = harness.sync(hris.as_ref(), HrisStream::Employees, SyncMode::Incremental, Some(5)).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    let changes = harness.store.changes_since(&harness.tenant, Some(&cursor), 100_000).await.expect("changes");
    let got: BTreeSet<(String, String)> =
        changes.changes.into_iter().map(|c| (c.remote_id, format!("{:?}", c.kind))).collect();
    let expected: BTreeSet<(String, String)> = [
        (fixture.remote_id(hired), ChangeKind::Added),
        (fixture.remote_id(101), ChangeKind::Updated),
        (fixture.remote_id(102), ChangeKind::Updated),
        (fixture.remote_id(103), ChangeKind::Deleted),
    ]
    .into_iter()
    .map(|(id, kind)| (id, format!("{kind:?}")))
    .collect();
    assert_eq!(got, expected, "exactly the changes made");
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A full refresh after a termination and a deletion shows the termination and drops the
/// deleted employee.
pub async fn full_refresh_detects_terminations_and_deletions<F: HrisFixture>() {
    let fixture = F::start(People::generate(15, 10)).await;
    let hris = fixture.hris();
    let harness = Harness::new();
    let first = harness.sync(hris.as_ref(), HrisStream::Employees, SyncMode::FullRefresh, None).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    let date = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
    assert!(fixture.people().terminate(104, date));
    assert!(fixture.people().delete(105));
    let second = harness.sync(hris.as_ref(), HrisStream::Employees, SyncMode::FullRefresh, None).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!((second.counts.updated, second.counts.deleted), (1, 1), "{:?}", second.counts);
    let cached = harness.employees().await;
    assert!(!cached.contains_key(&fixture.remote_id(105)), "the deleted employee is gone");
    let terminated = &cached[&fixture.remote_id(104)];
    assert_eq!(terminated.fields.employment.status, EmploymentStatus::Terminated);
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A signed webhook about a hire, a termination and a deletion verifies, and maps to exactly
/// those record changes and events; applied, the cache equals the dataset.
pub async fn webhooks_map_to_changes<F: HrisFixture>() {
    let fixture = F::start(People::generate(16, 8)).await;
    let hris = fixture.hris();
    if !hris.supports(&Capability::WEBHOOKS) {
        return skip("webhooks_map_to_changes", "no webhooks capability");
    }
    let harness = Harness::new();
    harness.sync(hris.as_ref(), HrisStream::Employees, SyncMode::FullRefresh, None).await;
    let people = fixture.people();
    people.drain_events();
    let hired = people.hire("Katherine", "Johnson");
    assert!(people.terminate(101, NaiveDate::from_ymd_opt(2026, 11, 30).expect("date")));
    assert!(people.delete(102));
    let delivery = fixture.take_webhook().await.expect("a webhook for the queued changes");
    delivery
        .scheme
        .verify(&delivery.headers, &delivery.body, std::slice::from_ref(&delivery.secret), &VerifyOptions::now())
        .expect("the delivery's signature verifies");
    let event_id = delivery.scheme.event_id(&delivery.headers, &delivery.body);
    let webhook =
        VerifiedWebhook::trusted(delivery.headers.clone(), delivery.body.clone(), Some(event_id), chrono::Utc::now());
    let outcome = hris.handle_webhook(webhook).await.expect("the delivery maps");
    let got: BTreeMap<String, bool> =
        outcome.changes.iter().map(|c| (c.record.remote_id.clone(), c.record.deleted)).collect();
    let expected: BTreeMap<String, bool> =
        [(fixture.remote_id(hired), false), (fixture.remote_id(101), false), (fixture.remote_id(102), true)].into();
    assert_eq!(got, expected, "one change per employee, deletions as tombstones");
    let kinds: BTreeSet<&str> = outcome.events.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains("employee.terminated") && kinds.contains("employee.deleted"), "{kinds:?}");
    harness.engine.apply_changes(&harness.tenant, &harness.connection, &outcome.changes).await.expect("apply");
    assert_cache_equals_dataset(&fixture, &harness).await;
}

/// A record with a malformed value is rejected — kept with its raw data, naming the record and
/// the field — and the sync goes on with the others.
pub async fn malformed_records_are_kept_with_the_field_named<F: HrisFixture>() {
    let fixture = F::start(People::generate(17, 9)).await;
    for (n, bad) in fixture.malformed().into_iter().enumerate() {
        let person = 100 + n as u64;
        assert!(fixture.people().corrupt(person, bad.provider_field, bad.value.clone()));
        let harness = Harness::new();
        let run = harness.sync(fixture.hris().as_ref(), HrisStream::Employees, SyncMode::FullRefresh, None).await;
        assert_eq!(run.status, RunStatus::PartiallySucceeded, "{:?}", run.error);
        assert_eq!(run.counts.failed, n as u64 + 1, "every corrupted record so far is rejected");
        let remote_id = fixture.remote_id(person);
        let entry = run
            .rejected
            .iter()
            .find(|r| r.remote_id.as_deref() == Some(remote_id.as_str()))
            .unwrap_or_else(|| panic!("{remote_id} is rejected: {:?}", run.rejected));
        assert_eq!(entry.field.as_deref(), Some(bad.expected_field), "{entry:?}");
        assert!(!entry.raw.is_null(), "the raw data is kept");
        assert_eq!(harness.count(HrisStream::Employees).await, 9 - (n + 1), "the others are synced");
    }
}

/// A body that is not JSON fails the run with `invalid_response`, not a panic or silence.
pub async fn malformed_json_is_reported_as_invalid_response<F: HrisFixture>() {
    let fixture = F::start(People::generate(18, 4)).await;
    fixture.faults().inject(Fault::MalformedJson, 50);
    let harness = Harness::new();
    let run = harness.sync(fixture.hris().as_ref(), HrisStream::Employees, SyncMode::FullRefresh, None).await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.expect("the run's error");
    assert_eq!(error.kind, ErrorKind::InvalidResponse.as_str(), "{error:?}");
    assert_eq!(harness.count(HrisStream::Employees).await, 0);
}

/// Expired credentials: OAuth adapters renew them and go on; others report an auth error.
pub async fn expired_credentials_are_recovered_or_reported<F: HrisFixture>() {
    let fixture = F::start(People::generate(19, 6)).await;
    fixture.faults().inject(Fault::ExpiredToken, 1);
    let harness = Harness::new();
    let run = harness.sync(fixture.hris().as_ref(), HrisStream::Employees, SyncMode::FullRefresh, None).await;
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

/// Departments, jobs and time off, where declared, hold what the dataset holds.
pub async fn departments_jobs_and_time_off_match_the_dataset<F: HrisFixture>() {
    let fixture = F::start(People::generate(20, 20)).await;
    let hris = fixture.hris();
    let harness = Harness::new();
    let expectations = [
        (capability::DEPARTMENTS, HrisStream::Departments, DEPARTMENTS.len()),
        (capability::JOBS, HrisStream::Jobs, JOBS.len()),
        (capability::TIME_OFF, HrisStream::TimeOff, fixture.people().leaves().len()),
    ];
    for (capability, stream, expected) in expectations {
        if !hris.supports(&capability) {
            skip(stream.name(), "capability not declared");
            continue;
        }
        let run = harness.sync(hris.as_ref(), stream, SyncMode::FullRefresh, None).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{}: {:?}", stream.name(), run.error);
        assert_eq!(harness.count(stream).await, expected, "{}", stream.name());
        assert!(expected > 0, "the dataset has {}", stream.name());
    }
}

/// Where declared, an update of an employee's job title and work email is applied (the dataset
/// holds the new values) and read back, through the update's answer and through
/// [`Hris::employee`], leaving the other fields alone; an unknown employee is `NotFound`; an empty
/// update is `Validation` naming `update`, refused without a request. Where not declared, the
/// operation answers `Unsupported`.
pub async fn employee_updates_are_read_back<F: HrisFixture>() {
    let fixture = F::start(People::generate(21, 6)).await;
    let hris = fixture.hris();
    let person = fixture.people().person(101).expect("person 101");
    let remote_id = fixture.remote_id(person.id);
    let title = JOBS.iter().map(|(_, title, _)| *title).find(|t| *t != person.job_title()).expect("another job");
    let email = format!("updated.{}@example.com", person.id);
    let update = EmployeeUpdate::default().with_job_title(title).with_work_email(email.clone());
    if !hris.supports(&capability::EMPLOYEE_WRITE) {
        let refused = hris.update_employee(&remote_id, &update).await.expect_err("no update without the capability");
        assert_eq!(refused.kind(), ErrorKind::Unsupported, "{refused}");
        return skip("employee_updates_are_read_back", "no hris.employee_write capability");
    }
    let before = hris.employee(&remote_id).await.expect("the employee before");

    let answered = hris.update_employee(&remote_id, &update).await.expect("the update");
    assert_eq!(answered.remote_id, remote_id);
    assert_eq!(answered.fields.job_title.as_deref(), Some(title), "the answer has the new job title");
    assert_eq!(answered.fields.work_email.as_deref(), Some(email.as_str()), "the answer has the new work email");
    let read = hris.employee(&remote_id).await.expect("the employee after");
    assert_eq!(read.fields, answered.fields, "a later read agrees with the update's answer");
    let mut expected = before.fields.clone();
    expected.job_title = Some(title.to_owned());
    expected.work_email = Some(email.clone());
    assert_eq!(read.fields, expected, "only the fields updated changed");
    let stored = fixture.people().person(person.id).expect("person 101");
    assert_eq!((stored.job_title(), stored.work_email.as_str()), (title, email.as_str()), "the provider has them");

    let missing = hris.update_employee(&fixture.remote_id(999_999), &update).await.expect_err("no such employee");
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");

    // An armed fault the empty update would take if it sent anything.
    fixture.faults().inject(Fault::ServerError(500), 1);
    let empty = hris.update_employee(&remote_id, &EmployeeUpdate::default()).await.expect_err("an empty update");
    assert_eq!(empty.kind(), ErrorKind::Validation, "{empty}");
    assert_eq!(empty.field(), Some("update"), "{empty}");
    assert_eq!(fixture.faults().pending(), 1, "an empty update sends no request");
    fixture.faults().clear();
}

/// The read-only part of the contract, for a real provider sandbox whose data a test cannot
/// change: connect and health; a full sync completes and every rejected record names its field;
/// a single read agrees with the synced record; with `read_changes`, an incremental sync (where
/// declared) right after reports no deletion — pass `false` for a provider whose change feed is
/// a queue that reading consumes (ADP); the declared optional streams sync. Returns the run log
/// of the full sync.
pub async fn sandbox(hris: Arc<dyn Hris>, read_changes: bool) -> SyncRun {
    hris.connect().await.expect("the sandbox accepts the credentials");
    let health = hris.health_check().await.expect("a health check");
    assert_eq!(health.status, integration_core::HealthStatus::Healthy, "{health:?}");
    let harness = Harness::new();
    let run = harness.sync(hris.as_ref(), HrisStream::Employees, SyncMode::FullRefresh, None).await;
    assert!(matches!(run.status, RunStatus::Succeeded | RunStatus::PartiallySucceeded), "{:?}", run.error);
    for rejected in &run.rejected {
        assert!(rejected.field.is_some(), "a rejection names its field: {rejected:?}");
        println!("rejected {:?}: {}", rejected.remote_id, rejected.message);
    }
    let cached = harness.employees().await;
    if let Some((id, synced)) = cached.iter().next() {
        let read = hris.employee(id).await.expect("a single read of a synced employee");
        assert_eq!(read.fields, synced.fields, "a single read agrees with the sync");
    }
    if read_changes && hris.supports(&capability::EMPLOYEE_CHANGES) {
        let first = harness.sync(hris.as_ref(), HrisStream::Employees, SyncMode::Incremental, None).await;
        assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
        let again = harness.sync(hris.as_ref(), HrisStream::Employees, SyncMode::Incremental, None).await;
        assert_eq!(again.status, RunStatus::Succeeded, "{:?}", again.error);
        assert_eq!(again.counts.deleted, 0, "nothing deleted between two immediate syncs");
    }
    for (capability, stream) in [
        (capability::DEPARTMENTS, HrisStream::Departments),
        (capability::JOBS, HrisStream::Jobs),
        (capability::TIME_OFF, HrisStream::TimeOff),
    ] {
        if hris.supports(&capability) {
            let run = harness.sync(hris.as_ref(), stream, SyncMode::FullRefresh, None).await;
            assert!(matches!(run.status, RunStatus::Succeeded | RunStatus::PartiallySucceeded), "{:?}", run.error);
        }
    }
    run
}
