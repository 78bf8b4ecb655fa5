//! Webhooks: signature schemes that verify and sign, the [`WebhookRouter`] that receives
//! deliveries (verified, deduplicated, routed, recorded before acknowledged), and the
//! [`DeliveryWorker`] that processes them from a durable queue with retries and dead letters.
//!
//! Every scheme verifies with constant-time comparison, accepts several signatures in one
//! header and several secrets per endpoint (rotation), and checks signed timestamps against a
//! tolerance (default 300 s) where the scheme has one.
//!
//! ```
//! use integration_core::WebhookScheme;
//! use integration_core::webhook::{Rejection, VerifyOptions, WebhookSecret};
//!
//! let secret = WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
//! let body = br#"{"type":"employee.updated"}"#;
//! let headers = WebhookScheme::StandardWebhooks.sign(&secret, body, 1_700_000_000, "msg_1").unwrap();
//!
//! let options = VerifyOptions::at(1_700_000_060);
//! assert!(WebhookScheme::StandardWebhooks.verify(&headers, body, &[secret.clone()], &options).is_ok());
//! let tampered = WebhookScheme::StandardWebhooks.verify(&headers, b"{}", &[secret.clone()], &options);
//! assert_eq!(tampered, Err(Rejection::SignatureMismatch));
//! let late = WebhookScheme::StandardWebhooks.verify(&headers, body, &[secret], &VerifyOptions::at(1_700_001_000));
//! assert_eq!(late.unwrap_err().reason(), "stale_timestamp");
//! ```

pub mod adyen;
mod apply;
#[cfg(feature = "axum")]
pub mod axum;
mod endpoint;
pub mod google_channel;
pub mod graph;
mod hmac_layout;
mod rejection;
mod rejection_log;
mod router;
mod scheme;
mod secret;
pub mod standard;
pub mod stripe;
mod worker;

pub use apply::{AdapterLookup, Adapters, ApplyToCache};
pub use endpoint::{AppEndpoint, Endpoint, EndpointResolver, StaticEndpoints};
pub use rejection::Rejection;
pub use rejection_log::RejectionLimit;
pub use router::{DEFAULT_BODY_LIMIT, WebhookResponse, WebhookRouter};
pub use scheme::{DEFAULT_TOLERANCE, MAX_SIGNATURES, Verified, VerifyOptions};
pub use secret::WebhookSecret;
pub use worker::{DeliveryHandler, DeliveryWorker};
