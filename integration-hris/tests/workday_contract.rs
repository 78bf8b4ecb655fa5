//! The HRIS contract, run by the Workday adapter against the Workday fake, and what is
//! particular to Workday: one token refresh for many concurrent calls, a refused refresh token,
//! terminated workers, page sizes.
#![cfg(feature = "workday")]

use std::num::NonZeroU32;
use std::sync::Arc;

use async_trait::async_trait;
use integration_core::{BuildContext, ConnectionId, ErrorKind, HealthStatus, Integration, TenantId};
use integration_hris::workday::Workday;
use integration_hris::{Adapter, EmploymentStatus, EmploymentType, Hris, ListRequest};
use integration_testkit::contract::hris::{HrisFixture, Malformed};
use integration_testkit::fake::faults::{Fault, Faults};
use integration_testkit::fake::people::{Kind, People, Status};
use integration_testkit::fake::workday::{FakeWorkday, REFRESH_TOKEN};
use serde_json::json;

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("contract").expect("tenant"), ConnectionId::new("workday").expect("connection"))
}

struct WorkdayFixture {
    fake: FakeWorkday,
    hris: Arc<dyn Hris>,
}

#[async_trait]
impl HrisFixture for WorkdayFixture {
    async fn start(people: People) -> Self {
        let fake = FakeWorkday::start(people).await;
        let (tenant, connection) = ids();
        let hris =
            integration_hris::build(&fake.config(tenant, connection), &BuildContext::default()).expect("the adapter");
        Self { fake, hris }
    }

    fn hris(&self) -> Arc<dyn Hris> {
        self.hris.clone()
    }

    fn people(&self) -> &People {
        self.fake.people()
    }

    fn faults(&self) -> &Faults {
        self.fake.faults()
    }

    fn remote_id(&self, person: u64) -> String {
        FakeWorkday::remote_id(person)
    }

    fn malformed(&self) -> Vec<Malformed> {
        vec![
            Malformed { provider_field: "descriptor", value: json!(42), expected_field: "descriptor" },
            Malformed { provider_field: "person", value: json!({"email": ["a@b.c"]}), expected_field: "person.email" },
            Malformed {
                provider_field: "hireDate",
                value: json!("31/02/2020"),
                expected_field: "serviceDates.hireDate",
            },
        ]
    }

    fn recovers_expired_credentials(&self) -> bool {
        true
    }

    fn pages_by_offset(&self) -> bool {
        true
    }
}

