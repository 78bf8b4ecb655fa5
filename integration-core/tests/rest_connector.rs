//! The generic REST connector: a spec written here, for an API the SDK does not ship (a fake from
//! the fake kit: cursor paging, `updated_since` change listings with tombstones), synced through
//! the engine — and held to the generic contract every typed adapter passes (full sync,
//! faults, resumption, incremental changes, deletions and restorations…).

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::spec::{ProviderSpec, RestConnector};
use integration_core::*;
use integration_testkit::contract::harness::{self, Fake, Malformed};
use integration_testkit::fake::notes::{FakeNotes, TOKEN};
use serde_json::Value;

const SPEC: &str = r#"
id = "jotter"
name = "Jotter"
domains = ["other"]
docs = "https://jotter.example.com/docs"
base_url = "https://api.jotter.example.com"

[[secrets]]
key = "api_token"
description = "An API token"

[auth]
kind = "bearer"
token = "{api_token}"

[pagination]
style = "cursor"
records = "/data"
limit_param = "limit"
max_limit = 100
cursor_param = "cursor"
next_cursor = "/next_cursor"

[check]
path = "/v1/notes"

[[streams]]
name = "notes"
path = "/v1/notes"
primary_key = "/id"
cursor_field = "/updated_at"
cursor_param = "updated_since"
deleted = "/deleted"
"#;

struct Fixture {
    fake: FakeNotes,
    connector: Arc<RestConnector>,
}

fn config(fake: &FakeNotes) -> IntegrationConfig {
    IntegrationConfig::new(
        TenantId::new("acme").expect("tenant"),
        ConnectionId::new("jotter").expect("connection"),
        Domain::Other,
        ProviderId::new("jotter").expect("provider"),
    )
    .with_setting("base_url", fake.base_url())
    .with_secret("api_token", TOKEN)
}

#[async_trait]
impl harness::Fixture for Fixture {
    async fn start(seed: u64, size: usize) -> Self {
        let fake = FakeNotes::start(seed, size).await;
        let spec = ProviderSpec::parse(SPEC).expect("the spec");
        let connector =
            Arc::new(RestConnector::new(spec, &config(&fake), &BuildContext::default()).expect("connected"));
        Self { fake, connector }
    }
    fn integration(&self) -> Arc<dyn Integration> {
        self.connector.clone()
    }
    fn fake(&self) -> &dyn Fake {
        &self.fake
    }
    fn malformed(&self) -> Vec<Malformed> {
        // Records are kept as the provider's JSON: no value is of a wrong type for them.
        Vec::new()
    }
}

integration_testkit::contract_suite!(Fixture);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_without_an_id_is_rejected_into_the_run_log_and_the_sync_goes_on() {
    use harness::Fixture as _;
    let fixture = Fixture::start(3, 5).await;
    assert!(fixture.fake.notes().corrupt(2, "id", Value::Null));
    let store = Arc::new(integration_core::store::MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "rest");
    let job = SyncJob::new(
        TenantId::new("acme").expect("t"),
        ConnectionId::new("jotter").expect("c"),
        "notes",
        SyncMode::Incremental,
    );
    let run = engine.run(fixture.connector.as_ref(), &job, &CancellationToken::new()).await.expect("run");
    assert_eq!(run.status, integration_core::store::RunStatus::PartiallySucceeded, "{:?}", run.error);
    assert_eq!((run.counts.added, run.counts.failed), (4, 1));
    assert_eq!(run.rejected[0].field.as_deref(), Some("id"));
    assert_eq!(run.rejected[0].raw["text"], fixture.fake.notes().get(2).expect("note").value.as_str());
}

#[test]
fn a_bad_stream_is_refused_with_the_line_and_key() {
    let bad = SPEC.replace("cursor_param = \"updated_since\"\n", "");
    let refused = ProviderSpec::parse(&bad).expect_err("no cursor_param");
    assert_eq!(refused.field(), Some("streams[0].cursor_param"), "{refused}");
    let line = bad.lines().position(|l| l == "[[streams]]").expect("the table") + 1;
    assert!(refused.to_string().contains(&format!("line {line}:")), "{refused}");
    let no_streams = SPEC.split("[[streams]]").next().expect("the head").to_owned();
    let spec = ProviderSpec::parse(&no_streams).expect("a spec without streams");
    let config = IntegrationConfig::new(
        TenantId::new("acme").expect("t"),
        ConnectionId::new("j").expect("c"),
        Domain::Other,
        ProviderId::new("jotter").expect("p"),
    )
    .with_secret("api_token", "x");
    let refused = RestConnector::new(spec, &config, &BuildContext::default()).expect_err("nothing to sync");
    assert_eq!(refused.field(), Some("streams"));
}

