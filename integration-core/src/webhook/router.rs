//! [`WebhookRouter`]: method, path, headers and body in; status and body out.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, Method, StatusCode, header};
use serde_json::json;
use tokio::sync::Notify;
use tracing::Instrument as _;

use super::endpoint::EndpointResolver;
use super::rejection_log::{RejectionLog, Verdict};
use super::scheme::VerifyOptions;
use super::{DEFAULT_TOLERANCE, Rejection, RejectionLimit};
use crate::clock::{Clock, SystemClock};
use crate::descriptor::WebhookScheme;
use crate::error::{Error, Result};
use crate::ids::{ConnectionId, DeliveryId, ProviderId, TenantId};
use crate::store::{
    AuditAction, AuditEvent, AuditSink, DeliveryHeaders, DeliveryStatus, DeliveryStore, Recorded, WebhookDelivery,
};

/// The default body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Headers never kept in the delivery log.
const DROPPED_HEADERS: [HeaderName; 3] = [header::AUTHORIZATION, header::COOKIE, header::PROXY_AUTHORIZATION];

/// The router's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookResponse {
    /// The status.
    pub status: StatusCode,
    /// `application/json` or, for a challenge, `text/plain`.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

impl WebhookResponse {
    fn json(status: StatusCode, body: serde_json::Value) -> Self {
        Self { status, content_type: "application/json", body: body.to_string() }
    }

    fn rejected(rejection: &Rejection) -> Self {
        Self::json(rejection.status(), json!({ "error": rejection.reason(), "message": rejection.to_string() }))
    }
}

/// Receives webhook deliveries for every provider and tenant.
///
/// For each delivery, in order:
/// 1. `POST` only (`405`); the path names an endpoint (`/{provider}/{key}`) or a provider app
///    (`/{provider}`) (`404`); the body is within the limit (`413`, default 1 MiB).
/// 2. The signature and timestamp verify against the endpoint's secrets (`401`, recorded in the
///    delivery log and the audit trail with the reason).
/// 3. Handshakes are answered: Slack's `url_verification` challenge; Xero's intent-to-receive
///    (a verified delivery with no events) gets `200`.
/// 4. App deliveries are routed by the account ids in their payload.
/// 5. The delivery is recorded as queued in the [`DeliveryStore`], and only then acknowledged
///    with `200`. Recording is the deduplication point: the store records one delivery per
///    (tenant, connection, provider, event id), atomically, so repeats — concurrent ones
///    included — get `200` without being recorded or processed again. (Claiming the event id in
///    the `IdempotencyStore` and then recording would leave a window where a crash marks an
///    event seen but unrecorded, or records it twice; one atomic write has none.)
/// 6. Processing happens in a [`DeliveryWorker`](super::DeliveryWorker), woken at once.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use integration_core::store::MemoryStore;
/// use integration_core::webhook::{Endpoint, StaticEndpoints, WebhookRouter, WebhookSecret};
/// use integration_core::{ConnectionId, ProviderId, TenantId, WebhookScheme};
///
/// let store = Arc::new(MemoryStore::new());
/// let endpoints = Arc::new(StaticEndpoints::new());
/// let secret = WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
/// endpoints.add_endpoint("k7Hq2", Endpoint::new(
///     TenantId::new("acme").unwrap(), ConnectionId::new("hr").unwrap(),
///     ProviderId::new("acmehr").unwrap(), WebhookScheme::StandardWebhooks, vec![secret.clone()],
/// )).unwrap();
/// let router = WebhookRouter::new(endpoints, store.clone(), store.clone());
///
/// let body = br#"{"type":"employee.hired"}"#;
/// let now = chrono::Utc::now().timestamp();
/// let headers = WebhookScheme::StandardWebhooks.sign(&secret, body, now, "msg_1").unwrap();
/// let first = router.handle(&http::Method::POST, "/acmehr/k7Hq2", &headers, body).await;
/// assert_eq!(first.status, 200);
/// let again = router.handle(&http::Method::POST, "/acmehr/k7Hq2", &headers, body).await;
/// assert_eq!((again.status, again.body.contains("duplicate")), (http::StatusCode::OK, true));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct WebhookRouter {
    endpoints: Arc<dyn EndpointResolver>,
    deliveries: Arc<dyn DeliveryStore>,
    audit: Arc<dyn AuditSink>,
    body_limit: usize,
    tolerance: Duration,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    rejections: Arc<RejectionLog>,
}

