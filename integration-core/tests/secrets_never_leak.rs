//! No secret appears in Debug, Display, serde output, error text or tracing output of any public
//! type that holds one.

mod common;

use std::sync::Arc;

use common::{API_KEY, DirectoryFactory, config, descriptor};
use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_core::store::{ConfigStore, MemoryStore, TracingAuditSink};
use integration_core::*;
use integration_testkit::capture::capture_tracing;

const KEY_BYTES: [u8; 32] = [0x5A; 32];

fn assert_clean(what: &str, text: &str) {
    let key_b64 = SealingKey::from_bytes(KEY_BYTES).to_base64();
    assert!(!text.contains(API_KEY), "{what} shows the API key:\n{text}");
    assert!(!text.contains(key_b64.as_str()), "{what} shows the sealing key:\n{text}");
}

#[tokio::test]
async fn secrets_stay_out_of_debug_display_serde_errors_and_logs() {
    let store = MemoryStore::new();
    let ((), logs) = capture_tracing(async {
        let conns = Connections::new(
            Arc::new(store.clone()),
            Sealer::new(KeyRing::new("k1", SealingKey::from_bytes(KEY_BYTES))),
            Arc::new(TracingAuditSink),
        );
        let mut registry = Registry::new();
        registry.register(DirectoryFactory(descriptor("directory"))).expect("register");

        let cfg = config("directory");
        assert_clean("IntegrationConfig Debug", &format!("{cfg:?} {cfg:#?}"));
        assert_clean("Secrets Debug", &format!("{:?}", cfg.secrets));
        assert_clean("SecretString Debug", &format!("{:?}", cfg.secret("api_key").expect("secret")));

        conns.save(&cfg).await.expect("save");
        let stored = store.get(&cfg.tenant, &cfg.connection).await.expect("get").expect("present");
        assert_clean("StoredConfig serde", &serde_json::to_string(&stored).expect("serialize"));
        assert_clean("StoredConfig Debug", &format!("{stored:?}"));

        let loaded = conns.load(&cfg.tenant, &cfg.connection).await.expect("load");
        assert_clean("loaded IntegrationConfig Debug", &format!("{loaded:?}"));
        let adapter = registry.build(loaded.clone()).expect("build");
        assert_clean("adapter Debug", &format!("{adapter:?}"));
        assert_clean("registry Debug", &format!("{registry:?} {conns:?}"));

        // Errors around secrets: a secret put in settings, a provider echoing the key back.
        let mut misplaced = loaded.clone();
        misplaced.settings.insert("api_key".into(), API_KEY.into());
        let err = registry.build(misplaced).expect_err("secret in settings");
        assert_eq!(err.field(), Some("settings.api_key"));
        assert_clean("schema error", &format!("{err} {err:?}"));
        let echoed = Error::from_response(
            ::http::StatusCode::UNAUTHORIZED,
            &::http::HeaderMap::new(),
            format!(r#"{{"error":"invalid_client","error_description":"key {API_KEY} unknown"}}"#).as_bytes(),
        )
        .redact(API_KEY);
        assert_clean("redacted provider error", &format!("{echoed} {echoed:?}"));
        let info = adapter.connect().await.expect("connect");
        assert_eq!(info.account_id.as_deref(), Some("acme"));
    })
    .await;
    assert!(logs.contains("integration.config.load"), "spans are captured:\n{logs}");
    assert!(logs.contains("credentials decrypted"), "decryption is traced:\n{logs}");
    assert!(logs.contains("credential_decrypted"), "the audit sink logs:\n{logs}");
    assert_clean("tracing output", &logs);
}

#[test]
fn sealing_keys_and_rings_never_show() {
    let ring = KeyRing::new("k1", SealingKey::from_bytes(KEY_BYTES));
    assert_clean("KeyRing Debug", &format!("{ring:?} {ring:#?}"));
    assert_clean("Sealer Debug", &format!("{:?}", Sealer::new(ring)));
    let err = KeyRing::parse("k1:not-base64-WlpaWlpa!").expect_err("malformed");
    assert!(!err.to_string().contains("WlpaWlpa"), "{err}");
}

#[tokio::test]
async fn webhook_secrets_stay_out_of_debug_and_logs() {
    use integration_core::webhook::{Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret};
    const WEBHOOK_SECRET: &str = "whsec_c2VjcmV0LXdlYmhvb2sta2V5LTAwMQ==";
    let secret = WebhookSecret::new(WEBHOOK_SECRET);
    let endpoint = Endpoint::new(
        TenantId::new("acme").expect("tenant"),
        ConnectionId::new("hr").expect("connection"),
        ProviderId::new("acmehr").expect("provider"),
        WebhookScheme::StandardWebhooks,
        vec![secret.clone()],
    );
    let shown = format!("{secret:?} {endpoint:?}");
    assert!(!shown.contains("c2VjcmV0"), "{shown}");
    let store = Arc::new(MemoryStore::new());
    let endpoints = Arc::new(StaticEndpoints::new());
    endpoints.add_endpoint("k1", endpoint).expect("endpoint");
    let router = WebhookRouter::new(endpoints, store.clone(), Arc::new(TracingAuditSink));
    let ((), logs) = capture_tracing(async {
        let body = br#"{"type":"x"}"#;
        let now = chrono::Utc::now().timestamp();
        let good = WebhookScheme::StandardWebhooks.sign(&secret, body, now, "msg_1").expect("sign");
        let r = router.handle(&::http::Method::POST, "/acmehr/k1", &good, body).await;
        assert_eq!(r.status, 200);
        let r = router.handle(&::http::Method::POST, "/acmehr/k1", &good, b"{}").await;
        assert_eq!(r.status, 401);
        assert!(!r.body.contains("c2VjcmV0"));
    })
    .await;
    assert!(logs.contains("webhook rejected"), "{logs}");
    assert!(!logs.contains("c2VjcmV0"), "{logs}");
    assert!(!format!("{router:?}").contains("c2VjcmV0"));
}
