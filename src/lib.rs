//! `integrations`: an embeddable integration & automation SDK.
//!
//! Add it to a Rust application to connect with the systems its customers already use, in
//! process and typed. This crate is the facade: it re-exports [`integration_core`] (the
//! contracts, errors, registry, sealed credentials and store traits) and, behind features, the
//! other crates of the workspace.
//!
//! | feature | what it adds |
//! |---|---|
//! | `testkit` | [`testkit`]: the store contract suite, tracing capture, polling helpers |
//! | `axum` | `webhook::axum::routes`: mounts the webhook router in an axum application |
//! | `sqlite` | [`sql::SqlStore`] on SQLite: every store trait in one file, nothing to install |
//! | `postgres` | [`sql::SqlStore`] on PostgreSQL: many workers sharing one database |
//! | `hris` | [`hris`]: the `Hris` trait, the common employee model, BambooHR, Workday and ADP adapters |
//! | `accounting` | [`accounting`]: the `Accounting` trait, the ledger model, reconciliation, chart-of-accounts mapping, the QuickBooks Online and Xero adapters (`quickbooks`, `xero`: one alone) |
//! | `payments` | [`payments`]: the `Payments` trait, money in minor units, typed confirmations, scheduled charges, the Stripe and Adyen adapters (`stripe`, `adyen`: one alone) |
//! | `calendar` | [`calendar`]: the `Calendar` trait, RFC 5545 events, bounded recurrence, availability, the CalDAV, Google Calendar and Microsoft Graph adapters (`caldav`, `google_calendar`, `microsoft_calendar`: one alone) |
//! | `sso` | [`sso`]: OpenID Connect and SAML 2.0 login (SAML's XML side in `integration-saml`), the SCIM 2.0 server and client, TOTP multi-factor authentication, roles, sessions, audit events and metrics |
//! | `storage` | [`storage`]: the `Storage` trait and model, paths that cannot leave their folder, streamed transfers; adapters `s3`, `webdav`, `gdrive`, `onedrive` and `dropbox` (each a feature alone) |
//! | `automation` | [`automation`]: triggers, conditions and actions run by a durable executor |
//! | `full` | everything |
//!
//! ```
//! use integrations::{Error, ErrorKind, TenantId};
//!
//! let err = TenantId::new("").unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Validation);
//! # let _: Option<Error> = None;
//! ```
//!
//! What implementing the SDK's traits takes comes with it: the `async_trait` attribute they are
//! written with, and the `http` types the webhook router exchanges.
//!
//! ```
//! use std::sync::Arc;
//! use integrations::http::{HeaderMap, Method, StatusCode};
//! use integrations::store::{MemoryStore, WebhookDelivery};
//! use integrations::webhook::{DeliveryHandler, StaticEndpoints, WebhookRouter};
//! use integrations::{async_trait, Result, VerifiedWebhook, WebhookOutcome};
//!
//! #[derive(Debug)]
//! struct Print;
//!
//! #[async_trait]
//! impl DeliveryHandler for Print {
//!     async fn handle(&self, delivery: &WebhookDelivery, _: VerifiedWebhook) -> Result<WebhookOutcome> {
//!         println!("{}", delivery.event_id);
//!         Ok(WebhookOutcome::default())
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let router = WebhookRouter::new(Arc::new(StaticEndpoints::new()), store.clone(), store);
//! let answer = router.handle(&Method::POST, "/nobody/here", &HeaderMap::new(), b"{}").await;
//! assert_eq!(answer.status, StatusCode::NOT_FOUND);
//! # });
//! ```
//!
//! Every API of the catalog can be connected through its provider spec from the start:
//!
//! ```
//! let apis = integrations::catalog();
//! assert!(apis.len() >= 40);
//! assert!(apis.iter().any(|api| api.id == "quickbooks" && api.auth == "oauth2"));
//! ```
//!
//! Start with the crate docs of [`integration_core`], then `ARCHITECTURE.md` in the repository.

#![cfg_attr(docsrs, feature(doc_cfg))]

/// The APIs the SDK ships a provider spec for (`integration_core::spec::catalog`).
pub use integration_core::spec::catalog;
pub use integration_core::*;

/// The test kit: contract suites, tracing capture, polling helpers.
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub use integration_testkit as testkit;

/// The HRIS domain: the `Hris` trait, its model and adapters.
#[cfg(feature = "hris")]
#[cfg_attr(docsrs, doc(cfg(feature = "hris")))]
pub use integration_hris as hris;

#[cfg(any(feature = "payments", feature = "stripe", feature = "adyen"))]
#[cfg_attr(docsrs, doc(cfg(feature = "payments")))]
pub use integration_payments as payments;

#[cfg(any(feature = "calendar", feature = "caldav", feature = "google_calendar", feature = "microsoft_calendar"))]
#[cfg_attr(docsrs, doc(cfg(feature = "calendar")))]
pub use integration_calendar as calendar;

#[cfg(feature = "sso")]
#[cfg_attr(docsrs, doc(cfg(feature = "sso")))]
pub use integration_sso as sso;

#[cfg(any(
    feature = "storage",
    feature = "s3",
    feature = "webdav",
    feature = "gdrive",
    feature = "onedrive",
    feature = "dropbox"
))]
#[cfg_attr(docsrs, doc(cfg(feature = "storage")))]
pub use integration_storage as storage;

#[cfg(feature = "benefits")]
#[cfg_attr(docsrs, doc(cfg(feature = "benefits")))]
pub use integration_benefits as benefits;

#[cfg(any(feature = "accounting", feature = "quickbooks", feature = "xero"))]
#[cfg_attr(docsrs, doc(cfg(feature = "accounting")))]
pub use integration_accounting as accounting;

/// The admin console and connect flow, mounted in the host's axum application.
#[cfg(feature = "admin")]
#[cfg_attr(docsrs, doc(cfg(feature = "admin")))]
pub use integration_admin as admin;

/// Automations: triggers, conditions and actions.
#[cfg(feature = "automation")]
#[cfg_attr(docsrs, doc(cfg(feature = "automation")))]
pub use integration_automation as automation;

/// SQL stores (SQLite, PostgreSQL) implementing every store trait.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub use integration_store as sql;