/// Whose delivery it is.
#[derive(Clone, Copy)]
struct Target<'a> {
    tenant: &'a TenantId,
    connection: &'a ConnectionId,
    provider: &'a ProviderId,
}

/// What [`WebhookRouter::accept`] did with one target.
enum Accepted {
    Recorded(DeliveryId),
    Duplicate,
}

impl WebhookRouter {
    /// A router over `endpoints`, recording (and deduplicating) to `deliveries` and auditing
    /// rejections to `audit`.
    pub fn new(
        endpoints: Arc<dyn EndpointResolver>,
        deliveries: Arc<dyn DeliveryStore>,
        audit: Arc<dyn AuditSink>,
    ) -> Self {
        Self {
            endpoints,
            deliveries,
            audit,
            body_limit: DEFAULT_BODY_LIMIT,
            tolerance: DEFAULT_TOLERANCE,
            clock: Arc::new(SystemClock),
            wake: Arc::new(Notify::new()),
            rejections: Arc::new(RejectionLog::new(RejectionLimit::default())),
        }
    }

    /// Sets how many rejected deliveries of one endpoint are recorded individually (delivery
    /// log and audit) per window — default 100 every 10 minutes. Past that, rejections are
    /// counted: an audit event says when counting starts, and the first rejection of a later
    /// window audits how many were counted, by reason. So requests from anyone who knows an
    /// endpoint's URL cannot grow the database without bound. Counts are kept per router.
    #[must_use]
    pub fn with_rejection_limit(mut self, limit: RejectionLimit) -> Self {
        self.rejections = Arc::new(RejectionLog::new(limit));
        self
    }

