//! The HRIS contract: what every [`Hris`] adapter must do, checked against its fake provider —
//! the [generic contract](super::harness) every domain's adapters pass, plus the HRIS rules:
//! terminations are updates seen by every path, reference data and time off match the
//! dataset, employee updates are read back.
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
use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use integration_core::store::{RunStatus, SyncRun};
use integration_core::{Capability, ErrorKind, Integration, SyncMode};
use integration_hris::{Employee, EmployeeUpdate, EmploymentStatus, Hris, HrisStream, Remote, capability};

use super::harness::{Fake, Fixture, Harness, Records, handle, skip};
pub use super::harness::{Malformed, SignedDelivery};
use crate::fake::faults::{Fault, Faults};
use crate::fake::people::{DEPARTMENTS, JOBS, People, Person, Status};

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

/// An [`HrisFixture`] as a generic [`Fixture`]: the employees stream over [`People`]; an
/// addition is a hire, an edit a change of last name, and every cached employee is checked
/// against its person.
#[derive(Debug)]
pub struct Generic<F>(pub F);

#[async_trait]
impl<F: HrisFixture> Fixture for Generic<F> {
    async fn start(seed: u64, size: usize) -> Self {
        Self(F::start(People::generate(seed, size)).await)
    }
    fn integration(&self) -> Arc<dyn Integration> {
        self.0.hris()
    }
    fn stream(&self) -> String {
        HrisStream::Employees.name().to_owned()
    }
    fn fake(&self) -> &dyn Fake {
        self
    }
    fn remote_id(&self, id: u64) -> String {
        self.0.remote_id(id)
    }
    fn malformed(&self) -> Vec<Malformed> {
        self.0.malformed()
    }
    fn recovers_expired_credentials(&self) -> bool {
        self.0.recovers_expired_credentials()
    }
    fn pages_by_offset(&self) -> bool {
        self.0.pages_by_offset()
    }
    async fn take_webhook(&self) -> Option<SignedDelivery> {
        self.0.take_webhook().await
    }
}

impl<F: HrisFixture> Fake for Generic<F> {
    fn records(&self) -> &dyn Records {
        self.0.people().dataset()
    }
    fn faults(&self) -> &Faults {
        self.0.faults()
    }
    fn add(&self) -> u64 {
        self.0.people().hire("Grace", "Hopper")
    }
    fn edit(&self, id: u64) -> bool {
        self.0.people().update(id, &["last_name"], |p| p.last_name = "Renamed".into())
    }
    fn check(&self, id: u64, cached: &serde_json::Value) {
        let person = self.0.people().person(id).expect("a dataset person");
        let employee: Remote<Employee> =
            integration_core::decode::decode(cached).expect("the cache holds the common model");
        assert_matches(&person, &employee);
    }
}

