//! Arbitrary bodies as verified Adyen notifications, through the Adyen adapter's mapping into
//! record changes and typed events, and through the router's verification with a key: a change
//! and an event per item or an error — never a panic — and nothing verifies without the key.
//!
//! `cargo fuzz run payment_notifications` (from this folder).

#![no_main]

use std::sync::OnceLock;

use integration_core::webhook::{VerifyOptions, WebhookSecret};
use integration_core::{BuildContext, ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId, WebhookScheme};
use integration_payments::Payments;
use libfuzzer_sys::fuzz_target;

fn adyen() -> &'static (tokio::runtime::Runtime, std::sync::Arc<dyn Payments>) {
    static ADYEN: OnceLock<(tokio::runtime::Runtime, std::sync::Arc<dyn Payments>)> = OnceLock::new();
    ADYEN.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let config = IntegrationConfig::new(
            TenantId::new("fuzz").expect("tenant"),
            ConnectionId::new("adyen").expect("connection"),
            Domain::Payments,
            ProviderId::new("adyen").expect("provider"),
        )
        .with_setting("base_url", "http://127.0.0.1:9")
        .with_setting("merchant_account", "Fuzz")
        .with_secret("api_key", "fuzz-key");
        let adapter = runtime.block_on(async { integration_payments::build(&config, &BuildContext::default()) });
        (runtime, adapter.expect("the adapter"))
    })
}

fuzz_target!(|data: &[u8]| {
    let headers = http::HeaderMap::new();
    let key = WebhookSecret::new("44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056");
    let _ = WebhookScheme::Adyen.verify(&headers, data, &[key], &VerifyOptions::now());
    let (runtime, adapter) = adyen();
    let webhook = integration_core::VerifiedWebhook::trusted(headers, data.to_vec(), None, chrono::Utc::now());
    if let Ok(outcome) = runtime.block_on(adapter.handle_webhook(webhook)) {
        assert!(outcome.changes.len() <= outcome.events.len(), "every change has its event");
    }
});
