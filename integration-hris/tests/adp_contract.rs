//! The HRIS contract, run by the ADP adapter against the ADP fake (mutual TLS, OAuth2 client
//! credentials, Workers v2, the event notification queue), and what is particular to ADP:
//! the TLS handshake refuses a client without the certificate, a bad PEM is a configuration
//! error naming its field, and an event is deleted from ADP's queue only once its page is
//! committed.
#![cfg(feature = "adp")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use integration_core::store::{
    ChangeBatch, ChangeCursor, MemoryStore, PageWrite, RecordStore, RunStatus, StoredRecord, StreamScope, WriteSummary,
};
use integration_core::{
    BuildContext, CancellationToken, Checkpoint, ConnectionId, ErrorKind, Result, RunId, SyncEngine, SyncJob, SyncMode,
    TenantId,
};
use integration_hris::{Hris, HrisStream, ListRequest};
use integration_testkit::contract::hris::{HrisFixture, Malformed};
use integration_testkit::fake::adp::FakeAdp;
use integration_testkit::fake::faults::Faults;
use integration_testkit::fake::people::People;
use serde_json::json;

struct AdpFixture {
    fake: FakeAdp,
    hris: Arc<dyn Hris>,
}

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("contract").unwrap(), ConnectionId::new("adp").unwrap())
}

#[async_trait]
impl HrisFixture for AdpFixture {
    async fn start(people: People) -> Self {
        let fake = FakeAdp::start(people).await;
        let (tenant, connection) = ids();
        let hris = integration_hris::build(&fake.config(tenant, connection), &BuildContext::default()).unwrap();
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
        FakeAdp::remote_id(person)
    }

