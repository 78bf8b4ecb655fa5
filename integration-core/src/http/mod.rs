//! The HTTP client every adapter talks to its provider through: one connection pool per process
//! and, per provider, a policy declared in its [`Descriptor`](crate::Descriptor).
//!
//! A request passes these layers, outermost first:
//!
//! ```text
//! whole-operation deadline     Timeouts::operation: every attempt and every wait
//!  └ retry                     RetryPolicy: classify the error, back off (full jitter) or wait
//!                              for Retry-After / reset headers, only when safe to repeat,
//!                              within the provider's retry budget; each retry traced
//!     └ circuit breaker        CircuitPolicy, per host: fail fast with CircuitOpen while open
//!        └ rate limit          RateLimit, GCRA per provider × tenant: fair, cancellation-safe wait
//!           └ auth             an Authenticator adds credentials; a 401 renews them once
//!              └ attempt timeout   Timeouts::attempt: send and read the whole body
//!                 └ reqwest    the shared pool (rustls); connect timeout set on the pool
//! ```
//!
//! The operation's deadline is enforced where the operation waits — the rate limit, a token
//! renewal, the exchange — so an attempt runs under one timer, the nearer of the two deadlines,
//! and a wait that is over at once sets none.
//!
//! Every request is a tracing span `http.request` with provider, tenant, method, host, path
//! template (never the query string, never headers), status, attempts and latency; each attempt
//! a child span `http.attempt`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use integration_core::auth::Bearer;
//! use integration_core::http::{HttpClient, HttpPolicy, RateLimit, RetryPolicy};
//! use integration_core::{ProviderId, TenantId};
//! use serde_json::Value;
//!
//! # async fn run() -> integration_core::Result<()> {
//! let http = HttpClient::new()?; // once per process
//! let policy = HttpPolicy::standard()
//!     .with_rate_limit(RateLimit::per_second(10))
//!     .with_retry(RetryPolicy::standard().with_max_attempts(5));
//! let bamboo = http
//!     .provider_with(ProviderId::new("bamboohr")?, policy)
//!     .for_tenant(TenantId::new("acme")?)
//!     .with_auth(Arc::new(Bearer::new("token")));
//! let directory: Value = bamboo
//!     .get("https://api.bamboohr.com/api/gateway.php/acme/v1/employees/directory")
//!     .operation("list_employees")
//!     .send_json()
//!     .await?;
//! // A POST is retried after it may have arrived only when it carries an idempotency key.
//! bamboo.post("https://api.example.com/v1/payments").idempotency_key("run-42/step-3").json(&directory).send().await?;
//! # Ok(()) }
//! ```

/// The `http` crate's types the SDK exchanges (the webhook router's method, headers and status;
/// the client's headers), re-exported so a host names the version the SDK uses:
/// `integrations::http::{HeaderMap, Method, StatusCode}`.
pub use ::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};

mod circuit;
mod client;
pub(crate) mod gathered;
mod mutual_tls;
mod policy;
mod rate_limit;
mod retry;
mod template;
mod transport;
mod url_path;

pub(crate) use client::same_origin_redirects;
pub use client::{
    HttpClient, HttpClientBuilder, MAX_REDIRECTS, ProviderClient, Request, Response, StreamingResponse,
    UNPARSABLE_REREADS,
};
pub use mutual_tls::ClientCertificate;
pub use policy::{CircuitPolicy, HttpPolicy, RateLimit, RetryPolicy, Timeouts};
pub use url_path::join_path;