mod crash_and_resume {
    //! The sync engine's crash-and-resume property, for the REST connector as for typed
    //! adapters: whatever changes the provider's data goes through, and whichever read fails
    //! (the run then ends failed), the next run resumes from the last committed page and the
    //! cache ends with exactly the provider's live records — none lost, none duplicated.

    use integration_core::http::{CircuitPolicy, RetryPolicy};
    use integration_core::store::{MemoryStore, RecordStore, RunStatus, StreamScope};
    use integration_testkit::fake::faults::Fault;
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Change {
        Add,
        Edit(usize),
        Delete(usize),
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![Just(Change::Add), (0..20usize).prop_map(Change::Edit), (0..20usize).prop_map(Change::Delete)]
    }

    async fn run(size: usize, cycles: Vec<(Vec<Change>, u32, bool)>) {
        let fake = FakeNotes::start(size as u64, size).await;
        let notes = fake.notes();
        let config = config(&fake);
        let (tenant, connection) = (config.tenant.clone(), config.connection.clone());
        // One attempt per request: a failed read fails the run, as a crash would.
        let context = BuildContext::default().with_http_policy(|_, policy| {
            policy.with_retry(RetryPolicy::standard().with_max_attempts(1)).with_circuit(CircuitPolicy::disabled())
        });
        let connector =
            RestConnector::new(ProviderSpec::parse(SPEC).expect("spec"), &config, &context).expect("connected");
        let store = Arc::new(MemoryStore::new());
        let engine = SyncEngine::new(store.clone(), store.clone(), "rest");
        let never = CancellationToken::new();
        for (changes, crash_on, incremental) in cycles {
            for change in changes {
                let live: Vec<u64> = notes.live().iter().map(|n| n.id).collect();
                match change {
                    Change::Add => _ = notes.add("added".to_owned()),
                    Change::Edit(i) if !live.is_empty() => {
                        _ = notes.update(live[i % live.len()], &["text"], |n| n.value.push('!'))
                    }
                    Change::Delete(i) if !live.is_empty() => _ = notes.delete(live[i % live.len()]),
                    _ => {}
                }
            }
            let mode = if incremental { SyncMode::Incremental } else { SyncMode::ResumableFullRefresh };
            let job = SyncJob::new(tenant.clone(), connection.clone(), "notes", mode)
                .with_page_size(std::num::NonZeroU32::new(3).expect("3"));
            for _ in 1..crash_on {
                fake.faults().inject(Fault::Latency(std::time::Duration::ZERO), 1);
            }
            fake.faults().inject(Fault::ServerError(500), 1);
            let crashed = engine.run(&connector, &job, &never).await.expect("a run");
            fake.faults().clear();
            if crash_on == 1 {
                assert_eq!(crashed.status, RunStatus::Failed, "the first read failed: the run did not complete");
            }
            let resumed = engine.run(&connector, &job, &never).await.expect("a run");
            assert_eq!(resumed.status, RunStatus::Succeeded, "resumed after {:?}: {:?}", crashed.status, resumed.error);
            if !incremental {
                // A complete full pass: the cache is exactly the live records.
                let scope = StreamScope::new(tenant.clone(), connection.clone(), "notes");
                let cached = store.records(&scope, None, 10_000, false).await.expect("cache");
                let got: std::collections::BTreeMap<String, String> = cached
                    .iter()
                    .map(|r| (r.remote_id.clone(), r.data["text"].as_str().unwrap_or("").to_owned()))
                    .collect();
                let want: std::collections::BTreeMap<String, String> =
                    notes.live().iter().map(|n| (n.id.to_string(), n.value.clone())).collect();
                assert_eq!(got, want, "after a full pass");
            }
        }
        // Whatever came before, one more full pass and the cache is exactly the provider's.
        let job = SyncJob::new(tenant.clone(), connection.clone(), "notes", SyncMode::FullRefresh);
        let last = engine.run(&connector, &job, &never).await.expect("a run");
        assert_eq!(last.status, RunStatus::Succeeded, "{:?}", last.error);
        let scope = StreamScope::new(tenant, connection, "notes");
        let mut got: Vec<String> =
            store.records(&scope, None, 10_000, false).await.expect("cache").into_iter().map(|r| r.remote_id).collect();
        let mut want: Vec<String> = notes.live().iter().map(|n| n.id.to_string()).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn a_crashed_sync_resumes_to_exactly_the_provider_s_records(
            size in 0..12usize,
            cycles in prop::collection::vec((prop::collection::vec(change(), 0..6), 1..8u32, any::<bool>()), 1..4),
        ) {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
            rt.block_on(run(size, cycles));
        }
    }
}
