//! The HRIS contract, run by the BambooHR adapter against the BambooHR fake.
#![cfg(feature = "bamboohr")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::webhook::WebhookSecret;
use integration_core::{BuildContext, ConnectionId, TenantId};
use integration_hris::Hris;
use integration_testkit::contract::hris::{HrisFixture, Malformed, SignedDelivery};
use integration_testkit::fake::bamboohr::FakeBambooHr;
use integration_testkit::fake::faults::Faults;
use integration_testkit::fake::people::People;
use serde_json::json;

struct BambooHrFixture {
    fake: FakeBambooHr,
    hris: Arc<dyn Hris>,
    private_key: String,
}

#[async_trait]
impl HrisFixture for BambooHrFixture {
    async fn start(people: People) -> Self {
        let fake = FakeBambooHr::start(people).await;
        let config = fake.config(TenantId::new("contract").unwrap(), ConnectionId::new("bamboohr").unwrap());
        let hris = integration_hris::build(&config, &BuildContext::default()).unwrap();
        let private_key = fake.add_webhook("https://hooks.example.com/bamboohr");
        Self { fake, hris, private_key }
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

    fn malformed(&self) -> Vec<Malformed> {
        vec![
            Malformed { provider_field: "hireDate", value: json!("31/02/2020"), expected_field: "hireDate" },
            Malformed { provider_field: "firstName", value: json!(42), expected_field: "firstName" },
            Malformed { provider_field: "payRate", value: json!("lots XYZ"), expected_field: "payRate" },
            Malformed { provider_field: "lastChanged", value: json!("yesterday"), expected_field: "lastChanged" },
        ]
    }

    fn recovers_expired_credentials(&self) -> bool {
        false
    }

    async fn take_webhook(&self) -> Option<SignedDelivery> {
        let (headers, body) = self.fake.take_delivery(&self.private_key)?;
        Some(SignedDelivery {
            scheme: integration_hris::bamboohr::webhook_scheme(),
            secret: WebhookSecret::new(&self.private_key),
            headers,
            body,
        })
    }
}

integration_testkit::hris_contract_suite!(BambooHrFixture);

mod bamboohr_specifics {
    use chrono::NaiveDate;
    use integration_core::webhook::{VerifyOptions, WebhookSecret};
    use integration_core::{BuildContext, ConnectionId, ErrorKind, TenantId};
    use integration_hris::{EmployeeUpdate, ListRequest, bamboohr};
    use integration_testkit::capture::capture_tracing;
    use integration_testkit::fake::bamboohr::{API_KEY, FakeBambooHr};
    use integration_testkit::fake::faults::Fault;
    use integration_testkit::fake::people::People;
    use serde_json::json;