    fn malformed(&self) -> Vec<Malformed> {
        vec![
            Malformed {
                provider_field: "workerDates",
                value: json!({"originalHireDate": "31/02/2020"}),
                expected_field: "workerDates.originalHireDate",
            },
            Malformed {
                provider_field: "person",
                value: json!({"legalName": {"givenName": 42, "familyName1": "Okafor"}}),
                expected_field: "person.legalName.givenName",
            },
            Malformed {
                provider_field: "workAssignments",
                value: json!([{"primaryIndicator": true, "baseRemuneration": {
                    "annualRateAmount": {"amountValue": 85000, "currencyCode": "XYZ"}}}]),
                expected_field: "workAssignments[0].baseRemuneration.annualRateAmount.currencyCode",
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

integration_testkit::hris_contract_suite!(AdpFixture);

fn reqwest_client(ca: &str, identity: Option<(&str, &str)>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .timeout(Duration::from_secs(10));
    if let Some((cert, key)) = identity {
        builder = builder.identity(reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_the_certificate_is_refused_in_the_tls_handshake() {
    let fake = FakeAdp::start(People::generate(30, 3)).await;
    let token_url = format!("{}/auth/oauth/v2/token", fake.base_url());
    let form = [("grant_type", "client_credentials")];

    // No client certificate: the handshake fails, an error rather than a hang or an HTTP answer.
    let anonymous = reqwest_client(fake.ca_certificate(), None);
    let refused = anonymous.post(&token_url).form(&form).send().await;
    let error = refused.expect_err("a client without a certificate is refused");
    assert!(error.is_request() && !error.is_status() && !error.is_timeout(), "refused by TLS, not by HTTP: {error:?}");

    // A certificate another CA issued is refused too.
    let other = FakeAdp::start(People::empty()).await;
    let config = other.config(ids().0, ids().1);
    let (cert, key) = (config.secret("client_certificate").unwrap(), config.secret("client_key").unwrap());
    use secrecy::ExposeSecret;
    let stranger = reqwest_client(fake.ca_certificate(), Some((cert.expose_secret(), key.expose_secret())));
    assert!(stranger.post(&token_url).form(&form).send().await.is_err(), "a foreign certificate is refused");

    // The fake's own certificate gets through to the token endpoint (which then wants credentials).
    let config = fake.config(ids().0, ids().1);
    let (cert, key) = (config.secret("client_certificate").unwrap(), config.secret("client_key").unwrap());
    let known = reqwest_client(fake.ca_certificate(), Some((cert.expose_secret(), key.expose_secret())));
    let answer = known.post(&token_url).form(&form).send().await.expect("the handshake succeeds");
    assert_eq!(answer.status(), 401, "no client credentials: invalid_client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_pem_is_a_config_error_naming_the_field_and_secrets_stay_out_of_debug() {
    let fake = FakeAdp::start(People::empty()).await;
    let (tenant, connection) = ids();
    let good = fake.config(tenant, connection);
    let garbage = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
    let cases = [
        ("client_key", true, garbage, "secrets.client_key"),
        ("client_key", true, "-----BEGIN NOTHING-----\n-----END NOTHING-----", "secrets.client_key"),
        (
            "client_certificate",
            true,
            "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----",
            "secrets.client_certificate",
        ),
        (
            "ca_certificate",
            false,
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----",
            "settings.ca_certificate",
        ),
    ];
    for (key, secret, value, field) in cases {
        let config = if secret { good.clone().with_secret(key, value) } else { good.clone().with_setting(key, value) };
        let error = match integration_hris::build(&config, &BuildContext::default()) {
            Ok(_) => panic!("{key} = {value:?} was accepted"),
            Err(e) => e,
        };
        assert_eq!((error.kind(), error.field()), (ErrorKind::Config, Some(field)), "{error}");
        assert!(!error.to_string().contains("bm90"), "the value stays out of the error: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_logs_debug_and_errors() {
    use secrecy::ExposeSecret;
    let fixture = AdpFixture::start(People::generate(33, 3)).await;
    fixture.faults().inject(integration_testkit::fake::faults::Fault::ExpiredToken, 1);
    let ((count, missing), logs) = integration_testkit::capture::capture_tracing(async {
        let listing = fixture.hris.employees(ListRequest::first()).await.expect("a renewed token");
        let missing = fixture.hris.employee("G3Q8NOSUCHWORKER").await.expect_err("no such worker");
        (listing.items.len(), format!("{missing} {missing:?}"))
    })
    .await;
    assert_eq!(count, 3);
    let tokens = fixture.fake.issued_tokens();
    assert!(!tokens.is_empty());
    let config = fixture.fake.config(ids().0, ids().1);
    let key = config.secret("client_key").unwrap().expose_secret().lines().nth(1).unwrap().to_owned();
    let shown = format!("{:?}", fixture.hris);
    let secrets = [integration_testkit::fake::adp::CLIENT_SECRET, key.as_str()].into_iter();
    for secret in secrets.chain(tokens.iter().map(String::as_str)) {
        assert!(!logs.contains(secret) && !shown.contains(secret) && !missing.contains(secret), "a secret leaked");
    }
}

/// A record store whose `write_page` fails once, after `ok_writes` successful ones.
#[derive(Debug)]
struct FailingWrites {
    inner: Arc<MemoryStore>,
    ok_writes: AtomicU32,
}

#[async_trait]
impl RecordStore for FailingWrites {
    async fn write_page(&self, scope: &StreamScope, page: PageWrite) -> Result<WriteSummary> {
        match self.ok_writes.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)) {
            Ok(_) => self.inner.write_page(scope, page).await,
            Err(_) => {
                self.ok_writes.store(u32::MAX, Ordering::SeqCst); // fail once
                Err(integration_core::Error::storage("the database went away mid-sync"))
            }
        }
    }
    async fn delete_unseen(&self, scope: &StreamScope, run: RunId, checkpoint: Option<&Checkpoint>) -> Result<u64> {
        self.inner.delete_unseen(scope, run, checkpoint).await
    }
    async fn record(&self, scope: &StreamScope, remote_id: &str) -> Result<Option<StoredRecord>> {
        self.inner.record(scope, remote_id).await
    }
    async fn records(
        &self,
        scope: &StreamScope,
        after: Option<&str>,
        limit: usize,
        deleted: bool,
    ) -> Result<Vec<StoredRecord>> {
        self.inner.records(scope, after, limit, deleted).await
    }
    async fn changes_since(
        &self,
        tenant: &TenantId,
        cursor: Option<&ChangeCursor>,
        limit: usize,
    ) -> Result<ChangeBatch> {
        self.inner.changes_since(tenant, cursor, limit).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_deleted_from_the_queue_only_after_its_page_is_committed() {
    let fixture = AdpFixture::start(People::generate(31, 6)).await;
    let memory = Arc::new(MemoryStore::new());
    let (tenant, connection) = ids();
    let store = Arc::new(FailingWrites { inner: memory.clone(), ok_writes: AtomicU32::new(u32::MAX) });
    let engine = SyncEngine::new(memory.clone(), store.clone(), "adp-test");
    let job = SyncJob::new(tenant.clone(), connection.clone(), HrisStream::Employees.name(), SyncMode::Incremental);
    let cancel = CancellationToken::new();
    let sync = || engine.run(fixture.hris.as_ref(), &job, &cancel);
    let scope = StreamScope::new(tenant.clone(), connection.clone(), HrisStream::Employees.name());
    let last_name =
        |record: Option<StoredRecord>| record.map(|r| r.data["last_name"].as_str().unwrap_or_default().to_owned());

    assert_eq!(sync().await.unwrap().status, RunStatus::Succeeded, "the first pass lists every worker");
    let people = fixture.people();
    let hired = people.hire("Grace", "Hopper");
    assert!(people.update(101, &["last_name"], |p| p.last_name = "Renamed".into()));
    assert_eq!(fixture.fake.queued_messages(), 2);

    // Page 1 (the hire) commits; writing page 2 (the rename) fails.
    store.ok_writes.store(1, Ordering::SeqCst);
    let failed = sync().await.unwrap();
    assert_eq!(failed.status, RunStatus::Failed, "{:?}", failed.error);
    assert!(memory.record(&scope, &FakeAdp::remote_id(hired)).await.unwrap().is_some(), "page 1 was committed");
    assert_ne!(last_name(memory.record(&scope, &FakeAdp::remote_id(101)).await.unwrap()).as_deref(), Some("Renamed"));
    assert_eq!(fixture.fake.queued_messages(), 1, "the hire's message is deleted, the rename's is not");

    // The next run gets the rename again: nothing lost, and the queue ends empty.
    let resumed = sync().await.unwrap();
    assert_eq!(resumed.status, RunStatus::Succeeded, "{:?}", resumed.error);
    assert_eq!(last_name(memory.record(&scope, &FakeAdp::remote_id(101)).await.unwrap()).as_deref(), Some("Renamed"));
    assert_eq!(fixture.fake.queued_messages(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_change_listing_walks_the_queue_one_message_a_page() {
    let fixture = AdpFixture::start(People::generate(32, 4)).await;
    let people = fixture.people();
    assert!(people.terminate(101, chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()));
    assert!(people.delete(102));
    let hris = fixture.hris();
    let first = hris.employee_changes(ListRequest::first()).await.unwrap();
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.items[0].remote_id, FakeAdp::remote_id(101));
    assert_eq!(first.items[0].fields.employment.status, integration_hris::EmploymentStatus::Terminated);
    // Asked again without the cursor, the same message comes back: nothing was deleted.
    let again = hris.employee_changes(ListRequest::first()).await.unwrap();
    assert_eq!(again.next, first.next);
    let second = hris.employee_changes(ListRequest::first().at(first.next)).await.unwrap();
    assert!(second.items[0].remote_was_deleted, "a worker ADP no longer has is a tombstone");
    let end = hris.employee_changes(ListRequest::first().at(second.next)).await.unwrap();
    assert!(end.items.is_empty() && end.next.is_none(), "204: the queue is empty");
    assert_eq!(fixture.fake.queued_messages(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_of_the_change_queue_deletes_nothing() {
    let fixture = AdpFixture::start(People::generate(33, 4)).await;
    let memory = Arc::new(MemoryStore::new());
    let (tenant, connection) = ids();
    let engine = SyncEngine::new(memory.clone(), memory.clone(), "adp-test");
    let job = SyncJob::new(tenant.clone(), connection.clone(), HrisStream::Employees.name(), SyncMode::Incremental);
    let cancel = CancellationToken::new();
    assert_eq!(engine.run(fixture.hris.as_ref(), &job, &cancel).await.unwrap().status, RunStatus::Succeeded);
    let people = fixture.people();
    people.hire("Grace", "Hopper");
    assert!(people.update(101, &["last_name"], |p| p.last_name = "Renamed".into()));
    assert_eq!(fixture.fake.queued_messages(), 2);

    let dry = engine.run(fixture.hris.as_ref(), &job.clone().dry_run(), &cancel).await.unwrap();
    assert_eq!(dry.status, RunStatus::Succeeded, "{:?}", dry.error);
    assert_eq!(dry.counts.processed, 1, "the oldest message's worker, then the dry run ends: {:?}", dry.counts);
    assert_eq!(fixture.fake.queued_messages(), 2, "a dry run consumes nothing");

    let real = engine.run(fixture.hris.as_ref(), &job, &cancel).await.unwrap();
    assert_eq!(real.status, RunStatus::Succeeded, "{:?}", real.error);
    assert_eq!(real.counts.processed, 2, "the real run still sees both changes");
    assert_eq!(fixture.fake.queued_messages(), 0);
}
