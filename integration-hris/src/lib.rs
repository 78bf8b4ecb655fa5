//! The HRIS domain: the [`Hris`] trait, a common model ([`Employee`] with its [`Employment`],
//! [`Department`], [`Job`], [`TimeOff`]) and adapters for BambooHR, Workday and ADP, one feature
//! and one folder each.
//!
//! Connect to BambooHR (here the testkit's fake, on loopback), list employees, and sync them
//! into a store:
//!
//! ```
//! use std::sync::Arc;
//! use integration_core::store::MemoryStore;
//! use integration_core::{BuildContext, CancellationToken, ConnectionId, SyncEngine, SyncJob, SyncMode, TenantId};
//! use integration_hris::{Hris, ListRequest};
//! use integration_testkit::fake::{bamboohr::FakeBambooHr, people::People};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let fake = FakeBambooHr::start(People::generate(7, 5)).await;
//! let config = fake.config(TenantId::new("acme").unwrap(), ConnectionId::new("hr").unwrap());
//!
//! // The typed adapter for a stored configuration (checked against the provider's schema).
//! let hris = integration_hris::build(&config, &BuildContext::default()).unwrap();
//!
//! let page = hris.employees(ListRequest::first()).await.unwrap();
//! assert_eq!(page.items.len(), 5);
//!
//! let store = Arc::new(MemoryStore::new());
//! let engine = SyncEngine::new(store.clone(), store.clone(), "worker-1");
//! let job = SyncJob::new(config.tenant.clone(), config.connection.clone(), "employees", SyncMode::FullRefresh);
//! let run = engine.run(hris.as_ref(), &job, &CancellationToken::new()).await.unwrap();
//! assert_eq!(run.counts.added, 5);
//! # });
//! ```
//!
//! Adapters implement [`Integration`](integration_core::Integration) with `read` delegating to
//! [`read`], and the [`Hris`] methods their provider supports; `docs/adapter-guide.md` in the
//! repository walks through adding one.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
mod hris;
mod mapped;
mod model;
pub mod prelude;
pub mod streams;
mod vocabulary;

#[cfg(feature = "adp")]
#[cfg_attr(docsrs, doc(cfg(feature = "adp")))]
pub mod adp;
#[cfg(feature = "bamboohr")]
#[cfg_attr(docsrs, doc(cfg(feature = "bamboohr")))]
pub mod bamboohr;
#[cfg(feature = "workday")]
#[cfg_attr(docsrs, doc(cfg(feature = "workday")))]
pub mod workday;

pub use adapter::{Adapter, AdapterFactory, build, descriptor, register_all};
pub use hris::{Hris, capability};
pub use integration_core::domain::{ListRequest, Listing, Remote};
pub use iso_currency::Currency;
pub use model::{Department, Employee, EmployeeUpdate, Employment, Job, Pay, TimeOff, UpdateFieldNames};
pub use rust_decimal::Decimal;
pub use streams::{HrisStream, employee_webhook_outcome, read};
pub use vocabulary::{EmploymentStatus, EmploymentType, PayPeriod, TimeOffCategory, TimeOffStatus, TimeUnit};