    /// The signature computed independently, with Python's `hmac` over body ‖ timestamp, as
    /// BambooHR's documentation describes it.
    #[test]
    fn the_webhook_scheme_matches_an_independent_vector() {
        let body = br#"{"employees":[{"id":"123","action":"Updated","changedFields":["First Name"],"fields":{"First Name":"Bryony"},"timestamp":"2026-01-31T18:42:00+0000"}]}"#;
        let mut headers = http::HeaderMap::new();
        headers.insert("x-bamboohr-timestamp", "1769884920".parse().unwrap());
        headers.insert(
            "x-bamboohr-signature",
            "2d7c092bca3632fb095d75f1fe90929f54acc4af28cea702f6dce51eac46a003".parse().unwrap(),
        );
        let secret = WebhookSecret::new("bhr-private-key-4f1c");
        let scheme = bamboohr::webhook_scheme();
        assert!(
            scheme.verify(&headers, body, std::slice::from_ref(&secret), &VerifyOptions::at(1_769_884_950)).is_ok()
        );
        let tampered = scheme.verify(&headers, b"{}", &[secret], &VerifyOptions::at(1_769_884_950));
        assert_eq!(tampered.unwrap_err().reason(), "signature_mismatch");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_api_key_never_shows_in_debug_errors_or_logs() {
        let fake = FakeBambooHr::start(People::generate(3, 3)).await;
        let config = fake.config(TenantId::new("t").unwrap(), ConnectionId::new("c").unwrap());
        let hris = integration_hris::build(&config, &BuildContext::default()).unwrap();
        assert!(!format!("{hris:?} {config:?}").contains(API_KEY));
        let wrong = config.clone().with_secret("api_key", "a-wrong-key-0000");
        let refused = integration_hris::build(&wrong, &BuildContext::default()).unwrap();
        let (result, logs) = capture_tracing(async { refused.employees(ListRequest::first()).await }).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AuthInvalid);
        assert!(error.to_string().contains("Invalid API key"), "the provider's explanation is kept: {error}");
        let text = format!("{error} {error:?} {logs}");
        assert!(!text.contains(API_KEY) && !text.contains("a-wrong-key-0000"), "{text}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_single_employee_and_a_missing_one() {
        let fake = FakeBambooHr::start(People::generate(4, 3)).await;
        let config = fake.config(TenantId::new("t").unwrap(), ConnectionId::new("c").unwrap());
        let hris = integration_hris::build(&config, &BuildContext::default()).unwrap();
        let one = hris.employee("101").await.unwrap();
        let person = fake.people().person(101).unwrap();
        assert_eq!(one.fields.last_name.as_deref(), Some(person.last_name.as_str()));
        assert_eq!(one.fields.employment.pay.as_ref().map(|p| p.currency.code()), Some("USD"));
        assert!(one.remote_data.is_some(), "the raw record is kept");
        let missing = hris.employee("999").await.unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
    }

    async fn adapter(fake: &FakeBambooHr) -> std::sync::Arc<dyn integration_hris::Hris> {
        let config = fake.config(TenantId::new("t").unwrap(), ConnectionId::new("c").unwrap());
        integration_hris::build(&config, &BuildContext::default()).unwrap()
    }

    /// Every field of an update reaches the field BambooHR names it by: the fake refuses names
    /// it does not know, and the dataset shows each value where it belongs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_update_sets_each_field_under_its_bamboohr_name() {
        let fake = FakeBambooHr::start(People::generate(6, 4)).await;
        let hris = adapter(&fake).await;
        let before = fake.people().person(101).unwrap();
        fake.people().drain_events();
        let update = EmployeeUpdate::default()
            .with_first_name("Ada")
            .with_last_name("Lovelace")
            .with_work_email("ada.lovelace@example.com")
            .with_job_title("Engineering Manager")
            .with_department("Finance")
            .with_location("Toronto")
            .with_termination_date(NaiveDate::from_ymd_opt(2026, 9, 30).unwrap());
        let employee = hris.update_employee("101", &update).await.unwrap();
        assert_eq!(fake.employee_writes(), 1);

        let after = fake.people().person(101).unwrap();
        assert_eq!((after.first_name.as_str(), after.last_name.as_str()), ("Ada", "Lovelace"));
        assert_eq!(after.work_email, "ada.lovelace@example.com");
        assert_eq!(
            (after.job_title(), after.department_name(), after.location.as_str()),
            ("Engineering Manager", "Finance", "Toronto")
        );
        assert_eq!(after.termination_date, NaiveDate::from_ymd_opt(2026, 9, 30));
        assert!(after.changed >= before.changed, "lastChanged moves");
        let events = fake.people().drain_events();
        assert_eq!(events.len(), 1, "one webhook event: {events:?}");
        assert_eq!(events[0].id, 101);

        let e = &employee.fields;
        assert_eq!((e.first_name.as_deref(), e.last_name.as_deref()), (Some("Ada"), Some("Lovelace")));
        assert_eq!(e.work_email.as_deref(), Some("ada.lovelace@example.com"));
        assert_eq!(e.job_title.as_deref(), Some("Engineering Manager"));
        assert_eq!((e.department.as_deref(), e.location.as_deref()), (Some("Finance"), Some("Toronto")));

        // `""` clears; fields not named stay.
        let cleared = hris.update_employee("101", &EmployeeUpdate::default().with_location("")).await.unwrap();
        assert_eq!(cleared.fields.location, None);
        assert_eq!(cleared.fields.job_title.as_deref(), Some("Engineering Manager"));
        assert_eq!(fake.employee_writes(), 2);
    }

    /// An automation's input (JSON) → the update → BambooHR → the employee read back, with the
    /// termination date the same day.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_termination_date_round_trips() {
        let fake = FakeBambooHr::start(People::generate(7, 4)).await;
        let hris = adapter(&fake).await;
        let update: EmployeeUpdate = serde_json::from_value(json!({"termination_date": "2026-02-28"})).unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
        let answered = hris.update_employee("102", &update).await.unwrap();
        assert_eq!(answered.fields.employment.termination_date, Some(date));
        assert_eq!(fake.people().person(102).unwrap().termination_date, Some(date));
        let read = hris.employee("102").await.unwrap();
        assert_eq!(read.fields.employment.termination_date, Some(date));
        let raw = read.remote_data.unwrap();
        assert_eq!(raw["terminationDate"], "2026-02-28", "BambooHR holds YYYY-MM-DD");
        assert!(
            serde_json::from_value::<EmployeeUpdate>(json!({"termination_date": "28/02/2026"})).is_err(),
            "a malformed date is refused before any request"
        );
    }

