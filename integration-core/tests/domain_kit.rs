//! The kits are domain-independent: a tiny "notes" domain (model, trait, stream table), an adapter
//! ("Jot": REST, cursor paging, `updated_since` changes) and its fake, built from the kits alone
//! in under 150 lines, pass the generic contract (the fixture uses the domain's typed `build`).

mod common;

use std::sync::Arc;

use integration_core::Registry;
use integration_core::domain::prelude::*;
use integration_testkit::contract::harness::{self, Fake, Malformed};
use integration_testkit::fake::notes::{FakeNotes, TOKEN};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Note {
    text: String,
}

#[async_trait] // With `request.since`: the notes changed since, deletions included.
trait Notes: Integration {
    async fn notes(&self, request: ListRequest) -> Result<Listing<Note>>;
}

const NOTE_CHANGES: Capability = Capability::from_static("notes.changes");

fn notes(n: &dyn Notes, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { n.notes(r).await?.into_parts() })
}

static SPECS: [StreamSpec<dyn Notes>; 1] = [StreamSpec {
    name: "notes",
    description: "notes",
    capability: None,
    list: notes,
    changes: Some((NOTE_CHANGES, notes)),
}];
static STREAMS: StreamTable<dyn Notes> = StreamTable::new("notes", &SPECS);

#[derive(Debug)]
struct Jot {
    descriptor: Descriptor,
    client: ProviderClient,
    base: String,
}

#[derive(Deserialize)]
struct WirePage {
    data: Vec<Value>,
    next_cursor: Option<String>,
}

fn note(r: &Fields) -> Result<Remote<Note>> {
    let remote = match r.flag("deleted")? {
        Some(true) => Remote::deleted(r.id("id")?),
        _ => Remote::new(r.id("id")?, Note { text: r.required_text("text")? }),
    };
    Ok(remote.modified(r.time("updated_at")?))
}

#[async_trait]
impl Notes for Jot {
    async fn notes(&self, r: ListRequest) -> Result<Listing<Note>> {
        let mut query = vec![("limit", r.page_size.map_or(100, |n| n.get().min(100)).to_string())];
        query.extend(r.cursor.map(|c| ("cursor", c)));
        query.extend(r.since.map(|s| ("updated_since", s.to_rfc3339())));
        let page: WirePage = self.client.get(format!("{}/v1/notes", self.base)).query(&query).send_json().await?;
        Ok(Listing::decoded(map_each(page.data, "id", note), page.next_cursor))
    }
}

#[async_trait]
impl Integration for Jot {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }
    async fn connect(&self) -> Result<ConnectionInfo> {
        self.client.get(format!("{}/v1/notes?limit=1", self.base)).send().await.map(|_| ConnectionInfo::default())
    }
    async fn read(&self, request: ReadRequest) -> Result<Page> {
        STREAMS.read(self, request).await
    }
}

impl Adapter for Jot {
    fn describe() -> Result<Descriptor> {
        let streams = STREAMS.descriptors(&[NOTE_CHANGES]);
        descriptor("jot", Domain::Crm, "Jot", "https://jot.example.com/docs", [NOTE_CHANGES], streams)
            .base_url(None, "the API host")
            .secret("token", FieldFormat::Text, "an API token")
            .build()
    }
    fn from_config(config: &IntegrationConfig, context: &BuildContext) -> Result<Self> {
        let (descriptor, base) = (Self::describe()?, config.base_url(None)?.as_str().trim_end_matches('/').to_owned());
        let token = Arc::new(Bearer::new(config.secret("token")?.expose_secret()));
        Ok(Self { client: context.provider_client(&descriptor, config).with_auth(token), descriptor, base })
    }
}

integration_core::domain_adapters!("notes", dyn Notes; "jot" => Jot);

struct Fixture {
    fake: FakeNotes,
    jot: Arc<dyn Notes>,
}

#[async_trait]
impl harness::Fixture for Fixture {
    async fn start(seed: u64, size: usize) -> Self {
        let fake = FakeNotes::start(seed, size).await;
        let (connection, provider) = (ConnectionId::new("notes").expect("id"), ProviderId::new("jot").expect("id"));
        let config = IntegrationConfig::new(common::tenant(), connection, Domain::Crm, provider)
            .with_setting("base_url", fake.base_url())
            .with_secret("token", TOKEN);
        let (jot, mut registry) = (build(&config, &BuildContext::default()).expect("the typed build"), Registry::new());
        assert!(register_all(&mut registry).is_ok() && registry.build(config).is_ok(), "the registry builds it too");
        Self { fake, jot }
    }
    fn integration(&self) -> Arc<dyn Integration> {
        self.jot.clone()
    }
    fn fake(&self) -> &dyn Fake {
        &self.fake
    }
    fn malformed(&self) -> Vec<Malformed> {
        vec![Malformed { provider_field: "text", value: json!(42), expected_field: "text" }]
    }
}

integration_testkit::contract_suite!(Fixture);
