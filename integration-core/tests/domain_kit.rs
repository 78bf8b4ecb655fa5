//! The domain kit is domain-independent: a tiny "notes" domain — its trait, model, stream table,
//! adapter list and one adapter over an in-memory provider — built from it alone, synced through
//! the engine (full, incremental with deletions) and built by its typed `build`.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::{engine, tenant};
use integration_core::domain::{self, Adapter, ListRequest, Listing, ListingFuture, Remote, StreamSpec, StreamTable};
use integration_core::store::{MemoryStore, RecordStore, RunStatus, StreamScope};
use integration_core::*;
use serde::{Deserialize, Serialize};

// The domain: its trait, model and stream table.

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Note {
    text: String,
}

#[async_trait]
trait Notes: Integration {
    async fn notes(&self, request: ListRequest) -> Result<Listing<Note>>;
    async fn note_changes(&self, request: ListRequest) -> Result<Listing<Note>>;
}

const NOTE_CHANGES: Capability = Capability::from_static("notes.changes");

fn notes(n: &dyn Notes, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { n.notes(r).await?.into_parts() })
}
fn note_changes(n: &dyn Notes, r: ListRequest) -> ListingFuture<'_> {
    Box::pin(async move { n.note_changes(r).await?.into_parts() })
}

static SPECS: [StreamSpec<dyn Notes>; 1] = [StreamSpec {
    name: "notes",
    description: "notes",
    capability: None,
    list: notes,
    changes: Some((NOTE_CHANGES, note_changes)),
}];
static STREAMS: StreamTable<dyn Notes> = StreamTable::new("notes", &SPECS);

// One adapter, over a provider held in memory: (id, text, changed at, deleted).

type Row = (String, String, DateTime<Utc>, bool);

#[derive(Debug)]
struct Jot {
    descriptor: Descriptor,
    rows: Arc<Mutex<Vec<Row>>>,
}

impl Jot {
    fn page(&self, r: &ListRequest, changed_only: bool) -> Result<Listing<Note>> {
        let rows = self.rows.lock().map_err(|_| Error::storage("poisoned"))?.clone();
        let wanted = rows.into_iter().filter(|row| !changed_only || r.since.is_none_or(|s| row.2 >= s));
        let wanted: Vec<Row> = wanted.filter(|row| changed_only || !row.3).collect();
        let (offset, size) = (r.offset()? as usize, 2);
        let items = wanted.iter().skip(offset).take(size).map(|(id, text, at, deleted)| match deleted {
            true => Remote::deleted(id.clone()).modified(Some(*at)),
            false => Remote::new(id.clone(), Note { text: text.clone() }).modified(Some(*at)),
        });
        let next = (offset + size < wanted.len()).then(|| (offset + size).to_string());
        Ok(Listing::new(items.collect(), next))
    }
}

#[async_trait]
impl Integration for Jot {
    fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }
    async fn connect(&self) -> Result<ConnectionInfo> {
        Ok(ConnectionInfo::default())
    }
    async fn disconnect(&self) -> Result<()> {
        Ok(())
    }
    async fn health_check(&self) -> Result<Health> {
        Ok(Health::healthy(Default::default()))
    }
    async fn read(&self, request: ReadRequest) -> Result<Page> {
        STREAMS.read(self, request).await
    }
}

#[async_trait]
impl Notes for Jot {
    async fn notes(&self, request: ListRequest) -> Result<Listing<Note>> {
        self.page(&request, false)
    }
    async fn note_changes(&self, request: ListRequest) -> Result<Listing<Note>> {
        self.page(&request, true)
    }
}

impl Adapter for Jot {
    fn describe() -> Result<Descriptor> {
        let streams = STREAMS.descriptors(&[NOTE_CHANGES]);
        domain::descriptor("jot", Domain::Crm, "Jot", "https://jot.example.com/docs", [NOTE_CHANGES], streams).build()
    }
    fn from_config(_: &IntegrationConfig, _: &BuildContext) -> Result<Self> {
        Ok(Self { descriptor: Self::describe()?, rows: Arc::default() })
    }
}

integration_core::domain_adapters!("notes", dyn Notes; "jot" => Jot);

#[tokio::test]
async fn a_domain_built_from_the_kit_syncs_fully_then_incrementally() {
    let rows: Arc<Mutex<Vec<Row>>> = Arc::default();
    let t0 = Utc::now() - chrono::Duration::hours(1);
    let row = |id: &str, text: &str, deleted: bool| (id.to_owned(), text.to_owned(), Utc::now(), deleted);
    rows.lock().expect("rows").extend((0..5).map(|i| (format!("n{i}"), format!("note {i}"), t0, false)));

    // The typed build and the registry both know the adapter.
    let config = IntegrationConfig::new(
        tenant(),
        ConnectionId::new("notes").expect("id"),
        Domain::Crm,
        ProviderId::new("jot").expect("id"),
    );
    let built: Arc<dyn Notes> = build(&config, &BuildContext::default()).expect("typed build");
    assert_eq!(built.descriptor().stream("notes").map(|s| s.supports(SyncMode::Incremental)), Some(true));
    let mut registry = Registry::new();
    register_all(&mut registry).expect("register");
    assert!(registry.build(config.clone()).is_ok());

    // This adapter's provider is the rows above.
    let adapter = Jot { descriptor: Jot::describe().expect("descriptor"), rows: rows.clone() };
    assert_eq!(adapter.notes(ListRequest::first()).await.expect("typed listing").items.len(), 2);

    let store = MemoryStore::new();
    let scope = StreamScope::new(tenant(), config.connection.clone(), "notes");
    let full = SyncJob::new(tenant(), config.connection.clone(), "notes", SyncMode::FullRefresh);
    let run = engine(&store).run(&adapter, &full, &CancellationToken::new()).await.expect("run");
    assert_eq!((run.status, run.counts.added), (RunStatus::Succeeded, 5));

    // Changes at the provider: one edited, one deleted, one added.
    {
        let mut rows = rows.lock().expect("rows");
        rows[1] = row("n1", "note 1, edited", false);
        rows[3] = row("n3", "", true);
        rows.push(row("n9", "note 9", false));
    }
    let incremental = SyncJob::new(tenant(), config.connection.clone(), "notes", SyncMode::Incremental);
    let run = engine(&store).run(&adapter, &incremental, &CancellationToken::new()).await.expect("run");
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!((run.counts.added, run.counts.updated, run.counts.deleted), (1, 1, 1));
    let cached = store.records(&scope, None, 100, false).await.expect("cache");
    let texts: Vec<String> = cached.iter().map(|r| r.data["text"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(texts, ["note 0", "note 1, edited", "note 2", "note 4", "note 9"]);
}
