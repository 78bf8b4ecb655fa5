//! A connection's field mappings and validation rules against the Workday fake: a value nested
//! in the provider's record and a custom field mapped onto custom fields, a rule rejecting the
//! record that breaks it — the same through a sync (the registry's adapter) and through a typed
//! listing (the domain's `build`); a bad mapping refused when saved, naming its field.
#![cfg(feature = "workday")]

use std::collections::BTreeMap;
use std::sync::Arc;

use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::mapping::{Check, FieldMapping, Mappings, Rule, Transform};
use integration_core::store::{MemoryStore, RecordStore, RunStatus, StreamScope};
use integration_core::{
    BuildContext, CancellationToken, ConnectionId, Connections, ErrorKind, IntegrationConfig, Registry, SyncEngine,
    SyncJob, SyncMode, TenantId,
};
use integration_hris::{ListRequest, register_all};
use integration_testkit::fake::people::People;
use integration_testkit::fake::workday::FakeWorkday;
use serde_json::{Value, json};

fn mappings() -> Mappings {
    let offices: BTreeMap<String, Value> =
        [("Berlin", "BER"), ("Toronto", "YYZ"), ("Remote", "REM")].map(|(k, v)| (k.to_owned(), json!(v))).into();
    Mappings::default()
        .map(
            FieldMapping::new("employees", "/primaryJob/location/descriptor", "office")
                .then(Transform::Lookup { table: offices, otherwise: None }),
        )
        .map(
            FieldMapping::new("employees", "/customShirtSize", "shirt_size")
                .then(Transform::Trim)
                .then(Transform::Uppercase)
                .then(Transform::Default { value: json!("M") }),
        )
        .rule(Rule::new("employees", "work_email", Check::Pattern { regex: r"@example\.com$".into() }))
        .rule(Rule::new("employees", "custom_fields.office", Check::Required))
}

fn config(fake: &FakeWorkday, mappings: Mappings) -> IntegrationConfig {
    let ids = (TenantId::new("acme").expect("tenant"), ConnectionId::new("workday").expect("connection"));
    fake.config(ids.0, ids.1).with_mappings(mappings)
}