    /// A refused update (a value BambooHR does not know; a wrong key) is an error that keeps
    /// BambooHR's explanation and never shows the API key, nor does the trace.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_update_never_shows_the_api_key() {
        let fake = FakeBambooHr::start(People::generate(8, 3)).await;
        let hris = adapter(&fake).await;
        let bad = EmployeeUpdate::default().with_department("Astronautics");
        let (result, logs) = capture_tracing(async { hris.update_employee("101", &bad).await }).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Validation, "{error}");
        assert!(error.to_string().contains("Astronautics"), "BambooHR's explanation is kept: {error}");
        let text = format!("{error} {error:?} {logs}");
        assert!(!text.contains(API_KEY), "{text}");

        let config = fake.config(TenantId::new("t").unwrap(), ConnectionId::new("c").unwrap());
        let wrong = config.with_secret("api_key", "a-wrong-key-0000");
        let refused = integration_hris::build(&wrong, &BuildContext::default()).unwrap();
        let good = EmployeeUpdate::default().with_job_title("Accountant");
        let (result, logs) = capture_tracing(async { refused.update_employee("101", &good).await }).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AuthInvalid, "{error}");
        let text = format!("{error} {error:?} {logs}");
        assert!(!text.contains(API_KEY) && !text.contains("a-wrong-key-0000"), "{text}");
        assert_eq!(fake.employee_writes(), 0, "nothing was written");
    }

    /// A 503 before the update is applied is retried (setting values is idempotent) and the
    /// update is written exactly once; sent again, it changes nothing more.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transient_failure_is_retried_and_the_update_written_once() {
        let fake = FakeBambooHr::start(People::generate(9, 3)).await;
        let hris = adapter(&fake).await;
        fake.faults().inject_on("/v1/employees/101", Fault::ServerError(503), 1);
        let update = EmployeeUpdate::default().with_job_title("HR Partner");
        let employee = hris.update_employee("101", &update).await.unwrap();
        assert_eq!(employee.fields.job_title.as_deref(), Some("HR Partner"));
        assert_eq!(fake.faults().served(), vec![Fault::ServerError(503)]);
        assert_eq!(fake.employee_writes(), 1, "exactly one update applied");

        fake.people().drain_events();
        let changed = fake.people().person(101).unwrap().changed;
        hris.update_employee("101", &update).await.unwrap();
        assert_eq!(fake.employee_writes(), 2);
        assert_eq!(fake.people().person(101).unwrap().changed, changed, "the same values change nothing");
        assert!(fake.people().drain_events().is_empty(), "and queue no webhook event");
    }

    /// Refused before any request: an empty update, an id that is not BambooHR's.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn invalid_updates_send_nothing() {
        let fake = FakeBambooHr::start(People::generate(10, 3)).await;
        let hris = adapter(&fake).await;
        fake.faults().inject(Fault::ServerError(500), 1);
        let empty = hris.update_employee("101", &EmployeeUpdate::default()).await.unwrap_err();
        assert_eq!((empty.kind(), empty.field()), (ErrorKind::Validation, Some("update")), "{empty}");
        let update = EmployeeUpdate::default().with_first_name("Eve");
        for id in ["", "101/../../meta/lists", "101?fields=x", "abc"] {
            let error = hris.update_employee(id, &update).await.unwrap_err();
            assert_eq!((error.kind(), error.field()), (ErrorKind::Validation, Some("remote_id")), "{id:?}: {error}");
        }
        assert_eq!(fake.faults().pending(), 1, "no request was sent");
        fake.faults().clear();
        let missing = hris.update_employee("999", &update).await.unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        assert_eq!(fake.employee_writes(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sandbox_rules_pass_against_the_fake() {
        let fake = FakeBambooHr::start(People::generate(5, 6)).await;
        let config = fake.config(TenantId::new("t").unwrap(), ConnectionId::new("c").unwrap());
        let hris = integration_hris::build(&config, &BuildContext::default()).unwrap();
        let run = integration_testkit::contract::hris::sandbox(hris, true).await;
        assert_eq!(run.counts.added, 6);
    }

    /// A delivery's deleted employees become tombstones without a call; the others are read
    /// again so the change carries the whole record.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn webhook_deletions_are_tombstones_without_a_read() {
        let fake = FakeBambooHr::start(People::generate(6, 4)).await;
        let hris = adapter(&fake).await;
        fake.faults().inject_on("/employees/102", Fault::ServerError(500), 1);
        let body = json!({"employees": [
            {"id": "102", "action": "Deleted", "changedFields": []},
            {"id": 101, "action": "Updated", "changedFields": ["firstName"]},
        ]});
        let delivery = integration_core::VerifiedWebhook::trusted(
            Default::default(),
            serde_json::to_vec(&body).unwrap(),
            None,
            chrono::Utc::now(),
        );
        let outcome = hris.handle_webhook(delivery).await.unwrap();
        assert_eq!(fake.faults().pending(), 1, "employee 102 was not read");
        let changes: Vec<(String, bool)> =
            outcome.changes.iter().map(|c| (c.record.remote_id.clone(), c.record.deleted)).collect();
        assert_eq!(changes, [("102".to_owned(), true), ("101".to_owned(), false)]);
        assert!(outcome.changes[1].record.data["first_name"].is_string(), "the update carries the record");
    }
}

