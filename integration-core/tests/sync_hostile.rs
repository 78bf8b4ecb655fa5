//! The sync engine against providers that misbehave: listings that never end, killed runs,
//! answers whose body does not parse, and a number no float can hold in one record.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use async_trait::async_trait;
use common::{ReadOnly, Reads, engine, tenant};
use integration_core::decode::map_each;
use integration_core::descriptor::{Descriptor, Domain, RunLimits, StreamDescriptor, SyncMode};
use integration_core::http::{HttpClient, HttpPolicy};
use integration_core::store::{MemoryStore, RecordStore, RunQuery, RunStatus, StateStore, StreamScope};
use integration_core::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn conn() -> ConnectionId {
    ConnectionId::new("hr").expect("connection")
}

fn descriptor(limits: Option<RunLimits>) -> Descriptor {
    let mut stream =
        StreamDescriptor::new("employees", ["id"]).with_modes([SyncMode::FullRefresh, SyncMode::ResumableFullRefresh]);
    if let Some(limits) = limits {
        stream = stream.with_limits(limits);
    }
    Descriptor::builder("endless", Domain::Hris, "Endless").stream(stream).build().expect("descriptor")
}

/// What the endless provider serves on every page.
#[derive(Debug, Clone, Copy)]
enum Endless {
    /// New records on every page, and always "more".
    NewRecords,
    /// The same records on every page, and always "more".
    SameRecords,
}

#[derive(Debug)]
struct EndlessProvider {
    descriptor: Descriptor,
    kind: Endless,
    reads: AtomicU64,
}

#[async_trait]
impl Reads for EndlessProvider {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }
    async fn read(&self, _request: ReadRequest) -> Result<Page> {
        let n = self.reads.fetch_add(1, Ordering::SeqCst);
        let base = match self.kind {
            Endless::NewRecords => n * 100,
            Endless::SameRecords => 0,
        };
        let records = (base..base + 100).map(|i| Record::new(format!("w{i}"), json!({"i": i}))).collect();
        Ok(Page::more(records, Checkpoint::from_state(&json!({"offset": (n + 1) * 100}))?))
    }
}

#[tokio::test]
async fn a_listing_that_repeats_its_page_ends_the_run_failed() {
    let store = MemoryStore::new();
    let provider = ReadOnly(EndlessProvider {
        descriptor: descriptor(None),
        kind: Endless::SameRecords,
        reads: AtomicU64::new(0),
    });
    let job = SyncJob::new(tenant(), conn(), "employees", SyncMode::FullRefresh);
    let run = engine(&store).run(&provider, &job, &CancellationToken::new()).await.expect("run");
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.expect("error");
    assert!(error.message.contains("same 100 records"), "{error:?}");
    assert_eq!(provider.0.reads.load(Ordering::SeqCst), 2, "stopped at the first repeat");
}

#[tokio::test]
async fn a_listing_that_never_ends_stops_at_the_streams_limits() {
    let store = MemoryStore::new();
    let limits = RunLimits::new(20, 1_000_000);
    let provider = ReadOnly(EndlessProvider {
        descriptor: descriptor(Some(limits)),
        kind: Endless::NewRecords,
        reads: AtomicU64::new(0),
    });
    let job = SyncJob::new(tenant(), conn(), "employees", SyncMode::FullRefresh);
    let run = engine(&store).run(&provider, &job, &CancellationToken::new()).await.expect("run");
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.error.expect("error").message.contains("stops at 20 pages"));
    assert_eq!(provider.0.reads.load(Ordering::SeqCst), 20);
    // A job may set its own, here on records.
    let provider =
        ReadOnly(EndlessProvider { descriptor: descriptor(None), kind: Endless::NewRecords, reads: AtomicU64::new(0) });
    let job = job.with_limits(RunLimits::new(1_000, 550));
    let run = engine(&store).run(&provider, &job, &CancellationToken::new()).await.expect("run");
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(provider.0.reads.load(Ordering::SeqCst), 6, "stopped once past 550 records");
    assert_eq!(RunLimits::default(), RunLimits::new(50_000, 10_000_000));
}