/// Expands to one `#[tokio::test]` per rule of the generic contract and of the HRIS contract,
/// for fixture type `$fixture`.
#[macro_export]
macro_rules! hris_contract_suite {
    ($fixture:ty) => {
        $crate::contract_suite!($crate::contract::hris::Generic<$fixture>);
        $crate::hris_contract_suite!(@each $fixture;
            terminations_are_updates_seen_by_every_path,
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

async fn employees(harness: &Harness) -> BTreeMap<String, Remote<Employee>> {
    let cached = harness.cached(HrisStream::Employees.name()).await;
    cached
        .into_iter()
        .map(|(id, data)| (id, integration_core::decode::decode(&data).expect("the cache holds the common model")))
        .collect()
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

/// A termination is an update, not a deletion, on every path: a full refresh updates the
/// employee to terminated; an incremental sync (where declared) reports it as an update; a
/// webhook (where declared) maps it to a change and an `employee.terminated` event, and a
/// deletion to `employee.deleted`.
pub async fn terminations_are_updates_seen_by_every_path<F: HrisFixture>() {
    let fixture = Generic(F::start(People::generate(15, 10)).await);
    let hris = fixture.0.hris();
    let people = fixture.0.people();
    let date = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
    let stream = HrisStream::Employees.name();
    let harness = Harness::new();
    let mode = if hris.supports(&capability::EMPLOYEE_CHANGES) { SyncMode::Incremental } else { SyncMode::FullRefresh };
    let first = harness.sync(hris.as_ref(), stream, mode, None).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    people.drain_events();

    assert!(people.terminate(104, date));
    let second = harness.sync(hris.as_ref(), stream, mode, None).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!((second.counts.updated, second.counts.deleted), (1, 0), "{mode:?}: {:?}", second.counts);
    let cached = employees(&harness).await;
    assert_eq!(cached[&fixture.remote_id(104)].fields.employment.status, EmploymentStatus::Terminated);
    if mode == SyncMode::Incremental {
        let full = harness.sync(hris.as_ref(), stream, SyncMode::FullRefresh, None).await;
        assert_eq!((full.counts.updated, full.counts.deleted), (0, 0), "a full refresh agrees: {:?}", full.counts);
    }

    if !hris.supports(&Capability::WEBHOOKS) {
        return skip("terminations_are_updates_seen_by_every_path (webhooks)", "no webhooks capability");
    }
    let _ = fixture.take_webhook().await;
    assert!(people.terminate(101, date));
    assert!(people.delete(102));
    let delivery = fixture.take_webhook().await.expect("a webhook for the queued changes");
    let outcome = handle(hris.as_ref(), delivery).await;
    let got: BTreeMap<String, bool> =
        outcome.changes.iter().map(|c| (c.record.remote_id.clone(), c.record.deleted)).collect();
    assert_eq!(got, [(fixture.remote_id(101), false), (fixture.remote_id(102), true)].into());
    let kinds: BTreeSet<&str> = outcome.events.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains("employee.terminated") && kinds.contains("employee.deleted"), "{kinds:?}");
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
        let run = harness.sync(hris.as_ref(), stream.name(), SyncMode::FullRefresh, None).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{}: {:?}", stream.name(), run.error);
        assert_eq!(harness.cached(stream.name()).await.len(), expected, "{}", stream.name());
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
    let run = harness.sync(hris.as_ref(), HrisStream::Employees.name(), SyncMode::FullRefresh, None).await;
    assert!(matches!(run.status, RunStatus::Succeeded | RunStatus::PartiallySucceeded), "{:?}", run.error);
    for rejected in &run.rejected {
        assert!(rejected.field.is_some(), "a rejection names its field: {rejected:?}");
        println!("rejected {:?}: {}", rejected.remote_id, rejected.message);
    }
    let cached = employees(&harness).await;
    if let Some((id, synced)) = cached.iter().next() {
        let read = hris.employee(id).await.expect("a single read of a synced employee");
        assert_eq!(read.fields, synced.fields, "a single read agrees with the sync");
    }
    if read_changes && hris.supports(&capability::EMPLOYEE_CHANGES) {
        let first = harness.sync(hris.as_ref(), HrisStream::Employees.name(), SyncMode::Incremental, None).await;
        assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
        let again = harness.sync(hris.as_ref(), HrisStream::Employees.name(), SyncMode::Incremental, None).await;
        assert_eq!(again.status, RunStatus::Succeeded, "{:?}", again.error);
        assert_eq!(again.counts.deleted, 0, "nothing deleted between two immediate syncs");
    }
    for (capability, stream) in [
        (capability::DEPARTMENTS, HrisStream::Departments),
        (capability::JOBS, HrisStream::Jobs),
        (capability::TIME_OFF, HrisStream::TimeOff),
    ] {
        if hris.supports(&capability) {
            let run = harness.sync(hris.as_ref(), stream.name(), SyncMode::FullRefresh, None).await;
            assert!(matches!(run.status, RunStatus::Succeeded | RunStatus::PartiallySucceeded), "{:?}", run.error);
        }
    }
    run
}