    /// Sets the body limit in bytes.
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Sets the timestamp tolerance.
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Sets the clock (for tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The body limit in bytes: framework adapters stop reading past it.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// Notified whenever a delivery is queued; hand it to [`DeliveryWorker::run`](super::DeliveryWorker::run).
    pub fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Handles one delivery; a recorded delivery keeps a copy of `body`.
    pub async fn handle(&self, method: &Method, path: &str, headers: &HeaderMap, body: &[u8]) -> WebhookResponse {
        self.receive(method, path, headers, Body::Borrowed(body)).await
    }

    /// Handles one delivery whose body the server already holds as [`Bytes`] (as axum and
    /// hyper read it): a recorded delivery shares that buffer instead of copying it.
    pub async fn handle_bytes(&self, method: &Method, path: &str, headers: &HeaderMap, body: Bytes) -> WebhookResponse {
        self.receive(method, path, headers, Body::Shared(&body)).await
    }

    async fn receive(&self, method: &Method, path: &str, headers: &HeaderMap, body: Body<'_>) -> WebhookResponse {
        // The span is entered on each poll (never held across an await); with no subscriber
        // that wants it, nothing is entered at all.
        let span = tracing::debug_span!("webhook.receive", path = %path, bytes = body.bytes().len());
        if span.is_disabled() {
            return self.route(method, path, headers, body).await;
        }
        self.route(method, path, headers, body).instrument(span).await
    }

    async fn route(&self, method: &Method, path: &str, headers: &HeaderMap, owned: Body<'_>) -> WebhookResponse {
        let body = owned.bytes();
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path, None),
        };
        if method != Method::POST {
            return self.reject(None, "", Rejection::MethodNotAllowed).await;
        }
        let trimmed = path.trim_matches('/');
        let (provider, key) = match trimmed.split_once('/') {
            Some((p, k)) => (p, Some(k)),
            None => (trimmed, None),
        };
        if provider.is_empty() || key.is_some_and(|k| k.is_empty() || k.contains('/')) {
            return self.reject(None, provider, Rejection::UnknownRoute).await;
        }
        let found = match key {
            Some(key) => self.endpoints.endpoint(provider, key).await.map(|e| e.map(Route::Endpoint)),
            None => self.endpoints.app(provider).await.map(|a| a.map(Route::App)),
        };
        let route = match found {
            Ok(Some(route)) => route,
            Ok(None) => return self.reject(None, provider, Rejection::UnknownRoute).await,
            Err(e) => return unavailable(&e),
        };
        let endpoint = match &route {
            Route::Endpoint(e) => Some(&**e),
            Route::App(_) => None,
        };
        if body.len() > self.body_limit {
            return self.reject(endpoint, provider, Rejection::TooLarge { limit: self.body_limit }).await;
        }
        let (scheme, secrets) = match &route {
            Route::Endpoint(e) => (&e.scheme, &e.secrets),
            Route::App(a) => (&a.scheme, &a.secrets),
        };
        let now = self.clock.now();
        let options = VerifyOptions { tolerance: self.tolerance, now: now.timestamp() };
        // Graph checks an endpoint before subscribing it: its token comes back as text.
        if matches!(scheme, WebhookScheme::GraphClientState)
            && body.is_empty()
            && let Some(token) = super::graph::validation_token(query)
        {
            return WebhookResponse { status: StatusCode::OK, content_type: "text/plain", body: token };
        }
        if let Err(rejection) = scheme.verify(headers, body, secrets, &options) {
            return self.reject(endpoint, provider, rejection).await;
        }
        if let Some(challenge) = handshake(scheme, body) {
            return challenge;
        }
        let adyen = matches!(scheme, WebhookScheme::Adyen);
        let event_id = scheme.event_id_in(headers, body);
        let app = match &route {
            Route::Endpoint(e) => {
                return match self
                    .accept(
                        Target { tenant: &e.tenant, connection: &e.connection, provider: &e.provider },
                        &event_id,
                        now,
                        headers,
                        owned,
                    )
                    .await
                {
                    Ok(Accepted::Recorded(id)) => answered(adyen, self.accepted(&[id])),
                    Ok(Accepted::Duplicate) => answered(adyen, duplicate(&event_id)),
                    Err(err) => unavailable(&err),
                };
            }
            Route::App(app) => app,
        };
        let Ok(payload) = serde_json::from_slice::<serde_json::Value>(body) else {
            return self.reject(None, provider, Rejection::UnroutablePayload).await;
        };
        let accounts = app.accounts(&payload);
        if accounts.is_empty() {
            // Xero's intent-to-receive and other empty notifications: verified, nothing to do.
            return answered(adyen, WebhookResponse::json(StatusCode::OK, json!({ "status": "no_events" })));
        }
        let mut recorded: Vec<DeliveryId> = Vec::new();
        let mut routed = 0;
        for account in &accounts {
            let (tenant, connection) = match self.endpoints.account(provider, account).await {
                Ok(Some(target)) => target,
                Ok(None) => {
                    tracing::warn!(provider, account = %account, "webhook for an account no connection is registered for; ignored");
                    continue;
                }
                Err(err) => return unavailable(&err),
            };
            routed += 1;
            match self
                .accept(
                    Target { tenant: &tenant, connection: &connection, provider: &app.provider },
                    &event_id,
                    now,
                    headers,
                    owned,
                )
                .await
            {
                Ok(Accepted::Recorded(id)) => recorded.push(id),
                Ok(Accepted::Duplicate) => {}
                Err(err) => return unavailable(&err),
            }
        }
        if routed == 0 {
            return answered(
                adyen,
                WebhookResponse::json(StatusCode::OK, json!({ "status": "ignored", "reason": "unknown_account" })),
            );
        }
        if recorded.is_empty() {
            return answered(adyen, duplicate(&event_id));
        }
        answered(adyen, self.accepted(&recorded))
    }

    /// `200` for deliveries recorded; wakes the worker.
    fn accepted(&self, recorded: &[DeliveryId]) -> WebhookResponse {
        self.wake.notify_one();
        let mut body = String::with_capacity(40 + 40 * recorded.len());
        body.push_str(r#"{"status":"accepted","deliveries":["#);
        let mut text = uuid::Uuid::encode_buffer();
        for (i, id) in recorded.iter().enumerate() {
            body.push_str(if i == 0 { "\"" } else { ",\"" });
            body.push_str(id.as_uuid().hyphenated().encode_lower(&mut text));
            body.push('"');
        }
        body.push_str("]}");
        WebhookResponse { status: StatusCode::OK, content_type: "application/json", body }
    }

    /// Answers a delivery whose body the framework stopped reading at the limit: `413`,
    /// recorded against the endpoint when the path names one.
    pub async fn handle_oversized(&self, path: &str) -> WebhookResponse {
        self.reject_unread(path, Rejection::TooLarge { limit: self.body_limit }).await
    }

    /// Answers a delivery whose body ended before it was complete (the client announced more
    /// than it sent, or the connection broke): `400 incomplete_body`, recorded against the
    /// endpoint when the path names one.
    pub async fn handle_incomplete(&self, path: &str) -> WebhookResponse {
        self.reject_unread(path, Rejection::IncompleteBody).await
    }

    async fn reject_unread(&self, path: &str, rejection: Rejection) -> WebhookResponse {
        let trimmed = path.trim_matches('/');
        let endpoint = match trimmed.split_once('/') {
            Some((provider, key)) => self.endpoints.endpoint(provider, key).await.ok().flatten(),
            None => None,
        };
        let provider = trimmed.split('/').next().unwrap_or_default();
        self.reject(endpoint.as_deref(), provider, rejection).await
    }

    /// Records the delivery unless the same event is already recorded for the connection (the
    /// delivery store deduplicates atomically).
    async fn accept(
        &self,
        Target { tenant, connection, provider }: Target<'_>,
        event_id: &str,
        now: DateTime<Utc>,
        headers: &HeaderMap,
        body: Body<'_>,
    ) -> Result<Accepted> {
        let mut delivery = WebhookDelivery::queued(
            tenant.clone(),
            connection.clone(),
            provider.clone(),
            event_id,
            body.to_bytes(),
            now,
        );
        delivery.headers = DeliveryHeaders::from_request(headers, &DROPPED_HEADERS);
        let id = delivery.id;
        match self.deliveries.record_delivery(delivery).await? {
            Recorded::New => {
                crate::telemetry::webhook_delivery(provider.as_str(), "queued");
                tracing::debug!(delivery = %id, tenant = %tenant, connection = %connection, event_id, "delivery queued");
                Ok(Accepted::Recorded(id))
            }
            Recorded::Duplicate { existing } => {
                crate::telemetry::webhook_delivery(provider.as_str(), "duplicate");
                tracing::debug!(delivery = %existing, event_id, "duplicate of a recorded delivery");
                Ok(Accepted::Duplicate)
            }
        }
    }

    /// Records a rejection (delivery log and audit when the tenant is known, within the
    /// endpoint's [`RejectionLimit`]; tracing always) and builds the answer.
    async fn reject(
        &self,
        endpoint: Option<&super::Endpoint>,
        provider: &str,
        rejection: Rejection,
    ) -> WebhookResponse {
        // An unknown endpoint's path is the sender's choice: never a label.
        crate::telemetry::webhook_rejection(endpoint.map_or("unknown", |e| e.provider.as_str()), rejection.reason());
        let Some(e) = endpoint else {
            tracing::warn!(provider, reason = rejection.reason(), detail = %rejection, "webhook rejected");
            return WebhookResponse::rejected(&rejection);
        };
        let now = self.clock.now();
        let key = (e.tenant.clone(), e.connection.clone(), e.provider.clone());
        let counted = match self.rejections.admit(&key, rejection.reason(), now) {
            Verdict::Record { counted } => counted,
            Verdict::Count { announce } => {
                tracing::debug!(provider, reason = rejection.reason(), "webhook rejected (counted, not recorded)");
                if announce {
                    let note = "rejections from this endpoint reached the limit recorded per window; further ones in this window are counted, not recorded";
                    tracing::warn!(provider, tenant = %e.tenant, connection = %e.connection, "{note}");
                    self.audit_rejection(e, note.to_owned()).await;
                }
                return WebhookResponse::rejected(&rejection);
            }
        };
        tracing::warn!(provider, reason = rejection.reason(), detail = %rejection, "webhook rejected");
        if let Some(counted) = counted {
            self.audit_rejection(e, counted.describe()).await;
        }
        let mut record =
            WebhookDelivery::queued(e.tenant.clone(), e.connection.clone(), e.provider.clone(), "", Bytes::new(), now);
        (record.status, record.rejection, record.completed_at) =
            (DeliveryStatus::Rejected, Some(rejection.reason().to_owned()), Some(now));
        if let Err(err) = self.deliveries.record_delivery(record).await {
            tracing::error!(error = %err, "could not record a rejected delivery");
        }
        self.audit_rejection(e, format!("{}: {rejection}", rejection.reason())).await;
        WebhookResponse::rejected(&rejection)
    }

    async fn audit_rejection(&self, e: &super::Endpoint, detail: String) {
        let event = AuditEvent::new(e.tenant.clone(), AuditAction::WebhookRejected)
            .connection(e.connection.clone())
            .provider(e.provider.clone())
            .failed(detail);
        if let Err(err) = self.audit.audit(event).await {
            tracing::error!(error = %err, "could not audit a rejected delivery");
        }
    }
}