/// A resumable full refresh whose task is killed while it waits for a page: the run log shows it
/// running until the stream's lease is next taken, then abandoned with the checkpoint it reached.
#[tokio::test]
async fn a_killed_run_is_marked_abandoned_when_the_lease_is_next_taken() {
    #[derive(Debug)]
    struct Stalls {
        descriptor: Descriptor,
        reads: AtomicU32,
    }
    #[async_trait]
    impl Reads for Stalls {
        fn descriptor(&self) -> &Descriptor {
            &self.descriptor
        }
        async fn read(&self, request: ReadRequest) -> Result<Page> {
            let n = self.reads.fetch_add(1, Ordering::SeqCst);
            if n == 2 {
                std::future::pending::<()>().await; // the third page never comes: killed here
            }
            let at = request.checkpoint.as_ref().map_or(0, |c| c.state::<u64>().unwrap_or(0));
            let records = (at..at + 10).map(|i| Record::new(format!("r{i}"), json!({"i": i}))).collect();
            if at >= 30 {
                Ok(Page::last(records, None))
            } else {
                Ok(Page::more(records, Checkpoint::from_state(&(at + 10))?))
            }
        }
    }
    let store = MemoryStore::new();
    let adapter = Arc::new(ReadOnly(Stalls { descriptor: descriptor(None), reads: AtomicU32::new(0) }));
    // A short lease, so the next run can take it soon after the kill.
    let engine = engine(&store).with_lease(std::time::Duration::from_millis(200), std::time::Duration::from_millis(50));
    let job = SyncJob::new(tenant(), conn(), "employees", SyncMode::ResumableFullRefresh);
    let task = {
        let (engine, adapter, job) = (engine.clone(), adapter.clone(), job.clone());
        tokio::spawn(async move { engine.run(adapter.as_ref(), &job, &CancellationToken::new()).await })
    };
    let scope = StreamScope::new(tenant(), conn(), "employees");
    integration_testkit::poll::eventually(std::time::Duration::from_secs(10), || {
        let adapter = adapter.clone();
        async move { (adapter.0.reads.load(Ordering::SeqCst) >= 3).then_some(()) }
    })
    .await
    .expect("the third read started");
    task.abort();
    let _ = task.await;
    let killed = store.list_runs(&tenant(), &RunQuery::new()).await.expect("runs");
    assert_eq!(killed[0].status, RunStatus::Running, "a killed run cannot say so itself");

    // The next run takes the lease once it lapses, marks the dead one, and resumes.
    let next = integration_testkit::poll::eventually(std::time::Duration::from_secs(10), || {
        let (engine, adapter, job) = (engine.clone(), adapter.clone(), job.clone());
        async move { engine.run(adapter.as_ref(), &job, &CancellationToken::new()).await.ok() }
    })
    .await
    .expect("the next run");
    assert_eq!(next.status, RunStatus::Succeeded, "{:?}", next.error);
    let runs = store.list_runs(&tenant(), &RunQuery::new()).await.expect("runs");
    let dead = runs.iter().find(|r| r.id == killed[0].id).expect("the killed run");
    assert_eq!(dead.status, RunStatus::Abandoned);
    assert!(dead.completed_at.is_some());
    assert_eq!(
        dead.checkpoint.as_ref().and_then(|c| c.state::<Value>().ok()).map(|v| v["position"].clone()),
        Some(json!(20))
    );
    assert_eq!(
        store.records(&scope, None, 1000, false).await.expect("records").len(),
        40,
        "the resumed run read the rest"
    );
}

/// An adapter reading a page over HTTP and mapping each record: the path every adapter takes.
#[derive(Debug)]
struct OverHttp {
    descriptor: Descriptor,
    url: String,
    http: integration_core::http::ProviderClient,
}