integration_testkit::hris_contract_suite!(WorkdayFixture);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_calls_share_one_token_refresh() {
    let fixture = WorkdayFixture::start(People::generate(31, 6)).await;
    let remote = FakeWorkday::remote_id(101);
    let calls = (0..24).map(|_| {
        let hris = fixture.hris();
        let remote = remote.clone();
        tokio::spawn(async move { hris.employee(&remote).await })
    });
    let calls: Vec<_> = calls.collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().remote_id, remote);
    }
    assert_eq!(fixture.fake.token_requests(), 1, "one refresh for every concurrent call");

    // Every token expires: the next calls refresh once more, together.
    fixture.faults().inject(Fault::ExpiredToken, 1);
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let hris = fixture.hris();
            tokio::spawn(async move { hris.employees(ListRequest::first()).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().items.len(), 6);
    }
    assert_eq!(fixture.fake.token_requests(), 2, "one more refresh after the expiry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_token_needs_reauthorization() {
    let fake = FakeWorkday::start(People::generate(32, 3)).await;
    let (tenant, connection) = ids();
    let config = fake.config(tenant, connection).with_secret("refresh_token", "revoked-in-the-tenant");
    let hris = integration_hris::build(&config, &BuildContext::default()).unwrap();
    let error = hris.employees(ListRequest::first()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthRevoked, "{error}");
    let health = hris.health_check().await.unwrap();
    assert_eq!(health.status, HealthStatus::Unhealthy);
    assert_eq!(health.error_kind.as_deref(), Some(ErrorKind::AuthRevoked.as_str()), "{health:?}");
    assert!(!format!("{health:?}").contains("revoked-in-the-tenant"), "the refresh token is not shown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_workers_types_and_hire_dates_are_mapped() {
    let people = People::generate(33, 20);
    let fixture = WorkdayFixture::start(people.clone()).await;
    let hris = fixture.hris();
    for person in people.people() {
        let employee = hris.employee(&FakeWorkday::remote_id(person.id)).await.unwrap().fields;
        let terminated = person.status == Status::Terminated;
        assert_eq!(employee.employment.status == EmploymentStatus::Terminated, terminated, "{}", person.id);
        assert_eq!(employee.employment.start_date, Some(person.hire_date));
        assert_eq!(employee.employment.termination_date, None, "not in Workday's REST API");
        assert_eq!(employee.employment.pay, None, "not in Workday's REST API");
        let contractor = employee.employment.employment_type == Some(EmploymentType::Contractor);
        assert_eq!(contractor, person.kind == Kind::Contractor, "{}", person.id);
        assert_eq!(employee.employee_number.as_deref(), Some(person.employee_number.as_str()));
        assert_eq!(employee.job_title.as_deref(), Some(person.job_title()));
        assert_eq!(employee.department.as_deref(), Some(person.department_name()));
    }
    let missing = hris.employee(&"0".repeat(32)).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_at_most_100_and_hire_dates_can_be_left_out() {
    let fake = FakeWorkday::start(People::generate(34, 130)).await;
    let (tenant, connection) = ids();
    let config = fake.config(tenant, connection).with_setting("hire_dates", false);
    let workday = Workday::from_config(&config, &BuildContext::default()).unwrap();
    let debug = format!("{workday:?}");
    assert!(!debug.contains(REFRESH_TOKEN) && !debug.contains("fake-workday-client-secret"), "{debug}");
    let request = ListRequest::first().page_size(NonZeroU32::new(500));
    let first = workday.employees(request.clone()).await.unwrap();
    assert_eq!((first.items.len(), first.next.as_deref()), (100, Some("100")));
    assert!(first.items.iter().all(|e| e.fields.employment.start_date.is_none()));
    let second = workday.employees(request.at(first.next)).await.unwrap();
    assert_eq!((second.items.len(), second.next), (30, None));
    let bad = workday.employees(ListRequest::first().at(Some("next".into()))).await.unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::Validation);
    workday.connect().await.unwrap();
}

/// A Workday-shaped API whose listing never ends (the same workers on every page, a false
/// total): refused at once when the total is `u64::MAX`; otherwise the worker search behind each
/// page and the sync itself both stop, failed, instead of running forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_never_ends_fails_the_run_instead_of_running_forever() {
    use integration_core::store::{MemoryStore, RunStatus};
    use integration_core::{CancellationToken, SyncEngine, SyncJob, SyncMode};

    let fake = FakeWorkday::start(People::generate(35, 130)).await;
    let (tenant, connection) = ids();
    let config = fake.config(tenant.clone(), connection.clone()).with_setting("hire_dates", false);
    let workday = Workday::from_config(&config, &BuildContext::default()).unwrap();
    let store = std::sync::Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "w");
    let job = SyncJob::new(tenant, connection, "employees", SyncMode::FullRefresh);
    let never = CancellationToken::new();
    let sync = || async {
        let run = engine.run(&workday, &job, &never);
        tokio::time::timeout(std::time::Duration::from_secs(60), run).await.expect("the run ends").unwrap()
    };

    fake.faults().inject_on("/workers", Fault::EndlessTotal { total: u64::MAX }, 1_000_000);
    let run = sync().await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.error.unwrap().message.contains("no tenant holds that many"));

    // A plausible total, still false: the search behind a page stops...
    fake.faults().clear();
    fake.faults().inject_on("/workers", Fault::EndlessTotal { total: 50_000 }, 1_000_000);
    let err = workday.employees(ListRequest::first()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
    assert!(err.message().contains("did not end"), "{err}");
    // ... and so does a sync whose every page is the first.
    let run = sync().await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.unwrap();
    assert!(error.message.contains("did not end") || error.message.contains("same 100 records"), "{error:?}");
}
