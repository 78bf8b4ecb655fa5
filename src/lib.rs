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
//! Start with the crate docs of [`integration_core`], then `ARCHITECTURE.md` in the repository.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub use integration_core::*;

/// The test kit: contract suites, tracing capture, polling helpers.
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub use integration_testkit as testkit;

/// The HRIS domain: the `Hris` trait, its model and adapters.
#[cfg(feature = "hris")]
#[cfg_attr(docsrs, doc(cfg(feature = "hris")))]
pub use integration_hris as hris;

/// Automations: triggers, conditions and actions.
#[cfg(feature = "automation")]
#[cfg_attr(docsrs, doc(cfg(feature = "automation")))]
pub use integration_automation as automation;

/// SQL stores (SQLite, PostgreSQL) implementing every store trait.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub use integration_store as sql;