#[async_trait]
impl Reads for OverHttp {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }
    async fn read(&self, _request: ReadRequest) -> Result<Page> {
        let page: Value = self.http.get(&self.url).send_json().await?;
        let items = page["employees"].as_array().cloned().unwrap_or_default();
        let decoded = map_each(items, "id", |fields| {
            let id = fields.id("id")?;
            Ok(Record::new(id, fields.raw().clone()))
        });
        Ok(Page::last(decoded.ok, None).with_rejected(decoded.rejected))
    }
}

fn over_http(server: &MockServer) -> ReadOnly<OverHttp> {
    ReadOnly(OverHttp {
        descriptor: descriptor(None),
        url: format!("{}/employees", server.uri()),
        http: HttpClient::new()
            .expect("client")
            .provider_with(ProviderId::new("endless").expect("id"), HttpPolicy::standard()),
    })
}

#[tokio::test]
async fn an_answer_whose_body_does_not_parse_is_read_again_and_counted() {
    // The HTTP layer asks again for each request safe to repeat (here, both bad answers of
    // the first page); the count lands in the run log.
    let server = MockServer::start().await;
    let good = json!({"employees": [{"id": "1"}, {"id": "2"}]}).to_string();
    Mock::given(method("GET"))
        .and(path("/employees"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(&good.as_bytes()[..good.len() / 2], "application/json"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/employees"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(good.as_bytes(), "application/json"))
        .mount(&server)
        .await;
    let store = MemoryStore::new();
    let job = SyncJob::new(tenant(), conn(), "employees", SyncMode::FullRefresh);
    let run = engine(&store).run(&over_http(&server), &job, &CancellationToken::new()).await.expect("run");
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!((run.counts.added, run.counts.retried_reads), (2, 2));
    let logged = store.run(&tenant(), run.id).await.expect("read").expect("logged");
    assert_eq!(logged.counts.retried_reads, 2, "counted in the run log");

    // A provider that never answers parseably fails the run after the bounded retries.
    server.reset().await;
    Mock::given(path("/employees"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(&b"{\"employees\": ["[..], "application/json"))
        .mount(&server)
        .await;
    let run = engine(&store).run(&over_http(&server), &job, &CancellationToken::new()).await.expect("run");
    assert_eq!(run.status, RunStatus::Failed);
    // Each of the engine's four reads of the page asked for the answer again twice itself.
    let (engine_reads, http_rereads) =
        (integration_core::sync::READ_RETRIES, integration_core::http::UNPARSABLE_REREADS);
    assert_eq!(run.counts.retried_reads, u64::from(engine_reads + (engine_reads + 1) * http_rereads));
    assert!(run.error.expect("error").message.contains("read 4 times"));
}

#[tokio::test]
async fn one_number_out_of_range_rejects_its_record_and_keeps_the_page() {
    let server = MockServer::start().await;
    let body =
        r#"{"employees": [{"id": "1", "name": "Ada"}, {"id": 1e400, "name": "Bob"}, {"id": "3", "pay": -2E+999}]}"#;
    Mock::given(path("/employees"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.as_bytes(), "application/json"))
        .mount(&server)
        .await;
    let store = MemoryStore::new();
    let job = SyncJob::new(tenant(), conn(), "employees", SyncMode::FullRefresh);
    let run = engine(&store).run(&over_http(&server), &job, &CancellationToken::new()).await.expect("run");
    assert_eq!(run.status, RunStatus::PartiallySucceeded, "{:?}", run.error);
    assert_eq!((run.counts.added, run.counts.failed), (2, 1));
    let rejected = &run.rejected[0];
    assert_eq!(rejected.field.as_deref(), Some("id"), "{rejected:?}");
    assert_eq!(rejected.raw["name"], "Bob", "the raw record is kept");
    assert_eq!(rejected.raw["id"]["$unrepresentable_number"], "1e400", "with the number as written");
    let scope = StreamScope::new(tenant(), conn(), "employees");
    let three = store.record(&scope, "3").await.expect("read").expect("cached");
    assert_eq!(three.data["pay"]["$unrepresentable_number"], "-2E+999", "a field nobody maps is kept as written");
}