/// The custom report is one answer for the whole company. Its size per employee, measured on
/// the fake's records, stays within the budget the adapter sizes that call's limit from: 50,000
/// employees at four times this measure, for longer real-world values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_fits_its_per_employee_budget() {
    let fake = FakeBambooHr::start(People::generate(77, 1000)).await;
    let config = fake.config(TenantId::new("contract").unwrap(), ConnectionId::new("bamboohr").unwrap());
    let company = config.settings["company_domain"].as_str().unwrap().to_owned();
    let key = secrecy::ExposeSecret::expose_secret(config.secret("api_key").unwrap()).to_owned();
    let url = format!("{}/api/gateway.php/{company}/v1/reports/custom?format=JSON&onlyCurrent=true", fake.base_url());
    let fields = "id,employeeNumber,firstName,lastName,displayName,workEmail,homeEmail,department,jobTitle,location,supervisorEId,status,employmentHistoryStatus,hireDate,terminationDate,payRate,payType,payPer,lastChanged";
    let body = json!({"title": "measure", "fields": fields.split(',').collect::<Vec<_>>()});
    let response = reqwest::Client::new()
        .post(url)
        .basic_auth(key, Some("x"))
        .header("Accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    let per_employee = response.bytes().await.unwrap().len() / 1000;
    assert!(
        50_000 * per_employee * 4 <= integration_hris::bamboohr::REPORT_BODY_LIMIT,
        "{per_employee} bytes an employee: the report's limit needs revisiting"
    );
}

/// The report's answer is allowed what a company of 50,000 needs, whatever the policy's limit
/// for other calls: under a 64 KiB policy limit, a 1,000-employee report (about 480 KB) still
/// syncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_is_not_held_to_the_policy_body_limit() {
    use integration_core::store::{MemoryStore, RunStatus};
    use integration_core::{CancellationToken, SyncEngine, SyncJob, SyncMode};
    let fake = FakeBambooHr::start(People::generate(78, 1000)).await;
    let config = fake.config(TenantId::new("contract").unwrap(), ConnectionId::new("bamboohr").unwrap());
    let context = BuildContext::default().with_http_policy(|_, declared| declared.with_max_body_bytes(64 * 1024));
    let hris = integration_hris::build(&config, &context).unwrap();
    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "w");
    let job = SyncJob::new(config.tenant.clone(), config.connection.clone(), "employees", SyncMode::FullRefresh);
    let run = engine.run(hris.as_ref(), &job, &CancellationToken::new()).await.unwrap();
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.counts.added, 1000);
}

/// The catalog's BambooHR spec (what passthrough and the catalog use) agrees with the adapter:
/// the same webhook signing, error header, configuration keys and credential check.
#[test]
fn the_catalog_spec_agrees_with_the_adapter() {
    use integration_core::spec::catalog_spec;
    use integration_hris::Adapter as _;
    use integration_hris::bamboohr::{self, BambooHr};
    let spec = catalog_spec(bamboohr::PROVIDER).expect("BambooHR is in the catalog");
    assert_eq!(spec.webhook_scheme(), Some(bamboohr::webhook_scheme()), "the same signing");
    let described = BambooHr::describe().expect("the adapter's descriptor");
    assert_eq!(
        spec.descriptor().expect("the spec's descriptor").http.error_message_header,
        described.http.error_message_header,
        "the same error header"
    );
    for key in spec.config_keys() {
        assert!(described.config.field(key).is_some(), "the adapter takes {key} too");
    }
    assert_eq!(spec.check.path, "/meta/lists", "the adapter's connect reads the meta lists");
}