/// Person 101 breaks the email rule; person 102 has a custom shirt size at the provider.
async fn fake() -> FakeWorkday {
    let fake = FakeWorkday::start(People::generate(41, 6)).await;
    assert!(fake.people().update(101, &["work_email"], |p| p.work_email = "ada@elsewhere.org".into()));
    assert!(fake.people().corrupt(102, "customShirtSize", json!(" l ")));
    fake
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_maps_custom_fields_and_rejects_the_record_that_breaks_a_rule() {
    let fake = fake().await;
    let config = config(&fake, mappings());
    let mut registry = Registry::new();
    register_all(&mut registry).expect("register");
    registry.validate(&config).expect("the mappings fit the adapter");
    let adapter = registry.build(config.clone()).expect("the adapter, mapped");

    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone(), store.clone(), "mappings");
    let job = SyncJob::new(config.tenant.clone(), config.connection.clone(), "employees", SyncMode::FullRefresh);
    // Synced once without the mappings: every employee is cached.
    let plain = registry.build(config.clone().with_mappings(Mappings::default())).expect("the adapter");
    let first = engine.run(plain.as_ref(), &job, &CancellationToken::new()).await.expect("run");
    assert_eq!((first.status, first.counts.added), (RunStatus::Succeeded, 6));

    let run = engine.run(adapter.as_ref(), &job, &CancellationToken::new()).await.expect("run");
    assert_eq!(run.status, RunStatus::PartiallySucceeded, "{:?}", run.error);
    assert_eq!(run.counts.failed, 1);
    assert_eq!(run.counts.deleted, 0, "a rejected record is not a deleted one");
    let rejected = &run.rejected[0];
    assert_eq!(rejected.remote_id.as_deref(), Some(FakeWorkday::remote_id(101).as_str()));
    assert_eq!(rejected.field.as_deref(), Some("work_email"), "{rejected:?}");
    assert!(rejected.message.contains("pattern"), "the rule is named: {}", rejected.message);
    assert_eq!(rejected.raw["workerId"], "E0002", "the provider's raw record is kept");

    let scope = StreamScope::new(config.tenant.clone(), config.connection.clone(), "employees");
    let cached = store.records(&scope, None, 100, false).await.expect("cache");
    assert_eq!(cached.len(), 6, "the others are synced, the rejected one keeps its cached version");
    let custom = |person: u64| {
        let id = FakeWorkday::remote_id(person);
        cached.iter().find(|r| r.remote_id == id).map(|r| r.data["custom_fields"].clone()).expect("cached")
    };
    assert_eq!(custom(102), json!({"office": "YYZ", "shirt_size": "L"}), "a custom field, trimmed and uppercased");
    assert_eq!(custom(100), json!({"office": "REM", "shirt_size": "M"}), "a nested value looked up; a default");
    assert_eq!(custom(101), Value::Null, "the rejected one as it was before the rule");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_listing_applies_the_same_mappings_and_rules() {
    let fake = fake().await;
    let hris = integration_hris::build(&config(&fake, mappings()), &BuildContext::default()).expect("typed build");
    let listing = hris.employees(ListRequest::first()).await.expect("a listing");
    assert_eq!(listing.items.len(), 5);
    assert_eq!(listing.rejected.len(), 1);
    assert_eq!(listing.rejected[0].error.field(), Some("work_email"));
    assert_eq!(listing.rejected[0].remote_id.as_deref(), Some(FakeWorkday::remote_id(101).as_str()));
    let shirt = listing.items.iter().find(|e| e.remote_id == FakeWorkday::remote_id(102)).expect("102");
    assert_eq!(shirt.custom_fields["shirt_size"], "L");
    assert_eq!(shirt.custom_fields["office"], "YYZ");

    let one = hris.employee(&FakeWorkday::remote_id(103)).await.expect("a single read");
    assert_eq!(one.custom_fields["office"], "REM");
    let broken = hris.employee(&FakeWorkday::remote_id(101)).await.expect_err("breaks the email rule");
    assert_eq!((broken.kind(), broken.field()), (ErrorKind::Validation, Some("work_email")));

    let plain = integration_hris::build(&config(&fake, Mappings::default()), &BuildContext::default()).expect("build");
    let unmapped = plain.employees(ListRequest::first()).await.expect("a listing");
    assert!(unmapped.items.iter().all(|e| e.custom_fields.is_empty()) && unmapped.rejected.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_mapping_is_refused_when_saved_naming_its_field() {
    let fake = FakeWorkday::start(People::generate(42, 1)).await;
    let store = MemoryStore::new();
    let sealer = Sealer::new(KeyRing::new("k1", SealingKey::generate()));
    let connections = Connections::new(Arc::new(store.clone()), sealer, Arc::new(store));
    let bad = [
        (
            Mappings::default().map(FieldMapping::new("employees", "customShirtSize", "shirt")),
            "mappings.fields[0].source",
        ),
        (Mappings::default().map(FieldMapping::new("employees", "/x", "Shirt Size")), "mappings.fields[0].target"),
        (
            mappings().rule(Rule::new("employees", "work_email", Check::Pattern { regex: "([a-z]".into() })),
            "mappings.rules[2].check.regex",
        ),
        (
            mappings().rule(Rule::new("employees", "x", Check::Range { min: Some(json!(9)), max: Some(json!(1)) })),
            "mappings.rules[2].check.max",
        ),
    ];
    for (mappings, field) in bad {
        let refused = connections.save(&config(&fake, mappings)).await.expect_err("refused");
        assert_eq!((refused.kind(), refused.field()), (ErrorKind::Config, Some(field)), "{refused}");
    }
    // A stream the adapter does not have is refused by the registry's check and the typed build.
    let typo = config(&fake, Mappings::default().map(FieldMapping::new("employes", "/x", "x")));
    let mut registry = Registry::new();
    register_all(&mut registry).expect("register");
    let refused = registry.validate(&typo).expect_err("no such stream");
    assert_eq!(refused.field(), Some("mappings.fields[0].stream"), "{refused}");
    let refused = integration_hris::build(&typo, &BuildContext::default()).expect_err("no such stream");
    assert!(refused.to_string().contains("employees"), "the streams it has are listed: {refused}");

    let saved = connections.save(&config(&fake, mappings())).await.expect("good mappings are saved");
    let (tenant, connection) = (TenantId::new("acme").expect("t"), ConnectionId::new("workday").expect("c"));
    let loaded = connections.load(&tenant, &connection).await.expect("load");
    assert_eq!((saved, loaded.mappings), (1, mappings()), "stored with the connection");
}
