//! Contracts of the integrations SDK: the [`Integration`] trait adapters implement, the
//! [`Registry`] that builds them from a tenant's stored configuration, the [`Error`] every
//! operation returns, sealed credentials, and the store traits a host application implements.
//!
//! A whole round trip — an adapter registered, a tenant's connection saved with sealed secrets,
//! loaded back, built, and read:
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use integration_core::crypto::{KeyRing, Sealer, SealingKey};
//! use integration_core::descriptor::{Descriptor, Domain, StreamDescriptor};
//! use integration_core::schema::{ConfigField, FieldFormat};
//! use integration_core::store::MemoryStore;
//! use integration_core::*;
//! use secrecy::ExposeSecret;
//! use serde_json::json;
//!
//! // An adapter: one connection to one provider. (This one serves a fixed page.)
//! #[derive(Debug)]
//! struct Directory { descriptor: Descriptor, company: String }
//!
//! #[async_trait]
//! impl Integration for Directory {
//!     fn descriptor(&self) -> &Descriptor { &self.descriptor }
//!     async fn connect(&self) -> Result<ConnectionInfo> {
//!         Ok(ConnectionInfo::with_account(self.company.clone(), None))
//!     }
//!     async fn disconnect(&self) -> Result<()> { Ok(()) }
//!     async fn health_check(&self) -> Result<Health> { Ok(Health::healthy(Default::default())) }
//!     async fn read(&self, request: ReadRequest) -> Result<Page> {
//!         let records = vec![Record::new("1", json!({"name": "Ada"}))];
//!         Ok(Page::last(records, None))
//!     }
//! }
//!
//! // Its factory declares the configuration it needs.
//! #[derive(Debug)]
//! struct DirectoryFactory(Descriptor);
//! impl Factory for DirectoryFactory {
//!     fn descriptor(&self) -> &Descriptor { &self.0 }
//!     fn build(&self, config: IntegrationConfig, _: &BuildContext) -> Result<Arc<dyn Integration>> {
//!         let _key = config.secret("api_key")?.expose_secret(); // would go into the HTTP client
//!         let company = config.setting_str("company")?.to_owned();
//!         Ok(Arc::new(Directory { descriptor: self.0.clone(), company }))
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let descriptor = Descriptor::builder("directory", Domain::Hris, "Directory")
//!     .stream(StreamDescriptor::new("employees", ["id"]))
//!     .field(ConfigField::required("company", FieldFormat::HostLabel))
//!     .field(ConfigField::secret("api_key"))
//!     .build()?;
//! let mut registry = Registry::new();
//! registry.register(DirectoryFactory(descriptor))?;
//!
//! // The host's storage (SQLite or PostgreSQL in production) and its sealing key.
//! let store = MemoryStore::new();
//! let connections = Connections::new(
//!     Arc::new(store.clone()),
//!     Sealer::new(KeyRing::new("k1", SealingKey::generate())),
//!     Arc::new(store.clone()),
//! );
//!
//! let tenant = TenantId::new("acme")?;
//! let connection = ConnectionId::new("hr")?;
//! let config = IntegrationConfig::new(tenant.clone(), connection.clone(), Domain::Hris, ProviderId::new("directory")?)
//!     .with_setting("company", "acme")
//!     .with_secret("api_key", "s3cret");
//! registry.validate(&config)?;
//! connections.save(&config).await?;
//!
//! let adapter = registry.build(connections.load(&tenant, &connection).await?)?;
//! assert_eq!(adapter.connect().await?.account_id.as_deref(), Some("acme"));
//! let page = adapter.read(ReadRequest::new("employees", SyncMode::FullRefresh)).await?;
//! assert_eq!(page.records[0].data["name"], "Ada");
//! # Ok::<(), Error>(())
//! # }).unwrap();
//! ```
//!
//! Module map: [`error`] and [`status`] (what went wrong, and the HTTP status table),
//! [`integration`] (the adapter trait), [`descriptor`] and [`schema`] (what an adapter declares),
//! [`registry`] (catalog and factory), [`config`] and [`connections`] (tenant configuration),
//! [`crypto`] (sealing), [`store`] (host storage traits and the in-memory implementation),
//! [`sync`] (the sync engine), [`schedule`] (scheduling syncs), [`webhook`] (signature schemes,
//! the router, the delivery worker), [`http`] (the HTTP client and its policies), [`auth`]
//! (credentials, OAuth2, the token manager), [`clock`] (injectable time).

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
pub mod backoff;
pub mod clock;
pub mod config;
pub mod connections;
pub mod crypto;
#[cfg(feature = "dav")]
#[cfg_attr(docsrs, doc(cfg(feature = "dav")))]
pub mod dav;
pub mod decode;
pub mod descriptor;
pub mod domain;
pub mod error;
pub mod hex;
pub mod http;
pub mod ids;
pub mod integration;
pub mod mapping;
pub mod notify;
pub mod pagination;
mod per_key;
pub mod redact;
pub mod registry;
pub mod residency;
pub mod schedule;
pub mod schema;
pub mod spec;
pub mod status;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod webhook;

pub use config::{ConnectionStatus, IntegrationConfig, Secrets, Settings};
pub use connections::Connections;
pub use descriptor::{Capability, Descriptor, Domain, StreamDescriptor, SyncMode, WebhookScheme};
pub use error::{Delivery, Error, ErrorKind, Result};
pub use ids::{AutomationRunId, ConnectionId, DeliveryId, ProviderId, RunId, TenantId};
pub use integration::{
    Checkpoint, ConnectionInfo, Health, HealthStatus, Integration, IntegrationEvent, Page, ReadRequest, Record,
    RecordChange, RejectedRecord, VerifiedWebhook, WebhookOutcome,
};
pub use registry::{BuildContext, Factory, HttpPolicyHook, Registry, TokenVault};
pub use sync::{SyncEngine, SyncJob};

/// The attribute macro the SDK's traits are written with: implementing
/// [`Integration`], a store trait or a [`DeliveryHandler`](webhook::DeliveryHandler) needs it, and
/// this one is the version the traits expect.
pub use async_trait::async_trait;
pub use tokio_util::sync::CancellationToken;
