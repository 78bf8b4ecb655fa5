//! The generic REST connector: a spec written here, for an API the SDK does not ship (a fake from
//! the fake kit: cursor paging, `updated_since` change listings with tombstones), synced through
//! the engine — and held to the generic contract every typed adapter passes (full sync,
//! faults, resumption, incremental changes, deletions and restorations…).

use std::sync::Arc;

use async_trait::async_trait;
use integration_core::spec::{ProviderSpec, RestConnector};
use integration_core::*;
use integration_testkit::contract::harness::{self, Malformed, Records};
use integration_testkit::fake::FakeServer;
use integration_testkit::fake::app::FakeApi;
use integration_testkit::fake::auth::Auth;
use integration_testkit::fake::collection::Collection;
use integration_testkit::fake::dataset::{Dataset, Record};
use integration_testkit::fake::faults::Faults;
use integration_testkit::fake::paging::Paging;
use serde_json::{Value, json};

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
    notes: Dataset<String>,
    api: FakeApi,
    connector: Arc<RestConnector>,
    _server: FakeServer,
}

#[async_trait]
impl harness::Fixture for Fixture {
    async fn start(seed: u64, size: usize) -> Self {
        let (notes, mut rng) = (Dataset::starting_at(1), fastrand::Rng::with_seed(seed));
        (0..size).for_each(|_| _ = notes.add(format!("note {}", rng.u32(..))));
        let api = FakeApi::new(Auth::Bearer("jot-token".into()));
        let render = |n: &Record<String>| json!({"id": n.id.to_string(), "text": *n.value, "updated_at": n.changed.to_rfc3339()});
        let server = api.serve(Collection::new(notes.clone(), Paging::Cursor, render).router("/v1/notes")).await;
        let config = IntegrationConfig::new(
            TenantId::new("acme").expect("tenant"),
            ConnectionId::new("jotter").expect("connection"),
            Domain::Other,
            ProviderId::new("jotter").expect("provider"),
        )
        .with_setting("base_url", server.base_url())
        .with_secret("api_token", "jot-token");
        let spec = ProviderSpec::parse(SPEC).expect("the spec");
        let connector = Arc::new(RestConnector::new(spec, &config, &BuildContext::default()).expect("connected"));
        Self { notes, api, connector, _server: server }
    }
    fn integration(&self) -> Arc<dyn Integration> {
        self.connector.clone()
    }
    fn records(&self) -> &dyn Records {
        &self.notes
    }
    fn faults(&self) -> &Faults {
        self.api.faults()
    }
    fn add(&self) -> u64 {
        self.notes.add("a new note".into())
    }
    fn edit(&self, id: u64) -> bool {
        self.notes.update(id, &["text"], |n| n.value.push_str(", edited"))
    }
    fn check(&self, id: u64, cached: &Value) {
        assert_eq!(cached["text"], *self.notes.get(id).expect("a note").value, "note {id}");
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
    assert!(fixture.notes.corrupt(2, "id", Value::Null));
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
    assert_eq!(run.rejected[0].raw["text"], fixture.notes.get(2).expect("note").value.as_str());
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