/// A delivery's body as the caller has it: borrowed (copied if the delivery is recorded) or
/// already shared (kept as it is).
#[derive(Clone, Copy)]
enum Body<'a> {
    Borrowed(&'a [u8]),
    Shared(&'a Bytes),
}

impl<'a> Body<'a> {
    fn bytes(self) -> &'a [u8] {
        match self {
            Self::Borrowed(bytes) => bytes,
            Self::Shared(bytes) => bytes,
        }
    }

    fn to_bytes(self) -> Bytes {
        match self {
            Self::Borrowed(bytes) => Bytes::copy_from_slice(bytes),
            Self::Shared(bytes) => bytes.clone(),
        }
    }
}

enum Route {
    Endpoint(Arc<super::Endpoint>),
    App(Arc<super::AppEndpoint>),
}

/// Slack's Events API sends a signed `url_verification` request whose `challenge` must be echoed.
fn handshake(scheme: &WebhookScheme, body: &[u8]) -> Option<WebhookResponse> {
    if !matches!(scheme, WebhookScheme::Slack) {
        return None;
    }
    let payload: serde_json::Value = serde_json::from_slice(body).ok()?;
    if payload.get("type")?.as_str()? != "url_verification" {
        return None;
    }
    let challenge = payload.get("challenge")?.as_str()?;
    Some(WebhookResponse { status: StatusCode::OK, content_type: "text/plain", body: challenge.to_owned() })
}

/// `200` for a repeat, recorded before: nothing more is done.
/// A successful answer as the scheme's provider wants it: Adyen's `[accepted]`; the JSON
/// otherwise.
fn answered(adyen: bool, response: WebhookResponse) -> WebhookResponse {
    if adyen && response.status == StatusCode::OK {
        return WebhookResponse { status: StatusCode::OK, content_type: "text/plain", body: "[accepted]".to_owned() };
    }
    response
}

fn duplicate(event_id: &str) -> WebhookResponse {
    tracing::debug!(event_id, "duplicate delivery acknowledged");
    WebhookResponse::json(StatusCode::OK, json!({ "status": "duplicate", "event_id": event_id }))
}

/// A store failure: the provider should retry.
fn unavailable(error: &Error) -> WebhookResponse {
    tracing::error!(error = %error, "webhook could not be recorded");
    let mut response = WebhookResponse::json(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({ "error": "unavailable", "message": "the delivery could not be recorded; retry later" }),
    );
    if error.kind() == crate::ErrorKind::Conflict {
        response.status = StatusCode::CONFLICT;
    }
    response
}
