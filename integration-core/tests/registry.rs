//! The registry and factory: catalog, validation errors that name the provider and field, build,
//! read through the built adapter, and health per connection.

mod common;

use std::num::NonZeroU32;

use common::{DirectoryFactory, config, descriptor};
use integration_core::*;

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register(DirectoryFactory(descriptor("directory"))).expect("register");
    registry.register(DirectoryFactory(descriptor("rolodex"))).expect("register");
    registry
}

#[test]
fn an_unknown_provider_lists_the_known_ones() {
    let err = registry().build(config("workday")).expect_err("unknown");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(err.field(), Some("provider"));
    assert_eq!(err.provider(), Some("workday"));
    assert!(err.message().contains("known providers: directory, rolodex"), "{err}");
}

#[test]
fn missing_and_malformed_fields_name_the_field_and_provider() {
    let registry = registry();
    let mut missing = config("directory");
    missing.secrets.remove("api_key");
    let err = registry.build(missing).expect_err("missing secret");
    assert_eq!(
        (err.kind(), err.field(), err.provider()),
        (ErrorKind::Config, Some("secrets.api_key"), Some("directory"))
    );

    let malformed = config("directory").with_setting("subdomain", "Acme Corp!");
    let err = registry.build(malformed).expect_err("malformed");
    assert_eq!((err.field(), err.provider()), (Some("settings.subdomain"), Some("directory")));
    assert!(err.to_string().contains("DNS label"), "{err}");

    let insecure = config("directory").with_setting("base_url", "http://hr.example.com");
    let err = registry.build(insecure).expect_err("insecure");
    assert_eq!(err.field(), Some("settings.base_url"));

    let mut wrong_domain = config("directory");
    wrong_domain.domain = Domain::Payments;
    let err = registry.build(wrong_domain).expect_err("domain");
    assert_eq!(err.field(), Some("domain"));
}

#[test]
fn registering_a_provider_twice_is_refused() {
    let mut registry = registry();
    let err = registry.register(DirectoryFactory(descriptor("directory"))).expect_err("twice");
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[test]
fn the_catalog_lists_what_each_provider_supports() {
    let registry = registry();
    let ids: Vec<&str> = registry.providers().map(|d| d.provider.as_str()).collect();
    assert_eq!(ids, ["directory", "rolodex"]);
    assert_eq!(registry.providers_in(Domain::Hris).count(), 2);
    assert_eq!(registry.providers_in(Domain::Payments).count(), 0);
    let d = registry.descriptor("directory").expect("present");
    assert!(d.stream("employees").expect("stream").supports(SyncMode::Incremental));
    assert!(d.config.field("api_key").expect("field").secret);
}

#[tokio::test]
async fn a_built_adapter_reads_page_by_page_from_checkpoints() {
    let adapter = registry().build(config("directory")).expect("build");
    let mut checkpoint = None;
    let mut names = Vec::new();
    loop {
        let request = ReadRequest::new("employees", SyncMode::FullRefresh)
            .after(checkpoint.take())
            .with_page_size(NonZeroU32::new(2).expect("non-zero"));
        let page = adapter.read(request).await.expect("read");
        names.extend(page.records.iter().map(|r| r.data["name"].as_str().unwrap_or_default().to_owned()));
        checkpoint = page.checkpoint;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(names, ["Ada", "Grace", "Alan", "Edsger", "Barbara"]);
    let webhook = VerifiedWebhook::trusted(Default::default(), b"{}".to_vec(), None, chrono::Utc::now());
    let err = adapter.handle_webhook(webhook).await.expect_err("no webhooks");
    assert_eq!((err.kind(), err.provider()), (ErrorKind::Unsupported, Some("directory")));
}

#[tokio::test]
async fn a_corrupt_checkpoint_is_a_validation_error_on_checkpoint() {
    let adapter = registry().build(config("directory")).expect("build");
    let bad = Checkpoint::new(serde_json::json!({"cursor": "abc"}));
    let err =
        adapter.read(ReadRequest::new("employees", SyncMode::FullRefresh).after(Some(bad))).await.expect_err("bad");
    assert_eq!((err.kind(), err.field()), (ErrorKind::Validation, Some("checkpoint")));
}

#[tokio::test]
async fn health_is_recorded_per_connection() {
    let registry = registry();
    let good = config("directory");
    let (tenant, connection) = (good.tenant.clone(), good.connection.clone());
    let adapter = registry.build(good).expect("build");
    let health = registry.check_health(&tenant, &connection, adapter.as_ref()).await;
    assert_eq!(health.status, HealthStatus::Healthy);

    let mut bad = config("directory").with_secret("api_key", "wrong-key-0000");
    bad.connection = ConnectionId::new("hr-old").expect("connection");
    let broken = registry.build(bad).expect("build");
    let health = registry.check_health(&tenant, &ConnectionId::new("hr-old").expect("id"), broken.as_ref()).await;
    assert_eq!(health.status, HealthStatus::Unhealthy);
    assert_eq!(health.error_kind.as_deref(), Some("invalid credentials"));

    let all = registry.tenant_health(&tenant);
    assert_eq!(all.len(), 2);
    assert!(registry.tenant_health(&TenantId::new("globex").expect("tenant")).is_empty());
    assert_eq!(registry.health(&tenant, &connection).map(|h| h.status), Some(HealthStatus::Healthy));
}
