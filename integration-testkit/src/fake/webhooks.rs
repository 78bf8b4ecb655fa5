//! Webhooks a fake provider sends: [`Subscriptions`] (the endpoints an administrator registered,
//! each with its own secret), signed with any of core's [`WebhookScheme`]s and posted to each.
//!
//! ```
//! use integration_core::WebhookScheme;
//! use integration_core::webhook::{VerifyOptions, WebhookSecret};
//! use integration_testkit::fake::webhooks::Subscriptions;
//!
//! let hooks = Subscriptions::new(WebhookScheme::Stripe);
//! let secret = hooks.add("http://127.0.0.1:9/hooks", "whsec_");
//! let headers = hooks.sign(&secret, b"{}", chrono::Utc::now().timestamp(), "evt_1").unwrap();
//! WebhookScheme::Stripe.verify(&headers, b"{}", &[WebhookSecret::new(&secret)], &VerifyOptions::now()).unwrap();
//! ```

use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{HeaderMap, HeaderValue, header};
use integration_core::WebhookScheme;
use integration_core::webhook::WebhookSecret;

/// One registered endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Where deliveries go.
    pub url: String,
    /// The secret they are signed with.
    pub secret: String,
}

/// The endpoints a fake delivers to, and how it signs; clones share them.
#[derive(Debug, Clone)]
pub struct Subscriptions {
    scheme: WebhookScheme,
    hooks: Arc<Mutex<Vec<Subscription>>>,
}

impl Subscriptions {
    /// No endpoint yet; deliveries will be signed with `scheme`.
    pub fn new(scheme: WebhookScheme) -> Self {
        Self { scheme, hooks: Arc::default() }
    }

    /// The signing scheme.
    pub fn scheme(&self) -> &WebhookScheme {
        &self.scheme
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Subscription>> {
        self.hooks.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers `url` with a new random secret starting with `prefix`; returns the secret.
    pub fn add(&self, url: &str, prefix: &str) -> String {
        let secret = format!("{prefix}{:032x}", fastrand::u128(..));
        self.subscribe(url, &secret);
        secret
    }

    /// Registers `url` with `secret` (a provider whose secrets have a format: Standard
    /// Webhooks' `whsec_<base64>`).
    pub fn subscribe(&self, url: &str, secret: &str) {
        self.lock().push(Subscription { url: url.to_owned(), secret: secret.to_owned() });
    }

    /// The registered endpoints.
    pub fn list(&self) -> Vec<Subscription> {
        self.lock().clone()
    }

    /// The headers that sign `body` with `secret` at `timestamp` (Unix seconds) as delivery
    /// `id`, with `Content-Type: application/json`; `None` if the scheme cannot sign.
    pub fn sign(&self, secret: &str, body: &[u8], timestamp: i64, id: &str) -> Option<HeaderMap> {
        let mut headers = self.scheme.sign(&WebhookSecret::new(secret), body, timestamp, id).ok()?;
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Some(headers)
    }

    /// Posts `body` to every endpoint, signed for each, with `extra` headers; the statuses they
    /// answered (`0` when a delivery failed to connect).
    pub async fn deliver(&self, body: &[u8], id: &str, extra: &HeaderMap) -> Vec<u16> {
        let timestamp = chrono::Utc::now().timestamp();
        let client = reqwest::Client::new();
        let mut statuses = Vec::new();
        for hook in self.list() {
            let Some(mut headers) = self.sign(&hook.secret, body, timestamp, id) else { continue };
            headers.extend(extra.clone());
            let sent = client.post(&hook.url).headers(headers).body(body.to_vec()).send().await;
            statuses.push(sent.map(|r| r.status().as_u16()).unwrap_or(0));
        }
        statuses
    }
}
